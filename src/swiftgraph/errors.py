"""swiftgraph's exceptions; see :mod:`swiftgraph._internal.errors` for the tree."""

from typing import Any

from swiftgraph._internal.builder import SwiftGraphWarning
from swiftgraph._internal.errors import (
    CheckpointError,
    EmptyChannelError,
    EmptyInputError,
    ErrorCode,
    GraphBubbleUp,
    GraphDefinitionError,
    GraphInterrupt,
    GraphRecursionError,
    InvalidUpdateError,
    NodeCancelledError,
    NodeError,
    NodeInterrupt,
    NodeTimeoutError,
    ParentCommand,
    SwiftGraphError,
    TaskNotFound,
    UnknownTargetError,
    UnresolvedSchemaError,
    create_error_message,
)
from swiftgraph._internal.writes import UnknownRouteKeyError


def __getattr__(name: str) -> Any:
    # the serializer is loaded only when a checkpoint is: keep `import swiftgraph.errors` light
    if name == "SerializationError":
        from swiftgraph._internal.serde import SerializationError

        return SerializationError
    raise AttributeError(f"module 'swiftgraph.errors' has no attribute {name!r}")


__all__ = [
    "CheckpointError",
    "EmptyChannelError",
    "EmptyInputError",
    "ErrorCode",
    "GraphBubbleUp",
    "GraphDefinitionError",
    "GraphInterrupt",
    "GraphRecursionError",
    "InvalidUpdateError",
    "NodeCancelledError",
    "NodeError",
    "NodeInterrupt",
    "NodeTimeoutError",
    "ParentCommand",
    "SerializationError",  # noqa: F822 (loaded lazily by __getattr__)
    "SwiftGraphError",
    "SwiftGraphWarning",
    "TaskNotFound",
    "UnknownRouteKeyError",
    "UnknownTargetError",
    "UnresolvedSchemaError",
    "create_error_message",
]
