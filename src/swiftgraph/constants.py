"""``START`` and ``END``, at LangGraph's import path."""

from swiftgraph._internal.constants import END, START

__all__ = ["END", "START"]
