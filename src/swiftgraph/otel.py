"""OpenTelemetry traces of swiftgraph runs (``pip install 'swiftgraph[otel]'``).

Every run keeps a timeline (``compiled.last_timeline``: one record per task, with
``time.perf_counter()`` start and end readings). :func:`export_timeline` turns one into
spans after the fact, with the recorded times:

* one span per **run** (``swiftgraph.run <graph>``), from the run's start to its end;
* one span per **superstep** (``swiftgraph.step <n>``), from its first task's start to
  its last task's end, child of the run (or, inside a subgraph, of the subgraph's node);
* one span per **task** (the node's name), child of its step; a Functional API
  ``@task`` call is a child of the entrypoint or task that made it.

Attributes: ``swiftgraph.node``, ``swiftgraph.step``, ``swiftgraph.outcome``,
``swiftgraph.retries``, ``swiftgraph.thread``, ``swiftgraph.task_id``,
``swiftgraph.namespace``, ``swiftgraph.critical`` (on the run's critical path); the
run span also gets the wall and sequential time and what parallelism saved. Failed
tasks (and the steps and run around them) get an ERROR status and an ``exception``
event.

perf_counter readings are converted to the epoch nanoseconds OpenTelemetry wants with
an offset taken at export time (``time.time_ns() - perf_counter_ns()``), so spans line
up with the wall clock as it is now; a clock adjustment during the run (NTP) is not
reflected.

:func:`instrument` makes a compiled graph (or ``@entrypoint``) export every run by
itself; :func:`instrumented` does the same for a ``with`` block.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from typing import Any

try:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError("pip install 'swiftgraph[otel]'") from exc

from swiftgraph import __version__
from swiftgraph._internal.timeline import LiveTimeline, TaskRecord, Timeline
from swiftgraph.report.analysis import critical_path, parents

__all__ = ["export_timeline", "instrument", "instrumented", "uninstrument"]

TRACER_NAME = "swiftgraph"
_ERROR_OUTCOMES = ("error",)


def _tracer(tracer: Any) -> Any:
    return tracer if tracer is not None else trace.get_tracer(TRACER_NAME, __version__)


def export_timeline(
    timeline: Timeline,
    tracer: Any = None,
    *,
    thread: str | None = None,
    attributes: dict[str, Any] | None = None,
    context: Any = None,
) -> Any:
    """Create the spans of one finished (or failed) run; returns the run span (ended).

    ``tracer`` defaults to the global provider's ``swiftgraph`` tracer; ``thread``
    fills ``swiftgraph.thread`` where the records have none; ``attributes`` go on the
    run span; ``context`` is the parent context (default: the current one, so a run
    exported inside a span of yours nests under it)."""
    tracer = _tracer(tracer)
    timeline.resolve()
    offset = time.time_ns() - time.perf_counter_ns()

    def ns(t: float) -> int:
        return round(t * 1e9) + offset

    tasks = list(timeline.tasks)
    now = time.perf_counter()
    ends = [t.end for t in tasks if t.end is not None]
    run_end = timeline.end if timeline.end is not None else max(ends, default=now)
    run_start = timeline.start if timeline.start else min((t.start for t in tasks), default=run_end)
    cp = critical_path(timeline)
    on_path = {id(t) for t in cp.tasks}
    parent_of = parents(tasks)
    failed = [t for t in tasks if t.outcome in _ERROR_OUTCOMES]

    run_attrs: dict[str, Any] = {
        "swiftgraph.graph": timeline.graph,
        "swiftgraph.run_id": timeline.run_id,
        "swiftgraph.tasks": len(tasks),
        "swiftgraph.wall_s": cp.wall,
        "swiftgraph.sequential_s": cp.sequential,
        "swiftgraph.saved_s": cp.saved,
        "swiftgraph.parallelism": cp.parallelism,
        "swiftgraph.critical_path": list(cp.names),
    }
    run_thread = thread or next((t.thread for t in tasks if t.thread), "")
    if run_thread:
        run_attrs["swiftgraph.thread"] = run_thread
    if timeline.end is None:
        run_attrs["swiftgraph.finished"] = False
    run_attrs.update(attributes or {})
    run_span = tracer.start_span(
        f"swiftgraph.run {timeline.graph}".rstrip(), context=context,
        start_time=ns(run_start), attributes={k: v for k, v in run_attrs.items() if v != ""},
    )  # fmt: skip
    if failed:
        run_span.set_status(Status(StatusCode.ERROR, failed[0].error or f"{failed[0].name} failed"))

    # Group tasks into steps under their parent span: (parent task or None, step) -> tasks.
    # Functional API calls (explicit ``parent`` record) hang off their caller directly.
    spans: dict[int, Any] = {}
    groups: dict[tuple[int, int], list[TaskRecord]] = {}
    direct: dict[int, list[TaskRecord]] = {}
    for t in tasks:
        parent = parent_of.get(id(t))
        if parent is not None and isinstance(getattr(t, "parent", None), TaskRecord):
            direct.setdefault(id(parent), []).append(t)
        else:
            groups.setdefault((id(parent) if parent is not None else 0, t.step), []).append(t)

    def end_of(t: TaskRecord) -> float:
        return t.end if t.end is not None else run_end

    def emit_task(t: TaskRecord, parent_span: Any) -> None:
        attrs = {
            "swiftgraph.node": t.name,
            "swiftgraph.step": t.step,
            "swiftgraph.outcome": t.outcome,
            "swiftgraph.retries": t.retries,
            "swiftgraph.task_id": t.id,
            "swiftgraph.critical": id(t) in on_path,
        }
        if t.thread or run_thread:
            attrs["swiftgraph.thread"] = t.thread or run_thread
        if t.namespace:
            attrs["swiftgraph.namespace"] = "|".join(t.namespace)
        span = tracer.start_span(
            t.name, context=trace.set_span_in_context(parent_span), start_time=ns(t.start),
            attributes=attrs,
        )  # fmt: skip
        spans[id(t)] = span
        if t.outcome in _ERROR_OUTCOMES:
            message = t.error or f"task {t.name} failed"
            span.add_event("exception", {"exception.message": message,
                                         "exception.type": message.split("(", 1)[0]},
                           timestamp=ns(end_of(t)))  # fmt: skip
            span.set_status(Status(StatusCode.ERROR, message))
        # children first (they may need this span open), then end it
        emit_children(id(t), span)
        span.end(end_time=ns(end_of(t)))

    def emit_steps(owner: int, parent_span: Any) -> None:
        for (o, step), members in sorted(
            groups.items(), key=lambda kv: (kv[0][1], min(m.start for m in kv[1]))
        ):
            if o != owner:
                continue
            start = min(m.start for m in members)
            end = max(end_of(m) for m in members)
            step_span = tracer.start_span(
                f"swiftgraph.step {step}", context=trace.set_span_in_context(parent_span),
                start_time=ns(start),
                attributes={"swiftgraph.step": step, "swiftgraph.tasks": len(members),
                            "swiftgraph.nodes": [m.name for m in members]},
            )  # fmt: skip
            bad = [m for m in members if m.outcome in _ERROR_OUTCOMES]
            if bad:
                step_span.set_status(
                    Status(StatusCode.ERROR, bad[0].error or f"{bad[0].name} failed")
                )
            for m in sorted(members, key=lambda m: m.start):
                emit_task(m, step_span)
            step_span.end(end_time=ns(end))

    def emit_children(owner: int, parent_span: Any) -> None:
        for t in sorted(direct.get(owner, []), key=lambda m: m.start):
            emit_task(t, parent_span)
        emit_steps(owner, parent_span)

    emit_steps(0, run_span)
    run_span.end(end_time=ns(run_end))
    return run_span


# --- automatic export ---------------------------------------------------------------------

_ORIGINALS = "_swiftgraph_otel_originals"
_SYNC = ("invoke", "batch")
_ASYNC = ("ainvoke", "abatch")
_SYNC_GEN = ("stream",)
_ASYNC_GEN = ("astream",)


def _thread_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    config = kwargs.get("config", args[1] if len(args) > 1 else None)
    if isinstance(config, (list, tuple)):
        config = config[0] if config else None
    if isinstance(config, dict):
        tid = (config.get("configurable") or {}).get("thread_id")
        return str(tid) if tid is not None else None
    return None


class _Collector:
    """Timelines of the runs started during one call of an instrumented method."""

    def __init__(self, graph: Any, hooked: bool) -> None:
        self.graph = graph
        self.hooked = hooked
        self.timelines: list[LiveTimeline] = []  # as the runs write them
        self.before = getattr(graph, "_last_timeline", None)

    def collected(self) -> list[Timeline]:
        if self.hooked:
            return [live.view() for live in self.timelines]
        if getattr(self.graph, "_last_timeline", None) is self.before:
            return []  # no run started (no _new_run hook: only the latest run is known)
        tl = getattr(self.graph, "last_timeline", None)
        return [tl] if tl is not None else []


def instrument(graph: Any, tracer: Any = None, **export_kw: Any) -> Any:
    """Make ``graph`` (a compiled graph or ``@entrypoint``) export a trace of every run:
    ``invoke``/``ainvoke``/``stream``/``astream``/``batch``/``abatch`` are wrapped on this
    object (not its class). Returns ``graph``; :func:`uninstrument` undoes it.

    The spans are created when the call returns (or raises, or the stream closes), in
    the caller's context, so they nest under the caller's current span."""
    if getattr(graph, _ORIGINALS, None) is not None:
        uninstrument(graph)
    import contextvars

    active: contextvars.ContextVar[_Collector | None] = contextvars.ContextVar(
        "swiftgraph_otel_collector", default=None
    )
    originals: dict[str, Any] = {}

    def export(col: _Collector, thread: str | None) -> None:
        for tl in col.collected():
            export_timeline(tl, tracer, thread=thread, **export_kw)

    new_run: Any = getattr(graph, "_new_run", None)
    hooked = callable(new_run)
    if hooked:
        originals["_new_run"] = graph.__dict__.get("_new_run")

        @functools.wraps(new_run)
        def _new_run(*a: Any, **kw: Any) -> Any:
            run = new_run(*a, **kw)
            col = active.get()
            tl = getattr(run, "timeline", None)
            if col is not None and tl is not None:
                col.timelines.append(tl)
            return run

        graph._new_run = _new_run

    for name in (*_SYNC, *_ASYNC, *_SYNC_GEN, *_ASYNC_GEN):
        fn = getattr(graph, name, None)
        if not callable(fn):
            continue
        originals[name] = graph.__dict__.get(name)
        setattr(graph, name, _wrap(name, fn, lambda: _Collector(graph, hooked), active, export))
    setattr(graph, _ORIGINALS, originals)
    return graph


def _wrap(name: str, fn: Any, collector: Any, active: Any, export: Any) -> Any:
    """Wrap one public method; a call made while another call of this graph is being
    collected (``invoke`` implemented with ``ainvoke``, say) is left to the outer one."""
    if name in _SYNC:

        @functools.wraps(fn)
        def sync(*args: Any, **kwargs: Any) -> Any:
            if active.get() is not None:
                return fn(*args, **kwargs)
            col = collector()
            token = active.set(col)
            try:
                return fn(*args, **kwargs)
            finally:
                active.reset(token)
                export(col, _thread_of(args, kwargs))

        return sync
    if name in _ASYNC:

        @functools.wraps(fn)
        async def asyn(*args: Any, **kwargs: Any) -> Any:
            if active.get() is not None:
                return await fn(*args, **kwargs)
            col = collector()
            token = active.set(col)
            try:
                return await fn(*args, **kwargs)
            finally:
                active.reset(token)
                export(col, _thread_of(args, kwargs))

        return asyn
    if name in _SYNC_GEN:

        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Iterator[Any]:
            if active.get() is not None:
                yield from fn(*args, **kwargs)
                return
            col = collector()
            token = active.set(col)
            try:
                yield from fn(*args, **kwargs)
            finally:
                _reset(active, token)
                export(col, _thread_of(args, kwargs))

        return gen

    @functools.wraps(fn)
    async def agen(*args: Any, **kwargs: Any) -> Any:
        if active.get() is not None:
            async for item in fn(*args, **kwargs):
                yield item
            return
        col = collector()
        token = active.set(col)
        it = fn(*args, **kwargs)
        try:
            async for item in it:
                yield item
        finally:
            close = getattr(it, "aclose", None)
            try:
                if close is not None:
                    await close()
            finally:
                _reset(active, token)
                export(col, _thread_of(args, kwargs))

    return agen


def _reset(var: Any, token: Any) -> None:
    try:
        var.reset(token)
    except ValueError:  # a generator closed from another context (garbage collection)
        var.set(None)


def uninstrument(graph: Any) -> Any:
    """Undo :func:`instrument` on ``graph``; returns it."""
    originals = getattr(graph, _ORIGINALS, None)
    if originals is None:
        return graph
    for name, before in originals.items():
        if before is None:
            graph.__dict__.pop(name, None)
        else:
            setattr(graph, name, before)
    graph.__dict__.pop(_ORIGINALS, None)
    return graph


@contextlib.contextmanager
def instrumented(graph: Any, tracer: Any = None, **export_kw: Any) -> Iterator[Any]:
    """``with instrumented(graph) as g: g.invoke(...)`` exports every run in the block."""
    instrument(graph, tracer, **export_kw)
    try:
        yield graph
    finally:
        uninstrument(graph)
