"""Warnings emitted while building/compiling/running valid graphs must match.

Projects commonly run their test suites with ``-W error`` / ``filterwarnings = error``;
an extra warning from a drop-in engine turns their passing tests into failures.
"""

import operator
import warnings
from typing import Annotated, TypedDict

import pytest

from conftest import LG, SG, divergence


class S(TypedDict):
    n: int
    log: Annotated[list, operator.add]


def command_router(E):
    """b and c are reachable only through Command(goto=...); no destinations declared."""

    def a(state):
        return E.Command(goto="b" if state["n"] else "c", update={"log": ["a"]})

    g = E.StateGraph(S)
    g.add_node("a", a)
    g.add_node("b", lambda s: {"log": ["b"]})
    g.add_node("c", lambda s: {"log": ["c"]})
    g.add_edge(E.START, "a")
    return g.compile()


def command_exit_loop(E):
    """A loop driven only by Command: goto itself until done, then goto END."""

    def inc(state):
        if state["n"] >= 3:
            return E.Command(goto=E.END)
        return E.Command(goto="inc", update={"n": state["n"] + 1})

    g = E.StateGraph(S)
    g.add_node("inc", inc)
    g.add_edge(E.START, "inc")
    return g.compile()


def send_only(E):
    """worker is reached only through Send from a conditional edge without a path_map."""
    g = E.StateGraph(S)
    g.add_node("worker", lambda s: {"log": [s["n"]]})
    g.add_conditional_edges(E.START, lambda s: [E.Send("worker", {"n": i}) for i in range(2)])
    return g.compile()


def unused_node(E):
    """'spare' is never routed to (the path_map leaves it out): LangGraph stays silent."""
    g = E.StateGraph(S)
    g.add_node("a", lambda s: {"log": ["a"]})
    g.add_node("b", lambda s: {"log": ["b"]})
    g.add_node("spare", lambda s: {"log": ["spare"]})
    g.add_edge(E.START, "a")
    g.add_conditional_edges("a", lambda s: "go", {"go": "b", "stop": E.END})
    return g.compile()


def limit_only_loop(E):
    """A loop with no route to END; it stops at the recursion limit."""
    g = E.StateGraph(S)
    g.add_node("inc", lambda s: {"n": s["n"] + 1})
    g.add_edge(E.START, "inc")
    g.add_edge("inc", "inc")
    return g.compile()


def recorded(E, build):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = build(E)
        try:
            result = graph.invoke({"n": 1, "log": []}, {"recursion_limit": 5})
        except Exception as e:  # noqa: BLE001
            result = (type(e).__name__, str(e))
    return result, [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("build", [command_router, command_exit_loop, send_only, unused_node],
                         ids=lambda f: f.__name__)
def test_no_extra_warnings(build):
    lg_result, lg_warnings = recorded(LG, build)
    sg_result, sg_warnings = recorded(SG, build)
    assert sg_result == lg_result
    assert sg_warnings == lg_warnings


@divergence
def test_loop_without_exit_warns_on_swiftgraph_only():
    """Deliberate difference (issue 2 asks for it): a static loop that can only stop at
    the recursion limit gets a SwiftGraphWarning at compile time; LangGraph is silent.
    Suites running with -W error can filter the one category."""
    from swiftgraph.errors import SwiftGraphWarning

    lg_result, lg_warnings = recorded(LG, limit_only_loop)
    sg_result, sg_warnings = recorded(SG, limit_only_loop)
    assert sg_result == lg_result and lg_warnings == []
    assert [cat for cat, _ in sg_warnings] == [SwiftGraphWarning.__name__]
    assert "'inc'" in sg_warnings[0][1] and "recursion limit" in sg_warnings[0][1]
