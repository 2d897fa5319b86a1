"""Restoring a run from its checkpoints: reading a checkpoint back, and resuming.

A checkpoint is rebuilt from its nearest snapshot plus the deltas after it, read in
one call (the saver's ``get_chain``) and decoded in one parse where the path is long
(:func:`load`); reducer keys replay their saved updates through the graph's own
reducers (:func:`materialize`). A resumed run then gets the channels, the triggers
and the pending writes of the step after the checkpoint (:func:`restore_into`): the
tasks that finished keep their writes, the others run again (:func:`pending_tasks`),
and a ``Command(resume=...)`` answers the interrupts still open (:func:`resume_plan`).

The format, and how it is saved, is :mod:`.persistence`'s.
"""

from __future__ import annotations

import itertools
import operator
from typing import TYPE_CHECKING, Any

from swiftgraph.checkpoint.base import CheckpointRecord, PendingWrite

from .constants import MISSING, PUSH
from .errors import CheckpointError
from .persistence import (
    ERROR,
    INTERRUPT,
    MAX_CHAIN,
    NULL_TASK_ID,
    PUSH_SENDS,
    RESUME,
    RETURN,
    SNAPSHOT,
    Link,
    Restored,
    decode_sends,
    rebuilt_cache,
    remember,
)
from .serde import SerializationError
from .types import Interrupt, Send

if TYPE_CHECKING:
    from swiftgraph.checkpoint.base import BaseCheckpointSaver

    from .compiled_types import CompiledGraph, Task
    from .loop import Run


async def load(
    saver: BaseCheckpointSaver,
    thread_id: str,
    ns: str,
    checkpoint_id: str | None,
    *,
    with_writes: bool = False,
    graph: CompiledGraph | None = None,
) -> Restored | None:
    """Rebuild a checkpoint (the latest when ``checkpoint_id`` is None)."""
    cache = rebuilt_cache(saver)
    path: list[CheckpointRecord] | None = None
    if any(k[0] == thread_id and k[1] == ns for k in cache):
        record = await saver.aget(thread_id, ns, checkpoint_id)  # maybe cached: no more yet
    else:  # nothing of the thread is cached: its rebuild path in the same query
        path = await saver.aget_chain(thread_id, ns, checkpoint_id)
        record = path[0] if path else None
    if record is None:
        if checkpoint_id is not None:
            raise CheckpointError(
                f"Checkpoint {checkpoint_id!r} of thread {thread_id!r} not found. "
                "List the thread's checkpoints with get_state_history(config)."
            )
        return None
    key = (thread_id, ns, record.checkpoint_id)
    restored = cache.get(key)
    if restored is None:
        restored = await _rebuild(saver, record, path)
        remember(saver, key, restored)
    restored = Restored(
        record=restored.record,
        state=dict(restored.state),
        triggers=restored.triggers,
        sends=list(restored.sends),
        start=restored.start,
        chain=restored.chain,
        delta_bytes=restored.delta_bytes,
        snap_bytes=restored.snap_bytes,
        ran=restored.ran,
        origin=restored,
        links=restored.links,
    )
    # pending writes belong to the tasks of the step after the checkpoint: a checkpoint
    # with nothing to trigger one (a finished run's last) has none worth a query
    if with_writes and (restored.triggers or restored.sends or restored.start is not MISSING):
        restored.writes = await saver.aget_writes(thread_id, ns, record.checkpoint_id)
    return restored


def _decode(saver: Any, record: CheckpointRecord) -> dict[str, Any]:
    try:
        payload = saver.serde.loads(record.data)
    except SerializationError as exc:
        raise CheckpointError(
            f"Checkpoint {record.checkpoint_id!r} of thread {record.thread_id!r} can't be "
            f"loaded: {exc}"
        ) from exc
    if not isinstance(payload, dict) or "trig" not in payload:
        raise CheckpointError(
            f"Checkpoint {record.checkpoint_id!r} of thread {record.thread_id!r} is not a "
            "swiftgraph checkpoint (unexpected payload); refusing to load it."
        )
    return payload


def _decode_all(saver: Any, records: list[CheckpointRecord]) -> list[dict[str, Any]]:
    """Decode a chain's payloads in one parse (one JSON array, not one call per record:
    a long chain costs the bytes, not the calls); a bad one is named by :func:`_decode`."""
    if len(records) > 16:  # (a short path: one call each spares copying the bytes twice)
        try:
            payloads = saver.serde.loads(b"[" + b",".join(r.data for r in records) + b"]")
        except SerializationError:
            payloads = None
        if isinstance(payloads, list) and len(payloads) == len(records):
            if all(isinstance(p, dict) and "trig" in p for p in payloads):
                return payloads
    return [_decode(saver, r) for r in records]


async def _path(
    saver: Any, record: CheckpointRecord, lost: dict[str, str], chain: list[CheckpointRecord] | None
) -> list[CheckpointRecord]:
    """``record`` and the records it applies to, down to a snapshot (newest first),
    read with the saver's ``aget_chain`` (unless ``chain`` has them): usually one query
    for the whole path. ``lost``: bases found from the payloads that the saver's
    ``base_id`` didn't give."""
    tid, ns = record.thread_id, record.checkpoint_ns
    if chain is None:
        chain = await saver.aget_chain(tid, ns, record.checkpoint_id)
    fetched = {r.checkpoint_id: r for r in chain}
    path: list[CheckpointRecord] = []
    rec = record
    while not rec.snapshot:
        path.append(rec)
        if len(path) > len(fetched) + MAX_CHAIN:
            raise CheckpointError(
                f"Checkpoint {record.checkpoint_id!r} of thread {tid!r}: its deltas form a "
                "cycle; the thread's history is corrupted."
            )
        nxt = lost.get(rec.checkpoint_id) or rec.base_id or rec.parent_id
        found = fetched.get(nxt) if nxt is not None else None
        if found is None and nxt is not None:  # the saver's chain went another way
            fetched.update((r.checkpoint_id, r) for r in await saver.aget_chain(tid, ns, nxt))
            found = fetched.get(nxt)
        if found is None:
            raise CheckpointError(
                f"Checkpoint {rec.checkpoint_id!r} of thread {tid!r} refers to a "
                f"missing parent {nxt!r}; the thread's history is incomplete."
            )
        rec = found
    path.append(rec)
    return path


async def _ancestor(saver: Any, rec: CheckpointRecord, n: int) -> str | None:
    """The id of ``rec``'s ``n``-th ancestor by ``parent_id`` (slow: one read per step)."""
    for _ in range(n):
        if rec.parent_id is None:
            return None
        parent = await saver.aget(rec.thread_id, rec.checkpoint_ns, rec.parent_id)
        if parent is None:
            return None
        rec = parent
    return rec.checkpoint_id


async def _rebuild(
    saver: Any, record: CheckpointRecord, chain: list[CheckpointRecord] | None = None
) -> Restored:
    """Read the rebuild path of ``record`` (``chain``: read already); keep its deltas to
    replay (a compacted one covers several steps)."""
    lost: dict[str, str] = {}
    while True:
        path = await _path(saver, record, lost, chain)
        snap, *deltas = _decode_all(saver, path[::-1])
        # a record covering several steps whose base_id the saver didn't keep (one written
        # against the older contract): its base is the ancestor as many steps back
        missing = [
            (r, p["n"])
            for r, p in zip(path[-2::-1], deltas)
            if p.get("n", 1) > 1 and r.base_id is None and r.checkpoint_id not in lost
        ]
        if not missing:
            break
        for r, n in missing:
            base = await _ancestor(saver, r, n)
            if base is None:
                raise CheckpointError(
                    f"Checkpoint {r.checkpoint_id!r} of thread {r.thread_id!r} applies to a "
                    "checkpoint that is missing; the thread's history is incomplete."
                )
            lost[r.checkpoint_id] = base
    target = deltas[-1] if deltas else snap
    links = [Link(path[-1].checkpoint_id, SNAPSHOT, 0)]
    cost = steps = 0
    for r, p in zip(path[-2::-1], deltas):
        span = p.get("n", 1)
        steps += span
        cost += len(r.data)
        links.append(Link(r.checkpoint_id, span, cost, raw=r.data))
    state = dict(snap.get("state") or {})
    return Restored(
        record=record,
        state={"__deltas__": (state, deltas)} if deltas else state,
        triggers=dict(target.get("trig") or {}),
        sends=decode_sends(target.get("sends")),
        start=target.get("start", MISSING),
        chain=steps,
        delta_bytes=cost,
        snap_bytes=len(path[-1].data),
        ran=target.get("ran"),
        links=links,
    )


def materialize(graph: CompiledGraph, restored: Restored) -> dict[str, Any]:
    """State channel values of a restored checkpoint, replaying reducer deltas with the
    graph's own reducers (the saver knows nothing of reducers)."""
    state = restored.state
    packed = state.get("__deltas__")
    if packed is None:
        return state
    base, deltas = packed
    values = dict(base)
    appended: dict[str, list[Any]] = {}  # list + list reducers, extended in place (linear)
    for p in deltas:
        for chan, value in (p.get("state") or {}).items():
            appended.pop(chan, None)
            values[chan] = value
        merged = "n" in p  # a compacted delta: per key, a list of steps' updates
        for chan, updates in (p.get("delta") or {}).items():
            proto = graph.channels.get(chan)
            if proto is not None:
                _replay(proto, chan, updates if merged else (updates,), values, appended)
    values.update(appended)
    restored.state = values
    if restored.origin is not None:
        restored.origin.state = values  # the cached copy needn't replay again
    return values


def _replay(
    proto: Any, chan: str, steps: Any, values: dict[str, Any], appended: dict[str, list[Any]]
) -> None:
    """Apply steps' updates of a reducer key, one step's list after another (see
    :func:`materialize`): lists added to a list are appended in place (linear), the
    rest goes through the key's reducer."""
    add = getattr(proto, "operator", None) is operator.add
    if add:  # the usual case, a list growing by lists: every step's updates at once
        acc = appended.get(chan)
        if acc is None and isinstance(values.get(chan, []), list):
            acc = appended[chan] = list(values.get(chan, []))
        if acc is not None:
            flat = [v for vals in steps for v in vals]
            for v in flat:
                if not isinstance(v, list):
                    break
            else:
                acc.extend(itertools.chain.from_iterable(flat))
                return
    for vals in steps:
        acc = appended.get(chan)
        if acc is None and add and isinstance(values.get(chan, []), list):
            acc = appended[chan] = list(values.get(chan, []))
        if acc is not None:
            done = 0
            for v in vals:
                if not isinstance(v, list):
                    break
                acc.extend(v)
                done += 1
            else:
                continue
            # an Overwrite or a non-list: the reducer takes it from there
            vals = vals[done:]
            values[chan] = acc
            del appended[chan]
        ch = proto.new()
        if chan in values:
            ch.restore(values[chan])
        ch.update(vals)
        values[chan] = ch.checkpoint()


def decode_writes(serde: Any, writes: list[PendingWrite]) -> dict[str, list[tuple[str, Any]]]:
    """Pending writes grouped by task id, decoded, in write order."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for w in writes:
        out.setdefault(w.task_id, []).append((w.channel, serde.loads(w.value)))
    return out


def interrupts_of(task_writes: list[tuple[str, Any]], answered: int | None = None) -> list[Interrupt]:
    """The interrupts a task raised; with ``answered``, only the round still open
    (the task has had ``answered`` answers, so earlier rounds are settled)."""
    rounds = [value for chan, value in task_writes if chan == INTERRUPT]
    if answered is not None:
        rounds = [r for r in rounds if r["round"] == answered]
    elif rounds:  # history: the most recent question, answered or not (as LangGraph)
        rounds = [max(rounds, key=lambda r: r["round"])]
    return [
        Interrupt(value=item[1], id=item[0], response_schema=item[2] if len(item) > 2 else None)
        for r in rounds for item in r["items"]
    ]


def restore_into(run: Run, restored: Restored) -> None:
    """Load a restored checkpoint into a fresh run's channels."""
    from .algo import channel, schema_order

    graph = run.graph
    channels = run.channels
    for key, value in materialize(graph, restored).items():
        if key in graph.plain_keys:
            run.values[key] = value
            continue
        ch = channel(graph, channels, key)
        if ch is not None:
            ch.restore(value)
            if ch.value is not MISSING:
                run.values[key] = ch.value
    schema_order(run.values, graph.state_keys)
    for key, saved in restored.triggers.items():
        if key in graph.ephemeral:  # an edge trigger is live or absent: no channel
            run.live_triggers.add(key)  # type: ignore[union-attr]  # (a checkpointed run's)
            continue
        ch = channel(graph, channels, key)
        if ch is None:
            continue
        ch.restore(saved)
        if key in graph.deferred_channels and not ch.is_available():
            run.deferred.add(key)  # still waiting for the graph to go quiet
    record = restored.record
    run.step = record.step + 1
    run.run_key = record.checkpoint_id
    run.previous = run.values.get("__previous__")
    cp = run.cp
    cp.current = record
    cp.restored_id = record.checkpoint_id
    cp.chain, cp.delta_bytes, cp.snap_bytes = restored.chain, restored.delta_bytes, restored.snap_bytes
    cp.links = restored.links
    saved = decode_writes(cp.serde, restored.writes)
    resumes: dict[str, list[Any]] = {}
    for writes in saved.values():
        for chan, value in writes:
            if chan == RESUME:
                tid, values = value
                if len(values) > len(resumes.get(tid, ())):
                    resumes[tid] = list(values)
    run.resumes = resumes
    run.saved = {tid: w for tid, w in saved.items() if not any(c == RESUME for c, _ in w)}
    spare = resumes.get(NULL_TASK_ID)
    if spare:  # given while nothing was asked, and the step never finished: offered again
        run.null_resume, run.null_resume_at = [spare[-1]], record.checkpoint_id


def pending_tasks(run: Run, restored: Restored) -> list[Task]:
    """The tasks of the step after a restored checkpoint."""
    from .algo import plan
    from .compiled_types import Task
    from .constants import PULL, START

    if restored.start is not MISSING:
        tasks = [Task(run.graph.nodes[START], PULL, START, restored.start, (START,), run.step)]
    else:
        # edge triggers restored live, and channel triggers available
        available = {k for k, ch in run.channels.items() if ch.is_trigger and ch.is_available()}
        available.update(run.live_triggers or ())
        tasks = plan(run.graph, run.channels, available, restored.sends, run.values, run.step)
    for task in tasks:
        task.run = run
        task.base = run.run_key  # before anything asks for task.id
        writes = run.saved.get(task.id)
        if writes and any(c not in (ERROR, INTERRUPT) for c, _ in writes):
            # it finished (maybe after an error or an answered interrupt): reuse its writes
            task.writes = [
                # the loop tells Sends by identity (`chan is PUSH`): restore the interned name
                (PUSH, Send(v[0], v[1])) if c == PUSH_SENDS else (c, v)
                for c, v in writes
                if c not in ("__no_writes__", RETURN, ERROR, INTERRUPT)
            ]
            task.done = True
    return tasks


def pending_interrupts(run: Run) -> list[tuple[str, Interrupt]]:
    out = []
    for tid, writes in run.saved.items():
        for it in interrupts_of(writes, len(run.resumes.get(tid, ()))):
            out.append((tid, it))
    return out


def _is_id_map(resume: Any) -> bool:
    """``{interrupt id: answer, ...}`` rather than one answer (LangGraph tells them apart
    the same way: every key looks like an interrupt id)."""
    return isinstance(resume, dict) and all(
        isinstance(k, str) and len(k) == 32 and all(c in "0123456789abcdef" for c in k)
        for k in resume
    )


def resume_plan(run: Run, restored: Restored, command: Any) -> list[Task]:
    """Tasks to run when resuming (``invoke(None)`` or ``Command(resume=...)``)."""
    tasks = pending_tasks(run, restored)
    resume = getattr(command, "resume", None)
    if resume is None:
        return tasks
    pending = pending_interrupts(run)
    if isinstance(resume, dict) and resume and all(k in {i.id for _, i in pending} for k in resume):
        answers = [(tid, resume[i.id]) for tid, i in pending if i.id in resume]
    elif len(pending) > 1:
        raise RuntimeError(  # LangGraph's words: resume with Command(resume={id: value, ...})
            "When there are multiple pending interrupts, you must specify the interrupt id "
            "when resuming. Docs: https://docs.langchain.com/oss/python/langgraph/interrupts"
            "#handling-multiple-interrupts."
        )
    elif pending:
        answers = [(pending[0][0], resume)]
    elif not _is_id_map(resume):
        # Nothing is waiting (a static breakpoint, or update_state made a new checkpoint
        # whose task has a new id and no question yet). As LangGraph, the answer is
        # kept for the step: the first interrupt() asked without an answer takes it.
        answers = [(NULL_TASK_ID, resume)]
        run.null_resume, run.null_resume_at = [resume], restored.record.checkpoint_id
    else:
        answers = []  # answers by interrupt id, and none of them is pending
    resumes, saved = dict(run.resumes), dict(run.saved)  # the run's own, changed below
    run.resumes, run.saved = resumes, saved
    for tid, value in answers:
        resumes.setdefault(tid, []).append(value)
        saved.pop(tid, None)
    for task in tasks:
        if task.id in dict(answers):
            task.done = False
            task.writes = []
    run.pending_resume = [(tid, list(run.resumes[tid])) for tid, _ in answers]
    return tasks
