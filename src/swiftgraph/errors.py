"""swiftgraph's exceptions; see :mod:`swiftgraph._internal.errors` for the tree."""

from swiftgraph._internal.errors import (
    EmptyChannelError,
    EmptyInputError,
    ErrorCode,
    GraphBubbleUp,
    GraphDefinitionError,
    GraphInterrupt,
    GraphRecursionError,
    InvalidUpdateError,
    NodeTimeoutError,
    ParentCommand,
    SwiftGraphError,
    TaskNotFound,
    UnknownTargetError,
    create_error_message,
)
from swiftgraph._internal.builder import SwiftGraphWarning
from swiftgraph._internal.writes import UnknownRouteKeyError

__all__ = [
    "EmptyChannelError",
    "EmptyInputError",
    "ErrorCode",
    "GraphBubbleUp",
    "GraphDefinitionError",
    "GraphInterrupt",
    "GraphRecursionError",
    "InvalidUpdateError",
    "NodeTimeoutError",
    "ParentCommand",
    "SwiftGraphError",
    "SwiftGraphWarning",
    "TaskNotFound",
    "UnknownRouteKeyError",
    "UnknownTargetError",
    "create_error_message",
]
