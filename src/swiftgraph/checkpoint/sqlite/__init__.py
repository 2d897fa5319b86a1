"""``SqliteSaver``: checkpoints in one SQLite file, stdlib ``sqlite3`` only.

Usage::

    with SqliteSaver.from_conn_string("checkpoints.sqlite") as saver:
        graph = builder.compile(checkpointer=saver)

Choices, and why:

* **WAL journal** (``PRAGMA journal_mode=WAL``): readers never block the writer nor the
  writer the readers, and a commit appends to the log instead of rewriting pages, so
  several processes can share one file. The mode is stored in the file; ``:memory:``
  databases keep their own journal. ``synchronous`` (set on connections the saver
  opens) defaults to ``FULL``, SQLite's default: a committed checkpoint survives power
  loss. ``synchronous="NORMAL"`` is about 5x faster per checkpoint and still never
  corrupts the file, but may lose the last commits on power loss (not on a crash of
  the process).
* **busy timeout plus retries**: another process holding the write lock makes SQLite
  wait up to ``timeout`` seconds (``PRAGMA busy_timeout``). A few cases return
  ``SQLITE_BUSY`` without waiting (switching to WAL, WAL recovery after a crash, a
  snapshot made stale by another writer), so every operation also retries with
  jittered backoff for ``retry_for`` seconds (counted in ``busy_retries``). Writes
  start with ``BEGIN IMMEDIATE``, which takes the write lock up front: a transaction
  that read first and then asks for the lock is the case SQLite cannot wait out.
* **one connection and a lock**: the connection is opened with
  ``check_same_thread=False`` and every use holds ``self.lock``, so one saver is safe
  to share between threads. Don't carry a saver across ``fork()``; open one per process
  (SQLite forbids using a connection in a forked child: it raises here).
* **versioned migrations**: :meth:`SqliteSaver.setup` (run on first use) applies the
  statements of :data:`MIGRATIONS` the file hasn't seen, recording each version in
  ``schema_version``, all inside one ``BEGIN IMMEDIATE`` transaction, so processes
  opening a new file at once apply them exactly once. A file from a newer swiftgraph,
  or holding another library's ``checkpoints`` table, is refused rather than modified.

Payloads (``data``, write values) are stored as BLOBs and returned as the same bytes;
the saver never decodes them. Metadata is JSON text (see :mod:`swiftgraph.checkpoint._sql`).
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from swiftgraph.checkpoint import _sql
from swiftgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointRecord,
    InlineAsyncMixin,
    Op,
    PendingWrite,
    WriteBatch,
)

T = TypeVar("T")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: initial schema
    (
        """CREATE TABLE checkpoints (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            parent_id TEXT,
            step INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            metadata TEXT NOT NULL,
            data BLOB NOT NULL,
            snapshot INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        )""",
        # list() across threads/namespaces, newest first
        "CREATE INDEX checkpoints_by_id ON checkpoints (checkpoint_id, thread_id, checkpoint_ns)",
        """CREATE TABLE writes (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            task_path TEXT NOT NULL,
            channel TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        )""",
    ),
    # 2: compacted deltas name the checkpoint they apply to (see CheckpointRecord.base_id)
    ("ALTER TABLE checkpoints ADD COLUMN base_id TEXT",),
)
"""Schema versions 1..N; append new tuples, never edit a released one."""

_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (extended codes share the low byte)


_PUT = f"INSERT INTO checkpoints ({_sql.CHECKPOINT_COLUMNS}) VALUES ({_sql.placeholders('?')})"
_CHAIN = _sql.chain_sql("checkpoints", "?", latest=False)
_CHAIN_LATEST = _sql.chain_sql("checkpoints", "?", latest=True)
_PUT_WRITES = (
    "INSERT OR IGNORE INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx,"
    " task_path, channel, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _write_rows(batch: WriteBatch) -> list[tuple[Any, ...]]:
    t, ns, cid = batch.thread_id, batch.checkpoint_ns, batch.checkpoint_id
    return [(t, ns, cid, w.task_id, w.idx, w.task_path, w.channel, bytes(w.value)) for w in batch.writes]


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class SqliteSaver(InlineAsyncMixin, BaseCheckpointSaver):
    """Checkpoints and pending writes in SQLite. See the module docstring.

    Pass an open ``conn`` (the saver then issues ``BEGIN IMMEDIATE``/``COMMIT`` on it and
    leaves closing it to you; open it with ``check_same_thread=False`` to share it
    between threads) or a ``path`` (default ``":memory:"``; the saver opens, configures
    and, on :meth:`close`, closes the connection).

    Its async methods run the (fast, local) SQLite call inline on the event loop: a
    worker-thread hop costs more than the write itself. An application whose loop must
    never wait on disk uses :class:`~swiftgraph.checkpoint.sqlite.aio.AsyncSqliteSaver`.
    """

    def __init__(
        self,
        conn: sqlite3.Connection | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        retry_for: float = 120.0,
        synchronous: str = "FULL",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if conn is not None and path is not None:
            raise TypeError("pass either conn or path, not both")
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.timeout = timeout
        self.retry_for = retry_for
        self.lock = threading.RLock()
        self.busy_retries = 0
        """How many times an operation was retried after SQLITE_BUSY (for diagnostics)."""
        self._owns_conn = conn is None
        self._pid = os.getpid()
        self._is_setup = False
        if conn is None:
            target = ":memory:" if path is None else os.fspath(path)
            conn = sqlite3.connect(
                target,
                timeout=timeout,
                isolation_level=None,  # the saver issues BEGIN/COMMIT itself
                check_same_thread=False,
                uri=target.startswith("file:"),
            )
        if getattr(conn, "autocommit", None) is False:  # Python 3.12+ PEP 249 mode
            raise ValueError("SqliteSaver needs a connection with autocommit != False")
        self.conn = conn
        self._retry(self._configure, synchronous.upper())

    # --- lifecycle ---------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(
        cls, conn_string: str | os.PathLike[str], **kwargs: Any
    ) -> Iterator[SqliteSaver]:
        """A saver on a file path (``"file:..."`` URIs too) or ``":memory:"``, closed on exit."""
        saver = cls(path=conn_string, **kwargs)
        try:
            yield saver
        finally:
            saver.close()

    def close(self) -> None:
        """Close the connection if the saver opened it."""
        with self.lock:
            if self._owns_conn:
                self.conn.close()

    def __enter__(self) -> SqliteSaver:  # noqa: PYI034 (typing.Self needs 3.11)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _configure(self, synchronous: str) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        self.conn.execute("PRAGMA journal_mode = WAL").fetchone()  # no-op for :memory:
        if self._owns_conn:
            self.conn.execute(f"PRAGMA synchronous = {synchronous}")

    def setup(self) -> None:
        """Create or upgrade the schema (idempotent; run automatically on first use)."""
        with self.lock:
            if not self._is_setup:
                if not self._retry(self._up_to_date):  # a read first: no write lock to open a file
                    self._retry(self._write, self._migrate)
                self._is_setup = True

    def _up_to_date(self) -> bool:
        try:
            row = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return False
            raise
        return row[0] == len(MIGRATIONS)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        current = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"this SQLite file has checkpoint schema v{current}, newer than this "
                f"swiftgraph knows (v{len(MIGRATIONS)}); upgrade swiftgraph"
            )
        if (
            current == 0
            and conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name IN ('checkpoints', 'writes')"
            ).fetchone()
        ):
            raise RuntimeError(
                "this SQLite file already has a 'checkpoints' or 'writes' table that "
                "swiftgraph did not create (another library's checkpointer?); use another file"
            )
        now = datetime.now(timezone.utc).isoformat()
        for version in range(current + 1, len(MIGRATIONS) + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, now))

    # --- plumbing ------------------------------------------------------------------------

    def _retry(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` holding the lock, retrying while SQLite reports busy/locked."""
        delay = 0.002
        deadline: float | None = None
        with self.lock:
            if os.getpid() != self._pid:
                raise RuntimeError(
                    "SqliteSaver used in a forked child process; open a new saver in each process"
                )
            while True:
                try:
                    return fn(*args)
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise
                    if self.conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            self.conn.rollback()
                    now = time.monotonic()
                    if deadline is None:
                        deadline = now + self.retry_for
                    elif now >= deadline:
                        raise
                    self.busy_retries += 1
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 0.25)

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(conn)`` in a ``BEGIN IMMEDIATE`` transaction (call through :meth:`_retry`)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.rollback()
            raise
        return result

    def _fetchall(self, sql: str, params: Sequence[Any]) -> list[Any]:
        self._ensure_setup()
        return self._retry(lambda: self.conn.execute(sql, params).fetchall())

    def _ensure_setup(self) -> None:
        if not self._is_setup:
            self.setup()

    # --- the contract --------------------------------------------------------------------

    def put(self, record: CheckpointRecord) -> None:
        self.put_many((record,))

    def put_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        if writes:
            self.put_many((WriteBatch(thread_id, checkpoint_ns, checkpoint_id, writes),))

    def put_many(self, ops: Sequence[Op]) -> None:
        """Everything in one ``BEGIN IMMEDIATE`` transaction: one commit, one fsync."""
        self._ensure_setup()

        checkpoints, writes = [], []
        for op in ops:
            if isinstance(op, WriteBatch):
                writes.extend(_write_rows(op))
            else:
                checkpoints.append(_sql.checkpoint_params(op))

        def store(c: sqlite3.Connection) -> None:
            # two statements for the whole batch: the rows' order within one
            # transaction is invisible to readers, and a writes row's first copy wins
            # ("OR IGNORE") whether its checkpoint comes before or after it
            try:
                c.executemany(_PUT, checkpoints)
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" not in str(exc):
                    raise
                dup = next((r[2] for r in checkpoints if self._exists(c, r)), "?")
                raise ValueError(f"checkpoint {dup} already stored") from None
            c.executemany(_PUT_WRITES, writes)

        self._retry(self._write, store)

    @staticmethod
    def _exists(c: sqlite3.Connection, row: Sequence[Any]) -> bool:
        return c.execute(
            "SELECT 1 FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
            (row[0], row[1], row[2]),
        ).fetchone() is not None

    background_thread = True
    """Under ``durability="async"`` the engine stores batches from a worker thread: the
    commit (and its fsync) overlaps the run's next steps instead of blocking the loop."""

    def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> CheckpointRecord | None:
        base = f"SELECT {_sql.CHECKPOINT_COLUMNS} FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ?"
        if checkpoint_id is None:
            rows = self._fetchall(
                base + " ORDER BY checkpoint_id DESC LIMIT 1", (thread_id, checkpoint_ns)
            )
        else:
            rows = self._fetchall(
                base + " AND checkpoint_id = ?", (thread_id, checkpoint_ns, checkpoint_id)
            )
        return _sql.to_record(rows[0]) if rows else None

    def get_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> list[CheckpointRecord]:
        """One recursive query (see :func:`swiftgraph.checkpoint._sql.chain_sql`)."""
        sql = _CHAIN_LATEST if checkpoint_id is None else _CHAIN
        rows = self._fetchall(sql, _sql.chain_params(thread_id, checkpoint_ns, checkpoint_id))
        return _sql.chain_records(rows)

    def get_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> list[PendingWrite]:
        rows = self._fetchall(
            f"SELECT {_sql.WRITE_COLUMNS} FROM writes"
            " WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
            (thread_id, checkpoint_ns, checkpoint_id),
        )
        return sorted(map(_sql.to_write, rows))

    def delete_thread(self, thread_id: str) -> None:
        self._ensure_setup()

        def delete(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM writes WHERE thread_id = ?", (thread_id,))
            c.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread_id,))

        self._retry(self._write, delete)

    def threads(self) -> list[str]:
        return sorted(
            r[0] for r in self._fetchall("SELECT DISTINCT thread_id FROM checkpoints", ())
        )

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
        query = _sql.ListQuery("checkpoints", "?", thread_id, checkpoint_ns, before)
        return _sql.iter_list(self._fetchall, query, limit)


__all__ = ["MIGRATIONS", "SqliteSaver"]
