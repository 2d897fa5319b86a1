"""The checkpointer contract: a saver stores opaque records; the engine does the rest.

A saver is storage, not logic. It keeps two kinds of rows per thread and namespace:

* **checkpoints** (:class:`CheckpointRecord`): one per superstep boundary, with the
  engine's payload as bytes. A record is either a *snapshot* (every channel's value) or
  a *delta* (what the step changed: the writes applied to reducer keys, new values of
  plain keys). Deltas are why a long run appending to a list stores O(steps) items,
  not O(steps²): the engine rebuilds any checkpoint from the nearest snapshot before it
  plus the deltas after, and takes a new snapshot only once the deltas since the last
  one outweigh it.
  A delta may also cover several steps (a *compacted* delta): its ``base_id`` then
  names the older checkpoint it applies to, instead of its parent. Savers store
  ``base_id`` as they store ``parent_id``, and :meth:`~BaseCheckpointSaver.get_chain`
  follows it: the records a checkpoint is rebuilt from, in one call.
* **pending writes** (:class:`PendingWrite`): what each task of the step *after* a
  checkpoint wrote, saved as each task finishes, so a step interrupted by a crash, an
  error or ``interrupt()`` resumes without rerunning the tasks that had finished.

Payloads are bytes produced by :class:`swiftgraph._internal.serde.Serializer`
(tagged JSON; never pickle). A saver must never interpret them.

Implementations: subclass :class:`BaseCheckpointSaver` and implement the six sync
primitives; the async ones default to running the sync ones in a worker thread, and
an async-native saver overrides them instead. The engine stores through
:meth:`~BaseCheckpointSaver.put_many` (a batch of checkpoints and writes, in order),
which defaults to the primitives one by one; a saver that can store a batch in one
transaction overrides it, and a run then costs one commit per step or fewer. Everything a user calls
(``get_state``, ``get_state_history``, ``update_state``, resuming) goes through the
compiled graph, which calls these primitives.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from swiftgraph._internal.serde import Serializer


@dataclass(slots=True)
class CheckpointRecord:
    """One checkpoint of one thread (and namespace: ``""`` for the root graph)."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_id: str | None
    step: int
    created_at: str
    metadata: dict[str, Any]
    """JSON-safe: ``source`` ("input", "loop", "update", "fork"), ``step``, ``writes``."""
    data: bytes
    """The engine's payload (serialized); opaque to savers."""
    snapshot: bool = False
    """True when ``data`` holds every channel's value, not only this step's changes."""
    base_id: str | None = None
    """The checkpoint a delta applies to, when not its parent (a delta covering several
    steps; see :meth:`BaseCheckpointSaver.get_chain`). Stored and returned as is."""


@dataclass(slots=True, order=True)
class PendingWrite:
    """One write by one task, saved before the step it belongs to is applied."""

    task_path: str
    """The engine's ordering key: writes are applied sorted by (task_path, idx)."""
    task_id: str
    idx: int
    channel: str
    value: bytes = field(compare=False)


@dataclass(slots=True)
class WriteBatch:
    """Pending writes bound for one checkpoint: one item of :meth:`BaseCheckpointSaver.put_many`."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    writes: Sequence[PendingWrite]


Op = CheckpointRecord | WriteBatch
"""What :meth:`BaseCheckpointSaver.put_many` stores: a checkpoint, or writes against one."""


class BaseCheckpointSaver(ABC):
    """Storage for checkpoints and pending writes. See the module docstring."""

    serde: Serializer

    def __init__(self, *, serde: Serializer | None = None) -> None:
        self.serde = serde or Serializer()

    # --- sync primitives: implement these ---------------------------------------------

    @abstractmethod
    def put(self, record: CheckpointRecord) -> None:
        """Store a checkpoint. Ids are unique: storing the same id twice raises ``ValueError``."""

    @abstractmethod
    def put_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        """Store pending writes against a checkpoint; idempotent per (task_id, idx)."""

    @abstractmethod
    def get(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None) -> CheckpointRecord | None:
        """A checkpoint by id, or the thread's latest (largest id) when ``checkpoint_id`` is None."""

    @abstractmethod
    def list(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointRecord]:
        """Checkpoints newest first; ``thread_id=None`` means every thread, ``checkpoint_ns=None``
        every namespace; ``limit <= 0`` yields nothing. The iterator may be lazy (read in
        pages): callers that need a fixed view should materialize it."""

    @abstractmethod
    def get_writes(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> builtins.list[PendingWrite]:
        """The pending writes saved against a checkpoint, sorted by (task_path, task_id, idx)."""

    @abstractmethod
    def delete_thread(self, thread_id: str) -> None:
        """Forget a thread: its checkpoints and writes, in every namespace."""

    def threads(self) -> builtins.list[str]:
        """Every thread id with at least one checkpoint (for tools like the CLI)."""
        return sorted({r.thread_id for r in self.list(None, None)})

    def get_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> builtins.list[CheckpointRecord]:
        """A checkpoint (the latest when ``checkpoint_id`` is None) and the records it is
        rebuilt from: each next record is the previous one's ``base_id`` (its
        ``parent_id`` when ``base_id`` is None), up to and including the first snapshot.
        Stops early where that record is missing; ``[]`` if the checkpoint is.

        Pointer-following only: payloads are not read. This default calls :meth:`get`
        once per record; SQL savers override it with one recursive query."""
        out: builtins.list[CheckpointRecord] = []
        rec = self.get(thread_id, checkpoint_ns, checkpoint_id)
        seen: set[str] = set()
        while rec is not None and rec.checkpoint_id not in seen:
            out.append(rec)
            seen.add(rec.checkpoint_id)
            nxt = rec.base_id or rec.parent_id
            if rec.snapshot or nxt is None:
                break
            rec = self.get(thread_id, checkpoint_ns, nxt)
        return out

    def put_many(self, ops: Sequence[Op]) -> None:
        """Store checkpoints and pending writes in the given order.

        The engine batches what a run saves (a step's writes with its checkpoint; under
        ``durability="async"`` everything queued since the last batch), so a saver that
        can store a batch in one transaction should: one commit, one disk flush, instead
        of one per row. This default stores them one by one."""
        for op in ops:
            if isinstance(op, WriteBatch):
                self.put_writes(op.thread_id, op.checkpoint_ns, op.checkpoint_id, op.writes)
            else:
                self.put(op)

    # --- async primitives: override for an async-native saver ---------------------------

    async def aput(self, record: CheckpointRecord) -> None:
        await asyncio.to_thread(self.put, record)

    async def aput_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        await asyncio.to_thread(self.put_writes, thread_id, checkpoint_ns, checkpoint_id, writes)

    async def aget(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None) -> CheckpointRecord | None:
        return await asyncio.to_thread(self.get, thread_id, checkpoint_ns, checkpoint_id)

    async def alist(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[CheckpointRecord]:
        return await asyncio.to_thread(
            lambda: list(self.list(thread_id, checkpoint_ns, before=before, limit=limit))
        )

    async def aget_writes(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> builtins.list[PendingWrite]:
        return await asyncio.to_thread(self.get_writes, thread_id, checkpoint_ns, checkpoint_id)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def aput_many(self, ops: Sequence[Op]) -> None:
        await asyncio.to_thread(self.put_many, ops)

    async def athreads(self) -> builtins.list[str]:
        return await asyncio.to_thread(self.threads)

    async def aget_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> builtins.list[CheckpointRecord]:
        return await asyncio.to_thread(self.get_chain, thread_id, checkpoint_ns, checkpoint_id)


class InlineAsyncMixin:
    """Async methods that call the sync primitives directly on the event loop.

    For savers whose operations don't wait on anything slow (memory, a local SQLite
    file): a worker-thread hop would cost more than the operation. Put it before
    :class:`BaseCheckpointSaver` in the bases."""

    async_inline = True
    """The ``a*`` methods are the sync ones, run on the loop: the engine may then read
    without an event loop, and store directly unless ``background_thread`` asks for a
    worker thread. A subclass that moves them off the loop sets it False."""

    async def aput(self, record: CheckpointRecord) -> None:
        self.put(record)  # type: ignore[attr-defined]

    async def aput_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self.put_writes(thread_id, checkpoint_ns, checkpoint_id, writes)  # type: ignore[attr-defined]

    async def aget(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> CheckpointRecord | None:
        return self.get(thread_id, checkpoint_ns, checkpoint_id)  # type: ignore[attr-defined,no-any-return]

    async def alist(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[CheckpointRecord]:
        return [*self.list(thread_id, checkpoint_ns, before=before, limit=limit)]  # type: ignore[attr-defined]

    async def aget_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> builtins.list[PendingWrite]:
        return self.get_writes(thread_id, checkpoint_ns, checkpoint_id)  # type: ignore[attr-defined,no-any-return]

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)  # type: ignore[attr-defined]

    async def aget_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> builtins.list[CheckpointRecord]:
        return self.get_chain(thread_id, checkpoint_ns, checkpoint_id)  # type: ignore[attr-defined,no-any-return]

    async def aput_many(self, ops: Sequence[Op]) -> None:
        self.put_many(ops)  # type: ignore[attr-defined]


_id_lock = threading.Lock()
_last_ms = 0
_counter = 0
_node = os.urandom(6).hex()
_prefix = ""  # the id's time part for _last_ms, formatted once per millisecond


def _new_node() -> None:
    global _node
    _node = os.urandom(6).hex()


if hasattr(os, "register_at_fork"):  # a forked child must not mint its parent's ids
    os.register_at_fork(after_in_child=_new_node)


def new_checkpoint_id() -> str:
    """A UUID-shaped id that sorts in creation order (time first, like UUIDv7), so
    "latest" is "largest id" in every saver, whatever its storage.

    48 bits of milliseconds, a 32-bit counter within the millisecond, then 48 random
    bits drawn once per process: ids from one process are distinct by (ms, counter),
    ids from two processes by their random part."""
    global _last_ms, _counter, _prefix
    ms = time.time_ns() // 1_000_000
    with _id_lock:
        if ms <= _last_ms:  # (a clock set back keeps counting on the last millisecond)
            _counter += 1
        else:
            _last_ms, _counter = ms, 0
            _prefix = f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-"
        counter = _counter & 0xFFFFFFFF
        prefix = _prefix
    return f"{prefix}{counter >> 16:04x}-{counter & 0xFFFF:04x}-{_node}"


__all__ = [
    "BaseCheckpointSaver",
    "CheckpointRecord",
    "InlineAsyncMixin",
    "Op",
    "PendingWrite",
    "WriteBatch",
    "new_checkpoint_id",
]
