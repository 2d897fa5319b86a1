"""The driver: one run of a compiled graph, superstep after superstep.

``Run.execute`` is the whole loop, kept short on purpose: plan the step's tasks,
run them concurrently, apply their writes, emit what the caller streams, repeat.
The algorithm itself lives in :mod:`.algo` (pure functions); running one task (its
body, retries, error handler, writes) in :mod:`.bodies`, which submits bodies through
:mod:`.executor`; what a run streams about its tasks in :mod:`.events`. The sync API
drives this same coroutine through :mod:`.syncbridge`: there is one engine, not a
sync and an async twin.
A run with a cache (``compile(cache=...)``) asks :mod:`.caching` before each step and
each ``@task`` call; without one, that is a single ``is None`` check.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import os
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

from . import caching as _caching
from . import executor as _executor
from .algo import apply_writes, plan
from .bodies import (
    call_plain,
    ended,
    failed,
    inject,
    note_task,
    reported_output,
    run_task,
    task_failed,
)
from .compiled_types import CompiledGraph, Task, task_id
from .constants import END, INTERRUPT, MISSING, PULL, START
from .context import CURRENT_TASK, progress
from .errors import (
    EmptyInputError,
    ErrorCode,
    GraphInterrupt,
    GraphRecursionError,
    NodeCancelledError,
    ParentCommand,
    create_error_message,
)
from .events import emit_checkpoint, emit_task_start, replay_cached
from .executor import in_context, task_context
from .timeline import (
    LIVE_END,
    LIVE_IDENTITY,
    LIVE_NAME,
    LIVE_OUTCOME,
    LIVE_OUTPUT,
    LIVE_START,
    WIDTH,
    LiveTimeline,
    live_entry,
)
from .types import Command
from .writes import result_writes

DEFAULT_RECURSION_LIMIT = 10007  # LangGraph 1.x's default

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_NO_DEFERRED: frozenset[str] = frozenset()
_RUN_PREFIX = f"{os.getpid():x}-{os.urandom(4).hex()}-"
_run_counter = itertools.count()

Sink = Callable[[tuple[str, ...], str, Any], None]


class Run:
    """The mutable state of one run; the compiled graph is shared and never touched."""

    __slots__ = (
        "cache",
        "calls",
        "channels",
        "config",
        "cp",
        "deferred",
        "graph",
        "inline",
        "interrupt_after",
        "interrupt_before",
        "interrupts",
        "live_triggers",
        "loop",
        "messages",
        "modes",
        "nested",
        "ns",
        "null_resume",
        "null_resume_at",
        "null_resume_taker",
        "open_calls",
        "out_key_set",
        "out_keys",
        "output_touched",
        "owner",
        "pace",
        "parent",
        "paused",
        "pending_resume",
        "previous",
        "recursion_limit",
        "resumes",
        "run_key",
        "runtime",
        "saved",
        "semaphore",
        "shared_runtime",
        "sink",
        "starting",
        "step",
        "step_writes",
        "subgraphs",
        "sync",
        "timeline",
        "tl_mark",
        "unsaved",
        "values",
        "writer",
    )

    # set only on the runs that use them (unset slots cost the others nothing)
    messages: Any  # messages.RunMessages, in a run streaming "messages"
    parent: Any  # the task running this subgraph run

    def __init__(
        self,
        owner: Any,
        config: Mapping[str, Any],
        *,
        modes: frozenset[str] = frozenset(),
        sink: Sink | None = None,
        ns: tuple[str, ...] = (),
        subgraphs: bool = False,
        sync: bool = False,
        runtime: Any = None,
        timeline: LiveTimeline | None = None,
        out_keys: tuple[str, ...] | None = None,
    ) -> None:
        graph: CompiledGraph = owner.graph
        if out_keys is None:
            self.out_keys, self.out_key_set = graph.output_keys, graph.output_key_set
        else:
            self.out_keys, self.out_key_set = out_keys, frozenset(out_keys)
        self.owner = owner
        self.graph = graph
        protos = graph.channels
        # reducer keys get their channel now (they may start with a value: an empty
        # list...); join barriers and deferred triggers on first write (algo.channel);
        # plain keys and edge triggers never (see algo's docstring)
        self.channels = {k: protos[k].new() for k in graph.eager_keys}
        self.values = {k: ch.value for k, ch in self.channels.items() if ch.value is not MISSING}
        # edge triggers live in the last step, by name: only a checkpoint keeps them
        # (see checkpoint_with); a run without one has no set to keep up
        self.live_triggers: set[str] | None = None
        # most graphs have no defer=True node: their runs share one empty, immutable
        # set (apply_writes only adds a graph's deferred channels to it)
        self.deferred: set[str] = set() if graph.deferred_channels else _NO_DEFERRED  # type: ignore[assignment]
        self.config = config
        self.modes = modes
        self.sink = sink
        self.ns = ns
        self.subgraphs = subgraphs
        self.sync = sync
        self.inline = sync and not graph.functional
        self.loop: asyncio.AbstractEventLoop | None = None
        # Rarely used state starts as a shared empty value and gets its own container
        # on first write: thousands of live runs shouldn't each carry a dozen empty
        # dicts and sets for the garbage collector to walk.
        self.calls: dict[Any, int] | None = None  # Functional API: calls made, per caller
        self.open_calls: set[asyncio.Task[Any]] | None = None
        self.cp: Any = None  # persistence.Checkpointing when the run is checkpointed
        self.step_writes: dict[str, list[Any]] | None = None
        self.unsaved: list[Any] | tuple[()] = ()
        self.interrupts: list[Any] | tuple[()] = ()
        # a breakpoint stopped it, or a subgraph it ran stopped at one (no interrupt
        # values: LangGraph's "empty interrupt")
        self.paused = False
        self.interrupt_before: Any = ()
        self.interrupt_after: Any = ()
        self.resumes: Mapping[str, list[Any]] = _EMPTY
        self.saved: Mapping[str, list[tuple[str, Any]]] = _EMPTY
        self.pending_resume: list[tuple[str, list[Any]]] | tuple[()] = ()
        # An answer given while no interrupt was pending (interrupts.interrupt): [value]
        # until a task takes it; the checkpoint whose step may take it (None: any step,
        # in a subgraph called by a task of that step); the task that took it. Only
        # ever set on a resumed, checkpointed run.
        self.null_resume: list[Any] | tuple[()] = ()
        self.null_resume_at: str | None = None
        self.null_resume_taker: str | None = None
        # a graph invoked inside a checkpointed run's node (not as a node of it: see
        # compiled._new_run): checkpointed under that node's namespace, its interrupts
        # raised into the node; the answer it resumes with, when its parent resumes
        # a subgraph's or nested graph's run (see Run._begin, bodies.call_subgraph): True, or
        # Command(resume=...), carries on from its checkpoints; False starts afresh
        self.nested: Command | bool | None = None
        self.tl_mark = 0  # timeline entries already saved with a checkpoint
        self.starting: list[Any] | None = None  # Functional API calls waiting for the loop
        self.previous: Any = None
        self.cache = owner.cache  # a BaseCache from compile(cache=...); None: no caching
        self.run_key = str(config.get("run_id") or f"{_RUN_PREFIX}{next(_run_counter):x}")
        self.runtime = runtime
        self.shared_runtime: Any = None  # get_runtime's, made on first use
        self.timeline = timeline
        limit = config.get("max_concurrency")
        self.semaphore = asyncio.Semaphore(limit) if limit else None
        self.recursion_limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        self.step = 0
        self.output_touched = False
        # (a partial, not a bound method: the run holding its own method is a cycle)
        self.writer = partial(_write_custom, sink, ns) if "custom" in modes and sink else _no_op
        # streaming: waits until the consumer has taken what was streamed (see start_step)
        self.pace: Callable[[], Awaitable[None]] | None = None

    def checkpoint_with(self, cp: Any) -> None:
        """Make this run checkpointed through ``cp`` (a ``persistence.Checkpointing``),
        with what only a checkpointed run keeps: the step's state writes, the live
        edge triggers."""
        self.cp = cp
        self.step_writes = {}
        self.live_triggers = set()

    # --- streaming -------------------------------------------------------------------

    def emit(self, mode: str, chunk: Any) -> None:
        if mode in self.modes and self.sink is not None:
            self.sink(self.ns, mode, chunk)

    def read_output(self) -> Any:
        values = self.values
        out = {k: values[k] for k in self.out_keys if k in values}
        mapper = self.graph.output_mapper
        return out if mapper is None else mapper(out)

    # --- the loop --------------------------------------------------------------------

    async def execute(self, input: Any) -> Any:
        """Run until no task is left (or an interrupt) and return the output: the
        output keys' values, ``None`` if no step wrote one, plus ``__interrupt__``."""
        if self.recursion_limit < 1:
            raise ValueError("recursion_limit must be at least 1")
        nested = self.nested
        self.loop = asyncio.get_running_loop()
        timeline = self.timeline
        owns_timeline = timeline is not None and not timeline.start  # subgraphs share it
        if timeline is not None:
            if owns_timeline:
                timeline.start = time.perf_counter()
                timeline.wall_offset = time.time() - timeline.start
                timeline.worker = threading.current_thread().name
            self.tl_mark = len(timeline)
        cp = self.cp
        try:
            tasks, resumed = await self._begin(input)
            # LangGraph counts a resumed run's steps from its checkpoint's step + 1 to
            # that + the limit + 1: one step more than a run given input, whose input
            # checkpoint takes a step of its own
            stop = self.step + self.recursion_limit + (1 if resumed else 0)
            # fixed for the run: read once, not at every step
            graph, channels, values = self.graph, self.channels, self.values
            live, deferred, out_keys = self.live_triggers, self.deferred, self.out_key_set
            before, after = self.interrupt_before, self.interrupt_after
            stream_values = "values" in self.modes
            # nothing to stream or serve from a cache: a lone task needs none of start_step
            direct = not self.modes and self.cache is None
            # ... nor, unbounded, run_task's frame for a bare node (below)
            inline = direct and self.semaphore is None and _executor.AWAIT_INLINE
            while tasks:
                if before and self._breakpoint(tasks, "before", skip=resumed):
                    self._paused()
                    break
                resumed = False
                if direct and len(tasks) == 1 and not self.saved:
                    task = tasks[0]
                    task.base = self.run_key
                    node = task.node
                    fn = node.fn
                    if inline and node.bare and (fn is None or fn.is_async or self.inline):
                        # run_task's common case, here: one coroutine less per step
                        task.run = self
                        record = None
                        if timeline is not None and not node.hidden:
                            if cp is not None:
                                task.id  # noqa: B018 (its writes are saved by id: the timeline keeps it too)
                            record = task.record = live_entry(timeline, task, time.perf_counter())
                        try:
                            if fn is None:
                                result = task.input  # START forwards the input
                            else:
                                ctx = task_context(task)  # (see executor.task_context)
                                result = call_plain(self, task, fn, ctx)
                                # (a dict first: asyncio.iscoroutine asks an ABC)
                                if fn.is_async or (type(result) is not dict and asyncio.iscoroutine(result)):
                                    # its first step here (every lone step's path): a body
                                    # that doesn't wait needs no generator
                                    coro = result
                                    try:
                                        result = ctx.run(coro.send, None)
                                    except StopIteration as done:
                                        result = done.value
                                    else:
                                        # while it waits, the run holds no list of one task
                                        # (one object less per waiting run): made again below
                                        tasks = None  # type: ignore[assignment]
                                        result = await in_context(ctx, coro, result)
                            writes = result_writes(graph, node, result)
                        except BaseException as exc:
                            failure = await task_failed(self, task, record, exc, False)
                            if failure is exc:
                                failure = None  # (see bodies.run_task)
                                raise
                            if failure is not None:
                                try:
                                    raise failure from exc
                                finally:
                                    failure = None
                        else:  # (as _StepWaiter._finish, inlined: this is every lone step's path)
                            if node.static_writes:
                                writes.extend(node.static_writes)
                            task.writes = writes
                            task.done = True
                            if record is not None:
                                timeline[record + LIVE_END] = time.perf_counter()  # type: ignore[index]
                                timeline[record + LIVE_OUTCOME] = "ok"  # type: ignore[index]
                                timeline[record + LIVE_OUTPUT] = reported_output(node, result, writes)  # type: ignore[index]
                            if cp is not None:
                                await cp.save_writes(task.base, task, writes, last=True)
                        if tasks is None:
                            tasks = [task]
                    else:
                        await run_task(self, task, True)
                else:
                    # several tasks: started as asyncio tasks, then awaited here, so that
                    # no coroutine of the step's own is one more for each waiting run
                    waiter: _StepWaiter | None
                    if direct and not self.saved and self.pace is None:
                        waiter = self._launch_step(tasks, None)  # (start_step's common case)
                    else:
                        waiter = await self.start_step(tasks)
                    if waiter is not None:
                        try:
                            await waiter.done
                        except BaseException:
                            await self._end_step(waiter, interrupted=True)
                            raise
                        if waiter.failed is not None or waiter.paused:
                            await self._end_step(waiter)
                        self.inline = waiter.was_inline
                        waiter = None
                if self.interrupts or self.paused:
                    self._show_interrupted(tasks)
                    if not self.interrupts:  # only a subgraph's breakpoint: shown after
                        self._paused()
                    break
                updated, sends, touched = apply_writes(
                    graph, channels, tasks, values, live, deferred, out_keys, self.step_writes
                )
                if touched:
                    self.output_touched = True
                    if stream_values:
                        self.emit("values", self.read_output())
                if cp is not None:
                    ran = [tasks[0].name] if len(tasks) == 1 else sorted({t.name for t in tasks})
                    await self._save("loop", self.step, sends, ran=ran, tl=self._step_timeline())
                self.step += 1
                if after and self._breakpoint(tasks, "after"):
                    self._paused()
                    break
                if self.step > stop:  # LangGraph checks before planning: a finished run can trip it
                    raise GraphRecursionError(
                        create_error_message(
                            message=f"Recursion limit of {self.recursion_limit} reached without "
                            "hitting a stop condition. You can increase the limit by setting the "
                            "`recursion_limit` config key.",
                            error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                        )
                    )
                tasks = self._plan(updated, sends) if (updated or sends) else []
                # not kept alive while the next step runs
                updated = sends = writes = result = record = task = node = fn = ctx = coro = None  # type: ignore[assignment]
                if cp is not None:
                    emit_checkpoint(self, tasks)
        except ParentCommand as pc:
            # for the graph whose node ran this one: that node's task takes it (see
            # bodies.run_task; a subgraph node's, in bodies.call_subgraph)
            pc.task = getattr(self, "parent", None)  # type: ignore[attr-defined]
            raise
        finally:
            if cp is not None:
                await cp.finish(self, self.unsaved)
            if owns_timeline:
                self.timeline.end = time.perf_counter()  # type: ignore[union-attr]
        if (self.interrupts or self.paused) and nested is not None:
            # into its node, as a subgraph's (an empty one: it stopped at a breakpoint)
            raise GraphInterrupt(list(self.interrupts))
        out = self.read_output() if self.output_touched else None
        if self.interrupts:
            out = dict(out or {}) if not isinstance(out, dict) else out
            if isinstance(out, dict):
                out[INTERRUPT] = list(self.interrupts)
        return out

    def _plan(self, updated: Any, sends: list[Any]) -> list[Task]:
        tasks = plan(self.graph, self.channels, updated, sends, self.values, self.step)
        if self.cp is not None and self.cp.current is not None:
            self.run_key = self.cp.current.checkpoint_id
        return tasks

    async def _begin(self, input: Any) -> tuple[list[Task], bool]:
        """The first step's tasks: START with the input, or the tasks pending at the
        restored checkpoint (``None`` or ``Command(resume=...)`` as input)."""
        restored = checkpoint_id = None
        if self.cp is not None:  # persistence (and its serializer) loads only for checkpointed runs
            from .restore import restore_into

            # (a subgraph's or nested graph's run always carries on from its namespace's
            # latest: a checkpoint_id in its config is its parent's, for time travel)
            checkpoint_id = self.config.get("configurable", {}).get("checkpoint_id") if self.nested is None else None
            restored = await self.cp.load(checkpoint_id)
            if restored is not None:
                restore_into(self, restored)
                if self.nested is True or isinstance(self.nested, Command):
                    # a subgraph, or a graph invoked inside a node, that runs again (its
                    # namespace names the node's task): it carries on from where it was,
                    # with the answer to its interrupt if the node got one, as LangGraph's
                    input = None if self.nested is True else self.nested
        if input is None or (isinstance(input, Command) and input.resume is not None and input.update is None and not input.goto):
            if restored is None and isinstance(input, Command):
                input = None  # LangGraph runs a fresh thread from START with no input
                return await self._start(None), False
            if restored is None:
                raise EmptyInputError("Received no input for __start__")
            if checkpoint_id and input is None:
                await self._fork(restored)
            from .restore import interrupts_of, resume_plan

            asked = {tid: interrupts_of(w, len(self.resumes.get(tid, ()))) for tid, w in self.saved.items()}
            tasks = resume_plan(self, restored, input)
            for tid, values in self.pending_resume:
                await self.cp.save_resume(self.run_key, tid, values)
            # a resumed run starts from the state it resumes: callers see it first
            self.output_touched = True
            if "values" in self.modes:
                self.emit("values", self.read_output())
            emit_checkpoint(self, tasks, restored=True, asked=asked)
            return tasks, True
        return await self._start(input, restored), False

    async def _start(self, input: Any, restored: Any = None) -> list[Task]:
        """The first step of a run given input: START forwards it into the state."""
        start = self.graph.nodes[START]
        if self.cp is not None:
            self.step = restored.record.step + 1 if restored is not None else -1
            await self._save("input", self.step, [], start=input)
            self.step += 1
            self.run_key = self.cp.current.checkpoint_id  # type: ignore[union-attr]
        tasks = [Task(start, PULL, START, input, (START,), self.step)]
        if self.cp is not None:
            emit_checkpoint(self, tasks)
        return tasks

    async def _fork(self, restored: Any) -> None:
        """Replaying from a chosen checkpoint (time travel): as LangGraph, branch off
        it with a "fork" checkpoint and run its next step afresh, ignoring what an
        earlier run of that step left behind. An ``update_state`` checkpoint (or a
        fork) that is still the thread's latest is already a branch of its own: the
        run goes on from it, with no fork (LangGraph's rule too)."""
        from types import MappingProxyType

        self.saved = self.resumes = MappingProxyType({})
        self.null_resume = ()
        cp = self.cp
        if restored.record.metadata.get("source") in ("update", "fork"):
            latest = await cp.saver.aget(cp.thread_id, cp.ns, None)  # type: ignore[union-attr]
            if latest is not None and latest.checkpoint_id == restored.record.checkpoint_id:
                return
        record = self.cp.make_record(  # type: ignore[union-attr]
            self, source="fork", step=restored.record.step + 1, by_channel={},
            sends=restored.sends, ran=restored.ran,
        )
        if self.cp.durability == "exit":  # type: ignore[union-attr]
            self.unsaved = [record]
        else:
            await self.cp.save(record)  # type: ignore[union-attr]
        self.step = record.step + 1
        self.run_key = record.checkpoint_id

    async def _save(self, source: str, step: int, sends: list[Any], **kw: Any) -> None:
        cp = self.cp
        record = cp.make_record(  # type: ignore[union-attr]
            self, source=source, step=step, by_channel=self.step_writes if source == "loop" else None,
            sends=sends, **kw,
        )
        if self.step_writes is not None:
            self.step_writes.clear()
        if cp.durability == "exit":  # type: ignore[union-attr]
            if not self.unsaved:
                self.unsaved = []
            self.unsaved.append(record)  # type: ignore[union-attr]
        else:
            await cp.save(record)  # type: ignore[union-attr]

    def _breakpoint(self, tasks: list[Task], when: str, skip: bool = False) -> bool:
        names = self.interrupt_before if when == "before" else self.interrupt_after
        if not names or skip or self.cp is None:
            return False
        hit = any(t.node.name in names or names == "*" for t in tasks if not t.node.hidden)
        return hit

    def _step_timeline(self) -> list[list[Any]] | None:
        """The timings of the tasks run since the last checkpoint, to be saved with the
        checkpoint: [name, task id, step, start, end, outcome], times in wall-clock
        microseconds (ints: a float's shortest repr costs more to write than the rest)."""
        live = self.timeline
        if live is None:
            return None
        mark, self.tl_mark = self.tl_mark, len(live)
        offset = live.wall_offset
        out = []
        for at in range(mark, len(live), WIDTH):
            e = live[at:at + WIDTH]
            step, kind, key, base, _ns, _input, known = e[LIVE_IDENTITY]
            end = e[LIVE_END]
            out.append([
                e[LIVE_NAME], known or task_id(base, step, kind, key), step,
                round((e[LIVE_START] + offset) * 1e6),
                None if end is None else round((end + offset) * 1e6), e[LIVE_OUTCOME],
            ])
        return out

    def _paused(self) -> None:
        """A static breakpoint stopped the run (LangGraph streams an empty interrupt)."""
        self.paused = True
        if "updates" in self.modes:
            self.emit("updates", {INTERRUPT: ()})

    def _show_interrupted(self, tasks: list[Task]) -> None:
        """A step cut short by ``interrupt()``: the checkpoint keeps it pending; the
        caller sees the state with the finished tasks' writes, plus the interrupts.

        As in LangGraph, a task whose routing function interrupted shows its body's
        writes here too (held on ``task.writes``, the task not done): the caller sees
        them, the checkpoint doesn't, and the task reruns, body first, on resume."""
        done = [t for t in tasks if t.done or t.writes]
        self.output_touched = True
        if done:
            _, _, touched = apply_writes(
                self.graph, self.channels, done, self.values, set(), set(), self.out_key_set, None
            )
            if touched and "values" in self.modes:
                self.emit("values", self.read_output())

    async def start_step(self, tasks: list[Task]) -> _StepWaiter | None:
        """Start one superstep's tasks, to run concurrently: the waiter the step awaits
        (see Run.execute: the first failure cancels the rest), or None when there is
        nothing left to wait for (every task replayed or served from the cache, or the
        one left run here)."""
        key = self.run_key
        for task in tasks:
            task.run = self
            task.base = key
        started = False
        if self.saved:
            cached = [t for t in tasks if t.done]
            if cached and self.modes:
                replay_cached(self, tasks, cached)
                started = True
            tasks = [t for t in tasks if not t.done]
            if not tasks:
                return None
        if self.modes and not started and ("tasks" in self.modes or "debug" in self.modes):
            for task in tasks:
                if not task.node.hidden:
                    emit_task_start(self, task)
        if self.pace is not None:
            # a stream is lazy, as LangGraph's: a step's bodies run once the consumer has
            # taken every chunk before them, so side effects follow those chunks and a
            # consumer that stops early stops the run
            await self.pace()
        run_one: Callable[[Task, bool], Any] | None = None  # None: bodies.run_task
        if self.cache is not None:  # after the starts: LangGraph shows hits started
            tasks, run_one = await _caching.serve_step(self, tasks)
            if not tasks:
                return None
        if len(tasks) == 1:
            await (run_one(tasks[0], True) if run_one is not None else run_task(self, tasks[0], True))  # alone in its step
            return None
        return self._launch_step(tasks, run_one)

    def _launch_step(self, tasks: list[Task], run_one: Callable[[Task, bool], Any] | None) -> _StepWaiter:
        """Start a step's tasks (two or more), each as an asyncio task; return the
        waiter whose ``done`` future the step awaits (Run.execute), then hands to
        :meth:`_end_step` if a task failed or interrupted or the step was cancelled."""
        # no sync body may block the loop while its siblings run (nor one of a subgraph
        # that a sibling runs: see bodies.call_subgraph)
        loop = asyncio.get_running_loop()
        waiter = _StepWaiter(self, loop, tasks)
        waiter.was_inline, self.inline = self.inline, False
        # the waiter's calls run in the thread's one empty context (add_done_callback
        # would otherwise copy the current one for every task), a direct body's in its
        # own: the waiter finds the task there (see _StepWaiter.__call__)
        calls = _callbacks_context()
        # A bare async body (see CNode.bare) in a run with nothing to stream or save
        # runs as its own asyncio task, finished by the waiter's callback: no run_task
        # coroutine wrapped around it, whose frame every waiting run would hold
        direct = run_one is None and self.cp is None and not self.modes and (
            self.semaphore is None and _executor.AWAIT_INLINE
        )
        timeline = self.timeline
        key = self.run_key
        for t in tasks:
            t.run, t.base = self, key  # (start_step set them already; Run.execute not)
            node = t.node
            fn = node.fn
            fut = None
            if direct and node.bare and fn is not None and fn.is_async:
                ctx = task_context(t)
                try:
                    coro = fn.fn(t.input, **inject(self, t, fn.inject)) if fn.inject else fn.fn(t.input)
                except Exception:  # bad arguments: run_task calls it again and reports it
                    pass
                else:
                    if timeline is not None and not node.hidden:
                        t.record = live_entry(timeline, t, time.perf_counter())
                    fut = t.fut = loop.create_task(coro, context=ctx)
                    fut.add_done_callback(waiter, context=ctx)
                    continue
            fut = t.fut = loop.create_task(run_task(self, t, False) if run_one is None else run_one(t, False))
            fut.add_done_callback(waiter, context=calls)
        return waiter

    async def _end_step(self, waiter: _StepWaiter, interrupted: bool = False) -> None:
        """A step whose task failed or interrupted, or that was cancelled
        (``interrupted``: the caller re-raises that): stop what still runs, note the
        interrupts, raise the first failure."""
        waiter.stopping = True
        # (a direct body's task is done once its ``fut`` is cleared: see _StepWaiter)
        running = [  # (no fut: not started)
            (t, f) for t in waiter.tasks if (f := getattr(t, "fut", None)) is not None and not f.done()
        ]
        if interrupted:
            for _, fut in running:
                fut.cancel()
        try:
            if waiter.failed or waiter.done.cancelled():
                # Under the sync API a plain body already running in a worker thread
                # can't be stopped, nor a subgraph (LangGraph runs both in threads): as
                # LangGraph, the step waits for them and keeps (saves) their writes, so
                # resuming doesn't run them again. The rest stop.
                keep = waiter.failed is not None and self.sync
                pending = [(t, f) for t, f in running if not f.done()]
                for t, fut in pending:
                    if not (keep and _runs_in_a_thread(t)):
                        fut.cancel()
                if pending:
                    await asyncio.wait([f for _, f in pending])
        finally:
            self.inline = waiter.was_inline
        for t in waiter.tasks:  # done: their asyncio tasks hold the errors (no cycles)
            t.fut = None
        if interrupted:
            return
        for t, exc in waiter.paused:  # a direct body's GraphInterrupt, as run_task notes it
            await task_failed(self, t, t.record, exc, False)
        failure, waiter.failed = waiter.failed, None
        if failure is not None:
            try:
                raise failure
            finally:  # (see bodies.run_task: the frames in its traceback must not hold it)
                failure = None


    # --- stream payloads -------------------------------------------------------------


class _StepWaiter:
    """Wakes the step when every task is done or the first one fails: called with each
    task's future as it finishes (one object, not a closure and its cells: a step of a
    few tasks is the common case). Not itself the future the step awaits: a Python
    subclass of asyncio's C future costs more to make and to walk than it saves.

    It also finishes the tasks that ran a node body directly (see ``Run._launch_step``),
    as ``run_task`` finishes the others: their writes, their timeline entry, the note
    naming a failed task."""

    __slots__ = ("done", "failed", "paused", "remaining", "run", "stopping", "tasks", "was_inline")

    def __init__(self, run: Run, loop: asyncio.AbstractEventLoop, tasks: list[Task]) -> None:
        self.run = run
        self.done: asyncio.Future[None] = loop.create_future()
        self.tasks = tasks  # those it waits for, each with its asyncio task (Task.fut)
        self.remaining = len(tasks)
        self.failed: BaseException | None = None
        self.paused: list[tuple[Task, GraphInterrupt]] | tuple[()] = ()  # a list once one is
        self.stopping = False  # the step cancels what still runs: a cancelled body is not a failure
        self.was_inline = False  # the run's ``inline`` before the step (see Run._launch_step)

    def __call__(self, fut: asyncio.Task[Any]) -> None:
        self.remaining -= 1
        # a task whose body its asyncio task runs directly: called in the body's context,
        # where that task is the current one (run_task's are called in an empty one)
        task = CURRENT_TASK.get()
        if task is not None:
            task.fut = None  # (no cycle left: task -> its asyncio task -> context -> task)
            exc = self._finish(task, fut)
        # ``exception()`` is asked of every task, not only until the first failure: it
        # marks the error retrieved, else asyncio logs "Task exception was never
        # retrieved" for each later failure of the step (only the first is raised)
        elif fut.cancelled():
            exc = None
        else:
            exc = fut.exception()
        if exc is not None and self.failed is None:
            self.failed = exc
        if (self.failed is not None or self.remaining == 0) and not self.done.done():
            self.done.set_result(None)
        # a failed body's traceback may hold this frame (as _finish's caller): no cycle
        # through the error, nor through the asyncio task holding it
        exc = fut = None  # type: ignore[assignment]

    def _finish(self, task: Task, fut: asyncio.Task[Any]) -> BaseException | None:
        """A direct body ended: its writes, or the error the step fails with."""
        record = task.record
        node = task.node
        try:
            result = fut.result()
            writes = result_writes(self.run.graph, node, result)
        except GraphInterrupt as exc:  # (no checkpointer: only a nested run's can come)
            fut = None  # type: ignore[assignment]  # (this frame is in exc's traceback: see __call__)
            self.paused = [*self.paused, (task, exc)]
            return None
        except BaseException as exc:  # the run has no checkpointer: nothing to save
            fut = None  # type: ignore[assignment]  # (as above)
            if isinstance(exc, asyncio.CancelledError):
                if self.stopping:
                    failed(self.run, task, record, exc, False)
                    return None
                exc = NodeCancelledError(node.name)  # the body raised it (see bodies.task_failed)
                failed(self.run, task, record, exc, False)
                return exc
            failed(self.run, task, record, exc, False)
            note_task(exc, task)
            return exc
        static = node.static_writes
        if static:
            writes.extend(static)
        task.writes = writes
        task.done = True
        if record is not None:
            ended(self.run, record, "ok", reported_output(node, result, writes))
        return None


_threads = threading.local()


def _callbacks_context() -> contextvars.Context:
    """An empty context for the engine's own done-callbacks (they read no context
    variable), one per thread: a context can't be entered twice at once, and each
    thread's loop runs its callbacks one at a time."""
    try:
        return _threads.callbacks  # type: ignore[no-any-return]
    except AttributeError:
        ctx = _threads.callbacks = contextvars.Context()
        return ctx


def _runs_in_a_thread(task: Task) -> bool:
    """Whether LangGraph's sync API runs ``task``, one of several in its step, in a
    thread it can't stop: a plain body (swiftgraph's too) or a subgraph."""
    fn = task.node.fn
    return task.node.subgraph is not None or (fn is not None and not fn.is_async)


def _write_custom(sink: Sink, ns: tuple[str, ...], chunk: Any) -> None:
    """A run's ``get_stream_writer()`` when it streams "custom" (bound with partial)."""
    progress()  # (for a timed attempt: see timeouts.py)
    sink(ns, "custom", chunk)


def _no_op(_chunk: Any) -> None:
    """The stream writer when ``custom`` isn't streamed: a write still counts as a
    timed attempt's progress."""
    progress()


__all__ = ["DEFAULT_RECURSION_LIMIT", "END", "Run"]
