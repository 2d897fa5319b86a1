"""Where node bodies run: the one small interface between the loop and user code.

The loop, reducers and checkpoint writes always stay in the caller's process; only
the body of a node (the user's function applied to its input) is submitted here.
That is the seam a distributed executor plugs into later without touching the loop.

Locally, as LangGraph runs them: a coroutine function runs on the caller's event
loop; a plain function runs inline when it is alone in its step under the sync API
(nothing to overlap with; it sees no running loop there, see :data:`hide_loop`), and
otherwise in a shared thread pool, so that it never stalls the loop. Conditional
edges' path functions follow the same rule (:func:`call_path`; a plain body's plain
path functions run right after it, where it ran). Each runs in a copy of the
caller's context (:func:`task_context`), so ``get_config()`` works there and what it
sets stays there.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import random
import threading
import time
import types
from collections.abc import Awaitable, Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from .callables import UserFn
from .context import CURRENT_TASK
from .timeline import LIVE_RETRIES, LIVE_THREAD

if TYPE_CHECKING:
    from .compiled_types import Task
    from .loop import Run

T = TypeVar("T")

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


def task_context(task: Task) -> contextvars.Context:
    """A copy of the current context in which ``task`` is the current task.

    Each task's body runs in a context of its own, as LangGraph's do: a context
    variable it sets is seen neither by the tasks after it nor by the caller. Run in
    ``ctx``, a plain body is ``ctx.run(...)``; a coroutine is driven through
    :func:`in_context`, which is cheaper than a task of its own (no
    trip through the event loop) when, as most bodies, it finishes without waiting."""
    ctx = contextvars.copy_context()
    ctx.run(CURRENT_TASK.set, task)
    return ctx


_NOT_STARTED: Any = object()


@types.coroutine
def in_context(ctx: contextvars.Context, coro: Any, out: Any = _NOT_STARTED) -> Generator[Any, Any, Any]:
    """``await in_context(ctx, coro)``: ``coro``'s result, each of its steps run in
    ``ctx``; what it yields goes to the awaiting task, and what that task throws in
    (a cancellation) goes to ``coro``, in ``ctx`` too. ``out``: what ``coro`` yielded
    when its caller already ran its first step (the lone-step path of
    ``Run.execute``, which spares the generator a body that doesn't wait). One
    generator, the only object a waiting body adds (no bound method kept across a
    wait)."""
    try:
        if out is _NOT_STARTED:
            out = ctx.run(coro.send, None)
        while True:
            try:
                value = yield out
            except BaseException as exc:  # noqa: BLE001 (thrown in by the awaiting task)
                out = ctx.run(coro.throw, exc)
            else:
                out = ctx.run(coro.send, value)
    except StopIteration as done:
        return done.value


def _invoke(task: Task, fn: UserFn, kwargs: dict[str, Any] | None) -> Any:
    """A plain body's call, in its task's context (:func:`task_context`)."""
    record = task.record
    if record is not None:  # the timeline notes which thread ran the body
        task.run.timeline[record + LIVE_THREAD] = threading.current_thread().name
    if task.node.call_args:
        args, kw = task.input
        return fn.fn(*args, **kw, **kwargs) if kwargs else fn.fn(*args, **kw)
    return fn.fn(task.input, **kwargs) if kwargs else fn.fn(task.input)


async def call(
    run: Run, task: Task, fn: UserFn, kwargs: dict[str, Any] | None,
    then: Callable[[Any], Any] | None = None,
) -> Any:
    """Run one node body once, in a context of its own, and return what it returned;
    or, given ``then`` (a plain body's), ``then(what it returned)``, called where the
    body ran (its worker thread: one hop for both) in a context of its own."""
    ctx = task_context(task)
    if fn.is_async:
        if task.node.call_args:
            args, kw = task.input
            out = fn.fn(*args, **kw, **kwargs) if kwargs else fn.fn(*args, **kw)
        else:
            out = fn.fn(task.input, **kwargs) if kwargs else fn.fn(task.input)
    # inline only a node's body alone in its step: not one calling @tasks (their calls
    # need the loop: see UserFn.calls_tasks), nor such a call (its siblings run beside it)
    elif run.inline and not fn.calls_tasks and not task.node.call_args:
        hide_loop(None)
        try:
            out, then = _invoke_then(ctx, task_context(task) if then else None, task, fn, kwargs, then)
        finally:
            hide_loop(run.loop)
    else:
        loop = asyncio.get_running_loop()
        out, then = await loop.run_in_executor(
            thread_pool(), _invoke_then, ctx, task_context(task) if then else None, task, fn, kwargs, then
        )
    # a coroutine (or a sync callable's: the dict test first, iscoroutine asks an ABC)
    if fn.is_async or (type(out) is not dict and asyncio.iscoroutine(out)):
        out = await in_context(ctx, out)
    if then is not None:  # a plain body that returned a coroutine: its routing, now
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(thread_pool(), task_context(task).run, then, out)
    return out


def _invoke_then(
    ctx: contextvars.Context, then_ctx: contextvars.Context | None, task: Task, fn: UserFn,
    kwargs: dict[str, Any] | None, then: Callable[[Any], Any] | None,
) -> tuple[Any, Callable[[Any], Any] | None]:
    """A plain body in ``ctx``, then ``then`` on its result in ``then_ctx``: (that, None);
    or (a coroutine the body returned, ``then``), which the loop awaits first."""
    out = ctx.run(_invoke, task, fn, kwargs)
    if then is None or (type(out) is not dict and asyncio.iscoroutine(out)):
        return out, then
    return then_ctx.run(then, out), None  # type: ignore[union-attr]


def _route(fn: UserFn, state: Any, kwargs: dict[str, Any] | None) -> Any:
    return fn.fn(state, **kwargs) if kwargs else fn.fn(state)


async def call_path(
    run: Run, task: Task, fn: UserFn, state: Any, kwargs: dict[str, Any] | None
) -> Any:
    """Run a conditional edge's path function on ``state`` (its node's task has run) and
    return what it returned (awaited when it returns a coroutine).

    A plain function runs where that task's plain body would: inline when alone in its
    step under the sync API, otherwise in the thread pool, as LangGraph runs it. A
    router that calls a model must not stall the event loop, and with it the step's
    other tasks and every other run on that loop. Like a body, it runs in a context of
    its own (:func:`task_context`)."""
    ctx = task_context(task)
    if fn.is_async:
        out = fn.fn(state, **kwargs) if kwargs else fn.fn(state)
    elif run.inline:
        hide_loop(None)
        try:
            out = ctx.run(_route, fn, state, kwargs)
        finally:
            hide_loop(run.loop)
    else:
        out = await asyncio.get_running_loop().run_in_executor(
            thread_pool(), ctx.run, _route, fn, state, kwargs
        )
    if fn.is_async or (type(out) is not str and asyncio.iscoroutine(out)):
        out = await in_context(ctx, out)
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


async def with_retry(task: Task, policies: Sequence[Any], attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()`` under a node's ``RetryPolicy``: the first policy whose ``retry_on``
    matches the error decides; attempts count the first call. An attempt is the body
    and, for a node with conditional edges, its routing (as in LangGraph, a routing
    function that fails runs the node again)."""
    attempts = 0
    interval = 0.0
    started = time.time()
    while True:
        try:
            task.attempt = (attempts + 1, started)  # (runtime.execution_info: which, since when)
            return await attempt()
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
                task.run.timeline[task.record + LIVE_RETRIES] = attempts
            await asyncio.sleep(sleep)
