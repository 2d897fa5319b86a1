"""Node and task timeouts (LangGraph 1.2): ``add_node(..., timeout=...)``,
``TimeoutPolicy(run_timeout, idle_timeout, refresh_on)``, ``runtime.heartbeat()``,
``set_node_defaults``, ``@task(timeout=...)`` and ``@entrypoint(timeout=...)``.

Each case runs on both engines; errors compare by type, message (its ``elapsed``
masked: it is a measured time), the ``NodeTimeoutError`` fields and the notes.
Sleeps are a few tens of milliseconds against limits several times shorter or longer,
so a slow machine moves no outcome.
"""

from __future__ import annotations

import asyncio
import operator
import re
import time
from datetime import timedelta
from typing import Annotated, Any, TypedDict

import pytest
from conftest import divergence, run_both

LONG, SHORT = 0.4, 0.05  # a sleep that outlasts a limit, and the limit


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def one(E, fn, **kw):
    g = E.StateGraph(S)
    g.add_node("a", fn, **kw)
    g.add_edge(E.START, "a")
    return g.compile()


async def slow(state):
    await asyncio.sleep(LONG)
    return {"x": 2}


def outcome(o) -> tuple:
    """(value, error with its elapsed time masked, the NodeTimeoutError's fields)."""
    err = o.error and (o.error[0], re.sub(r"elapsed: [0-9.]+s", "elapsed: <t>s", o.error[1]), *o.error[2:])
    exc = o.exc
    fields = None
    if type(exc).__name__ == "NodeTimeoutError":
        fields = (exc.node, exc.kind, exc.timeout, exc.run_timeout, exc.idle_timeout, exc.elapsed > 0)
    return o.value, err, fields


def same(build, input=None, method="ainvoke", **kw) -> tuple:
    lg, sg = run_both(build, input, method, **kw)
    assert outcome(sg) == outcome(lg)
    return outcome(lg)


def quick(build, input) -> tuple:
    """:func:`same`, and neither engine waited for the sleep a timeout cut short (both
    imported first: the clock measures the runs alone)."""
    run_both(lambda E: (E.StateGraph, E.types.TimeoutPolicy), None, "build")
    t0 = time.perf_counter()
    out = same(build, input)
    assert time.perf_counter() - t0 < 2 * LONG
    return out


@pytest.mark.parametrize("limit", [SHORT, timedelta(seconds=SHORT), "policy"])
@pytest.mark.parametrize("method", ["ainvoke", "astream"])
def test_run_timeout_cancels_the_attempt(limit, method):
    def build(E):
        policy = E.types.TimeoutPolicy(run_timeout=SHORT) if limit == "policy" else limit
        return one(E, slow, timeout=policy)

    _, err, fields = quick(build, {"x": 0}) if method == "ainvoke" else same(build, {"x": 0}, method)
    assert err[0] == "NodeTimeoutError" and "run timeout of 0.050s" in err[1]
    assert fields == ("a", "run", SHORT, SHORT, None, True)


def test_timeout_attempts_are_retried_by_the_retry_policy():
    def build(E):
        calls = []

        async def first_slow(state):
            calls.append(1)
            if len(calls) == 1:
                await asyncio.sleep(LONG)
            return {"x": len(calls)}

        return one(E, first_slow, timeout=SHORT, retry_policy=E.RetryPolicy(initial_interval=0.01))

    assert same(build, {"x": 0}) == ({"x": 2, "log": []}, None, None)


def test_timeout_not_in_retry_on_is_not_retried():
    def build(E):
        return one(E, slow, timeout=SHORT, retry_policy=E.RetryPolicy(retry_on=ValueError))

    assert same(build, {"x": 0})[1][0] == "NodeTimeoutError"


def beating(E, beats: int, how: str):
    async def node(state, runtime: E.Runtime):
        writer = E.get_stream_writer()
        for i in range(beats):
            await asyncio.sleep(0.03)
            if how == "heartbeat":
                runtime.heartbeat()
            elif how == "writer":
                writer({"i": i})
        return {"x": beats}

    return node


@pytest.mark.parametrize(("how", "refresh_on"), [
    ("heartbeat", "auto"), ("heartbeat", "heartbeat"), ("writer", "auto"), ("writer", "heartbeat"),
    ("nothing", "auto"),
])
def test_idle_timeout_is_refreshed_by_progress(how, refresh_on):
    """Six 30 ms waits against a 120 ms idle limit: alive while it shows progress; a
    stream write counts only under refresh_on="auto"."""

    def build(E):
        policy = E.types.TimeoutPolicy(idle_timeout=0.12, refresh_on=refresh_on)
        return one(E, beating(E, 6, how), timeout=policy)

    value, err, fields = same(build, {"x": 0})
    alive = how == "heartbeat" or (how == "writer" and refresh_on == "auto")
    assert (value, err) == ({"x": 6, "log": []}, None) if alive else fields[:3] == ("a", "idle", 0.12)


def test_run_timeout_holds_however_much_progress():
    def build(E):
        policy = E.types.TimeoutPolicy(idle_timeout=0.12, run_timeout=0.1)
        return one(E, beating(E, 6, "heartbeat"), timeout=policy)

    assert same(build, {"x": 0})[2] == ("a", "run", 0.1, 0.1, 0.12, True)


def test_a_timeout_error_the_body_raises_passes_through():
    def build(E):
        async def node(state):
            raise TimeoutError("the API's own")

        return one(E, node, timeout=1)

    assert same(build, {"x": 0})[1][:2] == ("TimeoutError", "the API's own")


def test_timed_out_node_cancels_its_siblings():
    def build(E):
        async def sibling(state):
            await asyncio.sleep(LONG)
            return {"log": ["sibling"]}

        g = E.StateGraph(S)
        g.add_node("a", slow, timeout=SHORT)
        g.add_node("b", sibling)
        g.add_edge(E.START, "a")
        g.add_edge(E.START, "b")
        return g.compile()

    assert quick(build, {"x": 0})[2][:2] == ("a", "run")


def test_subgraph_node_timeout():
    def build(E):
        sub = E.StateGraph(S)
        sub.add_node("s", slow)
        sub.add_edge(E.START, "s")
        g = E.StateGraph(S)
        g.add_node("sub", sub.compile(), timeout=SHORT)
        g.add_edge(E.START, "sub")
        return g.compile()

    assert same(build, {"x": 0})[2][:2] == ("sub", "run")


@pytest.mark.parametrize("case", ["default", "override", "sync-node", "retry", "bad-value", "bad-refresh"])
def test_set_node_defaults_and_bad_policies(case):
    def build(E):
        calls = []

        def flaky(state):
            calls.append(1)
            if len(calls) < 2:
                raise ConnectionError("once")
            return {"log": ["ok"]}

        g = E.StateGraph(S)
        if case == "retry":
            g.set_node_defaults(retry_policy=E.RetryPolicy(initial_interval=0.001))
            g.add_node("a", flaky)
        elif case == "bad-value":
            g.add_node("a", slow, timeout=-1)
        elif case == "bad-refresh":
            g.add_node("a", slow, timeout=E.types.TimeoutPolicy(run_timeout=1, refresh_on="sometimes"))
        else:
            g.add_node("a", flaky if case == "sync-node" else slow, timeout=1 if case == "override" else None)
            g.set_node_defaults(timeout=SHORT)  # applies at compile: after add_node too
        g.add_edge(E.START, "a")
        return g.compile()

    value, err, fields = same(build, {"x": 0}, "invoke" if case in ("retry", "sync-node") else "ainvoke")
    expected = {
        "default": lambda: fields[:2] == ("a", "run"),
        "override": lambda: value == {"x": 2, "log": []},
        "sync-node": lambda: err[:2] == ("ValueError", (
            "Node timeouts are only supported for async nodes because sync Python execution "
            "cannot be safely cancelled in-process. Node 'a' is sync.")),
        "retry": lambda: value == {"x": 0, "log": ["ok"]},
        "bad-value": lambda: err[:2] == ("ValueError", "run_timeout must be greater than 0"),
        "bad-refresh": lambda: err[:2] == ("ValueError", "refresh_on must be 'auto' or 'heartbeat'"),
    }[case]
    assert expected()


# --- the Functional API


def func_api(E, case: str) -> Any:
    task, entrypoint = E.func.task, E.func.entrypoint
    policy = E.types.TimeoutPolicy

    if case == "sync-task":
        task(timeout=1)(lambda x: x)
    if case == "sync-entrypoint":
        def plain(x):
            return x

        entrypoint(timeout=1)(plain)

    @task(timeout=SHORT)
    async def slow_task(x):
        await asyncio.sleep(LONG)
        return x

    @task(timeout=policy(idle_timeout=0.12))
    async def child(x):
        await asyncio.sleep(0.03)
        return x

    @task(timeout=policy(idle_timeout=0.12))
    async def parent(x):  # five 30 ms calls: each call counts as progress
        return [await child(i) for i in range(5)]

    @entrypoint()
    async def slow_calls(x):
        return await slow_task(x)

    @entrypoint()
    async def progressing(x):
        return await parent(x)

    @entrypoint(timeout=SHORT)
    async def slow_entrypoint(x):
        await asyncio.sleep(LONG)
        return x

    return {"task": slow_calls, "progress": progressing, "entrypoint": slow_entrypoint}.get(case)


@pytest.mark.parametrize("case", ["task", "progress", "entrypoint", "sync-task", "sync-entrypoint"])
def test_functional_api_timeouts(case):
    def build(E):
        import importlib

        E.func = importlib.import_module(f"{E.package}.func")
        wf = func_api(E, case)
        return asyncio.run(wf.ainvoke(1))

    value, err, fields = same(build, None, "build")
    if case == "progress":
        assert value == [0, 1, 2, 3, 4]
    elif case.startswith("sync"):
        kind = "Task '<lambda>'" if case == "sync-task" else "Node 'plain'"
        assert err[:2] == ("ValueError", (
            "Node timeouts are only supported for async nodes because sync Python execution "
            f"cannot be safely cancelled in-process. {kind} is sync."))
    else:
        assert fields[:2] == ({"task": "slow_task", "entrypoint": "slow_entrypoint"}[case], "run")


# --- beyond LangGraph


@divergence
def test_async_node_timeout_under_invoke():
    """LangGraph's invoke() refuses a timed async node, calling it sync; swiftgraph runs
    async nodes under invoke(), and times this one."""
    lg, sg = run_both(lambda E: one(E, slow, timeout=SHORT), {"x": 0}, "invoke")
    assert lg.error[:2] == ("ValueError", (
        "Node timeouts are only supported for async nodes because sync Python execution "
        "cannot be safely cancelled in-process. Node 'a' is sync."))
    assert outcome(sg)[2][:2] == ("a", "run")
