"""``AsyncPostgresSaver``: :mod:`swiftgraph.checkpoint.postgres` on async psycopg.

Usage::

    async with AsyncPostgresSaver.from_conn_string(dsn) as saver:
        graph = builder.compile(checkpointer=saver)

    pool = AsyncConnectionPool(dsn, kwargs={"autocommit": True}, open=False)
    await pool.open()
    saver = AsyncPostgresSaver(pool)

The ``a*`` methods are async-native (no threads). Schema, SQL and migrations are the
sync saver's (same tables, same advisory lock), so sync and async savers can share a
database. The sync methods exist for callers outside the event loop, e.g. a sync
``invoke`` run in a worker thread: they submit the async method to the saver's loop
and wait. Called *on* that loop they would deadlock, so they raise instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

import psycopg  # the parent package's import guard has run first: the error names the extra
from psycopg.rows import tuple_row

from swiftgraph.checkpoint import _sql
from swiftgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointRecord,
    Op,
    PendingWrite,
    WriteBatch,
)
from swiftgraph.checkpoint.postgres import (
    CHAIN_LATEST_SQL,
    CHAIN_SQL,
    CHECKPOINTS,
    CURRENT_VERSION_SQL,
    DELETE_SQL,
    GET_ID_SQL,
    GET_LATEST_SQL,
    GET_WRITES_SQL,
    MIGRATION_LOCK,
    MIGRATIONS,
    MIGRATIONS_TABLE_SQL,
    PUT_SQL,
    PUT_WRITES_SQL,
    RECORD_VERSION_SQL,
    THREADS_SQL,
    duplicate,
    migration_error,
    writes_params,
)

try:
    from psycopg_pool import AsyncConnectionPool
except ImportError:  # pragma: no cover
    AsyncConnectionPool = None  # type: ignore[assignment,misc]

T = TypeVar("T")


class AsyncPostgresSaver(BaseCheckpointSaver):
    """Checkpoints in PostgreSQL over an ``AsyncConnection`` or ``AsyncConnectionPool``."""

    def __init__(
        self, conn: psycopg.AsyncConnection[Any] | AsyncConnectionPool, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.conn = conn
        self.lock = asyncio.Lock()
        self._setup_lock = asyncio.Lock()
        self._is_setup = False
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None  # bound on first async use

    @classmethod
    @contextlib.asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, **kwargs: Any
    ) -> AsyncIterator[AsyncPostgresSaver]:
        """A saver on its own autocommit connection to ``conn_string``, closed on exit."""
        async with await psycopg.AsyncConnection.connect(conn_string, autocommit=True) as conn:
            yield cls(conn, **kwargs)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if AsyncConnectionPool is not None and isinstance(self.conn, AsyncConnectionPool):
            async with self.conn.connection() as conn:
                yield conn
        else:
            async with self.lock:
                yield self.conn  # type: ignore[misc]

    @contextlib.asynccontextmanager
    async def _cursor(self) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        async with self._connection() as conn:
            tx = contextlib.nullcontext() if conn.autocommit else conn.transaction()
            async with tx, conn.cursor(binary=True, row_factory=tuple_row) as cur:
                yield cur

    async def asetup(self) -> None:
        """Create or upgrade the schema; see :meth:`PostgresSaver.setup`."""
        async with self._setup_lock:
            if self._is_setup:
                return
            async with (
                self._connection() as conn,
                conn.transaction(),  # the advisory lock lives until this commits
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                await cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                await cur.execute(MIGRATIONS_TABLE_SQL)
                (current,) = await (await cur.execute(CURRENT_VERSION_SQL)).fetchone() or (0,)
                if err := migration_error(current):
                    raise err
                for version in range(current + 1, len(MIGRATIONS) + 1):
                    for statement in MIGRATIONS[version - 1]:
                        await cur.execute(statement)
                    await cur.execute(RECORD_VERSION_SQL, (version,))
            self._is_setup = True

    async def _fetchall(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if not self._is_setup:
            await self.asetup()
        async with self._cursor() as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def _execute(self, sql: str, params: Sequence[Any]) -> None:
        if not self._is_setup:
            await self.asetup()
        async with self._cursor() as cur:
            await cur.execute(sql, params)

    # --- async contract ------------------------------------------------------------------

    async def aput(self, record: CheckpointRecord) -> None:
        if not self._is_setup:
            await self.asetup()
        try:
            await self._execute(PUT_SQL, _sql.checkpoint_params(record))
        except psycopg.errors.UniqueViolation as exc:
            raise duplicate(record, exc) from None

    async def aput_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        if writes:
            await self._execute(
                PUT_WRITES_SQL, writes_params(thread_id, checkpoint_ns, checkpoint_id, writes)
            )

    async def aput_many(self, ops: Sequence[Op]) -> None:
        """Everything in one transaction (one commit), on one connection."""
        if not self._is_setup:
            await self.asetup()
        async with self._connection() as conn, conn.transaction(), conn.cursor(binary=True) as cur:
            for op in ops:  # one round trip per item: the batch is one transaction
                if isinstance(op, WriteBatch):
                    if op.writes:
                        await cur.execute(PUT_WRITES_SQL, writes_params(
                            op.thread_id, op.checkpoint_ns, op.checkpoint_id, op.writes))
                    continue
                try:
                    await cur.execute(PUT_SQL, _sql.checkpoint_params(op))
                except psycopg.errors.UniqueViolation as exc:
                    raise duplicate(op, exc) from None

    async def aget(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> CheckpointRecord | None:
        if checkpoint_id is None:
            rows = await self._fetchall(GET_LATEST_SQL, (thread_id, checkpoint_ns))
        else:
            rows = await self._fetchall(GET_ID_SQL, (thread_id, checkpoint_ns, checkpoint_id))
        return _sql.to_record(rows[0]) if rows else None

    async def alist(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[CheckpointRecord]:
        if limit is not None and limit <= 0:
            return []
        query = _sql.ListQuery(CHECKPOINTS, "%s", thread_id, checkpoint_ns, before)
        return [_sql.to_record(r) for r in await self._fetchall(*query.sql(limit))]

    async def aget_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> list[CheckpointRecord]:
        sql = CHAIN_LATEST_SQL if checkpoint_id is None else CHAIN_SQL
        params = _sql.chain_params(thread_id, checkpoint_ns, checkpoint_id)
        return _sql.chain_records(await self._fetchall(sql, params))

    async def aget_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> list[PendingWrite]:
        rows = await self._fetchall(GET_WRITES_SQL, (thread_id, checkpoint_ns, checkpoint_id))
        return sorted(map(_sql.to_write, rows))

    async def adelete_thread(self, thread_id: str) -> None:
        await self._execute(DELETE_SQL, (thread_id, thread_id))

    async def athreads(self) -> list[str]:
        return sorted(r[0] for r in await self._fetchall(THREADS_SQL, ()))

    # --- sync contract: hop onto the saver's loop -------------------------------------------

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop or not loop.is_running():
            coro.close()
            raise RuntimeError(
                "AsyncPostgresSaver's sync methods can only be called from another thread "
                "while its event loop runs; use the async API (ainvoke, astream, aget_state) "
                "or PostgresSaver"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def setup(self) -> None:
        self._sync(self.asetup())

    def put(self, record: CheckpointRecord) -> None:
        self._sync(self.aput(record))

    def put_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self._sync(self.aput_writes(thread_id, checkpoint_ns, checkpoint_id, writes))

    def put_many(self, ops: Sequence[Op]) -> None:
        self._sync(self.aput_many(ops))

    def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> CheckpointRecord | None:
        return self._sync(self.aget(thread_id, checkpoint_ns, checkpoint_id))

    def get_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> list[PendingWrite]:
        return self._sync(self.aget_writes(thread_id, checkpoint_ns, checkpoint_id))

    def delete_thread(self, thread_id: str) -> None:
        self._sync(self.adelete_thread(thread_id))

    def threads(self) -> list[str]:
        return self._sync(self.athreads())

    def get_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> list[CheckpointRecord]:
        return self._sync(self.aget_chain(thread_id, checkpoint_ns, checkpoint_id))

    # last in the class: after it, ``list`` in an annotation would name this method
    def list(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointRecord]:
        return iter(self._sync(self.alist(thread_id, checkpoint_ns, before=before, limit=limit)))


__all__ = ["AsyncPostgresSaver"]
