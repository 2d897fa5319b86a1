"""Send map-reduce and Command(goto/update/graph=PARENT)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Literal, TypedDict

import pytest

from conftest import ALL_METHODS, check


class MR(TypedDict):
    topics: list
    results: Annotated[list, operator.add]


class Item(TypedDict):
    topic: str


def map_reduce(E, *, asynchronous=False, jitter=False):
    def fan_out(state: MR):
        return [E.Send("work", {"topic": t}) for t in state["topics"]]

    def work(item: Item):
        return {"results": [item["topic"].upper()]}

    async def awork(item: Item):
        if jitter:  # later items finish first
            await asyncio.sleep(0.005 * (5 - len(item["topic"])))
        return {"results": [item["topic"].upper()]}

    def reduce(state: MR):
        return {"results": [f"n={len(state['results'])}"]}

    g = E.StateGraph(MR)
    g.add_node("work", awork if asynchronous else work)
    g.add_node("reduce", reduce)
    g.add_conditional_edges(E.START, fan_out, ["work"])
    g.add_edge("work", "reduce")
    g.add_edge("reduce", E.END)
    return g.compile()


TOPICS = {"topics": ["a", "bb", "ccc", "dddd"], "results": []}


@pytest.mark.parametrize("method", ALL_METHODS)
def test_send_map_reduce_order(method):
    lg = check(lambda E: map_reduce(E, asynchronous=method.startswith("a")), TOPICS, method,
               order="steps",
               **({"stream_mode": ["updates", "values"]} if "stream" in method else {}))
    if method.endswith("invoke"):
        assert lg.value["results"] == ["A", "BB", "CCC", "DDDD", "n=4"]


def test_send_results_in_send_order_despite_completion_order():
    lg = check(lambda E: map_reduce(E, asynchronous=True, jitter=True), TOPICS, "ainvoke")
    assert lg.value["results"] == ["A", "BB", "CCC", "DDDD", "n=4"]


def test_send_with_no_items_skips_workers():
    lg = check(map_reduce, {"topics": [], "results": []}, "invoke")
    assert lg.value == {"topics": [], "results": []}


@pytest.mark.parametrize("method", ["stream", "astream"])
def test_send_tasks_stream(method):
    check(lambda E: map_reduce(E, asynchronous=method == "astream"), TOPICS, method,
          order="steps", stream_mode="tasks")


class CS(TypedDict):
    log: Annotated[list, operator.add]
    flag: str


def command_graph(E, *, goto_kind="name"):
    def a(state: CS) -> E.Command[Literal["b", "c"]]:
        target = "b" if state["flag"] == "b" else "c"
        if goto_kind == "list":
            target = ["b", "c"]
        elif goto_kind == "send":
            target = E.Send("c", {"log": ["sent"], "flag": "sent"})
        elif goto_kind == "end":
            target = E.END
        return E.Command(goto=target, update={"log": ["a"]})

    def b(state: CS):
        return {"log": ["b"]}

    def c(state: CS):
        return {"log": [f"c:{state['flag']}"]}

    g = E.StateGraph(CS)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("c", c)
    g.add_edge(E.START, "a")
    return g.compile()


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("flag", ["b", "c"])
def test_command_goto_and_update(method, flag):
    lg = check(command_graph, {"log": [], "flag": flag}, method)
    if method == "invoke":
        assert lg.value["log"] == ["a", "b" if flag == "b" else "c:c"]


@pytest.mark.parametrize("kind", ["list", "send", "end"])
def test_command_goto_variants(kind):
    lg = check(lambda E: command_graph(E, goto_kind=kind), {"log": [], "flag": "x"}, "invoke")
    expected = {"list": ["a", "b", "c:x"], "send": ["a", "c:sent"], "end": ["a"]}[kind]
    assert lg.value["log"] == expected


def test_command_updates_stream():
    check(command_graph, {"log": [], "flag": "b"}, "stream", stream_mode="updates")
    check(lambda E: command_graph(E, goto_kind="list"), {"log": [], "flag": "b"}, "stream",
          order="steps", stream_mode=["updates", "values"])


def test_command_plus_static_edge_both_run():
    def build(E):
        g = E.StateGraph(CS)
        g.add_node("a", lambda s: E.Command(goto="c", update={"log": ["a"]}))
        g.add_node("b", lambda s: {"log": ["b"]})
        g.add_node("c", lambda s: {"log": ["c"]})
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        return g.compile()

    lg = check(build, {"log": [], "flag": ""}, "invoke")
    assert lg.value["log"] == ["a", "b", "c"]


def test_destinations_routing_and_graph():
    def build(E):
        g = E.StateGraph(CS)
        g.add_node("a", lambda s: E.Command(goto=s["flag"]), destinations=("b", "c"))
        g.add_node("b", lambda s: {"log": ["b"]})
        g.add_node("c", lambda s: {"log": ["c"]})
        g.add_edge(E.START, "a")
        return g.compile()

    lg = check(build, {"log": [], "flag": "c"}, "invoke")
    assert lg.value["log"] == ["c"]
    check(lambda E: build(E).get_graph().draw_mermaid(), None, "build")


def test_node_returning_list_of_commands():
    def build(E):
        g = E.StateGraph(CS)
        g.add_node("a", lambda s: [E.Command(update={"log": ["a1"]}, goto="b"),
                                   E.Command(update={"log": ["a2"]})])
        g.add_node("b", lambda s: {"log": ["b"]})
        g.add_edge(E.START, "a")
        return g.compile()

    lg = check(build, {"log": [], "flag": ""}, "invoke")
    assert lg.value["log"] == ["a1", "a2", "b"]


def _handing_to_parent(E):
    """A compiled graph whose one node hands its parent a Command: goto "after"."""

    def inner(state: CS):
        return E.Command(graph=E.Command.PARENT, goto="after", update={"log": ["inner"]})

    sub = E.StateGraph(CS)
    sub.add_node("inner", inner)
    sub.add_edge(E.START, "inner")
    return sub.compile()


def test_command_parent_from_subgraph():
    def build(E):
        g = E.StateGraph(CS)
        g.add_node("sub", _handing_to_parent(E), destinations=("after",))
        g.add_node("after", lambda s: {"log": ["after"]})
        g.add_edge(E.START, "sub")
        return g.compile()

    lg = check(build, {"log": [], "flag": ""}, "invoke")
    assert lg.value["log"] == ["inner", "after"]
    check(build, {"log": [], "flag": ""}, "stream", stream_mode="updates")


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["plain", "async"])
def test_command_parent_from_a_graph_invoked_inside_a_node(method, asynchronous):
    """A graph invoked inside a node (not added as one) hands the node's graph a
    Command(graph=PARENT): the node's task takes it as its result, as in LangGraph
    (swiftgraph let the ParentCommand escape to the caller)."""

    def build(E):
        agent = _handing_to_parent(E)
        if asynchronous:
            async def call(state: CS):
                return await agent.ainvoke(state)
        else:
            def call(state: CS):
                return agent.invoke(state)

        g = E.StateGraph(CS)
        g.add_node("call", call, destinations=("after",))
        g.add_node("after", lambda s: {"log": ["after"]})
        g.add_edge(E.START, "call")
        return g.compile()

    if asynchronous and method in ("invoke", "stream"):
        return  # LangGraph's sync API refuses async nodes
    kw = {"stream_mode": "updates"} if "stream" in method else {}
    lg = check(build, {"log": [], "flag": ""}, method, **kw)
    assert lg.ok


def test_command_update_without_goto_follows_edges():
    def build(E):
        g = E.StateGraph(CS)
        g.add_node("a", lambda s: E.Command(update={"flag": "set", "log": ["a"]}))
        g.add_node("b", lambda s: {"log": [s["flag"]]})
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        return g.compile()

    lg = check(build, {"log": [], "flag": ""}, "invoke")
    assert lg.value == {"log": ["a", "set"], "flag": "set"}


def test_command_update_as_list_of_tuples():
    def build(E):
        g = E.StateGraph(CS)
        g.add_node("a", lambda s: E.Command(update=[("log", ["t1"]), ("flag", "f"),
                                                   ("log", ["t2"])]))
        g.add_edge(E.START, "a")
        return g.compile()

    lg = check(build, {"log": [], "flag": ""}, "invoke")
    assert lg.value == {"log": ["t1", "t2"], "flag": "f"}


def test_send_fanout_with_deferred_reducer():
    def build(E):
        g = E.StateGraph(MR)
        g.add_node("work", lambda item: {"results": [item["topic"]]})
        g.add_node("slow_path", lambda s: {"results": ["slow"]})
        g.add_node("more", lambda s: {"results": ["more"]})
        g.add_node("reduce", lambda s: {"results": [f"n={len(s['results'])}"]}, defer=True)
        g.add_conditional_edges(E.START, lambda s: [E.Send("work", {"topic": t})
                                                    for t in s["topics"]] + ["slow_path"])
        g.add_edge("slow_path", "more")
        g.add_edge("work", "reduce")
        g.add_edge("more", "reduce")
        return g.compile()

    lg = check(build, TOPICS, "invoke")
    assert lg.value["results"] == ["slow", "a", "bb", "ccc", "dddd", "more", "n=6"]
    check(build, TOPICS, "stream", order="steps", stream_mode=["updates", "values"])
