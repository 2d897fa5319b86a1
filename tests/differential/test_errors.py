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


# --- a node raising asyncio.CancelledError itself; NodeInterrupt (deprecated)


def cancelling(E, body: str, layout: str):
    import asyncio
    import time

    async def node_async(state):
        raise asyncio.CancelledError()

    def node_sync(state):
        raise asyncio.CancelledError()

    async def sibling(state):
        await asyncio.sleep(0.05)
        return {"n": 1}

    def sibling_sync(state):
        time.sleep(0.05)
        return {"n": 1}

    g = E.StateGraph(S)
    g.add_node("a", node_async if body == "async" else node_sync)
    g.add_edge(E.START, "a")
    if layout == "sibling":
        g.add_node("b", sibling if body == "async" else sibling_sync)
        g.add_edge(E.START, "b")
    return g.compile()


@pytest.mark.parametrize(("body", "method", "layout"), [
    (body, method, layout)
    for body, method in [("sync", "invoke"), ("sync", "stream"), ("sync", "ainvoke"),
                         ("async", "ainvoke"), ("async", "astream")]
    for layout in ("alone", "sibling")
])
def test_node_raising_cancelled_error_fails_the_run(body, method, layout):
    """A CancelledError out of a node's own body is that node's failure,
    ``NodeCancelledError``, not the run being cancelled."""
    lg = check(lambda E: cancelling(E, body, layout), {"n": 0}, method)
    assert lg.error[:2] == ("NodeCancelledError", "Node 'a' raised asyncio.CancelledError")


def test_cancelling_the_caller_still_cancels_the_run():
    """The caller's own cancellation is not a node's failure: ``CancelledError`` as ever."""
    import asyncio

    def build(E):
        async def slow(state):
            await asyncio.sleep(5)
            return {"n": 1}

        g = E.StateGraph(S)
        g.add_node("a", slow)
        g.add_edge(E.START, "a")
        app = g.compile()

        async def go():
            task = asyncio.ensure_future(app.ainvoke({"n": 0}))
            await asyncio.sleep(0.05)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return "cancelled"
            return "finished"

        return asyncio.run(go())

    assert check(build, None, "build").value == "cancelled"


def test_node_interrupt_pauses_and_reruns_the_node():
    import importlib
    import warnings

    def build(E):
        errors = importlib.import_module(f"{E.package}.errors")
        saver = importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver()

        def guarded(state):
            if state["n"] < 5:
                raise errors.NodeInterrupt(f"n={state['n']} is too small")
            return {"n": state["n"] * 2}

        g = E.StateGraph(S)
        g.add_node("a", guarded)
        g.add_edge(E.START, "a")
        app, cfg = g.compile(checkpointer=saver), {"configurable": {"thread_id": "ni"}}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = app.invoke({"n": 1}, cfg)
        snap = app.get_state(cfg)
        app.update_state(cfg, {"n": 7})
        return [first["n"], [(i.value, i.id) for i in first["__interrupt__"]], snap.next,
                [(i.value, i.id) for i in snap.interrupts], app.invoke(None, cfg),
                [type(w.message).__mro__[-3].__name__ for w in caught]]

    lg = check(build, None, "build")
    assert lg.value[:5] == [1, [("n=1 is too small", "placeholder-id")], ("a",),
                            [("n=1 is too small", "placeholder-id")], {"n": 14}]


@pytest.mark.parametrize("where", ["task", "entrypoint"])
def test_functional_api_cancelled_error_is_a_failure(where):
    import asyncio
    import importlib

    def build(E):
        func = importlib.import_module(f"{E.package}.func")

        @func.task
        async def call(x):
            raise asyncio.CancelledError()

        @func.entrypoint()
        async def workflow(x):
            if where == "entrypoint":
                raise asyncio.CancelledError()
            return await call(x)

        return asyncio.run(workflow.ainvoke(1))

    lg = check(build, None, "build")
    assert lg.error[:2] == ("NodeCancelledError", f"Node '{'call' if where == 'task' else 'workflow'}' raised asyncio.CancelledError")
