"""Names the engine reserves. They match LangGraph's so that saved graphs, stream
payloads and error messages read the same on both engines."""

from __future__ import annotations

import sys

START = sys.intern("__start__")
"""The first (virtual) node: it receives the graph's input."""
END = sys.intern("__end__")
"""The last (virtual) node: an edge to it ends a branch."""

INTERRUPT = sys.intern("__interrupt__")
PUSH = sys.intern("__pregel_push")
PULL = sys.intern("__pregel_pull")
ROOT = "__root__"
DEFAULT_ERROR_HANDLER = "__default_error_handler__"  # set_node_defaults(error_handler=...)'s node

NS_SEP = "|"
NS_END = ":"
RESERVED_NAMES = frozenset({START, END})
RESERVED_CHARS = (NS_SEP, NS_END)


def branch_channel(node: str) -> str:
    """The trigger channel of ``node``: writing it schedules the node next step."""
    return f"branch:to:{node}"


def join_channel(starts: tuple[str, ...] | list[str], end: str) -> str:
    """The barrier channel of ``add_edge([a, b], end)``."""
    return f"join:{'+'.join(starts)}:{end}"


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()
"""Marks an empty channel (``None`` is a legitimate value)."""
