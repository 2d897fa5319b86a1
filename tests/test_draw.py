"""swiftgraph's graph drawing must reproduce LangGraph's Mermaid text exactly.

Each case builds a graph with LangGraph itself, feeds the node ids and
``(source, target, conditional, label)`` edges of ``get_graph()`` to
:func:`graph_from_edges`, and compares the two ``draw_mermaid()`` outputs.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypedDict

import pytest

from swiftgraph._internal.draw import END, START, Graph, graph_from_edges, to_safe_id

lg_graph = pytest.importorskip("langgraph.graph")
lg_types = pytest.importorskip("langgraph.types")
StateGraph = lg_graph.StateGraph
Command = lg_types.Command


class State(TypedDict):
    x: Annotated[list, operator.add]


def _node(name: str) -> Callable[[State], dict]:
    def fn(state: State) -> dict:
        return {"x": [name]}

    fn.__name__ = name.replace(" ", "_")
    return fn


def _graph(*names: str, **kw: Any) -> Any:
    g = StateGraph(State)
    for name in names:
        g.add_node(name, _node(name), **kw.get(name, {}))
    return g


def _route(state: State) -> str:
    return "x"


def _ours(lg: Any) -> Graph:
    """Our Graph from LangGraph's drawable graph: ids, metadata, ordered edges."""
    nodes = list(lg.nodes)
    metadata = {k: n.metadata for k, n in lg.nodes.items() if n.metadata is not None}
    edges = [(e.source, e.target, e.conditional, e.data) for e in lg.edges]
    return graph_from_edges(nodes, edges, metadata=metadata)


def _chain() -> Any:
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", END)
    return g.compile()


def _fan() -> Any:
    g = _graph("a", "b", "c", "d")
    g.add_edge(START, "a")
    for x, y in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
        g.add_edge(x, y)
    g.add_edge("d", END)
    return g.compile()


def _join() -> Any:
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge(["a", "b"], "c")
    g.add_edge("c", END)
    return g.compile()


def _join_with_orphan() -> Any:  # a disconnected node: no unique first/last node
    g = _graph("a", "b", "c", "orphan")
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge(["a", "b"], "c")
    g.add_edge("c", END)
    return g.compile()


def _cond_dict() -> Any:
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route, {"go b": "b", "go c": "c", "stop": END})
    g.add_edge("b", END)
    g.add_edge("c", END)
    return g.compile()


def _cond_list() -> Any:
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route, ["b", "c"])
    g.add_edge("b", END)
    g.add_edge("c", END)
    return g.compile()


def _cond_no_map() -> Any:  # LangGraph can't see the targets: draws a plain a --> __end__
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route)
    g.add_edge("b", END)
    g.add_edge("c", END)
    return g.compile()


def _cond_literal() -> Any:
    def route(state: State) -> Literal["b", "__end__"]:
        return "b"

    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", route)
    g.add_edge("b", "c")
    g.add_edge("c", END)
    return g.compile()


def _command() -> Any:
    def a(state: State) -> Command[Literal["b", "c"]]:
        return Command(goto="b")

    g = StateGraph(State)
    g.add_node("a", a)
    g.add_node("b", _node("b"))
    g.add_node("c", _node("c"))
    g.add_edge(START, "a")
    g.add_edge("b", END)
    g.add_edge("c", END)
    return g.compile()


def _loop_long_label() -> Any:
    g = _graph("agent", "tools")
    g.add_edge(START, "agent")
    label = "the model asked for one or more tools to be called right now"
    g.add_conditional_edges("agent", _route, {label: "tools", "done": END})
    g.add_edge("tools", "agent")
    return g.compile()


def _metadata_interrupts_defer() -> Any:
    g = _graph(
        "a",
        "b",
        "c",
        b={
            "metadata": {
                "team": "search",
                "tags": ["x", "y"],
                "note": 'a [b] (c) <d> #e {f} "g" | h',
            }
        },
        c={"defer": True},
    )
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    g.add_edge("a", "c")
    g.add_edge("b", "c")
    g.add_edge("c", END)
    return g.compile(interrupt_before=["a"], interrupt_after=["a", "b"])


def _odd_names() -> Any:
    g = _graph("my node", "_private_", "a.b")
    g.add_edge(START, "my node")
    g.add_edge("my node", "_private_")
    g.add_conditional_edges("_private_", _route, {"x [1] (y) <z> | #": "a.b", "end": END})
    g.add_edge("a.b", END)
    return g.compile()


def _self_loop() -> Any:
    g = _graph("a")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route, {"again": "a", "done": END})
    return g.compile()


CASES: dict[str, Callable[[], Any]] = {
    "chain": _chain,
    "fan": _fan,
    "join": _join,
    "join_with_orphan": _join_with_orphan,
    "cond_dict": _cond_dict,
    "cond_list": _cond_list,
    "cond_no_map": _cond_no_map,
    "cond_literal": _cond_literal,
    "command": _command,
    "loop_long_label": _loop_long_label,
    "metadata": _metadata_interrupts_defer,
    "odd_names": _odd_names,
    "self_loop": _self_loop,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mermaid_identical_to_langgraph(case: str) -> None:
    lg = CASES[case]().get_graph()
    assert _ours(lg).draw_mermaid() == lg.draw_mermaid()


@pytest.mark.parametrize("case", ["chain", "cond_dict", "loop_long_label", "metadata"])
@pytest.mark.parametrize(
    "kw",
    [
        {"with_styles": False},
        {"curve_style": "basis"},
        {"wrap_label_n_words": 3},
        {
            "frontmatter_config": {
                "config": {
                    "theme": "neutral",
                    "look": "handDrawn",
                    "themeVariables": {"primaryColor": "#e2e2e2"},
                }
            }
        },
        {"frontmatter_config": {"title": "Hiring: v2", "config": {"flowchart": {"padding": 8}}}},
    ],
)
def test_mermaid_options_identical(case: str, kw: dict[str, Any]) -> None:
    from langchain_core.runnables.graph import CurveStyle

    lg = CASES[case]().get_graph()
    lg_kw = dict(kw)
    if "curve_style" in kw:
        lg_kw["curve_style"] = CurveStyle(kw["curve_style"])
    assert _ours(lg).draw_mermaid(**kw) == lg.draw_mermaid(**lg_kw)


def test_mermaid_subgraph_xray_identical() -> None:
    inner = _graph("x", "y")
    inner.add_edge(START, "x")
    inner.add_edge("x", "y")
    inner.add_edge("y", END)
    g = StateGraph(State)
    g.add_node("a", _node("a"))
    g.add_node("sub", inner.compile())
    g.add_node("c", _node("c"))
    g.add_edge(START, "a")
    g.add_edge("a", "sub")
    g.add_edge("sub", "c")
    g.add_edge("c", END)
    compiled = g.compile()
    for xray in (False, True):
        lg = compiled.get_graph(xray=xray)
        assert _ours(lg).draw_mermaid() == lg.draw_mermaid()
        assert _ours(lg).draw_mermaid(with_styles=False) == lg.draw_mermaid(with_styles=False)


def test_to_json_matches_langgraph_shape() -> None:
    lg = _metadata_interrupts_defer().get_graph()
    ours, theirs = _ours(lg).to_json(), lg.to_json()
    assert ours["edges"] == theirs["edges"]
    strip = lambda nodes: [{k: v for k, v in n.items() if k != "data"} for n in nodes]
    assert strip(ours["nodes"]) == strip(theirs["nodes"])
    assert [n.get("data", {}).get("name") for n in ours["nodes"]] == [
        n.get("data", {}).get("name") for n in theirs["nodes"]
    ]
    json.dumps(ours)


def test_graph_from_edges_dedups_and_drops_unused_end() -> None:
    g = graph_from_edges(
        [START, "a", END],
        [(START, "a", False, None), (START, "a", True, "dup"), ("a", "a", True, None)],
    )
    assert list(g.nodes) == [START, "a"]
    assert len(g.edges) == 2 and g.edges[0].conditional is False
    with pytest.raises(ValueError, match="unknown node"):
        graph_from_edges([START], [(START, "nope", False, None)])


def test_safe_id() -> None:
    assert to_safe_id("sub:x") == "sub\\3ax"
    assert to_safe_id("a-b_C9") == "a-b_C9"
    assert to_safe_id("my node") == "my\\20node"


@pytest.mark.parametrize("case", sorted(CASES))
def test_ascii_shows_every_node_and_edge(case: str) -> None:
    lg = CASES[case]().get_graph()
    ours = _ours(lg)
    art = ours.draw_ascii()
    for node in ours.nodes.values():
        assert f"| {node.name} |" in art
    arrows = art.count("v") - sum(n.name.count("v") for n in ours.nodes.values())
    assert arrows >= 1 or len(ours.edges) == 0 or "edges back up" in art
    for edge in ours.edges:
        if edge.data is not None:
            assert edge.data in art


def test_ascii_layering_and_cycles() -> None:
    from swiftgraph._internal.draw_ascii import layered

    g = graph_from_edges(
        [START, "agent", "tools", END],
        [
            (START, "agent", False, None),
            ("agent", END, True, None),
            ("agent", "tools", True, None),
            ("tools", "agent", False, None),
        ],
    )
    lay = layered(g)
    assert lay.layers[0] == [START] and lay.layers[1] == ["agent"]
    assert [(e.source, e.target) for e in lay.back] == [("tools", "agent")]
    art = g.draw_ascii()
    assert "edges back up (cycles):\n  tools --> agent" in art
    assert art.index("| agent |") < art.index("| tools |")


def test_ascii_thirty_nodes_stays_readable() -> None:
    names = [f"n{i}" for i in range(30)]
    edges = [(START, "n0", False, None)]
    edges += [(f"n{i}", f"n{i + 1}", False, None) for i in range(9)]
    edges += [("n9", f"n{i}", True, None) for i in range(10, 30)]
    edges += [(f"n{i}", END, False, None) for i in range(10, 30)]
    g = graph_from_edges([START, *names, END], edges)
    art = g.draw_ascii()
    for name in names:
        assert f"| {name} |" in art
    assert art.index("| n9 |") < art.index("| n10 |") < art.index("| __end__ |")
    assert max(len(line) for line in art.splitlines()) < 300


def test_empty_graph() -> None:
    g = Graph()
    assert g.draw_ascii() == ""
    assert g.to_json() == {"nodes": [], "edges": []}
