"""What a task knows of itself: the config its body sees (``get_config()``), the
metadata LangGraph gives it, and the namespace it (or a subgraph it runs) checkpoints
under.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .compiled_types import Task
from .constants import START

if TYPE_CHECKING:
    from .loop import Run

_EMPTY: Mapping[str, Any] = MappingProxyType({})


# configurable keys LangGraph copies into a run's metadata (when set and not already there)
_PROPAGATE_TO_METADATA = (
    "thread_id", "checkpoint_id", "checkpoint_ns", "task_id", "run_id", "assistant_id", "graph_id",
)


def _run_metadata(run: Run, lc: bool) -> dict[str, Any]:
    """The metadata a run gives its tasks, as LangGraph builds it: the caller's
    metadata plus the configurable keys it propagates; a subgraph's starts from the
    metadata of the task that runs it. ``lc``: as its callbacks see it (LangGraph
    adds ``ls_integration`` there, not to the config)."""
    parent = getattr(run, "parent", None)  # set only on subgraph runs
    config = run.config
    conf = config.get("configurable") or _EMPTY
    if parent is None or parent.run is None:
        metadata = dict(config.get("metadata") or ())
    else:
        metadata = task_metadata(parent, lc)
        conf = {**conf, "checkpoint_ns": "|".join(run.ns)}
    for key in _PROPAGATE_TO_METADATA:
        if key not in metadata:
            value = conf.get(key)
            if value:
                metadata[key] = value
    if lc and parent is None and "ls_integration" not in metadata:
        metadata["ls_integration"] = "langgraph"
    return metadata


def task_metadata(task: Task, lc: bool = False) -> dict[str, Any]:
    """A task's metadata: its run's, then LangGraph's per-task keys, then the node's."""
    metadata = _run_metadata(task.run, lc)
    metadata.update(
        langgraph_step=task.step,
        langgraph_node=task.name,
        langgraph_triggers=task.triggers,
        langgraph_path=task.path,
        langgraph_checkpoint_ns=task_ns(task),
    )
    node_metadata = task.node.metadata
    if node_metadata:
        metadata.update(node_metadata)
    return metadata


def subgraph_ns(task: Task) -> str:
    """The namespace segment a subgraph node's task checkpoints under: ``name:<task
    id>``, or the name alone for a subgraph compiled with ``checkpointer=True`` (one
    thread for all its runs, as LangGraph keeps it)."""
    sub = task.node.subgraph
    if sub is not None and sub.checkpointer is True:
        return task.name
    return f"{task.name}:{task.id}"


def task_ns(task: Task) -> str:
    """The checkpoint namespace a task's config names (``langgraph_checkpoint_ns``)."""
    caller = getattr(task, "caller", None)  # a Functional API call nests under its caller
    if caller is not None:
        return f"{task_ns(caller)}|{task.name}:{task.id}"
    return "|".join(task.run.ns + ((f"{task.name}:{task.id}",) if task.name != START else ()))


def task_config(task: Task) -> dict[str, Any]:
    """The config a node sees: the run's config plus LangGraph's per-task metadata;
    in a run streaming ``messages``, the callbacks that stream its models' tokens."""
    run = task.run
    base = run.config
    config = dict(base)
    config["metadata"] = task_metadata(task)
    conf = dict(base.get("configurable") or {})
    conf["checkpoint_ns"] = task_ns(task)
    config["configurable"] = conf
    config.setdefault("recursion_limit", run.recursion_limit)
    config.setdefault("tags", [])
    if "messages" in run.modes:
        callbacks = run.messages.callbacks(task, config)
        if callbacks is not None:
            config["callbacks"] = callbacks
    return config


__all__ = ["subgraph_ns", "task_config", "task_metadata", "task_ns"]
