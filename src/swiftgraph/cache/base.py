"""``BaseCache``: the interface the engine uses to save and reuse task results.

Same names and signatures as LangGraph's ``langgraph.cache.base``: entries are keyed
by ``(namespace, key)``, where the namespace is a tuple of strings (the engine uses one
per node or task, so ``clear(namespaces)`` can forget one node's results) and the key
a string derived from the task's input. Every method comes in a sync and an async form;
the engine only calls the async ones (``aget``/``aset``), once per superstep for lookups.

Values are serialized with ``serde`` (swiftgraph's typed JSON by default, never
pickle: whoever can write the cache file must not be able to run code in readers).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from swiftgraph._internal.serde import Serializer

ValueT = TypeVar("ValueT")
Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]


class BaseCache(ABC, Generic[ValueT]):
    """Base class for a cache.

    ``get``/``aget`` return only the keys present and not expired; ``set``/``aset``
    take ``{(namespace, key): (value, ttl)}`` with ``ttl`` in seconds (``None``: never
    expires); ``clear``/``aclear`` delete the given namespaces, or everything."""

    serde: Any = Serializer()

    def __init__(self, *, serde: Any = None) -> None:
        """``serde``: any object with ``dumps_typed``/``loads_typed``."""
        self.serde = serde or self.serde

    @abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Get the cached values for the given keys."""

    @abstractmethod
    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Asynchronously get the cached values for the given keys."""

    @abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Set the cached values for the given keys and TTLs."""

    @abstractmethod
    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Asynchronously set the cached values for the given keys and TTLs."""

    @abstractmethod
    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Delete the cached values for the given namespaces.
        If no namespaces are provided, clear all cached values."""

    @abstractmethod
    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Asynchronously delete the cached values for the given namespaces.
        If no namespaces are provided, clear all cached values."""


__all__ = ["BaseCache", "FullKey", "Namespace", "ValueT"]
