"""Pending writes: when one task of a superstep fails, the finished siblings' writes are
kept and ``invoke(None)`` reruns only the failed task (calls counted per node); with
each durability mode, streamed, async, and as ``get_state`` shows the failed step.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import divergence, run_both
from durability_kit import S, Tx, compare, logger, saver, steps, thread


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


def started_sibling_graph(E, calls, flag, sibling_is_async=False):
    """START -> (a, b, c): b is plain and slow; a fails once b is running; c is quick."""

    def a(state):
        calls.append("a")
        if flag["fail"]:
            after(calls, "b", 0.0)  # b is in its worker thread (or awaiting) now
            raise RuntimeError("a fails")
        return {"log": ["a"]}

    def b(state):
        calls.append("b")
        time.sleep(0.1)
        return {"log": ["b"]}

    async def b_async(state):
        calls.append("b")
        await asyncio.sleep(0.1)
        return {"log": ["b"]}

    g = E.StateGraph(S)
    g.add_node("a", a)
    g.add_node("b", b_async if sibling_is_async else b)
    g.add_node("c", logger("c", calls))
    for n in "abc":
        g.add_edge(E.START, n)
    return g.compile(checkpointer=saver(E))


@pytest.mark.parametrize("api", ["invoke", "stream"])
@pytest.mark.parametrize("durability", ["sync", "async"])
def test_sync_api_keeps_a_running_plain_siblings_writes(api, durability):
    """Under invoke()/stream(), a plain sibling still running in its worker thread when
    a node fails can't be stopped: as LangGraph, the step waits for it and saves its
    writes, so resuming runs only the failed node (b's side effects happen once)."""

    def scenario(E):
        tx, calls, flag = Tx(), [], {"fail": True}
        app, cfg = started_sibling_graph(E, calls, flag), thread(f"{api}-{durability}")
        call = app.invoke if api == "invoke" else (lambda *a, **k: list(app.stream(*a, **k)))
        kw = {"durability": durability}
        if api == "stream":
            kw["stream_mode"] = "updates"
        first = tx.attempt(call, {"log": []}, cfg, **kw)
        out = [first if api == "invoke" else first[:2], tx.state(app, cfg), sorted(calls)]
        flag["fail"], calls[:] = False, []
        out += [tx.attempt(app.invoke, None, cfg, durability=durability), sorted(calls)]
        return out + [tx.history(app, cfg)]

    lg = compare(scenario)
    assert lg[2] == ["a", "b", "c"] and lg[4] == ["a"]


@pytest.mark.parametrize("sibling", ["async", "plain"])
def test_async_api_stops_a_running_sibling(sibling):
    """Under ainvoke() the step doesn't wait: the sibling is cancelled (its snapshot
    shows CancelledError(), not a failure of its own), and runs again on resume (as in
    LangGraph)."""

    def scenario(E):
        tx, calls, flag = Tx(strict=True), [], {"fail": True}
        app = started_sibling_graph(E, calls, flag, sibling_is_async=sibling == "async")
        cfg = thread(f"async-stop-{sibling}")

        async def go():
            try:
                await app.ainvoke({"log": []}, cfg)
            except RuntimeError as e:
                first = str(e)
            snap = tx(await app.aget_state(cfg))
            flag["fail"], before = False, sorted(calls)
            calls[:] = []
            return [first, snap, before, tx(await app.ainvoke(None, cfg)), sorted(calls)]

        return asyncio.run(go())

    lg = compare(scenario)
    assert lg[4] == ["a", "b"]


@pytest.mark.parametrize("api", ["invoke", "stream", "ainvoke"])
def test_subgraph_resumes_where_it_failed(api):
    """child: s1 -> s2, and s2 fails once. Resuming reruns the parent's child task,
    and the subgraph carries on from its own checkpoint: s1 doesn't run again (its
    write isn't applied twice), as in LangGraph."""

    def scenario(E):
        tx, calls, flag = Tx(), [], {"fail": True}

        def s2(state):
            calls.append("s2")
            if flag["fail"]:
                raise RuntimeError("s2 fails")
            return {"log": ["s2"]}

        g = E.StateGraph(S)
        g.add_node("child", steps(E, ("s1", logger("s1", calls)), ("s2", s2)))
        g.add_node("p", logger("p", calls))
        g.add_edge(E.START, "child")
        g.add_edge("child", "p")
        app, cfg = g.compile(checkpointer=saver(E)), thread(f"sub-{api}")

        def call(arg):
            return tx.run(api, app, arg, cfg, stream_mode="updates", subgraphs=True)

        out = [call({"log": []}), tx.state(app, cfg), list(calls)]
        flag["fail"], calls[:] = False, []
        return out + [call(None), list(calls), tx.history(app, cfg)]

    lg = compare(scenario)
    assert lg[4] == ["s2", "p"]
