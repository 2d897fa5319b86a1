"""``swiftgraph threads [--db PATH]``: the threads in a SQLite checkpoint file.

One row per thread: how many checkpoints it has, its latest step and when it was last
saved, and how many runs the CLI kept timelines of (for ``swiftgraph report``).
"""

from __future__ import annotations

import argparse
from typing import Any

from swiftgraph.cli._common import CliError, Output, default_db, dumps, open_saver

HELP = "list the threads in a SQLite checkpoint file"


def add_db_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH",
                   help="SQLite checkpoint file (default: $SWIFTGRAPH_DB or ./swiftgraph.sqlite)")  # fmt: skip


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("threads", help=HELP, description=__doc__.split("\n\n", 1)[1])
    add_db_argument(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    return p


def summarize(saver: Any, thread: str) -> dict[str, Any]:
    records = list(saver.list(thread, None))
    latest = max(records, key=lambda r: r.checkpoint_id) if records else None
    return {
        "thread": thread,
        "checkpoints": len(records),
        "namespaces": len({r.checkpoint_ns for r in records}),
        "last_step": latest.step if latest else None,
        "updated": latest.created_at if latest else None,
    }


def main(args: argparse.Namespace, out: Output) -> int:
    from swiftgraph.cli._store import run_counts

    db = args.db or default_db()
    with open_saver(db, must_exist=True) as saver:
        rows = [summarize(saver, t) for t in saver.threads()]
    kept = run_counts(db)
    for row in rows:
        row["runs_kept"] = kept.get(row["thread"], 0)
    if args.json:
        for row in rows:
            out.data(dumps(row))
        return 0
    if not rows:
        out.note(f"no threads in {db}")
        return 0
    if out.rich and out.is_terminal:
        from rich.table import Table

        table = Table(title=f"threads in {db}")
        table.add_column("thread", no_wrap=True, min_width=max(len(r["thread"]) for r in rows))
        for col in ("checkpoints", "last step"):
            table.add_column(col, justify="right")
        table.add_column("updated", no_wrap=True)
        table.add_column("runs kept", justify="right")
        for r in rows:
            table.add_row(r["thread"], str(r["checkpoints"]), str(r["last_step"]),
                          local_time(r["updated"]), str(r["runs_kept"]))  # fmt: skip
        out.renderable(table)
    else:
        w = max(6, *(len(r["thread"]) for r in rows))
        out.line(f"{'thread':<{w}}  checkpoints  last step  {'updated':<19}  runs kept")
        for r in rows:
            out.line(f"{r['thread']:<{w}}  {r['checkpoints']:>11}  {r['last_step']!s:>9}  "
                     f"{local_time(r['updated'])}  {r['runs_kept']}")  # fmt: skip
    return 0


def local_time(created_at: Any) -> str:
    """``2025-01-01T10:00:00.123456+00:00`` -> ``2025-01-01 11:00:00`` (local time)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(created_at)).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(created_at)


def unknown_thread(thread: str, db: str, saver: Any) -> CliError:
    import difflib

    known = saver.threads()
    near = difflib.get_close_matches(thread, known, n=5, cutoff=0.4)
    msg = f"thread {thread!r} not found in {db}"
    if near:
        msg += f"; close names: {', '.join(near)}"
    elif known:
        shown = known[:10]
        msg += f"; threads there: {', '.join(shown)}" + (" ..." if len(known) > 10 else "")
    else:
        msg += " (it has no threads)"
    return CliError(msg)
