"""``swiftgraph report THREAD [--db PATH] [--out FILE]``: an HTML report of a thread's runs.

Runs made through the CLI (``swiftgraph run --thread``, ``swiftgraph demo``) kept their
exact timelines, and the report shows those. For threads other programs wrote, each
run's timeline is rebuilt from its checkpoints, a superstep at a time: a task is drawn
from the checkpoint before its step to the one after it, so parallel tasks all look as
long as the slowest of them (the report says so).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from swiftgraph.cli._common import Output, check_output_path, default_db, open_saver
from swiftgraph.cli.threads import add_db_argument, unknown_thread

HELP = "write an HTML report of a thread's runs"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help=HELP, description=__doc__.split("\n\n", 1)[1])
    p.add_argument("thread", metavar="THREAD", help="thread id (see `swiftgraph threads`)")
    add_db_argument(p)
    p.add_argument("--out", metavar="FILE",
                   help="where to write the report (default: ./swiftgraph-report-THREAD.html)")  # fmt: skip
    return p


def main(args: argparse.Namespace, out: Output) -> int:
    from swiftgraph.cli._store import from_checkpoints, load_runs
    from swiftgraph.report import critical_path, write_html, write_html_runs
    from swiftgraph.report.gantt import summary_line

    db = args.db or default_db()
    if args.out:
        check_output_path(args.out, "--out")
    with open_saver(db, must_exist=True) as saver:
        records = list(saver.list(args.thread, None))
        if not records:
            raise unknown_thread(args.thread, db, saver)
        serde = getattr(saver, "serde", None)
    kept = load_runs(db, args.thread)
    note = ""
    runs: list[tuple[str, Any, Any]]
    if kept:
        runs = [(f"{label} ({at})", tl, g) for label, tl, g, at in kept]
    else:
        runs = [(label, tl, None) for label, tl in from_checkpoints(records, args.thread, serde)]
        note = ("Rebuilt from checkpoints: each task is drawn over its whole superstep "
                "(from the checkpoint before it to the one after it).")  # fmt: skip
    path = args.out or f"swiftgraph-report-{re.sub(r'[^A-Za-z0-9_.-]+', '_', args.thread)}.html"
    title = f"swiftgraph - thread {args.thread}"
    if len(runs) == 1 and not note:
        label, tl, g = runs[0]
        write_html(tl, path, graph=g, title=f"{title}: {label}")
    else:
        write_html_runs(runs, path, title=title, note=note)
    for label, tl, _ in runs:
        out.line(f"{label}: {summary_line(critical_path(tl))}")
    if note:
        out.note(note)
    out.line(f"report: {path}")
    return 0
