"""Compile-time checks: every fault that is visible before a run is reported here,
naming the node or edge at fault, the nodes that do exist, and the fix.

The first sentence of each message is LangGraph's own, so code that matched on
it keeps working; swiftgraph adds what LangGraph leaves out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .constants import END, START
from .errors import GraphDefinitionError

if TYPE_CHECKING:
    from .builder import StateGraph


def _known(builder: StateGraph) -> str:
    return ", ".join(repr(n) for n in builder.nodes) or "(no nodes yet)"


def validate(builder: StateGraph, interrupt: Sequence[str] | None = None) -> None:
    all_edges = builder._all_edges
    sources = {src for src, _ in all_edges} | set(builder.branches)
    sources |= {name for name, spec in builder.nodes.items() if spec.ends}
    for source in sorted(sources):
        if source not in builder.nodes and source != START:
            raise GraphDefinitionError(
                f"Found edge starting at unknown node '{source}'. Known nodes: "
                f"{_known(builder)}. Add it with add_node('{source}', ...) or fix the edge."
            )
    if START not in sources:
        raise GraphDefinitionError(
            "Graph must have an entrypoint: add at least one edge from START to another "
            "node, e.g. add_edge(START, 'first_node') or set_entry_point('first_node')"
        )
    for start, branches in builder.branches.items():
        for cond, branch in branches.items():
            if branch.ends is None:
                continue
            for end in branch.ends.values():
                if end not in builder.nodes and end != END:
                    raise GraphDefinitionError(
                        f"At '{start}' node, '{cond}' branch found unknown target '{end}'. "
                        f"Known nodes: {_known(builder)}."
                    )
    for name, spec in builder.nodes.items():
        ends = spec.ends.values() if isinstance(spec.ends, dict) else spec.ends
        for end in ends:
            if end not in builder.nodes and end != END:
                raise GraphDefinitionError(
                    f"Found edge ending at unknown node `{end}` (a destination of node "
                    f"`{name}`). Known nodes: {_known(builder)}."
                )
    for start, end in sorted(all_edges):
        if end not in builder.nodes and end != END:
            raise GraphDefinitionError(
                f"Found edge ending at unknown node `{end}` (edge '{start}' -> '{end}'). "
                f"Known nodes: {_known(builder)}. Add it with add_node('{end}', ...) or fix the edge."
            )
    for node in interrupt or ():
        if node not in builder.nodes:
            raise GraphDefinitionError(
                f"Interrupt node `{node}` not found. Known nodes: {_known(builder)}."
            )
    _warn_unreachable(builder)


def _successors(builder: StateGraph) -> dict[str, set[str]] | None:
    """Where each node can go next, or None where routing is only known at run time."""
    regular = _regular(builder)
    succ: dict[str, set[str]] = {n: set() for n in (START, *regular)}
    for s, e in builder._all_edges:
        succ.setdefault(s, set()).add(e)
    for start, branches in builder.branches.items():
        for branch in branches.values():
            if branch.ends is None:
                return None
            succ.setdefault(start, set()).update(branch.ends.values())
    for name in regular:
        spec = builder.nodes[name]
        succ[name].update(spec.ends.values() if isinstance(spec.ends, dict) else spec.ends)
    if any(not succ[name] for name in regular):
        return None  # a node with no declared route may be a Command router: can't tell
    return succ


def _regular(builder: StateGraph) -> list[str]:
    """The nodes edges connect: not error handlers, which run when their node fails."""
    return [name for name, spec in builder.nodes.items() if not spec.is_error_handler]


def _warn_unreachable(builder: StateGraph) -> None:
    from .builder import warn_graph

    succ = _successors(builder)
    if succ is None:
        return
    seen = {START}
    stack = [START]
    while stack:
        for nxt in succ.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    unreachable = [name for name in _regular(builder) if name not in seen]
    if unreachable:
        warn_graph(
            f"Node(s) {unreachable} can't be reached by any edge from START. If no node "
            "routes to them with Command(goto=...), add an edge to them or remove them."
        )
    # a node ends the run when it has no outgoing route; one that can only loop never does
    ends_run = {name for name, nxt in succ.items() if not nxt or END in nxt}
    can_finish = set(ends_run)
    changed = True
    while changed:
        changed = False
        for name, targets in succ.items():
            if name not in can_finish and targets & can_finish:
                can_finish.add(name)
                changed = True
    stuck = [name for name in _regular(builder) if name in seen and name not in can_finish]
    if stuck:
        warn_graph(
            f"Node(s) {stuck} have no edge towards END: every route from them loops back. "
            "Unless a node leaves the loop with Command(goto=END), the run stops only at the "
            "recursion limit; add a conditional edge to END."
        )
