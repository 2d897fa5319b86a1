"""The driver: one run of a compiled graph, superstep after superstep.

``Run.execute`` is the whole loop, kept short on purpose: plan the step's tasks,
run them concurrently, apply their writes, emit what the caller streams, repeat.
The algorithm itself lives in :mod:`.algo` (pure functions), node bodies are
submitted through :mod:`.executor`, and the sync API drives this same coroutine
through :mod:`.syncbridge`: there is one engine, not a sync and an async twin.
A run with a cache (``compile(cache=...)``) asks :mod:`.caching` before each step and
each ``@task`` call; without one, that is a single ``is None`` check.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import caching as _caching
from . import executor as _executor
from .algo import apply_writes, plan
from .compiled_types import CNode, CompiledGraph, Task, task_id
from .constants import END, INTERRUPT, MISSING, PULL, PUSH, START
from .context import CURRENT_TASK, progress
from .errors import (
    EmptyInputError,
    ErrorCode,
    GraphBubbleUp,
    GraphInterrupt,
    GraphRecursionError,
    NodeCancelledError,
    ParentCommand,
    create_error_message,
)
from .executor import hide_loop, in_context, task_context
from .runtime import ExecutionInfo, NodeRuntime, Runtime
from .timeline import (
    LIVE_END,
    LIVE_ERROR,
    LIVE_IDENTITY,
    LIVE_NAME,
    LIVE_OUTCOME,
    LIVE_OUTPUT,
    LIVE_START,
    WIDTH,
    LiveTimeline,
    live_entry,
)
from .timeouts import timed
from .types import Command
from .writes import fresh_state, result_writes, route

if TYPE_CHECKING:
    from .callables import UserFn

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
        # a subgraph's or nested graph's run (see Run._begin, _call_subgraph): True, or
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
        self.writer = self._custom_writer if "custom" in modes and sink is not None else _no_op
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

    def _custom_writer(self, chunk: Any) -> None:
        progress()  # (for a timed attempt: see timeouts.py)
        self.sink(self.ns, "custom", chunk)  # type: ignore[misc]

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
                                result = self._call_plain(task, fn, ctx)
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
                            failure = await self._task_failed(task, record, exc, False)
                            if failure is exc:
                                raise
                            if failure is not None:
                                raise failure from exc
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
                        await self.run_task(task, True)
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
                    self._emit_checkpoint(tasks)
        except ParentCommand as pc:
            # for the graph whose node ran this one: that node's task takes it (see
            # run_task; a subgraph node's, in _call_subgraph)
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
            from .persistence import restore_into

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
            from .persistence import interrupts_of, resume_plan

            asked = {tid: interrupts_of(w, len(self.resumes.get(tid, ()))) for tid, w in self.saved.items()}
            tasks = resume_plan(self, restored, input)
            for tid, values in self.pending_resume:
                await self.cp.save_resume(self.run_key, tid, values)
            # a resumed run starts from the state it resumes: callers see it first
            self.output_touched = True
            if "values" in self.modes:
                self.emit("values", self.read_output())
            self._emit_checkpoint(tasks, restored=True, asked=asked)
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
            self._emit_checkpoint(tasks)
        return tasks

    def _emit_checkpoint(
        self, tasks: list[Task], restored: bool = False, asked: dict[str, list[Any]] | None = None
    ) -> None:
        """The ``checkpoints`` stream (and ``debug``'s checkpoint events): the saved
        checkpoint with the tasks it leads to, as LangGraph shapes it."""
        modes = self.modes
        if not modes or ("checkpoints" not in modes and "debug" not in modes):
            return
        record = self.cp.current  # type: ignore[union-attr]
        key = self.run_key
        for task in tasks:
            task.run, task.base = self, key

        ns, parents = record.checkpoint_ns, self.cp.parents  # type: ignore[union-attr]

        def conf(cid: str | None) -> dict[str, Any] | None:
            if cid is None:
                return None
            c: dict[str, Any] = {"checkpoint_ns": ns, "thread_id": record.thread_id}
            if parents:  # a subgraph's: the checkpoint of each enclosing namespace
                c["checkpoint_map"] = {**parents, ns: cid}
            c["checkpoint_id"] = cid
            return {"configurable": c}

        parent = conf(record.parent_id)
        if restored and parent is not None:  # read back from the saver: LangGraph's key order
            c = parent["configurable"]
            c = {k: c[k] for k in ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map") if k in c}
            parent = {"configurable": c}
        payload = {
            "config": conf(record.checkpoint_id),
            "parent_config": parent,
            "values": self.read_output(),
            "metadata": dict(record.metadata),
            "next": [t.name for t in tasks],
            "tasks": [self._checkpoint_task(t, asked) for t in tasks],
        }
        self.emit("checkpoints", payload)
        if "debug" in modes:
            from datetime import datetime, timezone

            self.emit("debug", {"step": record.step, "timestamp": datetime.now(timezone.utc).isoformat(),
                                "type": "checkpoint", "payload": payload})

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
                self._replay_cached(tasks, cached)
                started = True
            tasks = [t for t in tasks if not t.done]
            if not tasks:
                return None
        if self.modes and not started and ("tasks" in self.modes or "debug" in self.modes):
            for task in tasks:
                task.run = self
                if not task.node.hidden:
                    self._emit_task_start(task)
        if self.pace is not None:
            # a stream is lazy, as LangGraph's: a step's bodies run once the consumer has
            # taken every chunk before them, so side effects follow those chunks and a
            # consumer that stops early stops the run
            await self.pace()
        run_one: Callable[[Task, bool], Any] | None = None  # None: self.run_task
        if self.cache is not None:  # after the starts: LangGraph shows hits started
            tasks, run_one = await _caching.serve_step(self, tasks)
            if not tasks:
                return None
        if len(tasks) == 1:
            await (run_one or self.run_task)(tasks[0], True)  # alone in its step
            return None
        return self._launch_step(tasks, run_one)

    def _launch_step(self, tasks: list[Task], run_one: Callable[[Task, bool], Any] | None) -> _StepWaiter:
        """Start a step's tasks (two or more), each as an asyncio task; return the
        waiter whose ``done`` future the step awaits (Run.execute), then hands to
        :meth:`_end_step` if a task failed or interrupted or the step was cancelled."""
        # no sync body may block the loop while its siblings run (nor one of a subgraph
        # that a sibling runs: see _call_subgraph)
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
                    coro = fn.fn(t.input, **self._inject(t, fn.inject)) if fn.inject else fn.fn(t.input)
                except Exception:  # bad arguments: run_task calls it again and reports it
                    pass
                else:
                    if timeline is not None and not node.hidden:
                        t.record = live_entry(timeline, t, time.perf_counter())
                    fut = t.fut = loop.create_task(coro, context=ctx)
                    fut.add_done_callback(waiter, context=ctx)
                    continue
            fut = t.fut = loop.create_task(self.run_task(t, False) if run_one is None else run_one(t, False))
            fut.add_done_callback(waiter, context=calls)
        return waiter

    async def _end_step(self, waiter: _StepWaiter, interrupted: bool = False) -> None:
        """A step whose task failed or interrupted, or that was cancelled
        (``interrupted``: the caller re-raises that): stop what still runs, note the
        interrupts, raise the first failure."""
        waiter.stopping = True
        # (a direct body's task is done once its ``fut`` is cleared: see _StepWaiter)
        futs = [(t, getattr(t, "fut", None)) for t in waiter.tasks]  # (None: not started)
        running = [(t, f) for t, f in futs if f is not None and not f.done()]
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
        if interrupted:
            return
        for t, exc in waiter.paused:  # a direct body's GraphInterrupt, as run_task notes it
            await self._task_failed(t, t.record, exc, False)
        if waiter.failed:
            raise waiter.failed

    def _checkpoint_task(self, task: Task, asked: dict[str, list[Any]] | None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": task.id, "name": task.name}
        if task.done:
            result = self._result_payload(task, self.out_key_set)
            if result:
                out["result"] = result
        out["interrupts"] = tuple(
            {"value": i.value, "id": i.id, "response_schema": i.response_schema} for i in (asked or {}).get(task.id, ())
        )
        out["state"] = None
        if task.node.subgraph is not None or task.node.invokes is not None:  # where the subgraph checkpoints, as LangGraph
            task_ns = "|".join((*self.ns, subgraph_ns(task)))
            out["state"] = {"configurable": {"thread_id": self.cp.thread_id, "checkpoint_ns": task_ns}}  # type: ignore[union-attr]
        return out

    def _replay_cached(self, tasks: list[Task], cached: list[Task]) -> None:
        """Tasks whose writes were saved before the run was cut short don't run again;
        the stream shows them as LangGraph does: every task of the step started, in
        step order, then the cached ones' updates (the others' follow as they finish)."""
        if "tasks" in self.modes or "debug" in self.modes:
            for task in tasks:
                if not task.node.hidden:
                    self._emit_task_start(task)
        for task in cached:
            if task.node.hidden:
                continue
            if "updates" in self.modes:
                self.emit(
                    "updates", {task.name: self._update_chunk(task.writes), "__metadata__": {"cached": True}}
                )

    async def run_task(self, task: Task, alone: bool = False) -> None:
        """Run one task of a step; ``alone``: no sibling runs beside it."""
        node = task.node
        task.run = self
        record = None
        if self.timeline is not None and not node.hidden:
            if self.cp is not None:
                task.id  # noqa: B018 (its writes are saved by id: the timeline keeps it too)
            record = task.record = live_entry(self.timeline, task, time.perf_counter())
        modes = self.modes
        debug = False
        if modes:
            debug = ("tasks" in modes or "debug" in modes) and not node.hidden
            if "messages" in modes and not node.hidden:
                self.messages.node_start(task)
        emitted = False
        writes = None
        try:
            fn = node.fn
            try:
                if fn is None and node.subgraph is None:
                    result = task.input  # START forwards the input
                elif fn is not None and node.plain and (fn.is_async or self.inline) and self.semaphore is None and _executor.AWAIT_INLINE:
                    # the common case, without the executor's frames: an async body awaited
                    # here, or a sync body alone in its step under the sync API called here
                    ctx = task_context(task)  # (see executor.task_context)
                    result = self._call_plain(task, fn, ctx)
                    if fn.is_async or (type(result) is not dict and asyncio.iscoroutine(result)):
                        result = await in_context(ctx, result)
                else:
                    result, writes = await self.call_body(task)
            except ParentCommand as pc:
                if getattr(pc, "task", None) is not task:
                    raise
                # a graph the body invoked handed this graph a Command: the task's
                # result, as LangGraph takes it (a subgraph node's: _call_subgraph)
                cmd = pc.args[0]
                result, writes = Command(update=cmd.update, goto=cmd.goto, resume=cmd.resume), None
            if node.returns:
                writes = _return_writes(result)
                result = writes[0][1]
                if self.open_calls:
                    # LangGraph reports the entrypoint's return, then lets the task calls
                    # nobody awaited finish before the run ends
                    self._emit_done(task, writes, result)
                    emitted = True
                    while self.open_calls:
                        await asyncio.gather(*list(self.open_calls), return_exceptions=True)
                if node.static_writes:
                    writes.extend(node.static_writes)
            elif writes is None:  # (call_body works them out with the body)
                if not node.branches:
                    writes = self._own_writes(task, result)
                elif node.sync_routes:  # a plain body run here, under the sync API: so are they
                    ctx = task_context(task)
                    hide_loop(None)
                    try:
                        result, writes = ctx.run(self._routed, task, result)
                    finally:
                        hide_loop(self.loop)
                else:
                    writes = await self._writes(task, result)
            task.writes = writes
            task.done = True
        except BaseException as exc:
            if node.error_handler is not None and _handled(task, exc):
                await self._handle_error(task, record, exc, debug, alone)
                return
            failure = await self._task_failed(task, record, exc, debug)
            if failure is exc:
                raise
            if failure is not None:
                raise failure from exc
            return
        if record is not None:
            self._ended(record, "ok", reported_output(node, result, writes))
        if modes and "messages" in modes and not node.hidden:
            # before its writes are saved: a message streamed without an id gets one
            self.messages.node_end(task, result)
        if self.cp is not None:
            await self.cp.save_writes(task.base, task, writes, last=alone)
        if modes and not emitted:
            self._emit_done(task, writes, result)

    def _call_plain(self, task: Task, fn: Any, ctx: contextvars.Context) -> Any:
        """Call the body of a task the loop runs itself (see ``CNode.plain``), with what
        it asks to have injected: a plain body runs here, in ``ctx``, with the loop
        hidden (see executor.hide_loop); an async one's coroutine is returned, for the
        caller to drive in ``ctx``. (``f(x)``, not ``f(x, **{})``: that costs a tenth
        of a microsecond more, on every lone step.)"""
        if fn.inject:
            kwargs = self._inject(task, fn.inject)
            if fn.is_async:
                return fn.fn(task.input, **kwargs)
            hide_loop(None)
            try:
                return ctx.run(fn.fn, task.input, **kwargs)
            finally:
                hide_loop(self.loop)
        if fn.is_async:
            return fn.fn(task.input)
        hide_loop(None)
        try:
            return ctx.run(fn.fn, task.input)
        finally:
            hide_loop(self.loop)

    async def _handle_error(
        self, task: Task, record: int | None, exc: BaseException, debug: bool, alone: bool
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
        if self.cp is not None:
            await self.cp.save_writes(task.base, task, [("__error__", repr(exc))], -1)
        self._failed(task, record, exc, debug)
        handler = Task(self.graph.nodes[task.node.error_handler], PUSH, task.id, task.input, (PUSH,), task.step)  # type: ignore[index]
        handler.run, handler.base = self, task.base
        handler.failure = NodeError(task.node.name, exc)
        if self.timeline is not None:
            handler.record = live_entry(self.timeline, handler, time.perf_counter())
        try:
            result, writes = await self.call_body(handler)
            if writes is None:
                writes = self._own_writes(handler, result)
        except BaseException as err:
            failure = await self._task_failed(handler, handler.record, err, debug)
            if failure is err:
                raise
            if failure is not None:
                raise failure from err
            return
        handler.writes = task.writes = writes  # in the failed task's place (its position in the step's order)
        handler.done = task.done = True
        if handler.record is not None:
            self._ended(handler.record, "ok", writes)
        if self.cp is not None:
            await self.cp.save_writes(handler.base, handler, writes, last=alone)
        if self.modes:
            self._emit_done(handler, writes, result)

    async def _task_failed(
        self, task: Task, record: int | None, exc: BaseException, debug: bool
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
                self._ended(record, "interrupted")
            if node.returns and self.open_calls:
                for call in list(self.open_calls):
                    call.cancel()
            await self._interrupted(task, exc)
            if debug:
                self._emit_task_result(task, None, {}, list(exc.args[0]) if exc.args else [])
            return None
        # saved as the task's error; a task the step (or the caller) cancelled too,
        # as LangGraph shows it: CancelledError()
        if self.cp is not None and (
            isinstance(exc, asyncio.CancelledError) or isinstance(exc, Exception) and not isinstance(exc, ParentCommand)
        ):
            await self.cp.save_writes(task.base, task, [("__error__", repr(exc))], -1)
        if node.returns and self.open_calls:
            # the entrypoint failed: the task calls it started are now orphans
            for call in list(self.open_calls):
                call.cancel()
        self._failed(task, record, exc, debug)
        if not cancelled:
            _note_task(exc, task)
        return exc

    def _ended(self, record: int, outcome: str, output: Any = None) -> None:
        """A timeline entry (at offset ``record`` of this run's timeline) ends now."""
        live: LiveTimeline = self.timeline  # type: ignore[assignment]
        live[record + LIVE_END] = time.perf_counter()
        live[record + LIVE_OUTCOME] = outcome
        if output is not None:
            live[record + LIVE_OUTPUT] = output

    def _failed(self, task: Task, record: int | None, exc: BaseException, debug: bool) -> None:
        """A task or call ended with ``exc`` (cancelled or failed): its timeline entry
        and, streaming tasks, its result event say so."""
        if record is not None:
            self._ended(record, "cancelled" if isinstance(exc, asyncio.CancelledError) else "error")
            self.timeline[record + LIVE_ERROR] = repr(exc)  # type: ignore[index]
        if debug and not isinstance(exc, asyncio.CancelledError):
            self._emit_task_result(task, exc)

    def _emit_done(self, task: Task, writes: list[tuple[str, Any]], result: Any) -> None:
        node = task.node
        if self.modes and not node.hidden:
            if "updates" in self.modes:
                chunk = result if node.returns else self._update_chunk(writes)
                self.emit("updates", {node.name: chunk})
            if "tasks" in self.modes or "debug" in self.modes:
                self._emit_task_result(task, None, {"__end__": result} if node.returns else None)

    async def run_call(self, task: Task) -> Any:
        """Run a Functional API ``@task`` call right away, as its caller asked, and
        return its result. It shares the step of its caller: a call is not a superstep."""
        progress()  # (a timed caller's: see timeouts.py)
        node = task.node
        task.run = self
        record = None
        if self.timeline is not None:  # (task.record: its caller's entry, the parent)
            record = task.record = live_entry(self.timeline, task, time.perf_counter(), task.record)
        saved = self.saved.get(task.id) if self.saved else None
        if saved is not None:
            for chan, value in saved:
                if chan == "__return__":  # finished before the run was cut short: replay
                    if record is not None:
                        live: LiveTimeline = self.timeline  # type: ignore[assignment]
                        live[record + LIVE_END] = live[record + LIVE_START]
                        live[record + LIVE_OUTCOME] = "cached"
                    return value
        debug = bool(self.modes) and ("tasks" in self.modes or "debug" in self.modes)
        if debug:
            self._emit_task_start(task)
        entry = None
        if self.cache is not None:
            entry = _caching.entry_for(self, task)
            if entry is not None:
                value = await _caching.serve_call(self, task, entry, record)
                if value is not MISSING:
                    return value
        current = asyncio.current_task()
        if current is not None:
            if self.open_calls is None:
                self.open_calls = set()
            self.open_calls.add(current)
        try:
            fn = node.fn
            if node.plain and fn.is_async and self.semaphore is None and _executor.AWAIT_INLINE:  # type: ignore[union-attr]
                # the common case, without the executor's two frames (as in run_task)
                args, kw = task.input
                if fn.inject:  # type: ignore[union-attr]
                    kw = {**kw, **self._inject(task, fn.inject)}  # type: ignore[union-attr]
                result = await in_context(task_context(task), fn.fn(*args, **kw))  # type: ignore[union-attr]
            else:
                result, _ = await self.call_body(task)
        except GraphInterrupt as exc:
            if record is not None:
                self._ended(record, "interrupted")
            if not getattr(exc, "recorded", False):
                await self._interrupted(task, exc)
                exc.recorded = True  # type: ignore[attr-defined]
            raise
        except BaseException as exc:
            if type(exc) is asyncio.CancelledError and _raised_by_body(task):
                failure = NodeCancelledError(node.name)  # (see _task_failed)
                self._failed(task, record, failure, debug)
                raise failure from exc
            self._failed(task, record, exc, debug)
            if isinstance(exc, Exception):
                exc.add_note(f"During task with name '{node.name}' and id '{task.id}'")
            raise
        finally:
            if self.open_calls is not None:
                self.open_calls.discard(current)  # type: ignore[arg-type]
        if record is not None:
            self._ended(record, "ok", result)
        if self.modes and "messages" in self.modes:
            self.messages.node_end(task, result)
        if entry is not None:
            await _caching.store(self, task, entry, [("__return__", result)])
        if self.cp is not None:
            await self.cp.save_writes(task.base, task, [("__return__", result)])
        if self.modes:
            if "updates" in self.modes:
                self.emit("updates", {node.name: result})
            if debug:
                self._emit_task_result(task, None, {"__return__": result})
        return result

    async def _interrupted(self, task: Task, exc: GraphInterrupt) -> None:
        """Record a task's ``interrupt()``: the run stops after this step, unapplied."""
        interrupts = list(exc.args[0]) if exc.args else []
        if getattr(exc, "recorded", False):
            return
        if not interrupts:  # a subgraph stopped at one of its breakpoints: this run stops
            self.paused = True  # after the step too; rerun, the task carries it on
            return
        if not self.interrupts:
            self.interrupts = []
        self.interrupts.extend(interrupts)  # type: ignore[union-attr]
        # streamed as it happens, with the state the step started from (as LangGraph)
        if "updates" in self.modes:
            self.emit("updates", {INTERRUPT: tuple(interrupts)})
        if "values" in self.modes:
            out = self.read_output()
            self.emit("values", {**out, INTERRUPT: tuple(interrupts)} if isinstance(out, dict) else out)
        if self.cp is not None:
            answered = len(self.resumes.get(task.id, ()))
            if task.id == self.null_resume_taker:
                # it answered an earlier question with the answer nobody was waiting
                # for: saved as its own, so its open question is counted right
                await self.cp.save_resume(task.base, task.id, list(self.resumes[task.id]))
            # (an item's third member, when there is one: the answer's JSON Schema)
            items = [(i.id, i.value) if i.response_schema is None else (i.id, i.value, i.response_schema)
                     for i in interrupts]
            value = {"round": answered, "items": items}
            await self.cp.save_writes(task.base, task, [("__interrupt__", value)], 1000 + answered)

    async def call_body(self, task: Task) -> tuple[Any, list[tuple[str, Any]] | None]:
        """A node body through the executor, under ``max_concurrency`` when set: what
        it returned and, for a node with conditional edges, its writes with its routes,
        worked out with the body (see _attempt); else None."""
        if self.semaphore is not None:
            async with self.semaphore:
                return await self._call_body(task)
        return await self._call_body(task)

    async def _call_body(self, task: Task) -> tuple[Any, list[tuple[str, Any]] | None]:
        node = task.node
        if node.subgraph is not None:
            if node.timeout is not None:
                return await timed(node.name, node.timeout, lambda: self._call_subgraph(task)), None
            return await self._call_subgraph(task), None
        fn = node.fn
        assert fn is not None  # only START has no body, and it never gets here
        def attempt() -> Coroutine[Any, Any, tuple[Any, list[tuple[str, Any]] | None]]:
            # (per attempt: a runtime's execution_info counts them)
            kwargs = self._inject(task, fn.inject) if fn.inject else None
            if node.error_param is not None:  # an error handler: the failure it handles
                kwargs = {**(kwargs or {}), node.error_param: task.failure}
            if node.timeout is not None:  # each attempt timed, the retry policy around them
                return timed(node.name, node.timeout, lambda: self._attempt(task, fn, kwargs))
            return self._attempt(task, fn, kwargs)

        if not node.retry_policy:
            return await attempt()
        return await _executor.with_retry(task, node.retry_policy, attempt)

    async def _attempt(
        self, task: Task, fn: UserFn, kwargs: dict[str, Any] | None
    ) -> tuple[Any, list[tuple[str, Any]] | None]:
        """One try of a body and, with conditional edges, its routing: as in LangGraph,
        a task is both, so a retry policy reruns the body when its routing fails, and
        a plain body's plain path functions run in its thread, right after it."""
        if not task.node.branches:
            return await _executor.call(self, task, fn, kwargs), None
        if task.node.sync_routes:
            return await _executor.call(self, task, fn, kwargs, then=functools.partial(self._routed, task))
        result = await _executor.call(self, task, fn, kwargs)
        return result, await self._writes(task, result)

    async def _writes(self, task: Task, result: Any) -> list[tuple[str, Any]]:
        """A task's writes: what its body returned, its static writes, its routes (each
        path function run by :func:`executor.call_path`)."""
        node, graph = task.node, self.graph
        writes = self._own_writes(task, result)
        try:
            for branch in node.branches:
                state = fresh_state(self, branch, writes, result)
                path = branch.fn
                out = await _executor.call_path(
                    self, task, path, state, self._inject(task, path.inject) if path.inject else None
                )
                writes.extend(route(graph, node, branch, out))
        except GraphInterrupt:
            task.writes = writes  # (see _show_interrupted)
            raise
        return writes

    def _own_writes(self, task: Task, result: Any) -> list[tuple[str, Any]]:
        """What a task's body returned, as writes, and its node's static writes."""
        node = task.node
        writes = result_writes(self.graph, node, result)
        if node.static_writes:
            writes.extend(node.static_writes)
        return writes

    def _routed(self, task: Task, result: Any) -> tuple[Any, list[tuple[str, Any]]]:
        """:meth:`_writes` for plain path functions, called where the body ran (see
        _attempt): ``(result, writes)``."""
        node, graph = task.node, self.graph
        writes = self._own_writes(task, result)
        try:
            for branch in node.branches:
                state = fresh_state(self, branch, writes, result)
                path = branch.fn
                out = path.fn(state, **self._inject(task, path.inject)) if path.inject else path.fn(state)
                if type(out) is not str and asyncio.iscoroutine(out):  # a plain callable's coroutine
                    out = asyncio.run(out)  # (no loop runs here: see executor.hide_loop)
                writes.extend(route(graph, node, branch, out))
        except GraphInterrupt:
            task.writes = writes  # (see _show_interrupted)
            raise
        return result, writes

    async def _call_subgraph(self, task: Task) -> Any:
        sub = task.node.subgraph
        ns = self.ns + (subgraph_ns(task),)
        config = dict(self.config)
        conf = dict(config.get("configurable") or {})
        conf["checkpoint_ns"] = "|".join(ns)
        config["configurable"] = conf
        run = Run(
            sub,
            config,
            modes=self.modes if self.subgraphs else frozenset(),
            sink=self.sink if self.subgraphs else None,
            ns=ns,
            subgraphs=self.subgraphs,
            sync=self.sync,
            runtime=self.runtime,
            timeline=self.timeline,
        )
        # a subgraph run by one of several tasks of a step runs its sync bodies in
        # threads too: inline, they would block the loop and so its siblings
        run.inline = run.inline and self.inline
        if self.subgraphs:
            run.pace = self.pace
        sub_input = task.input
        if self.cp is not None:
            # a checkpointed parent checkpoints its subgraphs too, under their own
            # namespace (derived from this task's id, so a rerun finds them)
            from .persistence import Checkpointing

            run.checkpoint_with(Checkpointing(self.cp.saver, self.cp.thread_id, conf["checkpoint_ns"], self.cp.durability))
            run.cp.parents = {**self.cp.parents, "|".join(self.ns): task.base}
            # its own compile-time breakpoints (interrupt_before/after) hold inside it
            for when, names in (("before", sub.interrupt_before_nodes), ("after", sub.interrupt_after_nodes)):
                setattr(run, f"interrupt_{when}", "*" if names == "*" else frozenset(names or ()))
            # A rerun of this task (its step resumed after an interrupt, an error or a
            # crash) finds the subgraph's checkpoints under that namespace: as LangGraph,
            # the subgraph carries on from them, with the answer if there is one, rather
            # than start over from its input (see Run._begin)
            answers = self.resumes.get(task.id)
            if answers:
                run.nested = Command(resume=answers[-1])
            elif sub.checkpointer is True:
                # compiled with checkpointer=True: one thread for all its runs in this
                # thread (namespace: the node's name). A new step's run takes the input
                # on top of what it kept (LangGraph's subgraph memory); a rerun of this
                # step's (its checkpoints name this step's parent checkpoint) carries on
                latest = await run.cp.saver.aget(run.cp.thread_id, run.cp.ns, None)
                here = "|".join(self.ns)
                rerun = latest is not None and (latest.metadata.get("parents") or {}).get(here) == task.base
                run.nested = rerun
            else:
                run.nested = True
            if not answers and self.null_resume and self.null_resume_at in (None, task.base):
                # as LangGraph: an interrupt() in the subgraph may take the answer
                # nobody was waiting for (shared: only one interrupt() gets it)
                run.null_resume, run.null_resume_at = self.null_resume, None
        run.parent = task
        if self.subgraphs and "messages" in self.modes:
            run.messages = self.messages.child(ns)
        try:
            out = await run.execute(sub_input)
        except ParentCommand as pc:
            cmd = pc.args[0]
            return Command(update=cmd.update, goto=cmd.goto, resume=cmd.resume)
        if run.interrupts or run.paused:
            raise GraphInterrupt(list(run.interrupts))
        return out

    def _inject(self, task: Task, names: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in names:
            if name == "config":
                out["config"] = task_config(task)
            elif name == "writer":
                out["writer"] = self.writer
            elif name == "runtime":
                out["runtime"] = self.get_runtime(task)
            elif name == "store":
                out["store"] = self.owner.store
            elif name == "previous":
                out["previous"] = self.previous
        return out

    def get_runtime(self, task: Task | None = None) -> Any:
        """The run's ``Runtime``; for ``task``, one with its ``execution_info``."""
        rt = self.shared_runtime
        if rt is None:  # once per run: its writer and store don't change
            rt = self.runtime
            if rt is None:
                rt = Runtime(context=None, store=self.owner.store, stream_writer=self.writer)
            elif rt.stream_writer is not self.writer:
                rt = rt.override(stream_writer=self.writer, store=rt.store or self.owner.store)
            self.shared_runtime = rt
        if task is None:
            return rt
        attempt = getattr(task, "attempt", None) or (1, time.time())  # (see executor.with_retry)
        return NodeRuntime.of(rt, functools.partial(self._execution_info, task, attempt))

    def _execution_info(self, task: Task, attempt: tuple[int, float]) -> ExecutionInfo:
        """``runtime.execution_info`` for ``task``'s attempt ``(number, first's start)``."""
        config = self.config
        return ExecutionInfo(
            task.base or self.run_key, _task_ns(task), task.id,
            _str_or_none((config.get("configurable") or {}).get("thread_id")),
            _str_or_none(config.get("run_id")), attempt[0], attempt[1],
        )

    # --- stream payloads -------------------------------------------------------------

    def _update_chunk(self, writes: Sequence[tuple[str, Any]]) -> Any:
        keys = self.out_key_set
        mine = [(k, v) for k, v in writes if k in keys]
        if not mine:
            return None
        names = [k for k, _ in mine]
        if len(set(names)) != len(names):
            return [{k: v} for k, v in mine]
        return dict(mine)

    def _emit_task_start(self, task: Task) -> None:
        payload = {"id": task.id, "name": task.name, "input": task.input, "triggers": task.triggers}
        self.emit("tasks", payload)
        self._emit_debug(task, "task", payload)

    def _emit_task_result(
        self,
        task: Task,
        error: BaseException | None,
        result: dict[str, Any] | None = None,
        interrupts: list[Any] = (),  # type: ignore[assignment]
    ) -> None:
        keys = self.out_key_set
        if result is None:
            result = self._result_payload(task, keys) if error is None else {}
        payload = {
            "id": task.id,
            "name": task.name,
            "error": error,
            "result": result,
            "interrupts": [
                {"value": i.value, "id": i.id, "response_schema": i.response_schema} for i in interrupts
            ],
        }
        self.emit("tasks", payload)
        self._emit_debug(task, "task_result", payload)

    @staticmethod
    def _result_payload(task: Task, keys: frozenset[str]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for k, v in task.writes:
            if k not in keys:
                continue
            if k not in result:
                result[k] = v
            elif isinstance(result[k], dict) and "$writes" in result[k]:
                result[k]["$writes"].append(v)
            else:
                result[k] = {"$writes": [result[k], v]}
        return result

    def _emit_debug(self, task: Task, kind: str, payload: dict[str, Any]) -> None:
        if "debug" in self.modes:
            from datetime import datetime, timezone

            self.emit(
                "debug",
                {
                    "step": task.step,
                    "timestamp": datetime.now(timezone.utc).isoformat(),
                    "type": kind,
                    "payload": payload,
                },
            )


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

    def _finish(self, task: Task, fut: asyncio.Task[Any]) -> BaseException | None:
        """A direct body ended: its writes, or the error the step fails with."""
        record = task.record
        node = task.node
        try:
            result = fut.result()
            writes = result_writes(self.run.graph, node, result)
        except GraphInterrupt as exc:  # (no checkpointer: only a nested run's can come)
            self.paused = [*self.paused, (task, exc)]
            return None
        except BaseException as exc:  # the run has no checkpointer: nothing to save
            if isinstance(exc, asyncio.CancelledError):
                if self.stopping:
                    self.run._failed(task, record, exc, False)
                    return None
                exc = NodeCancelledError(node.name)  # the body raised it (see _task_failed)
                self.run._failed(task, record, exc, False)
                return exc
            self.run._failed(task, record, exc, False)
            _note_task(exc, task)
            return exc
        static = node.static_writes
        if static:
            writes.extend(static)
        task.writes = writes
        task.done = True
        if record is not None:
            self.run._ended(record, "ok", reported_output(node, result, writes))
        return None


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


def _note_task(exc: BaseException, task: Task) -> None:
    """Name the failed task on its error, as LangGraph does (not on a Command bubbling
    up to the parent graph, nor on a cancellation)."""
    if isinstance(exc, Exception) and not isinstance(exc, ParentCommand):
        try:
            exc.add_note(f"During task with name '{task.node.name}' and id '{task.id}'")
        except Exception:
            pass


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _runs_in_a_thread(task: Task) -> bool:
    """Whether LangGraph's sync API runs ``task``, one of several in its step, in a
    thread it can't stop: a plain body (swiftgraph's too) or a subgraph."""
    fn = task.node.fn
    return task.node.subgraph is not None or (fn is not None and not fn.is_async)


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


def _no_op(_chunk: Any) -> None:
    """The stream writer when ``custom`` isn't streamed: a write still counts as a
    timed attempt's progress."""
    progress()


def _return_writes(result: Any) -> list[tuple[str, Any]]:
    """An entrypoint's return value: the run's output, and what ``previous`` sees next time."""
    from .functional import final

    if isinstance(result, final):
        return [("__end__", result.value), ("__previous__", result.save)]
    return [("__end__", result), ("__previous__", result)]


# configurable keys LangGraph copies into a run's metadata (when set and not already there)
_PROPAGATE_TO_METADATA = (
    "thread_id", "checkpoint_id", "checkpoint_ns", "task_id", "run_id", "assistant_id", "graph_id",
)


def _run_metadata(run: Run, lc: bool) -> dict[str, Any]:
    """The metadata a run gives its tasks, as LangGraph builds it: the caller's
    metadata plus the configurable keys it propagates; a subgraph's starts from the
    metadata of the task that runs it. ``lc``: as its callbacks see it (LangGraph
    adds ``ls_integration`` there, not to the config)."""
    parent = getattr(run, "parent", None)  # set only on subgraph runs
    config = run.config
    conf = config.get("configurable") or _EMPTY
    if parent is None or parent.run is None:
        metadata = dict(config.get("metadata") or ())
    else:
        metadata = task_metadata(parent, lc)
        conf = {**conf, "checkpoint_ns": "|".join(run.ns)}
    for key in _PROPAGATE_TO_METADATA:
        if key not in metadata:
            value = conf.get(key)
            if value:
                metadata[key] = value
    if lc and parent is None and "ls_integration" not in metadata:
        metadata["ls_integration"] = "langgraph"
    return metadata


def task_metadata(task: Task, lc: bool = False) -> dict[str, Any]:
    """A task's metadata: its run's, then LangGraph's per-task keys, then the node's."""
    metadata = _run_metadata(task.run, lc)
    metadata.update(
        langgraph_step=task.step,
        langgraph_node=task.name,
        langgraph_triggers=task.triggers,
        langgraph_path=task.path,
        langgraph_checkpoint_ns=_task_ns(task),
    )
    node_metadata = task.node.metadata
    if node_metadata:
        metadata.update(node_metadata)
    return metadata


def subgraph_ns(task: Task) -> str:
    """The namespace segment a subgraph node's task checkpoints under: ``name:<task
    id>``, or the name alone for a subgraph compiled with ``checkpointer=True`` (one
    thread for all its runs, as LangGraph keeps it)."""
    sub = task.node.subgraph
    if sub is not None and sub.checkpointer is True:
        return task.name
    return f"{task.name}:{task.id}"


def _task_ns(task: Task) -> str:
    caller = getattr(task, "caller", None)  # a Functional API call nests under its caller
    if caller is not None:
        return f"{_task_ns(caller)}|{task.name}:{task.id}"
    return "|".join(task.run.ns + ((f"{task.name}:{task.id}",) if task.name != START else ()))


def task_config(task: Task) -> dict[str, Any]:
    """The config a node sees: the run's config plus LangGraph's per-task metadata;
    in a run streaming ``messages``, the callbacks that stream its models' tokens."""
    run = task.run
    base = run.config
    config = dict(base)
    config["metadata"] = task_metadata(task)
    conf = dict(base.get("configurable") or {})
    conf["checkpoint_ns"] = _task_ns(task)
    config["configurable"] = conf
    config.setdefault("recursion_limit", run.recursion_limit)
    config.setdefault("tags", [])
    if "messages" in run.modes:
        callbacks = run.messages.callbacks(task, config)
        if callbacks is not None:
            config["callbacks"] = callbacks
    return config


__all__ = ["DEFAULT_RECURSION_LIMIT", "END", "Run", "task_config", "task_metadata"]
