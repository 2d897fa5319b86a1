"""Functional API with a checkpointer: ``previous``, ``entrypoint.final(save=...)``,
threads, resuming after a failure; swiftgraph vs LangGraph.

LangGraph side: ``langgraph.checkpoint.memory.InMemorySaver``; swiftgraph side:
``swiftgraph.checkpoint.memory.InMemorySaver``.  
Each test drives a whole multi-call scenario inside ``build(E)`` and returns a
transcript; the harness (``method="build"``) compares the transcripts of both engines,
or the first error either engine raised.
"""

from __future__ import annotations

import asyncio
import importlib

import pytest
from conftest import check, normalize, run_both



def F(E):
    return importlib.import_module(f"{E.package}.func")


def saver(E):
    """A fresh in-memory checkpointer of engine ``E``."""
    return importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver()


def thread(tid: str) -> dict:
    return {"configurable": {"thread_id": tid}}


def attempt(fn, *args, **kwargs):
    """Call ``fn``; an exception becomes part of the transcript instead of aborting it."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001
        return ("raised", type(e).__name__, normalize(str(e)))


# --------------------------------------------------------------------------- workflows
def counter(E):
    """Returns its input plus what it returned last time on this thread."""
    f = F(E)

    @f.task
    def add(a: int, b: int) -> int:
        return a + b

    @f.entrypoint(checkpointer=saver(E))
    def wf(x: int, *, previous=None) -> dict:
        total = add(x, previous["total"] if previous else 0).result()
        return {"total": total, "seen_previous": previous}

    return wf


def accumulator_with_final(E):
    """Returns one thing to the caller, saves another for the next run."""
    f = F(E)

    @f.task
    def fmt(items: list) -> str:
        return "+".join(map(str, items))

    @f.entrypoint(checkpointer=saver(E))
    def wf(x: int, *, previous: list | None = None):
        items = (previous or []) + [x]
        return f.entrypoint.final(value=fmt(items).result(), save=items)

    return wf


def async_accumulator(E):
    f = F(E)

    @f.task
    async def slow_len(items: list) -> int:
        await asyncio.sleep(0.001)
        return len(items)

    @f.entrypoint(checkpointer=saver(E))
    async def wf(x: str, *, previous=None):
        items = (previous or []) + [x]
        n, m = await asyncio.gather(slow_len(items), slow_len(items[:-1]))
        return f.entrypoint.final(value={"n": n, "before": m, "prev": previous}, save=items)

    return wf


# --------------------------------------------------------------------------- tests
def test_previous_is_last_return_value():
    def scenario(E):
        wf = counter(E)
        cfg = thread("t1")
        return [attempt(wf.invoke, x, cfg) for x in (1, 2, 3)]

    lg = check(scenario, None, "build")
    assert [r[1]["total"] for r in lg.value] == [1, 3, 6]
    assert lg.value[0][1]["seen_previous"] is None


def test_final_value_returned_and_save_becomes_previous():
    def scenario(E):
        wf = accumulator_with_final(E)
        cfg = thread("t1")
        return [attempt(wf.invoke, x, cfg) for x in (1, 2, 3)]

    lg = check(scenario, None, "build")
    assert lg.value == [("ok", "1"), ("ok", "1+2"), ("ok", "1+2+3")]


def test_threads_are_isolated():
    def scenario(E):
        wf = accumulator_with_final(E)
        return [
            attempt(wf.invoke, 1, thread("a")),
            attempt(wf.invoke, 10, thread("b")),
            attempt(wf.invoke, 2, thread("a")),
            attempt(wf.invoke, 20, thread("b")),
            attempt(wf.invoke, 3, thread("c")),
        ]

    lg = check(scenario, None, "build")
    assert [r[1] for r in lg.value] == ["1", "10", "1+2", "10+20", "3"]


def test_async_previous_and_final():
    def scenario(E):
        wf = async_accumulator(E)
        cfg = thread("t1")

        async def go():
            out = []
            for x in ("a", "b", "c"):
                try:
                    out.append(("ok", await wf.ainvoke(x, cfg)))
                except Exception as e:  # noqa: BLE001
                    out.append(("raised", type(e).__name__, normalize(str(e))))
            return out

        return asyncio.run(go())

    lg = check(scenario, None, "build")
    assert lg.value[-1] == ("ok", {"n": 3, "before": 2, "prev": ["a", "b"]})


@pytest.mark.parametrize("mode", ["updates", "values", ["updates", "values", "custom"], "tasks"],
                         ids=["updates", "values", "multi", "tasks"])
def test_streams_with_checkpointer(mode):
    def scenario(E):
        wf = accumulator_with_final(E)
        cfg = thread("s")
        first = list(wf.stream(1, cfg, stream_mode=mode))
        second = list(wf.stream(2, cfg, stream_mode=mode))
        return [first, second]

    lg = check(scenario, None, "build")
    if mode == "values":
        assert lg.value == [["1"], ["1+2"]]


def test_checkpoints_stream():
    def scenario(E):
        wf = accumulator_with_final(E)
        cfg = thread("cp")
        wf.invoke(1, cfg)
        return list(wf.stream(2, cfg, stream_mode="checkpoints"))

    check(scenario, None, "build")


def test_get_state_after_runs():
    def scenario(E):
        wf = accumulator_with_final(E)
        cfg = thread("st")
        wf.invoke(1, cfg)
        wf.invoke(2, cfg)
        snap = wf.get_state(cfg)
        history = list(wf.get_state_history(cfg))
        return {
            "values": snap.values,
            "next": snap.next,
            "metadata": snap.metadata,
            "config_keys": sorted(snap.config["configurable"]),
            "history": [(h.metadata.get("source"), h.metadata.get("step"), h.next)
                        for h in history],
        }

    lg = check(scenario, None, "build")
    assert lg.value["values"] == "1+2"


def test_batch_on_separate_threads():
    def scenario(E):
        wf = accumulator_with_final(E)
        cfgs = [thread("x"), thread("y")]
        first = wf.batch([1, 10], cfgs)
        second = wf.batch([2, 20], cfgs)
        return [first, second]

    lg = check(scenario, None, "build")
    assert lg.value == [["1", "10"], ["1+2", "10+20"]]


def test_resume_after_failure_replays_finished_tasks():
    """A run fails in its second task; invoking the thread again with None resumes it:
    the first task's saved result is reused, not recomputed."""

    def scenario(E):
        f = F(E)
        calls = []
        state = {"fail": True}

        @f.task
        def expensive(x: int) -> int:
            calls.append(("expensive", x))
            return x * 100

        @f.task
        def flaky(x: int) -> int:
            calls.append(("flaky", x))
            if state["fail"]:
                raise RuntimeError("transient")
            return x + 1

        @f.entrypoint(checkpointer=saver(E))
        def wf(x: int) -> int:
            return expensive(x).result() + flaky(x).result()

        cfg = thread("r")
        out = [attempt(wf.invoke, 5, cfg), list(calls)]
        state["fail"] = False
        calls.clear()
        out += [attempt(wf.invoke, None, cfg), list(calls)]
        return out

    lg = check(scenario, None, "build")
    assert lg.value[0][:2] == ("raised", "RuntimeError")
    assert lg.value[2] == ("ok", 506)
    assert lg.value[3] == [("flaky", 5)]


def test_missing_thread_id_is_refused():
    def scenario(E):
        wf = counter(E)
        return attempt(wf.invoke, 1)

    lg = check(scenario, None, "build")
    assert lg.value[:2] == ("raised", "ValueError")


def test_previous_ignored_without_checkpointer_but_set_with_one():
    def scenario(E):
        f = F(E)

        def body(x, *, previous=None):
            return {"x": x, "previous": previous}

        plain = f.entrypoint()(body)
        saved = f.entrypoint(checkpointer=saver(E))(body)
        cfg = thread("p")
        return [plain.invoke(1), plain.invoke(2), saved.invoke(1, cfg), saved.invoke(2, cfg)]

    lg = check(scenario, None, "build")
    assert lg.value[3] == {"x": 2, "previous": {"x": 1, "previous": None}}


def test_checkpointer_importable_on_both():
    lg, sg = run_both(lambda E: type(saver(E)).__name__, None, "build")
    assert lg.value == "InMemorySaver"
    assert sg.error is None, f"swiftgraph: {sg.error}"
    assert sg.value == "InMemorySaver"
