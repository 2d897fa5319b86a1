"""Checkpointing a run: what is saved after each superstep, and how a run is restored.

A checkpoint records the state *between* supersteps. Most are deltas: the values
plain keys took in the step and the raw updates reducer keys received (a list that
grows by one item per step is stored one item per step). A full snapshot is taken at
the start of a thread and whenever the deltas a rebuild would read outweigh it:
snapshots then never add up to more than the deltas, so total storage stays
proportional to the work done (a fixed snapshot interval would make it quadratic on
a growing list). ``MAX_CHAIN`` only bounds pathological runs of tiny deltas.

Compacted deltas keep the rebuild short. With snapshots sized by bytes, the steps
since the last one grow with the state (hundreds on a long list), and replaying one
delta per step made a cold ``get_state`` read and decode hundreds of records. So
deltas form a :data:`FANOUT`-ary counter (:attr:`Checkpointing.links`, the rebuild
path of the current checkpoint): every 4th delta of a given span merges the 3 before
it into itself (span 1, 4, 16, 64, ...) and applies to the record below them, named
by ``CheckpointRecord.base_id``; its payload says how many steps it covers (``"n"``)
and keeps each step's updates of a reducer key as one batch (an ``Overwrite`` drops
the updates after it in its own step only). A checkpoint is then rebuilt from its
snapshot plus at most 3 records per level (about a dozen), fetched by the saver's
``get_chain`` in one query (a recursive CTE in SQLite and PostgreSQL) and decoded one
by one. Each step's changes are serialized once per channel and merged as bytes
(a loaded record is re-serialized from its own bytes when first merged), and each is
stored once per level it climbs, about ``log4(steps since the snapshot)`` times: on an
appending run this costs about what the rarer snapshots save (the snapshot rule counts
only the bytes a rebuild reads). Why this over the alternatives: a saver primitive
alone (fetching exactly the parent chain, or fewer columns) still reads and decodes
one record per step; hierarchical deltas bound both, and the saver only follows a
pointer column, never a payload. Records without ``base_id``/``"n"`` (written before
compaction) are plain deltas on their parent and load as they always did; a saver
that doesn't keep ``base_id`` still loads correctly (slowly), the base being the
``n``-th ancestor. Rebuilt checkpoints are cached per process.

While a step runs, each finished task's writes are saved against the checkpoint the
step started from ("pending writes"); a step cut short by a crash, an error or
``interrupt()`` resumes by rerunning only the tasks without saved writes. Task ids are
derived from that checkpoint's id, so the same task gets the same id on resume.

Everything goes through :class:`swiftgraph._internal.serde.Serializer`: nothing here
uses pickle, and loading never imports or runs code.

This module is the format and the saving side; reading checkpoints back and resuming
from them is :mod:`.restore`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from swiftgraph.checkpoint.base import CheckpointRecord, PendingWrite, WriteBatch, new_checkpoint_id

from .constants import MISSING
from .serde import MARK, SerializationError, _json_text, register
from .types import Overwrite, Send

if TYPE_CHECKING:
    from swiftgraph.checkpoint.base import BaseCheckpointSaver, Op

    from .compiled_types import Task
    from .loop import Run

register(Overwrite, name="swiftgraph:Overwrite")

MAX_CHAIN = 4096
"""Most deltas between two snapshots (a backstop; the byte rule normally decides)."""
CACHE_SIZE = 128
SNAPSHOT = 1 << 62
"""A snapshot's span on the rebuild path: no delta ever absorbs it."""
FANOUT = 4
"""Compaction: every FANOUT-th delta of a span absorbs the FANOUT - 1 before it."""
WRITE_BEHIND_TURN_S = 0.05
"""Under ``durability="async"``, a run that has not let the loop run for this long gives
it a turn at its next checkpoint, so the write-behind stores what has queued while the
run goes on (see :meth:`Checkpointing.save`)."""

INTERRUPT = "__interrupt__"
ERROR = "__error__"
RETURN = "__return__"
RESUME = "__resume__"
PUSH_SENDS = "__pregel_push"
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"
"""Whom a resume answer is saved for when no interrupt was waiting (LangGraph's name):
the first ``interrupt()`` of the step without an answer of its own takes it."""


@dataclass(slots=True)
class Restored:
    """A checkpoint rebuilt into channel states, plus what was pending after it."""

    record: CheckpointRecord
    state: dict[str, Any]  # state channel -> value
    triggers: dict[str, Any]  # trigger channel -> channel.checkpoint()
    sends: list[Send]
    start: Any  # the input, for an "input" checkpoint
    chain: int  # deltas since the last snapshot
    delta_bytes: int
    snap_bytes: int
    writes: list[PendingWrite] = field(default_factory=list)
    ran: list[str] | None = None  # the nodes whose writes made this checkpoint
    origin: Restored | None = None  # the cached object this copy came from
    links: list[Link] = field(default_factory=list)  # its rebuild path, for the next record


class Link:
    """One record on the path a checkpoint is rebuilt from (``Checkpointing.links``:
    the snapshot first, then deltas, each applying to the one before it)."""

    __slots__ = ("_parts", "checkpoint_id", "cost", "raw", "span")

    def __init__(
        self, checkpoint_id: str, span: int, cost: int, parts: Parts | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.checkpoint_id = checkpoint_id
        self.span = span  # the steps it covers (SNAPSHOT for the snapshot)
        self.cost = cost  # bytes of the deltas on the path up to and with it
        self._parts = parts
        self.raw = raw  # a loaded record's payload: its parts are made on demand

    def parts(self, serde: Any) -> Parts:
        """Its changes, serialized per channel (see :data:`Parts`). For a loaded record
        they are decoded afresh from its bytes, not taken from the rebuilt state (which
        the run's nodes may since have mutated)."""
        if self._parts is None:
            p = serde.loads(self.raw)
            delta = p.get("delta") or {}
            if "n" not in p:  # one step's updates per key; a compacted delta has a list of them
                delta = {chan: [vals] for chan, vals in delta.items()}
            self._parts = _parts(serde, p.get("state") or {}, delta)
            self.raw = None
        return self._parts


Parts = tuple[dict[str, bytes], dict[str, list[bytes]]]
"""A delta's changes as JSON fragments: plain key -> its value; reducer key -> the updates
it received, one JSON array per step (a step's updates are applied as one batch: an
``Overwrite`` drops the updates after it in its step only)."""


def _parts(serde: Any, state: dict[str, Any], batches: dict[str, list[list[Any]]]) -> Parts:
    """A loaded record's changes as fragments (see :data:`Parts`); a record being made
    builds its own from the step's writes (``Checkpointing._delta_data``)."""
    dumps = serde.dumps
    return (
        {chan: dumps(value) for chan, value in state.items()},
        {chan: [dumps(vals) for vals in steps] for chan, steps in batches.items()},
    )


def _merge(parts: list[Parts]) -> Parts:
    """Changes of consecutive deltas (oldest first) as one delta: a plain key's last value
    (dropping the updates before it), every update of a reducer key in order."""
    state: dict[str, bytes] = {}
    delta: dict[str, list[bytes]] = {}
    for st, de in parts:
        for chan, value in st.items():
            state[chan] = value
            delta.pop(chan, None)
        for chan, frags in de.items():
            delta[chan] = [*delta.get(chan, ()), *frags]
    return state, delta


def _encode(parts: Parts, span: int) -> bytes:
    """``"state":{..},"delta":{..}``: the members of a payload, as the serializer writes
    them. A delta covering one step has its updates per key (as it always had); one
    covering ``span > 1`` steps, a list of them per key, one per step."""
    st, de = parts
    key = _json_key
    if span > 1:
        updates = [key(c) + b":[" + b",".join(fs) + b"]" for c, fs in de.items()]
    else:
        updates = [key(c) + b":" + fs[0] for c, fs in de.items()]
    return (
        b'"state":{' + b",".join(key(c) + b":" + v for c, v in st.items())
        + b'},"delta":{' + b",".join(updates) + b"}"
    )


def _json_key(chan: str) -> bytes:
    key = _JSON_KEYS.get(chan)
    if key is None:
        key = json.dumps(chan).encode()
        if len(_JSON_KEYS) < 4096:  # channel names: a graph's few, reused every step
            _JSON_KEYS[chan] = key
    return key


_JSON_KEYS: dict[str, bytes] = {}


def now_iso() -> str:
    """``datetime.now(timezone.utc).isoformat()``, in a fifth of the time: the date and
    time of day are formatted once per second."""
    global _iso_second, _iso_prefix
    sec, ns = divmod(time.time_ns(), 1_000_000_000)
    if sec != _iso_second:
        _iso_prefix = datetime.fromtimestamp(sec, timezone.utc).isoformat()[:-6]  # no "+00:00"
        _iso_second = sec
    us = ns // 1000
    return f"{_iso_prefix}.{us:06d}+00:00" if us else f"{_iso_prefix}+00:00"


_iso_second = -1
_iso_prefix = ""


def rebuilt_cache(saver: Any) -> OrderedDict[tuple[str, str, str], Restored]:
    """The checkpoints of ``saver`` this process rebuilt or wrote last in a run, by
    (thread, namespace, id), most recent last: a load of one needs no replay. Kept on
    the saver (checkpoints are never changed once stored, so an entry can't go stale;
    a deleted one is not found by the saver first)."""
    cache = getattr(saver, "_swiftgraph_cache", None)
    if cache is None:
        cache = OrderedDict()
        try:
            saver._swiftgraph_cache = cache
        except AttributeError:
            pass
    return cache


def remember(saver: Any, key: tuple[str, str, str], restored: Restored) -> None:
    """Put ``restored`` in :func:`rebuilt_cache`, dropping the oldest past CACHE_SIZE."""
    cache = rebuilt_cache(saver)
    cache[key] = restored
    cache.move_to_end(key)
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


def encode_sends(sends: list[Send]) -> list[list[Any]]:
    return [[s.node, s.arg] for s in sends]


def decode_sends(raw: list[list[Any]] | None) -> list[Send]:
    return [Send(node, arg) for node, arg in raw or ()]


class Checkpointing:
    """The checkpoint side of one run: loading, saving, pending writes.

    Saving goes through one ordered queue of :data:`~swiftgraph.checkpoint.base.Op`
    that is handed to the saver's ``put_many`` in batches, one transaction each:

    * ``durability="sync"``: the queue is stored before the next step starts. A step's
      last task leaves its writes queued, so they commit with the step's checkpoint
      (one commit per step, not two); a task finishing while siblings still run has
      its writes stored at once, so a crash can't lose them.
    * ``"async"`` (the default): a write-behind task stores whatever has queued while
      the run goes on; batches are committed in order, and the run waits for the
      last one before it returns.
    * ``"exit"``: nothing until the run ends (see :meth:`finish`).
    """

    def __init__(self, saver: BaseCheckpointSaver, thread_id: str, ns: str, durability: str) -> None:
        self.saver = saver
        self.serde = saver.serde
        self.thread_id = thread_id
        self.ns = ns
        self.durability = durability
        # a saver that never waits and wants no worker thread (memory) is called
        # directly, whatever the durability: a write-behind task would cost more than
        # the store, and stored is stored
        self.inline = durability != "exit" and getattr(saver, "async_inline", False) is True and (
            not getattr(saver, "background_thread", False)
        )
        self.where = f"the checkpoint of thread {thread_id!r}"  # for error messages
        self.current: CheckpointRecord | None = None  # the last checkpoint of this run
        # ``current`` as channel states, for the cache: Restored's fields, in order, as a
        # tuple (made at every step, read once at the end: see finish)
        self.last: tuple[Any, ...] | None = None
        self.chain = 0
        self.delta_bytes = 0
        self.snap_bytes = 0
        self.queue: list[Op] = []
        self.writer: asyncio.Task[None] | None = None  # the "async" write-behind
        self.turned = time.monotonic()  # when the loop last had a turn (see save)
        self.restored_id: str | None = None  # the persisted checkpoint this run started from
        self.exit_rows: dict[str, list[PendingWrite]] = {}  # durability="exit": held to the end
        self.links: list[Link] = []  # the rebuild path of ``current``: snapshot first
        self._pending: tuple[int, int, Parts | None] = (0, 1, None)
        self.user_meta: dict[str, Any] | None = None
        self.encoded: dict[int, tuple[Any, bytes]] = {}  # this step's writes: id -> (value, bytes)
        # a subgraph's checkpoints name the checkpoint of each enclosing namespace that
        # its task's step started from (LangGraph's metadata["parents"]; {} at the top)
        self.parents: dict[str, str] = {}

    # --- loading ---------------------------------------------------------------------

    async def load(self, checkpoint_id: str | None) -> Restored | None:
        from .restore import load

        return await load(self.saver, self.thread_id, self.ns, checkpoint_id, with_writes=True)

    # --- saving ----------------------------------------------------------------------

    def make_record(
        self,
        run: Run,
        *,
        source: str,
        step: int,
        by_channel: dict[str, list[Any]] | None,
        sends: list[Send],
        start: Any = MISSING,
        metadata: dict[str, Any] | None = None,
        ran: list[str] | None = None,
        tl: list[list[Any]] | None = None,
    ) -> CheckpointRecord:
        graph = run.graph
        channels = run.channels
        snapshot = by_channel is None or self.current is None or self.chain >= MAX_CHAIN or (
            self.delta_bytes >= self.snap_bytes
        )
        full: dict[str, Any] = {}
        values, plain_keys = run.values, graph.plain_keys
        for k in graph.state_keys:
            if k in plain_keys:  # its value, if written, is in run.values (it has no channel)
                if k in values:
                    full[k] = values[k]
            elif (ch := channels.get(k)) is not None and (saved := ch.checkpoint()) is not MISSING:
                full[k] = saved
        triggers = trigger_states(run)
        # the payload's members in two parts: ``payload``, values that came from the
        # run (the serializer tags what JSON can't say), and ``plain``, what the engine
        # made of str, int, None and lists of them (written as is: the serializer
        # would walk it only to change nothing)
        payload: dict[str, Any] = {}
        plain: dict[str, Any] = {"sends": []} if not sends else {}
        if sends:
            payload["sends"] = encode_sends(sends)
        # edge triggers hold None, join barriers a list of node names; a deferred
        # trigger holds a tuple (which the serializer tags)
        deferred = graph.deferred_channels and any(type(v) is tuple for v in triggers.values())
        (payload if deferred else plain)["trig"] = triggers
        if start is not MISSING:
            payload["start"] = start
        if ran is not None:
            plain["ran"] = ran
        if tl:
            plain["tl"] = tl  # the step's task timings: reports rebuild runs exactly
        base_id = None
        if snapshot:
            payload["state"] = full
            data = self._head(payload, plain)
        else:
            state: dict[str, Any] = {}
            delta: dict[str, list[Any]] = {}
            for chan, vals in by_channel.items():  # type: ignore[union-attr]
                if chan in graph.state_key_set:
                    if chan in graph.reducer_keys:
                        delta[chan] = vals
                    elif chan in plain_keys:
                        state[chan] = values[chan]
                    else:
                        state[chan] = channels[chan].checkpoint()
            data, base_id = self._delta_data(payload, plain, state, delta)
        meta: dict[str, Any] = {"source": source, "step": step, "parents": dict(self.parents)}
        if metadata:
            meta.update(_json_safe(metadata))
        if self.user_meta is None:  # the run's config metadata, made JSON-safe once
            self.user_meta = _json_safe(run.config.get("metadata") or {})
        for k, v in self.user_meta.items():  # type: ignore[union-attr]
            meta.setdefault(k, v)
        current = self.current
        record = CheckpointRecord(  # (positional: thread_id, checkpoint_ns, checkpoint_id, parent_id,
            self.thread_id, self.ns, new_checkpoint_id(),  # step, created_at, metadata, data,
            current.checkpoint_id if current is not None else None,  # snapshot, base_id)
            step, now_iso(), meta, data, snapshot, base_id,
        )
        self._link(record)
        self.current = record
        self.encoded.clear()
        # cached when the run ends: the next load of it in this process needs no replay
        self.last = (
            record, full, triggers, sends, start, self.chain, self.delta_bytes, self.snap_bytes,
            ran, self.links,
        )
        return record

    # --- compacted deltas (see the module docstring) ----------------------------------

    def _head(self, payload: dict[str, Any], plain: dict[str, Any]) -> bytes:
        """``payload`` and ``plain`` (see make_record) as one JSON object."""
        where = self.where
        try:
            data = _json_text(plain).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in a node name: escaped
            data = self.serde.dumps(plain, where=where)
        if payload:
            data = self.serde.dumps(payload, where=where)[:-1] + b"," + data[1:]
        return data

    def _delta_data(
        self, payload: dict[str, Any], plain: dict[str, Any], state: dict[str, Any],
        delta: dict[str, list[Any]],
    ) -> tuple[bytes, str | None]:
        """A delta's bytes, and the checkpoint it applies to when not its parent.

        The step's changes are serialized once per channel and kept on :attr:`links`;
        a delta that absorbs the links on top (see :data:`FANOUT`) merges their
        fragments with its own, and applies to the link below them."""
        links = self.links
        if not links or MARK in state or MARK in delta:  # (no hand-made object with that key)
            payload["state"], payload["delta"] = state, delta
            self._pending = (len(links), 1, None)
            return self._head(payload, plain), None
        # this step's changes, one fragment per channel
        frag = self._fragment
        own: Parts = (
            {chan: frag(value) for chan, value in state.items()},
            {chan: [b"[" + b",".join([frag(v) for v in vals]) + b"]"] for chan, vals in delta.items()},
        )
        keep, span = len(links), 1
        while True:  # a FANOUT-ary counter: FANOUT - 1 links of one span on top, merged
            low = keep
            while low > 1 and keep - low < FANOUT - 1 and links[low - 1].span == span:
                low -= 1
            if keep - low < FANOUT - 1:
                break
            keep, span = low, span * FANOUT
        merged = _merge([*(link.parts(self.serde) for link in links[keep:]), own]) if span > 1 else own
        head = self._head(payload, plain)
        data = head[:-1] + b"," + _encode(merged, span) + (b',"n":%d}' % span if span > 1 else b"}")
        self._pending = (keep, span, merged)
        return data, links[keep - 1].checkpoint_id if span > 1 else None

    def _fragment(self, value: Any) -> bytes:
        """``value`` as JSON: the bytes its pending write was saved as when it is one of
        this step's writes (see save_writes), else serialized now."""
        entry = self.encoded.get(id(value))
        return entry[1] if entry is not None and entry[0] is value else self.serde.dumps(value, where=self.where)

    def _link(self, record: CheckpointRecord) -> None:
        """Put ``record`` on top of the rebuild path; keep the snapshot rule's counters."""
        if record.snapshot:
            self.chain, self.delta_bytes, self.snap_bytes = 0, 0, len(record.data)
            self.links = [Link(record.checkpoint_id, SNAPSHOT, 0)]
            return
        keep, span, parts = self._pending
        below = self.links[keep - 1].cost if keep else self.delta_bytes
        link = Link(
            record.checkpoint_id, span, below + len(record.data), parts,
            None if parts is not None else record.data,
        )
        self.links = [*self.links[:keep], link]
        self.chain += 1
        self.delta_bytes = link.cost

    async def save(self, record: CheckpointRecord) -> None:
        """Store a checkpoint per the durability mode (see the class docstring)."""
        if self.durability == "exit":
            return
        self.queue.append(record)
        if self.inline:
            self._store()
        elif self.durability == "sync":
            await self.flush()
        else:
            self._write_behind()
            # A run of sync bodies (run inline) never waits, so the loop would never
            # run the write-behind: everything would be stored at the end, and a crash
            # would lose the whole run. So the loop gets a turn once the run has gone
            # WRITE_BEHIND_TURN_S without one: the write-behind hands what has queued
            # to its saver (a worker thread for SQLite) and the run goes on while it
            # is stored. A short run still stores in one batch at its end (cheapest:
            # one commit), and a run whose bodies wait gives turns anyway.
            now = time.monotonic()
            if now - self.turned >= WRITE_BEHIND_TURN_S:
                self.turned = now
                await asyncio.sleep(0)

    def _store(self) -> None:
        """Store the queue now, on the caller's thread (an inline saver's)."""
        ops, self.queue = self.queue, []
        self.saver.put_many(ops)

    async def save_writes(
        self, base_id: str, task: Task, writes: list[tuple[str, Any]], idx0: int = 0, last: bool = False
    ) -> None:
        """Save a task's writes against the checkpoint its step started from.

        ``last``: the step's checkpoint follows at once (the task ran alone), so under
        ``durability="sync"`` the writes may wait to share its commit.

        Rows are idempotent per (task id, idx), so a rerun can't overwrite what was
        saved: a task's data writes use idx 0.., its error -1, its interrupts
        1000 + the number of answers it had (one row per round of questions)."""
        path = task_path(task)
        tid = task.id
        dumps = self.serde.dumps
        rows = []
        # the step's checkpoint reuses a data write's bytes (see _parts); the entry holds
        # the value itself, so its id can't be taken by another object meanwhile
        encoded = self.encoded if idx0 == 0 else None
        for i, (chan, value) in enumerate(writes):
            if chan == PUSH_SENDS:
                value = [value.node, value.arg]
            if value is None:  # an edge trigger's write
                rows.append(PendingWrite(path, tid, idx0 + i, chan, b"null"))
                continue
            try:
                data = dumps(value)
            except SerializationError:  # again, to name the write in the message
                data = dumps(value, where=f"the write to {chan!r} by task {task.name!r}")
            rows.append(PendingWrite(path, tid, idx0 + i, chan, data))
            if encoded is not None and chan != PUSH_SENDS:
                encoded[id(value)] = (value, data)
        if not rows:
            rows = [PendingWrite(path, tid, 0, "__no_writes__", dumps(None))]
        if self.durability == "exit":
            self.exit_rows.setdefault(base_id, []).extend(rows)
            return
        self.queue.append(WriteBatch(self.thread_id, self.ns, base_id, rows))
        if self.inline:
            if not last:
                self._store()
        elif self.durability == "async":
            self._write_behind()
        elif not last:
            await self.flush()

    async def save_resume(self, base_id: str, task_id: str, values: list[Any]) -> None:
        """Answers to a task's interrupts so far: its next rerun replays them in order."""
        row = PendingWrite(
            f"~resume, {task_id}", f"{task_id}|resume{len(values)}", 0, RESUME,
            self.serde.dumps((task_id, values), where="a resume value"),
        )
        self.queue.append(WriteBatch(self.thread_id, self.ns, base_id, [row]))
        await self.flush()

    def _write_behind(self) -> None:
        writer = self.writer
        if writer is None or (writer.done() and not writer.cancelled() and writer.exception() is None):
            self.writer = asyncio.ensure_future(self._drain())
        # a writer that failed keeps its error for flush(): nothing more is stored

    async def _drain(self) -> None:
        saver = self.saver
        in_thread = getattr(saver, "background_thread", False)
        while self.queue:
            ops, self.queue = self.queue, []
            if in_thread:
                await asyncio.to_thread(saver.put_many, ops)
            else:
                await saver.aput_many(ops)

    async def flush(self) -> None:
        """Store everything queued, after what the write-behind is storing (raising
        what a background batch raised)."""
        writer = self.writer
        if writer is not None:
            await writer
            self.writer = None
        if self.queue:
            ops, self.queue = self.queue, []
            await self.saver.aput_many(ops)

    async def finish(self, run: Run, records: list[CheckpointRecord]) -> None:
        """At the end of a run: store what is queued. In "exit" mode, save now, as
        LangGraph does: only the run's last checkpoint (as a snapshot, since the deltas
        before it were never stored) and the pending writes of a step cut short."""
        import dataclasses

        last = None
        if self.last is not None:
            record, full, triggers, sends, start, chain, delta_bytes, snap_bytes, ran, links = self.last
            last = Restored(
                record=record, state=full, triggers=triggers, sends=list(sends), start=start,
                chain=chain, delta_bytes=delta_bytes, snap_bytes=snap_bytes, ran=ran, links=links,
            )
        if self.durability == "exit" and records:
            record = records[-1]
            if last is not None and last.record is record:
                payload: dict[str, Any] = {
                    "trig": last.triggers,
                    "sends": encode_sends(last.sends),
                    "state": last.state,
                }
                if last.start is not MISSING:
                    payload["start"] = last.start
                if last.ran is not None:
                    payload["ran"] = last.ran
                record = dataclasses.replace(
                    record,
                    parent_id=records[0].parent_id,
                    data=self.serde.dumps(payload, where=self.where),
                    snapshot=True,
                    base_id=None,
                )
                last.record = record
                last.chain = last.delta_bytes = 0
                last.snap_bytes = len(record.data)
                last.links = [Link(record.checkpoint_id, SNAPSHOT, 0)]
            self.queue.append(record)
        if self.durability == "exit":
            keep = {r.checkpoint_id for r in records[-1:]} | {self.restored_id}
            for base_id, rows in self.exit_rows.items():
                if base_id in keep:
                    self.queue.append(WriteBatch(self.thread_id, self.ns, base_id, rows))
        await self.flush()
        if last is not None:
            remember(self.saver, (self.thread_id, self.ns, last.record.checkpoint_id), last)


def task_path(task: Task) -> str:
    kind, key = task.kind, task.key
    if isinstance(key, int):
        return f"~{kind}, {key:010d}"
    if isinstance(key, tuple):
        return f"~{kind}, {key!r}"
    return f"~{kind}, {key}"


def trigger_states(run: Run) -> dict[str, Any]:
    """The run's triggers as a checkpoint keeps them: the live edge triggers (they carry
    ``None``), then every join barrier and deferred trigger holding something, a
    deferred trigger that is due included (its node runs next: a breakpoint before
    it must find it in the checkpoint)."""
    out: dict[str, Any] = dict.fromkeys(run.live_triggers or ())
    graph = run.graph
    if graph.deferred_channels or graph.barrier_channels:
        channels = run.channels
        for name in (*graph.deferred_channels, *graph.barrier_channels):
            ch = channels.get(name)
            if ch is not None and (saved := ch.checkpoint()) is not MISSING:
                out[name] = saved
    return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)
