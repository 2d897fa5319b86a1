"""Reach the running task's config and stream writer from anywhere inside a node."""

from __future__ import annotations

from typing import Any, TypedDict

from swiftgraph._internal import bodies
from swiftgraph._internal.context import current_task
from swiftgraph._internal.taskinfo import task_config


class RunnableConfig(TypedDict, total=False):
    """The config dict accepted by ``invoke`` and seen by nodes."""

    configurable: dict[str, Any]
    tags: list[str]
    metadata: dict[str, Any]
    recursion_limit: int
    max_concurrency: int | None
    run_id: Any
    callbacks: Any
    run_name: str


def _task() -> Any:
    task = current_task()
    if task is None:
        raise RuntimeError(
            "Called get_config outside of a runnable context: get_config() and "
            "get_stream_writer() work only inside a node or task while a graph runs."
        )
    return task


def get_config() -> RunnableConfig:
    """The config of the node or task that is running now."""
    return task_config(_task())  # type: ignore[return-value]


def get_stream_writer() -> Any:
    """A function that writes a chunk to the ``custom`` stream (a no-op when not streamed)."""
    return _task().run.writer


def get_store() -> Any:
    """The store the graph was compiled with, or ``None``."""
    return _task().run.owner.store


def get_runtime(context_schema: Any = None) -> Any:
    """The ``Runtime`` of the running graph."""
    task = _task()
    return bodies.get_runtime(task.run, task)


__all__ = ["RunnableConfig", "get_config", "get_runtime", "get_store", "get_stream_writer"]
