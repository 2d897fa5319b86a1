"""Several processes writing one database at once: nothing lost, no error surfaced.

4 writer processes (``spawn``) x 200 checkpoints (+ 2 pending writes each) on distinct
threads, plus a reader process listing and reading meanwhile, all released together
by a barrier onto a database that doesn't exist yet (SQLite) or an empty schema
(PostgreSQL): opening, WAL switching and migrations race as well as the writes.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue as queue_mod
from typing import Any

import _mp_workers as workers
import pytest

WRITERS = 4
PER_WRITER = 200
TIMEOUT = 300


def run_processes(kind: str, target: str) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS + 1)
    stop = ctx.Event()
    results = ctx.Queue()
    procs = [
        ctx.Process(target=workers.writer, args=(kind, target, w, PER_WRITER, barrier, results))
        for w in range(WRITERS)
    ]
    procs.append(ctx.Process(target=workers.reader, args=(kind, target, barrier, stop, results)))
    for p in procs:
        p.start()
    reports: dict[str, Any] = {}
    errors: list[str] = []
    try:
        while len(reports) < WRITERS:
            name, status, detail = results.get(timeout=TIMEOUT)
            if status != "ok":
                errors.append(f"{name}:\n{detail}")
            reports[name] = detail
        stop.set()
        name, status, detail = results.get(timeout=60)
        if status != "ok":
            errors.append(f"{name}:\n{detail}")
        reports[name] = detail
    except queue_mod.Empty:
        errors.append("a process did not report in time")
    finally:
        stop.set()
        for p in procs:
            p.join(60)
            if p.is_alive():
                p.kill()
    assert not errors, "\n".join(errors)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return reports


def check_all_there(saver: Any) -> None:
    assert saver.threads() == [f"w{w}" for w in range(WRITERS)]
    for w in range(WRITERS):
        rows = list(saver.list(f"w{w}"))
        assert len(rows) == PER_WRITER
        # a complete parent chain, steps in order, payloads intact
        assert [r.step for r in rows] == list(range(PER_WRITER - 2, -2, -1))
        assert all(a.parent_id == b.checkpoint_id for a, b in itertools.pairwise(rows))
        assert rows[-1].parent_id is None
        for r in rows:
            assert r.data == workers.payload(w, r.step + 1)
            assert [x.idx for x in saver.get_writes(r.thread_id, "", r.checkpoint_id)] == [0, 1]
    assert len(list(saver.list(None, None))) == WRITERS * PER_WRITER


def test_sqlite_many_processes_one_file(tmp_path):
    from swiftgraph.checkpoint.sqlite import SqliteSaver

    path = str(tmp_path / "shared.sqlite")
    reports = run_processes("sqlite", path)
    print("sqlite", reports)
    with SqliteSaver.from_conn_string(path) as saver:
        check_all_there(saver)
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_postgres_many_processes_one_database(pg_schema_dsn):
    from swiftgraph.checkpoint.postgres import PostgresSaver

    reports = run_processes("postgres", pg_schema_dsn)
    print("postgres", reports)
    with PostgresSaver.from_conn_string(pg_schema_dsn) as saver:
        check_all_there(saver)
        from swiftgraph.checkpoint.postgres import MIGRATIONS

        versions = saver.conn.execute("SELECT v FROM swiftgraph_migrations ORDER BY v").fetchall()
        # each applied once although five processes ran setup at once
        assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_threads_sharing_one_saver(kind, tmp_path, request):
    """One saver object used by several threads of one process."""
    import threading

    target = (
        str(tmp_path / "t.sqlite") if kind == "sqlite" else request.getfixturevalue("pg_schema_dsn")
    )
    errors: list[BaseException] = []
    with workers.open_saver(kind, target) as saver:

        def body(w: int) -> None:
            try:
                workers.write_thread(saver, w, 50)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=body, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert saver.threads() == [f"w{w}" for w in range(8)]
        assert all(len(list(saver.list(f"w{w}"))) == 50 for w in range(8))
