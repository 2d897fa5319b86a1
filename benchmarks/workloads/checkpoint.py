"""Checkpointing workloads: per-step cost with a saver, bytes stored, ``get_state`` latency.

The run measured is a chain of N nodes, each appending one ~100-byte item to an
``Annotated[list, operator.add]`` key, invoked on a fresh ``thread_id`` so that every
superstep writes a checkpoint (N + 2 of them: the input, START's step, one per node).
Nodes are sync and the graph runs under ``invoke``: LangGraph's ``SqliteSaver`` is
sync-only (its ``a*`` methods raise), so this is the one setup both engines run as is.

Savers (the only engine-specific code here, in :func:`memory_saver` / :func:`sqlite_saver`):

* in memory: ``E.InMemorySaver()`` (``swiftgraph.checkpoint.memory`` /
  ``langgraph.checkpoint.memory``);
* SQLite file, WAL journal on both: swiftgraph ``SqliteSaver(path=..., synchronous=S)``;
  LangGraph ``SqliteSaver(sqlite3.connect(path, check_same_thread=False))`` after
  ``PRAGMA synchronous=S`` on that connection (package ``langgraph-checkpoint-sqlite``).
  ``S`` is ``FULL`` (SQLite's and swiftgraph's default: a commit survives power loss)
  or ``NORMAL`` (no fsync per commit in WAL mode; survives a process crash, may lose
  the last commits on power loss).

Bytes stored are the payloads both engines write, summed the same way: checkpoint
blobs + metadata + pending-write values (+ LangGraph's separate channel blobs in
memory). For SQLite also the file size after ``wal_checkpoint(TRUNCATE)`` + ``VACUUM``
(one file per engine and length, so nothing else is in it).

``python -m workloads.checkpoint get_state ENGINE PATH THREAD`` is the fresh-process
probe: open the file, compile the graph, then time the first ``get_state``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import operator
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from typing import Annotated, Any, TypedDict

from harness import Metric, Workload, check

US = 1e6
KIB = 1024


# --------------------------------------------------------------------- graph


def item(i: int) -> str:
    """The i-th appended item: 100 bytes, unique and ordered."""
    return f"{i:04d}" + "x" * 96


class ListState(TypedDict, total=False):
    items: Annotated[list, operator.add]
    n: int


def appender(i: int):
    value = item(i)

    def append(s):
        return {"items": [value]}

    return append


def step(s):
    return {"items": [item(len(s["items"]))]}


def more(s):
    return "step" if len(s["items"]) < s["n"] else "__end__"


def build_append_chain(E, n: int, checkpointer: Any):
    """START -> n0 -> n1 -> ... -> n{n-1} -> END; node i appends item(i)."""
    g = E.StateGraph(ListState)
    names = [f"n{i}" for i in range(n)]
    for i, name in enumerate(names):
        g.add_node(name, appender(i))
    g.add_edge(E.START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    g.add_edge(names[-1], E.END)
    return g.compile(checkpointer=checkpointer)


def build_append_loop(E, checkpointer: Any):
    """One node appending item(len) until ``n`` items: a thread with n + 2 checkpoints."""
    g = E.StateGraph(ListState)
    g.add_node("step", step)
    g.add_edge(E.START, "step")
    g.add_conditional_edges("step", more, ["step", E.END])
    return g.compile(checkpointer=checkpointer)


def expected(n: int) -> list[str]:
    return [item(i) for i in range(n)]


# --------------------------------------------------------------------- savers


def memory_saver(E):
    return E.InMemorySaver()


def sqlite_saver(E, path: str, synchronous: str = "FULL"):
    """A SQLite file saver with ``PRAGMA synchronous`` set; ``.close()`` closes it."""
    if E.name == "swiftgraph":
        return E.SqliteSaver(path=path, synchronous=synchronous)
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    saver = E.SqliteSaver(conn)
    saver.close = conn.close  # type: ignore[attr-defined]
    return saver


def check_pragmas(E, saver: Any, synchronous: str) -> None:
    """The connection really runs in WAL mode with the requested ``synchronous``."""
    with getattr(saver, "lock", None) or contextlib.nullcontext():
        sync = saver.conn.execute("PRAGMA synchronous").fetchone()[0]
        journal = saver.conn.execute("PRAGMA journal_mode").fetchone()[0]
    want = {"NORMAL": 1, "FULL": 2}[synchronous.upper()]
    check(sync == want and journal == "wal", f"PRAGMA synchronous={sync}, journal_mode={journal}")


def count_checkpoints(E, saver: Any, thread: str) -> int:
    """Checkpoints stored for ``thread`` (root namespace), read from the saver's storage."""
    if isinstance(getattr(saver, "conn", None), sqlite3.Connection):
        # both engines name the table ``checkpoints``
        with getattr(saver, "lock", None) or contextlib.nullcontext():
            row = saver.conn.execute(
                "SELECT count(*) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ''",
                (thread,),
            ).fetchone()
        return row[0]
    if E.name == "swiftgraph":
        return len(saver.storage.get((thread, ""), {}))
    return len(saver.storage.get(thread, {}).get("", {}))


def _bytes_in(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, (tuple, list)):
        return sum(_bytes_in(v) for v in value)
    if isinstance(value, dict):
        return sum(_bytes_in(v) for v in value.values())
    return 0


def memory_bytes(E, saver: Any, thread: str) -> int:
    """Payload bytes an in-memory saver holds for ``thread``: checkpoint data, metadata
    (swiftgraph keeps it as a dict: counted as the JSON its SQL savers store), write
    values; LangGraph's checkpoint tuples, metadata, write values and channel blobs."""
    if E.name == "swiftgraph":
        total = 0
        for rec in saver.storage.get((thread, ""), {}).values():
            total += len(rec.data) + len(json.dumps(rec.metadata, separators=(",", ":")).encode())
        for (tid, _ns, _cid), bucket in saver.writes.items():
            if tid == thread:
                total += sum(len(w.value) for w in bucket.values())
        return total
    total = _bytes_in(saver.storage.get(thread, {}))
    total += sum(_bytes_in(v) for k, v in saver.writes.items() if k[0] == thread)
    total += sum(_bytes_in(v) for k, v in saver.blobs.items() if k[0] == thread)
    return total


SQL_PAYLOAD = {
    # checkpoint payload + metadata + pending-write values, in bytes
    "swiftgraph": (
        "SELECT (SELECT coalesce(sum(length(data) + length(CAST(metadata AS BLOB))), 0)"
        " FROM checkpoints) + (SELECT coalesce(sum(length(value)), 0) FROM writes)"
    ),
    "langgraph": (
        "SELECT (SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0)"
        " FROM checkpoints) + (SELECT coalesce(sum(length(value)), 0) FROM writes)"
    ),
}


def sqlite_sizes(engine: str, path: str) -> tuple[int, int]:
    """(payload bytes, file bytes after WAL checkpoint + VACUUM) of a closed saver's file."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        payload = conn.execute(SQL_PAYLOAD[engine]).fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return payload, os.path.getsize(path)


# --------------------------------------------------------------------- per-step workloads


def _tempdir(w: Workload, E) -> str:
    """A directory for this workload and engine, removed when the run ends (a workload
    object is shared by the engines: each keeps its own)."""
    dirs = w.__dict__.setdefault("_tmpdirs", {})
    dirs[E.name] = tempfile.TemporaryDirectory(prefix=f"bench-{w.name}-{E.name}-")
    return dirs[E.name].name


STEPS = 100
_threads = itertools.count()


def _chain_sample(E, graph: Any, saver: Any, durability: str | None) -> float:
    """Invoke the chain once on a new thread; validate; return µs per step."""
    thread = f"t{next(_threads)}"
    config = {"configurable": {"thread_id": thread}, "recursion_limit": STEPS + 1}
    kwargs = {"durability": durability} if durability else {}
    t0 = time.perf_counter()
    out = graph.invoke({"items": []}, config, **kwargs)
    dt = time.perf_counter() - t0
    check(out["items"] == EXPECTED_100, f"items: {len(out.get('items', []))} wrong or out of order")
    stored = count_checkpoints(E, saver, thread)
    check(stored == STEPS + 2, f"{stored} checkpoints stored for the thread, expected {STEPS + 2}")
    return dt / STEPS * US


EXPECTED_100 = expected(STEPS)


class CheckpointMemory(Workload):
    name = "checkpoint_memory"
    title = "100-step chain appending to a list, InMemorySaver, sync invoke"
    metrics = (
        Metric("sync_us", "per step, durability=sync", "us", target=20),
        Metric("async_us", "per step, default (async)", "us", target=20),
    )
    needs = ("memory",)

    def setup(self, E, quick):
        saver = memory_saver(E)
        graph = build_append_chain(E, STEPS, saver)

        def sample():
            return {
                "sync_us": _chain_sample(E, graph, saver, "sync"),
                "async_us": _chain_sample(E, graph, saver, None),
            }

        return sample


class CheckpointSqlite(Workload):
    name = "checkpoint_sqlite"
    title = "same chain, SQLite file saver (FULL / NORMAL sync), sync invoke"
    metrics = (
        Metric("full_sync_us", "synchronous=FULL, durability=sync", "us", target=100),
        Metric("full_async_us", "synchronous=FULL, default (async)", "us", target=100),
        Metric("normal_sync_us", "synchronous=NORMAL, durability=sync", "us", target=100),
        Metric("normal_async_us", "synchronous=NORMAL, default (async)", "us", target=100),
    )
    needs = ("sqlite",)
    reps, quick_reps = 5, 3
    max_reps, budget_s, quick_budget_s = 15, 3.0, 1.0

    def setup(self, E, quick):
        tmp = _tempdir(self, E)
        runs = []
        for mode in ("FULL", "NORMAL"):
            saver = sqlite_saver(E, os.path.join(tmp, f"{mode}.sqlite"), mode)
            runs.append((mode.lower(), saver, build_append_chain(E, STEPS, saver)))

        def sample():
            res = {}
            for mode, saver, graph in runs:
                res[f"{mode}_sync_us"] = _chain_sample(E, graph, saver, "sync")
                res[f"{mode}_async_us"] = _chain_sample(E, graph, saver, None)
                check_pragmas(E, saver, mode)
            return res

        return sample


# --------------------------------------------------------------------- bytes stored


class CheckpointBytes(Workload):
    name = "checkpoint_bytes"
    title = "bytes stored by the appending chain at 100 and 500 steps"
    SIZES = (100, 500)
    metrics = (
        *(Metric(f"mem_{n}", f"in memory, {n} steps", "KiB") for n in SIZES),
        *(Metric(f"sqlite_{n}", f"SQLite row payloads, {n} steps", "KiB") for n in SIZES),
        *(Metric(f"file_{n}", f"SQLite file after VACUUM, {n} steps", "KiB") for n in SIZES),
        Metric("growth", "growth 500/100 (SQLite payloads; linear = 5x)", "x"),
    )
    needs = ("memory", "sqlite")
    warmup = 0  # deterministic sizes: one sample is the answer
    reps = quick_reps = max_reps = 1

    def setup(self, E, quick):
        def sample():
            res = {}
            with tempfile.TemporaryDirectory(prefix=f"bench-bytes-{E.name}-") as tmp:
                for n in self.SIZES:
                    config = {"configurable": {"thread_id": "bytes"}, "recursion_limit": n + 1}
                    saver = memory_saver(E)
                    out = build_append_chain(E, n, saver).invoke({"items": []}, config)
                    check(out["items"] == expected(n), f"{n} steps: wrong items")
                    stored = count_checkpoints(E, saver, "bytes")
                    check(stored == n + 2, f"{n} steps: {stored} checkpoints")
                    res[f"mem_{n}"] = memory_bytes(E, saver, "bytes") / KIB

                    path = os.path.join(tmp, f"{n}.sqlite")
                    saver = sqlite_saver(E, path, "NORMAL")  # durability doesn't change sizes
                    try:
                        out = build_append_chain(E, n, saver).invoke({"items": []}, config)
                        check(out["items"] == expected(n), f"{n} steps (SQLite): wrong items")
                        stored = count_checkpoints(E, saver, "bytes")
                        check(stored == n + 2, f"{n} steps (SQLite): {stored} checkpoints")
                    finally:
                        saver.close()
                    payload, size = sqlite_sizes(E.name, path)
                    res[f"sqlite_{n}"], res[f"file_{n}"] = payload / KIB, size / KIB
            return res

        return sample

    def derive(self, m):
        return {"growth": m["sqlite_500"] / m["sqlite_100"]}


# --------------------------------------------------------------------- get_state latency

HISTORY = 1000  # checkpoints in the thread
LOOP_ITEMS = HISTORY - 2  # input + START's step + one per appended item


def _check_snapshot(snap: Any) -> None:
    items = snap.values.get("items", [])
    check(
        len(items) == LOOP_ITEMS and items[-1] == item(LOOP_ITEMS - 1) and not snap.next,
        f"get_state: {len(items)} items, next={snap.next!r}",
    )


def fill_thread(E, saver: Any, thread: str) -> None:
    graph = build_append_loop(E, saver)
    config = {"configurable": {"thread_id": thread}, "recursion_limit": HISTORY + 10}
    out = graph.invoke({"items": [], "n": LOOP_ITEMS}, config)
    check(len(out["items"]) == LOOP_ITEMS, "filling the thread")
    stored = count_checkpoints(E, saver, thread)
    check(stored == HISTORY, f"the thread has {stored} checkpoints, expected {HISTORY}")


def _per_call(fn: Any, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        snap = fn()
    dt = time.perf_counter() - t0
    _check_snapshot(snap)
    return dt / calls * US


def get_state_child(engine: str, path: str, thread: str) -> dict[str, float]:
    """In a fresh process: open the file, compile, time the first and second get_state."""
    import engines

    E = engines.load(engine)
    saver = sqlite_saver(E, path, "FULL")
    graph = build_append_loop(E, saver)
    config = {"configurable": {"thread_id": thread}}
    t0 = time.perf_counter()
    snap = graph.get_state(config)
    first = time.perf_counter() - t0
    _check_snapshot(snap)
    t0 = time.perf_counter()
    _check_snapshot(graph.get_state(config))
    second = time.perf_counter() - t0
    saver.close()
    return {"first_us": first * US, "second_us": second * US}


class CheckpointGetState(Workload):
    name = "checkpoint_get_state"
    title = "get_state on a thread with 1,000 checkpoints (998-item list)"
    metrics = (
        Metric("mem_us", "in memory, process that wrote it", "us", target=1000),
        Metric("mem_cold_us", "in memory, engine cache cleared", "us", target=1000),
        Metric("sqlite_us", "SQLite, saver that wrote it", "us", target=1000),
        Metric("sqlite_fresh_us", "SQLite, new saver (same process)", "us", target=1000),
        Metric("sqlite_proc_us", "SQLite, fresh process, 1st call", "us", target=1000),
        Metric("sqlite_proc2_us", "SQLite, fresh process, 2nd call", "us", target=1000),
    )
    needs = ("memory", "sqlite")
    warmup = 0  # the first sample's fresh process is as cold as any
    reps, quick_reps = 5, 3
    max_reps, budget_s, quick_budget_s = 5, 1.0, 0.3
    CALLS = 20

    def setup(self, E, quick):
        from engines import child_env, compile_package

        compile_package(E.name)  # the fresh process starts from bytecode, as installed
        path = os.path.join(_tempdir(self, E), "history.sqlite")
        thread = "history"
        config = {"configurable": {"thread_id": thread}}

        mem = memory_saver(E)
        fill_thread(E, mem, thread)
        mem_graph = build_append_loop(E, mem)
        sq = sqlite_saver(E, path, "NORMAL")  # the saver that writes it, kept for reading
        fill_thread(E, sq, thread)
        sq_graph = build_append_loop(E, sq)
        _check_snapshot(sq_graph.get_state(config))

        # swiftgraph keeps the checkpoints a process wrote (decoded) on the saver; the
        # "cache cleared" calls empty it, and it is put back for the warm calls
        cache = getattr(mem, "_swiftgraph_cache", None)
        warm = dict(cache) if cache is not None else {}

        def clear_cache():
            if cache is not None:
                cache.clear()
            return mem_graph.get_state(config)

        def restore_cache():
            if cache is not None:
                cache.clear()
                cache.update(warm)

        def fresh_saver_us() -> float:
            total = 0.0
            for _ in range(5):
                saver = sqlite_saver(E, path, "FULL")
                graph = build_append_loop(E, saver)
                t0 = time.perf_counter()
                snap = graph.get_state(config)
                total += time.perf_counter() - t0
                saver.close()
                _check_snapshot(snap)
            return total / 5 * US

        cmd = [sys.executable, "-m", "workloads.checkpoint", "get_state", E.name, path, thread]
        env = child_env()

        def sample():
            res = {
                "mem_us": _per_call(lambda: mem_graph.get_state(config), self.CALLS),
                "mem_cold_us": _per_call(clear_cache, self.CALLS),
            }
            restore_cache()
            res |= {
                "sqlite_us": _per_call(lambda: sq_graph.get_state(config), self.CALLS),
                "sqlite_fresh_us": fresh_saver_us(),
            }
            p = subprocess.run(
                cmd, capture_output=True, text=True, env=env, timeout=300, check=False
            )
            check(p.returncode == 0, f"fresh process failed: {p.stderr.strip()[-400:]}")
            child = json.loads(p.stdout.strip().splitlines()[-1])
            res["sqlite_proc_us"], res["sqlite_proc2_us"] = child["first_us"], child["second_us"]
            return res

        return sample


WORKLOADS = [CheckpointMemory(), CheckpointSqlite(), CheckpointBytes(), CheckpointGetState()]


if __name__ == "__main__":
    if sys.argv[1:2] == ["get_state"]:
        print(json.dumps(get_state_child(*sys.argv[2:5])))
