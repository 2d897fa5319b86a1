"""Node and task caching (``compile(cache=...)``, ``CachePolicy``): swiftgraph vs LangGraph.

A cache matters across runs, so each test is a *scenario*: ``scenario(E)`` builds a
cached graph on engine ``E``, runs it several times, and returns a record of what it
saw: outputs, stream chunks (with LangGraph's ``'__metadata__': {'cached': True}`` on
hits) and ``calls``, the bodies that actually ran. :func:`same` runs the scenario on
both engines and compares the records (normalized as in ``conftest``, dict key order
included). Cache keys are hashes (xxh3 of a pickle there, blake2b of typed JSON here),
so records never contain them; namespaces are the same on both and tests use them.
"""

from __future__ import annotations

import asyncio
import importlib
import operator
import time
from typing import Annotated, TypedDict

import pytest
from conftest import LG, SG, divergence, normalize

METHODS = ["invoke", "ainvoke", "stream", "astream"]
NS = "__pregel_ns_writes"


def F(E):
    return importlib.import_module(f"{E.package}.func")


def memory_cache(E):
    return importlib.import_module(f"{E.package}.cache.memory").InMemoryCache()


def sqlite_cache(E, path):
    return importlib.import_module(f"{E.package}.cache.sqlite").SqliteCache(path=str(path))


def same(scenario, *args):
    """Run ``scenario(E, *args)`` on both engines; their records must be equal."""
    lg = normalize(scenario(LG, *args))
    sg = normalize(scenario(SG, *args))
    assert sg == lg, f"record mismatch\n  langgraph : {lg!r}\n  swiftgraph: {sg!r}"
    assert repr(sg) == repr(lg), f"key order differs\n  langgraph : {lg!r}\n  swiftgraph: {sg!r}"
    return lg


def go(graph, input, method="stream", **kw):
    """One run: the output (invoke) or the list of chunks (stream; updates by default)."""
    if method == "invoke":
        return graph.invoke(input, **kw)
    if method == "ainvoke":
        return asyncio.run(graph.ainvoke(input, **kw))
    kw.setdefault("stream_mode", "updates")
    if method == "stream":
        return list(graph.stream(input, **kw))

    async def collect():
        return [c async for c in graph.astream(input, **kw)]

    return asyncio.run(collect())


# --------------------------------------------------------------------------- graphs
class S(TypedDict, total=False):
    q: str
    n: int
    out: str


def chain(E, calls, cache, policy=None, policy_b=None):
    """fetch (cached) -> finish; each body notes its call in ``calls``."""

    def fetch(s):
        calls.append(("fetch", s["q"], s.get("n")))
        return {"out": s["q"].upper(), "n": s.get("n", 0) + 1}

    def finish(s):
        calls.append(("finish", s["q"]))
        return {"out": s["out"] + "!"}

    g = E.StateGraph(S)
    g.add_node("fetch", fetch, cache_policy=policy if policy is not None else E.CachePolicy())
    g.add_node("finish", finish, cache_policy=policy_b)
    g.add_edge(E.START, "fetch")
    g.add_edge("fetch", "finish")
    g.add_edge("finish", E.END)
    return g.compile(cache=cache)


# --------------------------------------------------------------------------- Graph API
@pytest.mark.parametrize("method", METHODS)
def test_node_hit_on_second_run(method):
    def scenario(E):
        calls = []
        graph = chain(E, calls, memory_cache(E))
        first = go(graph, {"q": "a", "n": 0}, method)
        second = go(graph, {"q": "a", "n": 0}, method)
        return {"first": first, "second": second, "calls": calls}

    rec = same(scenario)
    assert rec["calls"] == [("fetch", "a", 0), ("finish", "a"), ("finish", "a")]
    if method.endswith("stream"):
        assert rec["second"][0] == {"fetch": {"out": "A", "n": 1}, "__metadata__": {"cached": True}}


def test_different_input_misses():
    def scenario(E):
        calls = []
        graph = chain(E, calls, memory_cache(E))
        runs = [go(graph, {"q": q, "n": 0}) for q in ("a", "b", "a", "b")]
        runs.append(go(graph, {"q": "a", "n": 5}))  # any part of the input counts
        return {"runs": runs, "calls": [c for c in calls if c[0] == "fetch"]}

    rec = same(scenario)
    assert rec["calls"] == [("fetch", "a", 0), ("fetch", "b", 0), ("fetch", "a", 5)]


@pytest.mark.parametrize("returns", ["str", "bytes"])
def test_custom_key_func(returns):
    """A key on ``q`` alone: another ``n`` still hits, and gets the saved writes."""

    def key(s):
        return s["q"] if returns == "str" else s["q"].encode()

    def scenario(E):
        calls = []
        graph = chain(E, calls, memory_cache(E), policy=E.CachePolicy(key_func=key))
        runs = [go(graph, {"q": "a", "n": n}, "invoke") for n in (0, 7, 9)]
        runs.append(go(graph, {"q": "b", "n": 9}, "invoke"))
        return {"runs": runs, "calls": [c for c in calls if c[0] == "fetch"]}

    rec = same(scenario)
    assert rec["calls"] == [("fetch", "a", 0), ("fetch", "b", 9)]
    assert rec["runs"][1] == {"q": "a", "n": 1, "out": "A!"}  # n=1: the cached write


def test_ttl_expiry():
    def scenario(E):
        calls = []
        graph = chain(E, calls, memory_cache(E), policy=E.CachePolicy(ttl=1))
        runs = [go(graph, {"q": "a", "n": 0}), go(graph, {"q": "a", "n": 0})]
        time.sleep(1.1)
        runs.append(go(graph, {"q": "a", "n": 0}))  # expired: runs again
        runs.append(go(graph, {"q": "a", "n": 0}))  # and is cached again
        return {"runs": runs, "fetches": sum(c[0] == "fetch" for c in calls)}

    rec = same(scenario)
    assert rec["fetches"] == 2
    assert [("__metadata__" in r[0]) for r in rec["runs"]] == [False, True, False, True]


def test_per_node_namespaces_and_clear():
    """Two cached nodes; clear one node's namespace, then all, then via clear_cache."""

    def scenario(E):
        calls = []
        cache = memory_cache(E)
        graph = chain(E, calls, cache, policy_b=E.CachePolicy())
        inp = {"q": "a", "n": 0}
        rec = {"warm": go(graph, inp), "hit": go(graph, inp)}
        ns = (NS, "test_per_node_namespaces_and_clear.<locals>.scenario.<locals>.x", "finish")
        cache.clear([ns])  # not the node's namespace (wrong function name): nothing happens
        rec["other_ns"] = go(graph, inp)
        cache.clear([(NS, finish_ns(graph, E), "finish")])
        rec["one_cleared"] = go(graph, inp)
        cache.clear()
        rec["all_cleared"] = go(graph, inp)
        graph.clear_cache(["fetch"])
        rec["clear_cache_fetch"] = go(graph, inp)
        graph.clear_cache()
        rec["clear_cache_all"] = go(graph, inp)
        asyncio.run(graph.aclear_cache())
        rec["aclear_cache"] = go(graph, inp)
        rec["calls"] = calls
        return rec

    rec = same(scenario)
    assert rec["one_cleared"] == [
        {"fetch": {"out": "A", "n": 1}, "__metadata__": {"cached": True}},
        {"finish": {"out": "A!"}},
    ]


def finish_ns(graph, E):
    """The function part of the ``finish`` node's namespace: module.qualname."""
    return f"{__name__}.chain.<locals>.finish"


def test_cache_policy_without_cache_is_ignored():
    def scenario(E):
        calls = []
        graph = chain(E, calls, None)
        runs = [go(graph, {"q": "a", "n": 0}) for _ in range(2)]
        try:
            graph.clear_cache()
            error = None
        except ValueError as exc:
            error = str(exc)
        return {"runs": runs, "calls": calls, "clear_cache": error}

    rec = same(scenario)
    assert len(rec["calls"]) == 4
    assert rec["clear_cache"] == "No cache is set for this graph. Cannot clear cache."


class L(TypedDict, total=False):
    k: int
    log: Annotated[list, operator.add]


def test_sends_and_routing_come_from_the_cache():
    """A hit's writes include its conditional edge's routing: the path function and the
    fanned-out nodes (cached by a key_func on part of their input) don't run again."""

    def scenario(E):
        calls = []

        def plan(s):
            calls.append("plan")
            return {"log": ["plan"]}

        def route(s):
            calls.append("route")
            return [E.Send("work", i) for i in range(s["k"])]

        def work(i):
            calls.append(("work", i))
            return {"log": [f"w{i}"]}

        g = E.StateGraph(L)
        g.add_node("plan", plan, cache_policy=E.CachePolicy())
        g.add_node("work", work, cache_policy=E.CachePolicy())
        g.add_edge(E.START, "plan")
        g.add_conditional_edges("plan", route, ["work"])
        graph = g.compile(cache=memory_cache(E))
        first = go(graph, {"k": 3}, "invoke")
        second = go(graph, {"k": 3}, "stream")
        third = go(graph, {"k": 4}, "invoke")  # plan misses; work 0-2 hit, 3 runs
        return {"first": first, "second": second, "third": third, "calls": calls}

    rec = same(scenario)
    assert rec["calls"].count("route") == 2


def test_failed_node_is_not_cached():
    def scenario(E):
        calls = []

        def flaky(s):
            calls.append("flaky")
            if len(calls) == 1:
                raise ValueError("boom")
            return {"n": 1}

        g = E.StateGraph(S)
        g.add_node("flaky", flaky, cache_policy=E.CachePolicy())
        g.add_edge(E.START, "flaky")
        graph = g.compile(cache=memory_cache(E))
        try:
            go(graph, {"q": "a"}, "invoke")
        except ValueError as exc:
            first = str(exc)
        return {"first": first, "then": [go(graph, {"q": "a"}) for _ in range(2)], "calls": calls}

    rec = same(scenario)
    assert rec["calls"] == ["flaky", "flaky"]


@pytest.mark.parametrize("mode", ["values", "tasks", "debug", ["updates", "values", "tasks"]])
def test_stream_modes_on_a_hit(mode):
    """A hit shows its start in tasks/debug, but no result; values are unchanged."""

    def scenario(E):
        graph = chain(E, [], memory_cache(E))
        return [go(graph, {"q": "a", "n": 0}, "stream", stream_mode=mode) for _ in range(2)]

    same(scenario)


def test_subgraph_node_cached():
    def scenario(E):
        calls = []

        def inner(s):
            calls.append("inner")
            return {"out": "sub"}

        sub = E.StateGraph(S)
        sub.add_node("inner", inner)
        sub.add_edge(E.START, "inner")
        g = E.StateGraph(S)
        g.add_node("sub", sub.compile(), cache_policy=E.CachePolicy())
        g.add_edge(E.START, "sub")
        graph = g.compile(cache=memory_cache(E))
        runs = [go(graph, {"q": "a"}, "stream", subgraphs=True) for _ in range(2)]
        graph.clear_cache(["sub"])  # a subgraph's namespace is "__dynamic__"
        runs.append(go(graph, {"q": "a"}, "stream", subgraphs=True))
        return {"runs": runs, "calls": calls}

    rec = same(scenario)
    assert rec["calls"] == ["inner", "inner"]


def test_cached_node_with_checkpointer():
    """A hit's writes are checkpointed like a run's: the thread's state is the same."""

    def scenario(E):
        saver = importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver()
        calls = []
        g = E.StateGraph(S)

        def fetch(s):
            calls.append("fetch")
            return {"out": s["q"].upper()}

        g.add_node("fetch", fetch, cache_policy=E.CachePolicy())
        g.add_edge(E.START, "fetch")
        graph = g.compile(checkpointer=saver, cache=memory_cache(E))
        rec = {"calls": calls}
        for thread in ("t1", "t2"):
            config = {"configurable": {"thread_id": thread}}
            rec[thread] = go(graph, {"q": "a"}, "stream", config=config)
            state = graph.get_state(config)
            rec[thread + "_state"] = (state.values, state.next)
        return rec

    rec = same(scenario)
    assert rec["calls"] == ["fetch"]


# --------------------------------------------------------------------------- Functional API
@pytest.mark.parametrize("method", METHODS)
def test_task_cache(method):
    """A cached task: the next run's calls with the same arguments hit. (A repeat call
    in the same run: see ``test_repeat_call_in_one_run_hits`` below.)"""

    def scenario(E):
        f = F(E)
        calls = []

        @f.task(cache_policy=E.CachePolicy())
        def double(x: int) -> int:
            calls.append(("double", x))
            return x * 2

        @f.entrypoint(cache=memory_cache(E))
        def wf(x: int) -> list:
            return [double(x).result(), double(x + 1).result()]

        runs = [go(wf, 3, method), go(wf, 3, method), go(wf, 4, method)]
        return {"runs": runs, "calls": calls}

    rec = same(scenario)
    assert rec["calls"] == [("double", 3), ("double", 4), ("double", 5)]


def test_async_task_cache_gathered():
    def scenario(E):
        f = F(E)
        calls = []

        @f.task(cache_policy=E.CachePolicy(key_func=lambda d: str(sorted(d))))
        async def fetch(d: dict) -> str:
            calls.append(sorted(d))
            return ",".join(sorted(d))

        @f.entrypoint(cache=memory_cache(E))
        async def wf(n: int) -> list:
            return list(await asyncio.gather(*(fetch({str(i): i}) for i in range(n))))

        runs = [go(wf, 3, "ainvoke"), go(wf, 4, "ainvoke")]
        return {"runs": runs, "calls": sorted(calls)}

    rec = same(scenario)
    assert len(rec["calls"]) == 4


def test_default_key():
    """LangGraph's default key: positional arguments as given (dict order and list vs
    tuple matter), keyword arguments with their dicts in sorted order."""

    def scenario(E):
        f = F(E)
        calls = []

        @f.task(cache_policy=E.CachePolicy())
        def show(d: dict, *, opts: dict | None = None) -> str:
            calls.append((list(d), opts))
            return ",".join(d)

        @f.entrypoint(cache=memory_cache(E))
        def wf(call: dict) -> str:
            return show(call["d"], **call.get("kw", {})).result()

        inputs = [
            {"d": {"a": 1, "b": [1, 2]}},
            {"d": {"a": 1, "b": [1, 2]}},  # hit
            {"d": {"b": [1, 2], "a": 1}},  # another order: a miss
            {"d": {"a": 1, "b": (1, 2)}},  # a tuple, not a list: a miss
            {"d": {"a": 1}, "kw": {"opts": {"x": [1], "y": 2}}},
            {"d": {"a": 1}, "kw": {"opts": {"y": 2, "x": [1]}}},  # hit: keywords are sorted
            {"d": {"a": 1}, "kw": {"opts": {"y": 2, "x": (1,)}}},  # hit: their lists tuples
        ]
        return {"runs": [go(wf, i, "invoke") for i in inputs], "calls": calls}

    rec = same(scenario)
    assert len(rec["calls"]) == 4


def test_entrypoint_cache_policy():
    """``@entrypoint(cache_policy=...)`` caches the entrypoint itself and is the
    default for the tasks it calls."""

    def scenario(E):
        f = F(E)
        calls = []

        @f.task
        def step(x: int) -> int:
            calls.append(("step", x))
            return x + 1

        @f.entrypoint(cache=memory_cache(E), cache_policy=E.CachePolicy())
        def wf(x: int) -> int:
            calls.append(("wf", x))
            return step(x).result()

        runs = [go(wf, 1), go(wf, 1)]
        wf.clear_cache()  # the entrypoint's entry only: step(1) is still cached
        runs.append(go(wf, 1))
        return {"runs": runs, "calls": calls}

    rec = same(scenario)
    assert rec["calls"] == [("wf", 1), ("step", 1), ("wf", 1)]


def test_task_clear_cache():
    def scenario(E):
        f = F(E)
        calls = []
        cache = memory_cache(E)

        @f.task(cache_policy=E.CachePolicy())
        def one(x: int) -> int:
            calls.append(("one", x))
            return x

        @f.task(cache_policy=E.CachePolicy())
        def two(x: int) -> int:
            calls.append(("two", x))
            return x

        @f.entrypoint(cache=cache)
        def wf(x: int) -> list:
            return [one(x).result(), two(x).result()]

        runs = [go(wf, 1)]
        one.clear_cache(cache)  # forgets one's results, not two's
        runs.append(go(wf, 1))
        asyncio.run(two.aclear_cache(cache))
        runs.append(go(wf, 1))
        cache.clear()
        runs.append(go(wf, 1))
        return {"runs": runs, "calls": calls}

    rec = same(scenario)
    assert len(rec["calls"]) == 6


# --------------------------------------------------------------------------- the caches
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_cache_interface(kind, tmp_path):
    """The caches themselves: get/set/clear, sync and async, namespaces, ttl."""

    def scenario(E):
        cache = memory_cache(E) if kind == "memory" else sqlite_cache(E, tmp_path / f"{E.label}.db")
        a, b, c = (("x", "a"), "k1"), (("x", "a"), "k2"), (("x", "b"), "k1")
        cache.set({a: ({"v": [1, 2], "s": "x"}, None), b: ("two", None), c: (3, 1)})
        rec = {"all": cache.get([a, b, c, (("nope",), "k1")]), "none": cache.get([])}
        cache.clear([("x", "a")])
        rec["after_clear_ns"] = cache.get([a, b, c])
        asyncio.run(cache.aset({a: (None, None)}))
        rec["aget"] = asyncio.run(cache.aget([a, c]))
        time.sleep(1.05)
        rec["expired"] = cache.get([a, c])
        asyncio.run(cache.aclear())
        rec["cleared"] = cache.get([a])
        return rec

    rec = same(scenario)
    assert rec["expired"] == {(("x", "a"), "k1"): None}


def test_sqlite_cache_persists_across_instances(tmp_path):
    """Entries written through one SqliteCache are hits for another on the same file."""

    def scenario(E):
        path = tmp_path / f"{E.label}.db"
        calls = []
        first = go(chain(E, calls, sqlite_cache(E, path)), {"q": "a", "n": 0})
        again = go(chain(E, calls, sqlite_cache(E, path)), {"q": "a", "n": 0})
        sqlite_cache(E, path).clear()
        cleared = go(chain(E, calls, sqlite_cache(E, path)), {"q": "a", "n": 0})
        return {"first": first, "again": again, "cleared": cleared, "calls": calls}

    rec = same(scenario)
    assert [c[0] for c in rec["calls"]] == ["fetch", "finish", "finish", "fetch", "finish"]


def test_sqlite_cache_ttl_and_functional(tmp_path):
    def scenario(E):
        f = F(E)
        calls = []

        @f.task(cache_policy=E.CachePolicy(ttl=1))
        def square(x: int) -> int:
            calls.append(x)
            return x * x

        def build():
            @f.entrypoint(cache=sqlite_cache(E, tmp_path / f"{E.label}.db"))
            def wf(x: int) -> int:
                return square(x).result()

            return wf

        runs = [go(build(), 3), go(build(), 3)]
        time.sleep(1.1)
        runs.append(go(build(), 3))
        return {"runs": runs, "calls": calls}

    rec = same(scenario)
    assert rec["calls"] == [3, 3]


# --------------------------------------------------------------------------- differences
@divergence
def test_hit_keeps_tuples():
    """LangGraph's cache (msgpack) gives tuples back as lists, so a hit's state differs
    from the run that filled it; swiftgraph's typed JSON keeps them (README, known
    differences; checkpoints behave the same way on each engine)."""

    class T(TypedDict):
        t: object

    def scenario(E):
        g = E.StateGraph(T)
        g.add_node("a", lambda s: {"t": (1, {"k": (2, 3)})}, cache_policy=E.CachePolicy())
        g.add_edge(E.START, "a")
        graph = g.compile(cache=memory_cache(E))
        return [graph.invoke({"t": 0})["t"] for _ in range(2)]

    assert scenario(LG) == [(1, {"k": (2, 3)}), [1, {"k": [2, 3]}]]
    assert scenario(SG) == [(1, {"k": (2, 3)}), (1, {"k": (2, 3)})]


@divergence
def test_repeat_call_in_one_run_hits():
    """A cached task called twice with the same arguments in one run: LangGraph saves the
    first result in the background, so the second call hits only if that finished first
    (it varies from run to run); swiftgraph saves it before the first call returns, so
    the second always hits (README, known differences)."""

    def scenario(E):
        f = F(E)
        calls = []

        @f.task(cache_policy=E.CachePolicy())
        def double(x: int) -> int:
            calls.append(x)
            return x * 2

        @f.entrypoint(cache=memory_cache(E))
        def wf(x: int) -> list:
            return [double(x).result(), double(x).result()]

        chunks = list(wf.stream(3, stream_mode="updates"))
        return chunks, calls

    _, lg_calls = scenario(LG)
    assert lg_calls in ([3], [3, 3])
    chunks, calls = scenario(SG)
    assert calls == [3]
    assert chunks == [
        {"double": 6}, {"double": 6, "__metadata__": {"cached": True}}, {"wf": [6, 6]}
    ]


def test_interrupted_node_is_cached_once_resumed():
    """A node paused by ``interrupt()`` isn't cached; resumed, it finishes and is: a
    later thread with the same input gets its writes without being asked again."""

    def scenario(E):
        saver = importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver()
        calls = []

        def ask(s):
            calls.append("ask")
            answer = E.types.interrupt("ok?")
            return {"out": f"{s['q']}:{answer}"}

        g = E.StateGraph(S)
        g.add_node("ask", ask, cache_policy=E.CachePolicy())
        g.add_edge(E.START, "ask")
        graph = g.compile(checkpointer=saver, cache=memory_cache(E))
        t1 = {"configurable": {"thread_id": "t1"}}
        t2 = {"configurable": {"thread_id": "t2"}}
        paused = go(graph, {"q": "a"}, config=t1)
        rec = {"paused": [i.value for c in paused for i in c["__interrupt__"]]}
        rec["resumed"] = go(graph, E.Command(resume="yes"), config=t1)
        rec["other_thread"] = go(graph, {"q": "a"}, config=t2)
        rec["calls"] = calls
        return rec

    rec = same(scenario)
    assert rec["calls"] == ["ask", "ask"]
