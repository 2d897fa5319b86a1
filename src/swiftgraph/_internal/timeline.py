"""The run timeline: one record per task, cheap enough to leave on.

While a run is live the engine keeps each task's entry as :data:`WIDTH` consecutive
slots of one flat list per run, a :class:`LiveTimeline` (``LIVE_*`` slots: the task's
name, start, end, outcome, error, parent entry, retries, output, thread, then its
identity), and a task knows its entry by the offset of its first slot. One object per
run, none per task: with thousands of runs waiting at once, every object a run keeps
is one more for the garbage collector to walk. A reader gets a :class:`Timeline` on
it (:meth:`LiveTimeline.view`), whose :meth:`Timeline.resolve` turns the entries into
:class:`TaskRecord` objects. Everything that *reads* a timeline (critical path,
Gantt charts, the HTML report) lives in :mod:`swiftgraph.report`, a leaf the core
never imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["running", "ok", "error", "interrupted", "cached", "cancelled"]

(
    LIVE_NAME, LIVE_START, LIVE_END, LIVE_OUTCOME, LIVE_ERROR, LIVE_PARENT, LIVE_RETRIES,
    LIVE_OUTPUT, LIVE_THREAD,
) = range(9)
# then the task's identity: step, kind, key, base (checkpoint or run key), namespace,
# input, id if known
LIVE_IDENTITY = slice(9, 16)
WIDTH = 16
"""Slots per entry in a :class:`LiveTimeline`."""

def _output(writes: Any) -> Any:
    """What a task wrote to the state (edge triggers left out), for reports."""
    if not isinstance(writes, list):
        return writes  # a Functional API call's return value, or a node's (loop.reported_output)
    kept = [(c, v) for c, v in writes if isinstance(c, str) and ":" not in c and not c.startswith("__")]
    return dict(kept) if kept else None


def live_entry(live: list[Any], task: Any, start: float, parent: int | None = None) -> int:
    """Append a task's entry to ``live`` (a timeline's); return its offset. Plain values,
    no reference back to the run (a task -> run -> timeline -> task cycle would leave
    every run to the garbage collector instead of freeing it when it ends)."""
    run = task.run
    base = task.base or (run.run_key if run is not None else "")
    ns = run.ns if run is not None else ()
    at = len(live)
    live += (
        task.node.name, start, None, "running", None, parent, 0, None, None,
        task.step, task.kind, task.key, base, ns, task.input, task._id,
    )
    return at


@dataclass(slots=True)
class TaskRecord:
    """What one task did and when.

    ``start`` and ``end`` are ``time.perf_counter()`` readings (monotonic, in
    seconds); only differences between them mean anything.
    """

    id: str
    name: str
    step: int
    start: float
    end: float | None = None
    outcome: Outcome = "running"
    retries: int = 0
    thread: str = ""
    """The checkpoint thread (``thread_id``) the run belongs to, when known."""
    namespace: tuple[str, ...] = ()
    input: Any = None
    output: Any = None
    error: str | None = None
    worker: str = ""
    """The OS thread that ran the body: the event loop's, or a pool thread's for a sync
    node that ran beside others."""
    parent: TaskRecord | None = field(default=None, repr=False, compare=False)
    """Functional API: the record of the entrypoint or task that made this call."""

    @property
    def duration(self) -> float:
        return 0.0 if self.end is None else self.end - self.start


def _update(record: TaskRecord, entry: list[Any], worker: str) -> None:
    """Copy what a live entry says of how its task went into ``record``."""
    record.end = entry[LIVE_END]
    record.outcome = entry[LIVE_OUTCOME]
    record.retries = entry[LIVE_RETRIES]
    record.worker = entry[LIVE_THREAD] or worker
    record.error = entry[LIVE_ERROR]
    record.output = _output(entry[LIVE_OUTPUT])


@dataclass(slots=True)
class Timeline:
    """All the task records of one run, in the order the tasks started."""

    run_id: str = ""
    graph: str = ""
    start: float = 0.0
    end: float | None = None
    tasks: list[TaskRecord] = field(default_factory=list)
    live: list[Any] = field(default_factory=list, repr=False, compare=False)
    """The entries resolve() reads: the run's :class:`LiveTimeline` on a view of a run."""
    worker: str = ""
    """The OS thread of the run's event loop (where async bodies run)."""
    wall_offset: float = 0.0
    """``time.time() - time.perf_counter()`` at the run's start: turns the monotonic
    readings into wall-clock times (for checkpoints and exports)."""
    resolved: int = field(default=0, repr=False, compare=False)
    """Slots of ``live`` already turned into ``tasks`` (``live`` only grows: tasks
    still running keep writing to their entries by offset)."""
    running: list[tuple[int, TaskRecord]] | None = field(default=None, repr=False, compare=False)
    """The records turned while their task was running, with their entries' offsets:
    the next :meth:`resolve` reads those entries again."""

    def resolve(self) -> None:
        """Turn the engine's live entries into :class:`TaskRecord` objects: the entries
        not turned yet, and again those that were running when last turned. A view of
        a run also takes the run's times as they are now."""
        live = self.live
        if type(live) is LiveTimeline:
            self.start, self.end, self.worker, self.wall_offset = (
                live.start, live.end, live.worker, live.wall_offset,
            )
        if self.running:
            still = []
            for at, record in self.running:
                _update(record, live[at:at + WIDTH], self.worker)
                if record.outcome == "running":
                    still.append((at, record))
            self.running = still
        if self.resolved >= len(live):
            return
        from .compiled_types import task_id

        tasks = self.tasks
        first = len(tasks) - self.resolved // WIDTH  # the entry at offset 0's record
        for at in range(self.resolved, len(live), WIDTH):
            entry = live[at:at + WIDTH]
            step, kind, key, base, ns, task_input, known_id = entry[LIVE_IDENTITY]
            parent = entry[LIVE_PARENT]
            record = TaskRecord(
                id=known_id or task_id(base, step, kind, key),
                name=entry[LIVE_NAME],
                step=step,
                start=entry[LIVE_START],
                namespace=ns,
                parent=tasks[first + parent // WIDTH] if parent is not None else None,
                input=task_input,
            )
            _update(record, entry, self.worker)
            if record.outcome == "running":
                if self.running is None:
                    self.running = []
                self.running.append((at, record))
            tasks.append(record)
        self.resolved = len(live)

    @property
    def wall(self) -> float:
        return 0.0 if self.end is None else self.end - self.start


class LiveTimeline(list[Any]):
    """A run's timeline as the engine writes it: the entries (:data:`WIDTH` slots each,
    see the module docstring) in the list itself, and the run's times as attributes.

    Why a list with attributes, not a :class:`Timeline` holding a list: it is one
    object per run instead of two, and thousands of runs waiting at once each keep
    theirs. Readers never see it: :meth:`view` gives them a :class:`Timeline`. A
    subgraph's run writes to its parent's."""

    __slots__ = ("end", "graph", "start", "wall_offset", "worker")

    def __init__(self, graph: str) -> None:
        self.graph = graph
        self.start = 0.0  # (perf_counter; 0.0 until the run that owns it starts)
        self.end: float | None = None
        self.worker = ""
        self.wall_offset = 0.0

    def view(self) -> Timeline:
        """A :class:`Timeline` reading this run's entries (resolved: call
        :meth:`Timeline.resolve` again to catch up with a run that goes on)."""
        tl = Timeline(graph=self.graph, live=self)
        tl.resolve()
        return tl
