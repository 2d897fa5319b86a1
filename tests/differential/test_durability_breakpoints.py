"""Streams of interrupted and resumed runs (``__interrupt__`` chunks in every stream
mode) and breakpoints: ``interrupt_before``/``interrupt_after`` at compile time and per
call, resumed with ``invoke(None)``/``stream(None)``; swiftgraph vs LangGraph.
"""

from __future__ import annotations

import pytest
from conftest import LG, SG, divergence
from durability_kit import S, Tx, chain, compare, interrupt_graph, logger, saver, steps, thread

MODES = {"updates": "updates", "values": "values", "updates+values": ["updates", "values"],
         "tasks": "tasks", "debug": "debug", "checkpoints": "checkpoints"}


@pytest.mark.parametrize("layout, mode", [
    pytest.param(layout, mode, id=f"{layout}-{mode}")
    for layout in ("line", "sibling") for mode in MODES
])
def test_interrupt_in_streams(layout, mode):
    mode = MODES[mode]

    def scenario(E):
        tx, calls = Tx(), []
        app, cfg = interrupt_graph(E, calls, layout=layout), thread("st")
        out = [tx.attempt(app.stream, {"log": []}, cfg, stream_mode=mode)]
        out.append(tx.attempt(app.stream, E.Command(resume="ok"), cfg, stream_mode=mode))
        if layout == "sibling":  # b and c run together: LangGraph streams them in any order
            out = [(o[0], sorted(map(repr, o[1]))) if o[0] == "ok" else o for o in out]
        return out

    compare(scenario)


BREAKS = {
    "compile-before": ({"interrupt_before": ["b"]}, {}),
    "compile-after": ({"interrupt_after": ["a"]}, {}),
    "compile-both": ({"interrupt_before": ["c"], "interrupt_after": ["a"]}, {}),
    "compile-all": ({"interrupt_before": "*"}, {}),
    "call-before": ({}, {"interrupt_before": ["b"]}),
    "call-after": ({}, {"interrupt_after": ["b"]}),
    "call-over-compile": ({"interrupt_before": ["b"]}, {"interrupt_before": ["c"]}),
}


@pytest.mark.parametrize("case", list(BREAKS))
@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_breakpoints_then_resume_with_none(case, method):
    compile_kw, call_kw = BREAKS[case]

    def scenario(E):
        tx, app, cfg = Tx(), chain(E, "a", "b", "c", **compile_kw), thread("bp")
        kw = dict(call_kw, **({"stream_mode": ["updates", "values"]} if method == "stream" else {}))
        run = getattr(app, method)
        out = [tx.attempt(run, {"log": []}, cfg, **kw), tx.state(app, cfg)]
        for _ in range(3):  # resume until the thread is done
            if app.get_state(cfg).next:
                out += [tx.attempt(run, None, cfg, **kw), tx.state(app, cfg)]
        return out + [tx.history(app, cfg)]

    compare(scenario)


def test_breakpoint_in_parallel_step():
    def scenario(E):
        tx, calls = Tx(), []
        g = E.StateGraph(S)
        for n in "abcd":
            g.add_node(n, logger(n, calls))
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        g.add_edge("a", "c")
        g.add_edge(["b", "c"], "d")
        app, cfg = g.compile(checkpointer=saver(E), interrupt_after=["b"]), thread("pp")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        out += [tx.attempt(app.invoke, None, cfg), tx.state(app, cfg)]
        return out + [sorted(calls)]

    compare(scenario)


def test_task_order():
    def scenario(E):
        tx = Tx()
        g = E.StateGraph(S)
        g.add_node("a", logger("a"))
        for n in ("zed", "mid", "alpha"):
            g.add_node(n, logger(n))
        g.add_edge(E.START, "a")
        for n in ("mid", "alpha", "zed"):
            g.add_edge("a", n)
        app, cfg = g.compile(checkpointer=saver(E), interrupt_before=["mid"]), thread("o")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        return out + [tx.attempt(app.invoke, None, cfg), tx.history(app, cfg)]

    lg = compare(scenario)
    assert lg[1][1]["next"] == ("zed", "mid", "alpha")


def deferred_join(E, **compile_kw):
    """a -> b -> c -> d and a -> d, d deferred (it runs once, after c): a join the
    graph reaches by going quiet rather than by a barrier."""
    g = E.StateGraph(S)
    for n in ("a", "b", "c", "d"):
        g.add_node(n, logger(n), defer=n == "d")
    g.add_edge(E.START, "a")
    for src, dst in (("a", "b"), ("b", "c"), ("a", "d"), ("c", "d")):
        g.add_edge(src, dst)
    g.add_edge("d", E.END)
    return g.compile(checkpointer=saver(E), **compile_kw)


@pytest.mark.parametrize("breaks", [
    {"interrupt_before": ["d"]},
    {"interrupt_after": ["c"]},
    {"interrupt_before": "*"},
])
def test_breakpoint_at_a_deferred_node_keeps_it_pending(breaks):
    """The checkpoint taken when a deferred node is due must keep its trigger: the
    snapshot shows it next, and resuming runs it (swiftgraph once lost it)."""

    def scenario(E):
        tx, app, cfg = Tx(), deferred_join(E, **breaks), thread("dj")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        for _ in range(6):  # resume until the thread is done
            if app.get_state(cfg).next:
                out += [tx.attempt(app.invoke, None, cfg), tx.state(app, cfg)]
        return out + [tx.history(app, cfg)]

    compare(scenario)


def join_also_reached_by_an_edge(E, **compile_kw):
    """START -> n1 -> n3, START -> n2, and the join [n1, n3] -> n2: n2 runs in step 1
    (from START) and again once n3 has written (the join)."""
    g = E.StateGraph(S)
    for n in ("n1", "n2", "n3"):
        g.add_node(n, logger(n))
    g.add_edge(E.START, "n1")
    g.add_edge(E.START, "n2")
    g.add_edge("n1", "n3")
    g.add_edge(["n1", "n3"], "n2")
    g.add_edge("n2", E.END)
    return g.compile(checkpointer=saver(E), **compile_kw)


@divergence
def test_join_target_reached_by_an_edge_in_history_and_replay():
    """A deliberate difference (README, "Known differences"). Run through, both engines
    log n1, n2, n3, n2. Afterwards LangGraph's history shows step 1 with n2 next as
    well as n3 (the join isn't complete there), and a replay from that checkpoint
    never runs the join: it ends with n1, n2, n3. swiftgraph's history shows what ran
    next (n3), and a replay gives what the run gave. (Paused by a breakpoint after n1
    instead, LangGraph agrees: n3 next, and resuming logs n1, n2, n3, n2.)"""

    def outcome(E):
        app, cfg = join_also_reached_by_an_edge(E), thread("j")
        done = app.invoke({"log": []}, cfg)
        step1 = next(s for s in app.get_state_history(cfg) if s.metadata["step"] == 1)
        return done, step1.next, app.invoke(None, step1.config)

    lg, sg = outcome(LG), outcome(SG)
    assert lg[0] == sg[0] == {"log": ["n1", "n2", "n3", "n2"]}
    assert lg[1:] == (("n2", "n3"), {"log": ["n1", "n2", "n3"]})
    assert sg[1:] == (("n3",), {"log": ["n1", "n2", "n3", "n2"]})


def test_breakpoint_after_a_join_source_also_reached_by_an_edge():
    def scenario(E):
        tx = Tx()
        app, cfg = join_also_reached_by_an_edge(E, interrupt_after=["n1"]), thread("j")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        out += [tx.attempt(app.invoke, None, cfg), tx.state(app, cfg)]
        return out + [tx.history(app, cfg)]

    compare(scenario)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_subgraph_compiled_with_a_breakpoint_pauses_the_parent(when, method):
    """A subgraph compiled with interrupt_before/after=["s2"] (or ["s1"]): run as a node
    of a checkpointed graph, it stops there and so does the parent (an empty interrupt,
    the sibling a's writes kept); resuming carries the subgraph on from its checkpoint."""

    def scenario(E):
        tx, calls = Tx(), []
        inner = steps(E, ("s1", logger("s1", calls)), ("s2", logger("s2", calls)),
                      **{f"interrupt_{when}": ["s2" if when == "before" else "s1"]})
        g = E.StateGraph(S)
        g.add_node("a", logger("a", calls))
        g.add_node("child", inner)
        g.add_node("b", logger("b", calls))
        g.add_edge(E.START, "a")
        g.add_edge(E.START, "child")
        g.add_edge("child", "b")
        app, cfg = g.compile(checkpointer=saver(E)), thread(f"sub-{when}-{method}")

        def call(arg):
            return tx.run(method, app, arg, cfg, stream_mode=["updates", "values"])

        out = [call({"log": []}), tx(app.get_state(cfg, subgraphs=True)), sorted(calls)]
        calls[:] = []
        return out + [call(None), sorted(calls), tx.history(app, cfg)]

    lg = compare(scenario)
    assert lg[4] == ["b", "s2"]


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_sync_api_keeps_a_subgraph_siblings_writes(method):
    """X and Y are subgraphs side by side; X fails in its second node. Under the sync
    API Y runs to its end and its writes are kept (LangGraph runs it in a thread it
    can't stop), so resuming reruns only X, from its own checkpoint."""

    def scenario(E):
        import time

        tx, calls, flag = Tx(), [], {"fail": True}

        def x2(state):
            calls.append("x2")
            if flag["fail"]:
                deadline = time.monotonic() + 2
                while "y2" not in calls and time.monotonic() < deadline:  # Y is in its y2 now
                    time.sleep(0.001)
                raise RuntimeError("x2 fails")
            return {"log": ["x2"]}

        def y2(state):
            calls.append("y2")
            time.sleep(0.1)
            return {"log": ["y2"]}

        g = E.StateGraph(S)
        g.add_node("X", steps(E, ("x1", logger("x1", calls)), ("second", x2)))
        g.add_node("Y", steps(E, ("y1", logger("y1", calls)), ("second", y2)))
        g.add_edge(E.START, "X")
        g.add_edge(E.START, "Y")
        app, cfg = g.compile(checkpointer=saver(E)), thread(f"xy-{method}")
        call = app.invoke if method == "invoke" else (lambda *a, **k: list(app.stream(*a, **k)))
        out = [tx.attempt(call, {"log": []}, cfg)[:2], tx.state(app, cfg), sorted(calls)]
        flag["fail"], calls[:] = False, []
        return out + [tx.attempt(app.invoke, None, cfg), sorted(calls)]

    lg = compare(scenario)
    assert lg[4] == ["x2"]
