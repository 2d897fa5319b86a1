"""Latency of one checkpoint (``put`` + ``put_writes`` of 2 writes) per saver.

Run: ``python tests/checkpoint/bench_savers.py [N]``. PostgreSQL: ``SWIFTGRAPH_TEST_PG_DSN``
if set, else a throwaway cluster (tests/pg_server.py; fsync off, so commits cost
no disk flush: a lower bound for a real server). Prints median and p95 in microseconds.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from swiftgraph.checkpoint.base import CheckpointRecord, PendingWrite, new_checkpoint_id

DATA = os.urandom(1024)
VALUE = os.urandom(200)


def one(i: int) -> tuple[CheckpointRecord, list[PendingWrite]]:
    cid = new_checkpoint_id()
    r = CheckpointRecord(
        "bench",
        "",
        cid,
        None,
        i,
        "2025-01-01T00:00:00+00:00",
        {"source": "loop", "step": i, "writes": {"node": {"k": i}}},
        DATA,
    )
    return r, [PendingWrite("~0", f"task{i}", j, "x", VALUE) for j in range(2)]


def report(name: str, samples: list[float]) -> None:
    samples.sort()
    med = statistics.median(samples) * 1e6
    p95 = samples[int(len(samples) * 0.95)] * 1e6
    print(f"{name:<34} median {med:8.1f} us   p95 {p95:8.1f} us")


def bench_sync(name: str, saver: Any, n: int) -> None:
    for i in range(20):  # warm up (setup, statement caches)
        r, w = one(i)
        saver.put(r)
        saver.put_writes(r.thread_id, "", r.checkpoint_id, w)
    samples = []
    for i in range(n):
        r, w = one(i)
        t = time.perf_counter()
        saver.put(r)
        saver.put_writes(r.thread_id, "", r.checkpoint_id, w)
        samples.append(time.perf_counter() - t)
    report(name, samples)


async def bench_async(name: str, saver: Any, n: int) -> None:
    for i in range(20):
        r, w = one(i)
        await saver.aput(r)
        await saver.aput_writes(r.thread_id, "", r.checkpoint_id, w)
    samples = []
    for i in range(n):
        r, w = one(i)
        t = time.perf_counter()
        await saver.aput(r)
        await saver.aput_writes(r.thread_id, "", r.checkpoint_id, w)
        samples.append(time.perf_counter() - t)
    report(name, samples)


def main(n: int) -> None:
    from swiftgraph.checkpoint.memory import InMemorySaver
    from swiftgraph.checkpoint.sqlite import SqliteSaver
    from swiftgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    bench_sync("memory", InMemorySaver(), n)
    with tempfile.TemporaryDirectory() as d:
        for sync in ("FULL", "NORMAL"):
            with SqliteSaver.from_conn_string(f"{d}/{sync}.sqlite", synchronous=sync) as s:
                bench_sync(f"sqlite file WAL synchronous={sync}", s, n)
        with SqliteSaver.from_conn_string(":memory:") as s:
            bench_sync("sqlite :memory:", s, n)

        async def asqlite() -> None:
            async with AsyncSqliteSaver.from_conn_string(f"{d}/async.sqlite") as s:
                await bench_async("async sqlite file WAL (FULL)", s, n)

        asyncio.run(asqlite())

    from pg_server import ENV_DSN, PgServer

    server = None
    dsn = os.environ.get(ENV_DSN)
    if not dsn:
        server = PgServer.start_new()
        dsn = server.dsn
    try:
        from psycopg_pool import ConnectionPool

        from swiftgraph.checkpoint.postgres import PostgresSaver
        from swiftgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        with PostgresSaver.from_conn_string(dsn) as s:
            s.setup()
            s.delete_thread("bench")
            bench_sync("postgres connection", s, n)
            s.delete_thread("bench")
        with ConnectionPool(dsn, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
            bench_sync("postgres pool (autocommit)", PostgresSaver(pool), n)
            PostgresSaver(pool).delete_thread("bench")

        async def apg() -> None:
            async with AsyncPostgresSaver.from_conn_string(dsn) as s:
                await bench_async("async postgres connection", s, n)
                await s.adelete_thread("bench")

        asyncio.run(apg())
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
