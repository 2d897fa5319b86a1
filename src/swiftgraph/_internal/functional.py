"""The Functional API on the graph engine: ``@entrypoint`` and ``@task``.

An entrypoint compiles to a one-node graph whose node is the decorated function
(so it runs on the same driver loop, streams and timeline as any graph). Calling a
``@task`` inside it starts the call at once as a task of the caller's run and
returns a future: await it, ``asyncio.gather`` it, or ``.result()`` it from sync
code. Each call gets a deterministic id from its caller and its call order, which
is what lets a resumed run replay finished calls instead of repeating them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import syncbridge
from .bodies import run_call
from .caching import node_namespace, task_namespace
from .callables import INJECTABLE, UserFn
from .channels import LastValue
from .compiled_types import CNode, CompiledGraph, Task
from .constants import PUSH, START
from .context import CURRENT_TASK
from .errors import GraphDefinitionError
from .timeouts import sync_timeout_unsupported
from .types import CachePolicy, RetryPolicy, TimeoutPolicy

if TYPE_CHECKING:
    from datetime import timedelta

T = TypeVar("T")
R = TypeVar("R")


class TaskFuture(concurrent.futures.Future, Generic[T]):  # type: ignore[type-arg]
    """The result of a ``@task`` call: awaitable, and ``.result()``-able from sync code."""

    def __await__(self) -> Generator[Any, None, T]:
        return asyncio.wrap_future(self).__await__()


class _AsyncTaskFuture(asyncio.Future):  # type: ignore[type-arg]
    """A call made on the running loop: an ``asyncio.Future`` for its result.

    The call starts at once, as LangGraph's do, but without paying for a task of its
    own when the caller awaits it straight away (the common ``x = await step(x)``): then
    it runs inside the awaiting task, saving two trips through the event loop.
    Otherwise (gathered, awaited later, or never) it becomes an ``asyncio.Task`` on the
    loop's next turn and runs concurrently just the same; being a future, it goes into
    ``asyncio.gather`` without a wrapper task. ``result()`` explains itself instead of
    raising ``InvalidStateError``."""

    def __init__(self, coro: Any, loop: asyncio.AbstractEventLoop, run: Any) -> None:
        super().__init__(loop=loop)
        self._coro: Any = coro
        self._task: asyncio.Task[Any] | None = None
        # one loop callback starts every call made since the loop last ran, not one each
        starting = run.starting
        if starting is None:
            run.starting = starting = []
            loop.call_soon(_start_all, run)
        starting.append(self)

    def _start(self) -> None:
        coro, self._coro = self._coro, None
        if coro is None:
            return
        if self.done():  # cancelled before it started
            coro.close()
            return
        self._task = self.get_loop().create_task(coro)
        self._task.add_done_callback(self._settle)

    def _settle(self, task: asyncio.Task[Any]) -> None:
        if self.done():
            return
        if task.cancelled():
            super().cancel()
        elif task.exception() is not None:
            self.set_exception(task.exception())  # type: ignore[arg-type]
        else:
            self.set_result(task.result())

    def __await__(self) -> Generator[Any, None, Any]:
        coro, self._coro = self._coro, None
        if coro is None:
            return (yield from super().__await__())
        # not started yet: run it here, in the awaiting task
        try:
            value = yield from coro.__await__()
        except asyncio.CancelledError:
            super().cancel()
            raise
        except BaseException as exc:
            if not self.done():
                self.set_exception(exc)
                self.exception()  # retrieved: the awaiter gets it raised
            # this frame is in the error's traceback: holding the future holding the
            # error would make a cycle (the failed call freed only by the collector)
            del self
            raise
        if not self.done():
            self.set_result(value)
        return value

    __iter__ = __await__

    def cancel(self, msg: Any = None) -> bool:
        if self._task is not None:
            self._task.cancel()
        return super().cancel()

    def result(self) -> Any:
        if not self.done():
            raise RuntimeError(
                "A @task called from async code must be awaited (await it or use "
                "asyncio.gather); .result() would block the event loop."
            )
        return super().result()


def _start_all(run: Any) -> None:
    futures, run.starting = run.starting, None
    for fut in futures:
        fut._start()


def _options(retry_policy: Any) -> tuple[Any, ...]:
    if retry_policy is None:
        return ()
    if isinstance(retry_policy, RetryPolicy):
        return (retry_policy,)
    return tuple(retry_policy)


class _TaskFunction(Generic[R]):
    """A function decorated with ``@task``."""

    swiftgraph_task = True  # how callables.names_a_task recognizes one

    def __init__(
        self,
        func: Callable[..., R],
        *,
        name: str | None = None,
        retry_policy: RetryPolicy | list[RetryPolicy] | None = None,
        cache_policy: CachePolicy | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
    ) -> None:
        self.func = func
        self.name: str = name or getattr(func, "__name__", None) or type(func).__name__
        fn = UserFn(func, self.name)
        policy = TimeoutPolicy.coerce(timeout)
        if policy is not None and not fn.is_async:
            raise sync_timeout_unsupported(self.name, kind="Task")
        self.node = CNode(
            name=self.name,
            fn=fn,
            subgraph=None,
            triggers=(PUSH,),
            input_keys=None,
            mapper=None,
            output_keys=frozenset(),
            static_writes=(),
            branches=(),
            retry_policy=_options(retry_policy),
            cache_policy=cache_policy,
            cache_ns=task_namespace(func),
            call_args=True,
            timeout=policy,
        )
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        caller = CURRENT_TASK.get()
        if caller is None or caller.run is None:
            raise RuntimeError(
                f"@task '{self.name}' was called outside of an @entrypoint (or a graph "
                "node). Tasks run as part of a workflow: call it from inside a function "
                "decorated with @entrypoint, then invoke the entrypoint."
            )
        run = caller.run
        key = caller.key if caller.kind is PUSH else caller.name
        calls = run.calls
        if calls is None:
            calls = run.calls = {}
        index = calls.get(key, 0)
        calls[key] = index + 1
        task = Task(self.node, PUSH, (key, index), (args, kwargs), (PUSH,), caller.step)
        task.run = run
        task.caller = caller
        task.base = caller.base or run.run_key
        task.record = caller.record  # run_call swaps in the call's own record, parented to this
        loop = run.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is loop:
            return _AsyncTaskFuture(run_call(run, task), running, run)
        if running is None and syncbridge.drives(loop):
            # a plain body the loop runs inline (executor.hide_loop): the loop waits
            # for it, so the call could never run
            raise RuntimeError(
                f"@task '{self.name}' was called from '{caller.name}', a plain function "
                "that swiftgraph runs on its event loop's thread (alone in its step, under "
                "invoke() or stream()), where the task can't run beside it. swiftgraph "
                "runs such a function in a worker thread when it can see the call: name "
                "the task as a global or closure variable of that function. Or make the "
                "function `async def` and await the task."
            )
        fut: TaskFuture[Any] = TaskFuture()
        cfut = asyncio.run_coroutine_threadsafe(run_call(run, task), loop)
        _chain(cfut, fut)
        return fut

    def clear_cache(self, cache: Any) -> None:
        """Forget this task's results saved in ``cache`` (if it has a cache policy)."""
        if self.node.cache_policy is not None:
            cache.clear((self.node.cache_ns,))

    async def aclear_cache(self, cache: Any) -> None:
        """Asynchronously forget this task's results saved in ``cache``."""
        if self.node.cache_policy is not None:
            await cache.aclear((self.node.cache_ns,))


def _chain(src: concurrent.futures.Future[Any], dst: TaskFuture[Any]) -> None:
    def copy(f: concurrent.futures.Future[Any]) -> None:
        if f.cancelled():
            dst.cancel()
        elif f.exception() is not None:
            dst.set_exception(f.exception())
        else:
            dst.set_result(f.result())

    src.add_done_callback(copy)


def task(
    __func_or_none__: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | list[RetryPolicy] | None = None,
    cache_policy: CachePolicy | None = None,
    timeout: float | timedelta | TimeoutPolicy | None = None,
    **kwargs: Any,
) -> Any:
    """Mark a function as a task: a unit of work an entrypoint can run concurrently.
    ``timeout`` limits each attempt of an ``async def`` task (see ``TimeoutPolicy``)."""
    if retry_policy is None and kwargs.get("retry") is not None:
        retry_policy = kwargs["retry"]

    def decorate(func: Callable[..., Any]) -> _TaskFunction[Any]:
        return _TaskFunction(
            func, name=name, retry_policy=retry_policy, cache_policy=cache_policy, timeout=timeout
        )

    if __func_or_none__ is not None:
        return decorate(__func_or_none__)
    return decorate


@dataclass(frozen=True)
class final(Generic[T, R]):
    """Return ``entrypoint.final(value=..., save=...)`` to return ``value`` to the
    caller but save ``save`` as what ``previous`` holds on the thread's next run."""

    value: T
    save: R


_threadlocal = threading.local()


class entrypoint:
    """Turn a function into a workflow: ``@entrypoint`` or ``@entrypoint(checkpointer=...)``.

    The function takes one positional input; it may also ask for ``config``,
    ``writer``, ``store``, ``runtime`` and ``previous`` by name."""

    final = final

    def __new__(cls, checkpointer: Any = None, **kwargs: Any) -> Any:
        if callable(checkpointer) and not _is_checkpointer(checkpointer):
            # bare @entrypoint: LangGraph fails here; swiftgraph accepts it
            self = object.__new__(cls)
            self.__init__()  # type: ignore[misc]
            return self(checkpointer)
        return object.__new__(cls)

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: Any = None,
        cache_policy: CachePolicy | None = None,
        retry_policy: RetryPolicy | list[RetryPolicy] | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        if callable(checkpointer) and not _is_checkpointer(checkpointer):
            return
        self.timeout = TimeoutPolicy.coerce(timeout)
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.context_schema = context_schema
        self.cache_policy = cache_policy
        self.retry_policy = retry_policy if retry_policy is not None else kwargs.get("retry")

    def __call__(self, func: Callable[..., Any]) -> Any:
        from .compiled_func import EntrypointGraph

        fn = UserFn(func)
        if self.timeout is not None and not fn.is_async:
            raise sync_timeout_unsupported(fn.name)
        if fn.n_positional < 1 or _required_positional(func) > 1:
            raise GraphDefinitionError(
                f"@entrypoint function '{fn.name}' must take exactly one positional input "
                f"(it takes {fn.n_positional}). Pass several values as one dict or "
                "dataclass; config, writer, store, runtime and previous may follow as "
                "keyword parameters."
            )
        node = CNode(
            name=fn.name,
            fn=fn,
            subgraph=None,
            triggers=(START,),
            input_keys=None,
            mapper=None,
            output_keys=frozenset(),
            static_writes=(),
            branches=(),
            retry_policy=_options(self.retry_policy),
            cache_policy=self.cache_policy,
            cache_ns=node_namespace(fn.name, fn),
            returns=True,
            timeout=self.timeout,
        )
        channels = {"__end__": LastValue("__end__"), "__previous__": LastValue("__previous__")}
        graph = CompiledGraph(
            nodes={START: node},
            node_names=(fn.name,),
            channels=channels,  # type: ignore[arg-type]
            state_keys=("__end__", "__previous__"),
            state_key_set=frozenset(channels),
            trigger_to_nodes={},
            deferred_channels=frozenset(),
            input_keys=(),
            output_keys=("__end__",),
            output_key_set=frozenset({"__end__"}),
            output_mapper=lambda values: values.get("__end__"),
            cache_policy=self.cache_policy,
            functional=True,
        )
        return EntrypointGraph(func, graph, self)


def _required_positional(func: Any) -> int:
    import inspect

    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return 1
    return sum(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.default is p.empty
        and p.name not in INJECTABLE
        for p in params
    )


def _is_checkpointer(obj: Any) -> bool:
    return hasattr(obj, "get_tuple") or hasattr(obj, "aget_tuple") or obj is False or obj is True
