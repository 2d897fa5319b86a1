"""get_graph().draw_mermaid() must produce identical text."""

import operator
from typing import Annotated, Literal, TypedDict

import pytest

from conftest import check


class S(TypedDict):
    log: Annotated[list, operator.add]


def noop(state):
    return None


def plain(E):
    g = E.StateGraph(S)
    g.add_node("a", noop)
    g.add_node("b", noop)
    g.add_edge(E.START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", E.END)
    return g.compile()


def conditional_map(E):
    g = E.StateGraph(S)
    for n in ("agent", "tools", "other"):
        g.add_node(n, noop)
    g.add_edge(E.START, "agent")
    g.add_conditional_edges("agent", lambda s: "go", {"go": "tools", "alt": "other",
                                                       "stop": E.END})
    g.add_edge("tools", "agent")
    g.add_edge("other", E.END)
    return g.compile()


def conditional_list(E):
    g = E.StateGraph(S)
    for n in ("a", "b", "c"):
        g.add_node(n, noop)
    g.add_edge(E.START, "a")
    g.add_conditional_edges("a", lambda s: "b", ["b", "c"])
    return g.compile()


def conditional_literal(E):
    def route(state) -> Literal["b", "__end__"]:
        return "b"

    g = E.StateGraph(S)
    g.add_node("a", noop)
    g.add_node("b", noop)
    g.add_edge(E.START, "a")
    g.add_conditional_edges("a", route)
    return g.compile()


def join(E):
    g = E.StateGraph(S)
    for n in ("a", "b", "c", "d"):
        g.add_node(n, noop)
    g.add_edge(E.START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge(["b", "c"], "d")
    g.add_edge("d", E.END)
    return g.compile()


def destinations(E):
    g = E.StateGraph(S)
    g.add_node("a", noop, destinations=("b", "c"))
    g.add_node("b", noop)
    g.add_node("c", noop)
    g.add_edge(E.START, "a")
    return g.compile()


def subgraph(E):
    return E.StateGraph(S).add_node("inner", plain(E)).add_edge(E.START, "inner").compile()


GRAPHS = [plain, conditional_map, conditional_list, conditional_literal, join, destinations,
          subgraph]


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda f: f.__name__)
def test_draw_mermaid(graph):
    lg = check(lambda E: graph(E).get_graph().draw_mermaid(), None, "build")
    assert lg.value.startswith("---")


@pytest.mark.parametrize("graph", [plain, join, subgraph], ids=lambda f: f.__name__)
def test_draw_mermaid_xray(graph):
    check(lambda E: graph(E).get_graph(xray=True).draw_mermaid(), None, "build")


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda f: f.__name__)
def test_graph_nodes_and_edges(graph):
    def shape(E):
        gr = graph(E).get_graph()
        return (sorted(gr.nodes),
                sorted(((e.source, e.target, e.conditional, e.data) for e in gr.edges), key=repr))

    check(shape, None, "build")
