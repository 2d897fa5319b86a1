"""Recursion limit, EmptyInputError, compile-time (graph construction) errors."""

from __future__ import annotations

import re
from typing import TypedDict

import pytest

from conftest import ALL_METHODS, LG, SG, build_error, check, divergence


class S(TypedDict):
    n: int


def chain(E, k):
    g = E.StateGraph(S)
    names = [f"n{i}" for i in range(k)]
    for name in names:
        g.add_node(name, lambda s: {"n": s["n"] + 1})
    g.add_edge(E.START, names[0])
    for a, b in zip(names, names[1:]):
        g.add_edge(a, b)
    return g.compile()


@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("method", ALL_METHODS)
def test_recursion_limit_boundary(k, method):
    """A chain of k nodes needs recursion_limit k + 1; k is not enough."""
    mode = {"stream_mode": "updates"} if "stream" in method else {}
    ok = check(lambda E: chain(E, k), {"n": 0}, method, config={"recursion_limit": k + 1}, **mode)
    assert ok.ok
    bad = check(lambda E: chain(E, k), {"n": 0}, method, config={"recursion_limit": k}, **mode)
    assert bad.error[0] == "GraphRecursionError"
    assert f"Recursion limit of {k} reached" in bad.error[1]
    assert "RecursionError" in bad.error[2]  # catchable as the builtin RecursionError


def loop(E):
    g = E.StateGraph(S)
    g.add_node("inc", lambda s: {"n": s["n"] + 1})
    g.add_edge(E.START, "inc")
    g.add_edge("inc", "inc")
    return g.compile()


@pytest.mark.parametrize("method", ALL_METHODS)
def test_infinite_loop_hits_limit(method):
    mode = {"stream_mode": "values"} if "stream" in method else {}
    lg = check(loop, {"n": 0}, method, config={"recursion_limit": 12}, **mode)
    assert lg.error[0] == "GraphRecursionError"
    if "stream" in method:
        assert lg.value[-1] == {"n": 12}


def counted_loop(E, stop):
    g = E.StateGraph(S)
    g.add_node("inc", lambda s: {"n": s["n"] + 1})
    g.add_edge(E.START, "inc")
    g.add_conditional_edges("inc", lambda s: "inc" if s["n"] < stop else E.END)
    return g.compile()


def test_default_limit_allows_more_than_25_steps():
    # LangGraph 1.2 defaults recursion_limit to 10007 (not langchain's 25)
    lg = check(lambda E: counted_loop(E, 60), {"n": 0}, "invoke")
    assert lg.value == {"n": 60}


@pytest.mark.parametrize("limit", [0, -1])
def test_recursion_limit_below_one(limit):
    lg = check(loop, {"n": 0}, "invoke", config={"recursion_limit": limit})
    assert lg.error[0] == "ValueError"


def test_recursion_limit_counts_supersteps_not_tasks():
    def build(E):
        g = E.StateGraph(S)
        for i in range(5):
            g.add_node(f"p{i}", lambda s: None)
            g.add_edge(E.START, f"p{i}")
        return g.compile()

    lg = check(build, {"n": 0}, "invoke", config={"recursion_limit": 2})
    assert lg.ok


def test_recursion_error_is_graph_recursion_error_class():
    for E in (LG, SG):
        with pytest.raises(E.errors.GraphRecursionError):
            loop(E).invoke({"n": 0}, {"recursion_limit": 3})
        assert issubclass(E.errors.GraphRecursionError, RecursionError)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_empty_input(method):
    lg = check(lambda E: chain(E, 2), None, method)
    assert lg.error[0] == "EmptyInputError"


def test_empty_input_error_class_importable():
    for E in (LG, SG):
        with pytest.raises(E.errors.EmptyInputError):
            chain(E, 1).invoke(None)


# ---------------------------------------------------------------- construction errors
def base(E):
    g = E.StateGraph(S)
    g.add_node("alpha_node", lambda s: None)
    return g


def dup(E):
    g = base(E)
    g.add_node("alpha_node", lambda s: None)


def reserved_start(E):
    base(E).add_node("__start__", lambda s: None)


def reserved_end(E):
    base(E).add_node("__end__", lambda s: None)


def edge_to_unknown(E):
    g = base(E)
    g.add_edge(E.START, "alpha_node")
    g.add_edge("alpha_node", "ghost_node")
    g.compile()


def edge_from_unknown(E):
    g = base(E)
    g.add_edge(E.START, "alpha_node")
    g.add_edge("ghost_node", "alpha_node")
    g.compile()


def join_from_unknown(E):
    g = base(E)
    g.add_edge(E.START, "alpha_node")
    g.add_edge(["alpha_node", "ghost_node"], E.END)
    g.compile()


def conditional_from_unknown(E):
    g = base(E)
    g.add_edge(E.START, "alpha_node")
    g.add_conditional_edges("ghost_node", lambda s: E.END)
    g.compile()


def conditional_map_to_unknown(E):
    g = base(E)
    g.add_edge(E.START, "alpha_node")
    g.add_conditional_edges("alpha_node", lambda s: "x", {"x": "ghost_node"})
    g.compile()


def no_entry(E):
    base(E).compile()


def end_as_source(E):
    base(E).add_edge(E.END, "alpha_node")


def start_as_target(E):
    base(E).add_edge("alpha_node", E.START)


def bad_char(E):
    base(E).add_node("a|b", lambda s: None)


def empty_sequence(E):
    base(E).add_sequence([])


CASES = {
    dup: r"alpha_node",
    reserved_start: r"__start__",
    reserved_end: r"__end__",
    edge_to_unknown: r"ghost_node",
    edge_from_unknown: r"ghost_node",
    join_from_unknown: r"ghost_node",
    conditional_from_unknown: r"ghost_node",
    conditional_map_to_unknown: r"ghost_node",
    no_entry: r"entry|START|__start__",
    end_as_source: r"END|__end__",
    start_as_target: r"START|__start__",
    bad_char: r"\|",
    empty_sequence: r"(?i)sequence|at least one",
}


@pytest.mark.parametrize("case", list(CASES), ids=lambda f: f.__name__)
def test_construction_error(case):
    """Same catchable type (``except ValueError``), and the message names the culprit."""
    lg_exc, sg_exc = build_error(LG, case), build_error(SG, case)
    assert lg_exc is not None and sg_exc is not None, (lg_exc, sg_exc)
    assert type(lg_exc) is ValueError
    assert isinstance(sg_exc, ValueError), f"{type(sg_exc).__mro__} is not a ValueError"
    assert re.search(CASES[case], str(lg_exc)), str(lg_exc)
    assert re.search(CASES[case], str(sg_exc)), f"culprit not named in: {sg_exc}"


@divergence
def test_construction_errors_are_graph_definition_errors():
    """swiftgraph's set-up errors are GraphDefinitionError (a ValueError): one class to
    catch for "the graph as built can't run", where LangGraph raises bare ValueError."""
    from swiftgraph.errors import GraphDefinitionError

    kinds = {case.__name__: type(build_error(SG, case)) for case in CASES}
    assert all(issubclass(k, GraphDefinitionError) for k in kinds.values()), kinds


def test_valid_graph_builds_without_error():
    def ok(E):
        g = base(E)
        g.add_edge(E.START, "alpha_node")
        g.compile()

    assert build_error(LG, ok) is None and build_error(SG, ok) is None
