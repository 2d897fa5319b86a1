"""Process bodies for test_concurrency.py (importable by ``spawn``ed children).

Each writer opens its own saver *after* the start barrier, so opening the database,
switching SQLite to WAL and running the migrations race too, then writes ``n``
checkpoints (each with two pending writes) to its own thread. The reader lists and
reads while they write. Every process reports ``(name, "ok" | "error", detail)``.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from swiftgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointRecord,
    PendingWrite,
    new_checkpoint_id,
)


def open_saver(kind: str, target: str) -> Any:
    if kind == "sqlite":
        from swiftgraph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver.from_conn_string(target)
    from swiftgraph.checkpoint.postgres import PostgresSaver

    return PostgresSaver.from_conn_string(target)


def payload(wid: int, i: int) -> bytes:
    return (f"{wid}:{i}:".encode() + b"\x00\xff") * (1 + i % 50)


def write_thread(saver: BaseCheckpointSaver, wid: int, n: int) -> None:
    parent = None
    for i in range(n):
        cid = new_checkpoint_id()
        saver.put(
            CheckpointRecord(
                f"w{wid}",
                "",
                cid,
                parent,
                i - 1,
                "2025-01-01T00:00:00+00:00",
                {"source": "loop", "step": i - 1},
                payload(wid, i),
                snapshot=i % 10 == 0,
            )
        )
        saver.put_writes(
            f"w{wid}",
            "",
            cid,
            [PendingWrite("~0", f"task{i}", j, "x", payload(wid, i)[j:]) for j in range(2)],
        )
        parent = cid


def writer(kind: str, target: str, wid: int, n: int, barrier: Any, queue: Any) -> None:
    name = f"writer{wid}"
    try:
        barrier.wait(60)
        start = time.perf_counter()
        with open_saver(kind, target) as saver:
            write_thread(saver, wid, n)
            retries = getattr(saver, "busy_retries", 0)
        queue.put((name, "ok", {"seconds": time.perf_counter() - start, "busy_retries": retries}))
    except BaseException:  # noqa: BLE001 - reported to the parent
        queue.put((name, "error", traceback.format_exc()))


def reader(kind: str, target: str, barrier: Any, stop: Any, queue: Any) -> None:
    try:
        barrier.wait(60)
        reads = 0
        with open_saver(kind, target) as saver:
            while not stop.is_set():
                for r in saver.list(None, None, limit=20):
                    assert saver.get(r.thread_id, r.checkpoint_ns, r.checkpoint_id) == r
                    saver.get_writes(r.thread_id, r.checkpoint_ns, r.checkpoint_id)
                    reads += 1
                saver.threads()
                time.sleep(0.001)
        queue.put(("reader", "ok", {"reads": reads}))
    except BaseException:  # noqa: BLE001 - reported to the parent
        queue.put(("reader", "error", traceback.format_exc()))
