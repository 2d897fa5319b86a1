"""``interrupt()``: pause a run for a human, resume it with ``Command(resume=...)``.

The first time a node calls ``interrupt(value)`` the run stops after the current
superstep (its other tasks finish), the checkpoint keeps the step pending and the
caller gets ``__interrupt__``. Resuming reruns the node *from its start*, as
LangGraph does; this time that ``interrupt()`` call returns the answer. A node may
call ``interrupt()`` several times: answers are matched to calls by their order.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .context import CURRENT_TASK
from .errors import GraphInterrupt
from .types import Interrupt


def interrupt(value: Any) -> Any:
    """Pause for input: returns the resume value once the run is resumed."""
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
    iid = hashlib.blake2b(f"{task.id}|{index}".encode(), digest_size=16).hexdigest()
    raise GraphInterrupt([Interrupt(value=value, id=iid)])
