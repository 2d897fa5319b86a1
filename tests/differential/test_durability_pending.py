"""Pending writes: when one task of a superstep fails, the finished siblings' writes are
kept and ``invoke(None)`` reruns only the failed task (calls counted per node); with
each durability mode, streamed, async, and as ``get_state`` shows the failed step.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import divergence, run_both
from durability_kit import S, Tx, compare, logger, saver, thread


def after(calls: list, name: str, pause: float) -> None:
    """Wait (at most 2 s) until node ``name`` has run, then ``pause`` for its writes to land."""
    deadline = time.monotonic() + 2
    while name not in calls and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(pause)


def flaky_graph(E, calls, flag):
    """a -> (fine, flaky, slow) -> j; ``flaky`` raises while ``flag['fail']``.

    LangGraph cancels tasks still running when one fails and keeps the writes of the
    others in finishing order, so the step is sequenced: fine, then slow, then flaky
    fails.  (Names sort in insertion order: task order is pinned by test_task_order.)"""

    def slow(state):
        calls.append("slow")
        after(calls, "fine", 0.01)
        return {"log": ["slow"]}

    def flaky(state):
        calls.append("flaky")
        if flag["fail"]:
            after(calls, "slow", 0.05)
            raise RuntimeError("transient")
        return {"log": ["flaky"]}

    g = E.StateGraph(S)
    g.add_node("a", logger("a", calls))
    g.add_node("fine", logger("fine", calls))
    g.add_node("flaky", flaky)
    g.add_node("slow", slow)
    g.add_node("j", logger("j", calls))
    g.add_edge(E.START, "a")
    for n in ("fine", "flaky", "slow"):
        g.add_edge("a", n)
    g.add_edge(["fine", "flaky", "slow"], "j")
    return g.compile(checkpointer=saver(E))


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_failed_task_resumes_alone(durability):
    def scenario(E):
        tx, calls, flag = Tx(), [], {"fail": True}
        app, cfg = flaky_graph(E, calls, flag), thread("pw")
        out = [tx.attempt(app.invoke, {"log": []}, cfg, durability=durability),
               tx.state(app, cfg), sorted(calls)]
        flag["fail"], calls[:] = False, []
        out += [tx.attempt(app.invoke, None, cfg, durability=durability), sorted(calls)]
        return out + [tx.state(app, cfg), tx.history(app, cfg)]

    lg = compare(scenario)
    if durability != "exit":
        assert lg[3] == ("ok", {"log": ["a", "fine", "flaky", "slow", "j"]})
        assert lg[4] == ["flaky", "j"]


def test_failed_task_resume_stream():
    def scenario(E):
        tx, calls, flag = Tx(), [], {"fail": True}
        app, cfg = flaky_graph(E, calls, flag), thread("ps")
        out = [tx.attempt(app.stream, {"log": []}, cfg, stream_mode="updates")]
        flag["fail"] = False
        resumed = list(app.stream(None, cfg, stream_mode="updates"))
        out.append(sorted(map(repr, tx(resumed[:-1]))) + [tx(resumed[-1])])  # 1 step, any order
        return out + [sorted(calls)]

    compare(scenario)


def test_failed_task_async_resume():
    def scenario(E):
        tx, calls, flag = Tx(), [], {"fail": True}
        app, cfg = flaky_graph(E, calls, flag), thread("pa")

        async def go():
            out = []
            for _ in range(2):
                try:
                    out.append(("ok", tx(await app.ainvoke({"log": []} if not out else None, cfg))))
                except Exception as e:  # noqa: BLE001
                    out.append(("raised", type(e).__name__, str(e)))
                flag["fail"] = False
                out.append(tx(await app.aget_state(cfg)))
            return out + [sorted(calls)]

        return asyncio.run(go())

    compare(scenario)


def test_failed_task_error_in_snapshot():
    def scenario(E):
        tx, calls, flag = Tx(strict=True), [], {"fail": True}
        app, cfg = flaky_graph(E, calls, flag), thread("pe")
        return [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]

    compare(scenario)


@divergence
def test_routing_function_that_raises_reruns_its_node_on_resume():
    """a -> router (raises once) -> b. Deliberate: LangGraph saves a's writes without
    its route, so the snapshot shows them applied with nothing next, and resuming ends
    the run without b. swiftgraph saves the error alone, as for a failing body: a and
    its router rerun on resume, and b runs."""

    def scenario(E):
        tx, calls, fail = Tx(), [], [True]

        def route(state):
            calls.append("route")
            if fail.pop() if fail else False:
                raise ValueError("no route yet")
            return "b"

        g = E.StateGraph(S)
        g.add_node("a", logger("a", calls))
        g.add_node("b", logger("b", calls))
        g.add_edge(E.START, "a")
        g.add_conditional_edges("a", route, ["b", E.END])
        app, cfg = g.compile(checkpointer=saver(E)), thread("route-error")
        out = [tx.attempt(app.invoke, {"log": []}, cfg)]
        snap = app.get_state(cfg)
        out += [(snap.values, snap.next), tx.attempt(app.invoke, None, cfg)]
        return out + [calls]

    lg, sg = run_both(scenario, None, "build")
    assert lg.error is None and sg.error is None
    assert lg.value[0] == sg.value[0] == ("raised", "ValueError", "no route yet")
    assert lg.value[1:] == [({"log": ["a"]}, ()), ("ok", {"log": ["a"]}), ["a", "route"]]
    assert sg.value[1:] == [
        ({"log": []}, ("a",)), ("ok", {"log": ["a", "b"]}), ["a", "route", "a", "route", "b"],
    ]
