"""Values passed to and from the engine: ``Send``, ``Command``, policies, snapshots."""

from swiftgraph._internal.interrupts import interrupt
from swiftgraph._internal.types import (
    All,
    CachePolicy,
    Command,
    Durability,
    GraphOutput,
    Interrupt,
    Overwrite,
    PregelTask,
    RetryPolicy,
    Send,
    StateSnapshot,
    StateUpdate,
    StreamMode,
    StreamWriter,
    TimeoutPolicy,
    default_cache_key,
)

__all__ = [
    "All",
    "CachePolicy",
    "Command",
    "Durability",
    "GraphOutput",
    "Interrupt",
    "Overwrite",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamWriter",
    "TimeoutPolicy",
    "default_cache_key",
    "interrupt",
]
