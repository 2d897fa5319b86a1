"""``StateGraph`` and its compiled form, at LangGraph's import path."""

from swiftgraph._internal.builder import StateGraph
from swiftgraph._internal.compiled import CompiledStateGraph

__all__ = ["CompiledStateGraph", "StateGraph"]
