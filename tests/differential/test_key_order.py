"""Key order of every state dict a user sees: a node's input, a path function's state,
task events, ``values`` chunks and snapshot values.

LangGraph reads state channel by channel in the schema's order, skipping keys that have
no value yet; a reducer key has a value (its empty default) from the start, so a plain
key declared above it and written later must still come first. ``assert_same`` compares
``repr``s, so these tests fail on any difference in order; the nodes also write what
they saw (``list(state)``) into the state, so the order a node itself sees is compared
even in a plain ``invoke``.
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest
from conftest import ALL_METHODS, check
from durability_kit import Tx, compare, saver, thread


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]
    y: str


class Sub(TypedDict, total=False):
    y: str
    x: int


def seen(state) -> str:
    return ",".join(state)


def build(E):
    """a (sees x? log) -> b writes y, its path function sees the fresh y -> Send(rec)
    -> c (input schema y, x: in that order) -> END."""

    def a(state):
        return {"log": [f"a:{seen(state)}"]}

    def b(state):
        return {"log": [f"b:{seen(state)}"], "y": "yes", "x": 2}

    def route(state):
        return [E.Send("rec", {"log": [f"route:{seen(state)}"]}), "c"]

    def rec(arg):
        return {"log": arg["log"]}

    def c(state: Sub):
        return {"log": [f"c:{seen(state)}"]}

    g = E.StateGraph(S)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("rec", rec)
    g.add_node("c", c, input_schema=Sub)
    g.add_edge(E.START, "a")
    g.add_edge("a", "b")
    g.add_conditional_edges("b", route, ["rec", "c"])
    return g.compile()


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("inp", [{"x": 1}, {"log": ["in"]}, {"log": ["in"], "x": 1}],
                         ids=["x-only", "log-only", "log-then-x"])
def test_node_inputs_and_outputs_in_schema_order(method, inp):
    streaming = "stream" in method
    kwargs = {"stream_mode": ["values", "tasks", "updates"], "order": "steps"} if streaming else {}
    lg = check(build, inp, method, **kwargs)
    assert lg.ok


@pytest.mark.parametrize("mode", ["tasks", "debug", "values"])
def test_task_inputs_in_schema_order(mode):
    """The case from the bug report: ``{'x': 1, 'log': []}``, not ``{'log': [], 'x': 1}``."""
    check(build, {"x": 1}, "stream", order="steps", stream_mode=mode)


def test_snapshot_values_and_resumed_inputs_in_schema_order():
    """A checkpointed thread: x is first written after log has its default; the order
    survives a checkpoint round trip (get_state, history, and a resumed node's input)."""

    def scenario(E):
        tx = Tx()

        def late(state):
            return {"x": 5, "log": [f"late:{seen(state)}"]}

        def after(state):
            return {"log": [f"after:{seen(state)}"]}

        g = E.StateGraph(S)
        g.add_node("late", late)
        g.add_node("after", after)
        g.add_edge(E.START, "late")
        g.add_edge("late", "after")
        app, cfg = g.compile(checkpointer=saver(E), interrupt_before=["after"]), thread("ko")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        out += [tx.attempt(app.invoke, None, cfg), tx.history(app, cfg)]
        return out

    compare(scenario)


@pytest.mark.parametrize("annotated", [False, True], ids=["plain-path", "typed-path"])
@pytest.mark.parametrize("returned", [{"y": "yes", "log": ["b"]}, {"log": ["b"], "extra": 1}, None],
                         ids=["reordered", "extra-key", "none"])
def test_path_function_sees_node_return_first(returned, annotated):
    """A path function without an input schema of its own sees LangGraph's
    ``{**what the node returned, **fresh state}``: the node's keys first, in its
    order, keys outside the schema too; one typed with the schema sees the state only."""

    def build_route(E):
        def b(state):
            return dict(returned) if returned is not None else None

        if annotated:
            def route(state: S):
                return E.Send("rec", {"log": [f"route:{seen(state)}"]})
        else:
            def route(state):
                return E.Send("rec", {"log": [f"route:{seen(state)}"]})

        g = E.StateGraph(S)
        g.add_node("b", b)
        g.add_node("rec", lambda arg: {"log": arg["log"]})
        g.add_edge(E.START, "b")
        g.add_conditional_edges("b", route, ["rec"])
        return g.compile()

    check(build_route, {"x": 1}, "invoke")
