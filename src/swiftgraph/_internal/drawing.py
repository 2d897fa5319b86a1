"""``get_graph()``: a compiled graph's nodes and edges, in LangGraph's shapes.

LangGraph discovers edges by simulating the graph; swiftgraph reads them straight
off the builder, then orders and completes them as LangGraph does (edges sorted,
an edge to ``__end__`` from every node nothing leaves), so the Mermaid text of the
two engines matches for the same graph."""

from __future__ import annotations

from typing import Any

from .constants import DEFAULT_ERROR_HANDLER, END, START
from .draw import Graph, graph_from_edges


def edges_of(builder: Any) -> list[tuple[str, str, bool, str | None]]:
    edges: set[tuple[str, str, bool, str | None]] = set()
    for s, e in builder.edges:
        if e != END:  # LangGraph finds static edges to END only as "termini", below
            edges.add((s, e, False, None))
    for starts, e in builder.waiting_edges:
        for s in starts:
            edges.add((s, e, False, None))
    for src, branches in builder.branches.items():
        for branch in branches.values():
            if branch.ends is not None:
                for label, target in branch.ends.items():
                    edges.add((src, target, True, str(label)))
            else:
                for target in [*builder.nodes, END]:
                    if target != src:
                        edges.add((src, target, True, None))
    for name, spec in builder.nodes.items():
        ends = spec.ends.items() if isinstance(spec.ends, dict) else ((e, e) for e in spec.ends)
        for target, label in ends:
            edges.add((name, target, True, str(label)))
    ordered = [
        (s, d, c, label if label != d else None) for s, d, c, label in sorted(edges, key=_key)
    ]
    sources = {s for s, *_ in ordered}
    termini = sorted({d for _, d, _, _ in ordered if d != END} - sources)
    ordered.extend((t, END, False, None) for t in termini)
    return ordered


def _key(edge: tuple[str, str, bool, str | None]) -> tuple[str, str, bool, str]:
    s, d, c, label = edge
    return (s, d, c, label or "")


def graph_of(compiled: Any, *, xray: int | bool = False) -> Graph:
    builder = compiled.builder
    metadata: dict[str, dict[str, Any]] = {}
    for name, spec in builder.nodes.items():
        meta = dict(spec.metadata or {})
        if spec.defer:
            meta["defer"] = True
        before, after = compiled.interrupt_before_nodes, compiled.interrupt_after_nodes
        if name in before and name in after:
            meta["__interrupt"] = "before,after"
        elif name in before:
            meta["__interrupt"] = "before"
        elif name in after:
            meta["__interrupt"] = "after"
        if meta:
            metadata[name] = meta
    default_handler = [DEFAULT_ERROR_HANDLER] if builder.node_defaults.get("error_handler") else []
    nodes = [START, *builder.nodes, *default_handler, END]
    edges = edges_of(builder)
    if xray:
        nodes, edges = _expand_subgraphs(builder, nodes, edges, xray)
    return graph_from_edges(nodes, edges, metadata=metadata)


def _expand_subgraphs(
    builder: Any, nodes: list[str], edges: list[tuple[str, str, bool, str | None]], xray: int | bool
) -> tuple[list[str], list[tuple[str, str, bool, str | None]]]:
    """``xray``: draw each subgraph node as its own nodes, as LangGraph does (the
    subgraph's nodes appended under ``name:``, edges into it going to its first node
    and edges out of it leaving from its last)."""
    from .compiled import CompiledStateGraph

    depth = xray - 1 if xray is not True else True
    added_nodes: list[str] = []
    added_edges: list[tuple[str, str, bool, str | None]] = []
    for name, spec in builder.nodes.items():
        sub = spec.action
        if not isinstance(sub, CompiledStateGraph) or sub.builder is None:
            continue
        inner = graph_of(sub, xray=depth) if depth else graph_of(sub)
        firsts = [e.target for e in inner.edges if e.source == START]
        lasts = [e.source for e in inner.edges if e.target == END]
        if len(inner.nodes) <= 1 or len(firsts) != 1 or len(lasts) != 1:
            continue
        nodes = [n for n in nodes if n != name]
        added_nodes += [f"{name}:{n}" for n in inner.nodes if n not in (START, END)]
        first, last = f"{name}:{firsts[0]}", f"{name}:{lasts[0]}"
        edges = [
            (last if s == name else s, first if d == name else d, c, label)
            for s, d, c, label in edges
        ]
        added_edges += [
            (f"{name}:{e.source}", f"{name}:{e.target}", e.conditional, e.data)
            for e in inner.edges
            if e.source != START and e.target != END
        ]
    return nodes + added_nodes, edges + added_edges
