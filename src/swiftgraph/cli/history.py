"""``swiftgraph history THREAD [--db PATH]``: a thread's checkpoints, newest first.

One row per checkpoint (as ``get_state_history`` lists them): its id, namespace (empty
for the root graph), step, source (``input``, ``loop``, ``update``, ``fork``), when it
was saved, and the nodes that ran in the step it ends (``ran``).
"""

from __future__ import annotations

import argparse
from typing import Any

from swiftgraph.cli._common import Output, default_db, dumps, open_saver
from swiftgraph.cli.threads import add_db_argument, local_time, unknown_thread

HELP = "list a thread's checkpoints, newest first"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("history", help=HELP, description=__doc__.split("\n\n", 1)[1])
    p.add_argument("thread", metavar="THREAD", help="thread id (see `swiftgraph threads`)")
    add_db_argument(p)
    p.add_argument("--limit", type=int, metavar="N", help="at most N checkpoints")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    return p


def main(args: argparse.Namespace, out: Output) -> int:
    db = args.db or default_db()
    from swiftgraph.cli._store import step_nodes

    with open_saver(db, must_exist=True) as saver:
        records = list(saver.list(args.thread, None, limit=args.limit))
        if not records:
            raise unknown_thread(args.thread, db, saver)
        serde = getattr(saver, "serde", None)
    rows = [
        {
            "checkpoint_id": r.checkpoint_id,
            "parent_id": r.parent_id,
            "namespace": r.checkpoint_ns,
            "step": r.step,
            "source": (r.metadata or {}).get("source"),
            "created_at": r.created_at,
            "ran": step_nodes(r, serde),
            "snapshot": r.snapshot,
        }
        for r in records
    ]
    if args.json:
        for row in rows:
            out.data(dumps(row))
        return 0
    if out.rich and out.is_terminal:
        from rich.table import Table

        table = Table(title=f"thread {args.thread} ({db}), newest first")
        table.add_column(
            "checkpoint", no_wrap=True, min_width=max(len(r["checkpoint_id"]) for r in rows)
        )
        table.add_column("ns")
        table.add_column("step", justify="right")
        table.add_column("source")
        table.add_column("saved", no_wrap=True)
        table.add_column("ran")
        for r in rows:
            table.add_row(r["checkpoint_id"], r["namespace"], str(r["step"]), str(r["source"]),
                          local_time(r["created_at"]), ", ".join(r["ran"]))  # fmt: skip
        out.renderable(table)
    else:
        for r in rows:
            ns = f" ns={r['namespace']}" if r["namespace"] else ""
            out.line(f"{r['checkpoint_id']}  step {r['step']:>3}  {r['source'] or '-':<6}  "
                     f"{local_time(r['created_at'])}{ns}  {', '.join(r['ran'])}")  # fmt: skip
    return 0
