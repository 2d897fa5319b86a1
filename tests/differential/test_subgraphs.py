"""Compiled graphs as nodes; stream(..., subgraphs=True) namespaces."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest

from conftest import ALL_METHODS, check


class S(TypedDict):
    log: Annotated[list, operator.add]


class Private(TypedDict):
    log: Annotated[list, operator.add]
    scratch: str


def child(E, name="child", schema=S):
    def step1(state):
        E.get_stream_writer()({"in": name})
        out = {"log": [f"{name}.1"]}
        if schema is Private:
            out["scratch"] = "tmp"
        return out

    def step2(state):
        return {"log": [f"{name}.2"]}

    g = E.StateGraph(schema)
    g.add_node("step1", step1)
    g.add_node("step2", step2)
    g.add_edge(E.START, "step1")
    g.add_edge("step1", "step2")
    return g.compile()


def parent(E, schema=S, nested=False):
    g = E.StateGraph(S)
    g.add_node("before", lambda s: {"log": ["before"]})
    if nested:
        mid = E.StateGraph(S)
        mid.add_node("inner", child(E, "inner"))
        mid.add_edge(E.START, "inner")
        g.add_node("child", mid.compile())
    else:
        g.add_node("child", child(E, schema=schema))
    g.add_node("after", lambda s: {"log": ["after"]})
    g.add_edge(E.START, "before")
    g.add_edge("before", "child")
    g.add_edge("child", "after")
    return g.compile()


INP = {"log": []}


@pytest.mark.parametrize("method", ALL_METHODS)
def test_compiled_graph_as_node(method):
    lg = check(parent, INP, method)
    if method == "invoke":
        assert lg.value == {"log": ["before", "before", "child.1", "child.2", "after"]}


def test_subgraph_with_private_key_not_leaked():
    lg = check(lambda E: parent(E, schema=Private), INP, "invoke")
    assert "scratch" not in lg.value


@pytest.mark.parametrize("method", ["stream", "astream"])
@pytest.mark.parametrize("mode", ["updates", "values", "custom", "debug", "tasks",
                                  ["updates", "custom"], ["values", "updates"]])
def test_stream_subgraphs_namespaces(method, mode):
    lg = check(parent, INP, method, stream_mode=mode, subgraphs=True)
    namespaces = {c[0] for c in lg.value}
    assert ("child:<id>",) in namespaces
    assert (() in namespaces) == (mode != "custom")  # only the child writes custom events


@pytest.mark.parametrize("method", ["stream", "astream"])
def test_stream_without_subgraphs_hides_inner_updates(method):
    lg = check(parent, INP, method, stream_mode="updates")
    assert [list(c) for c in lg.value] == [["before"], ["child"], ["after"]]


def test_custom_events_from_subgraph_hidden_without_subgraphs_flag():
    lg = check(parent, INP, "stream", stream_mode="custom")
    assert lg.value == []
    lg = check(parent, INP, "stream", stream_mode="custom", subgraphs=True)
    assert lg.value == [(("child:<id>",), {"in": "child"})]


@pytest.mark.parametrize("method", ["stream", "astream"])
def test_nested_subgraph_namespaces(method):
    lg = check(lambda E: parent(E, nested=True), INP, method, stream_mode="updates",
               subgraphs=True)
    assert ("child:<id>", "inner:<id>") in {c[0] for c in lg.value}


def test_subgraph_called_inside_node_function():
    def build(E):
        sub = child(E, "called")

        def call(state):
            out = sub.invoke({"log": ["x"]})
            return {"log": out["log"]}

        g = E.StateGraph(S)
        g.add_node("call", call)
        g.add_edge(E.START, "call")
        return g.compile()

    lg = check(build, INP, "invoke")
    assert lg.value == {"log": ["x", "called.1", "called.2"]}
    check(build, INP, "stream", stream_mode="updates", subgraphs=True)


def test_subgraph_error_propagates_with_type_and_message():
    def build(E):
        sub = E.StateGraph(S)
        sub.add_node("bad", lambda s: {}["missing"])
        sub.add_edge(E.START, "bad")
        g = E.StateGraph(S)
        g.add_node("child", sub.compile())
        g.add_edge(E.START, "child")
        return g.compile()

    lg = check(build, INP, "invoke")
    assert lg.error[0] == "KeyError"
    check(build, INP, "stream", stream_mode="updates", subgraphs=True)


def test_subgraph_with_different_schema_via_wrapper():
    class Inner(TypedDict):
        text: str

    def build(E):
        sub = E.StateGraph(Inner)
        sub.add_node("up", lambda s: {"text": s["text"].upper()})
        sub.add_edge(E.START, "up")
        compiled = sub.compile()
        g = E.StateGraph(S)
        g.add_node("wrap", lambda s: {"log": [compiled.invoke({"text": "hi"})["text"]]})
        g.add_edge(E.START, "wrap")
        return g.compile()

    lg = check(build, INP, "invoke")
    assert lg.value == {"log": ["HI"]}


def test_parallel_subgraphs_in_one_step():
    def build(E):
        g = E.StateGraph(S)
        g.add_node("left", child(E, "left"))
        g.add_node("right", child(E, "right"))
        g.add_edge(E.START, "left")
        g.add_edge(E.START, "right")
        return g.compile()

    lg = check(build, INP, "invoke")
    assert sorted(lg.value["log"]) == ["left.1", "left.2", "right.1", "right.2"]
    check(build, INP, "stream", order="multiset", stream_mode="updates", subgraphs=True)
