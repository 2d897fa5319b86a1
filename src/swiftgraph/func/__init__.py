"""The Functional API: write a workflow as plain functions.

``@entrypoint`` marks the workflow; ``@task`` marks units of work it may run
concurrently (``await asyncio.gather(t1(x), t2(x))``, or ``.result()`` in sync
code). Both run on the same engine as ``StateGraph``."""

from swiftgraph._internal.functional import entrypoint, final, task

__all__ = ["entrypoint", "final", "task"]
