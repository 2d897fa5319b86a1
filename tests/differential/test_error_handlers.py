"""Node error handlers (LangGraph 1.2): ``add_node(..., error_handler=...)`` and
``set_node_defaults(error_handler=...)``. A node that fails (its retries spent) has
its handler run in the same step, with the node's input and a ``NodeError``; what
the handler returns takes the node's place in the step's writes. Compared on both
engines: outputs, streams, errors (with their notes), histories and drawings.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

import pytest
from conftest import check
from durability_kit import Tx, compare, saver, thread


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def log(name):
    return lambda state: {"log": [name]}


def failing(state):
    raise ValueError("boom")


async def failing_async(state):
    raise ValueError("boom")


def handlers(E):
    NodeError = E.errors.NodeError

    def note(state, error: NodeError):
        return {"log": [f"handled {error.node}: {error.error!r}"]}

    def goto_b(state, error: NodeError):
        return E.Command(goto="b", update={"log": ["recovered"]})

    def fails(state, error: NodeError):
        raise KeyError("the handler broke too")

    async def note_async(state, error: NodeError):
        return {"log": [f"async {error.node}"]}

    def no_error_param(state):
        return {"log": ["without the error"]}

    return {"note": note, "goto": goto_b, "fails": fails, "async": note_async, "plain": no_error_param}


def graph(E, handler: str, *, node=failing, default=False, checkpointer=None, retry=None):
    """START -> (a, c); a -> b. ``a`` fails; ``handler`` handles it."""
    h = handlers(E)[handler]
    g = E.StateGraph(S)
    if default:
        g.set_node_defaults(error_handler=h)
        g.add_node("a", node, retry_policy=retry)
    else:
        g.add_node("a", node, error_handler=h, retry_policy=retry)
    g.add_node("b", log("b"))
    g.add_node("c", log("c"))
    g.add_edge(E.START, "a")
    g.add_edge(E.START, "c")
    g.add_edge("a", "b")
    return g.compile(checkpointer=checkpointer)


@pytest.mark.parametrize("handler", ["note", "goto", "fails", "plain"])
@pytest.mark.parametrize("method", ["invoke", "stream", "ainvoke", "astream"])
def test_handler_takes_the_failed_nodes_place(handler, method):
    """Its writes apply where a's would (before c's); b runs only if it routes there."""
    kw = {"stream_mode": ["updates", "values"]} if method.endswith("stream") else {}
    order = "steps" if kw else "exact"
    lg = check(lambda E: graph(E, handler), {"log": []}, method, order=order, **kw)
    if method == "invoke" and handler == "note":
        assert lg.value == {"log": ["handled a: ValueError('boom')", "c"]}
    if method == "invoke" and handler == "goto":
        assert lg.value == {"log": ["recovered", "c", "b"]}
    if handler == "fails":
        assert lg.error[0] == "KeyError"


@pytest.mark.parametrize("mode", ["tasks", "debug"])
def test_task_events_show_the_failure_then_the_handler(mode):
    check(lambda E: graph(E, "note"), {"log": []}, "stream", order="steps", stream_mode=mode)


def test_async_node_and_handler():
    check(lambda E: graph(E, "async", node=failing_async), {"log": []}, "ainvoke")


def test_retries_are_spent_before_the_handler_runs():
    def build(E):
        calls = []

        def flaky(state):
            calls.append(1)
            raise ConnectionError("down")

        app = graph(E, "note", node=flaky, retry=E.RetryPolicy(max_attempts=3, initial_interval=0.001))
        return app.invoke({"log": []}), len(calls)

    assert check(build, None, "build").value == ({"log": ["handled a: ConnectionError('down')", "c"]}, 3)


def test_default_error_handler_and_drawing():
    def build(E):
        app = graph(E, "note", default=True)
        drawing = app.get_graph().draw_mermaid()
        return app.invoke({"log": []}), list(app.get_graph().nodes), drawing

    lg = check(build, None, "build")
    assert lg.value[1][-2:] == ["__default_error_handler__", "__end__"]


def test_own_handler_is_drawn_before_its_node():
    lg = check(lambda E: list(graph(E, "note").get_graph().nodes), None, "build")
    assert lg.value == ["__start__", "__error_handler__a", "a", "b", "c", "__end__"]


def test_interrupts_are_not_errors_to_handle():
    def build(E):
        def asks(state):
            return {"log": [E.types.interrupt("may I?")]}

        g = E.StateGraph(S)
        g.add_node("a", asks, error_handler=handlers(E)["note"])
        g.add_edge(E.START, "a")
        app, cfg = g.compile(checkpointer=saver(E)), thread("int")
        first = app.invoke({"log": []}, cfg)
        return [i.value for i in first["__interrupt__"]], app.invoke(E.Command(resume="yes"), cfg)

    assert check(build, None, "build").value == (["may I?"], {"log": ["yes"]})


@pytest.mark.parametrize("handler", ["note", "fails"])
def test_checkpointed_history_and_resume(handler):
    """The step's checkpoint shows a's error; the next, the handler's writes applied.
    A failed handler fails the run; resuming runs a (and its handler) again."""

    def scenario(E):
        tx = Tx()
        app, cfg = graph(E, handler, checkpointer=saver(E)), thread(f"h-{handler}")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        out += [tx.attempt(app.invoke, None, cfg), tx.history(app, cfg)]
        return out

    compare(scenario)


def test_error_handler_setup_errors():
    def build(E):
        out = []
        g = E.StateGraph(S)
        g.add_node("__error_handler__a", log("x"))
        try:
            g.add_node("a", failing, error_handler=handlers(E)["note"])
        except ValueError as e:
            out.append(str(e))
        g = E.StateGraph(S)
        g.add_node("__default_error_handler__", log("x"))
        g.add_edge(E.START, "__default_error_handler__")
        g.set_node_defaults(error_handler=handlers(E)["note"])
        try:
            g.compile()
        except ValueError as e:
            out.append(str(e))
        return out

    assert len(check(build, None, "build").value) == 2


def test_async_error_handler_run_is_awaited():
    """(The async API with an async handler for a plain node.)"""

    def build(E):
        return asyncio.run(graph(E, "async").ainvoke({"log": []}))

    assert check(build, None, "build").value == {"log": ["async a", "c"]}
