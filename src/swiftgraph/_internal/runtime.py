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
class Runtime(Generic[ContextT]):
    """Run-scoped dependencies: the static ``context`` passed to ``invoke(..., context=...)``,
    the ``store``, the custom ``stream_writer``, and (Functional API) ``previous``."""

    context: ContextT = field(default=None)  # type: ignore[assignment]
    store: Any = None
    stream_writer: Any = _no_op_stream_writer
    # progress for the current node's idle_timeout (TimeoutPolicy); a no-op elsewhere
    heartbeat: Callable[[], None] = _heartbeat
    previous: Any = None

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
        )
