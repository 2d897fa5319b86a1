"""``swiftgraph demo``: the lesson end to end, on the hiring pipeline.

Runs it three ways (sequential, Graph API, Functional API; see
``swiftgraph.examples.hiring``) and prints each one's time in lesson seconds, their
Gantt charts on one time scale, what parallelism saved by the critical path, and
writes an HTML report of the three runs. With SQLite checkpoints available, the Graph
API and Functional API runs are checkpointed into ``--db`` under fresh thread ids, so
``swiftgraph threads``/``history``/``report`` have something to show.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

from swiftgraph.cli._common import (
    CliError,
    Output,
    WorkflowFailed,
    check_output_path,
    default_db,
    dumps,
    graph_drawing,
    open_saver,
)

HELP = "run the lesson's hiring pipeline three ways, with timings, charts and a report"
DEFAULT_REPORT = "swiftgraph-report.html"
LABELS = ("sequential", "graph API", "functional API")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("demo", help=HELP, description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--unit", type=float, default=1.0, metavar="SECONDS",
                   help="real seconds per lesson second (default 1.0: steps of 2 s, 3 s, 2 s)")  # fmt: skip
    p.add_argument("--db", metavar="PATH",
                   help="SQLite checkpoint file (default: $SWIFTGRAPH_DB or ./swiftgraph.sqlite)")  # fmt: skip
    p.add_argument("--no-checkpoints", action="store_true", help="run without checkpoints")
    p.add_argument("--report", metavar="PATH", default=DEFAULT_REPORT,
                   help=f"HTML report to write (default: ./{DEFAULT_REPORT})")  # fmt: skip
    return p


def main(args: argparse.Namespace, out: Output) -> int:
    from swiftgraph.examples import hiring

    if not args.unit > 0:
        raise CliError(f"--unit must be a positive number of seconds, not {args.unit}")
    check_output_path(args.report, "--report")
    hiring.set_unit(args.unit)
    out.line(f"swiftgraph demo: the lesson's hiring pipeline "
             f"(1 lesson second = {args.unit:g} s)")  # fmt: skip
    stamp = time.strftime("%Y%m%d-%H%M%S")
    threads = {"graph API": f"hiring-graph-{stamp}", "functional API": f"hiring-functional-{stamp}"}
    db = None
    if args.no_checkpoints:
        out.line("checkpoints: off (--no-checkpoints)")
    else:
        db = args.db or default_db()
    if db is None:
        results = asyncio.run(_runs(hiring, None, threads))
    else:
        with open_saver(db) as saver:
            setup = getattr(saver, "setup", None)
            if callable(setup):  # create the schema now, not inside the first timed run
                setup()
            results = asyncio.run(_runs(hiring, saver, threads))
        out.line(f"checkpoints: {db} (threads {threads['graph API']}, {threads['functional API']})")
    _show(results, args.unit, out, args.report)
    if db is not None:
        from swiftgraph.cli._store import save_run

        for label, (_, _, tl, drawing) in results.items():
            if label in threads:
                save_run(db, threads[label], f"hiring pipeline, {label}", tl, drawing)
        out.line(f"try: swiftgraph history {threads['graph API']} --db {db}")
    return 0


async def _runs(
    hiring: Any, saver: Any, threads: dict[str, str]
) -> dict[str, tuple[float, Any, Any, Any]]:
    """label -> (seconds, result, timeline, graph drawing)."""
    from swiftgraph._internal.timeline import TaskRecord, Timeline

    graph = hiring.build_graph(checkpointer=saver)
    flow = hiring.build_entrypoint(checkpointer=saver)
    seq = Timeline(run_id="sequential", graph="sequential")

    def record(step: str, start: float, end: float) -> None:
        seq.tasks.append(TaskRecord(f"sequential:{step}", step, len(seq.tasks), start, end, "ok"))

    await _warm_up()
    out: dict[str, tuple[float, Any, Any, Any]] = {}
    runs = (
        ("sequential", None, lambda: hiring.sequential("Alice Johnson", record)),
        ("graph API", graph, lambda: graph.ainvoke({"name": "Bob Lee"}, _config(saver, threads["graph API"]))),
        ("functional API", flow,
         lambda: flow.ainvoke("Clara Smith", _config(saver, threads["functional API"]))),
    )  # fmt: skip
    for label, runner, make in runs:
        start = time.perf_counter()
        if runner is None:
            seq.start = start
        try:
            result = await make()
        except Exception as exc:
            raise WorkflowFailed(exc, f"the {label} run") from exc
        end = time.perf_counter()
        if runner is None:
            seq.end = end
            out[label] = (end - start, result, seq, None)
        else:
            tl = runner.last_timeline
            for t in tl.tasks:
                t.thread = t.thread or (threads[label] if saver is not None else "")
            out[label] = (end - start, result, tl, graph_drawing(runner))
    return out


async def _warm_up() -> None:
    """One tiny run first: the engine's first run in a process imports what it needs
    lazily (tens of milliseconds), which is not the pipeline's time."""
    from swiftgraph.graph import END, START, StateGraph

    g: StateGraph = StateGraph(hiring_state())
    g.add_node("noop", lambda state: {})
    g.add_edge(START, "noop")
    g.add_edge("noop", END)
    await g.compile().ainvoke({"name": "warm-up"})


def hiring_state() -> Any:
    from swiftgraph.examples.hiring import CandidateState

    return CandidateState


def _config(saver: Any, thread: str) -> dict[str, Any] | None:
    return {"configurable": {"thread_id": thread}} if saver is not None else None


def _show(
    results: dict[str, tuple[float, Any, Any, Any]], unit: float, out: Output, report: str
) -> None:
    from swiftgraph.report import critical_path, gantt_rich, gantt_text, write_html_runs

    out.line("")
    for label in LABELS:
        took, result, _, _ = results[label]
        shown = "" if result is None else dumps(result)
        out.line(f"{label:<15} {took / unit:5.1f} s   {shown}".rstrip())
    cps = {label: critical_path(results[label][2]) for label in LABELS}
    span = max(cp.wall for cp in cps.values()) or 1.0
    rich_charts = out.rich and out.is_terminal
    width = 48 if rich_charts else 56
    out.line("")
    out.line("Gantt charts on one time scale (real seconds; the critical path is marked)",
             style="bold")  # fmt: skip
    for label in LABELS:
        tl = results[label][2]
        tl.graph = label  # the chart's title
        w = max(8, round(width * cps[label].wall / span))
        out.line("")
        if rich_charts:
            out.renderable(gantt_rich(tl, width=w))
        else:
            out.line(f"{label}:")
            out.line(gantt_text(tl, width=w).rstrip("\n"))
    out.line("")
    for label in LABELS[1:]:
        cp = cps[label]
        out.line(
            f"{label}: parallelism saved {cp.saved / unit:.1f} s of {cp.sequential / unit:.1f} s "
            f"of work ({cp.parallelism:.2f}x); critical path {' -> '.join(cp.names)}"
        )
    runs = [(label, results[label][2], results[label][3]) for label in LABELS]
    path = write_html_runs(
        runs, report, title="swiftgraph demo: the hiring pipeline, three ways",
        note=f"1 lesson second = {unit:g} s. The sequential run calls the same steps one "
        "after another; the Graph API and Functional API runs overlap the two checks.",
    )  # fmt: skip
    out.line(f"report: {os.path.abspath(path)}")
