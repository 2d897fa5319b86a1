"""The sync API's bridge onto the async engine.

``invoke()``/``stream()`` drive the same coroutine as ``ainvoke()``/``astream()``.
With no event loop running in the calling thread, they use a private loop kept per
thread (creating a loop per call would cost more than a whole small run). Inside a
running loop (Jupyter, or a sync node calling another graph's ``invoke``) they hand
the coroutine to a worker thread with its own loop and wait for it, so they work
where LangGraph's ``asyncio.run``-based paths raise.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import queue
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_local = threading.local()
_portal: ThreadPoolExecutor | None = None
_portal_lock = threading.Lock()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
        _local.closer = _Closer(loop)
    return loop


class _Closer:
    """Closes a thread's private loop when the thread ends (its thread-local goes) or,
    for a thread still alive then, at interpreter exit: a loop left open is a
    ``ResourceWarning`` (shown under ``python -X dev``) and an open selector."""

    __slots__ = ("__weakref__", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        _open.add(self)

    def close(self) -> None:
        loop = self.loop
        if not loop.is_closed() and not loop.is_running():
            loop.close()

    __del__ = close


_open: weakref.WeakSet[_Closer] = weakref.WeakSet()


@atexit.register
def _close_open_loops() -> None:
    for closer in list(_open):
        closer.close()


def drives(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` is the one this thread runs the sync API on."""
    return getattr(_local, "loop", None) is loop


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # a plain node body that this thread's loop runs inline sees no running loop
        # (executor.hide_loop), but the loop is busy all the same
        loop = getattr(_local, "loop", None)
        return loop is not None and loop.is_running()
    return True


def _portal_pool() -> ThreadPoolExecutor:
    global _portal
    if _portal is None:
        with _portal_lock:
            if _portal is None:
                _portal = ThreadPoolExecutor(max_workers=64, thread_name_prefix="swiftgraph-sync")
    return _portal


def run_sync(make: Callable[[], Coroutine[Any, Any, T]], *, read_only: bool = False) -> T:
    """Run the coroutine that ``make()`` returns to completion, from sync code.

    ``read_only``: the coroutine only reads, from storage that never waits (a saver
    whose async methods call its sync ones). It is then first driven right here, with
    no event loop: a ``get_state`` costs no loop turn (nor, in a fresh thread, making
    a loop, nor inside a running loop a worker thread). If it turns out to need a loop
    after all (it suspends, or asks for the running loop), it is dropped and run again
    the usual way; reading twice changes nothing."""
    if read_only:
        coro = make()
        try:
            coro.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except RuntimeError as exc:
            if "event loop" not in str(exc):
                raise
        finally:
            coro.close()
    if _in_running_loop():
        ctx = contextvars.copy_context()

        def here() -> T:  # on a portal thread, with the caller's context
            return run_sync(make)

        return _portal_pool().submit(ctx.run, here).result()
    loop = _thread_loop()
    coro = make()
    try:
        ok, box = loop.run_until_complete(_outcome(coro))
    except BaseException:
        coro.close()
        raise
    outcome = box.pop()
    if ok:
        return outcome  # type: ignore[no-any-return]
    try:
        raise outcome
    finally:  # this frame is in the error's traceback: it must not hold the error
        outcome = None


async def _outcome(coro: Awaitable[Any]) -> tuple[bool, list[Any]]:
    """``coro``'s result or error, in a list that the caller empties.

    An error raised out of ``run_until_complete`` would be held by the asyncio task
    that ran it, which that call's frame holds in turn, and that frame is in the
    error's traceback (or is the caller of one that is): a cycle keeping the whole
    failed run, its state included, alive until the garbage collector finds it. As a
    value taken out of the task's result, the error is held by nothing of the loop's."""
    try:
        return True, [await coro]
    except BaseException as exc:  # noqa: BLE001 (handed back: the caller raises it)
        return False, [exc]


def iterate_sync(make: Callable[[], AsyncIterator[T]]) -> Generator[T, None, None]:
    """Iterate the async iterator that ``make()`` returns, from sync code."""
    if _in_running_loop():
        yield from _iterate_in_portal(make)
        return
    loop = _thread_loop()
    agen = make()
    try:
        while True:
            ok, box = loop.run_until_complete(_outcome(agen.__anext__()))  # (see _outcome)
            item = box.pop()
            if ok:
                yield item
                continue
            if isinstance(item, StopAsyncIteration):
                return
            try:
                raise item
            finally:  # (see run_sync)
                item = None
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None and not loop.is_running():
            loop.run_until_complete(aclose())


_DONE = object()


def _iterate_in_portal(make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Iterate from inside a running loop: the stream runs on a portal thread's loop,
    one chunk at a time, when the consumer asks (a stream stays lazy here too)."""
    items: queue.Queue[Any] = queue.Queue()
    want = threading.Semaphore(0)  # released once per chunk the consumer asks for
    stop = threading.Event()

    def produce() -> None:
        try:
            chunks = iterate_sync(make)
            try:
                while True:
                    want.acquire()
                    if stop.is_set():
                        break
                    try:
                        item = next(chunks)
                    except StopIteration:
                        break
                    items.put((True, item))
            finally:
                chunks.close()  # a consumer that stopped early cancels the run
        except BaseException as exc:  # handed to the consumer
            items.put((False, exc))
        finally:
            items.put((True, _DONE))

    _portal_pool().submit(contextvars.copy_context().run, produce)
    try:
        while True:
            want.release()
            ok, item = items.get()
            if not ok:
                try:
                    raise item
                finally:  # (see run_sync)
                    item = None
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        want.release()
