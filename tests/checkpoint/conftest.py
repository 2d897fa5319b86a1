"""Fixtures for the checkpointer tests: one ``saver`` per backend and calling style.

``saver`` is a :class:`Harness`: the contract's methods with sync signatures, which call
either the saver's sync primitives or its async ones (run on a background event loop),
so every conformance test checks both paths of every saver. PostgreSQL backends get a
fresh schema per test (via ``search_path``), dropped afterwards; they need ``pg_dsn``
(tests/conftest.py), requested only by those parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from swiftgraph.checkpoint import _sql
from swiftgraph.checkpoint.base import BaseCheckpointSaver, CheckpointRecord, PendingWrite
from swiftgraph.checkpoint.memory import InMemorySaver

BACKENDS = [
    "memory",
    "memory-async",
    "sqlite",
    "sqlite-memory",
    "sqlite-async",
    "sqlite-async-syncapi",
    "postgres",
    "postgres-pool",
    "postgres-async",
    "postgres-async-pool",
    "postgres-async-syncapi",
]


class LoopThread:
    """An event loop running in a daemon thread; :meth:`run` waits for a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Harness:
    """The contract with sync signatures over a saver's sync or async methods."""

    def __init__(
        self,
        name: str,
        impl: BaseCheckpointSaver,
        loop: LoopThread | None,
        *,
        use_async: bool,
        raw_put: Callable[[CheckpointRecord], None] | None = None,
    ) -> None:
        self.name = name
        self.impl = impl
        self.loop = loop
        self.use_async = use_async
        self._raw_put = raw_put

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.use_async:
            assert self.loop is not None
            return self.loop.run(getattr(self.impl, "a" + method)(*args, **kwargs))
        return getattr(self.impl, method)(*args, **kwargs)

    def put(self, record: CheckpointRecord) -> None:
        self._call("put", record)

    def put_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: list[PendingWrite]
    ) -> None:
        self._call("put_writes", thread_id, ns, checkpoint_id, writes)

    def put_many(self, ops: list[Any]) -> None:
        self._call("put_many", ops)

    def get(
        self, thread_id: str, ns: str, checkpoint_id: str | None = None
    ) -> CheckpointRecord | None:
        return self._call("get", thread_id, ns, checkpoint_id)

    def list(self, thread_id: str | None, ns: str | None = "", **kw: Any) -> list[CheckpointRecord]:
        found = self._call("list", thread_id, ns, **kw)
        if self.use_async:
            assert isinstance(found, list)
        else:
            assert iter(found) is found, "list() returns an iterator"
        return list(found)

    def get_writes(self, thread_id: str, ns: str, checkpoint_id: str) -> list[PendingWrite]:
        return self._call("get_writes", thread_id, ns, checkpoint_id)

    def delete_thread(self, thread_id: str) -> None:
        self._call("delete_thread", thread_id)

    def threads(self) -> list[str]:
        return self._call("threads")

    def get_chain(
        self, thread_id: str, ns: str, checkpoint_id: str | None = None
    ) -> list[CheckpointRecord]:
        return self._call("get_chain", thread_id, ns, checkpoint_id)

    def raw_put(self, record: CheckpointRecord) -> None:
        """Store a row behind the saver's back (as someone with database access could)."""
        self.threads()  # make sure the schema exists
        (self._raw_put or self.put)(record)


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture
def pg_schema_dsn(pg_dsn: str) -> Iterator[str]:
    """A DSN whose ``search_path`` is a fresh, empty schema (dropped after the test)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield make_conninfo(pg_dsn, options=f"-c search_path={schema}")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _sqlite_raw(path: str) -> Callable[[CheckpointRecord], None]:
    def raw_put(r: CheckpointRecord) -> None:
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute(
                f"INSERT INTO checkpoints ({_sql.CHECKPOINT_COLUMNS}) VALUES ({_sql.placeholders('?')})",
                _sql.checkpoint_params(r),
            )

    return raw_put


def _pg_raw(dsn: str) -> Callable[[CheckpointRecord], None]:
    def raw_put(r: CheckpointRecord) -> None:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                f"INSERT INTO swiftgraph_checkpoints ({_sql.CHECKPOINT_COLUMNS})"
                f" VALUES ({_sql.placeholders('%s')})",
                _sql.checkpoint_params(r),
            )

    return raw_put


@pytest.fixture(params=BACKENDS)
def saver(
    request: pytest.FixtureRequest, tmp_path: Any, loop_thread: LoopThread
) -> Iterator[Harness]:
    """The contract over every saver, through its sync and (where relevant) async methods."""
    name: str = request.param
    lt = loop_thread
    astack = contextlib.AsyncExitStack()  # async context managers, entered on lt's loop
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: lt.run(astack.aclose()))
        if name == "memory":
            yield Harness(name, InMemorySaver(), None, use_async=False)
        elif name == "memory-async":
            yield Harness(name, InMemorySaver(), lt, use_async=True)
        elif name in ("sqlite", "sqlite-memory"):
            from swiftgraph.checkpoint.sqlite import SqliteSaver

            path = ":memory:" if name == "sqlite-memory" else str(tmp_path / "cp.sqlite")
            impl = stack.enter_context(SqliteSaver.from_conn_string(path))
            raw = None if path == ":memory:" else _sqlite_raw(path)
            yield Harness(name, impl, None, use_async=False, raw_put=raw)
        elif name.startswith("sqlite-async"):
            from swiftgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

            path = str(tmp_path / "cp.sqlite")
            impl = lt.run(astack.enter_async_context(AsyncSqliteSaver.from_conn_string(path)))
            yield Harness(
                name, impl, lt, use_async=name == "sqlite-async", raw_put=_sqlite_raw(path)
            )
        elif name in ("postgres", "postgres-pool"):
            from swiftgraph.checkpoint.postgres import PostgresSaver

            dsn = request.getfixturevalue("pg_schema_dsn")
            if name == "postgres":
                impl = stack.enter_context(PostgresSaver.from_conn_string(dsn))
            else:  # a pool of non-autocommit connections: the transaction() path
                from psycopg_pool import ConnectionPool

                pool = stack.enter_context(ConnectionPool(dsn, min_size=1, max_size=2))
                impl = PostgresSaver(pool)
            yield Harness(name, impl, None, use_async=False, raw_put=_pg_raw(dsn))
        else:
            from swiftgraph.checkpoint.postgres.aio import AsyncPostgresSaver

            dsn = request.getfixturevalue("pg_schema_dsn")
            if name == "postgres-async-pool":
                from psycopg_pool import AsyncConnectionPool

                async def make() -> AsyncPostgresSaver:
                    pool = AsyncConnectionPool(dsn, min_size=1, max_size=2, open=False)
                    await astack.enter_async_context(pool)  # opens, closes at teardown
                    return AsyncPostgresSaver(pool)

                impl = lt.run(make())
            else:
                impl = lt.run(astack.enter_async_context(AsyncPostgresSaver.from_conn_string(dsn)))
            use_async = name != "postgres-async-syncapi"
            yield Harness(name, impl, lt, use_async=use_async, raw_put=_pg_raw(dsn))
