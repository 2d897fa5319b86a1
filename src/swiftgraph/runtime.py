"""``Runtime``: run-scoped context, store and stream writer injected into nodes."""

from swiftgraph._internal.runtime import Runtime

__all__ = ["Runtime"]
