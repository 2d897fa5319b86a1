"""``SqliteCache``: cache entries in a SQLite file (stdlib ``sqlite3``), so they
survive the process and are shared by every process using the same file.

A leaf module: the engine never imports it (nor ``sqlite3``); only code that asks
for a ``SqliteCache`` pays for it. Values are stored with the cache's ``serde``
(typed JSON by default): loading an entry never runs code, whoever wrote the file.

The table is ``swiftgraph_cache``, so the cache can share a file with the SQLite
checkpointer. A namespace is stored as JSON (not LangGraph's comma-joined string),
so a namespace part containing a comma can't collide with another namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from swiftgraph.cache.base import BaseCache, FullKey, Namespace, ValueT

_TABLE = "swiftgraph_cache"
_CHUNK = 400  # keys per SELECT: 2 parameters each, under SQLite's oldest 999 limit


def _ns_text(ns: Sequence[str]) -> str:
    return json.dumps(list(ns), separators=(",", ":"))


class SqliteCache(BaseCache[ValueT]):
    """File-based cache using SQLite; ``path`` may be ``":memory:"``.

    One connection, guarded by a lock, serves every thread; the async methods run
    the sync ones in a worker thread so a slow disk never blocks the event loop."""

    def __init__(self, *, path: str, serde: Any = None) -> None:
        super().__init__(serde=serde)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.RLock()
        with self._lock, self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
                "ns TEXT NOT NULL, key TEXT NOT NULL, expiry REAL, "
                "encoding TEXT NOT NULL, val BLOB NOT NULL, PRIMARY KEY (ns, key))"
            )

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Get the cached values for the given keys; expired entries are deleted."""
        wanted = {(_ns_text(ns), key): (tuple(ns), key) for ns, key in keys}
        values: dict[FullKey, ValueT] = {}
        if not wanted:
            return values
        now = time.time()
        pairs = list(wanted)
        rows: list[Any] = []
        with self._lock, self._conn:
            for i in range(0, len(pairs), _CHUNK):
                chunk = pairs[i : i + _CHUNK]
                marks = ",".join("(?, ?)" for _ in chunk)
                params = [p for pair in chunk for p in pair]
                rows.extend(self._conn.execute(
                    f"SELECT ns, key, expiry, encoding, val FROM {_TABLE} WHERE (ns, key) IN (VALUES {marks})",
                    params,
                ))
            expired = [(ns, key) for ns, key, expiry, _, _ in rows if expiry is not None and now >= expiry]
            if expired:
                self._conn.executemany(f"DELETE FROM {_TABLE} WHERE ns = ? AND key = ?", expired)
        for ns, key, expiry, encoding, raw in rows:
            if expiry is None or now < expiry:
                values[wanted[(ns, key)]] = self.serde.loads_typed((encoding, raw))
        return values

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Asynchronously get the cached values for the given keys."""
        return await asyncio.to_thread(self.get, keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Set the cached values for the given keys and TTLs (seconds)."""
        now = time.time()
        rows = [
            (_ns_text(ns), key, None if ttl is None else now + ttl, *self.serde.dumps_typed(value))
            for (ns, key), (value, ttl) in pairs.items()
        ]
        with self._lock, self._conn:
            self._conn.executemany(
                f"INSERT OR REPLACE INTO {_TABLE} (ns, key, expiry, encoding, val) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Asynchronously set the cached values for the given keys and TTLs."""
        await asyncio.to_thread(self.set, pairs)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Delete the cached values for the given namespaces, or all of them."""
        with self._lock, self._conn:
            if namespaces is None:
                self._conn.execute(f"DELETE FROM {_TABLE}")
            else:
                self._conn.executemany(
                    f"DELETE FROM {_TABLE} WHERE ns = ?", [(_ns_text(ns),) for ns in namespaces]
                )

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Asynchronously delete the cached values for the given namespaces, or all."""
        await asyncio.to_thread(self.clear, namespaces)

    def close(self) -> None:
        """Close the connection (also done when the cache is garbage-collected)."""
        with self._lock:
            self._conn.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # half-built, or the interpreter is exiting
            self._conn.close()


__all__ = ["SqliteCache"]
