"""What a running node can ask for without being passed it: its config, the stream
writer, the runtime, its timed attempt. Held in a context variable so it follows the node into
threads (copied context) and asyncio tasks, and never leaks between runs."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

CURRENT_TASK: ContextVar[Any] = ContextVar("swiftgraph_current_task", default=None)


def current_task() -> Any:
    return CURRENT_TASK.get()


class Scope:
    """A timed attempt (see timeouts.py): when it last showed progress, and whether
    any progress signal counts (``refresh_on="auto"``) or heartbeats only."""

    __slots__ = ("auto", "last")

    def __init__(self, auto: bool) -> None:
        self.auto = auto
        self.last = time.monotonic()


ATTEMPT: ContextVar[Scope | None] = ContextVar("swiftgraph_attempt", default=None)


def progress() -> None:
    """A sign of progress (a custom stream write, a ``@task`` call) in the current timed
    attempt, if any and if it counts them."""
    scope = ATTEMPT.get()
    if scope is not None and scope.auto:
        scope.last = time.monotonic()


def heartbeat() -> None:
    """``runtime.heartbeat()``: progress, whatever the policy's ``refresh_on``; a no-op
    outside a timed attempt."""
    scope = ATTEMPT.get()
    if scope is not None:
        scope.last = time.monotonic()
