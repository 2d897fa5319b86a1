"""Conditional edges: names, lists, END, Send, path_map dict/list, sync/async paths."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

import pytest

from conftest import ALL_METHODS, check, divergence, run_both


class S(TypedDict):
    route: str
    log: Annotated[list, operator.add]


def node(name):
    def f(state):
        return {"log": [name]}

    return f


def routed(E, path, path_map=None, targets=("x", "y", "z")):
    g = E.StateGraph(S)
    g.add_node("a", node("a"))
    for t in targets:
        g.add_node(t, node(t))
        g.add_edge(t, E.END)
    g.add_edge(E.START, "a")
    g.add_conditional_edges("a", path, path_map)
    return g.compile()


def by_route(state) -> str:
    return state["route"]


async def by_route_async(state) -> str:
    return state["route"]


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("route", ["x", "y"])
def test_path_returns_node_name(method, route):
    fn = by_route_async if method.startswith("a") else by_route
    lg = check(lambda E: routed(E, fn), {"route": route, "log": []}, method)
    assert lg.ok


@divergence
def test_async_path_under_sync_invoke_runs_on_swiftgraph():
    # Deliberate difference: LangGraph's invoke() refuses an async path; swiftgraph runs it.
    lg, sg = run_both(lambda E: routed(E, by_route_async), {"route": "x", "log": []}, "invoke")
    assert lg.error[0] == "TypeError"
    assert sg.error is None and sg.value == {"route": "x", "log": ["a", "x"]}


@pytest.mark.parametrize("method", ALL_METHODS)
def test_path_returns_list_runs_in_parallel(method):
    lg = check(lambda E: routed(E, lambda s: ["z", "x"]), {"route": "", "log": []}, method,
               order="steps",
               **({"stream_mode": ["updates", "values"]} if "stream" in method else {}))
    if method.endswith("invoke"):
        assert lg.value["log"] == ["a", "x", "z"]  # merged in node order, not list order


@pytest.mark.parametrize("method", ["invoke", "ainvoke"])
def test_path_returns_end(method):
    def build(E):
        return routed(E, lambda s: E.END)

    lg = check(build, {"route": "", "log": []}, method)
    assert lg.value["log"] == ["a"]


@pytest.mark.parametrize("route", ["go_x", "go_y", "stop"])
def test_path_map_dict(route):
    def build(E):
        return routed(E, by_route, {"go_x": "x", "go_y": "y", "stop": E.END})

    check(build, {"route": route, "log": []}, "invoke")
    check(build, {"route": route, "log": []}, "stream", stream_mode="updates")


@divergence
def test_path_map_dict_unknown_key_error():
    def build(E):
        return routed(E, by_route, {"go_x": "x"})

    # Same catchable type (KeyError); swiftgraph's message names the edge, the node and the map.
    lg, sg = run_both(build, {"route": "nope", "log": []}, "invoke")
    assert lg.error[0] == "KeyError" and isinstance(sg.exc, KeyError)
    assert "'nope'" in sg.error[1] and "'a'" in sg.error[1] and "go_x" in sg.error[1]


@pytest.mark.parametrize("route", ["x", "z"])
def test_path_map_list(route):
    check(lambda E: routed(E, by_route, ["x", "z"]), {"route": route, "log": []}, "invoke")


@divergence
def test_path_returns_unknown_node_without_map():
    # Deliberate difference: LangGraph logs a warning and drops the route; swiftgraph
    # raises UnknownTargetError naming the node, the target and the known nodes.
    lg, sg = run_both(lambda E: routed(E, by_route), {"route": "ghost", "log": []}, "invoke")
    assert lg.value == {"route": "ghost", "log": ["a"]}
    assert sg.error[0] == "UnknownTargetError"
    assert "'ghost'" in sg.error[1] and "'a'" in sg.error[1] and "Known nodes" in sg.error[1]


def test_path_returns_none():
    lg = check(lambda E: routed(E, lambda s: None), {"route": "", "log": []}, "invoke")
    assert lg.error[0] == "ValueError"


@pytest.mark.parametrize("method", ALL_METHODS)
def test_path_returns_sends(method):
    def build(E):
        def fan(state):
            return [E.Send("x", {"route": "1", "log": []}), E.Send("y", {"route": "2", "log": []}),
                    E.Send("x", {"route": "3", "log": []})]

        g = E.StateGraph(S)
        g.add_node("a", node("a"))
        g.add_node("x", lambda s: {"log": ["x" + s["route"]]})
        g.add_node("y", lambda s: {"log": ["y" + s["route"]]})
        g.add_edge(E.START, "a")
        g.add_conditional_edges("a", fan, ["x", "y"])
        return g.compile()

    lg = check(build, {"route": "", "log": []}, method, order="steps",
               **({"stream_mode": ["updates", "values"]} if "stream" in method else {}))
    if method.endswith("invoke"):
        assert lg.value["log"] == ["a", "x1", "y2", "x3"]


def test_path_mixing_names_and_sends():
    def build(E):
        g = E.StateGraph(S)
        g.add_node("a", node("a"))
        g.add_node("x", lambda s: {"log": ["x" + s["route"]]})
        g.add_node("y", node("y"))
        g.add_edge(E.START, "a")
        g.add_conditional_edges("a", lambda s: ["y", E.Send("x", {"route": "!", "log": []})])
        return g.compile()

    lg = check(build, {"route": "", "log": []}, "invoke")
    assert lg.value["log"] == ["a", "y", "x!"]


def test_literal_annotation_path_without_map():
    def build(E):
        def pick(state) -> Literal["x", "y"]:
            return "y"

        return routed(E, pick)

    check(build, {"route": "", "log": []}, "invoke")


@pytest.mark.parametrize("method", ["invoke", "ainvoke"])
def test_conditional_loop_until_done(method):
    class C(TypedDict):
        n: int

    def build(E):
        g = E.StateGraph(C)
        g.add_node("inc", lambda s: {"n": s["n"] + 1})
        g.add_edge(E.START, "inc")
        g.add_conditional_edges("inc", lambda s: "inc" if s["n"] < 5 else E.END)
        return g.compile()

    lg = check(build, {"n": 0}, method)
    assert lg.value == {"n": 5}


@pytest.mark.parametrize("route", ["x", "y"])
def test_conditional_entry_point(route):
    def build(E):
        g = E.StateGraph(S)
        for t in "xy":
            g.add_node(t, node(t))
            g.set_finish_point(t)
        g.set_conditional_entry_point(by_route, {"x": "x", "y": "y"})
        return g.compile()

    lg = check(build, {"route": route, "log": []}, "invoke")
    assert lg.value["log"] == [route]


def test_conditional_edge_from_start():
    def build(E):
        g = E.StateGraph(S)
        for t in "xy":
            g.add_node(t, node(t))
        g.add_conditional_edges(E.START, lambda s: ["x", "y"])
        return g.compile()

    check(build, {"route": "", "log": []}, "stream", order="steps",
          stream_mode=["updates", "values"])


def test_path_receives_state_after_node_update():
    seen = {}

    def build(E):
        def path(state):
            seen.setdefault(id(E), []).append(list(state["log"]))
            return "x"

        return routed(E, path)

    check(build, {"route": "", "log": ["in"]}, "invoke")
    lg_seen, sg_seen = list(seen.values())[0], list(seen.values())[-1]
    assert lg_seen == sg_seen == [["in", "a"]]


@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream"])
def test_plain_paths_of_one_step_run_concurrently(method):
    """The plain routing functions of a step's tasks meet at a barrier: only possible
    if they run at the same time (swiftgraph ran them one by one on the loop's thread)."""
    import threading

    def build(E):
        barrier = threading.Barrier(2, timeout=2)

        def path(state):
            barrier.wait()
            return E.END

        g = E.StateGraph(S)
        for name in ("a", "b"):
            g.add_node(name, node(name))
            g.add_edge(E.START, name)
            g.add_conditional_edges(name, path, [E.END])
        return g.compile()

    lg = check(build, {"route": "", "log": []}, method, order="multiset")
    assert lg.ok


@pytest.mark.parametrize("method", ["ainvoke", "astream"])
def test_plain_path_under_async_api_leaves_the_loop_free(method):
    """Under ainvoke a plain routing function runs off the event loop, as a plain node
    body does: here it waits for an async sibling that can only get there if the
    loop is free (swiftgraph ran it on the loop, which then hung until the timeout)."""
    import asyncio
    import threading

    def build(E):
        started, answered = threading.Event(), threading.Event()

        async def a(state):
            return {"log": ["a"]}

        def path(state):
            started.set()
            if not answered.wait(timeout=2):
                raise TimeoutError("the sibling never ran: the event loop was blocked")
            return E.END

        async def b(state):
            for _ in range(400):  # until the path function has started
                if started.is_set():
                    break
                await asyncio.sleep(0.005)
            answered.set()
            return {"log": ["b"]}

        g = E.StateGraph(S)
        g.add_node("a", a)
        g.add_node("b", b)
        g.add_edge(E.START, "a")
        g.add_edge(E.START, "b")
        g.add_conditional_edges("a", path, [E.END])
        return g.compile()

    lg = check(build, {"route": "", "log": []}, method, order="multiset")
    assert lg.ok


@pytest.mark.parametrize("method", ["stream", "astream"])
@pytest.mark.parametrize("width", [1, 2])
def test_path_sees_config_and_stream_writer(method, width):
    """get_config() and get_stream_writer() work inside a routing function, as inside
    its node (swiftgraph raised "outside of a runnable context")."""

    def build(E):
        def path(state):
            config = E.get_config()
            meta = config["metadata"]
            E.get_stream_writer()(
                {"x": config["configurable"]["x"], "node": meta["langgraph_node"], "step": meta["langgraph_step"]}
            )
            return E.END

        g = E.StateGraph(S)
        for name in "ab"[:width]:
            g.add_node(name, node(name))
            g.add_edge(E.START, name)
            g.add_conditional_edges(name, path, [E.END])
        return g.compile()

    lg = check(
        build, {"route": "", "log": []}, method, order="multiset" if width > 1 else "exact",
        config={"configurable": {"x": 7}}, stream_mode=["custom", "updates"],
    )
    assert ("custom", {"x": 7, "node": "a", "step": 1}) in lg.value
