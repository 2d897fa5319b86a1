"""``PostgresSaver``: checkpoints in PostgreSQL through psycopg 3 (``pip install 'swiftgraph[postgres]'``).

Usage::

    with PostgresSaver.from_conn_string("postgresql://user@host/db") as saver:
        graph = builder.compile(checkpointer=saver)

    pool = ConnectionPool(dsn, kwargs={"autocommit": True})
    saver = PostgresSaver(pool)          # one pooled connection per operation

Choices, and why:

* **tables prefixed** ``swiftgraph_`` (``swiftgraph_checkpoints``, ``swiftgraph_writes``,
  ``swiftgraph_migrations``): LangGraph's PostgresSaver owns ``checkpoints`` and
  ``checkpoint_writes`` with another layout, and both may share a database. Put the
  tables in a schema of your choice with ``search_path``.
* **versioned migrations** (:data:`MIGRATIONS`): :meth:`PostgresSaver.setup`, run on
  first use, applies the versions not yet in ``swiftgraph_migrations`` in one
  transaction holding a transaction-level advisory lock (:data:`MIGRATION_LOCK`), so
  processes starting together apply each version exactly once and the rest wait.
  A database at a newer version than this swiftgraph knows is refused.
* **one statement per operation** (``put_writes`` inserts every write at once through
  ``unnest``, ``delete_thread`` deletes both tables in one statement): atomic even on an
  autocommit connection, and one round trip. Writes are idempotent through
  ``ON CONFLICT DO NOTHING``; a duplicate checkpoint id raises ``ValueError``.
* **key columns** ``COLLATE "C"``: ids and task paths compare bytewise, as in Python,
  whatever the database's locale, so ``before=`` and the sort orders match the other
  savers exactly.
* **your connection settings are respected**: cursors use their own row factory, and on
  a non-autocommit connection each operation runs in ``conn.transaction()`` (a real
  transaction when the connection is idle, a savepoint inside one of yours).

Payloads are ``bytea`` and come back as the same bytes; the saver never decodes them.
"""

from __future__ import annotations

try:
    import psycopg
    from psycopg.rows import tuple_row
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "swiftgraph.checkpoint.postgres needs psycopg 3: pip install 'swiftgraph[postgres]'"
    ) from _exc

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from swiftgraph.checkpoint import _sql
from swiftgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointRecord,
    Op,
    PendingWrite,
    WriteBatch,
)

try:
    from psycopg_pool import ConnectionPool
except ImportError:  # pragma: no cover - psycopg_pool ships with the extra
    ConnectionPool = None  # type: ignore[assignment,misc]

CHECKPOINTS = "swiftgraph_checkpoints"
WRITES = "swiftgraph_writes"
MIGRATION_LOCK = 0x73_67_63_6B_70_74  # b"sgckpt": the advisory lock held while migrating

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: initial schema
    (
        f"""CREATE TABLE {CHECKPOINTS} (
            thread_id text COLLATE "C" NOT NULL,
            checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id text COLLATE "C" NOT NULL,
            parent_id text COLLATE "C",
            step bigint NOT NULL,
            created_at text NOT NULL,
            metadata text NOT NULL,
            data bytea NOT NULL,
            snapshot boolean NOT NULL DEFAULT false,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        )""",
        f"CREATE INDEX {CHECKPOINTS}_by_id ON {CHECKPOINTS} (checkpoint_id, thread_id, checkpoint_ns)",
        f"""CREATE TABLE {WRITES} (
            thread_id text COLLATE "C" NOT NULL,
            checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id text COLLATE "C" NOT NULL,
            task_id text COLLATE "C" NOT NULL,
            idx integer NOT NULL,
            task_path text COLLATE "C" NOT NULL,
            channel text NOT NULL,
            value bytea NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        )""",
    ),
    # 2: compacted deltas name the checkpoint they apply to (see CheckpointRecord.base_id)
    (f'ALTER TABLE {CHECKPOINTS} ADD COLUMN base_id text COLLATE "C"',),
)
"""Schema versions 1..N; append new tuples, never edit a released one."""

MIGRATIONS_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS swiftgraph_migrations "
    "(v integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
)
CURRENT_VERSION_SQL = "SELECT coalesce(max(v), 0) FROM swiftgraph_migrations"
RECORD_VERSION_SQL = "INSERT INTO swiftgraph_migrations (v) VALUES (%s)"

PUT_SQL = f"INSERT INTO {CHECKPOINTS} ({_sql.CHECKPOINT_COLUMNS}) VALUES ({_sql.placeholders('%s')})"
CHAIN_SQL = _sql.chain_sql(CHECKPOINTS, "%s", latest=False, id_expr='CAST({} AS text) COLLATE "C"')
CHAIN_LATEST_SQL = _sql.chain_sql(CHECKPOINTS, "%s", latest=True)
PUT_WRITES_SQL = (
    f"INSERT INTO {WRITES} (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, value)"
    " SELECT %s, %s, %s, * FROM unnest(%s::text[], %s::integer[], %s::text[], %s::text[], %s::bytea[])"
    " ON CONFLICT DO NOTHING"
)
GET_SQL = f"SELECT {_sql.CHECKPOINT_COLUMNS} FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s"
GET_ID_SQL = GET_SQL + " AND checkpoint_id = %s"
GET_LATEST_SQL = GET_SQL + " ORDER BY checkpoint_id DESC LIMIT 1"
GET_WRITES_SQL = (
    f"SELECT {_sql.WRITE_COLUMNS} FROM {WRITES}"
    " WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s"
)
DELETE_SQL = (
    f"WITH w AS (DELETE FROM {WRITES} WHERE thread_id = %s)"
    f" DELETE FROM {CHECKPOINTS} WHERE thread_id = %s"
)
THREADS_SQL = f"SELECT DISTINCT thread_id FROM {CHECKPOINTS}"


def migration_error(current: int) -> RuntimeError | None:
    if current > len(MIGRATIONS):
        return RuntimeError(
            f"this database has swiftgraph checkpoint schema v{current}, newer than this "
            f"swiftgraph knows (v{len(MIGRATIONS)}); upgrade swiftgraph"
        )
    return None


def writes_params(
    thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
) -> tuple[Any, ...]:
    return (
        thread_id,
        checkpoint_ns,
        checkpoint_id,
        [w.task_id for w in writes],
        [w.idx for w in writes],
        [w.task_path for w in writes],
        [w.channel for w in writes],
        [bytes(w.value) for w in writes],
    )


def duplicate(record: CheckpointRecord, exc: psycopg.errors.UniqueViolation) -> Exception:
    """The error for a refused INSERT: ValueError if the checkpoint id was taken."""
    if exc.diag.constraint_name != f"{CHECKPOINTS}_pkey":
        return exc
    return ValueError(f"checkpoint {record.checkpoint_id} already stored")


class PostgresSaver(BaseCheckpointSaver):
    """Checkpoints and pending writes in PostgreSQL. See the module docstring.

    ``conn`` is a psycopg ``Connection`` (shared between threads under a lock; autocommit
    recommended) or a ``psycopg_pool.ConnectionPool`` (a connection per operation).
    """

    def __init__(self, conn: psycopg.Connection[Any] | ConnectionPool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn = conn
        self.lock = threading.Lock()
        self._setup_lock = threading.Lock()
        self._is_setup = False

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(cls, conn_string: str, **kwargs: Any) -> Iterator[PostgresSaver]:
        """A saver on its own autocommit connection to ``conn_string``, closed on exit."""
        with psycopg.connect(conn_string, autocommit=True) as conn:
            yield cls(conn, **kwargs)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if ConnectionPool is not None and isinstance(self.conn, ConnectionPool):
            with self.conn.connection() as conn:
                yield conn
        else:
            with self.lock:
                yield self.conn  # type: ignore[misc]

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor inside a transaction (unless autocommit: every operation is one statement)."""
        with self._connection() as conn:
            tx = contextlib.nullcontext() if conn.autocommit else conn.transaction()
            with tx, conn.cursor(binary=True, row_factory=tuple_row) as cur:
                yield cur

    def setup(self) -> None:
        """Create or upgrade the schema (idempotent, safe from concurrent processes)."""
        with self._setup_lock:
            if self._is_setup:
                return
            with (
                self._connection() as conn,
                conn.transaction(),  # the advisory lock lives until this commits
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                cur.execute(MIGRATIONS_TABLE_SQL)
                (current,) = cur.execute(CURRENT_VERSION_SQL).fetchone() or (0,)
                if err := migration_error(current):
                    raise err
                for version in range(current + 1, len(MIGRATIONS) + 1):
                    for statement in MIGRATIONS[version - 1]:
                        cur.execute(statement)
                    cur.execute(RECORD_VERSION_SQL, (version,))
            self._is_setup = True

    def _fetchall(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if not self._is_setup:
            self.setup()
        with self._cursor() as cur:
            return cur.execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[Any]) -> None:
        if not self._is_setup:
            self.setup()
        with self._cursor() as cur:
            cur.execute(sql, params)

    # --- the contract --------------------------------------------------------------------

    def put(self, record: CheckpointRecord) -> None:
        if not self._is_setup:
            self.setup()
        try:
            self._execute(PUT_SQL, _sql.checkpoint_params(record))
        except psycopg.errors.UniqueViolation as exc:
            raise duplicate(record, exc) from None

    def put_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        if writes:
            self._execute(
                PUT_WRITES_SQL, writes_params(thread_id, checkpoint_ns, checkpoint_id, writes)
            )

    def put_many(self, ops: Sequence[Op]) -> None:
        """Everything in one transaction (one commit), on one connection."""
        if not self._is_setup:
            self.setup()
        with self._connection() as conn, conn.transaction(), conn.cursor(binary=True) as cur:
            for op in ops:  # one round trip per item: the batch is one transaction
                if isinstance(op, WriteBatch):
                    if op.writes:
                        cur.execute(PUT_WRITES_SQL, writes_params(
                            op.thread_id, op.checkpoint_ns, op.checkpoint_id, op.writes))
                    continue
                try:
                    cur.execute(PUT_SQL, _sql.checkpoint_params(op))
                except psycopg.errors.UniqueViolation as exc:
                    raise duplicate(op, exc) from None

    def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> CheckpointRecord | None:
        if checkpoint_id is None:
            rows = self._fetchall(GET_LATEST_SQL, (thread_id, checkpoint_ns))
        else:
            rows = self._fetchall(GET_ID_SQL, (thread_id, checkpoint_ns, checkpoint_id))
        return _sql.to_record(rows[0]) if rows else None

    def get_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> list[CheckpointRecord]:
        """One recursive query (see :func:`swiftgraph.checkpoint._sql.chain_sql`)."""
        sql = CHAIN_LATEST_SQL if checkpoint_id is None else CHAIN_SQL
        rows = self._fetchall(sql, _sql.chain_params(thread_id, checkpoint_ns, checkpoint_id))
        return _sql.chain_records(rows)

    def get_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> list[PendingWrite]:
        rows = self._fetchall(GET_WRITES_SQL, (thread_id, checkpoint_ns, checkpoint_id))
        return sorted(map(_sql.to_write, rows))

    def delete_thread(self, thread_id: str) -> None:
        self._execute(DELETE_SQL, (thread_id, thread_id))

    def threads(self) -> list[str]:
        return sorted(r[0] for r in self._fetchall(THREADS_SQL, ()))

    # last in the class: after it, ``list`` in an annotation would name this method
    def list(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointRecord]:
        """Lazy: rows are read page by page as the iterator is consumed."""
        query = _sql.ListQuery(CHECKPOINTS, "%s", thread_id, checkpoint_ns, before)
        return _sql.iter_list(self._fetchall, query, limit)


__all__ = ["MIGRATIONS", "PostgresSaver"]
