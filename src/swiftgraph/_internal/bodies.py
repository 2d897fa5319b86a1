"""Running one task of a run: its body (with retries, timeouts, an error handler),
the writes it makes, a subgraph node's run, a Functional API ``@task`` call.

Functions of the :class:`~.loop.Run` they serve, which keeps the driver loop
(``Run.execute``) and the launching of steps; what a run streams about its tasks is
in :mod:`.events`, what a task's config and metadata say in :mod:`.taskinfo`.
The lone-task path of ``Run.execute`` inlines :func:`run_task`'s common case.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from . import caching as _caching
from . import executor as _executor
from .compiled_types import CNode, Task
from .constants import INTERRUPT, MISSING, PUSH
from .context import progress
from .errors import (
    GraphBubbleUp,
    GraphInterrupt,
    NodeCancelledError,
    ParentCommand,
)
from .events import emit_done, emit_task_result, emit_task_start
from .executor import hide_loop, in_context, task_context
from .runtime import ExecutionInfo, NodeRuntime, Runtime
from .taskinfo import subgraph_ns, task_config, task_ns
from .timeline import (
    LIVE_END,
    LIVE_ERROR,
    LIVE_OUTCOME,
    LIVE_OUTPUT,
    LIVE_START,
    LiveTimeline,
    live_entry,
)
from .timeouts import timed
from .types import Command
from .writes import fresh_state, result_writes, route

if TYPE_CHECKING:
    from .callables import UserFn
    from .loop import Run


async def run_task(run: Run, task: Task, alone: bool = False) -> None:
    """Run one task of a step; ``alone``: no sibling runs beside it."""
    node = task.node
    task.run = run
    record = None
    if run.timeline is not None and not node.hidden:
        if run.cp is not None:
            task.id  # noqa: B018 (its writes are saved by id: the timeline keeps it too)
        record = task.record = live_entry(run.timeline, task, time.perf_counter())
    modes = run.modes
    debug = False
    if modes:
        debug = ("tasks" in modes or "debug" in modes) and not node.hidden
        if "messages" in modes and not node.hidden:
            run.messages.node_start(task)
    emitted = False
    writes = None
    try:
        fn = node.fn
        try:
            if fn is None and node.subgraph is None:
                result = task.input  # START forwards the input
            elif fn is not None and node.plain and (fn.is_async or run.inline) and run.semaphore is None and _executor.AWAIT_INLINE:
                # the common case, without the executor's frames: an async body awaited
                # here, or a sync body alone in its step under the sync API called here
                ctx = task_context(task)  # (see executor.task_context)
                result = call_plain(run, task, fn, ctx)
                if fn.is_async or (type(result) is not dict and asyncio.iscoroutine(result)):
                    result = await in_context(ctx, result)
            else:
                result, writes = await call_body(run, task)
        except ParentCommand as pc:
            if getattr(pc, "task", None) is not task:
                raise
            # a graph the body invoked handed this graph a Command: the task's
            # result, as LangGraph takes it (a subgraph node's: call_subgraph)
            cmd = pc.args[0]
            result, writes = Command(update=cmd.update, goto=cmd.goto, resume=cmd.resume), None
        if node.returns:
            writes = _return_writes(result)
            result = writes[0][1]
            if run.open_calls:
                # LangGraph reports the entrypoint's return, then lets the task calls
                # nobody awaited finish before the run ends
                emit_done(run, task, writes, result)
                emitted = True
                while run.open_calls:
                    await asyncio.gather(*list(run.open_calls), return_exceptions=True)
            if node.static_writes:
                writes.extend(node.static_writes)
        elif writes is None:  # (call_body works them out with the body)
            if not node.branches:
                writes = own_writes(run, task, result)
            elif node.sync_routes:  # a plain body run here, under the sync API: so are they
                ctx = task_context(task)
                hide_loop(None)
                try:
                    result, writes = ctx.run(routed, run, task, result)
                finally:
                    hide_loop(run.loop)
            else:
                writes = await routed_writes(run, task, result)
        task.writes = writes
        task.done = True
    except BaseException as exc:
        if node.error_handler is not None and _handled(task, exc):
            await handle_error(run, task, record, exc, debug, alone)
            return
        failure = await task_failed(run, task, record, exc, debug)
        if failure is exc:
            failure = None  # this frame is in the error's traceback: it must not hold it
            raise
        if failure is not None:
            try:
                raise failure from exc
            finally:  # (as above)
                failure = None
        return
    if record is not None:
        ended(run, record, "ok", reported_output(node, result, writes))
    if modes and "messages" in modes and not node.hidden:
        # before its writes are saved: a message streamed without an id gets one
        run.messages.node_end(task, result)
    if run.cp is not None:
        await run.cp.save_writes(task.base, task, writes, last=alone)
    if modes and not emitted:
        emit_done(run, task, writes, result)


def call_plain(run: Run, task: Task, fn: Any, ctx: contextvars.Context) -> Any:
    """Call the body of a task the loop runs itself (see ``CNode.plain``), with what
    it asks to have injected: a plain body runs here, in ``ctx``, with the loop
    hidden (see executor.hide_loop); an async one's coroutine is returned, for the
    caller to drive in ``ctx``. (``f(x)``, not ``f(x, **{})``: that costs a tenth
    of a microsecond more, on every lone step.)"""
    if fn.inject:
        kwargs = inject(run, task, fn.inject)
        if fn.is_async:
            return fn.fn(task.input, **kwargs)
        hide_loop(None)
        try:
            return ctx.run(fn.fn, task.input, **kwargs)
        finally:
            hide_loop(run.loop)
    if fn.is_async:
        return fn.fn(task.input)
    hide_loop(None)
    try:
        return ctx.run(fn.fn, task.input)
    finally:
        hide_loop(run.loop)


async def handle_error(
    run: Run, task: Task, record: int | None, exc: BaseException, debug: bool, alone: bool
) -> None:
    """``task`` failed (its retries spent) and its node has an error handler: run it
    now, in the same step, as LangGraph does. The handler gets the task's input and,
    through a parameter typed ``NodeError``, the failure; what it returns takes the
    failed task's place among the step's writes (a handler has no edges: it routes
    with ``Command(goto=...)``). The failure is saved as the task's error, the
    handler's writes as its own; if the handler fails, the run fails with that."""
    from .errors import NodeError

    if type(exc) is asyncio.CancelledError:
        exc = NodeCancelledError(task.node.name)
    if run.cp is not None:
        await run.cp.save_writes(task.base, task, [("__error__", repr(exc))], -1)
    failed(run, task, record, exc, debug)
    handler = Task(run.graph.nodes[task.node.error_handler], PUSH, task.id, task.input, (PUSH,), task.step)  # type: ignore[index]
    handler.run, handler.base = run, task.base
    handler.failure = NodeError(task.node.name, exc)
    if run.timeline is not None:
        handler.record = live_entry(run.timeline, handler, time.perf_counter())
    try:
        result, writes = await call_body(run, handler)
        if writes is None:
            writes = own_writes(run, handler, result)
    except BaseException as err:
        failure = await task_failed(run, handler, handler.record, err, debug)
        if failure is err:
            failure = None  # (see run_task)
            raise
        if failure is not None:
            try:
                raise failure from err
            finally:
                failure = None
        return
    handler.writes = task.writes = writes  # in the failed task's place (its position in the step's order)
    handler.done = task.done = True
    if handler.record is not None:
        ended(run, handler.record, "ok", writes)
    if run.cp is not None:
        await run.cp.save_writes(handler.base, handler, writes, last=alone)
    if run.modes:
        emit_done(run, handler, writes, result)


async def task_failed(
    run: Run, task: Task, record: int | None, exc: BaseException, debug: bool
) -> BaseException | None:
    """A task's body (or its writes) raised ``exc``: note it, and return what the
    caller raises: ``exc``, or a ``NodeCancelledError`` for a ``CancelledError``
    the body raised itself. None: the task was interrupted (``interrupt()``), and
    the step ends with it pending."""
    node = task.node
    cancelled = type(exc) is asyncio.CancelledError and _raised_by_body(task)
    if cancelled:
        exc = NodeCancelledError(node.name)  # (raised without a task note, as LangGraph's)
    if isinstance(exc, GraphInterrupt):
        if record is not None:
            ended(run, record, "interrupted")
        if node.returns and run.open_calls:
            for call in list(run.open_calls):
                call.cancel()
        await interrupted(run, task, exc)
        if debug:
            emit_task_result(run, task, None, {}, list(exc.args[0]) if exc.args else [])
        return None
    # saved as the task's error; a task the step (or the caller) cancelled too,
    # as LangGraph shows it: CancelledError()
    if run.cp is not None and (
        isinstance(exc, asyncio.CancelledError) or isinstance(exc, Exception) and not isinstance(exc, ParentCommand)
    ):
        await run.cp.save_writes(task.base, task, [("__error__", repr(exc))], -1)
    if node.returns and run.open_calls:
        # the entrypoint failed: the task calls it started are now orphans
        for call in list(run.open_calls):
            call.cancel()
    failed(run, task, record, exc, debug)
    if not cancelled:
        note_task(exc, task)
    return exc


def ended(run: Run, record: int, outcome: str, output: Any = None) -> None:
    """A timeline entry (at offset ``record`` of this run's timeline) ends now."""
    live: LiveTimeline = run.timeline  # type: ignore[assignment]
    live[record + LIVE_END] = time.perf_counter()
    live[record + LIVE_OUTCOME] = outcome
    if output is not None:
        live[record + LIVE_OUTPUT] = output


def failed(run: Run, task: Task, record: int | None, exc: BaseException, debug: bool) -> None:
    """A task or call ended with ``exc`` (cancelled or failed): its timeline entry
    and, streaming tasks, its result event say so."""
    if record is not None:
        ended(run, record, "cancelled" if isinstance(exc, asyncio.CancelledError) else "error")
        run.timeline[record + LIVE_ERROR] = repr(exc)  # type: ignore[index]
    if debug and not isinstance(exc, asyncio.CancelledError):
        emit_task_result(run, task, exc)


async def run_call(run: Run, task: Task) -> Any:
    """Run a Functional API ``@task`` call right away, as its caller asked, and
    return its result. It shares the step of its caller: a call is not a superstep."""
    progress()  # (a timed caller's: see timeouts.py)
    node = task.node
    task.run = run
    record = None
    if run.timeline is not None:  # (task.record: its caller's entry, the parent)
        record = task.record = live_entry(run.timeline, task, time.perf_counter(), task.record)
    saved = run.saved.get(task.id) if run.saved else None
    if saved is not None:
        for chan, value in saved:
            if chan == "__return__":  # finished before the run was cut short: replay
                if record is not None:
                    live: LiveTimeline = run.timeline  # type: ignore[assignment]
                    live[record + LIVE_END] = live[record + LIVE_START]
                    live[record + LIVE_OUTCOME] = "cached"
                return value
    debug = bool(run.modes) and ("tasks" in run.modes or "debug" in run.modes)
    if debug:
        emit_task_start(run, task)
    entry = None
    if run.cache is not None:
        entry = _caching.entry_for(run, task)
        if entry is not None:
            value = await _caching.serve_call(run, task, entry, record)
            if value is not MISSING:
                return value
    current = asyncio.current_task()
    if current is not None:
        if run.open_calls is None:
            run.open_calls = set()
        run.open_calls.add(current)
    try:
        fn = node.fn
        if node.plain and fn.is_async and run.semaphore is None and _executor.AWAIT_INLINE:  # type: ignore[union-attr]
            # the common case, without the executor's two frames (as in run_task)
            args, kw = task.input
            if fn.inject:  # type: ignore[union-attr]
                kw = {**kw, **inject(run, task, fn.inject)}  # type: ignore[union-attr]
            result = await in_context(task_context(task), fn.fn(*args, **kw))  # type: ignore[union-attr]
        else:
            result, _ = await call_body(run, task)
    except GraphInterrupt as exc:
        if record is not None:
            ended(run, record, "interrupted")
        if not getattr(exc, "recorded", False):
            await interrupted(run, task, exc)
            exc.recorded = True  # type: ignore[attr-defined]
        raise
    except BaseException as exc:
        if type(exc) is asyncio.CancelledError and _raised_by_body(task):
            failure = NodeCancelledError(node.name)  # (see task_failed)
            failed(run, task, record, failure, debug)
            raise failure from exc
        failed(run, task, record, exc, debug)
        if isinstance(exc, Exception):
            exc.add_note(f"During task with name '{node.name}' and id '{task.id}'")
        raise
    finally:
        if run.open_calls is not None:
            run.open_calls.discard(current)  # type: ignore[arg-type]
        # a failed call's traceback holds this frame: not the asyncio task (which may
        # end up holding the error too: a cycle)
        current = None
    if record is not None:
        ended(run, record, "ok", result)
    if run.modes and "messages" in run.modes:
        run.messages.node_end(task, result)
    if entry is not None:
        await _caching.store(run, task, entry, [("__return__", result)])
    if run.cp is not None:
        await run.cp.save_writes(task.base, task, [("__return__", result)])
    if run.modes:
        if "updates" in run.modes:
            run.emit("updates", {node.name: result})
        if debug:
            emit_task_result(run, task, None, {"__return__": result})
    return result


async def interrupted(run: Run, task: Task, exc: GraphInterrupt) -> None:
    """Record a task's ``interrupt()``: the run stops after this step, unapplied."""
    interrupts = list(exc.args[0]) if exc.args else []
    if getattr(exc, "recorded", False):
        return
    if not interrupts:  # a subgraph stopped at one of its breakpoints: this run stops
        run.paused = True  # after the step too; rerun, the task carries it on
        return
    if not run.interrupts:
        run.interrupts = []
    run.interrupts.extend(interrupts)  # type: ignore[union-attr]
    # streamed as it happens, with the state the step started from (as LangGraph)
    if "updates" in run.modes:
        run.emit("updates", {INTERRUPT: tuple(interrupts)})
    if "values" in run.modes:
        out = run.read_output()
        run.emit("values", {**out, INTERRUPT: tuple(interrupts)} if isinstance(out, dict) else out)
    if run.cp is not None:
        answered = len(run.resumes.get(task.id, ()))
        if task.id == run.null_resume_taker:
            # it answered an earlier question with the answer nobody was waiting
            # for: saved as its own, so its open question is counted right
            await run.cp.save_resume(task.base, task.id, list(run.resumes[task.id]))
        # (an item's third member, when there is one: the answer's JSON Schema)
        items = [(i.id, i.value) if i.response_schema is None else (i.id, i.value, i.response_schema)
                 for i in interrupts]
        value = {"round": answered, "items": items}
        await run.cp.save_writes(task.base, task, [("__interrupt__", value)], 1000 + answered)


async def call_body(run: Run, task: Task) -> tuple[Any, list[tuple[str, Any]] | None]:
    """A node body through the executor, under ``max_concurrency`` when set: what
    it returned and, for a node with conditional edges, its writes with its routes,
    worked out with the body (see attempt_once); else None."""
    if run.semaphore is not None:
        async with run.semaphore:
            return await _call_body(run, task)
    return await _call_body(run, task)


async def _call_body(run: Run, task: Task) -> tuple[Any, list[tuple[str, Any]] | None]:
    """:func:`call_body` past the run's concurrency limit: a subgraph's run, or the
    body's attempts under its timeout and retry policy."""
    node = task.node
    if node.subgraph is not None:
        if node.timeout is not None:
            return await timed(node.name, node.timeout, lambda: call_subgraph(run, task)), None
        return await call_subgraph(run, task), None
    fn = node.fn
    assert fn is not None  # only START has no body, and it never gets here
    def attempt() -> Coroutine[Any, Any, tuple[Any, list[tuple[str, Any]] | None]]:
        # (per attempt: a runtime's execution_info counts them)
        kwargs = inject(run, task, fn.inject) if fn.inject else None
        if node.error_param is not None:  # an error handler: the failure it handles
            kwargs = {**(kwargs or {}), node.error_param: task.failure}
        if node.timeout is not None:  # each attempt timed, the retry policy around them
            return timed(node.name, node.timeout, lambda: attempt_once(run, task, fn, kwargs))
        return attempt_once(run, task, fn, kwargs)

    if not node.retry_policy:
        return await attempt()
    return await _executor.with_retry(task, node.retry_policy, attempt)


async def attempt_once(
    run: Run, task: Task, fn: UserFn, kwargs: dict[str, Any] | None
) -> tuple[Any, list[tuple[str, Any]] | None]:
    """One try of a body and, with conditional edges, its routing: as in LangGraph,
    a task is both, so a retry policy reruns the body when its routing fails, and
    a plain body's plain path functions run in its thread, right after it."""
    if not task.node.branches:
        return await _executor.call(run, task, fn, kwargs), None
    if task.node.sync_routes:
        return await _executor.call(run, task, fn, kwargs, then=functools.partial(routed, run, task))
    result = await _executor.call(run, task, fn, kwargs)
    return result, await routed_writes(run, task, result)


async def routed_writes(run: Run, task: Task, result: Any) -> list[tuple[str, Any]]:
    """A task's writes: what its body returned, its static writes, its routes (each
    path function run by :func:`executor.call_path`)."""
    node, graph = task.node, run.graph
    writes = own_writes(run, task, result)
    try:
        for branch in node.branches:
            state = fresh_state(run, branch, writes, result)
            path = branch.fn
            out = await _executor.call_path(
                run, task, path, state, inject(run, task, path.inject) if path.inject else None
            )
            writes.extend(route(graph, node, branch, out))
    except GraphInterrupt:
        task.writes = writes  # (see Run._show_interrupted)
        raise
    return writes


def own_writes(run: Run, task: Task, result: Any) -> list[tuple[str, Any]]:
    """What a task's body returned, as writes, and its node's static writes."""
    node = task.node
    writes = result_writes(run.graph, node, result)
    if node.static_writes:
        writes.extend(node.static_writes)
    return writes


def routed(run: Run, task: Task, result: Any) -> tuple[Any, list[tuple[str, Any]]]:
    """:func:`routed_writes` for plain path functions, called where the body ran (see
    attempt_once): ``(result, writes)``."""
    node, graph = task.node, run.graph
    writes = own_writes(run, task, result)
    try:
        for branch in node.branches:
            state = fresh_state(run, branch, writes, result)
            path = branch.fn
            out = path.fn(state, **inject(run, task, path.inject)) if path.inject else path.fn(state)
            if type(out) is not str and asyncio.iscoroutine(out):  # a plain callable's coroutine
                out = asyncio.run(out)  # (no loop runs here: see executor.hide_loop)
            writes.extend(route(graph, node, branch, out))
    except GraphInterrupt:
        task.writes = writes  # (see Run._show_interrupted)
        raise
    return result, writes


async def call_subgraph(run: Run, task: Task) -> Any:
    """A subgraph node's task: the subgraph's own run (``child``), under the node's
    namespace and, in a checkpointed run, in the same thread; its interrupts and
    breakpoints pause this run, and a resumed one carries on from its checkpoints."""
    sub = task.node.subgraph
    ns = run.ns + (subgraph_ns(task),)
    config = dict(run.config)
    conf = dict(config.get("configurable") or {})
    conf["checkpoint_ns"] = "|".join(ns)
    config["configurable"] = conf
    child = type(run)(
        sub,
        config,
        modes=run.modes if run.subgraphs else frozenset(),
        sink=run.sink if run.subgraphs else None,
        ns=ns,
        subgraphs=run.subgraphs,
        sync=run.sync,
        runtime=run.runtime,
        timeline=run.timeline,
    )
    # a subgraph run by one of several tasks of a step runs its sync bodies in
    # threads too: inline, they would block the loop and so its siblings
    child.inline = child.inline and run.inline
    if run.subgraphs:
        child.pace = run.pace
    sub_input = task.input
    if run.cp is not None:
        # a checkpointed parent checkpoints its subgraphs too, under their own
        # namespace (derived from this task's id, so a rerun finds them)
        from .persistence import Checkpointing

        child.checkpoint_with(Checkpointing(run.cp.saver, run.cp.thread_id, conf["checkpoint_ns"], run.cp.durability))
        child.cp.parents = {**run.cp.parents, "|".join(run.ns): task.base}
        # its own compile-time breakpoints (interrupt_before/after) hold inside it
        for when, names in (("before", sub.interrupt_before_nodes), ("after", sub.interrupt_after_nodes)):
            setattr(child, f"interrupt_{when}", "*" if names == "*" else frozenset(names or ()))
        # A rerun of this task (its step resumed after an interrupt, an error or a
        # crash) finds the subgraph's checkpoints under that namespace: as LangGraph,
        # the subgraph carries on from them, with the answer if there is one, rather
        # than start over from its input (see Run._begin)
        answers = run.resumes.get(task.id)
        if answers:
            child.nested = Command(resume=answers[-1])
        elif sub.checkpointer is True:
            # compiled with checkpointer=True: one thread for all its runs in this
            # thread (namespace: the node's name). A new step's run takes the input
            # on top of what it kept (LangGraph's subgraph memory); a rerun of this
            # step's (its checkpoints name this step's parent checkpoint) carries on
            latest = await child.cp.saver.aget(child.cp.thread_id, child.cp.ns, None)
            here = "|".join(run.ns)
            rerun = latest is not None and (latest.metadata.get("parents") or {}).get(here) == task.base
            child.nested = rerun
        else:
            child.nested = True
        if not answers and run.null_resume and run.null_resume_at in (None, task.base):
            # as LangGraph: an interrupt() in the subgraph may take the answer
            # nobody was waiting for (shared: only one interrupt() gets it)
            child.null_resume, child.null_resume_at = run.null_resume, None
    child.parent = task
    if run.subgraphs and "messages" in run.modes:
        child.messages = run.messages.child(ns)
    try:
        out = await child.execute(sub_input)
    except ParentCommand as pc:
        cmd = pc.args[0]
        return Command(update=cmd.update, goto=cmd.goto, resume=cmd.resume)
    if child.interrupts or child.paused:
        raise GraphInterrupt(list(child.interrupts))
    return out


def inject(run: Run, task: Task, names: tuple[str, ...]) -> dict[str, Any]:
    """The keyword arguments a body asks for by name (``config``, ``writer``,
    ``runtime``, ``store``, ``previous``; see ``callables.INJECTABLE``)."""
    out: dict[str, Any] = {}
    for name in names:
        if name == "config":
            out["config"] = task_config(task)
        elif name == "writer":
            out["writer"] = run.writer
        elif name == "runtime":
            out["runtime"] = get_runtime(run, task)
        elif name == "store":
            out["store"] = run.owner.store
        elif name == "previous":
            out["previous"] = run.previous
    return out


def get_runtime(run: Run, task: Task | None = None) -> Any:
    """The run's ``Runtime``; for ``task``, one with its ``execution_info``."""
    rt = run.shared_runtime
    if rt is None:  # once per run: its writer and store don't change
        rt = run.runtime
        if rt is None:
            rt = Runtime(context=None, store=run.owner.store, stream_writer=run.writer)
        elif rt.stream_writer is not run.writer:
            rt = rt.override(stream_writer=run.writer, store=rt.store or run.owner.store)
        run.shared_runtime = rt
    if task is None:
        return rt
    attempt = getattr(task, "attempt", None) or (1, time.time())  # (see executor.with_retry)
    return NodeRuntime.of(rt, functools.partial(execution_info, run, task, attempt))


def execution_info(run: Run, task: Task, attempt: tuple[int, float]) -> ExecutionInfo:
    """``runtime.execution_info`` for ``task``'s attempt ``(number, first's start)``."""
    config = run.config
    return ExecutionInfo(
        task.base or run.run_key, task_ns(task), task.id,
        _str_or_none((config.get("configurable") or {}).get("thread_id")),
        _str_or_none(config.get("run_id")), attempt[0], attempt[1],
    )


def note_task(exc: BaseException, task: Task) -> None:
    """Name the failed task on its error, as LangGraph does (not on a Command bubbling
    up to the parent graph, nor on a cancellation)."""
    if isinstance(exc, Exception) and not isinstance(exc, ParentCommand):
        try:
            exc.add_note(f"During task with name '{task.node.name}' and id '{task.id}'")
        except Exception:
            pass


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _handled(task: Task, exc: BaseException) -> bool:
    """Whether an error handler takes ``task``'s failure: an exception, not control flow
    (an interrupt, a Command for the parent graph) nor a cancellation from outside."""
    if isinstance(exc, GraphBubbleUp):
        return False
    if type(exc) is asyncio.CancelledError:
        return _raised_by_body(task)
    return isinstance(exc, Exception)


def _raised_by_body(task: Task) -> bool:
    """Whether a ``CancelledError`` out of ``task``'s body came from the body itself,
    not from the engine cancelling the task (a sibling failed) or the caller cancelling
    the run: when nothing is cancelling the asyncio task running it (Python 3.11+'s
    ``Task.cancelling``). On 3.10, which can't tell, only a plain body's is taken for
    its own (as LangGraph's sync path takes every one)."""
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    if cancelling is not None:
        return cancelling() == 0  # type: ignore[no-any-return]
    fn = task.node.fn
    return fn is not None and not fn.is_async and task.node.subgraph is None


def _return_writes(result: Any) -> list[tuple[str, Any]]:
    """An entrypoint's return value: the run's output, and what ``previous`` sees next time."""
    from .functional import final

    if isinstance(result, final):
        return [("__end__", result.value), ("__previous__", result.save)]
    return [("__end__", result), ("__previous__", result)]


def reported_output(node: CNode, result: Any, writes: list[tuple[str, Any]]) -> Any:
    """What a task's timeline entry keeps of its output: the dict its body returned when
    its writes are that dict's items and its edges' triggers (the usual case), else the
    writes (a report shows their state keys). The entry outlives the step, and a list
    of new (key, value) tuples is objects the garbage collector must count and walk
    while the run lasts, where the body's dict of plain values is none."""
    if (
        type(result) is dict and result and node.reports_dicts
        and len(writes) == len(result) + len(node.static_writes)
    ):
        return result
    return writes

