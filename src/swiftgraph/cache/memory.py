"""``InMemoryCache``: cache entries in a dict, for one process's lifetime.

Values are stored serialized, as LangGraph does, so a hit hands each run its own
copy (a node mutating a cached list can't change what the next hit returns) and a
value that couldn't go in a persistent cache fails here too, not only in production.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from swiftgraph.cache.base import BaseCache, FullKey, Namespace, ValueT


class InMemoryCache(BaseCache[ValueT]):
    """A thread-safe in-process cache; expired entries are dropped when read."""

    def __init__(self, *, serde: Any = None) -> None:
        super().__init__(serde=serde)
        # namespace -> key -> (format, data, expiry as a time.time() value or None)
        self._cache: dict[Namespace, dict[str, tuple[str, bytes, float | None]]] = {}
        self._lock = threading.RLock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Get the cached values for the given keys."""
        values: dict[FullKey, ValueT] = {}
        if not keys:
            return values
        now = time.time()
        with self._lock:
            for ns, key in keys:
                ns = tuple(ns)
                entries = self._cache.get(ns)
                if entries is None or key not in entries:
                    continue
                fmt, data, expiry = entries[key]
                if expiry is None or now < expiry:
                    values[(ns, key)] = self.serde.loads_typed((fmt, data))
                else:
                    del entries[key]
        return values

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Asynchronously get the cached values (nothing here blocks: runs inline)."""
        return self.get(keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Set the cached values for the given keys and TTLs (seconds)."""
        now = time.time()
        # serialize outside the lock: a failing value leaves the cache untouched
        rows = [
            (tuple(ns), key, *self.serde.dumps_typed(value), None if ttl is None else now + ttl)
            for (ns, key), (value, ttl) in pairs.items()
        ]
        with self._lock:
            for ns, key, fmt, data, expiry in rows:
                self._cache.setdefault(ns, {})[key] = (fmt, data, expiry)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Asynchronously set the cached values for the given keys and TTLs."""
        self.set(pairs)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Delete the cached values for the given namespaces, or all of them."""
        with self._lock:
            if namespaces is None:
                self._cache.clear()
            else:
                for ns in namespaces:
                    self._cache.pop(tuple(ns), None)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Asynchronously delete the cached values for the given namespaces, or all."""
        self.clear(namespaces)


__all__ = ["InMemoryCache"]
