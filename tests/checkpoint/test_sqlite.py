"""SQLite specifics: WAL, lock contention, migrations, connections, the async wrapper."""

from __future__ import annotations

import asyncio
import contextlib
import operator
import sqlite3
import threading
import time
from typing import Annotated, TypedDict

import pytest

from swiftgraph.checkpoint.base import CheckpointRecord, PendingWrite, new_checkpoint_id
from swiftgraph.checkpoint.sqlite import MIGRATIONS, SqliteSaver
from swiftgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


def rec(thread_id: str = "t", data: bytes = b"x") -> CheckpointRecord:
    return CheckpointRecord(thread_id, "", new_checkpoint_id(), None, 0, "now", {"step": 0}, data)


def test_file_is_wal_and_versioned(tmp_path):
    path = tmp_path / "cp.sqlite"
    with SqliteSaver.from_conn_string(path) as saver:
        saver.put(rec())
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [
            (v,) for v in range(1, len(MIGRATIONS) + 1)
        ]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"checkpoints", "writes", "schema_version"} <= tables
    conn.close()


def test_reopen_keeps_data_and_setup_is_idempotent(tmp_path):
    path = str(tmp_path / "cp.sqlite")
    r = rec(data=b"\x00kept")
    with SqliteSaver.from_conn_string(path) as saver:
        saver.put(r)
        saver.setup()
    with SqliteSaver.from_conn_string(path) as saver:
        saver.setup()
        saver.setup()
        assert saver.get("t", "") == r
        assert saver.conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(
            MIGRATIONS
        )


def test_foreign_checkpoints_table_refused(tmp_path):
    """A file holding another checkpointer's tables (e.g. LangGraph's) is left alone."""
    path = tmp_path / "langgraph.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE checkpoints (thread_id TEXT, checkpoint BLOB)")
    conn.close()
    with (
        SqliteSaver.from_conn_string(path) as saver,
        pytest.raises(RuntimeError, match="did not create"),
    ):
        saver.get("t", "")
    with sqlite3.connect(path) as conn:  # untouched: the migration rolled back
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert names == {"checkpoints"}


def test_newer_schema_refused(tmp_path):
    path = str(tmp_path / "cp.sqlite")
    with SqliteSaver.from_conn_string(path) as saver:
        saver.setup()
        saver.conn.execute("INSERT INTO schema_version VALUES (99, 'future')")
    with (
        SqliteSaver.from_conn_string(path) as saver,
        pytest.raises(RuntimeError, match="upgrade swiftgraph"),
    ):
        saver.put(rec())


def test_busy_database_is_waited_out(tmp_path):
    """Another process holds the write lock longer than busy_timeout: the retry loop
    waits it out, where SQLite alone would raise "database is locked"."""
    path = str(tmp_path / "cp.sqlite")
    with SqliteSaver.from_conn_string(path, timeout=0.02) as saver:
        saver.setup()
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        threading.Timer(0.5, lambda: other.execute("COMMIT")).start()
        start = time.monotonic()
        saver.put(rec())
        assert time.monotonic() - start >= 0.4
        assert saver.busy_retries > 0
        assert len(list(saver.list("t"))) == 1

        other.execute("BEGIN IMMEDIATE")
        try:
            no_retry = SqliteSaver(path=path, timeout=0.02, retry_for=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                no_retry.put(rec())
            no_retry.close()
        finally:
            other.execute("COMMIT")
            other.close()


def test_caller_connection_is_used_not_closed(tmp_path):
    conn = sqlite3.connect(tmp_path / "mine.sqlite", check_same_thread=False)
    saver = SqliteSaver(conn)
    r = rec()
    saver.put(r)
    saver.put_writes("t", "", r.checkpoint_id, [PendingWrite("~0", "a", 0, "x", b"v")])
    saver.close()
    assert conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 1
    assert not conn.in_transaction  # committed
    conn.close()
    with pytest.raises(TypeError):
        SqliteSaver(sqlite3.connect(":memory:"), path="x.sqlite")


def test_forked_child_is_refused(tmp_path, monkeypatch):
    with SqliteSaver.from_conn_string(tmp_path / "cp.sqlite") as saver:
        monkeypatch.setattr(saver, "_pid", -1)  # as if this were a forked child
        with pytest.raises(RuntimeError, match="forked"):
            saver.put(rec())


def test_list_is_lazy_and_paged(tmp_path):
    with SqliteSaver.from_conn_string(tmp_path / "cp.sqlite") as saver:
        for _ in range(40):
            saver.put(rec())
        statements: list[str] = []
        saver.conn.set_trace_callback(statements.append)
        it = saver.list("t")
        assert statements == []
        first = next(it)
        assert len([s for s in statements if s.startswith("SELECT")]) == 1
        rest = list(it)
        assert 1 + len(rest) == 40 and first.checkpoint_id > rest[0].checkpoint_id
        assert len([s for s in statements if s.startswith("SELECT")]) == 2  # 16, then 24 < 32


async def test_async_saver_from_conn_string(tmp_path):
    path = str(tmp_path / "cp.sqlite")
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        records = [rec(f"t{i % 5}") for i in range(50)]
        await asyncio.gather(*(saver.aput(r) for r in records))
        await asyncio.gather(
            *(
                saver.aput_writes(
                    r.thread_id, "", r.checkpoint_id, [PendingWrite("~0", "a", 0, "x", b"v")]
                )
                for r in records
            )
        )
        assert await saver.athreads() == [f"t{i}" for i in range(5)]
        assert len(await saver.alist(None, None)) == 50
        assert len(await saver.aget_writes("t0", "", records[0].checkpoint_id)) == 1
        await saver.adelete_thread("t0")
        assert await saver.aget("t0", "") is None
        # the sync methods work on the same saver, from the loop thread too
        assert saver.threads() == [f"t{i}" for i in range(1, 5)]
    with SqliteSaver.from_conn_string(path) as saver:
        assert len(list(saver.list(None, None))) == 40


class _Log(TypedDict):
    log: Annotated[list, operator.add]


def test_async_durability_stores_while_a_long_sync_run_goes_on(tmp_path):
    """Under the default durability ("async") checkpoints are stored in the background
    while the run goes on, also when every node is a plain function (which never
    hands the event loop a turn): a crash late in a long run loses its last moments,
    not the whole run."""
    from swiftgraph.graph import END, START, StateGraph

    path = tmp_path / "cp.sqlite"
    seen: list[int] = []

    def step(i: int):
        def node(state: _Log) -> dict:
            time.sleep(0.06)
            with contextlib.closing(sqlite3.connect(path)) as other:  # what a restart would find
                seen.append(other.execute("SELECT count(*) FROM checkpoints").fetchone()[0])
            return {"log": [i]}

        return node

    g = StateGraph(_Log)
    names = [f"n{i}" for i in range(8)]
    for i, name in enumerate(names):
        g.add_node(name, step(i))
    g.add_edge(START, names[0])
    for a, b in zip(names, names[1:]):
        g.add_edge(a, b)
    g.add_edge(names[-1], END)
    with SqliteSaver.from_conn_string(path) as saver:
        out = g.compile(checkpointer=saver).invoke({"log": []}, {"configurable": {"thread_id": "t"}})
    assert out["log"] == list(range(8))
    # the last node ran ~0.4 s into the run: most checkpoints before it were stored
    assert seen[-1] >= 4, seen


def test_metadata_text_is_what_json_dumps_writes(tmp_path):
    """The SQL savers store metadata as the stdlib encoder's text (see checkpoint._sql):
    kept when the encoder is made once instead of per call, errors included."""
    import json
    import math

    from swiftgraph.checkpoint._sql import dump_metadata

    tricky = {
        "source": "loop", "step": 3, "parents": {"": "x"}, 1: "an int key",
        "text": "é\x00\u2028😀\ud800", "floats": [2.5, -0.0, math.inf, math.nan, 1e300],
        "nested": [{"a": [None, True, False]}, 10**30],
    }
    for meta in (tricky, {}, {"source": "input", "step": -1}):
        assert dump_metadata(meta) == json.dumps(meta, separators=(",", ":"))
    cycle: dict = {}
    cycle["me"] = cycle
    with pytest.raises(ValueError, match="Circular reference"):
        dump_metadata(cycle)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dump_metadata({"x": object()})
    with SqliteSaver.from_conn_string(tmp_path / "cp.sqlite") as saver:
        record = CheckpointRecord("t", "", new_checkpoint_id(), None, 0, "now", tricky, b"x")
        saver.put(record)
        got = saver.get("t", "").metadata
    assert json.dumps(got) == json.dumps(json.loads(json.dumps(tricky)))  # (NaN != NaN)
