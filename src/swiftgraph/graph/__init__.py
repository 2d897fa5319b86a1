"""The Graph API: describe a workflow as nodes and edges over a shared state."""

from swiftgraph._internal.builder import StateGraph
from swiftgraph._internal.constants import END, START
from swiftgraph.graph.message import MessagesState, add_messages

__all__ = ["END", "START", "MessagesState", "StateGraph", "add_messages"]
