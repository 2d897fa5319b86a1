"""OpenTelemetry export of run timelines (``swiftgraph.otel``), checked with the SDK's
in-memory exporter: one span per run, per superstep and per task, with the recorded
times, the attributes, error status, and automatic export with ``instrument``."""

from __future__ import annotations

import asyncio
import operator
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, TypedDict

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from swiftgraph.func import entrypoint, task
from swiftgraph.graph import END, START, StateGraph
from swiftgraph.otel import export_timeline, instrument, instrumented, uninstrument

SRC = Path(__file__).resolve().parents[1] / "src"
U = 0.02


@pytest.fixture
def otel():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, provider.get_tracer("test")


class State(TypedDict, total=False):
    name: str
    checks: Annotated[list[str], operator.add]


def hiring(fail: bool = False):
    async def parse(state):
        await asyncio.sleep(2 * U)
        return {"checks": ["parsed"]}

    async def background(state):
        if fail:  # fails while references is still running
            await asyncio.sleep(U)
            raise ValueError("record not found")
        await asyncio.sleep(3 * U)
        return {"checks": ["background"]}

    async def references(state):
        await asyncio.sleep(2 * U)
        return {"checks": ["references"]}

    def decide(state):
        return {"checks": ["decided"]}

    g = StateGraph(State)
    for fn in (parse, background, references, decide):
        g.add_node(fn)
    g.add_edge(START, "parse")
    g.add_edge("parse", "background")
    g.add_edge("parse", "references")
    g.add_edge(["background", "references"], "decide")
    g.add_edge("decide", END)
    return g.compile()


def by_name(spans):
    return {s.name: s for s in spans}


def test_graph_run_spans_times_and_attributes(otel) -> None:
    exporter, tracer = otel
    graph = hiring()
    graph.invoke({"name": "warm-up"})  # the first sync call in a process sets up its loop
    before = time.time_ns()
    graph.invoke({"name": "Bob"})
    tl = graph.last_timeline
    run = export_timeline(tl, tracer, thread="t-1")
    after = time.time_ns()
    spans = exporter.get_finished_spans()
    names = sorted(s.name for s in spans)
    assert names == sorted([
        "swiftgraph.run LangGraph", "swiftgraph.step 1", "swiftgraph.step 2", "swiftgraph.step 3",
        "parse", "background", "references", "decide",
    ])  # fmt: skip
    s = by_name(spans)
    root = s["swiftgraph.run LangGraph"]
    assert root.parent is None and run.get_span_context() == root.context
    trace_ids = {x.context.trace_id for x in spans}
    assert len(trace_ids) == 1
    # steps under the run, tasks under their step
    for step in ("swiftgraph.step 1", "swiftgraph.step 2", "swiftgraph.step 3"):
        assert s[step].parent.span_id == root.context.span_id
    assert s["parse"].parent.span_id == s["swiftgraph.step 1"].context.span_id
    assert s["background"].parent.span_id == s["swiftgraph.step 2"].context.span_id
    assert s["references"].parent.span_id == s["swiftgraph.step 2"].context.span_id
    assert s["decide"].parent.span_id == s["swiftgraph.step 3"].context.span_id
    # recorded times: durations match the records, and the run sits in the wall clock
    records = {t.name: t for t in tl.tasks}
    for name, rec in records.items():
        span = s[name]
        assert abs((span.end_time - span.start_time) - rec.duration * 1e9) < 1e6  # < 1 ms
        assert before - 10**9 <= span.start_time <= span.end_time <= after + 10**6
    assert abs((root.end_time - root.start_time) - tl.wall * 1e9) < 1e6
    assert s["background"].start_time >= s["parse"].end_time - 2 * 10**6
    assert root.start_time <= s["parse"].start_time and s["decide"].end_time <= root.end_time
    step2 = s["swiftgraph.step 2"]
    assert step2.start_time == min(s["background"].start_time, s["references"].start_time)
    assert step2.end_time == max(s["background"].end_time, s["references"].end_time)
    # attributes
    a = s["background"].attributes
    assert a["swiftgraph.node"] == "background" and a["swiftgraph.step"] == 2
    assert a["swiftgraph.outcome"] == "ok" and a["swiftgraph.retries"] == 0
    assert a["swiftgraph.thread"] == "t-1" and a["swiftgraph.critical"] is True
    assert a["swiftgraph.task_id"] == records["background"].id
    assert s["references"].attributes["swiftgraph.critical"] is False
    ra = root.attributes
    assert ra["swiftgraph.thread"] == "t-1" and ra["swiftgraph.tasks"] == 4
    assert tuple(ra["swiftgraph.critical_path"]) == ("parse", "background", "decide")
    assert ra["swiftgraph.saved_s"] == pytest.approx(2 * U, abs=0.4 * U)
    assert all(x.status.status_code != StatusCode.ERROR for x in spans)


def test_failed_task_has_error_status_and_event(otel) -> None:
    exporter, tracer = otel
    graph = hiring(fail=True)
    with pytest.raises(ValueError):
        graph.invoke({"name": "Bob"})
    export_timeline(graph.last_timeline, tracer)
    s = by_name(exporter.get_finished_spans())
    bad = s["background"]
    assert bad.status.status_code == StatusCode.ERROR
    assert "record not found" in bad.status.description
    assert bad.attributes["swiftgraph.outcome"] == "error"
    [event] = [e for e in bad.events if e.name == "exception"]
    assert "record not found" in event.attributes["exception.message"]
    assert s["swiftgraph.step 2"].status.status_code == StatusCode.ERROR
    assert s["swiftgraph.run LangGraph"].status.status_code == StatusCode.ERROR
    assert s["parse"].status.status_code != StatusCode.ERROR
    # references was cancelled when background failed: a span, not an error
    assert s["references"].attributes["swiftgraph.outcome"] == "cancelled"
    assert "decide" not in s


def test_functional_calls_nest_under_their_caller(otel) -> None:
    exporter, tracer = otel

    @task
    async def check(kind: str) -> str:
        await asyncio.sleep(U)
        return kind

    @entrypoint
    async def screen(name: str) -> list:
        first = await check("parsed")
        return [first, *await asyncio.gather(check("background"), check("references"))]

    assert screen.invoke("Ann") == ["parsed", "background", "references"]
    export_timeline(screen.last_timeline, tracer)
    spans = exporter.get_finished_spans()
    ep = next(x for x in spans if x.name == "screen")
    checks = [x for x in spans if x.name == "check"]
    assert len(checks) == 3
    assert all(c.parent.span_id == ep.context.span_id for c in checks)
    step = next(x for x in spans if x.name.startswith("swiftgraph.step"))
    assert ep.parent.span_id == step.context.span_id
    assert ep.start_time <= min(c.start_time for c in checks)
    assert max(c.end_time for c in checks) <= ep.end_time


def test_subgraph_tasks_nest_under_the_subgraph_node(otel) -> None:
    exporter, tracer = otel

    class Sub(TypedDict, total=False):
        checks: Annotated[list[str], operator.add]

    async def inner_a(state):
        await asyncio.sleep(U)
        return {"checks": ["a"]}

    def inner_b(state):
        return {"checks": ["b"]}

    sb = StateGraph(Sub)
    sb.add_node(inner_a)
    sb.add_node(inner_b)
    sb.add_edge(START, "inner_a")
    sb.add_edge("inner_a", "inner_b")
    sub = sb.compile()
    g = StateGraph(Sub)
    g.add_node("sub", sub)
    g.add_edge(START, "sub")
    g.compile()
    outer = g.compile()
    outer.invoke({"checks": []})
    export_timeline(outer.last_timeline, tracer)
    s = by_name(exporter.get_finished_spans())
    node = s["sub"]
    inner_steps = [x for x in exporter.get_finished_spans()
                   if x.name.startswith("swiftgraph.step") and x.parent.span_id == node.context.span_id]  # fmt: skip
    assert len(inner_steps) == 2
    assert s["inner_a"].parent.span_id in {x.context.span_id for x in inner_steps}
    assert s["inner_a"].attributes["swiftgraph.namespace"].startswith("sub:")


def test_nests_under_the_current_span(otel) -> None:
    exporter, tracer = otel
    graph = hiring()
    graph.invoke({"name": "Bob"})
    with tracer.start_as_current_span("request") as outer:
        export_timeline(graph.last_timeline, tracer)
    run = next(x for x in exporter.get_finished_spans() if x.name.startswith("swiftgraph.run"))
    assert run.parent.span_id == outer.get_span_context().span_id


def test_default_tracer_is_the_global_one(otel) -> None:
    graph = hiring()
    graph.invoke({"name": "Bob"})
    span = export_timeline(graph.last_timeline)  # no provider set: a no-op span, no error
    assert span is not None
    assert trace.get_tracer("swiftgraph") is not None


def _runs(exporter):
    return [x for x in exporter.get_finished_spans() if x.name.startswith("swiftgraph.run")]


def test_instrument_exports_every_run(otel) -> None:
    exporter, tracer = otel
    graph = instrument(hiring(), tracer)
    cfg = {"configurable": {"thread_id": "th"}}
    graph.invoke({"name": "a"}, cfg)
    assert len(_runs(exporter)) == 1
    assert _runs(exporter)[0].attributes["swiftgraph.thread"] == "th"
    asyncio.run(graph.ainvoke({"name": "b"}))
    assert len(_runs(exporter)) == 2
    chunks = list(graph.stream({"name": "c"}))
    assert len(chunks) == 4 and len(_runs(exporter)) == 3

    async def consume():
        return [c async for c in graph.astream({"name": "d"}, stream_mode="values")]

    assert asyncio.run(consume())[-1]["checks"][-1] == "decided"
    assert len(_runs(exporter)) == 4
    graph.batch([{"name": "e"}, {"name": "f"}])
    assert len(_runs(exporter)) == 6
    # each run's spans are their own trace with their own four tasks
    for run in _runs(exporter):
        tasks = [x for x in exporter.get_finished_spans()
                 if x.context.trace_id == run.context.trace_id and not x.name.startswith("swiftgraph.")]  # fmt: skip
        assert sorted(t.name for t in tasks) == ["background", "decide", "parse", "references"]
    uninstrument(graph)
    graph.invoke({"name": "g"})
    assert len(_runs(exporter)) == 6
    assert "invoke" not in vars(graph) and "_new_run" not in vars(graph)


def test_instrument_concurrent_runs_get_their_own_timelines(otel) -> None:
    exporter, tracer = otel
    graph = instrument(hiring(), tracer)

    async def both():
        return await asyncio.gather(
            graph.ainvoke({"name": "x"}, {"configurable": {"thread_id": "one"}}),
            graph.ainvoke({"name": "y"}, {"configurable": {"thread_id": "two"}}),
        )

    asyncio.run(both())
    runs = _runs(exporter)
    assert sorted(r.attributes["swiftgraph.thread"] for r in runs) == ["one", "two"]
    assert len({r.context.trace_id for r in runs}) == 2
    assert all(r.attributes["swiftgraph.tasks"] == 4 for r in runs)


def test_instrument_exports_failed_runs_and_reraises(otel) -> None:
    exporter, tracer = otel
    graph = instrument(hiring(fail=True), tracer)
    with pytest.raises(ValueError, match="record not found"):
        graph.invoke({"name": "a"})
    [run] = _runs(exporter)
    assert run.status.status_code == StatusCode.ERROR


def test_instrumented_context_manager(otel) -> None:
    exporter, tracer = otel
    graph = hiring()
    with instrumented(graph, tracer) as g:
        assert g is graph
        g.invoke({"name": "a"})
    graph.invoke({"name": "b"})
    assert len(_runs(exporter)) == 1


def test_import_without_opentelemetry_says_how_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "try:\n"
        "    import swiftgraph.otel\n"
        "except ImportError as e:\n"
        "    print(str(e))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "pip install 'swiftgraph[otel]'"
