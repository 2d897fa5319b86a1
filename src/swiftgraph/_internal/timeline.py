"""The run timeline: one record per task, cheap enough to leave on.

The engine appends a :class:`TaskRecord` when a task starts and fills in its end
and outcome when it finishes. Everything that *reads* a timeline (critical path,
Gantt charts, the HTML report) lives in :mod:`swiftgraph.report`, a leaf the core
never imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["running", "ok", "error", "interrupted", "cached", "cancelled"]


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
    namespace: tuple[str, ...] = ()
    input: Any = None
    output: Any = None
    error: str | None = None
    parent: TaskRecord | None = field(default=None, repr=False, compare=False)
    """Functional API: the record of the entrypoint or task that made this call."""
    task: Any = field(default=None, repr=False, compare=False)
    """The engine's task object while the run is live (its id is computed on demand)."""

    def resolve(self) -> None:
        """Fill in what is costly to compute on the hot path (the task id), drop the task."""
        if self.task is not None:
            if not self.id:
                self.id = self.task.id
            self.task = None

    @property
    def duration(self) -> float:
        return 0.0 if self.end is None else self.end - self.start


@dataclass(slots=True)
class Timeline:
    """All the task records of one run, in the order the tasks started."""

    run_id: str = ""
    graph: str = ""
    start: float = 0.0
    end: float | None = None
    tasks: list[TaskRecord] = field(default_factory=list)

    def resolve(self) -> None:
        for record in self.tasks:
            record.resolve()

    @property
    def wall(self) -> float:
        return 0.0 if self.end is None else self.end - self.start
