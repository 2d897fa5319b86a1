"""What a running node can ask for without being passed it: its config, the stream
writer, the runtime. Held in a context variable so it follows the node into
threads (copied context) and asyncio tasks, and never leaks between runs."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

CURRENT_TASK: ContextVar[Any] = ContextVar("swiftgraph_current_task", default=None)


def current_task() -> Any:
    return CURRENT_TASK.get()
