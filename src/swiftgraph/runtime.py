"""``Runtime``: run-scoped context, store and stream writer injected into nodes."""

from swiftgraph._internal.runtime import ExecutionInfo, Runtime
from swiftgraph.config import get_runtime

__all__ = ["ExecutionInfo", "Runtime", "get_runtime"]
