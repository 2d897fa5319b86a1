"""``Runtime``: what a node receives as its ``runtime`` argument."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from .context import heartbeat as _heartbeat

ContextT = TypeVar("ContextT")


def _no_op_stream_writer(_: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """What a running node may want to know about its own execution (``runtime.
    execution_info``), as LangGraph 1.2 gives it: the checkpoint its step started
    from, its namespace and task id, the thread and run, and which attempt this is
    under its ``RetryPolicy`` (1 first), with when the first began (Unix seconds)."""

    checkpoint_id: str
    checkpoint_ns: str
    task_id: str
    thread_id: str | None = None
    run_id: str | None = None
    node_attempt: int = 1
    node_first_attempt_time: float | None = None

    def patch(self, **overrides: Any) -> ExecutionInfo:
        """A copy with ``overrides`` replaced."""
        return replace(self, **overrides)


@dataclass(frozen=True, slots=True)
class Runtime(Generic[ContextT]):
    """Run-scoped dependencies: the static ``context`` passed to ``invoke(..., context=...)``,
    the ``store``, the custom ``stream_writer``, and (Functional API) ``previous``."""

    context: ContextT = field(default=None)  # type: ignore[assignment]
    store: Any = None
    stream_writer: Any = _no_op_stream_writer
    # progress for the current node's idle_timeout (TimeoutPolicy); a no-op elsewhere
    heartbeat: Callable[[], None] = _heartbeat
    previous: Any = None
    # the node's own (see ExecutionInfo); None outside a running node
    execution_info: ExecutionInfo | None = None

    def override(self, **overrides: Any) -> Runtime[ContextT]:
        return replace(self, **overrides)

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        return Runtime(
            context=other.context or self.context,
            store=other.store or self.store,
            stream_writer=other.stream_writer
            if other.stream_writer is not _no_op_stream_writer
            else self.stream_writer,
            heartbeat=other.heartbeat if other.heartbeat is not _heartbeat else self.heartbeat,
            previous=self.previous if other.previous is None else other.previous,
            execution_info=other.execution_info or self.execution_info,
        )


class NodeRuntime(Runtime):  # type: ignore[type-arg]
    """The ``Runtime`` a running node receives: a ``Runtime`` whose ``execution_info``
    is worked out when first read. Working it out (the task's id and namespace) costs
    more than the rest of the runtime, and most nodes never read it.

    ``override``/``dataclasses.replace`` on one give a plain ``Runtime`` (see
    ``__new__``), with the execution info as it was read."""

    __slots__ = ("_info", "_make")
    _info: ExecutionInfo | None
    _make: Callable[[], ExecutionInfo]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # (as dataclasses.replace calls it)
        return Runtime(*args, **kwargs)

    @classmethod
    def of(cls, base: Runtime[Any], make: Callable[[], ExecutionInfo]) -> NodeRuntime:
        rt = object.__new__(cls)
        for name in ("context", "store", "stream_writer", "heartbeat", "previous"):
            object.__setattr__(rt, name, getattr(base, name))
        object.__setattr__(rt, "_make", make)
        object.__setattr__(rt, "_info", None)
        return rt

    @property  # type: ignore[override]
    def execution_info(self) -> ExecutionInfo:
        info: ExecutionInfo | None = self._info
        if info is None:
            info = self._make()
            object.__setattr__(self, "_info", info)
        return info
