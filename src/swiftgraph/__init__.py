"""swiftgraph: an async-first workflow engine that speaks LangGraph's public API.

Layout. The public modules mirror LangGraph's import paths and only re-export:
``swiftgraph.graph`` (StateGraph, START, END), ``swiftgraph.func`` (entrypoint,
task), ``swiftgraph.types``, ``swiftgraph.errors``, ``swiftgraph.config``,
``swiftgraph.runtime`` and ``swiftgraph.checkpoint.*``. The engine lives in the
private package ``swiftgraph._internal``: the superstep algorithm as pure
functions (``algo``), one driver loop (``loop``), running one task (``bodies``),
the executor seam that runs node bodies (``executor``), the sync bridge
(``syncbridge``), and checkpoints: saving (``persistence``), restoring and resuming
(``restore``), the state API (``state_api``). Integrations
(SQLite, Postgres, the CLI, reports) are leaves: the core never imports them.

Importing ``swiftgraph`` itself loads nothing heavy; import the module you need.
"""

__version__ = "0.1.0"
