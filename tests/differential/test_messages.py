"""``stream_mode="messages"``: chat model tokens and the messages nodes return, with
LangGraph's metadata, alone, mixed with other modes, and from subgraphs.

Models are langchain_core's fake chat models (a fresh one per build: they consume an
iterator). Ids of the messages are fixed where it matters; random ones (run ids, task
ids in namespaces) are normalized by the harness.
"""


import importlib
import operator
from typing import Annotated, TypedDict

import pytest

pytest.importorskip("langchain_core")

from conftest import check
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, HumanMessage

STREAMS = ["stream", "astream"]


def add_messages(E):
    return importlib.import_module(f"{E.package}.graph.message").add_messages


def state(E):
    class S(TypedDict):
        messages: Annotated[list, add_messages(E)]
        log: Annotated[list, operator.add]

    return S


def model(*texts, ids=None, tags=None):
    ids = ids or [f"ai-{i}" for i in range(len(texts))]
    m = GenericFakeChatModel(messages=iter([AIMessage(t, id=i) for t, i in zip(texts, ids)]))
    return m.with_config(tags=tags) if tags else m


def inp():
    return {"messages": [HumanMessage("hi", id="h-1")], "log": []}


def one_node(E, body, name="call"):
    g = E.StateGraph(state(E))
    g.add_node(name, body)
    g.add_edge(E.START, name)
    return g.compile()


# --------------------------------------------------------------------------- tokens
CALLS = ["invoke", "stream", "ainvoke", "astream"]
# async nodes run under the async API only (LangGraph's sync API refuses them)
METHOD_CALLS = [(m, h) for m in STREAMS for h in CALLS if m == "astream" or not h.startswith("a")]


def call_model(how, m, msgs, config):
    """A node body calling the model ``how`` (sync or async), with ``config`` or not."""
    args = (msgs, config) if config is not None else (msgs,)
    if how == "invoke":
        return lambda: m.invoke(*args)
    if how == "stream":
        def run():
            out = None
            for c in m.stream(*args):
                out = c if out is None else out + c
            return out
        return run
    if how == "ainvoke":
        return lambda: m.ainvoke(*args)

    async def arun():
        out = None
        async for c in m.astream(*args):
            out = c if out is None else out + c
        return out
    return arun


def model_graph(E, how, pass_config=True, tags=None, texts=("hello there friend",)):
    m = model(*texts, tags=tags)
    if how in ("invoke", "stream"):
        def call(s, config):
            return {"messages": [call_model(how, m, s["messages"], config if pass_config else None)()],
                    "log": [how]}
    else:
        async def call(s, config):
            return {"messages": [await call_model(how, m, s["messages"], config if pass_config else None)()],
                    "log": [how]}
    return one_node(E, call)


@pytest.mark.parametrize("method,how", METHOD_CALLS)
def test_model_called_with_config_streams_tokens(method, how):
    lg = check(lambda E: model_graph(E, how), inp(), method, stream_mode="messages")
    assert [c[0][2]["content"] for c in lg.value] == ["hello", " ", "there", " ", "friend"]
    assert lg.value[0][1]["langgraph_node"] == "call"


@pytest.mark.parametrize("method,how", METHOD_CALLS)
def test_model_called_without_config(method, how):
    """LangGraph sets langchain_core's context variable around each node: a model
    called without the node's config still streams (Python 3.11+ for async code)."""
    lg = check(lambda E: model_graph(E, how, pass_config=False), inp(), method,
               stream_mode="messages")
    assert len(lg.value) == 5


@pytest.mark.parametrize("method", STREAMS)
def test_model_called_with_get_config(method):
    def build(E):
        m = model("a b")

        def call(s):
            return {"messages": [m.invoke(s["messages"], E.get_config())]}
        return one_node(E, call)

    lg = check(build, inp(), method, stream_mode="messages")
    assert len(lg.value) == 3


@pytest.mark.parametrize("method", ["astream"])
def test_fake_list_model_without_ids(method):
    """Chunks of a model giving no ids get LangChain's run-based id (normalized)."""
    def build(E):
        m = FakeListChatModel(responses=["abc"])

        async def call(s, config):
            return {"messages": [await m.ainvoke(s["messages"], config)]}
        return one_node(E, call)

    lg = check(build, inp(), method, stream_mode="messages")
    assert len(lg.value) == 3


@pytest.mark.parametrize("method", STREAMS)
def test_nostream_tag(method):
    """A model tagged ``nostream`` streams no tokens; the node's returned message is
    still streamed when the node finishes."""
    lg = check(lambda E: model_graph(E, "invoke", tags=["nostream"]), inp(), method,
               stream_mode="messages")
    assert len(lg.value) == 1 and lg.value[0][0][2]["content"] == "hello there friend"


@pytest.mark.parametrize("method", STREAMS)
def test_tags_and_metadata_in_token_metadata(method):
    lg = check(lambda E: model_graph(E, "invoke", tags=["mine"]), inp(), method,
               stream_mode="messages",
               config={"tags": ["run-tag"], "metadata": {"user": "ada"},
                       "configurable": {"thread_id": "t-1", "model": "m1"}})
    meta = lg.value[0][1]
    assert set(meta["tags"]) == {"run-tag", "mine"} and meta["user"] == "ada" and meta["thread_id"] == "t-1"


# --------------------------------------------------------------------------- node outputs
def returning(E, kind):
    def a(s):
        if kind == "list":
            return {"messages": [AIMessage("one", id="m-1"), AIMessage("two", id="m-2")], "log": ["a"]}
        if kind == "single":
            return {"messages": AIMessage("single", id="m-1")}
        if kind == "no_id":
            return {"messages": [AIMessage("no id")]}
        if kind == "echo":  # the input message again, then a new one: only the new one
            return {"messages": [*s["messages"], AIMessage("new", id="m-3")]}
        if kind == "command":
            return E.Command(update={"messages": [AIMessage("by command", id="m-4")]}, goto="b")
        raise AssertionError(kind)

    def b(s):
        return {"messages": [AIMessage("from b", id="m-5"), AIMessage("one again", id="m-1")]}

    g = E.StateGraph(state(E))
    g.add_node("a", a, metadata={"team": "x"})
    g.add_node("b", b)
    g.add_edge(E.START, "a")
    if kind != "command":
        g.add_edge("a", "b")
    return g.compile()


@pytest.mark.parametrize("method", STREAMS)
@pytest.mark.parametrize("kind", ["list", "single", "no_id", "echo", "command"])
def test_node_returned_messages(method, kind):
    lg = check(lambda E: returning(E, kind), inp(), method, stream_mode="messages")
    assert lg.value and all(c[1]["langgraph_node"] in ("a", "b") for c in lg.value)


@pytest.mark.parametrize("method", STREAMS)
@pytest.mark.parametrize("modes", [["messages", "updates"], ["updates", "messages", "values"],
                                   ["messages", "custom"]])
def test_mixed_modes(method, modes):
    def build(E):
        m = model("x y")

        def call(s, config):
            E.get_stream_writer()("custom!")
            return {"messages": [m.invoke(s["messages"], config), AIMessage("extra", id="e-1")]}
        return one_node(E, call)

    lg = check(build, inp(), method, stream_mode=modes)
    assert ("messages" in {c[0] for c in lg.value})


@pytest.mark.parametrize("method", ["invoke", "ainvoke"])
def test_invoke_with_messages_mode(method):
    lg = check(lambda E: model_graph(E, "invoke"), inp(), method, stream_mode="messages")
    assert len(lg.value) == 5


@pytest.mark.parametrize("method", ["astream"])
def test_parallel_nodes(method):
    def build(E):
        ma, mb = model("a a", ids=["A"]), model("b b", ids=["B"])

        async def a(s, config):
            return {"messages": [await ma.ainvoke(s["messages"], config)]}

        async def b(s, config):
            return {"messages": [await mb.ainvoke(s["messages"], config), AIMessage("b2", id="B2")]}

        g = E.StateGraph(state(E))
        g.add_node("a", a)
        g.add_node("b", b)
        g.add_edge(E.START, "a")
        g.add_edge(E.START, "b")
        return g.compile()

    check(build, inp(), method, order="multiset", stream_mode="messages")


@pytest.mark.parametrize("method", STREAMS)
def test_with_checkpointer_and_thread(method):
    def build(E):
        saver = importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver()
        g = E.StateGraph(state(E))
        m = model("p q")
        g.add_node("call", lambda s, config: {"messages": [m.invoke(s["messages"], config)]})
        g.add_node("after", lambda s: {"messages": [AIMessage("after", id="af")]})
        g.add_edge(E.START, "call")
        g.add_edge("call", "after")
        return g.compile(checkpointer=saver)

    lg = check(build, inp(), method, stream_mode=["messages", "updates"],
               config={"configurable": {"thread_id": "t-9"}})
    assert all(c[1][1]["thread_id"] == "t-9" for c in lg.value if c[0] == "messages")


# --------------------------------------------------------------------------- subgraphs
def with_subgraph(E, how="ainvoke", pass_config=False):
    S = state(E)
    m = model("sub tokens")

    if how.startswith("a"):
        async def inner(s, config):
            out = await call_model(how, m, s["messages"], config if pass_config else None)()
            return {"messages": [out, AIMessage("extra", id="x-1")]}
    else:
        def inner(s, config):
            out = call_model(how, m, s["messages"], config if pass_config else None)()
            return {"messages": [out, AIMessage("extra", id="x-1")]}

    sg = E.StateGraph(S)
    sg.add_node("inner", inner, metadata={"level": "inner"})
    sg.add_edge(E.START, "inner")
    sub = sg.compile()

    def after(s):
        return {"messages": [AIMessage("after", id="af")]}

    g = E.StateGraph(S)
    g.add_node("child", sub, metadata={"level": "outer"})
    g.add_node("after", after)
    g.add_edge(E.START, "child")
    g.add_edge("child", "after")
    return g.compile()


@pytest.mark.parametrize("subgraphs", [True, False])
@pytest.mark.parametrize("method,how,pass_config", [
    ("astream", "ainvoke", False), ("astream", "astream", True), ("stream", "invoke", True),
    ("astream", "invoke", False), ("stream", "stream", False)])
def test_subgraph_messages(method, subgraphs, how, pass_config):
    lg = check(lambda E: with_subgraph(E, how, pass_config), inp(), method,
               stream_mode="messages", subgraphs=subgraphs,
               config={"tags": ["T"], "configurable": {"thread_id": "t"}})
    if subgraphs:
        assert {c[0] for c in lg.value} == {("child:<id>",), ()}
    else:
        assert [c[0][2]["content"] for c in lg.value] == ["sub tokens", "extra", "after"]


@pytest.mark.parametrize("method", STREAMS)
def test_subgraph_messages_mixed_modes(method):
    check(lambda E: with_subgraph(E, "invoke" if method == "stream" else "ainvoke"), inp(), method, stream_mode=["messages", "updates"],
          subgraphs=True)


@pytest.mark.parametrize("method", STREAMS)
def test_graph_invoked_inside_node(method):
    """A graph invoked from inside a node: its messages belong to the node's graph
    only through the node's output, unless ``subgraphs=True``."""
    def build(E):
        S = state(E)
        m = model("deep")
        sg = E.StateGraph(S)
        sg.add_node("inner", lambda s, config: {"messages": [m.invoke(s["messages"], config)]})
        sg.add_edge(E.START, "inner")
        sub = sg.compile()

        def call(s):
            return {"messages": sub.invoke(s)["messages"][-1:]}
        return one_node(E, call)

    for subgraphs in (False, True):
        check(build, inp(), method, stream_mode="messages", subgraphs=subgraphs)


# --------------------------------------------------------------------------- functional API
@pytest.mark.parametrize("method", STREAMS)
def test_entrypoint_and_task(method):
    def build(E):
        func = importlib.import_module(f"{E.package}.func")
        m = model("task tokens")

        @func.task
        def ask(msgs):
            return m.invoke(msgs)

        @func.task
        def note(text):
            return AIMessage(text, id="n-1")

        @func.entrypoint()
        def agent(msgs):
            first = ask(msgs).result()
            second = note("noted").result()
            return [first, second, AIMessage("final", id="f-1")]

        return agent

    check(build, [HumanMessage("hi", id="h-1")], method, stream_mode="messages")


@pytest.mark.parametrize("method", STREAMS)
def test_v2_parts(method):
    lg = check(lambda E: model_graph(E, "invoke"), inp(), method, version="v2",
               stream_mode=["messages", "updates"])
    assert lg.value[0]["type"] == "messages"


@pytest.mark.parametrize("method", STREAMS)
def test_remove_message_and_chunks_in_state(method):
    """A node streaming a model adds up chunks: add_messages stores the message they
    make; a RemoveMessage deletes one (neither is streamed as a new message)."""
    def build(E):
        from langchain_core.messages import RemoveMessage

        m = model("chunked reply")

        def call(s, config):
            out = None
            for c in m.stream(s["messages"], config):
                out = c if out is None else out + c
            return {"messages": [out]}

        def prune(s):
            return {"messages": [RemoveMessage(id="h-1")]}

        g = E.StateGraph(state(E))
        g.add_node("call", call)
        g.add_node("prune", prune)
        g.add_edge(E.START, "call")
        g.add_edge("call", "prune")
        return g.compile()

    lg = check(build, inp(), method, stream_mode=["messages", "values"])
    assert lg.value[-1][1]["messages"][0][1] == "AIMessage"
