"""What a run streams about its tasks and checkpoints, shaped as LangGraph shapes it:
``tasks`` and ``debug`` events, ``checkpoints``, ``updates`` chunks, and the tasks a
resumed step doesn't run again. Functions of the :class:`~.loop.Run` streaming them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .compiled_types import Task
from .taskinfo import subgraph_ns

if TYPE_CHECKING:
    from .loop import Run


def emit_checkpoint(
    run: Run, tasks: list[Task], restored: bool = False, asked: dict[str, list[Any]] | None = None
) -> None:
    """The ``checkpoints`` stream (and ``debug``'s checkpoint events): the saved
    checkpoint with the tasks it leads to, as LangGraph shapes it."""
    modes = run.modes
    if not modes or ("checkpoints" not in modes and "debug" not in modes):
        return
    record = run.cp.current  # type: ignore[union-attr]
    key = run.run_key
    for task in tasks:
        task.run, task.base = run, key

    ns, parents = record.checkpoint_ns, run.cp.parents  # type: ignore[union-attr]

    def conf(cid: str | None) -> dict[str, Any] | None:
        if cid is None:
            return None
        c: dict[str, Any] = {"checkpoint_ns": ns, "thread_id": record.thread_id}
        if parents:  # a subgraph's: the checkpoint of each enclosing namespace
            c["checkpoint_map"] = {**parents, ns: cid}
        c["checkpoint_id"] = cid
        return {"configurable": c}

    parent = conf(record.parent_id)
    if restored and parent is not None:  # read back from the saver: LangGraph's key order
        c = parent["configurable"]
        c = {k: c[k] for k in ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map") if k in c}
        parent = {"configurable": c}
    payload = {
        "config": conf(record.checkpoint_id),
        "parent_config": parent,
        "values": run.read_output(),
        "metadata": dict(record.metadata),
        "next": [t.name for t in tasks],
        "tasks": [checkpoint_task(run, t, asked) for t in tasks],
    }
    run.emit("checkpoints", payload)
    if "debug" in modes:
        from datetime import datetime, timezone

        run.emit("debug", {"step": record.step, "timestamp": datetime.now(timezone.utc).isoformat(),
                            "type": "checkpoint", "payload": payload})


def checkpoint_task(run: Run, task: Task, asked: dict[str, list[Any]] | None) -> dict[str, Any]:
    """A task as a ``checkpoints`` event lists it: its result when done, the questions
    it asked (``asked``: by task id), where a subgraph it runs checkpoints."""
    out: dict[str, Any] = {"id": task.id, "name": task.name}
    if task.done:
        result = result_payload(task, run.out_key_set)
        if result:
            out["result"] = result
    out["interrupts"] = tuple(
        {"value": i.value, "id": i.id, "response_schema": i.response_schema} for i in (asked or {}).get(task.id, ())
    )
    out["state"] = None
    if task.node.subgraph is not None or task.node.invokes is not None:  # where the subgraph checkpoints, as LangGraph
        task_ns = "|".join((*run.ns, subgraph_ns(task)))
        out["state"] = {"configurable": {"thread_id": run.cp.thread_id, "checkpoint_ns": task_ns}}  # type: ignore[union-attr]
    return out


def replay_cached(run: Run, tasks: list[Task], cached: list[Task]) -> None:
    """Tasks whose writes were saved before the run was cut short don't run again;
    the stream shows them as LangGraph does: every task of the step started, in
    step order, then the cached ones' updates (the others' follow as they finish)."""
    if "tasks" in run.modes or "debug" in run.modes:
        for task in tasks:
            if not task.node.hidden:
                emit_task_start(run, task)
    for task in cached:
        if task.node.hidden:
            continue
        if "updates" in run.modes:
            run.emit(
                "updates", {task.name: update_chunk(run, task.writes), "__metadata__": {"cached": True}}
            )


def emit_done(run: Run, task: Task, writes: list[tuple[str, Any]], result: Any) -> None:
    """A task finished: its ``updates`` chunk and its ``tasks`` result event."""
    node = task.node
    if run.modes and not node.hidden:
        if "updates" in run.modes:
            chunk = result if node.returns else update_chunk(run, writes)
            run.emit("updates", {node.name: chunk})
        if "tasks" in run.modes or "debug" in run.modes:
            emit_task_result(run, task, None, {"__end__": result} if node.returns else None)


def update_chunk(run: Run, writes: Sequence[tuple[str, Any]]) -> Any:
    """A task's ``updates`` chunk, as LangGraph shapes it: its writes to output keys as
    a dict, a list of one-key dicts when it wrote a key twice, None when none."""
    keys = run.out_key_set
    mine = [(k, v) for k, v in writes if k in keys]
    if not mine:
        return None
    names = [k for k, _ in mine]
    if len(set(names)) != len(names):
        return [{k: v} for k, v in mine]
    return dict(mine)


def emit_task_start(run: Run, task: Task) -> None:
    """A task's ``tasks`` start event (and ``debug``'s)."""
    payload = {"id": task.id, "name": task.name, "input": task.input, "triggers": task.triggers}
    run.emit("tasks", payload)
    emit_debug(run, task, "task", payload)


def emit_task_result(
    run: Run,
    task: Task,
    error: BaseException | None,
    result: dict[str, Any] | None = None,
    interrupts: list[Any] = (),  # type: ignore[assignment]
) -> None:
    """A task's ``tasks`` result event (and ``debug``'s): its result or error, and the
    interrupts it raised."""
    keys = run.out_key_set
    if result is None:
        result = result_payload(task, keys) if error is None else {}
    payload = {
        "id": task.id,
        "name": task.name,
        "error": error,
        "result": result,
        "interrupts": [
            {"value": i.value, "id": i.id, "response_schema": i.response_schema} for i in interrupts
        ],
    }
    run.emit("tasks", payload)
    emit_debug(run, task, "task_result", payload)


def result_payload(task: Task, keys: frozenset[str]) -> dict[str, Any]:
    """A task's writes to ``keys`` as a result event shows them: a key written more than
    once holds ``{"$writes": [...]}``, as in LangGraph."""
    result: dict[str, Any] = {}
    for k, v in task.writes:
        if k not in keys:
            continue
        if k not in result:
            result[k] = v
        elif isinstance(result[k], dict) and "$writes" in result[k]:
            result[k]["$writes"].append(v)
        else:
            result[k] = {"$writes": [result[k], v]}
    return result


def emit_debug(run: Run, task: Task, kind: str, payload: dict[str, Any]) -> None:
    """``payload`` as a ``debug`` event of type ``kind``, when ``debug`` is streamed."""
    if "debug" in run.modes:
        from datetime import datetime, timezone

        run.emit(
            "debug",
            {
                "step": task.step,
                "timestamp": datetime.now(timezone.utc).isoformat(),
                "type": kind,
                "payload": payload,
            },
        )

