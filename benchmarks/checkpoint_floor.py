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
* **A cold read in a fresh process** (under ``checkpoint_get_state``'s "fresh process,
  1st call"): the benchmark's 1,000-checkpoint thread is written to a SQLite file by
  swiftgraph; then, each in a new interpreter with the file open, the time of
  (a) the one query swiftgraph's saver runs for it plus ``json.loads`` of each payload
  it returns, no engine, and (b) reading the whole state stored as *one* row and
  decoding it (what a saver storing one blob per checkpoint, LangGraph's way, reads
  at least). Beside them, swiftgraph's own first ``get_state`` in the same setting.
  The cost of a first touch of a fresh page of memory is printed with them: a fresh
  process pays it for every page its first read fills.

The chain's own engine step (no checkpointer) is printed beside them: a checkpointed
step costs at least the sum.
"""

from __future__ import annotations

import json
import mmap
import os
import sqlite3
import statistics
import subprocess
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
from swiftgraph.checkpoint import _sql  # noqa: E402
from swiftgraph.checkpoint.base import (  # noqa: E402
    CheckpointRecord,
    PendingWrite,
    WriteBatch,
    new_checkpoint_id,
)
from swiftgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from swiftgraph.checkpoint.sqlite import _CHAIN_LATEST  # noqa: E402

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


def page_fault_us(pages: int = 4096) -> float:
    """A first write to each page of a fresh anonymous mapping, per page."""
    m = mmap.mmap(-1, pages * mmap.PAGESIZE)
    t0 = time.perf_counter()
    for at in range(0, pages * mmap.PAGESIZE, mmap.PAGESIZE):
        m[at] = 1
    dt = time.perf_counter() - t0
    m.close()
    return dt / pages * 1e6


PROBE = """
import json, sqlite3, sys, time
sql, path = sys.argv[1:3]
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL").fetchone()
conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the schema, untimed
t0 = time.perf_counter()
payloads = [row[-1] for row in conn.execute(sql).fetchall()]
values = [json.loads(data.decode()) for data in payloads]
dt = time.perf_counter() - t0
assert values
print(json.dumps({"us": dt * 1e6, "bytes": sum(map(len, payloads))}))
"""
"""A fresh process's cold read, no engine: ``python -c PROBE SQL PATH`` runs one query
whose rows end with a payload, and decodes each (only sqlite3 and json imported)."""


def cold_reads(runs: int = 7) -> dict[str, tuple[float, int]]:
    """Medians over ``runs`` fresh processes: the bare chain read, the one-row read and
    swiftgraph's first ``get_state`` (as ``checkpoint_get_state`` runs it)."""
    import engines
    from workloads.checkpoint import LOOP_ITEMS, expected, fill_thread, sqlite_saver

    E = engines.load("swiftgraph")
    engines.compile_package("swiftgraph")
    env = engines.child_env()
    out: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "history.sqlite")
        saver = sqlite_saver(E, path, "NORMAL")
        fill_thread(E, saver, "history")
        saver.close()
        blob_path = os.path.join(tmp, "blob.sqlite")
        with sqlite3.connect(blob_path) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("CREATE TABLE blob (id INTEGER PRIMARY KEY, data BLOB)")
            state = json.dumps({"items": expected(LOOP_ITEMS)}, separators=(",", ":")).encode()
            conn.execute("INSERT INTO blob VALUES (1, ?)", (state,))
        conn.close()
        # the saver's query for the thread's latest checkpoint (its parameters inlined:
        # plain literals), only its payload column kept
        chain = _CHAIN_LATEST.replace("?", "'{}'").format(*_sql.chain_params("history", "", None))
        chain = f"SELECT data FROM ({chain})"
        probes = {
            "chain": [sys.executable, "-c", PROBE, chain, path],
            "blob": [sys.executable, "-c", PROBE, "SELECT data FROM blob WHERE id = 1", blob_path],
            "get_state": [  # the benchmark's own fresh-process probe
                sys.executable, "-m", "workloads.checkpoint", "get_state", "swiftgraph", path,
                "history",
            ],
        }
        samples: dict[str, list[float]] = {k: [] for k in probes}
        sizes: dict[str, int] = {}
        for _ in range(runs):  # interleaved: a noisy spell hits all three
            for name, cmd in probes.items():
                p = subprocess.run(
                    cmd, capture_output=True, text=True, env=env, cwd=HERE, check=True
                )
                res = json.loads(p.stdout.strip().splitlines()[-1])
                samples[name].append(res.get("us", res.get("first_us")))
                sizes[name] = int(res.get("bytes", 0))
        for name, values in samples.items():
            out[name] = (statistics.median(values), sizes[name])
    return out


def engine_step_us() -> float:
    """The fastest of 100 runs of the chain, per step: a floor, like the record's."""
    import engines
    from workloads.checkpoint import STEPS, build_append_chain

    graph = build_append_chain(engines.load("swiftgraph"), STEPS, None)
    for _ in range(3):
        graph.invoke({"items": []})
    runs = []
    for _ in range(100):
        t0 = time.perf_counter()
        graph.invoke({"items": []})
        runs.append((time.perf_counter() - t0) / STEPS * 1e6)
    return min(runs)


def main() -> None:
    step, record = engine_step_us(), minimal_record_us()
    print(f"the appending chain's engine step, no checkpointer: {step:6.1f} µs")
    print(f"minimal checkpoint record, in memory (hot loop):   {record:6.1f} µs")
    print(f"  the two together:                                {step + record:6.1f} µs"
          "   (target for a whole step: 20 µs)")
    for mode in ("FULL", "NORMAL"):
        print(f"bare sqlite3, one commit per step, {mode:6s}:        {sqlite_commit_us(mode):6.1f} µs"
              "   (target for a whole step: 100 µs)")
    print(f"first touch of a fresh memory page:                {page_fault_us():6.2f} µs")
    reads = cold_reads()
    labels = {
        "chain": "fresh process: the saver's query + json.loads, no engine",
        "blob": "fresh process: the whole state as one row, read + json.loads",
        "get_state": "fresh process: swiftgraph's first get_state",
    }
    for name, (us, size) in reads.items():
        what = f" ({size / 1024:,.0f} KiB read)" if size else ""
        print(f"{labels[name]}: {us:,.0f} µs{what}   (target for get_state: 1,000 µs)")


if __name__ == "__main__":
    main()
