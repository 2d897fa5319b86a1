"""``interrupt()``: pause a run for a human, resume it with ``Command(resume=...)``.

The first time a node calls ``interrupt(value)`` the run stops after the current
superstep (its other tasks finish), the checkpoint keeps the step pending and the
caller gets ``__interrupt__``. Resuming reruns the node *from its start*, as
LangGraph does; this time that ``interrupt()`` call returns the answer. A node may
call ``interrupt()`` several times: answers are matched to calls by their order.

An answer given while no question was pending (``Command(resume=...)`` at a static
breakpoint, or after ``update_state`` replaced the paused step's checkpoint) belongs
to no task yet: the first ``interrupt()`` of the resumed step left without an answer
of its own takes it, as in LangGraph.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .context import CURRENT_TASK
from .errors import GraphInterrupt
from .types import Interrupt


def interrupt(value: Any, *, response_schema: dict[str, Any] | None = None) -> Any:
    """Pause for input: returns the resume value once the run is resumed.

    ``response_schema``: a JSON Schema (a dict) for the answer, handed to whoever
    answers on ``Interrupt.response_schema`` and saved with the question; the answer
    isn't checked against it (as LangGraph, for a dict). LangGraph 1.2 also takes a
    pydantic model, ``TypedDict`` or dataclass and validates answers with it; swiftgraph
    refuses one with a ``TypeError`` that says so, rather than skipping the check."""
    if response_schema is not None and not isinstance(response_schema, dict):
        raise TypeError(
            f"interrupt(response_schema={getattr(response_schema, '__name__', response_schema)!r}): "
            "swiftgraph takes a JSON Schema dict here, not a type to validate answers with "
            "(LangGraph 1.2's pydantic validation isn't supported yet). Pass "
            "TypeAdapter(Model).json_schema() and validate the answer in the node."
        )
    task = CURRENT_TASK.get()
    if task is None or task.run is None:
        raise RuntimeError(
            "interrupt() was called outside a running graph: call it inside a node or a "
            "@task while the graph runs."
        )
    run = task.run
    if run.cp is None:
        raise RuntimeError(
            f"interrupt() in '{task.name}' needs a checkpointer to save the paused run: "
            "compile(checkpointer=InMemorySaver()) (or SqliteSaver) and pass "
            "config={'configurable': {'thread_id': ...}}."
        )
    index = task.interrupt_idx
    task.interrupt_idx = index + 1
    answers = run.resumes.get(task.id)
    if answers is not None and index < len(answers):
        return answers[index]
    if run.null_resume and run.null_resume_at in (None, task.base):
        value = _take_null_resume(run, task.id)
        if value is not _NONE_LEFT:
            return value
    iid = hashlib.blake2b(f"{task.id}|{index}".encode(), digest_size=16).hexdigest()
    raise GraphInterrupt([Interrupt(value=value, id=iid, response_schema=response_schema)])


_NONE_LEFT = object()


def _take_null_resume(run: Any, task_id: str) -> Any:
    """Take the answer nobody was waiting for, if no other task took it first; it
    becomes this task's answer (saved as such if the task asks again: bodies.interrupted).
    Only tasks of the step it was given at get here (a later step's question is new)."""
    try:
        value = run.null_resume.pop()  # atomic: tasks in worker threads may ask at once
    except IndexError:
        return _NONE_LEFT
    if not isinstance(run.resumes, dict):  # a subgraph's run that had no answers yet
        run.resumes = {}
    run.resumes.setdefault(task_id, []).append(value)
    run.null_resume_taker = task_id
    return value
