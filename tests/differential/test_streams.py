"""Stream modes: values, updates, custom, debug, tasks, lists of modes, v2 parts."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

import pytest

from conftest import ALL_METHODS, LG, SG, check, divergence


class S(TypedDict):
    log: Annotated[list, operator.add]
    last: str


def seq(E, *, asynchronous=False, parallel=False):
    """a -> b -> c (or a -> {b, c} when parallel); nodes emit custom events."""

    def mk(name):
        if asynchronous:
            async def f(state: S):
                E.get_stream_writer()({"node": name, "seen": len(state["log"])})
                await asyncio.sleep(0)
                return {"log": [name], "last": name} if not parallel else {"log": [name]}
        else:
            def f(state: S):
                E.get_stream_writer()({"node": name, "seen": len(state["log"])})
                return {"log": [name], "last": name} if not parallel else {"log": [name]}
        return f

    g = E.StateGraph(S)
    for n in "abc":
        g.add_node(n, mk(n))
    g.add_edge(E.START, "a")
    g.add_edge("a", "b")
    g.add_edge("a" if parallel else "b", "c")
    return g.compile()


INP = {"log": [], "last": ""}
MODES = ["values", "updates", "custom", "debug", "tasks"]


@pytest.mark.parametrize("method", ["stream", "astream"])
@pytest.mark.parametrize("mode", MODES)
def test_single_mode_sequential(method, mode):
    lg = check(lambda E: seq(E, asynchronous=method == "astream"), INP, method, stream_mode=mode)
    assert lg.ok and lg.value


@pytest.mark.parametrize("method", ["stream", "astream"])
@pytest.mark.parametrize("mode", ["debug", "tasks"])
def test_single_mode_parallel(method, mode):
    check(lambda E: seq(E, asynchronous=method == "astream", parallel=True), INP, method,
          order="steps", stream_mode=mode)


def test_values_stream_content():
    lg = check(seq, INP, "stream", stream_mode="values")
    assert lg.value == [INP, {"log": ["a"], "last": "a"}, {"log": ["a", "b"], "last": "b"},
                        {"log": ["a", "b", "c"], "last": "c"}]


def test_updates_stream_content():
    lg = check(seq, INP, "stream", stream_mode="updates")
    assert lg.value[0] == {"a": {"log": ["a"], "last": "a"}}


def test_custom_stream_content():
    lg = check(seq, INP, "stream", stream_mode="custom")
    assert lg.value == [{"node": "a", "seen": 0}, {"node": "b", "seen": 1},
                        {"node": "c", "seen": 2}]


def test_default_stream_mode():
    lg = check(seq, INP, "stream")
    assert lg.value[0] == {"a": {"log": ["a"], "last": "a"}}


@pytest.mark.parametrize("method", ["stream", "astream"])
@pytest.mark.parametrize("modes", [["values", "updates"], ["updates", "custom"],
                                   ["custom", "values", "updates"], ["debug", "values"],
                                   ["tasks", "updates"], ["values"]])
def test_list_of_modes(method, modes):
    lg = check(lambda E: seq(E, asynchronous=method == "astream"), INP, method,
               stream_mode=modes)
    assert all(isinstance(c, tuple) and c[0] in modes for c in lg.value)


@pytest.mark.parametrize("method", ["stream", "astream"])
def test_list_of_modes_parallel(method):
    check(lambda E: seq(E, asynchronous=method == "astream", parallel=True), INP, method,
          order="steps", stream_mode=["values", "updates", "custom"])


@pytest.mark.parametrize("method", ["stream", "astream"])
def test_runtime_stream_writer(method):
    def build(E):
        def a(state: S, runtime: E.Runtime):
            runtime.stream_writer({"via": "runtime"})
            runtime.stream_writer("text chunk")
            return {"log": ["a"]}

        g = E.StateGraph(S)
        g.add_node("a", a)
        g.add_edge(E.START, "a")
        return g.compile()

    lg = check(build, INP, method, stream_mode=["custom", "updates"])
    assert lg.value[:2] == [("custom", {"via": "runtime"}), ("custom", "text chunk")]


def test_stream_writer_noop_without_custom_mode():
    lg = check(seq, INP, "invoke")
    assert lg.value["log"] == ["a", "b", "c"]
    check(seq, INP, "stream", stream_mode="values")


def test_stream_error_midway_keeps_earlier_chunks():
    def build(E):
        g = E.StateGraph(S)
        g.add_node("a", lambda s: {"log": ["a"]})
        g.add_node("b", lambda s: 1 / 0)
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        return g.compile()

    for mode in ["values", "updates", "debug", "tasks", ["updates", "values"]]:
        lg = check(build, INP, "stream", stream_mode=mode)
        assert lg.error[0] == "ZeroDivisionError" and lg.value


def test_tasks_stream_error_payload():
    def build(E):
        g = E.StateGraph(S)
        g.add_node("a", lambda s: 1 / 0)
        g.add_edge(E.START, "a")
        return g.compile()

    check(build, INP, "stream", stream_mode="tasks")
    check(build, INP, "stream", stream_mode="debug")


@pytest.mark.parametrize("method", ALL_METHODS)
def test_v2_parts(method):
    kwargs = {"stream_mode": ["updates", "custom"]} if "stream" in method else {}
    lg = check(seq, INP, method, version="v2", **kwargs)
    assert lg.ok


def test_invoke_with_stream_mode_updates():
    lg = check(seq, INP, "invoke", stream_mode="updates")
    assert isinstance(lg.value, list) and len(lg.value) == 3


def test_node_with_config_and_writer_params():
    def build(E):
        def a(state: S, config, writer):
            writer({"tag": config["configurable"].get("tag")})
            return {"log": ["a"]}

        g = E.StateGraph(S)
        g.add_node("a", a)
        g.add_edge(E.START, "a")
        return g.compile()

    lg = check(build, INP, "stream", stream_mode="custom", config={"configurable": {"tag": 7}})
    assert lg.value == [{"tag": 7}]


@divergence
@pytest.mark.parametrize("mode", ["nope", ["values", "nope"]])
def test_unknown_stream_mode(mode):
    """Deliberate: LangGraph streams nothing for a mode it doesn't know (a typo runs the
    graph and shows nothing); swiftgraph refuses it before running, naming the modes."""
    chunks = list(seq(LG).stream({"log": []}, stream_mode=mode))
    if mode == "nope":
        assert chunks == []
    else:  # the modes it knows, as if the unknown one weren't there
        assert chunks and {m for m, _ in chunks} == {"values"}
    with pytest.raises(ValueError, match="Unknown stream_mode 'nope'; choose from .*'updates'"):
        list(seq(SG).stream({"log": []}, stream_mode=mode))


# --- print_mode= and debug=True: chunks printed to stdout, for debugging


def printing(E, case: str, method: str):
    import contextlib
    import io

    sub = E.StateGraph(S)
    sub.add_node("inner", lambda s: {"log": ["inner"]})
    sub.add_edge(E.START, "inner")
    g = E.StateGraph(S)
    g.add_node("a", lambda s: {"log": ["a"]})
    g.add_node("child", sub.compile())
    g.add_edge(E.START, "a")
    g.add_edge("a", "child")
    app = g.compile(debug=case == "compile-debug")
    kw = {
        "print-updates": {"print_mode": "updates"},
        "print-list": {"print_mode": ["values", "custom"], "stream_mode": "updates"},
        "debug": {"debug": True},
        "subgraphs": {"print_mode": "updates", "subgraphs": True},
        "compile-debug": {},
    }[case]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if method == "invoke":
            kw.pop("subgraphs", None)
            result = app.invoke({"log": []}, **kw)
        elif method == "stream":
            result = list(app.stream({"log": []}, **kw))
        else:
            async def consume():
                return [c async for c in app.astream({"log": []}, **kw)]

            result = asyncio.run(consume())
    return result, [line for line in out.getvalue().splitlines() if line]


@pytest.mark.parametrize("case", ["print-updates", "print-list", "debug", "subgraphs", "compile-debug"])
@pytest.mark.parametrize("method", ["invoke", "stream", "astream"])
def test_print_mode_prints_chunks_as_langgraph(case, method):
    lg = check(lambda E: printing(E, case, method), None, "build")
    result, printed = lg.value
    assert printed and all(line.startswith("\x1b[1m[") for line in printed)


@pytest.mark.parametrize("method", ["invoke", "stream", "ainvoke", "astream"])
def test_version_v2_keeps_interrupts_apart_from_values(method):
    """version="v2": a values part's ``interrupts`` field and ``GraphOutput.interrupts``
    hold the interrupts; ``data`` / ``value`` hold the state alone."""
    import importlib

    def build(E):
        saver = importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver()

        def ask(state):
            return {"log": [E.types.interrupt("ok?")]}

        g = E.StateGraph(S)
        g.add_node("a", lambda s: {"log": ["a"]})
        g.add_node("q", ask)
        g.add_edge(E.START, "a")
        g.add_edge("a", "q")
        app, cfg = g.compile(checkpointer=saver), {"configurable": {"thread_id": method}}

        def shown(interrupts):
            return [(type(interrupts).__name__, [i.value for i in interrupts])]

        if method.endswith("invoke"):
            call = app.invoke if method == "invoke" else (lambda *a, **k: asyncio.run(app.ainvoke(*a, **k)))
            first, then = call({"log": []}, cfg, version="v2"), call(E.Command(resume="y"), cfg, version="v2")
            import warnings

            with warnings.catch_warnings(record=True) as caught:  # the deprecated dict access
                warnings.simplefilter("always")
                old_style = (first["log"], "__interrupt__" in first, "__interrupt__" in then,
                             [i.value for i in first["__interrupt__"]])
            deprecated = all(issubclass(w.category, DeprecationWarning) for w in caught) and len(caught) == 4
            return [(type(o).__name__, o.value, shown(o.interrupts)) for o in (first, then)] + [old_style, deprecated]

        async def collect():
            return [p async for p in app.astream({"log": []}, cfg, stream_mode=["values", "updates"], version="v2")]

        parts = list(app.stream({"log": []}, cfg, stream_mode=["values", "updates"], version="v2")) \
            if method == "stream" else asyncio.run(collect())
        return [(p["type"], p["data"] if p["type"] == "values" else sorted(p["data"]), shown(p.get("interrupts", ())))
                for p in parts]

    check(build, None, "build")
