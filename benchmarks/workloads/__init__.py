"""Workload registry, in the order the runner executes them."""

from . import concurrency, func, graph, imports

ALL = [*imports.WORKLOADS, *graph.WORKLOADS, *func.WORKLOADS, *concurrency.WORKLOADS]
BY_NAME = {w.name: w for w in ALL}

# Checkpointing workloads to add once swiftgraph has savers (see README, "Planned").
# Each becomes a Workload with needs=("memory",) / ("sqlite",); no numbers until then.
PLANNED = {
    "checkpoint_memory": "100-step chain appending to a list, InMemorySaver, checkpoint every step",
    "checkpoint_sqlite": "same chain with the SQLite saver (langgraph-checkpoint-sqlite)",
}
