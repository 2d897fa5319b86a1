"""The runnable an ``@entrypoint`` becomes: a compiled graph of one node."""

from __future__ import annotations

from typing import Any

from .compiled import CompiledStateGraph
from .compiled_types import CompiledGraph


class EntrypointGraph(CompiledStateGraph):
    """``invoke``/``ainvoke``/``stream``/``astream``/``batch``/``abatch`` of an
    ``@entrypoint`` function, with the same semantics as a compiled graph's."""

    def __init__(self, func: Any, graph: CompiledGraph, options: Any) -> None:
        super().__init__(
            None,  # type: ignore[arg-type]
            graph,
            checkpointer=options.checkpointer,
            cache=options.cache,
            store=options.store,
        )
        self.context_schema = options.context_schema
        self.func = func
        self.__wrapped__ = func
        self.__doc__ = func.__doc__

    def get_graph(self, config: dict[str, Any] | None = None, *, xray: int | bool = False) -> Any:
        from .constants import END, START
        from .draw import graph_from_edges

        name = self.graph.node_names[0]
        # LangGraph's shape: the entrypoint first, a dotted edge to END (it may stop early)
        return graph_from_edges(
            [name, START, END], [(START, name, False, None), (name, END, True, None)]
        )

    def __repr__(self) -> str:
        return f"<entrypoint {self.graph.node_names[0]!r}>"
