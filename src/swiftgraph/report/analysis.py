"""Where did the time go?  The critical path of a run, from its timeline.

The walk is interval based on purpose: it needs no graph, so it works the same
for the Graph API (supersteps separated by barriers) and the Functional API
(tasks awaited from an entrypoint, started whenever the code gets to them).

Starting from the task that ended last, repeatedly step back to the task that
ended latest at or before the current one started: that is the predecessor the
current task was (most plausibly) waiting for.  A small tolerance absorbs clock
slop between one task's end and the next one's start.

Nested tasks (a subgraph node's inner tasks, a ``@task`` awaited by an
entrypoint) would make the parent look like one long task that hides its
children, so the walk runs over *leaf* tasks only, and each parent on the path
counts with its *self time* (its duration minus the time its children were
running).  A task is a child of another when its ``namespace`` extends the
parent's namespace with ``"<parent name>:<parent id>"`` (the engine's subgraph
convention), or when the record has a ``parent`` attribute (the parent record,
or its id).  Functional API ``@task`` calls need that attribute: they share
their caller's namespace and step, so nothing else tells "called from the
entrypoint" apart from "ran in parallel with it"; without it the entrypoint
counts as one long task that overlaps its calls.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from swiftgraph._internal.timeline import TaskRecord, Timeline

ABS_TOLERANCE = 1e-3  # seconds of clock slop between "ended" and "started"
REL_TOLERANCE = 0.01  # ... or this fraction of the later task's duration


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """The chain of tasks that set the wall time, and what parallelism saved."""

    tasks: tuple[TaskRecord, ...]
    length: float  # seconds of work on the chain (parents count with their self time)
    sequential: float  # all the work, one task after another
    wall: float  # the run's wall-clock time
    saved: float  # sequential - wall, never negative
    parallelism: float  # sequential / wall (1.0 when wall is 0)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tasks]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.tasks)

    def __contains__(self, record: object) -> bool:
        """Identity test: is this very record on the path?"""
        return any(t is record for t in self.tasks)


def finished(timeline: Timeline) -> list[TaskRecord]:
    """Tasks with an end time, in start order (running tasks have no extent yet)."""
    return sorted((t for t in timeline.tasks if t.end is not None), key=lambda t: t.start)


def origin(timeline: Timeline) -> float:
    """The clock reading that offsets are measured from (run start, else first task)."""
    starts = [t.start for t in timeline.tasks]
    first = min(starts, default=timeline.start)
    filled = timeline.end is not None or timeline.start != 0.0
    return timeline.start if filled and timeline.start <= first else first


def wall_time(timeline: Timeline) -> float:
    """The run's wall time, or the span of its tasks while it has no end yet."""
    if timeline.end is not None:
        return max(0.0, timeline.end - origin(timeline))
    ends = [t.end for t in timeline.tasks if t.end is not None]
    return max(0.0, max(ends) - origin(timeline)) if ends else 0.0


def parents(tasks: Sequence[TaskRecord]) -> dict[int, TaskRecord]:
    """Map ``id(child record)`` -> parent record (see the module docstring).

    Keyed by object identity, not task id: a live timeline may not have its ids
    filled in yet (the engine computes them lazily).
    """
    by_ns = {(*t.namespace, f"{t.name}:{t.id}"): t for t in tasks if t.id}
    by_id = {t.id: t for t in tasks if t.id}
    members = {id(t) for t in tasks}
    out: dict[int, TaskRecord] = {}
    for t in tasks:
        explicit = getattr(t, "parent", None)
        if isinstance(explicit, str):
            explicit = by_id.get(explicit)
        if isinstance(explicit, TaskRecord) and id(explicit) in members and explicit is not t:
            out[id(t)] = explicit
            continue
        for cut in range(len(t.namespace), 0, -1):  # the innermost enclosing task wins
            parent = by_ns.get(t.namespace[:cut])
            if parent is not None and parent is not t:
                out[id(t)] = parent
                break
    return out


def _union(intervals: list[tuple[float, float]]) -> float:
    total, cur_s, cur_e = 0.0, None, 0.0
    for s, e in sorted(intervals):
        if cur_s is None or s > cur_e:
            total += 0.0 if cur_s is None else cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    return total + (0.0 if cur_s is None else cur_e - cur_s)


def self_times(
    tasks: Sequence[TaskRecord], parent_of: dict[int, TaskRecord] | None = None
) -> dict[int, float]:
    """``id(record)`` -> its own time: duration minus the union of its children's intervals."""
    parent_of = parents(tasks) if parent_of is None else parent_of
    kids: dict[int, list[TaskRecord]] = {}
    for child in tasks:
        if id(child) in parent_of:
            kids.setdefault(id(parent_of[id(child)]), []).append(child)
    out = {}
    for t in tasks:
        end = t.end if t.end is not None else t.start
        inner = [(max(c.start, t.start), min(c.end or c.start, end)) for c in kids.get(id(t), [])]
        out[id(t)] = max(0.0, t.duration - _union([(a, b) for a, b in inner if b > a]))
    return out


def critical_path(timeline: Timeline) -> CriticalPath:
    """Walk back from the last task to end; see the module docstring for the rule."""
    tasks = finished(timeline)
    wall = wall_time(timeline)
    parent_of = parents(tasks)
    own = self_times(tasks, parent_of)
    sequential = sum(own.values())
    has_kids = {id(p) for p in parent_of.values()}
    leaves = [t for t in tasks if id(t) not in has_kids]
    # Leaves sorted by (end, duration, step): the best predecessor of ``cur`` is the
    # last eligible entry at or below the bisect point, so the walk stays ~O(n log n).
    leaves.sort(key=lambda t: (t.end or 0.0, t.duration, t.step))
    ends = [t.end or 0.0 for t in leaves]
    on_path: set[int] = set()
    cur = None
    if leaves:  # of the tasks that ended last (give or take slop), the latest starter
        last = [t for t in leaves if (t.end or 0.0) >= ends[-1] - ABS_TOLERANCE]
        cur = max(last, key=lambda t: t.start)
    while cur is not None:
        on_path.add(id(cur))
        parent = parent_of.get(id(cur))
        while parent is not None and id(parent) not in on_path:  # its frames are on it too
            on_path.add(id(parent))
            parent = parent_of.get(id(parent))
        tol = max(ABS_TOLERANCE, REL_TOLERANCE * cur.duration)
        i = bisect.bisect_right(ends, cur.start + tol)
        nxt = None
        while i > 0 and nxt is None:
            i -= 1
            t = leaves[i]
            if id(t) not in on_path and (t.start < cur.start or t.step < cur.step):
                nxt = t
        cur = nxt
    path = tuple(t for t in tasks if id(t) in on_path)
    length = sum(own[id(t)] for t in path)
    parallelism = sequential / wall if wall > 0 else 1.0
    return CriticalPath(path, length, sequential, wall, max(0.0, sequential - wall), parallelism)
