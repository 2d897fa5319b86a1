"""Caches for node and task results: ``StateGraph.compile(cache=...)`` and
``@entrypoint(cache=...)`` with a ``CachePolicy`` on the nodes or tasks to cache.

``InMemoryCache`` (``swiftgraph.cache.memory``) lives as long as the process;
``SqliteCache`` (``swiftgraph.cache.sqlite``) keeps entries in a file. Both implement
``swiftgraph.cache.base.BaseCache``, LangGraph's interface, and store values with
swiftgraph's typed-JSON serializer: never pickle.
"""
