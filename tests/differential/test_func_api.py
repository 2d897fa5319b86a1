"""Functional API (``@entrypoint`` / ``@task``): swiftgraph vs LangGraph.

Every workflow is built by a ``build(E)`` function against one engine's public modules
(``langgraph.func`` or ``swiftgraph.func``); the harness in ``conftest.py`` runs it on both
engines and compares return values, stream chunks (ids/timestamps normalized) and raised
errors (type, message, notes).  On LangGraph an entrypoint must be written
``@entrypoint()``; the bare form is a documented swiftgraph extension (see the divergence
tests at the bottom).

Tasks that run concurrently (gathered coroutines, several sync futures started before the
first ``.result()``) may finish in either order; their completion chunks are compared
order-insensitively with :func:`check_gathered`, everything else in exact order.
"""

from __future__ import annotations

import asyncio
import importlib
import operator
import time
from typing import Annotated, TypedDict

import pytest
from conftest import (
    ALL_METHODS,
    ASYNC_METHODS,
    LG,
    SG,
    assert_same,
    check,
    divergence,
    run_both,
)

STREAMS = ["stream", "astream"]
STREAM_MODES = [
    "updates",
    "values",
    "tasks",
    "debug",
    "custom",
    ["updates", "values", "custom", "tasks"],
    ["debug", "custom", "values"],
]
MODE_IDS = ["updates", "values", "tasks", "debug", "custom", "multi", "debug+custom"]
CFG = {"configurable": {"k": "v", "user": "ada"}}


def F(E):
    """The ``func`` module of engine ``E`` (``conftest.Engine`` doesn't expose it)."""
    return importlib.import_module(f"{E.package}.func")


def method_kwargs(method: str, mode=None) -> dict:
    return {"stream_mode": mode} if method in STREAMS and mode is not None else {}


# --------------------------------------------------------------------------- helper
def _floating(chunk, names: frozenset) -> bool:
    """Is ``chunk`` the completion of one of the concurrently running tasks ``names``?"""
    mode, body = None, chunk
    if isinstance(chunk, tuple) and len(chunk) == 2 and isinstance(chunk[0], str):
        mode, body = chunk
    if not isinstance(body, dict):
        return False
    if body.get("type") == "task_result" and isinstance(body.get("payload"), dict):
        return body["payload"].get("name") in names  # debug
    if {"name", "error", "result"} <= body.keys():
        return body["name"] in names  # tasks (result half)
    if mode in (None, "updates") and len(body) == 1:
        return next(iter(body)) in names  # updates
    return False


def canon_gathered(chunks, names) -> list:
    """Sort each maximal run of completion chunks of tasks ``names`` (any finish order)."""
    if not isinstance(chunks, list):
        return chunks
    names = frozenset(names)
    out, run_ = [], []
    for c in chunks:
        if _floating(c, names):
            run_.append(c)
            continue
        out.extend(sorted(run_, key=repr))
        run_ = []
        out.append(c)
    out.extend(sorted(run_, key=repr))
    return out


def check_error(build, input, method, **kwargs):
    """Like ``check`` for runs that fail, but compares in an order that pinpoints what
    differs: the chunks streamed before the error, then the exception's type, message
    and builtin bases, and last the ``__notes__`` ("During task with name ...")."""
    lg, sg = run_both(build, input, method, **kwargs)
    assert lg.error is not None, f"LangGraph did not fail: {lg.value!r}"
    assert sg.value == lg.value, (
        f"value/chunks mismatch\n  langgraph : {lg.value!r}\n  swiftgraph: {sg.value!r}"
    )
    assert sg.error is not None, f"swiftgraph did not fail; langgraph raised {lg.error}"
    assert sg.error[:3] == lg.error[:3], (
        f"exception mismatch\n  langgraph : {lg.error[:3]}\n  swiftgraph: {sg.error[:3]}"
    )
    assert sg.error[3] == lg.error[3], (
        f"exception __notes__ mismatch\n  langgraph : {lg.error[3]}\n  swiftgraph: {sg.error[3]}"
    )
    return lg


def check_gathered(build, input, method, names, **kwargs):
    """``check`` with the completions of concurrently running ``names`` order-insensitive."""
    lg, sg = run_both(build, input, method, **kwargs)
    assert sg.error == lg.error, (
        f"error mismatch\n  langgraph : {lg.error}\n  swiftgraph: {sg.error}"
    )
    lv, sv = canon_gathered(lg.value, names), canon_gathered(sg.value, names)
    assert sv == lv, f"value mismatch\n  langgraph : {lv!r}\n  swiftgraph: {sv!r}"
    return lg


# --------------------------------------------------------------------------- workflows
def seq_sync(E):
    """Sync entrypoint, sync tasks in sequence via ``.result()``."""
    f = F(E)

    @f.task
    def add_one(x: int) -> int:
        return x + 1

    @f.task
    def double(x: int) -> int:
        return x * 2

    @f.entrypoint()
    def wf(x: int) -> dict:
        a = add_one(x).result()
        b = double(a).result()
        return {"a": a, "b": b}

    return wf


def seq_async(E):
    """Async entrypoint awaiting async tasks one after the other."""
    f = F(E)

    @f.task
    async def add_one(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @f.task
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    @f.entrypoint()
    async def wf(x: int) -> dict:
        a = await add_one(x)
        b = await double(a)
        return {"a": a, "b": b}

    return wf


def gathered_async(E, *, delays=(0.03, 0.01, 0.02)):
    """The lesson's shape: one task, then several gathered, then a decision."""
    f = F(E)

    @f.task
    async def parse(name: str) -> dict:
        await asyncio.sleep(0.005)
        return {"parsed": name}

    def checker(kind, delay):
        async def body(name: str) -> dict:
            await asyncio.sleep(delay)
            return {"kind": kind, "ok": True}

        body.__name__ = kind
        return f.task(body)

    checks = [checker(k, d) for k, d in zip(("background", "references", "skills"), delays)]

    @f.entrypoint()
    async def screen(name: str) -> str:
        await parse(name)
        results = await asyncio.gather(*(c(name) for c in checks))
        return "HIRED:" + ",".join(r["kind"] for r in results)

    return screen


GATHERED = ("background", "references", "skills")


def parallel_sync(E):
    """Sync entrypoint that starts three sync tasks before collecting any result."""
    f = F(E)

    @f.task
    def square(x: int) -> int:
        time.sleep(0.01 * (3 - x))  # later calls finish first
        return x * x

    @f.entrypoint()
    def wf(xs: list) -> list:
        futures = [square(x) for x in xs]
        return [fut.result() for fut in futures]

    return wf


def nested_sync(E):
    f = F(E)

    @f.task
    def inner(x: int) -> int:
        return x + 1

    @f.task
    def outer(x: int) -> int:
        return inner(x).result() * 10 + inner(x + 1).result()

    @f.entrypoint()
    def wf(x: int) -> int:
        return outer(x).result()

    return wf


def nested_async(E):
    f = F(E)

    @f.task
    async def leaf(x: int) -> int:
        await asyncio.sleep(0.01 * x)
        return x

    @f.task
    async def branch(x: int) -> list:
        return list(await asyncio.gather(leaf(x), leaf(x + 1)))

    @f.entrypoint()
    async def wf(x: int) -> list:
        return await branch(x)

    return wf


def async_entry_sync_tasks(E):
    """Async entrypoint using sync tasks: awaited one by one, then gathered."""
    f = F(E)

    @f.task
    def inc(x: int) -> int:
        return x + 1

    @f.task
    def neg(x: int) -> int:
        time.sleep(0.01)
        return -x

    @f.task
    def half(x: int) -> float:
        return x / 2

    @f.entrypoint()
    async def wf(x: int) -> list:
        a = await inc(x)
        b, c = await asyncio.gather(neg(a), half(a))
        return [a, b, c]

    return wf


def async_entry_mixed_tasks(E):
    """Async entrypoint gathering a sync task with an async task."""
    f = F(E)

    @f.task
    def sync_part(x: int) -> str:
        return f"s{x}"

    @f.task
    async def async_part(x: int) -> str:
        await asyncio.sleep(0.01)
        return f"a{x}"

    @f.entrypoint()
    async def wf(x: int) -> list:
        return list(await asyncio.gather(sync_part(x), async_part(x)))

    return wf


def with_config(E):
    """``config`` injected into the entrypoint and into a task; get_config() in a task."""
    f = F(E)

    @f.task
    def by_param(x: int, config) -> list:
        return [x, config["configurable"].get("k")]

    @f.task
    def by_get_config(x: int) -> list:
        return [x, E.get_config()["configurable"].get("user")]

    @f.entrypoint()
    def wf(x: int, config) -> dict:
        return {
            "entry": config["configurable"].get("k"),
            "param": by_param(x).result(),
            "get_config": by_get_config(x).result(),
        }

    return wf


def with_config_entry_only(E, asynchronous=False):
    """``config`` injected into the entrypoint only (keyword-only); get_config() in a task."""
    f = F(E)

    @f.task
    def t(x: int) -> str:
        return E.get_config()["configurable"]["user"]

    if asynchronous:
        @f.entrypoint()
        async def wf(x: int, *, config) -> list:
            return [config["configurable"]["k"], await t(x)]
    else:
        @f.entrypoint()
        def wf(x: int, *, config) -> list:
            return [config["configurable"]["k"], t(x).result()]

    return wf


def with_writer(E):
    """custom stream: entrypoint's ``writer`` param and get_stream_writer() in a task."""
    f = F(E)

    @f.task
    def step(x: int) -> int:
        E.get_stream_writer()({"task": "step", "x": x})
        return x + 1

    @f.entrypoint()
    def wf(x: int, writer) -> int:
        writer({"entry": "start"})
        y = step(x).result()
        E.get_stream_writer()("via get_stream_writer")
        writer({"entry": "end", "y": y})
        return y

    return wf


def with_writer_async(E):
    f = F(E)

    @f.task
    async def step(x: int) -> int:
        E.get_stream_writer()({"task": "step", "x": x})
        await asyncio.sleep(0)
        return x + 1

    @f.entrypoint()
    async def wf(x: int, *, writer) -> int:
        writer("start")
        y = await step(x)
        writer(["end", y])
        return y

    return wf


def task_writer_param(E):
    """``writer`` asked for by name in a task's signature."""
    f = F(E)

    @f.task
    def step(x: int, writer) -> int:
        writer({"task": x})
        return x

    @f.entrypoint()
    def wf(x: int) -> int:
        return step(x).result()

    return wf


def task_raises(E):
    f = F(E)

    @f.task
    def ok(x: int) -> int:
        return x

    @f.task
    def boom(x: int) -> int:
        raise ValueError(f"boom on {x}")

    @f.entrypoint()
    def wf(x: int) -> int:
        return ok(x).result() + boom(x).result()

    return wf


def async_task_raises(E):
    f = F(E)

    @f.task
    async def boom(x: int) -> int:
        await asyncio.sleep(0)
        raise KeyError(f"missing {x}")

    @f.entrypoint()
    async def wf(x: int) -> int:
        return await boom(x)

    return wf


def gathered_task_raises(E):
    f = F(E)

    @f.task
    async def slow(x: int) -> int:
        await asyncio.sleep(0.5)
        return x

    @f.task
    async def boom(x: int) -> int:
        await asyncio.sleep(0.01)
        raise RuntimeError("gathered boom")

    @f.entrypoint()
    async def wf(x: int) -> list:
        return list(await asyncio.gather(slow(x), boom(x)))

    return wf


def nested_task_raises(E):
    f = F(E)

    @f.task
    def inner(x: int) -> int:
        raise TypeError("inner failed")

    @f.task
    def outer(x: int) -> int:
        return inner(x).result()

    @f.entrypoint()
    def wf(x: int) -> int:
        return outer(x).result()

    return wf


def entry_raises(E):
    f = F(E)

    @f.task
    def ok(x: int) -> int:
        return x

    @f.entrypoint()
    def wf(x: int) -> int:
        ok(x).result()
        raise LookupError("entrypoint itself failed")

    return wf


def caught_task_error(E):
    """The entrypoint catches a task's error and carries on."""
    f = F(E)

    @f.task
    def boom(x: int) -> int:
        raise ValueError("handled")

    @f.entrypoint()
    def wf(x: int) -> str:
        try:
            boom(x).result()
        except ValueError as e:
            return f"recovered from {e}"
        return "unreachable"

    return wf


def identity(E):
    f = F(E)

    @f.entrypoint()
    def wf(x):
        return x

    return wf


def negative_raises(E):
    f = F(E)

    @f.task
    def check_positive(x: int) -> int:
        if x < 0:
            raise ValueError(f"negative: {x}")
        return x

    @f.entrypoint()
    def wf(x: int) -> int:
        return check_positive(x).result() * 2

    return wf


def named_task_kwargs(E):
    f = F(E)

    @f.task(name="renamed")
    def t(x: int, y: int = 0, *, z: int = 1) -> int:
        return x + y + z

    @f.entrypoint()
    def wf(x: int) -> int:
        return t(x, 2, z=3).result()

    return wf


def retrying_task(E):
    f = F(E)
    attempts = {"n": 0}
    policy = E.RetryPolicy(max_attempts=3, initial_interval=0.001, jitter=False,
                           retry_on=ValueError)

    @f.task(retry_policy=policy)
    def flaky(x: int) -> list:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise ValueError(f"attempt {attempts['n']}")
        return [x, attempts["n"]]

    @f.entrypoint()
    def wf(x: int) -> list:
        return flaky(x).result()

    return wf


def retry_exhausted(E):
    f = F(E)
    policy = E.RetryPolicy(max_attempts=2, initial_interval=0.001, jitter=False,
                           retry_on=ValueError)

    @f.task(retry_policy=policy)
    def flaky(x: int) -> int:
        raise ValueError("always")

    @f.entrypoint()
    def wf(x: int) -> int:
        return flaky(x).result()

    return wf


def returns_final(E):
    """``entrypoint.final`` without a checkpointer: the caller gets ``value``."""
    f = F(E)

    @f.entrypoint()
    def wf(x: int, *, previous=None) -> object:
        return f.entrypoint.final(value={"x": x, "previous": previous}, save=x * 2)

    return wf


def returns_none(E):
    f = F(E)

    @f.task
    def side(x):
        return None

    @f.entrypoint()
    def wf(x):
        side(x).result()

    return wf


def dict_input(E):
    f = F(E)

    @f.task
    def enrich(d: dict) -> dict:
        return {**d, "enriched": True}

    @f.entrypoint()
    def wf(d: dict) -> dict:
        return enrich(d).result()

    return wf


def entry_with_default_param(E):
    """A second positional parameter with a default: LangGraph accepts it."""
    f = F(E)

    @f.entrypoint()
    def wf(x: int, y: int = 5) -> int:
        return x + y

    return wf


# --------------------------------------------------------------------------- sequential
@pytest.mark.parametrize("method", ALL_METHODS)
def test_sequential_sync_tasks(method):
    lg = check(seq_sync, 3, method)
    if method.endswith("invoke"):
        assert lg.value == {"a": 4, "b": 8}


@pytest.mark.parametrize("mode", STREAM_MODES, ids=MODE_IDS)
@pytest.mark.parametrize("method", STREAMS)
def test_sequential_sync_tasks_streams(method, mode):
    check(seq_sync, 3, method, stream_mode=mode)


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_sequential_async_tasks(method):
    lg = check(seq_async, 3, method)
    if method == "ainvoke":
        assert lg.value == {"a": 4, "b": 8}


@pytest.mark.parametrize("mode", STREAM_MODES, ids=MODE_IDS)
def test_sequential_async_tasks_streams(mode):
    check(seq_async, 3, "astream", stream_mode=mode)


def test_updates_stream_is_one_chunk_per_task_then_entrypoint():
    lg = check(seq_sync, 3, "stream", stream_mode="updates")
    assert lg.value == [{"add_one": 4}, {"double": 8}, {"wf": {"a": 4, "b": 8}}]


def test_values_stream_is_the_return_value_once():
    lg = check(seq_sync, 3, "stream", stream_mode="values")
    assert lg.value == [{"a": 4, "b": 8}]


def test_tasks_payload_shape():
    lg = check(seq_sync, 3, "stream", stream_mode="tasks")
    start, first = lg.value[0], lg.value[1]
    assert start == {"id": "<id>", "name": "wf", "input": 3, "triggers": ("__start__",)}
    assert first == {"id": "<id>", "name": "add_one", "input": ((3,), {}),
                     "triggers": ("__pregel_push",)}
    assert lg.value[-1] == {"id": "<id>", "name": "wf", "error": None,
                            "result": {"__end__": {"a": 4, "b": 8}}, "interrupts": []}


def test_debug_payload_shape():
    lg = check(seq_sync, 3, "stream", stream_mode="debug")
    assert {c["type"] for c in lg.value} == {"task", "task_result"}
    assert {c["step"] for c in lg.value} == {0}
    assert lg.value[2]["payload"] == {"id": "<id>", "name": "add_one", "error": None,
                                      "result": {"__return__": 4}, "interrupts": []}


def test_task_ids_are_stable_between_stream_modes_on_both():
    """Each engine: a task's start and result events carry the same id."""
    for E in (LG, SG):
        wf = seq_sync(E)
        chunks = list(wf.stream(3, stream_mode="tasks"))
        by_name = {}
        for c in chunks:
            by_name.setdefault(c["name"], set()).add(c["id"])
        assert all(len(ids) == 1 for ids in by_name.values()), (E.label, by_name)


@pytest.mark.parametrize("method", ["batch", "abatch"])
def test_batch(method):
    lg = check(seq_sync, [1, 2, 3], method)
    assert lg.value == [{"a": 2, "b": 4}, {"a": 3, "b": 6}, {"a": 4, "b": 8}]


def test_abatch_async_entrypoint():
    check(seq_async, [1, 2], "abatch")


@pytest.mark.parametrize("method", ["batch", "abatch"])
def test_batch_with_config(method):
    lg = check(with_config_entry_only, [1, 2], method, config=CFG)
    assert lg.value == [["v", "ada"], ["v", "ada"]]


@pytest.mark.parametrize("method", ["batch", "abatch"])
def test_batch_error_propagates(method):
    check_error(negative_raises, [1, -1, 2], method)


@pytest.mark.parametrize("method", ["batch", "abatch"])
def test_batch_return_exceptions(method):
    lg = check(negative_raises, [1, -1, None, 2], method, return_exceptions=True)
    assert lg.value[0] == 2 and lg.value[3] == 4
    assert lg.value[1] == ("<exc>", "ValueError", "negative: -1")
    assert lg.value[2] == ("<exc>", "EmptyInputError", "Received no input for __start__")


@pytest.mark.parametrize("method", ALL_METHODS)
def test_dict_input(method):
    check(dict_input, {"name": "Ada"}, method)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_entrypoint_returning_none(method):
    check(returns_none, 1, method, **method_kwargs(method, ["updates", "values"]))


# --------------------------------------------------------------------------- concurrency
@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_gathered_async_tasks(method):
    lg = check_gathered(gathered_async, "Clara", method, GATHERED)
    if method == "ainvoke":
        assert lg.value == "HIRED:background,references,skills"


@pytest.mark.parametrize("mode", STREAM_MODES, ids=MODE_IDS)
def test_gathered_async_tasks_streams(mode):
    check_gathered(gathered_async, "Clara", "astream", GATHERED, stream_mode=mode)


@pytest.mark.parametrize("mode", ["updates", "tasks", "debug"])
def test_gathered_async_tasks_same_delay(mode):
    """All gathered tasks sleep the same time: completion order is arbitrary."""
    check_gathered(lambda E: gathered_async(E, delays=(0.01, 0.01, 0.01)), "Clara",
                   "astream", GATHERED, stream_mode=mode)


def test_gathered_async_updates_contents():
    lg = check_gathered(gathered_async, "Clara", "astream", GATHERED, stream_mode="updates")
    assert lg.value[0] == {"parse": {"parsed": "Clara"}}
    assert sorted(lg.value[1:4], key=repr) == sorted(
        [{k: {"kind": k, "ok": True}} for k in GATHERED], key=repr)
    assert lg.value[4] == {"screen": "HIRED:background,references,skills"}


@pytest.mark.parametrize("method", ALL_METHODS)
def test_parallel_sync_tasks_in_sync_entrypoint(method):
    lg = check_gathered(parallel_sync, [0, 1, 2], method, {"square"},
                        **method_kwargs(method, ["updates", "tasks", "values"]))
    if method.endswith("invoke"):
        assert lg.value == [0, 1, 4]


@pytest.mark.parametrize("mode", ["updates", "debug"])
def test_parallel_sync_tasks_streams(mode):
    check_gathered(parallel_sync, [0, 1, 2], "stream", {"square"}, stream_mode=mode)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_nested_sync_tasks(method):
    lg = check(nested_sync, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    if method.endswith("invoke"):
        assert lg.value == 23


@pytest.mark.parametrize("mode", STREAM_MODES, ids=MODE_IDS)
def test_nested_sync_tasks_streams(mode):
    check(nested_sync, 1, "stream", stream_mode=mode)


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_nested_async_tasks(method):
    lg = check_gathered(nested_async, 1, method, {"leaf"},
                        **method_kwargs(method, ["updates", "tasks"]))
    if method == "ainvoke":
        assert lg.value == [1, 2]


@pytest.mark.parametrize("mode", ["updates", "debug", "values"])
def test_nested_async_tasks_streams(mode):
    check_gathered(nested_async, 1, "astream", {"leaf"}, stream_mode=mode)


# --------------------------------------------------------------------------- sync/async mixes
@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_async_entrypoint_with_sync_tasks(method):
    lg = check_gathered(async_entry_sync_tasks, 4, method, {"neg", "half"},
                        **method_kwargs(method, ["updates", "tasks", "values"]))
    if method == "ainvoke":
        assert lg.value == [5, -5, 2.5]


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_async_entrypoint_gathering_sync_and_async_tasks(method):
    lg = check_gathered(async_entry_mixed_tasks, 7, method, {"sync_part", "async_part"},
                        **method_kwargs(method, ["updates", "debug"]))
    if method == "ainvoke":
        assert lg.value == ["s7", "a7"]


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_sync_entrypoint_under_async_api(method):
    check(nested_sync, 2, method, **method_kwargs(method, ["updates", "values", "tasks"]))


# --------------------------------------------------------------------------- injection
@pytest.mark.parametrize("method", ALL_METHODS)
def test_config_injection_in_entrypoint_and_task(method):
    lg = check(with_config, 1, method, config=CFG,
               **method_kwargs(method, ["updates", "values"]))
    if method.endswith("invoke"):
        assert lg.value == {"entry": "v", "param": [1, "v"], "get_config": [1, "ada"]}


@pytest.mark.parametrize("method", ASYNC_METHODS)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_config_injection_keyword_only_and_get_config(method, asynchronous):
    lg = check(lambda E: with_config_entry_only(E, asynchronous), 1, method, config=CFG)
    if method == "ainvoke":
        assert lg.value == ["v", "ada"]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_writer_and_get_stream_writer(method):
    lg = check(with_writer, 1, method, **method_kwargs(method, ["custom", "updates"]))
    if method == "stream":
        assert [c for m, c in lg.value if m == "custom"] == [
            {"entry": "start"}, {"task": "step", "x": 1}, "via get_stream_writer",
            {"entry": "end", "y": 2}]


@pytest.mark.parametrize("mode", ["custom", ["custom", "tasks"], ["updates", "custom", "debug"]],
                         ids=["custom", "custom+tasks", "updates+custom+debug"])
@pytest.mark.parametrize("method", STREAMS)
def test_custom_stream_interleaving(method, mode):
    check(with_writer, 1, method, stream_mode=mode)


@pytest.mark.parametrize("mode", ["custom", ["custom", "updates", "values"]], ids=["custom", "multi"])
def test_custom_stream_async(mode):
    check(with_writer_async, 1, "astream", stream_mode=mode)


def test_custom_stream_not_requested_is_dropped():
    check(with_writer, 1, "stream", stream_mode="updates")


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_writer_param_in_task(method):
    check(task_writer_param, 3, method, **method_kwargs(method, ["custom", "updates"]))


def test_previous_is_none_without_checkpointer():
    lg = check(returns_final, 1, "invoke")
    assert lg.value == {"x": 1, "previous": None}


@pytest.mark.parametrize("method", ALL_METHODS)
def test_final_without_checkpointer_returns_value(method):
    check(returns_final, 2, method, **method_kwargs(method, ["updates", "values", "tasks"]))


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("method", ALL_METHODS)
def test_task_raising(method):
    lg = check_error(task_raises, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    assert lg.error[:2] == ("ValueError", "boom on 1")


@pytest.mark.parametrize("mode", ["tasks", "debug", "updates", "values"])
def test_task_raising_streams(mode):
    check_error(task_raises, 1, "stream", stream_mode=mode)


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_async_task_raising(method):
    lg = check_error(async_task_raises, 1, method, **method_kwargs(method, ["updates", "debug"]))
    assert lg.error[:2] == ("KeyError", "'missing 1'")


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_gathered_task_raising(method):
    lg = check_error(gathered_task_raises, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    assert lg.error[:2] == ("RuntimeError", "gathered boom")


@pytest.mark.parametrize("method", ALL_METHODS)
def test_nested_task_raising(method):
    lg = check_error(nested_task_raises, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    assert lg.error[:2] == ("TypeError", "inner failed")


@pytest.mark.parametrize("method", ALL_METHODS)
def test_entrypoint_raising(method):
    lg = check_error(entry_raises, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    assert lg.error[:2] == ("LookupError", "entrypoint itself failed")


@pytest.mark.parametrize("method", ALL_METHODS)
def test_task_error_caught_by_entrypoint(method):
    lg = check(caught_task_error, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    if method.endswith("invoke"):
        assert lg.value == "recovered from handled"


@pytest.mark.parametrize("method", ALL_METHODS)
def test_task_exception_type_and_message(method):
    """Type and message only (the per-task notes are compared in test_task_raising)."""
    lg, sg = run_both(task_raises, 1, method)
    assert sg.error is not None and lg.error is not None
    assert sg.error[:3] == lg.error[:3]
    assert type(sg.exc).__name__ == type(lg.exc).__name__ == "ValueError"


@pytest.mark.parametrize("method", ALL_METHODS)
def test_empty_input(method):
    lg = check_error(identity, None, method)
    assert lg.error[0] == "EmptyInputError"
    assert lg.error[1] == "Received no input for __start__"


def test_empty_input_error_class():
    lg, sg = run_both(identity, None, "invoke")
    assert isinstance(lg.exc, LG.errors.EmptyInputError)
    assert isinstance(sg.exc, SG.errors.EmptyInputError)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_falsy_inputs_are_not_empty(method):
    for value in (0, "", [], {}, False):
        check(identity, value, method)


@pytest.mark.parametrize("method", ["invoke", "astream"])
def test_retry_policy_on_task(method):
    lg = check(retrying_task, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    if method == "invoke":
        assert lg.value == [1, 3]


@pytest.mark.parametrize("method", ["invoke", "astream"])
def test_retry_policy_exhausted(method):
    lg = check_error(retry_exhausted, 1, method, **method_kwargs(method, ["updates", "tasks"]))
    assert lg.error[:2] == ("ValueError", "always")


# --------------------------------------------------------------------------- misc API
@pytest.mark.parametrize("method", ALL_METHODS)
def test_named_task_with_args_and_kwargs(method):
    lg = check(named_task_kwargs, 1, method, **method_kwargs(method, ["tasks", "updates"]))
    if method == "stream":
        assert ("tasks", {"id": "<id>", "name": "renamed", "input": ((1, 2), {"z": 3}),
                          "triggers": ("__pregel_push",)}) in lg.value


@pytest.mark.parametrize("mode", ["updates", ["updates", "values", "custom"]], ids=["updates", "multi"])
def test_stream_v2_parts(mode):
    check(seq_sync, 3, "stream", stream_mode=mode, version="v2")


@pytest.mark.parametrize("method", ["invoke", "ainvoke"])
def test_invoke_v2_output(method):
    check(seq_sync, 3, method, version="v2")


def test_invoke_with_stream_mode_returns_chunks():
    check(seq_sync, 3, "invoke", stream_mode="updates")


@pytest.mark.parametrize("method", STREAMS)
def test_stream_subgraphs_flag(method):
    check(nested_sync, 1, method, subgraphs=True, stream_mode=["updates", "custom"])


def unawaited(E, log):
    """A task call whose future nobody collects."""
    f = F(E)

    @f.task
    def fire_and_forget(x: int) -> int:
        time.sleep(0.02)
        log.append(x)
        return x

    @f.entrypoint()
    def wf(x: int) -> str:
        fire_and_forget(x)
        return "done"

    return wf


@pytest.mark.parametrize("method", ALL_METHODS)
def test_unawaited_task_still_completes(method):
    """LangGraph runs a never-collected task to completion before the run returns."""
    seen = {}
    lg, sg = run_both(lambda E: unawaited(E, seen.setdefault(E.label, [])), 7, method)
    # no sleep here: the task must have finished by the time the call returned
    assert seen[LG.label] == [7]
    assert seen[SG.label] == [7], "swiftgraph returned before (or without) running the task"
    if method.endswith("invoke"):
        assert_same(lg, sg)


@pytest.mark.parametrize("mode", [["updates", "tasks"], "updates", "debug"],
                         ids=["updates+tasks", "updates", "debug"])
def test_unawaited_task_stream_order(mode):
    lg = check(lambda E: unawaited(E, []), 7, "stream", stream_mode=mode)
    if mode == "updates":
        assert lg.value == [{"wf": "done"}, {"fire_and_forget": 7}]


def test_entrypoint_second_positional_param_with_default():
    """``def wf(x, y=5)``: LangGraph accepts it (only x is the input)."""
    lg = check(entry_with_default_param, 1, "invoke")
    assert lg.value == 6


def test_entrypoint_attributes():
    for E in (LG, SG):
        wf = seq_sync(E)
        for name in ("invoke", "ainvoke", "stream", "astream", "batch", "abatch", "get_graph"):
            assert callable(getattr(wf, name)), (E.label, name)


def test_entrypoint_get_graph_mermaid():
    check(lambda E: seq_sync(E).get_graph().draw_mermaid(), None, "build")


def test_final_is_exposed_on_entrypoint():
    for E in (LG, SG):
        f = F(E)
        fin = f.entrypoint.final(value=1, save=2)
        assert (fin.value, fin.save) == (1, 2)


# --------------------------------------------------------------------------- divergences
@divergence
@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_async_entrypoint_under_sync_api_runs_on_swiftgraph(method):
    # README "known differences": async code under invoke() runs on swiftgraph.
    lg, sg = run_both(gathered_async, "Clara", method)
    assert lg.error[0] == "TypeError"
    assert lg.error[1].startswith('No synchronous function provided to "screen"')
    assert sg.error is None
    if method == "invoke":
        assert sg.value == "HIRED:background,references,skills"


@divergence
def test_async_task_from_sync_entrypoint_runs_on_swiftgraph():
    # Same family as above (not in the README table yet): LangGraph refuses to run an
    # async task from a sync entrypoint; swiftgraph runs it and .result() waits for it.
    def build(E):
        f = F(E)

        @f.task
        async def a(x):
            await asyncio.sleep(0)
            return x + 1

        @f.entrypoint()
        def wf(x):
            return a(x).result()

        return wf

    lg, sg = run_both(build, 1, "invoke")
    assert lg.error[:2] == ("RuntimeError", "In an sync context async tasks cannot be called")
    assert sg.error is None and sg.value == 2


@divergence
def test_bare_entrypoint_works_on_swiftgraph():
    # README: "@entrypoint without parentheses -> AttributeError | works".
    def build(E):
        f = F(E)

        @f.entrypoint
        def wf(x):
            return x * 3

        return wf

    lg, sg = run_both(build, 2, "invoke")
    assert lg.error[0] == "AttributeError"
    assert sg.error is None and sg.value == 6


# --------------------------------------------------------------- @task from graph nodes


class Logged(TypedDict):
    log: Annotated[list, operator.add]


def _graph_calling_tasks(E, width: int, meet=None):
    """START -> "fan": a plain node calling ``width`` tasks, then waiting for them all."""
    f = F(E)

    @f.task
    def double(x):
        if meet is not None:
            meet.wait()
        return x * 2

    def fan(state):
        futures = [double(i) for i in range(width)]
        return {"log": [fut.result(timeout=10) for fut in futures]}  # (fail, don't hang)

    g = E.StateGraph(Logged)
    g.add_node("fan", fan)
    g.add_edge(E.START, "fan")
    return g.compile()


@pytest.mark.parametrize("method", ALL_METHODS)
def test_tasks_called_from_a_plain_graph_node(method):
    """A plain node alone in its step calling @tasks: swiftgraph ran such a node on the
    event loop's thread, where a task call could only fail (the loop was busy running
    the node)."""
    lg = check(lambda E: _graph_calling_tasks(E, 3), {"log": []}, method, order="multiset")
    assert lg.ok


@pytest.mark.parametrize("method", ["invoke", "ainvoke"])
def test_tasks_called_from_a_plain_graph_node_run_concurrently(method):
    import threading

    def build(E):
        return _graph_calling_tasks(E, 3, meet=threading.Barrier(3, timeout=2))

    lg = check(build, {"log": []}, method)
    assert lg.ok and lg.value == {"log": [0, 2, 4]}


@divergence
def test_task_the_engine_cannot_see_in_a_lone_plain_node_is_refused():
    """swiftgraph runs a plain node that calls @tasks in a worker thread when it sees
    the call (a task named by a global or closure variable). A task reached another
    way (here through a dict) from a plain node running alone in its step under
    invoke() can't run: the node runs on the loop's thread. LangGraph runs it;
    swiftgraph raises, saying how to make it visible (README: known differences)."""
    def build(E):
        f = F(E)

        @f.task
        def double(x):
            return x * 2

        tasks = {"double": double}

        def node(state):
            return {"log": [tasks["double"](21).result(timeout=10)]}

        g = E.StateGraph(Logged)
        g.add_node("node", node)
        g.add_edge(E.START, "node")
        return g.compile()

    lg, sg = run_both(build, {"log": []}, "invoke")
    assert lg.error is None and lg.value == {"log": [42]}
    assert sg.error[0] == "RuntimeError"
    assert "@task 'double' was called from 'node'" in sg.error[1]
    assert "global or closure variable" in sg.error[1] and "async def" in sg.error[1]
    # under the async API the same node runs in a worker thread: the task runs
    lg, sg = run_both(build, {"log": []}, "ainvoke")
    assert sg.error is None and sg.value == lg.value == {"log": [42]}


_VAR = __import__("contextvars").ContextVar("swiftgraph_func_var", default="unset")


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_context_variables_set_by_a_task_stay_in_it(asynchronous):
    """Each @task call runs in a copy of the context, as in LangGraph: what one sets is
    seen neither by the next call, nor by the entrypoint, nor by the caller. swiftgraph
    ran an awaited async call inside its caller's context."""

    def build(E):
        f = F(E)
        if asynchronous:
            @f.task
            async def first(x):
                _VAR.set("first")
                return f"first sees {_VAR.get()}"

            @f.task
            async def second(x):
                return f"second sees {_VAR.get()}"

            @f.entrypoint()
            async def wf(x):
                a, b = await first(x), await second(x)
                return [a, b, f"entrypoint sees {_VAR.get()}"]
        else:
            @f.task
            def first(x):
                _VAR.set("first")
                return f"first sees {_VAR.get()}"

            @f.task
            def second(x):
                return f"second sees {_VAR.get()}"

            @f.entrypoint()
            def wf(x):
                a = first(x).result()
                return [a, second(x).result(), f"entrypoint sees {_VAR.get()}"]

        return wf

    async def awaited(wf):
        return await wf.ainvoke(1), _VAR.get()

    def observe(E):
        token = _VAR.set("caller")
        try:
            wf = build(E)
            if asynchronous:
                return asyncio.run(awaited(wf))
            return wf.invoke(1), _VAR.get()
        finally:
            _VAR.reset(token)

    lg, sg = observe(LG), observe(SG)
    assert sg == lg
    assert lg == (["first sees first", "second sees caller", "entrypoint sees caller"], "caller")
