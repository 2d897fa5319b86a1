"""Graph API with a checkpointer: threads, ``get_state``, ``get_state_history``,
durability modes, reducers and ``Send`` under checkpointing, the ``checkpoints`` stream.

Each test drives a multi-call scenario in ``build(E)`` and returns a transcript
(see ``durability_kit``); ``compare(scenario)`` compares LangGraph's and swiftgraph's.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

import pytest
from durability_kit import S, Tx, chain, compare, logger, saver, thread


def test_threads_accumulate_and_get_state_after_each_run():
    def scenario(E):
        tx, app = Tx(), chain(E, "a", "b")
        out = []
        for tid, first in (("t1", "x"), ("t1", "y"), ("t2", "z"), ("t1", "w")):
            out.append(tx.attempt(app.invoke, {"log": [first]}, thread(tid)))
            out.append(tx.state(app, thread(tid)))
        return out

    lg = compare(scenario)
    assert lg[6] == ("ok", {"log": ["x", "a", "b", "y", "a", "b", "w", "a", "b"]})


def test_get_state_of_unknown_thread():
    def scenario(E):
        tx, app = Tx(), chain(E, "a")
        return [tx.state(app, thread("never")), tx.history(app, thread("never"))]

    compare(scenario)


def test_history_full_snapshots():
    """Every field of every snapshot: values, next, config/parent chain, metadata, tasks."""

    def scenario(E):
        tx, app = Tx(strict=True), chain(E, "a", "b")
        app.invoke({"log": ["1"]}, thread("h"))
        app.invoke({"log": ["2"]}, thread("h"))
        return tx.attempt(app.get_state_history, thread("h"))

    lg = compare(scenario)
    assert len(lg[1]) == 8


def test_history_rows_newest_first():
    def scenario(E):
        tx, app = Tx(), chain(E, "a", "b", "c")
        app.invoke({"log": []}, thread("h"))
        return tx.history(app, thread("h"))

    lg = compare(scenario)
    assert [(r[2], r[3]) for r in lg] == [
        ("loop", 3), ("loop", 2), ("loop", 1), ("loop", 0), ("input", -1)]


@pytest.mark.parametrize("kw", [
    {"filter": {"source": "loop"}},
    {"filter": {"step": 1}},
    {"filter": {"source": "input"}},
    {"limit": 2},
    {"limit": 0},
    {"limit": -1},
    {"before": 2},
    {"before": 2, "limit": 1},
    {"filter": {"source": "loop"}, "limit": 3},
    {"at": 3},
], ids=["filter-source", "filter-step", "filter-input", "limit", "limit-zero", "limit-negative",
        "before", "before-limit", "filter-limit", "from-checkpoint"])
def test_history_filter_before_limit(kw):
    """``before``/``at`` name the n-th newest checkpoint of a two-run thread."""

    def scenario(E):
        tx, app = Tx(), chain(E, "a", "b")
        app.invoke({"log": ["1"]}, thread("h"))
        app.invoke({"log": ["2"]}, thread("h"))
        ids = [s.config["configurable"]["checkpoint_id"] for s in app.get_state_history(thread("h"))]
        args, cfg = dict(kw), thread("h")
        if "before" in args:
            args["before"] = thread("h", ids[args["before"]])
        if "at" in args:
            cfg = thread("h", ids[args.pop("at")])
        return tx.history(app, cfg, **args)

    compare(scenario)



@pytest.mark.parametrize("how", [
    "invoke", "stream", "no-configurable",
    "get_state",
    "update_state",
    "history",
])
def test_missing_thread_id(how):
    def scenario(E):
        tx, app = Tx(), chain(E, "a")
        calls = {
            "invoke": lambda: app.invoke({"log": []}),
            "stream": lambda: app.stream({"log": []}),
            "get_state": lambda: app.get_state({"configurable": {}}),
            "update_state": lambda: app.update_state({"configurable": {}}, {"log": ["u"]}),
            "history": lambda: app.get_state_history({"configurable": {}}),
            "no-configurable": lambda: app.invoke({"log": []}, {"recursion_limit": 5}),
        }
        return tx.attempt(calls[how])

    lg = compare(scenario)
    if how in ("invoke", "stream"):
        assert lg[:2] == ("raised", "ValueError")


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_durability_modes(durability):
    def scenario(E):
        tx, app = Tx(), chain(E, "a", "b")
        out = [tx.attempt(app.invoke, {"log": ["1"]}, thread("d"), durability=durability)]
        out.append(tx.attempt(app.invoke, {"log": ["2"]}, thread("d"), durability=durability))
        out.append(tx.state(app, thread("d")))
        out.append(tx.history(app, thread("d")))
        return out

    lg = compare(scenario)
    assert lg[1] == ("ok", {"log": ["1", "a", "b", "2", "a", "b"]})


def test_durability_modes_same_final_state():
    def scenario(E):
        app = chain(E, "a", "b", "c")
        finals = []
        for mode in ("sync", "async", "exit"):
            app.invoke({"log": [mode]}, thread(mode), durability=mode)
            app.invoke({"log": ["again"]}, thread(mode), durability=mode)
            finals.append(app.get_state(thread(mode)).values)
        return finals

    lg = compare(scenario)
    assert lg[0]["log"][4:] == lg[2]["log"][4:]


class R(TypedDict, total=False):
    total: Annotated[int, operator.add]
    best: Annotated[int, lambda a, b: max(a, b)]
    last: str


def test_reducers_across_runs():
    def scenario(E):
        def node(state):
            return {"total": 1, "best": state.get("total", 0), "last": "node"}

        g = E.StateGraph(R)
        g.add_node("node", node)
        g.add_edge(E.START, "node")
        app = g.compile(checkpointer=saver(E))
        tx = Tx()
        out = [tx.attempt(app.invoke, {"total": 10, "best": 0}, thread("r"))]
        out.append(tx.attempt(app.invoke, {"total": 5, "last": "input"}, thread("r")))
        out.append(tx.state(app, thread("r")))
        return out

    lg = compare(scenario)
    assert lg[1] == ("ok", {"total": 17, "best": 16, "last": "node"})


def map_reduce(E, via="edge"):
    """plan -> 3 x Send("work") (from a conditional edge or a Command) -> done."""
    sends = [E.Send("work", {"log": [f"item{i}"]}) for i in range(3)]

    def plan(state):
        if via == "command":
            return E.Command(goto=sends, update={"log": ["plan"]})
        return {"log": ["plan"]}

    g = E.StateGraph(S)
    g.add_node("plan", plan)
    g.add_node("work", lambda arg: {"log": [arg["log"][0].upper()]})
    g.add_node("done", logger("done"))
    g.add_edge(E.START, "plan")
    if via == "edge":
        g.add_conditional_edges("plan", lambda state: sends, ["work"])
    g.add_edge("work", "done")
    return g.compile(checkpointer=saver(E))


@pytest.mark.parametrize("via", ["edge", "command"])
def test_send_map_reduce_under_checkpointing(via):
    def scenario(E):
        tx, app = Tx(), map_reduce(E, via)
        out = [tx.attempt(app.invoke, {"log": []}, thread("m"))]
        out.append(tx.attempt(app.invoke, {"log": ["again"]}, thread("m")))
        out.append(tx.history(app, thread("m")))
        return out

    lg = compare(scenario)
    assert lg[0] == ("ok", {"log": ["plan", "ITEM0", "ITEM1", "ITEM2", "done"]})


def test_send_tasks_in_snapshots():
    """The checkpoint before the map step lists the three pushed tasks (paths, results)."""

    def scenario(E):
        tx, app = Tx(), map_reduce(E)
        app.invoke({"log": []}, thread("m"))
        hist = list(app.get_state_history(thread("m")))
        return [tx(s.tasks) for s in hist]

    compare(scenario)


@pytest.mark.parametrize("mode", ["checkpoints", ["checkpoints", "updates"],
                                  ["values", "checkpoints"]],
                         ids=["checkpoints", "checkpoints+updates", "values+checkpoints"])
def test_checkpoints_stream(mode):
    def scenario(E):
        tx, app = Tx(), chain(E, "a", "b")
        first = tx.attempt(app.stream, {"log": ["1"]}, thread("c"), stream_mode=mode)
        second = tx.attempt(app.stream, {"log": ["2"]}, thread("c"), stream_mode=mode)
        return [first, second, tx.history(app, thread("c"))]

    compare(scenario)


def test_checkpoints_stream_map_reduce():
    def scenario(E):
        tx, app = Tx(), map_reduce(E)
        return tx.attempt(app.stream, {"log": []}, thread("c"), stream_mode="checkpoints")

    compare(scenario)


def test_async_api_matches():
    def scenario(E):
        tx, app = Tx(), chain(E, "a", "b")

        async def go():
            out = [tx(await app.ainvoke({"log": ["1"]}, thread("as")))]
            out.append(tx(await app.ainvoke({"log": ["2"]}, thread("as"))))
            out.append(tx(await app.aget_state(thread("as"))))
            out.append([tx.brief(s) async for s in app.aget_state_history(thread("as"))])
            out.append([tx(c) async for c in app.astream({"log": ["3"]}, thread("as"),
                                                          stream_mode="checkpoints")])
            return out

        return asyncio.run(go())

    compare(scenario)
