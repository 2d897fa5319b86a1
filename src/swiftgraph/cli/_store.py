"""Run timelines for ``swiftgraph report THREAD``.

Checkpoints say what each superstep wrote and when the step was saved, not when each
task started and ended. So when the CLI runs a workflow with SQLite checkpoints
(``swiftgraph run --thread``/``--db``, ``swiftgraph demo``) it also keeps the run's
exact timeline in its own table of the same database file, ``swiftgraph_cli_runs``
(the saver's tables are never touched). ``swiftgraph report THREAD`` uses those
timelines when it has them; for threads run by other programs it rebuilds an
approximate timeline from the checkpoints themselves (:func:`from_checkpoints`):
each task is drawn from the checkpoint before its step to the checkpoint after it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from swiftgraph._internal.draw import Edge, Graph, Node
from swiftgraph._internal.timeline import TaskRecord, Timeline
from swiftgraph.cli._common import to_jsonable

TABLE = "swiftgraph_cli_runs"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "thread_id TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL, "
    "timeline TEXT NOT NULL, graph TEXT)"
)


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=to_jsonable))
    except (TypeError, ValueError):
        return repr(value)


def timeline_to_dict(tl: Timeline) -> dict[str, Any]:
    tl.resolve()
    index = {id(t): i for i, t in enumerate(tl.tasks)}
    return {
        "run_id": tl.run_id,
        "graph": tl.graph,
        "start": tl.start,
        "end": tl.end,
        "tasks": [_task_dict(t, index) for t in tl.tasks],
    }


def _task_dict(t: TaskRecord, index: dict[int, int]) -> dict[str, Any]:
    return {
        "id": t.id, "name": t.name, "step": t.step, "start": t.start, "end": t.end,
        "outcome": t.outcome, "retries": t.retries, "thread": t.thread,
        "namespace": list(t.namespace), "input": _jsonable(t.input),
        "output": _jsonable(t.output), "error": t.error,
        "parent": index.get(id(t.parent)) if t.parent is not None else None,
    }  # fmt: skip


def timeline_from_dict(d: dict[str, Any]) -> Timeline:
    tl = Timeline(run_id=d.get("run_id", ""), graph=d.get("graph", ""), start=d.get("start", 0.0),
                  end=d.get("end"))  # fmt: skip
    for t in d.get("tasks", []):
        tl.tasks.append(TaskRecord(
            t["id"], t["name"], t["step"], t["start"], t.get("end"), t.get("outcome", "ok"),
            t.get("retries", 0), t.get("thread", ""), tuple(t.get("namespace", ())),
            t.get("input"), t.get("output"), t.get("error"),
        ))  # fmt: skip
    for rec, t in zip(tl.tasks, d.get("tasks", [])):
        if isinstance(t.get("parent"), int) and 0 <= t["parent"] < len(tl.tasks):
            rec.parent = tl.tasks[t["parent"]]
    return tl


def graph_to_dict(graph: Graph | None) -> dict[str, Any] | None:
    if graph is None:
        return None
    return {
        "nodes": [
            {"id": n.id, "name": n.name, "metadata": n.metadata} for n in graph.nodes.values()
        ],
        "edges": [
            {"source": e.source, "target": e.target, "data": e.data, "conditional": e.conditional}
            for e in graph.edges
        ],
    }


def graph_from_dict(d: dict[str, Any] | None) -> Graph | None:
    if not d:
        return None
    g = Graph()
    for n in d.get("nodes", []):
        g.nodes[n["id"]] = Node(n["id"], n.get("name", n["id"]), n.get("metadata"))
    for e in d.get("edges", []):
        g.edges.append(Edge(e["source"], e["target"], e.get("data"), bool(e.get("conditional"))))
    return g


def _connect(db: str) -> sqlite3.Connection:
    return sqlite3.connect(db, timeout=30)


def save_run(db: str, thread_id: str, label: str, tl: Timeline, graph: Graph | None) -> None:
    """Keep ``tl`` (and the drawn graph) for ``swiftgraph report THREAD``."""
    payload = json.dumps(timeline_to_dict(tl), default=to_jsonable)
    gjson = json.dumps(graph_to_dict(graph)) if graph is not None else None
    stamp = datetime.now().astimezone().isoformat(timespec="milliseconds")
    con = _connect(db)
    try:
        with con:
            con.execute(_SCHEMA)
            con.execute(
                f"INSERT INTO {TABLE} (thread_id, label, created_at, timeline, graph) "
                "VALUES (?, ?, ?, ?, ?)",
                (thread_id, label, stamp, payload, gjson),
            )
    finally:
        con.close()


def load_runs(db: str, thread_id: str) -> list[tuple[str, Timeline, Graph | None, str]]:
    """The kept runs of a thread, oldest first: (label, timeline, graph, created_at)."""
    con = _connect(db)
    try:
        try:
            rows = con.execute(
                f"SELECT label, timeline, graph, created_at FROM {TABLE} WHERE thread_id = ? "
                "ORDER BY rowid",
                (thread_id,),
            ).fetchall()
        except sqlite3.OperationalError:  # no such table: no run kept by the CLI
            return []
    finally:
        con.close()
    return [
        (
            label,
            timeline_from_dict(json.loads(tl)),
            graph_from_dict(json.loads(g) if g else None),
            at,
        )
        for label, tl, g, at in rows
    ]


def run_counts(db: str) -> dict[str, int]:
    """thread id -> number of runs the CLI kept for it."""
    con = _connect(db)
    try:
        try:
            return dict(con.execute(f"SELECT thread_id, COUNT(*) FROM {TABLE} GROUP BY thread_id"))
        except sqlite3.OperationalError:
            return {}
    finally:
        con.close()


# --- timelines rebuilt from checkpoints ---------------------------------------------------


def _seconds(created_at: Any, fallback: float) -> float:
    if isinstance(created_at, (int, float)):
        return float(created_at)
    try:
        return datetime.fromisoformat(str(created_at)).timestamp()
    except ValueError:
        return fallback


def _writers(metadata: dict[str, Any]) -> list[str]:
    writes = metadata.get("writes")
    if isinstance(writes, dict):
        return [str(k) for k in writes if k != "__start__"]
    if isinstance(writes, list):  # a list of [node, update] pairs or of node names
        names = [w[0] if isinstance(w, (list, tuple)) and w else w for w in writes]
        return [str(n) for n in names if n != "__start__"]
    return []


def step_nodes(record: Any, serde: Any = None) -> list[str]:
    """The nodes whose writes made this checkpoint: ``metadata["writes"]`` when the
    writer put it there (LangGraph < 1.0 did), else the ``ran`` list swiftgraph keeps in
    the checkpoint's payload (decoded with the saver's safe serializer, never pickle)."""
    names = _writers(record.metadata or {})
    if names or serde is None:
        return names
    try:
        payload = serde.loads(record.data)
    except Exception:  # noqa: BLE001 - another engine's payload: no names, no crash
        return []
    ran = payload.get("ran") if isinstance(payload, dict) else None
    return [str(n) for n in ran if n != "__start__"] if isinstance(ran, list) else []


def step_timings(record: Any, serde: Any = None) -> list[list[Any]]:
    """The exact task timings swiftgraph saves with each checkpoint (payload ``tl``:
    name, task id, step, start, end, outcome), or [] if absent. Times are returned in
    wall-clock seconds: stored as int microseconds, or as float seconds by swiftgraph
    0.1's first checkpoints."""
    if serde is None:
        return []
    try:
        payload = serde.loads(record.data)
    except Exception:  # noqa: BLE001 - another engine's payload
        return []
    tl = payload.get("tl") if isinstance(payload, dict) else None
    if not isinstance(tl, list):
        return []
    rows = [row for row in tl if isinstance(row, list) and len(row) >= 6]
    for row in rows:
        for i in (3, 4):
            if type(row[i]) is int:
                row[i] = row[i] / 1e6
    return rows


def from_checkpoints(
    records: Iterable[Any], thread_id: str, serde: Any = None
) -> list[tuple[str, Timeline]]:
    """Timelines of a thread's runs from its checkpoint records: exact where the
    checkpoints carry swiftgraph's task timings, approximate otherwise.

    A run starts at a checkpoint whose ``source`` is ``"input"``; each later checkpoint
    of the run ends one superstep, and the nodes that made it (:func:`step_nodes`) are
    drawn as tasks spanning that step (so parallel tasks all look as long as the
    slowest of them, and several ``Send`` tasks of one node as one). Times are the
    checkpoints' ``created_at``."""
    by_ns: dict[str, list[Any]] = {}
    for r in records:
        by_ns.setdefault(r.checkpoint_ns, []).append(r)
    root = sorted(by_ns.pop("", []), key=lambda r: r.checkpoint_id)
    runs: list[tuple[str, Timeline]] = []
    current: Timeline | None = None
    prev_t = 0.0
    for i, r in enumerate(root):
        meta = r.metadata or {}
        t = _seconds(r.created_at, float(i))
        if current is None or meta.get("source") == "input":
            current = Timeline(run_id=r.checkpoint_id, graph=thread_id, start=t, end=t)
            runs.append((f"run {len(runs) + 1} (from checkpoint {r.checkpoint_id})", current))
            prev_t = t
        exact = step_timings(r, serde)
        for name, tid, step, start, end, outcome, *_ in exact:
            current.tasks.append(TaskRecord(
                str(tid), str(name), int(step), float(start), float(end if end is not None else t),
                outcome, thread=thread_id,
            ))  # fmt: skip
            current.start = min(current.start, float(start))
        for name in [] if exact else step_nodes(r, serde):
            current.tasks.append(TaskRecord(
                f"{r.checkpoint_id}:{name}", name, int(meta.get("step", r.step)), prev_t, t, "ok",
                thread=thread_id,
            ))  # fmt: skip
        current.end = max(t, max((float(row[4] or t) for row in exact), default=t))
        prev_t = t
    # subgraph checkpoints: tasks in their namespace, placed by time in the run they fall in
    for ns, recs in by_ns.items():
        recs.sort(key=lambda r: r.checkpoint_id)
        namespace = tuple(ns.split("|"))
        prev = None
        for i, r in enumerate(recs):
            meta = r.metadata or {}
            t = _seconds(r.created_at, float(i))
            if prev is not None and meta.get("source") != "input":
                owner = next((tl for _, tl in reversed(runs) if tl.start <= prev), None)
                if owner is not None:
                    for name in step_nodes(r, serde):
                        owner.tasks.append(TaskRecord(
                            f"{r.checkpoint_id}:{name}", name, int(meta.get("step", r.step)),
                            prev, t, "ok", thread=thread_id, namespace=namespace,
                        ))  # fmt: skip
            prev = t
    for _, tl in runs:
        tl.tasks.sort(key=lambda x: (x.start, x.step))
    return runs


def now_stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")
