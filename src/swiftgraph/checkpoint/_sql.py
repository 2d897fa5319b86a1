"""What the SQL savers (SQLite, PostgreSQL) share: row mapping, metadata, paged listing.

Metadata is stored as JSON *text*, not a native JSON type: the stdlib encoder's output
round-trips exactly (key order, ``NaN``, ``"\\u0000"``, lone surrogates, which
PostgreSQL's ``jsonb`` would reorder or refuse), and ``metadata::jsonb`` still works for
ad-hoc queries. ``ensure_ascii`` keeps the text valid UTF-8 whatever the strings hold.

Listing is lazy and paged by keyset (``WHERE (checkpoint_id, ...) < last seen``), pages
growing from :data:`FIRST_PAGE` to :data:`MAX_PAGE` rows: the engine walking back from a
checkpoint to the nearest snapshot usually stops after a few rows, while a full history
never sits in memory at once, and no cursor or lock is held between pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from swiftgraph._internal.serde import compact_json_encoder
from swiftgraph.checkpoint.base import CheckpointRecord, PendingWrite

FIRST_PAGE = 16
MAX_PAGE = 512

CHECKPOINT_COLUMNS = (
    "thread_id, checkpoint_ns, checkpoint_id, parent_id, step, created_at, metadata, data, snapshot,"
    " base_id"
)
WRITE_COLUMNS = "task_path, task_id, idx, channel, value"


def dump_metadata(metadata: dict[str, Any]) -> str:
    """``json.dumps(metadata, separators=(",", ":"))``, the same text from one C encoder
    made once (see :func:`~swiftgraph._internal.serde.compact_json_encoder`): most of
    ``json.dumps``' time on a checkpoint's small metadata is making its encoder."""
    if _encode_metadata is not None:
        try:
            return _encode_metadata(metadata)
        except RecursionError:  # (no circular check: json.dumps names the cycle)
            pass
    return json.dumps(metadata, separators=(",", ":"))


# json.dumps' defaults: ensure_ascii, allow_nan
_encode_metadata = compact_json_encoder(ensure_ascii=True, allow_nan=True)


def checkpoint_params(r: CheckpointRecord) -> tuple[Any, ...]:
    """The values of :data:`CHECKPOINT_COLUMNS` for ``r``, in order."""
    return (
        r.thread_id,
        r.checkpoint_ns,
        r.checkpoint_id,
        r.parent_id,
        r.step,
        r.created_at,
        dump_metadata(r.metadata),
        bytes(r.data),
        bool(r.snapshot),
        r.base_id,
    )


def to_record(row: Sequence[Any]) -> CheckpointRecord:
    """A row of :data:`CHECKPOINT_COLUMNS` as a record. ``data`` is returned as stored."""
    tid, ns, cid, parent, step, created, meta, data, snap, base = row
    return CheckpointRecord(
        tid, ns, cid, parent, int(step), created, json.loads(meta), bytes(data), bool(snap), base
    )


def to_records(rows: Sequence[Sequence[Any]]) -> list[CheckpointRecord]:
    """:func:`to_record` for a page of rows, their metadata parsed in one call."""
    metas = [row[6] for row in rows]
    if len(rows) < 2 or not all(type(m) is str for m in metas):
        return [to_record(row) for row in rows]
    decoded = json.loads("[" + ",".join(metas) + "]")
    return [
        CheckpointRecord(tid, ns, cid, parent, int(step), created, meta, bytes(data), bool(snap), base)
        for (tid, ns, cid, parent, step, created, _, data, snap, base), meta in zip(rows, decoded)
    ]


def placeholders(ph: str) -> str:
    """``ph, ph, ...``: one placeholder per column of :data:`CHECKPOINT_COLUMNS`."""
    return ", ".join([ph] * len(CHECKPOINT_COLUMNS.split(",")))


def chain_sql(table: str, ph: str, latest: bool, id_expr: str = "{}") -> str:
    """One recursive query for ``get_chain``: from a checkpoint (``latest``: the thread's
    largest id) follow ``coalesce(base_id, parent_id)`` until a snapshot. Parameters:
    thread_id, checkpoint_ns[, checkpoint_id], thread_id, checkpoint_ns, thread_id,
    checkpoint_ns. ``id_expr`` wraps the given id's placeholder (PostgreSQL wants the
    recursive column's type and collation from the start). Only ids travel through the recursion (carrying the payloads would
    copy them at every level); the rows are read once at the end, each with its depth
    (see :func:`chain_records`).
    ``depth`` is capped so a corrupted cycle of pointers can't loop forever."""
    key = f"thread_id = {ph} AND checkpoint_ns = {ph}"
    start = (
        f"SELECT (SELECT max(checkpoint_id) FROM {table} WHERE {key}), 0"
        if latest
        else f"SELECT {id_expr.format(ph)}, 0"
    )
    cols = ", ".join(f"c.{c.strip()}" for c in CHECKPOINT_COLUMNS.split(","))
    return (
        f"WITH RECURSIVE chain(id, depth) AS ({start}"
        f" UNION ALL SELECT coalesce(c.base_id, c.parent_id), chain.depth + 1"
        f" FROM chain JOIN {table} c ON c.thread_id = {ph} AND c.checkpoint_ns = {ph}"
        " AND c.checkpoint_id = chain.id"
        " WHERE NOT c.snapshot AND coalesce(c.base_id, c.parent_id) IS NOT NULL"
        f" AND chain.depth < {MAX_CHAIN_DEPTH})"
        f" SELECT {cols}, chain.depth FROM chain JOIN {table} c ON c.thread_id = {ph}"
        f" AND c.checkpoint_ns = {ph} AND c.checkpoint_id = chain.id"
    )


def chain_records(rows: Sequence[Sequence[Any]]) -> list[CheckpointRecord]:
    """The rows of :func:`chain_sql` as records, nearest first. Sorted here, not with
    ``ORDER BY``: SQLite would copy the payloads into a temporary b-tree to sort them."""
    return to_records([row[:-1] for row in sorted(rows, key=lambda row: row[-1])])


def chain_params(thread_id: str, checkpoint_ns: str, checkpoint_id: str | None) -> list[Any]:
    first = [thread_id, checkpoint_ns] if checkpoint_id is None else [checkpoint_id]
    return [*first, thread_id, checkpoint_ns, thread_id, checkpoint_ns]


MAX_CHAIN_DEPTH = 1_000_000


def to_write(row: Sequence[Any]) -> PendingWrite:
    path, task_id, idx, channel, value = row
    return PendingWrite(path, task_id, int(idx), channel, bytes(value))


class ListQuery:
    """The SELECTs behind ``list()``: newest first, optionally one keyset page at a time.

    Order: ``checkpoint_id`` desc, then the key columns left free (``thread_id`` when
    listing every thread, ``checkpoint_ns`` every namespace) desc, so pages never skip
    or repeat a row. ``ph`` is the driver's placeholder (``?`` or ``%s``).
    """

    def __init__(
        self,
        table: str,
        ph: str,
        thread_id: str | None,
        checkpoint_ns: str | None,
        before: str | None,
    ) -> None:
        self.where: list[str] = []
        self.params: list[Any] = []
        self.keys = ["checkpoint_id"]
        if thread_id is None:
            self.keys.append("thread_id")
        else:
            self.where.append(f"thread_id = {ph}")
            self.params.append(thread_id)
        if checkpoint_ns is None:
            self.keys.append("checkpoint_ns")
        else:
            self.where.append(f"checkpoint_ns = {ph}")
            self.params.append(checkpoint_ns)
        self.before: list[str] = []
        self.before_params: list[Any] = []
        if before is not None:
            self.before.append(f"checkpoint_id < {ph}")
            self.before_params.append(before)
        self.table = table
        self.order = ", ".join(f"{k} DESC" for k in self.keys)
        self.seek = f"({', '.join(self.keys)}) < ({', '.join([ph] * len(self.keys))})"
        columns = CHECKPOINT_COLUMNS.split(", ")
        self.key_idx = [columns.index(k) for k in self.keys]

    def sql(self, limit: int | None, after: Sequence[Any] | None = None) -> tuple[str, list[Any]]:
        """The query for up to ``limit`` rows (all if None) that sort after the key ``after``."""
        # a page key is below ``before`` already; repeating it would hide the key from the index
        if after is None:
            conds, params = self.where + self.before, self.params + self.before_params
        else:
            conds, params = self.where + [self.seek], self.params + list(after)
        sql = (
            f"SELECT {CHECKPOINT_COLUMNS} FROM {self.table}"
            + (f" WHERE {' AND '.join(conds)}" if conds else "")
            + f" ORDER BY {self.order}"
            + (f" LIMIT {int(limit)}" if limit is not None else "")
        )
        return sql, params

    def key(self, row: Sequence[Any]) -> list[Any]:
        return [row[i] for i in self.key_idx]


def iter_list(
    fetch: Callable[[str, list[Any]], Sequence[Sequence[Any]]],
    query: ListQuery,
    limit: int | None,
) -> Iterator[CheckpointRecord]:
    """``query``'s records, fetched lazily page by page with ``fetch(sql, params)``."""
    if limit is not None and limit <= 0:
        return
    after: list[Any] | None = None
    size = FIRST_PAGE
    remaining = limit
    while True:
        n = size if remaining is None else min(size, remaining)
        rows = fetch(*query.sql(n, after))
        yield from to_records(rows)
        if len(rows) < n:
            return
        if remaining is not None:
            remaining -= n
            if remaining <= 0:
                return
        after = query.key(rows[-1])
        size = min(size * 2, MAX_PAGE)
