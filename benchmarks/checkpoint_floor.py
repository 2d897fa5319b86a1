"""The floors under the per-step checkpoint targets (``checkpoint_memory``: 20 µs,
``checkpoint_sqlite``: 100 µs): what the parts of one checkpointed step cost on this
machine with no engine around them.

    python benchmarks/checkpoint_floor.py

* **Minimal record, in memory.** Only what any checkpoint of one appending step has to
  hold, built from swiftgraph's own parts and stored in an ``InMemorySaver``: the
  task's id, its write serialized, the two pending-write rows (the item, the edge
  trigger), the checkpoint's payload (triggers, the node that ran, its timeline row,
  the delta), a fresh checkpoint id, a timestamp, metadata, the record. No snapshot
  rule, no compaction, no cache, no engine step: timed in a tight loop (hot caches),
  so it is a floor, not an estimate.
* **Bare sqlite3, one commit per step.** One checkpoint row and two write rows of the
  benchmark's sizes inserted and committed per step with the stdlib driver, WAL mode,
  ``synchronous=FULL`` (an fsync per commit) and ``NORMAL``. That is what
  ``durability="sync"`` asks of any SQLite saver; ``"async"`` may batch commits.

The chain's own engine step (no checkpointer) is printed beside them: a checkpointed
step costs at least the sum.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE), str(HERE / "workloads")]

from swiftgraph._internal.compiled_types import task_id  # noqa: E402
from swiftgraph._internal.persistence import now_iso  # noqa: E402
from swiftgraph._internal.serde import Serializer, _json_text  # noqa: E402
from swiftgraph.checkpoint.base import (  # noqa: E402
    CheckpointRecord,
    PendingWrite,
    WriteBatch,
    new_checkpoint_id,
)
from swiftgraph.checkpoint.memory import InMemorySaver  # noqa: E402

ITEM = ["0001" + "x" * 96]  # one step's write: a 100-byte item appended to a list


def minimal_record_us(n: int = 20_000) -> float:
    serde, saver = Serializer(), InMemorySaver()
    step = [0]

    def one() -> None:
        step[0] += 1
        i = step[0]
        tid = task_id("run", i, "__pregel_pull", "n5")
        value = serde.dumps(ITEM)
        path = "~__pregel_pull, n5"
        rows = [PendingWrite(path, tid, 0, "items", value), PendingWrite(path, tid, 1, "branch:to:n6", b"null")]
        head = _json_text({
            "sends": [], "trig": {"branch:to:n6": None}, "ran": ["n5"],
            "tl": [["n5", tid, i, 1_732_847_000_000_000, 1_732_847_000_000_010, "ok"]],
        }).encode()
        data = head[:-1] + b',"state":{},"delta":{"items":[' + value + b"]}}"
        record = CheckpointRecord(
            "t", "", new_checkpoint_id(), "parent", i, now_iso(),
            {"source": "loop", "step": i, "parents": {}}, data,
        )
        saver.put_many([WriteBatch("t", "", "parent", rows), record])

    return min(timeit.repeat(one, number=n, repeat=5)) / n * 1e6


def sqlite_commit_us(synchronous: str, n: int = 1_000) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "floor.sqlite"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("CREATE TABLE c (thread TEXT, id TEXT, data BLOB, PRIMARY KEY (thread, id))")
        conn.execute("CREATE TABLE w (thread TEXT, id TEXT, idx INT, v BLOB, PRIMARY KEY (thread, id, idx))")
        data = b"x" * 400  # about a delta record's size in the benchmark
        times = []
        for rnd in range(3):
            t0 = time.perf_counter()
            for i in range(n):
                key = f"{rnd}-{i:08d}"
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO c VALUES ('t', ?, ?)", (key, data))
                conn.executemany(
                    "INSERT INTO w VALUES ('t', ?, ?, ?)", [(key, 0, data[:110]), (key, 1, b"null")]
                )
                conn.execute("COMMIT")
            times.append((time.perf_counter() - t0) / n * 1e6)
        conn.close()
    return statistics.median(times)


def engine_step_us() -> float:
    import engines
    from workloads.checkpoint import STEPS, build_append_chain

    graph = build_append_chain(engines.load("swiftgraph"), STEPS, None)
    for _ in range(3):
        graph.invoke({"items": []})
    runs = []
    for _ in range(30):
        t0 = time.perf_counter()
        graph.invoke({"items": []})
        runs.append((time.perf_counter() - t0) / STEPS * 1e6)
    return statistics.median(runs)


def main() -> None:
    print(f"the appending chain's engine step, no checkpointer: {engine_step_us():6.1f} µs")
    print(f"minimal checkpoint record, in memory (hot loop):   {minimal_record_us():6.1f} µs"
          "   (target for a whole step: 20 µs)")
    for mode in ("FULL", "NORMAL"):
        print(f"bare sqlite3, one commit per step, {mode:6s}:        {sqlite_commit_us(mode):6.1f} µs"
              "   (target for a whole step: 100 µs)")


if __name__ == "__main__":
    main()
