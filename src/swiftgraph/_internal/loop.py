"""The driver: one run of a compiled graph, superstep after superstep.

``Run.execute`` is the whole loop, kept short on purpose: plan the step's tasks,
run them concurrently, apply their writes, emit what the caller streams, repeat.
The algorithm itself lives in :mod:`.algo` (pure functions), node bodies are
submitted through :mod:`.executor`, and the sync API drives this same coroutine
through :mod:`.syncbridge`: there is one engine, not a sync and an async twin.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import executor as _executor
from .algo import apply_writes, plan
from .compiled_types import CompiledGraph, Task
from .constants import END, MISSING, PULL, START
from .context import CURRENT_TASK
from .errors import (
    EmptyInputError,
    ErrorCode,
    GraphRecursionError,
    ParentCommand,
    create_error_message,
)
from .timeline import TaskRecord, Timeline
from .types import Command
from .writes import fresh_state, result_writes, route

DEFAULT_RECURSION_LIMIT = 10007  # LangGraph 1.x's default

Sink = Callable[[tuple[str, ...], str, Any], None]


class Run:
    """The mutable state of one run; the compiled graph is shared and never touched."""

    __slots__ = (
        "owner",
        "graph",
        "channels",
        "values",
        "live_triggers",
        "deferred",
        "config",
        "modes",
        "sink",
        "ns",
        "subgraphs",
        "sync",
        "inline",
        "run_key",
        "runtime",
        "timeline",
        "semaphore",
        "recursion_limit",
        "step",
        "output_touched",
        "writer",
        "out_keys",
        "out_key_set",
        "loop",
        "calls",
        "open_calls",
        "previous",
    )

    def __init__(
        self,
        owner: Any,
        config: dict[str, Any],
        *,
        modes: frozenset[str] = frozenset(),
        sink: Sink | None = None,
        ns: tuple[str, ...] = (),
        subgraphs: bool = False,
        sync: bool = False,
        runtime: Any = None,
        timeline: Timeline | None = None,
        out_keys: tuple[str, ...] | None = None,
    ) -> None:
        graph: CompiledGraph = owner.graph
        self.out_keys = graph.output_keys if out_keys is None else out_keys
        self.out_key_set = frozenset(self.out_keys)
        self.owner = owner
        self.graph = graph
        self.channels = {k: proto.new() for k, proto in graph.channels.items()}
        self.values = {k: self.channels[k].value for k in graph.state_keys if self.channels[k].value is not MISSING}
        self.live_triggers: set[str] = set()
        self.deferred: set[str] = set()
        self.config = config
        self.modes = modes
        self.sink = sink
        self.ns = ns
        self.subgraphs = subgraphs
        self.sync = sync
        self.inline = sync and not graph.functional
        self.loop: asyncio.AbstractEventLoop | None = None
        self.calls: dict[Any, int] = {}  # Functional API: calls made so far, per caller
        self.open_calls: set[asyncio.Task[Any]] = set()
        self.previous: Any = None
        self.run_key = str(config.get("run_id") or uuid.uuid4())
        self.runtime = runtime
        self.timeline = timeline
        limit = config.get("max_concurrency")
        self.semaphore = asyncio.Semaphore(limit) if limit else None
        self.recursion_limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        self.step = 0
        self.output_touched = False
        self.writer = self._custom_writer if "custom" in modes and sink is not None else _no_op

    # --- streaming -------------------------------------------------------------------

    def emit(self, mode: str, chunk: Any) -> None:
        if mode in self.modes and self.sink is not None:
            self.sink(self.ns, mode, chunk)

    def _custom_writer(self, chunk: Any) -> None:
        self.sink(self.ns, "custom", chunk)  # type: ignore[misc]

    def read_output(self) -> Any:
        values = self.values
        out = {k: values[k] for k in self.out_keys if k in values}
        mapper = self.graph.output_mapper
        return out if mapper is None else mapper(out)

    # --- the loop --------------------------------------------------------------------

    async def execute(self, input: Any) -> Any:
        """Run to completion and return the output (None if no step wrote an output key)."""
        if self.recursion_limit < 1:
            raise ValueError("recursion_limit must be at least 1")
        if input is None:
            raise EmptyInputError("Received no input for __start__")
        self.loop = asyncio.get_running_loop()
        if self.timeline is not None:
            self.timeline.start = time.perf_counter()
        if isinstance(input, Command):
            raise NotImplementedError("Command(resume=...) needs a checkpointer")
        start = self.graph.nodes[START]
        tasks = [Task(start, PULL, START, input, (START,), 0)]
        stop = self.step + self.recursion_limit
        while tasks:
            await self.run_step(tasks)
            updated, sends, touched = apply_writes(
                self.graph, self.channels, tasks, self.values, self.live_triggers,
                self.deferred, self.out_key_set,
            )
            if touched:
                self.output_touched = True
                if "values" in self.modes:
                    self.emit("values", self.read_output())
            self.step += 1
            if self.step > stop:  # LangGraph checks before planning, so a finished run can trip it
                raise GraphRecursionError(
                    create_error_message(
                        message=f"Recursion limit of {self.recursion_limit} reached without "
                        "hitting a stop condition. You can increase the limit by setting the "
                        "`recursion_limit` config key.",
                        error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                    )
                )
            tasks = plan(self.graph, self.channels, updated, sends, self.values, self.step) if (updated or sends) else []
        if self.timeline is not None:
            self.timeline.end = time.perf_counter()
        return self.read_output() if self.output_touched else None

    def finish_timeline(self) -> None:
        if self.timeline is not None:
            self.timeline.resolve()

    async def run_step(self, tasks: list[Task]) -> None:
        """Run one superstep's tasks concurrently; the first failure cancels the rest."""
        if self.modes and ("tasks" in self.modes or "debug" in self.modes):
            for task in tasks:
                task.run = self
                if not task.node.hidden:
                    self._emit_task_start(task)
        if len(tasks) == 1:
            await self.run_task(tasks[0])
            return
        self.inline = False
        loop = asyncio.get_running_loop()
        futures = [loop.create_task(self.run_task(t)) for t in tasks]
        failed: list[asyncio.Task[Any]] = []
        remaining = len(futures)
        done_event = loop.create_future()

        def on_done(fut: asyncio.Task[Any]) -> None:
            nonlocal remaining
            remaining -= 1
            if not fut.cancelled() and fut.exception() is not None:
                failed.append(fut)
            if (failed or remaining == 0) and not done_event.done():
                done_event.set_result(None)

        for fut in futures:
            fut.add_done_callback(on_done)
        try:
            await done_event
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        finally:
            if failed or done_event.cancelled():
                pending = [f for f in futures if not f.done()]
                for fut in pending:
                    fut.cancel()
                if pending:
                    await asyncio.wait(pending)
            self.inline = self.sync and not self.graph.functional
        if failed:
            raise failed[0].exception()  # type: ignore[misc]

    async def run_task(self, task: Task) -> None:
        node = task.node
        task.run = self
        record = None
        if self.timeline is not None and not node.hidden:
            record = TaskRecord("", node.name, task.step, time.perf_counter(), namespace=self.ns)
            record.task = task
            task.record = record
            self.timeline.tasks.append(record)
        debug = self.modes and ("tasks" in self.modes or "debug" in self.modes) and not node.hidden
        try:
            if node.fn is None and node.subgraph is None:
                result = task.input  # START forwards the input
            elif self.semaphore is not None:
                async with self.semaphore:
                    result = await self.call_body(task)
            else:
                result = await self.call_body(task)
            graph = self.graph
            if node.returns:
                while self.open_calls:  # LangGraph lets task calls nobody awaited finish
                    await asyncio.gather(*list(self.open_calls), return_exceptions=True)
                writes = _return_writes(result)
                result = writes[0][1]
            else:
                writes = result_writes(graph, node, result)
            if node.static_writes:
                writes.extend(node.static_writes)
            for branch in node.branches:
                state = fresh_state(self, branch.input_keys, branch.mapper, writes)
                out = branch.fn.fn(state, **self._inject(task, branch.fn.inject)) if branch.fn.inject else branch.fn.fn(state)
                if branch.fn.is_async or asyncio.iscoroutine(out):
                    out = await out
                writes.extend(route(graph, node, branch, out))
            task.writes = writes
        except BaseException as exc:
            if node.returns and self.open_calls:
                # the entrypoint failed: the task calls it started are now orphans
                for call in list(self.open_calls):
                    call.cancel()
            if record is not None:
                record.end = time.perf_counter()
                record.outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
                record.error = repr(exc)
            if debug and not isinstance(exc, asyncio.CancelledError):
                self._emit_task_result(task, exc)
            if isinstance(exc, Exception) and not isinstance(exc, ParentCommand):
                try:
                    exc.add_note(f"During task with name '{node.name}' and id '{task.id}'")
                except Exception:
                    pass
            raise
        if record is not None:
            record.end = time.perf_counter()
            record.outcome = "ok"
        if self.modes and not node.hidden:
            if "updates" in self.modes:
                chunk = result if node.returns else self._update_chunk(writes)
                self.emit("updates", {node.name: chunk})
            if debug:
                self._emit_task_result(task, None, {"__end__": result} if node.returns else None)

    async def run_call(self, task: Task) -> Any:
        """Run a Functional API ``@task`` call right away, as its caller asked, and
        return its result. It shares the step of its caller: a call is not a superstep."""
        node = task.node
        task.run = self
        record = None
        if self.timeline is not None:
            record = TaskRecord("", node.name, task.step, time.perf_counter(), namespace=self.ns)
            record.task = task
            record.parent = task.record
            task.record = record
            self.timeline.tasks.append(record)
        debug = self.modes and ("tasks" in self.modes or "debug" in self.modes)
        if debug:
            self._emit_task_start(task)
        current = asyncio.current_task()
        if current is not None:
            self.open_calls.add(current)
        try:
            if self.semaphore is not None:
                async with self.semaphore:
                    result = await self.call_body(task)
            else:
                result = await self.call_body(task)
        except BaseException as exc:
            if record is not None:
                record.end = time.perf_counter()
                record.outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
                record.error = repr(exc)
            if debug and not isinstance(exc, asyncio.CancelledError):
                self._emit_task_result(task, exc)
            if isinstance(exc, Exception):
                exc.add_note(f"During task with name '{node.name}' and id '{task.id}'")
            raise
        finally:
            self.open_calls.discard(current)  # type: ignore[arg-type]
        if record is not None:
            record.end = time.perf_counter()
            record.outcome = "ok"
        if self.modes:
            if "updates" in self.modes:
                self.emit("updates", {node.name: result})
            if debug:
                self._emit_task_result(task, None, {"__return__": result})
        return result

    async def call_body(self, task: Task) -> Any:
        node = task.node
        if node.subgraph is not None:
            return await self._call_subgraph(task)
        fn = node.fn
        kwargs = self._inject(task, fn.inject) if fn.inject else None  # type: ignore[union-attr]
        if not node.retry_policy:
            return await _executor.call(self, task, fn, kwargs)
        return await _executor.call_with_retry(self, task, fn, kwargs, node.retry_policy)

    async def _call_subgraph(self, task: Task) -> Any:
        sub = task.node.subgraph
        name = task.node.name
        ns = self.ns + (f"{name}:{task.id}",)
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
        try:
            return await run.execute(task.input)
        except ParentCommand as pc:
            cmd = pc.args[0]
            return Command(update=cmd.update, goto=cmd.goto, resume=cmd.resume)

    def _inject(self, task: Task, names: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in names:
            if name == "config":
                out["config"] = task_config(task)
            elif name == "writer":
                out["writer"] = self.writer
            elif name == "runtime":
                out["runtime"] = self.get_runtime()
            elif name == "store":
                out["store"] = self.owner.store
            elif name == "previous":
                out["previous"] = self.previous
        return out

    def get_runtime(self) -> Any:
        from .runtime import Runtime

        rt = self.runtime
        if rt is None:
            rt = Runtime(context=None, store=self.owner.store, stream_writer=self.writer)
        elif rt.stream_writer is not self.writer:
            rt = rt.override(stream_writer=self.writer, store=rt.store or self.owner.store)
        return rt

    # --- stream payloads -------------------------------------------------------------

    def _update_chunk(self, writes: list[tuple[str, Any]]) -> Any:
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
        self, task: Task, error: BaseException | None, result: dict[str, Any] | None = None
    ) -> None:
        keys = self.out_key_set
        if result is None:
            result = self._result_payload(task, keys) if error is None else {}
        payload = {
            "id": task.id,
            "name": task.name,
            "error": error,
            "result": result,
            "interrupts": [],
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


def _no_op(_chunk: Any) -> None:
    return None


def _return_writes(result: Any) -> list[tuple[str, Any]]:
    """An entrypoint's return value: the run's output, and what ``previous`` sees next time."""
    from .functional import final

    if isinstance(result, final):
        return [("__end__", result.value), ("__previous__", result.save)]
    return [("__end__", result), ("__previous__", result)]


def task_config(task: Task) -> dict[str, Any]:
    """The config a node sees: the run's config plus LangGraph's per-task metadata."""
    run = task.run
    base = run.config
    config = dict(base)
    metadata = dict(base.get("metadata") or {})
    ns = "|".join(run.ns + ((f"{task.name}:{task.id}",) if task.name != START else ()))
    metadata.update(
        langgraph_step=task.step,
        langgraph_node=task.name,
        langgraph_triggers=task.triggers,
        langgraph_path=task.path,
        langgraph_checkpoint_ns=ns,
    )
    config["metadata"] = metadata
    conf = dict(base.get("configurable") or {})
    conf.setdefault("checkpoint_ns", "|".join(run.ns))
    config["configurable"] = conf
    config.setdefault("recursion_limit", run.recursion_limit)
    config.setdefault("tags", [])
    return config


__all__ = ["Run", "task_config", "DEFAULT_RECURSION_LIMIT", "END"]
