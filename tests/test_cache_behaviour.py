"""swiftgraph-only behaviour of node/task caching (the LangGraph comparison is in
``tests/differential/test_cache.py``): no cost without a cache, no pickle, no
``sqlite3`` in the core, timelines, errors that name the task."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, TypedDict

import pytest

from swiftgraph._internal import caching
from swiftgraph.cache.memory import InMemoryCache
from swiftgraph.cache.sqlite import SqliteCache
from swiftgraph.checkpoint.serde import SerializationError
from swiftgraph.func import entrypoint, task
from swiftgraph.graph import START, StateGraph
from swiftgraph.types import CachePolicy

SRC = str(Path(__file__).resolve().parents[1] / "src")


class S(TypedDict, total=False):
    q: str
    out: Any


def graph(calls: list, cache: Any = None, policy: CachePolicy | None = None, result: Any = None):
    def fetch(s):
        calls.append(s["q"])
        return {"out": s["q"].upper() if result is None else result}

    g = StateGraph(S)
    g.add_node("fetch", fetch, cache_policy=policy)
    g.add_edge(START, "fetch")
    return g.compile(cache=cache)


@pytest.fixture
def no_cache_path(monkeypatch):
    """Fail if the loop takes any caching path."""

    def boom(*args, **kwargs):
        raise AssertionError("the caching path ran for a graph without a cache")

    for name in ("serve_step", "serve_call", "entry_for", "store"):
        monkeypatch.setattr(caching, name, boom)


def test_graph_without_cache_runs_as_before(no_cache_path):
    calls: list = []
    g = graph(calls, policy=CachePolicy())  # a policy without a cache does nothing
    assert [g.invoke({"q": "a"}) for _ in range(2)] == [{"q": "a", "out": "A"}] * 2
    assert list(g.stream({"q": "a"})) == [{"fetch": {"out": "A"}}]
    assert asyncio.run(g.ainvoke({"q": "a"})) == {"q": "a", "out": "A"}
    assert calls == ["a"] * 4
    assert g.graph.nodes["fetch"].cache_ns == ("__pregel_ns_writes", f"{__name__}.graph.<locals>.fetch", "fetch")


def test_entrypoint_without_cache_runs_as_before(no_cache_path):
    calls: list = []

    @task(cache_policy=CachePolicy())
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    @entrypoint()
    def wf(x: int) -> list:
        return [double(x).result(), double(x).result()]

    assert wf.invoke(2) == [4, 4]
    assert calls == [2, 2]


def test_core_never_imports_sqlite3():
    code = (
        "import sys\n"
        "from typing import TypedDict\n"
        "from swiftgraph.graph import StateGraph, START\n"
        "from swiftgraph.func import entrypoint, task\n"
        "from swiftgraph.types import CachePolicy\n"
        "from swiftgraph.cache.memory import InMemoryCache\n"
        "class S(TypedDict):\n    x: int\n"
        "g = StateGraph(S)\n"
        "g.add_node('a', lambda s: {'x': s['x'] + 1}, cache_policy=CachePolicy())\n"
        "g.add_edge(START, 'a')\n"
        "app = g.compile(cache=InMemoryCache())\n"
        "assert app.invoke({'x': 1}) == app.invoke({'x': 1}) == {'x': 2}\n"
        "assert 'sqlite3' not in sys.modules and 'pickle' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": SRC})


def test_hit_is_a_fresh_copy_and_in_the_timeline():
    calls: list = []
    g = graph(calls, InMemoryCache(), CachePolicy(), result=["x"])
    g.invoke({"q": "a"})
    out = g.invoke({"q": "a"})
    out["out"].append("mutated")  # changes this run's output, not the cache
    assert g.invoke({"q": "a"}) == {"q": "a", "out": ["x"]}
    assert calls == ["a"]
    [record] = g.last_timeline.tasks
    assert (record.name, record.outcome, record.output) == ("fetch", "cached", {"out": ["x"]})


def test_task_hit_in_the_timeline():
    @task(cache_policy=CachePolicy())
    def double(x: int) -> int:
        return 2 * x

    @entrypoint(cache=InMemoryCache())
    def wf(x: int) -> int:
        return double(x).result()

    wf.invoke(1)
    wf.invoke(1)
    outcomes = {r.name: r.outcome for r in wf.last_timeline.tasks}
    assert outcomes == {"wf": "ok", "double": "cached"}


def test_unserializable_writes_fail_naming_the_task():
    class Opaque:
        pass

    g = graph([], InMemoryCache(), CachePolicy(), result=Opaque())
    with pytest.raises(SerializationError, match="Opaque") as info:
        g.invoke({"q": "a"})
    assert "While saving the writes of task 'fetch' to the cache" in info.value.__notes__


def test_unserializable_input_asks_for_a_key_func():
    class S2(TypedDict):
        lock: Any

    g = StateGraph(S2)
    g.add_node("a", lambda s: {}, cache_policy=CachePolicy())
    g.add_edge(START, "a")
    app = g.compile(cache=InMemoryCache())
    with pytest.raises(SerializationError, match="key_func"):
        app.invoke({"lock": threading.Lock()})
    g2 = StateGraph(S2)
    g2.add_node("a", lambda s: {}, cache_policy=CachePolicy(key_func=lambda s: "k"))
    g2.add_edge(START, "a")
    assert g2.compile(cache=InMemoryCache()).invoke({"lock": 1}) == {"lock": 1}


def test_sqlite_cache_refuses_pickle(tmp_path):
    path = tmp_path / "c.db"
    cache = SqliteCache(path=str(path))
    key = (("ns",), "k")
    cache.set({key: ({"a": 1}, None)})
    assert cache.get([key]) == {key: {"a": 1}}
    with sqlite3.connect(path) as conn:
        (encoding,) = conn.execute("SELECT encoding FROM swiftgraph_cache").fetchone()
        assert encoding == "json"
        conn.execute("UPDATE swiftgraph_cache SET encoding = 'pickle', val = ?", (b"\x80\x04K\x01.",))
    with pytest.raises(SerializationError, match="never unpickles"):
        cache.get([key])
    cache.close()


def test_sqlite_namespaces_with_commas_do_not_collide(tmp_path):
    cache = SqliteCache(path=str(tmp_path / "c.db"))
    one, two = (("a,b",), "k"), (("a", "b"), "k")
    cache.set({one: (1, None), two: (2, None)})
    assert cache.get([one, two]) == {one: 1, two: 2}
    cache.clear([("a,b",)])
    assert cache.get([one, two]) == {two: 2}


def test_sqlite_cache_many_keys_and_concurrent_runs(tmp_path):
    cache = SqliteCache(path=str(tmp_path / "c.db"))
    pairs = {(("ns",), f"k{i}"): (i, None) for i in range(1000)}  # past one SELECT's parameters
    cache.set(pairs)
    assert cache.get(list(pairs)) == {k: v for k, (v, _) in pairs.items()}

    calls: list = []
    g = graph(calls, cache, CachePolicy())

    async def many():
        return await asyncio.gather(*(g.ainvoke({"q": str(i % 5)}) for i in range(20)))

    first = asyncio.run(many())
    assert asyncio.run(many()) == first
    assert len(calls) <= 20 and sorted(set(calls)) == ["0", "1", "2", "3", "4"]
    before = len(calls)
    asyncio.run(many())
    assert len(calls) == before  # every key cached by now
