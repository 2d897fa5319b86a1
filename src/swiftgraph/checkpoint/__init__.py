"""Checkpointers: where a thread's history is kept.

``swiftgraph.checkpoint.memory.InMemorySaver`` (stdlib, in-process),
``swiftgraph.checkpoint.sqlite.SqliteSaver`` / ``.sqlite.aio.AsyncSqliteSaver``
(stdlib ``sqlite3``, the embedded default) and
``swiftgraph.checkpoint.postgres.PostgresSaver`` / ``.postgres.aio.AsyncPostgresSaver``
(``pip install 'swiftgraph[postgres]'``). All implement the small storage contract in
:mod:`swiftgraph.checkpoint.base`; the engine does everything else.
"""
