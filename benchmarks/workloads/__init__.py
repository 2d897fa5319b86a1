"""Workload registry, in the order the runner executes them."""

from . import checkpoint, concurrency, func, graph, imports

ALL = [
    *imports.WORKLOADS,
    *graph.WORKLOADS,
    *func.WORKLOADS,
    *concurrency.WORKLOADS,
    *checkpoint.WORKLOADS,
]
BY_NAME = {w.name: w for w in ALL}
