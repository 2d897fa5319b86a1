"""Where node bodies run: the one small interface between the loop and user code.

The loop, reducers and checkpoint writes always stay in the caller's process; only
the body of a node (the user's function applied to its input) is submitted here.
That is the seam a distributed executor plugs into later without touching the loop.

Locally: a coroutine function is awaited on the caller's event loop; a plain
function runs inline when it is alone in its step under the sync API (nothing to
overlap with), and otherwise in a shared thread pool with the caller's context
copied, so ``get_config()`` works there too. Conditional edges' path functions run
by the same rule (:func:`call_path`).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import random
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .callables import UserFn
from .context import CURRENT_TASK
from .timeline import LIVE_RETRIES, LIVE_THREAD

if TYPE_CHECKING:
    from .compiled_types import Task
    from .loop import Run

AWAIT_INLINE = True
"""The local executor lets the loop await a plain async node body itself (two fewer
coroutine frames per task). An executor that ships bodies elsewhere sets it False."""

hide_loop = asyncio._set_running_loop
"""``hide_loop(None)`` before a plain body runs inline on the loop's thread, then
``hide_loop(loop)``: the body sees no running loop, as under LangGraph, whose sync API
runs it with none. Code that calls ``asyncio.run()`` (or checks for a running loop to
choose its path) then works as it does there; with the loop visible it raised
"cannot be called from a running event loop". A nested ``invoke()`` in such a body
still finds the loop busy (``syncbridge`` asks the thread's loop too)."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def thread_pool() -> ThreadPoolExecutor:
    """A process-wide pool for sync node bodies. Bounded per run by ``max_concurrency``."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                workers = int(os.environ.get("SWIFTGRAPH_THREADS", "0")) or max(32, (os.cpu_count() or 1) * 8)
                _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="swiftgraph")
    return _pool


def _invoke(task: Task, fn: UserFn, kwargs: dict[str, Any] | None) -> Any:
    record = task.record
    if record is not None:  # the timeline notes which thread ran the body
        task.run.timeline.live[record + LIVE_THREAD] = threading.current_thread().name
    token = CURRENT_TASK.set(task)
    try:
        if task.node.call_args:
            args, kw = task.input
            return fn.fn(*args, **kw, **kwargs) if kwargs else fn.fn(*args, **kw)
        return fn.fn(task.input, **kwargs) if kwargs else fn.fn(task.input)
    finally:
        CURRENT_TASK.reset(token)


async def call(run: Run, task: Task, fn: UserFn, kwargs: dict[str, Any] | None) -> Any:
    """Run one node body once and return what it returned."""
    if fn.is_async:
        token = CURRENT_TASK.set(task)
        try:
            if task.node.call_args:
                args, kw = task.input
                return await (fn.fn(*args, **kw, **kwargs) if kwargs else fn.fn(*args, **kw))
            if kwargs:
                return await fn.fn(task.input, **kwargs)
            return await fn.fn(task.input)
        finally:
            CURRENT_TASK.reset(token)
    # inline only a node's body alone in its step: not one calling @tasks (their calls
    # need the loop: see UserFn.calls_tasks), nor such a call (its siblings run beside it)
    if run.inline and not fn.calls_tasks and not task.node.call_args:
        hide_loop(None)
        try:
            out = _invoke(task, fn, kwargs)
        finally:
            hide_loop(run.loop)
    else:
        ctx = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(thread_pool(), ctx.run, _invoke, task, fn, kwargs)
    if type(out) is not dict and asyncio.iscoroutine(out):  # a sync callable that returned a coroutine
        out = await out
    return out


def _route(task: Task, fn: UserFn, state: Any, kwargs: dict[str, Any] | None) -> Any:
    token = CURRENT_TASK.set(task)
    try:
        return fn.fn(state, **kwargs) if kwargs else fn.fn(state)
    finally:
        CURRENT_TASK.reset(token)


async def call_path(
    run: Run, task: Task, fn: UserFn, state: Any, kwargs: dict[str, Any] | None
) -> Any:
    """Run a conditional edge's path function on ``state`` (its node's task has run) and
    return what it returned (awaited when it returns a coroutine).

    A plain function runs where that task's plain body would: inline when alone in its
    step under the sync API, otherwise in the thread pool, as LangGraph runs it. A
    router that calls a model must not stall the event loop, and with it the step's
    other tasks and every other run on that loop."""
    if fn.is_async:
        token = CURRENT_TASK.set(task)
        try:
            return await (fn.fn(state, **kwargs) if kwargs else fn.fn(state))
        finally:
            CURRENT_TASK.reset(token)
    if run.inline:
        hide_loop(None)
        try:
            out = _route(task, fn, state, kwargs)
        finally:
            hide_loop(run.loop)
    else:
        ctx = contextvars.copy_context()
        out = await asyncio.get_running_loop().run_in_executor(
            thread_pool(), ctx.run, _route, task, fn, state, kwargs
        )
    if type(out) is not str and asyncio.iscoroutine(out):  # a plain callable that returned one
        out = await out
    return out


def _matches(policy: Any, exc: Exception) -> bool:
    retry_on = policy.retry_on
    if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
        return isinstance(exc, retry_on)
    if isinstance(retry_on, Sequence):
        return isinstance(exc, tuple(retry_on))
    if callable(retry_on):
        return bool(retry_on(exc))
    return False


async def call_with_retry(
    run: Run, task: Task, fn: UserFn, kwargs: dict[str, Any] | None, policies: Sequence[Any]
) -> Any:
    """``call`` under the node's ``RetryPolicy``: the first policy whose ``retry_on``
    matches the error decides; attempts count the first call."""
    attempts = 0
    interval = 0.0
    while True:
        try:
            return await call(run, task, fn, kwargs)
        except Exception as exc:
            policy = next((p for p in policies if _matches(p, exc)), None)
            if policy is None:
                raise
            attempts += 1
            if attempts >= policy.max_attempts:
                raise
            interval = (
                policy.initial_interval
                if attempts == 1
                else min(policy.max_interval, interval * policy.backoff_factor)
            )
            sleep = interval + (random.uniform(0, 1) if policy.jitter else 0)
            if task.record is not None:
                task.run.timeline.live[task.record + LIVE_RETRIES] = attempts
            await asyncio.sleep(sleep)
