"""The exceptions swiftgraph raises.

The tree, with LangGraph's names so ``except`` clauses port unchanged::

    Exception
    ├── InvalidUpdateError        a run-time write that cannot be applied
    │   └── UnknownTargetError    a route (edge, Command, Send) to a node that doesn't exist
    ├── EmptyInputError           no input and nothing to resume
    ├── NodeTimeoutError          a node ran past its timeout
    ├── NodeCancelledError        a node raised asyncio.CancelledError itself
    ├── TaskNotFound
    ├── GraphBubbleUp             control flow, not failure: never reaches the user
    │   ├── GraphInterrupt        a node paused for a human
    │   │   └── NodeInterrupt     the same, raised by the node (deprecated: interrupt())
    │   └── ParentCommand         a Command(graph=PARENT) travelling up
    ├── SwiftGraphError (ValueError)  swiftgraph's own errors
    │   ├── GraphDefinitionError  how a graph is built (compile time): names the node or edge
    │   │   └── UnresolvedSchemaError (also a NameError)  a schema annotation naming nothing
    │   └── CheckpointError       a checkpoint that can't be used (missing, corrupt, foreign)
    └── SerializationError (ValueError)  a value that can't be saved or loaded (its path)
    RecursionError
    └── GraphRecursionError       the run hit ``recursion_limit`` supersteps

Set-up errors (``GraphDefinitionError``) are raised by ``add_node``/``add_edge``/
``compile`` before anything runs. They subclass ``ValueError`` because LangGraph
raises plain ``ValueError`` there, so existing ``except ValueError`` keeps working.
Run-time errors are raised from ``invoke``/``stream``; a node's own exception is
never wrapped: it reaches the caller as the very object the node raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any, Literal


class ErrorCode(Enum):
    GRAPH_RECURSION_LIMIT = "GRAPH_RECURSION_LIMIT"
    INVALID_CONCURRENT_GRAPH_UPDATE = "INVALID_CONCURRENT_GRAPH_UPDATE"
    INVALID_GRAPH_NODE_RETURN_VALUE = "INVALID_GRAPH_NODE_RETURN_VALUE"
    MULTIPLE_SUBGRAPHS = "MULTIPLE_SUBGRAPHS"
    INVALID_CHAT_HISTORY = "INVALID_CHAT_HISTORY"


def create_error_message(*, message: str, error_code: ErrorCode) -> str:
    """LangGraph's message format: the text, then a link to its troubleshooting page."""
    return (
        f"{message}\n"
        "For troubleshooting, visit: https://docs.langchain.com/oss/python/langgraph/"
        f"errors/{error_code.value}"
    )


class EmptyChannelError(Exception):
    """Read of a channel that holds no value yet (internal; never reaches users)."""


class GraphRecursionError(RecursionError):
    """The run reached ``recursion_limit`` supersteps without finishing.

    Raise the limit with ``graph.invoke(input, {"recursion_limit": 100})``; a run that
    loops forever usually has a conditional edge that never routes to ``END``.
    """


class InvalidUpdateError(Exception):
    """A write that the state cannot take: two values for one plain key in one
    superstep, a node returning something other than a dict/``Command``/``None``,
    or two ``Overwrite`` values for one key. Contrast :class:`GraphDefinitionError`,
    which is about how the graph was built, not what a node wrote."""

    error_code: ErrorCode | None = None

    def __init__(self, message: str = "", error_code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if error_code is not None:
            self.error_code = error_code


class UnknownTargetError(InvalidUpdateError):
    """A conditional edge, ``Command(goto=...)`` or ``Send`` named a node that isn't
    in the graph. LangGraph logs a warning and drops such a route; swiftgraph stops,
    because a silently dropped route is a workflow that quietly does less."""


class EmptyInputError(Exception):
    """``invoke(None)`` with no checkpoint to resume from."""


class TaskNotFound(Exception):
    """An executor was asked for a task it doesn't know (distributed mode)."""


class NodeTimeoutError(Exception):
    """An attempt of a node (or ``@task``) passed its ``TimeoutPolicy``: ``kind`` says
    which limit, ``"run"`` (wall clock) or ``"idle"`` (no progress), and ``timeout``
    its value. Not a ``TimeoutError`` (an ``OSError``), so the default ``RetryPolicy``
    retries it; a ``TimeoutError`` the body raises itself passes through unchanged."""

    def __init__(
        self, node: str, elapsed: float, *, kind: Literal["idle", "run"],
        idle_timeout: float | None = None, run_timeout: float | None = None,
    ) -> None:
        if kind == "idle":
            if idle_timeout is None:
                raise ValueError("idle_timeout is required when kind='idle'")
            message = (
                f"Node '{node}' exceeded its idle timeout of {idle_timeout:.3f}s without "
                f"making progress (elapsed: {elapsed:.3f}s)."
            )
            self.timeout = idle_timeout
        elif kind == "run":
            if run_timeout is None:
                raise ValueError("run_timeout is required when kind='run'")
            message = f"Node '{node}' exceeded its run timeout of {run_timeout:.3f}s (elapsed: {elapsed:.3f}s)."
            self.timeout = run_timeout
        else:
            raise ValueError("kind must be 'idle' or 'run'")
        super().__init__(message)
        self.node = node
        self.elapsed = elapsed
        self.kind = kind
        self.idle_timeout = idle_timeout
        self.run_timeout = run_timeout


class GraphBubbleUp(Exception):
    """Control flow that travels up through the engine as an exception. Never an error."""


class GraphInterrupt(GraphBubbleUp):
    """A node called ``interrupt()``: the run pauses and returns ``__interrupt__``."""

    def __init__(self, interrupts: Sequence[Any] = ()) -> None:
        super().__init__(interrupts)


class NodeInterrupt(GraphInterrupt):
    """Raised by a node to pause the run with ``value``, as ``interrupt(value)`` does
    but without a way to answer it: resuming reruns the node. Deprecated in LangGraph
    1.0 in favour of ``interrupt()``; kept so code that raises it runs unchanged."""

    def __init__(self, value: Any, id: str | None = None) -> None:
        import warnings

        from .types import Interrupt

        warnings.warn(
            "NodeInterrupt is deprecated. Please use `swiftgraph.types.interrupt` instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__([Interrupt(value=value) if id is None else Interrupt(value=value, id=id)])


class NodeError:
    """What an error handler learns of the failure it handles (not an exception): the
    node that failed and what it raised. A handler asks for it with a parameter typed
    ``NodeError``: ``def handler(state, error: NodeError) -> dict | Command``.

    Immutable, as LangGraph's frozen dataclass (not one here: ``dataclasses`` imports
    ``inspect``, milliseconds that ``import swiftgraph.graph`` doesn't spend)."""

    __slots__ = ("error", "node")
    node: str
    error: BaseException

    def __init__(self, node: str, error: BaseException) -> None:
        object.__setattr__(self, "node", node)
        object.__setattr__(self, "error", error)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: NodeError is immutable")

    def __repr__(self) -> str:
        return f"NodeError(node={self.node!r}, error={self.error!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is NodeError and (self.node, self.error) == (other.node, other.error)

    def __hash__(self) -> int:
        return hash((self.node, self.error))


class NodeCancelledError(Exception):
    """A node's body raised ``asyncio.CancelledError`` itself (not the engine cancelling
    it because a sibling failed, nor the caller cancelling the run): a failure of that
    node, reported as one, where the bare ``CancelledError`` would read as the whole
    run being cancelled. As LangGraph, on Python 3.11+ (3.10 can't tell the two apart)."""

    def __init__(self, node: str, message: str | None = None) -> None:
        super().__init__(message or f"Node {node!r} raised asyncio.CancelledError")
        self.node = node


class ParentCommand(GraphBubbleUp):
    """A ``Command(graph=Command.PARENT)`` on its way to the parent graph."""

    args: tuple[Any]

    def __init__(self, command: Any) -> None:
        super().__init__(command)


class SwiftGraphError(ValueError):
    """Base of swiftgraph's own set-up errors."""


class CheckpointError(SwiftGraphError):
    """A checkpoint that can't be used: missing, from an incomplete history, or not a
    swiftgraph checkpoint (refused, never half-loaded). Contrast ``SerializationError``
    (:mod:`swiftgraph.checkpoint.serde`), raised when a *value* can't be saved or loaded."""


class GraphDefinitionError(SwiftGraphError):
    """The graph as built can't run: an edge to an unknown node, a reserved or taken
    node name, no entry point, an invalid schema. Raised by the builder or by
    ``compile()``, never mid-run; the message names the node or edge and the fix."""


class UnresolvedSchemaError(GraphDefinitionError, NameError):
    """A schema whose annotations name something ``typing`` can't find (a name local to
    a function, under ``from __future__ import annotations``): its reducers can't be
    read. LangGraph lets typing's ``NameError`` through; this is a ``NameError`` too,
    so the same ``except`` catches it, but it names the schema, the keys and the fix."""


__all__ = [
    "CheckpointError",
    "EmptyChannelError",
    "EmptyInputError",
    "ErrorCode",
    "GraphBubbleUp",
    "GraphDefinitionError",
    "GraphInterrupt",
    "GraphRecursionError",
    "InvalidUpdateError",
    "NodeCancelledError",
    "NodeError",
    "NodeInterrupt",
    "NodeTimeoutError",
    "ParentCommand",
    "SwiftGraphError",
    "TaskNotFound",
    "UnknownTargetError",
    "UnresolvedSchemaError",
    "create_error_message",
]
