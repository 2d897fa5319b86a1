"""Builder helpers, batch, config/get_config, Runtime/context, sync+async node mixes."""

import asyncio
import operator
from dataclasses import dataclass
from typing import Annotated, TypedDict

import pytest

from conftest import ALL_METHODS, LG, SG, check, divergence, run, run_both


class S(TypedDict):
    log: Annotated[list, operator.add]


def logger(name):
    def f(state):
        return {"log": [name]}

    f.__name__ = name
    return f


@pytest.mark.parametrize("method", ALL_METHODS)
def test_add_sequence_tuples_and_functions(method):
    def build(E):
        g = E.StateGraph(S)
        g.add_sequence([("first", logger("1")), logger("second"), ("third", logger("3"))])
        g.add_edge(E.START, "first")
        return g.compile()

    lg = check(build, {"log": []}, method)
    if method == "invoke":
        assert lg.value == {"log": ["1", "second", "3"]}


@divergence
def test_add_sequence_duplicate_name_error():
    def build(E):
        g = E.StateGraph(S)
        g.add_sequence([("x", logger("1")), ("x", logger("2"))])
        return g.compile()

    # Deliberate difference: swiftgraph's set-up errors are GraphDefinitionError, a
    # ValueError subclass, so `except ValueError` code behaves the same.
    lg, sg = run_both(build, None, "build")
    assert lg.error[0] == "ValueError"
    assert sg.error[0] == "GraphDefinitionError" and isinstance(sg.exc, ValueError)
    assert sg.error[1] == lg.error[1]


def test_entry_and_finish_point():
    def build(E):
        g = E.StateGraph(S)
        g.add_node("a", logger("a"))
        g.add_node("b", logger("b"))
        g.set_entry_point("a")
        g.add_edge("a", "b")
        g.set_finish_point("b")
        return g.compile()

    lg = check(build, {"log": []}, "invoke")
    assert lg.value == {"log": ["a", "b"]}
    check(build, {"log": []}, "stream", stream_mode="updates")


def test_builder_methods_chain():
    def build(E):
        g = E.StateGraph(S)
        out = g.add_node("a", logger("a"))
        assert out is g
        assert g.add_edge(E.START, "a") is g
        return g.compile()

    check(build, {"log": []}, "invoke")


def test_node_name_inferred_from_function():
    def build(E):
        g = E.StateGraph(S)
        g.add_node(logger("inferred"))
        g.add_edge(E.START, "inferred")
        return g.compile()

    lg = check(build, {"log": []}, "stream", stream_mode="updates")
    assert lg.value == [{"inferred": {"log": ["inferred"]}}]


def chain(E):
    g = E.StateGraph(S)
    g.add_node("a", lambda s: {"log": [len(s["log"])]})
    g.add_edge(E.START, "a")
    return g.compile()


@pytest.mark.parametrize("method", ["batch", "abatch"])
def test_batch(method):
    lg = check(chain, [{"log": []}, {"log": ["x", "y"]}, {"log": ["z"]}], method)
    assert lg.value == [{"log": [0]}, {"log": ["x", "y", 2]}, {"log": ["z", 1]}]


@pytest.mark.parametrize("method", ["batch", "abatch"])
def test_batch_error_and_return_exceptions(method):
    lg = check(chain, [{"log": []}, None], method)
    assert lg.error[0] == "EmptyInputError"
    lg = check(chain, [{"log": []}, None], method, return_exceptions=True)
    assert lg.value[1][1] == "EmptyInputError"


def config_probe(E, seen):
    def a(state, config):
        cfg = E.get_config()
        seen.append({
            "same": cfg["configurable"] == config["configurable"],
            "user": {k: v for k, v in config["configurable"].items() if k in ("user", "n")},
            "tags": config.get("tags"),
            "meta": {k: config["metadata"].get(k) for k in ("m", "langgraph_node",
                                                             "langgraph_step")},
            "limit": config.get("recursion_limit"),
        })
        return {"log": ["a"]}

    g = E.StateGraph(S)
    g.add_node("a", a)
    g.add_edge(E.START, "a")
    return g.compile()


@pytest.mark.parametrize("method", ALL_METHODS)
def test_config_reaches_nodes(method):
    seen = {LG.label: [], SG.label: []}
    cfg = {"configurable": {"user": "u1", "n": 3}, "tags": ["t"], "metadata": {"m": 1},
           "recursion_limit": 7}
    check(lambda E: config_probe(E, seen[E.label]), {"log": []}, method, config=cfg)
    assert seen[SG.label] == seen[LG.label]
    assert seen[LG.label][0]["user"] == {"user": "u1", "n": 3}


@dataclass
class Ctx:
    user: str
    level: int = 1


def ctx_graph(E, seen):
    def a(state, runtime: E.Runtime[Ctx]):
        seen.append(runtime.context)
        return {"log": [f"a:{runtime.context.user if runtime.context else None}"]}

    async def b(state, runtime: E.Runtime[Ctx]):
        seen.append(runtime.context)
        return {"log": ["b"]}

    g = E.StateGraph(S, context_schema=Ctx)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(E.START, "a")
    g.add_edge("a", "b")
    return g.compile()


@pytest.mark.parametrize("method", ["ainvoke", "astream"])
@pytest.mark.parametrize("ctx", [Ctx("bob", 2), {"user": "dict"}, None])
def test_runtime_context(method, ctx):
    seen = {LG.label: [], SG.label: []}
    lg = check(lambda E: ctx_graph(E, seen[E.label]), {"log": []}, method, context=ctx)
    assert lg.ok
    assert seen[SG.label] == seen[LG.label]  # dict context is coerced to the dataclass


def test_runtime_context_sync_invoke():
    seen = {LG.label: [], SG.label: []}

    def build(E):
        g = E.StateGraph(S, context_schema=Ctx)
        g.add_node("a", lambda s, runtime: seen[E.label].append(runtime.context) or {})
        g.add_edge(E.START, "a")
        return g.compile()

    check(build, {"log": []}, "invoke", context=Ctx("sync"))
    assert seen[SG.label] == seen[LG.label] == [Ctx("sync")]


@pytest.mark.parametrize("method", ["ainvoke", "astream"])
def test_mixed_sync_async_nodes(method):
    def build(E):
        async def slow(state):
            await asyncio.sleep(0.01)
            return {"log": ["async"]}

        g = E.StateGraph(S)
        g.add_node("sync", logger("sync"))
        g.add_node("async", slow)
        g.add_node("end", logger("end"))
        g.add_edge(E.START, "sync")
        g.add_edge(E.START, "async")
        g.add_edge(["sync", "async"], "end")
        return g.compile()

    lg = check(build, {"log": []}, method, order="steps",
               **({"stream_mode": ["updates", "values"]} if method == "astream" else {}))
    if method == "ainvoke":
        assert lg.value == {"log": ["async", "sync", "end"]}  # merged in node-name order


@divergence
def test_async_node_under_sync_invoke_error():
    def build(E):
        async def a(state):
            return {"log": ["a"]}

        g = E.StateGraph(S)
        g.add_node("a", a)
        g.add_edge(E.START, "a")
        return g.compile()

    # Deliberate difference: LangGraph's invoke() refuses async nodes; swiftgraph runs them.
    lg, sg = run_both(build, {"log": []}, "invoke")
    assert lg.error[0] == "TypeError"
    assert sg.error is None and sg.value == {"log": ["a"]}


def test_sync_invoke_inside_running_event_loop():
    """e.g. Jupyter / sync helper called from async code."""

    async def main(E):
        return run(E, chain, {"log": []}, "invoke")

    lg, sg = asyncio.run(main(LG)), asyncio.run(main(SG))
    assert sg.error == lg.error and sg.value == lg.value == {"log": [0]}


@pytest.mark.parametrize("method", ["invoke", "stream", "batch"])
def test_plain_body_may_run_its_own_event_loop(method):
    """A plain node body (and routing function) that calls ``asyncio.run()``, as sync
    code wrapping an async client does, sees no running loop under the sync API, as
    under LangGraph. swiftgraph ran a lone one on its loop's thread, where
    ``asyncio.run()`` raised "cannot be called from a running event loop"."""

    async def fetch(name):
        await asyncio.sleep(0)
        return name

    def build(E):
        def a(state):
            return {"log": [asyncio.run(fetch("a"))]}

        def route(state):
            return asyncio.run(fetch("b"))

        def b(state):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return {"log": ["b: no running loop"]}
            return {"log": ["b: a running loop"]}

        g = E.StateGraph(S)
        g.add_node("a", a)
        g.add_node("b", b)
        g.add_edge(E.START, "a")
        g.add_conditional_edges("a", route, ["b"])
        return g.compile()

    inputs = [{"log": []}, {"log": ["x"]}] if method == "batch" else {"log": []}
    lg = check(build, inputs, method)
    assert lg.ok


@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream"])
@pytest.mark.parametrize("asynchronous", [False, True], ids=["plain", "async"])
def test_retry_policy_covers_the_routing_function(method, asynchronous):
    """A routing function that fails reruns its node under the node's retry policy, as
    in LangGraph, where a task is its body and its routing (swiftgraph retried only
    the body, so the first failure of the routing function ended the run)."""
    calls = {}

    def build(E):
        counts = calls.setdefault(E.label, {"node": 0, "route": 0})

        def node(state):
            counts["node"] += 1
            return {"log": [f"node {counts['node']}"]}

        def flaky(state):
            counts["route"] += 1
            if counts["route"] < 3:
                raise ConnectionError(f"route attempt {counts['route']}")
            return E.END

        async def flaky_async(state):
            return flaky(state)

        g = E.StateGraph(S)
        policy = E.RetryPolicy(max_attempts=3, initial_interval=0.001, jitter=False)
        g.add_node("node", node, retry_policy=policy)
        g.add_edge(E.START, "node")
        g.add_conditional_edges("node", flaky_async if asynchronous else flaky, [E.END])
        return g.compile()

    if asynchronous and method != "ainvoke":
        return  # LangGraph's sync API refuses async path functions
    lg = check(build, {"log": []}, method)
    assert lg.ok
    assert calls["langgraph"] == calls["swiftgraph"] == {"node": 3, "route": 3}


def test_retry_policy():
    def build(E):
        calls = {"n": 0}

        def flaky(state):
            calls["n"] += 1
            if calls["n"] < 3:
                raise ConnectionError(f"attempt {calls['n']}")
            return {"log": [calls["n"]]}

        g = E.StateGraph(S)
        g.add_node("flaky", flaky, retry_policy=E.RetryPolicy(max_attempts=3,
                                                              initial_interval=0.001,
                                                              jitter=False))
        g.add_edge(E.START, "flaky")
        return g.compile()

    lg = check(build, {"log": []}, "invoke")
    assert lg.value == {"log": [3]}


def test_retry_policy_exhausted():
    def build(E):
        def bad(state):
            raise ConnectionError("down")

        g = E.StateGraph(S)
        g.add_node("bad", bad, retry_policy=E.RetryPolicy(max_attempts=2, initial_interval=0.001,
                                                             jitter=False))
        g.add_edge(E.START, "bad")
        return g.compile()

    lg = check(build, {"log": []}, "invoke")
    assert lg.error[:2] == ("ConnectionError", "down")


_VAR = __import__("contextvars").ContextVar("swiftgraph_test_var", default="unset")


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("routed", [False, True], ids=["edge", "routed"])
def test_context_variables_set_by_a_node_stay_in_its_task(method, asynchronous, routed):
    """Each task runs in a copy of the context, as in LangGraph: a context variable a
    node sets (without resetting it) is seen neither by the next node nor, after the
    run, by the caller. swiftgraph ran lone nodes in the run's own context, which
    under ainvoke is the caller's."""

    def build(E):
        if asynchronous:
            async def first(state):
                _VAR.set("first")
                return {"log": [f"first sees {_VAR.get()}"]}

            async def second(state):
                return {"log": [f"second sees {_VAR.get()}"]}
        else:
            def first(state):
                _VAR.set("first")
                return {"log": [f"first sees {_VAR.get()}"]}

            def second(state):
                return {"log": [f"second sees {_VAR.get()}"]}

        def route(state):
            return "second" if _VAR.get() == "unset" else "leaked"

        g = E.StateGraph(S)
        g.add_node("first", first)
        g.add_node("second", second)
        g.add_node("leaked", logger("leaked"))
        g.add_edge(E.START, "first")
        if routed:  # the routing function doesn't see it either
            g.add_conditional_edges("first", route, ["second", "leaked"])
        else:
            g.add_edge("first", "second")
        return g.compile()

    if asynchronous and method in ("invoke", "stream"):
        return  # LangGraph's sync API refuses async nodes

    async def awaited(graph):  # in the awaiting task's own context, as a caller's
        if method == "ainvoke":
            return await graph.ainvoke({"log": []}), _VAR.get()
        return [c async for c in graph.astream({"log": []})], _VAR.get()

    def observe(E):
        """What the run returns, and the variable as the caller sees it afterwards."""
        token = _VAR.set("caller")
        try:
            graph = build(E)
            if method == "invoke":
                return graph.invoke({"log": []}), _VAR.get()
            if method == "stream":
                return list(graph.stream({"log": []})), _VAR.get()
            return asyncio.run(awaited(graph))
        finally:
            _VAR.reset(token)

    lg, sg = observe(LG), observe(SG)
    assert sg == lg
    assert lg[1] == "caller"


# --- get_subgraphs, batch_as_completed, aget_graph, nodes


def nested(E):
    class T(TypedDict, total=False):
        x: int

    def bump(state):
        return {"x": state.get("x", 0) + 1}

    inner = E.StateGraph(T)
    inner.add_node("inner", bump)
    inner.add_edge(E.START, "inner")
    middle = E.StateGraph(T)
    middle.add_node("deep", inner.compile())
    middle.add_edge(E.START, "deep")
    invoked = middle.compile()

    def calls_a_graph(state):  # a graph invoked inside a node counts as its subgraph
        return invoked.invoke(state)

    g = E.StateGraph(T)
    g.add_node("a", bump)
    g.add_node("child", middle.compile())
    g.add_node("caller", calls_a_graph)
    g.add_edge(E.START, "a")
    g.add_edge("a", "child")
    g.add_edge("child", "caller")
    return g.compile()


@pytest.mark.parametrize("kw", [
    {}, {"recurse": True}, {"namespace": "child"}, {"namespace": "child|deep"},
    {"namespace": "child|deep", "recurse": True}, {"namespace": "nope", "recurse": True},
    {"namespace": "caller|deep", "recurse": True},
])
def test_get_subgraphs(kw):
    def build(E):
        app = nested(E)

        async def collect():
            return [(n, type(s).__name__) async for n, s in app.aget_subgraphs(**kw)]

        return [(n, type(s).__name__) for n, s in app.get_subgraphs(**kw)], asyncio.run(collect())

    lg = check(build, None, "build")
    assert lg.value[0] == lg.value[1]


@pytest.mark.parametrize("fail", [False, True])
def test_batch_as_completed(fail):
    def build(E):
        app = nested(E)
        inputs = [{"x": 1}, {"x": "bad"} if fail else {"x": 5}, {"x": 9}]

        async def collect():
            return sorted(
                [(i, repr(v)) async for i, v in app.abatch_as_completed(inputs, return_exceptions=True)]
            )

        sync = sorted((i, repr(v)) for i, v in app.batch_as_completed(inputs, return_exceptions=True))
        return sync, asyncio.run(collect()), list(app.batch_as_completed([]))

    check(build, None, "build")


def test_batch_as_completed_raises_without_return_exceptions():
    def build(E):
        return sorted(nested(E).batch_as_completed([{"x": 1}, {"x": "bad"}]))

    assert check(build, None, "build").error[0] == "TypeError"


def test_nodes_and_aget_graph():
    def build(E):
        app = nested(E)
        drawn = asyncio.run(app.aget_graph()).draw_mermaid()
        return list(app.nodes), drawn == app.get_graph().draw_mermaid()

    assert check(build, None, "build").value == (["__start__", "a", "child", "caller"], True)


@pytest.mark.parametrize("checkpointed", [False, True])
def test_runtime_execution_info(checkpointed):
    """runtime.execution_info: attempt numbers under a retry policy (the first's start
    time kept), thread and run ids from the config, the task's namespace and id, and
    the checkpoint its step started from."""
    import importlib

    def build(E):
        seen = []

        def flaky(state, runtime: E.Runtime):
            seen.append(runtime.execution_info)
            if runtime.execution_info.node_attempt < 3:
                raise ConnectionError("again")
            return {"x": 1}

        def reads(state):
            seen.append(importlib.import_module(f"{E.package}.runtime").get_runtime().execution_info)
            return {"x": 2}

        class T(TypedDict, total=False):
            x: int

        g = E.StateGraph(T)
        g.add_node("a", flaky, retry_policy=E.RetryPolicy(initial_interval=0.001))
        g.add_node("b", reads)
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        saver = importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver() if checkpointed else None
        app = g.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "th"}, "run_id": "5f3e0a3e-0000-0000-0000-000000000000"}
        app.invoke({"x": 0}, config)
        step_checkpoints = (
            {s.metadata["step"]: s.config["configurable"]["checkpoint_id"] for s in app.get_state_history(config)}
            if checkpointed else {}
        )
        return [
            (e.node_attempt, e.thread_id, e.run_id, e.checkpoint_ns == f"{e.checkpoint_ns.split(':')[0]}:{e.task_id}",
             e.checkpoint_ns.split(":")[0], e.node_first_attempt_time == seen[0].node_first_attempt_time,
             e.checkpoint_id in step_checkpoints.values() if checkpointed else bool(e.checkpoint_id))
            for e in seen
        ]

    lg = check(build, None, "build")
    assert [row[0] for row in lg.value] == [1, 2, 3, 1]
    assert all(row[3] and row[6] for row in lg.value)
