"""Timed attempts: ``add_node(..., timeout=...)`` / ``@task(timeout=...)``.

An attempt with a :class:`~swiftgraph.types.TimeoutPolicy` runs as an asyncio task of
its own, watched by the caller: past ``run_timeout`` after it started, or
``idle_timeout`` after its last sign of progress, the task is cancelled and
``NodeTimeoutError`` raised (what the attempt wrote is dropped with it; a
``RetryPolicy`` may then try again). The attempt's context holds its scope
(``context.ATTEMPT``), so a sign of progress made anywhere inside it (a nested task
or subgraph, a worker thread) finds it: ``runtime.heartbeat()`` always, and with
``refresh_on="auto"`` a custom stream write or a ``@task`` call.

Only the loop's side is here; the engine calls :func:`timed` around one attempt.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .context import ATTEMPT, Scope
from .errors import NodeTimeoutError

T = TypeVar("T")

SYNC_UNSUPPORTED = (
    "Node timeouts are only supported for async nodes because sync Python "
    "execution cannot be safely cancelled in-process."
)


def sync_timeout_unsupported(name: str, *, kind: str = "Node") -> ValueError:
    """LangGraph's error for a timeout on a plain (``def``) node or task."""
    return ValueError(f"{SYNC_UNSUPPORTED} {kind} {name!r} is sync.")


async def timed(name: str, policy: Any, attempt: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``attempt()`` under ``policy`` (a coerced ``TimeoutPolicy``)."""
    run_limit, idle_limit = policy.run_timeout, policy.idle_timeout
    scope = Scope(policy.refresh_on == "auto")
    ctx = contextvars.copy_context()
    ctx.run(ATTEMPT.set, scope)
    loop = asyncio.get_running_loop()
    task: asyncio.Future[T] = ctx.run(loop.create_task, attempt())  # (the task copies ctx)
    start = scope.last
    try:
        while True:
            now = time.monotonic()
            run_left = None if run_limit is None else start + run_limit - now
            idle_left = None if idle_limit is None else scope.last + idle_limit - now
            kind = None
            if run_left is not None and run_left <= 0:
                kind = "run"
            elif idle_left is not None and idle_left <= 0:
                kind = "idle"
            if kind is not None:
                task.cancel()
                task.add_done_callback(_drain)
                raise NodeTimeoutError(
                    name, time.monotonic() - start, kind=kind,  # type: ignore[arg-type]
                    idle_timeout=idle_limit, run_timeout=run_limit,
                )
            wait = min(x for x in (run_left, idle_left) if x is not None)
            done, _ = await asyncio.wait((task,), timeout=wait)
            if done:
                break
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_drain)
        raise
    # the attempt ended: its result, or its error, raised with this frame in its
    # traceback: the frame must not hold the task holding the error (a cycle)
    done = None  # type: ignore[assignment]
    try:
        return task.result()
    finally:
        task = None  # type: ignore[assignment]


def _drain(task: asyncio.Future[Any]) -> None:
    """Retrieve a cancelled attempt's outcome, so asyncio doesn't log it as unretrieved."""
    if not task.cancelled():
        task.exception()
