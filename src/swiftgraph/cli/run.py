"""``swiftgraph run MODULE:ATTR --input JSON``: run a workflow, print its result as JSON.

stdout carries data only: the result as one JSON document (indented on a terminal,
one line otherwise); with ``--stream``, first one JSON line per update as it happens
(LangGraph's ``updates`` chunks, ``{"node": {...}}``), then the result line. Progress
and notes go to stderr: a live table of running tasks on a terminal with ``rich``,
plain ``start``/``done`` lines otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from typing import Any

from swiftgraph.cli._common import (
    Output,
    WorkflowFailed,
    check_output_path,
    default_db,
    dumps,
    graph_drawing,
    load_target,
    open_saver,
    parse_json,
    timeline_of,
    with_checkpointer,
)

HELP = "run a graph or entrypoint with a JSON input and print the result as JSON"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("run", help=HELP, description=HELP + ". " + __doc__.split("\n\n", 1)[1])
    p.add_argument(
        "target", metavar="MODULE:ATTR",
        help="a compiled graph, an @entrypoint, a StateGraph (compiled for you) or a function "
        "of no arguments returning one; MODULE is a dotted name or a path to a .py file",
    )  # fmt: skip
    p.add_argument(
        "--input", required=True, metavar="JSON",
        help="the input, as JSON ('-' reads stdin, '@FILE' reads a file)",
    )  # fmt: skip
    p.add_argument("--thread", metavar="ID", help="thread id; enables SQLite checkpoints")
    p.add_argument(
        "--db", metavar="PATH",
        help="SQLite checkpoint file (enables checkpoints; default with --thread: "
        "$SWIFTGRAPH_DB or ./swiftgraph.sqlite)",
    )  # fmt: skip
    p.add_argument("--stream", action="store_true", help="print updates as they happen")
    p.add_argument("--report", metavar="FILE", help="write an HTML report of the run")
    return p


def main(args: argparse.Namespace, out: Output) -> int:
    value = parse_json(args.input)
    if args.report:
        check_output_path(args.report, "--report")
    graph, target = load_target(args.target)
    thread = args.thread
    saver_path: str | None = None
    own = getattr(graph, "checkpointer", None)
    if args.db or (thread and not own):
        saver_path = args.db or default_db()
    if saver_path is not None and not thread:
        thread = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    config: dict[str, Any] | None = {"configurable": {"thread_id": thread}} if thread else None

    failure: BaseException | None = None
    result: Any = None
    runner = graph
    if saver_path is not None:
        with open_saver(saver_path) as saver:
            runner = with_checkpointer(graph, saver)
            try:
                result = _run(runner, value, config, args.stream, out)
            except Exception as exc:  # noqa: BLE001 - reported below, after the report
                failure = exc
    else:
        try:
            result = _run(runner, value, config, args.stream, out)
        except Exception as exc:  # noqa: BLE001
            failure = exc

    timeline = timeline_of(runner)
    if timeline is not None and thread:
        for record in timeline.tasks:
            record.thread = record.thread or thread
    if saver_path is not None and thread and timeline is not None:
        from swiftgraph.cli._store import save_run

        try:
            save_run(saver_path, thread, target, timeline, graph_drawing(graph))
        except Exception as exc:  # noqa: BLE001 - the run itself is saved by the checkpointer
            out.note(f"swiftgraph: could not keep the run's timeline in {saver_path}: {exc}")
        out.note(f"checkpoints: thread {thread} in {saver_path}")
    if args.report:
        if timeline is None:
            out.note(f"swiftgraph: {target} keeps no timeline; no report written")
        else:
            from swiftgraph.report import write_html

            path = write_html(timeline, args.report, graph=graph_drawing(graph),
                              title=f"{target} - run report")  # fmt: skip
            out.note(f"report: {path}")
    if failure is not None:
        raise WorkflowFailed(failure)
    out.data(dumps(result, indent=2 if sys.stdout.isatty() else None))
    return 0


def _run(graph: Any, value: Any, config: dict[str, Any] | None, stream: bool, out: Output) -> Any:
    if stream:
        return asyncio.run(_stream(graph, value, config, out))
    if callable(getattr(graph, "ainvoke", None)):
        return asyncio.run(graph.ainvoke(value, config))
    return graph.invoke(value, config)


class _Progress:
    """Task starts and ends, on stderr: a rich live table on a terminal, else lines."""

    def __init__(self, out: Output) -> None:
        self.t0 = time.perf_counter()
        self.running: dict[str, tuple[str, float, Any]] = {}
        self.done = 0
        self.live: Any = None
        console = out.err_console
        if console is not None and console.is_terminal:
            from rich.live import Live

            self.console = console
            self.live = Live(self, console=console, transient=True, refresh_per_second=12)
            self.live.__enter__()

    def __rich__(self) -> Any:  # re-rendered by Live on every refresh: elapsed times tick
        from rich.table import Table

        now = time.perf_counter()
        table = Table.grid(padding=(0, 1))
        for name, started, spinner in list(self.running.values()):
            table.add_row(spinner, name, f"{now - started:6.2f}s")
        table.add_row("", f"{self.done} done, {len(self.running)} running", "")
        return table

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.refresh()

    def start(self, task_id: str, name: str) -> None:
        spinner = None
        if self.live is not None:
            from rich.spinner import Spinner

            spinner = Spinner("dots", style="cyan")
        self.running[task_id] = (name, time.perf_counter(), spinner)
        if self.live is None:
            self._line(f"start {name}")
        self._refresh()

    def end(self, task_id: str, name: str, error: Any) -> None:
        started = self.running.pop(task_id, (name, time.perf_counter(), None))[1]
        took = time.perf_counter() - started
        self.done += 1
        self._refresh()
        if self.live is not None:
            mark = "[red]x[/red]" if error else "[green]\u2713[/green]"
            self.console.print(f"{mark} {name} [dim]{took:.2f}s[/dim]", highlight=False)
        else:
            self._line(f"{'FAIL' if error else 'done'} {name} {took:.2f}s"
                       + (f": {error}" if error else ""))  # fmt: skip

    def _line(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.t0:7.2f}s] {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None


async def _stream(graph: Any, value: Any, config: dict[str, Any] | None, out: Output) -> Any:
    progress = _Progress(out)
    result: Any = None
    try:
        try:
            parts = graph.astream(value, config, stream_mode=["updates", "values", "tasks"],
                                  subgraphs=True)  # fmt: skip
        except TypeError:  # a graph-like object without subgraphs=
            parts = graph.astream(value, config, stream_mode=["updates", "values", "tasks"])
        async for part in parts:
            ns, mode, chunk = part if len(part) == 3 else ((), *part)
            prefix = "/".join(p.split(":", 1)[0] for p in ns)
            if mode == "tasks" and isinstance(chunk, dict):
                name = f"{prefix}/{chunk.get('name')}" if prefix else str(chunk.get("name"))
                tid = str(chunk.get("id"))
                if "input" in chunk and "result" not in chunk and "error" not in chunk:
                    progress.start(tid, name)
                else:
                    progress.end(tid, name, chunk.get("error"))
            elif mode == "updates" and not ns:
                out.data(dumps(chunk))
            elif mode == "values" and not ns:
                result = chunk
    finally:
        progress.close()
    return result
