"""PostgreSQL specifics: the import guard, migrations, connection modes, sync/async mix."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from swiftgraph.checkpoint.base import CheckpointRecord, PendingWrite, new_checkpoint_id

INSTALL_HINT = "pip install 'swiftgraph[postgres]'"


def rec(thread_id: str = "t", data: bytes = b"x") -> CheckpointRecord:
    return CheckpointRecord(thread_id, "", new_checkpoint_id(), None, 0, "now", {"step": 0}, data)


@pytest.mark.parametrize(
    "module", ["swiftgraph.checkpoint.postgres", "swiftgraph.checkpoint.postgres.aio"]
)
def test_import_without_psycopg_names_the_extra(module):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["psycopg"] = None  # as if psycopg were not installed
        try:
            import {module}
        except ImportError as exc:
            print("ImportError:", exc)
            sys.exit(0)
        sys.exit("imported without psycopg")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert INSTALL_HINT in proc.stdout


def test_migrations_recorded_once_and_tables_prefixed(pg_schema_dsn):
    import psycopg

    from swiftgraph.checkpoint.postgres import MIGRATIONS, PostgresSaver

    for _ in range(2):
        with PostgresSaver.from_conn_string(pg_schema_dsn) as saver:
            saver.setup()
            saver.setup()
            saver.put(rec())
    with psycopg.connect(pg_schema_dsn) as conn:
        assert conn.execute("SELECT v FROM swiftgraph_migrations ORDER BY v").fetchall() == [
            (v,) for v in range(1, len(MIGRATIONS) + 1)
        ]
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }
    assert tables == {"swiftgraph_checkpoints", "swiftgraph_writes", "swiftgraph_migrations"}


def test_newer_schema_refused(pg_schema_dsn):
    from swiftgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(pg_schema_dsn) as saver:
        saver.setup()
        saver.conn.execute("INSERT INTO swiftgraph_migrations (v) VALUES (99)")
    with (
        PostgresSaver.from_conn_string(pg_schema_dsn) as saver,
        pytest.raises(RuntimeError, match="upgrade"),
    ):
        saver.put(rec())


def test_non_autocommit_connection_commits_each_operation(pg_schema_dsn):
    import psycopg
    from psycopg.rows import dict_row

    from swiftgraph.checkpoint.postgres import PostgresSaver

    with psycopg.connect(pg_schema_dsn, row_factory=dict_row) as conn:  # autocommit off, dict rows
        saver = PostgresSaver(conn)
        r = rec()
        saver.put(r)
        saver.put_writes("t", "", r.checkpoint_id, [PendingWrite("~0", "a", 0, "x", b"v")])
        with pytest.raises(ValueError):
            saver.put(r)
        assert saver.get("t", "") == r
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with psycopg.connect(pg_schema_dsn) as other:  # visible elsewhere: committed
            assert other.execute("SELECT count(*) FROM swiftgraph_writes").fetchone()[0] == 1


def test_pool_and_connection_savers_share_data(pg_schema_dsn):
    from psycopg_pool import ConnectionPool

    from swiftgraph.checkpoint.postgres import PostgresSaver

    with ConnectionPool(pg_schema_dsn, min_size=1, max_size=4, kwargs={"autocommit": True}) as pool:
        pooled = PostgresSaver(pool)
        r = rec()
        pooled.put(r)
        with PostgresSaver.from_conn_string(pg_schema_dsn) as direct:
            assert direct.get("t", "") == r
            direct.delete_thread("t")
        assert pooled.get("t", "") is None


async def test_async_saver_natural_use(pg_schema_dsn):
    from psycopg_pool import AsyncConnectionPool

    from swiftgraph.checkpoint.postgres import PostgresSaver
    from swiftgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async with AsyncPostgresSaver.from_conn_string(pg_schema_dsn) as saver:
        records = [rec(f"t{i % 3}") for i in range(30)]
        for r in records:
            await saver.aput(r)
        assert await saver.athreads() == ["t0", "t1", "t2"]
        # sync methods from the loop thread would deadlock: refused with a clear error
        with pytest.raises(RuntimeError, match="async API"):
            saver.get("t0", "")
        # ... but fine from another thread while the loop runs
        assert await asyncio.to_thread(saver.get, "t0", "") == records[-3]
    async with AsyncConnectionPool(pg_schema_dsn, min_size=1, max_size=4, open=False) as pool:
        saver = AsyncPostgresSaver(pool)
        await asyncio.gather(*(saver.aput(rec("pooled")) for _ in range(20)))
        assert len(await saver.alist("pooled")) == 20
    with PostgresSaver.from_conn_string(pg_schema_dsn) as sync_saver:  # same tables
        assert sync_saver.threads() == ["pooled", "t0", "t1", "t2"]


def test_async_saver_sync_methods_without_a_loop(pg_schema_dsn):
    from swiftgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async def make():
        import psycopg

        conn = await psycopg.AsyncConnection.connect(pg_schema_dsn, autocommit=True)
        saver = AsyncPostgresSaver(conn)
        await conn.close()
        return saver

    saver = asyncio.run(make())  # its loop is closed now
    with pytest.raises(RuntimeError, match="async API"):
        saver.threads()
