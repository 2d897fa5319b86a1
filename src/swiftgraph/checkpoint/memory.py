"""``InMemorySaver``: checkpoints in a dict, for tests and short-lived processes."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from swiftgraph.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointRecord,
    InlineAsyncMixin,
    PendingWrite,
)


class InMemorySaver(InlineAsyncMixin, BaseCheckpointSaver):
    """Keeps every checkpoint in process memory; nothing survives the process.
    Nothing here blocks, so the async methods run inline (no worker thread)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        # (thread_id, ns) -> {checkpoint_id: record}
        self.storage: dict[tuple[str, str], dict[str, CheckpointRecord]] = {}
        # (thread_id, ns, checkpoint_id) -> {(task_id, idx): write}
        self.writes: dict[tuple[str, str, str], dict[tuple[str, int], PendingWrite]] = {}
        self._latest: dict[tuple[str, str], str] = {}

    def put(self, record: CheckpointRecord) -> None:
        with self._lock:
            key = (record.thread_id, record.checkpoint_ns)
            rows = self.storage.setdefault(key, {})
            if record.checkpoint_id in rows:
                raise ValueError(f"checkpoint {record.checkpoint_id} already stored")
            rows[record.checkpoint_id] = record
            latest = self._latest.get(key)
            if latest is None or record.checkpoint_id > latest:
                self._latest[key] = record.checkpoint_id

    def put_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        with self._lock:
            bucket = self.writes.setdefault((thread_id, checkpoint_ns, checkpoint_id), {})
            for w in writes:
                bucket.setdefault((w.task_id, w.idx), w)

    def get(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None) -> CheckpointRecord | None:
        with self._lock:
            rows = self.storage.get((thread_id, checkpoint_ns))
            if not rows:
                return None
            if checkpoint_id is None:
                latest = self._latest.get((thread_id, checkpoint_ns))
                return rows[latest] if latest in rows else rows[max(rows)]
            return rows.get(checkpoint_id)

    def list(
        self,
        thread_id: str | None,
        checkpoint_ns: str | None = "",
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointRecord]:
        with self._lock:
            found = [
                r
                for (tid, ns), rows in self.storage.items()
                if (thread_id is None or tid == thread_id) and (checkpoint_ns is None or ns == checkpoint_ns)
                for r in rows.values()
                if before is None or r.checkpoint_id < before
            ]
        found.sort(key=lambda r: r.checkpoint_id, reverse=True)
        if limit is not None:
            found = found[: max(limit, 0)]
        return iter(found)

    def get_chain(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None = None
    ) -> builtins.list[CheckpointRecord]:
        with self._lock:
            rows = self.storage.get((thread_id, checkpoint_ns)) or {}
            if checkpoint_id is None and rows:
                checkpoint_id = self._latest.get((thread_id, checkpoint_ns))
                if checkpoint_id not in rows:
                    checkpoint_id = max(rows)
            out: builtins.list[CheckpointRecord] = []
            rec = rows.get(checkpoint_id) if checkpoint_id is not None else None
            while rec is not None and len(out) <= len(rows):  # (a cycle can't loop forever)
                out.append(rec)
                nxt = rec.base_id or rec.parent_id
                if rec.snapshot or nxt is None:
                    break
                rec = rows.get(nxt)
            return out

    def get_writes(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> builtins.list[PendingWrite]:
        with self._lock:
            return sorted(self.writes.get((thread_id, checkpoint_ns, checkpoint_id), {}).values())

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            for thread_key in [k for k in self.storage if k[0] == thread_id]:
                del self.storage[thread_key]
                self._latest.pop(thread_key, None)
            for write_key in [k for k in self.writes if k[0] == thread_id]:
                del self.writes[write_key]


MemorySaver = InMemorySaver

__all__ = ["InMemorySaver", "MemorySaver"]
