"""swiftgraph-only behaviour of the Graph API: what goes beyond LangGraph."""

from __future__ import annotations

import asyncio
import gc
import itertools
import operator
import threading
import time
import warnings
from typing import Annotated, TypedDict

import pytest

from swiftgraph.errors import GraphDefinitionError, UnknownTargetError
from swiftgraph.graph import END, START, StateGraph
from swiftgraph.types import Send


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]
    n: int


def _fanout(fn, width: int):
    return _side_by_side(**{f"w{i}": fn for i in range(width)})


def _side_by_side(**bodies):
    """Each node starts from START: they all run in the first step."""
    g = StateGraph(S)
    for name, fn in bodies.items():
        g.add_node(name, fn)
        g.add_edge(START, name)
    return g.compile()


def test_parallel_sync_nodes_overlap_under_invoke():
    def slow(state):
        time.sleep(0.2)
        return {"log": [threading.current_thread().name]}

    start = time.perf_counter()
    out = _fanout(slow, 3).invoke({"log": []})
    assert time.perf_counter() - start < 0.45
    assert len(out["log"]) == 3


def test_finished_runs_leave_no_reference_cycles():
    """A run's objects are freed by reference counting the moment it ends: with
    thousands of runs in flight, whatever a run left in a cycle would wait for the
    garbage collector and make each of its passes longer. (Failed runs: see
    test_failed_runs_leave_no_reference_cycles.)"""

    async def work(state):
        await asyncio.sleep(0)
        return {"log": [1]}

    fan_out, chain = _fanout(work, 3), StateGraph(S)
    chain.add_sequence([("a", work), ("b", work)])
    chain.add_edge(START, "a")
    graphs = [fan_out, chain.compile()]

    async def runs() -> int:
        for graph in graphs:  # (first runs make what a process makes once)
            await graph.ainvoke({"log": []})
        gc.collect()
        gc.disable()
        try:
            for _ in range(3):
                for graph in graphs:
                    assert (await graph.ainvoke({"log": []}))["log"] in ([1, 1, 1], [1, 1])
            return gc.collect()
        finally:
            gc.enable()

    assert asyncio.run(runs()) == 0


def test_building_and_compiling_a_graph_leaves_no_reference_cycles():
    """Apps that build a graph per request (their tools differ) must not leave one for
    the garbage collector each time: the builtin reducer's signature (``operator.add``)
    is read once, not with a class made anew per graph (inspect's way)."""

    def build() -> None:
        g = StateGraph(S)
        g.add_node("a", lambda state: {"log": [1]})
        g.add_edge(START, "a")
        assert g.compile().invoke({"log": []}) == {"log": [1]}

    assert _left_for_the_collector(build) == 0


def _left_for_the_collector(once) -> int:
    """Objects left in reference cycles by 3 calls of ``once()``, found with the
    collector off (after a first call, which makes what a process makes once)."""
    once()
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            once()
        return gc.collect()
    finally:
        gc.enable()


async def _failing(state):
    await asyncio.sleep(0)
    raise ValueError("boom")


async def _work(state):
    await asyncio.sleep(0)
    return {"log": [1]}


def _chain(last, **compile_kw):
    g = StateGraph(S)
    g.add_sequence([("a", _work), ("b", last)])
    g.add_edge(START, "a")
    return g.compile(**compile_kw)


def _failing_fan_out(**compile_kw):
    g = StateGraph(S)
    for name, fn in {"w0": _failing, "w1": _work, "w2": _work}.items():
        g.add_node(name, fn)
        g.add_edge(START, name)
    return g.compile(**compile_kw)


def _retried():
    from swiftgraph.types import RetryPolicy

    retry = RetryPolicy(max_attempts=2, initial_interval=0.0001, jitter=False)
    g = StateGraph(S)
    g.add_node("a", _failing, retry_policy=retry)
    g.add_edge(START, "a")
    return g.compile()


def _timed():
    g = StateGraph(S)
    g.add_node("a", _failing, timeout=5.0)
    g.add_edge(START, "a")
    return g.compile()


def _failing_subgraph():
    g = StateGraph(S)
    g.add_node("sub", _chain(_failing))
    g.add_edge(START, "sub")
    return g.compile()


def _asking(state):
    from swiftgraph.types import interrupt

    return {"log": [interrupt("approve?")]}


def _failing_entrypoint():
    from swiftgraph.func import entrypoint, task

    @task
    async def step(x):
        await asyncio.sleep(0)
        raise ValueError("boom")

    @entrypoint()
    async def flow(x):
        return await step(x)

    return flow


def _saver():
    from swiftgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


_FAILING = {
    "chain": lambda: _chain(_failing),
    "fan-out": _failing_fan_out,
    "checkpointed chain": lambda: _chain(_failing, checkpointer=_saver()),
    "checkpointed fan-out": lambda: _failing_fan_out(checkpointer=_saver()),
    "retried": _retried,
    "timed": _timed,
    "subgraph": _failing_subgraph,
    "interrupted (no error)": lambda: _chain(_asking, checkpointer=_saver()),
    "functional": _failing_entrypoint,
}


_threads_used = itertools.count()


@pytest.mark.parametrize(
    "how",
    [
        "ainvoke", "invoke", "stream", "invoke in a running loop", "stream in a running loop",
        "batch_as_completed", "abatch_as_completed",
    ],
)
@pytest.mark.parametrize("name", list(_FAILING))
def test_failed_runs_leave_no_reference_cycles(name: str, how: str) -> None:
    """A failed run is freed as soon as its caller drops the error: the error's
    traceback holds the engine's frames, so none of them may hold the error back
    (nor the asyncio task or future holding it), or each failure would leave its
    whole run, state included, for the garbage collector. The same for a sync
    stream's end, failed or not (asyncio's StopAsyncIteration), and for the sync API
    called inside a running loop (run on a portal thread)."""
    graph = _FAILING[name]()
    arg = 1 if name == "functional" else {"log": []}

    def sync_call(config) -> None:
        if how.startswith("invoke"):
            graph.invoke(arg, config)  # type: ignore[attr-defined]
        elif how.startswith("stream"):
            for _ in graph.stream(arg, config):  # type: ignore[attr-defined]
                pass
        else:
            for _ in graph.batch_as_completed([arg, arg], config):  # type: ignore[attr-defined]
                pass

    def once() -> None:
        config = {"configurable": {"thread_id": f"t{next(_threads_used)}"}}

        async def main() -> None:
            try:
                if how == "ainvoke":
                    await graph.ainvoke(arg, config)  # type: ignore[attr-defined]
                elif how == "abatch_as_completed":
                    runs = graph.abatch_as_completed([arg, arg], config)  # type: ignore[attr-defined]
                    async for _ in runs:
                        pass
                else:
                    sync_call(config)
            except ValueError:
                pass

        if how in ("invoke", "stream", "batch_as_completed"):
            try:
                sync_call(config)
            except ValueError:
                pass
        else:
            asyncio.run(main())

    assert _left_for_the_collector(once) == 0


@pytest.mark.parametrize("mode", ["values", "updates", "custom", "debug", "tasks", "messages"])
@pytest.mark.parametrize("fails", [False, True], ids=["ok", "failing"])
def test_streamed_runs_leave_no_reference_cycles(mode: str, fails: bool) -> None:
    """Every stream mode, run to its end or to a failure, by a consumer that keeps no
    chunk: nothing left for the collector (a "custom" run held its own writer as a
    bound method; a failed "debug" run's last chunk holds the error)."""
    import collections

    graph = _chain(_failing if fails else _work)

    def once() -> None:
        try:
            collections.deque(graph.stream({"log": []}, stream_mode=mode), maxlen=0)
        except ValueError:
            pass

    assert _left_for_the_collector(once) == 0


def test_max_concurrency_bounds_running_tasks():
    running, peak = [0], [0]

    async def work(state):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.02)
        running[0] -= 1
        return {"log": [1]}

    out = asyncio.run(_fanout(work, 8).ainvoke({"log": []}, {"max_concurrency": 2}))
    assert len(out["log"]) == 8 and peak[0] == 2


def test_failing_task_cancels_running_siblings():
    finished = []

    async def slow(state):
        await asyncio.sleep(1)
        finished.append(True)
        return {}

    async def boom(state):
        await asyncio.sleep(0.01)
        raise KeyError("boom")

    graph = _side_by_side(slow=slow, boom=boom)
    start = time.perf_counter()
    with pytest.raises(KeyError) as info:
        asyncio.run(graph.ainvoke({}))
    assert time.perf_counter() - start < 0.5
    assert info.value.args == ("boom",)
    assert any("During task with name 'boom'" in n for n in info.value.__notes__)
    assert finished == []
    outcomes = {r.name: r.outcome for r in graph.last_timeline.tasks}
    assert outcomes == {"boom": "error", "slow": "cancelled"}


def test_invoke_runs_async_nodes_and_works_inside_a_running_loop():
    async def a(state):
        await asyncio.sleep(0)
        return {"n": state["n"] + 1}

    g = StateGraph(S)
    g.add_node("a", a)
    g.add_edge(START, "a")
    graph = g.compile()
    assert graph.invoke({"n": 1}) == {"n": 2, "log": []}

    async def inside_loop():  # as in Jupyter
        return graph.invoke({"n": 5})

    assert asyncio.run(inside_loop()) == {"n": 6, "log": []}


def test_sync_node_calling_another_graph_invoke():
    inner = StateGraph(S)
    inner.add_node("i", lambda s: {"n": s["n"] * 10})
    inner.add_edge(START, "i")
    sub = inner.compile()

    outer = StateGraph(S)
    outer.add_node("o", lambda s: {"n": sub.invoke({"n": s["n"]})["n"] + 1})
    outer.add_edge(START, "o")
    assert outer.compile().invoke({"n": 2})["n"] == 21


def test_send_to_unknown_node_names_it():
    g = StateGraph(S)
    g.add_node("a", lambda s: {})
    g.add_node("w", lambda s: {})
    g.add_edge(START, "a")
    g.add_conditional_edges("a", lambda s: [Send("ghost", 1)])
    with pytest.raises(UnknownTargetError, match="ghost") as info:
        g.compile().invoke({})
    assert "'a'" in str(info.value) and "'w'" in str(info.value)


def test_edge_to_unknown_node_lists_known_nodes():
    g = StateGraph(S)
    g.add_node("alpha", lambda s: {})
    g.add_edge(START, "alpha")
    g.add_edge("alpha", "betta")
    with pytest.raises(GraphDefinitionError) as info:
        g.compile()
    assert "betta" in str(info.value) and "'alpha'" in str(info.value)


def test_static_loop_without_exit_warns_at_compile_time():
    g = StateGraph(S)
    g.add_node("a", lambda s: {})
    g.add_node("b", lambda s: {})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "a")
    with pytest.warns(UserWarning, match="no edge towards END"):
        g.compile()


def test_dropped_keys_warning_is_opt_in():
    g = StateGraph(S)
    g.add_node("a", lambda s: {"n": 1, "typo": 2})
    g.add_edge(START, "a")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert g.compile().invoke({})["n"] == 1
    with pytest.warns(UserWarning, match="typo"):
        g.compile(warn_dropped_keys=True).invoke({})


def test_timeline_records_parallel_tasks_and_supersteps():
    async def a(state):
        await asyncio.sleep(0.05)
        return {}

    g = StateGraph(S)
    for name in ("p", "x", "y", "z"):
        g.add_node(name, a)
    g.add_edge(START, "p")
    g.add_edge("p", "x")
    g.add_edge("p", "y")
    g.add_edge(["x", "y"], "z")
    g.add_edge("z", END)
    graph = g.compile()
    asyncio.run(graph.ainvoke({}))
    tl = graph.last_timeline
    steps = {r.name: r.step for r in tl.tasks}
    assert steps == {"p": 1, "x": 2, "y": 2, "z": 3}
    by = {r.name: r for r in tl.tasks}
    assert by["x"].start < by["y"].end and by["y"].start < by["x"].end  # overlapped
    assert all(r.outcome == "ok" and r.id for r in tl.tasks)
    assert 0.15 <= tl.wall < 0.3


def test_parallel_async_bodies_see_their_own_task_and_fail_as_one_step():
    """Async nodes running side by side (each body its own asyncio task, see
    Run._launch_step): each sees its own config, and a bad return fails the step naming
    the node."""
    from swiftgraph.config import get_config

    seen: dict[str, str] = {}

    async def who(state):
        await asyncio.sleep(0)
        node = get_config()["metadata"]["langgraph_node"]
        seen[node] = node
        return {"log": [node]}

    graph = _fanout(who, 3)
    assert sorted(asyncio.run(graph.ainvoke({"log": []}))["log"]) == ["w0", "w1", "w2"]
    assert seen == {"w0": "w0", "w1": "w1", "w2": "w2"}
    assert {(r.name, r.outcome) for r in graph.last_timeline.tasks} == {
        ("w0", "ok"), ("w1", "ok"), ("w2", "ok"),
    }

    async def slow(state):
        await asyncio.sleep(5)
        return {"n": 1}

    async def bad(state):
        return ["not", "a", "dict"]

    start = time.perf_counter()
    with pytest.raises(Exception, match="Expected dict") as info:
        asyncio.run(_side_by_side(bad=bad, slow=slow).ainvoke({}))
    assert time.perf_counter() - start < 2  # the sleeping sibling was cancelled
    assert any("During task with name 'bad'" in n for n in info.value.__notes__)


def test_timeline_read_while_its_run_goes_on():
    """Reading ``last_timeline`` from inside a running node (a progress display, say)
    neither disturbs the run nor loses what happens after it: the next read adds the
    tasks begun since and ends the ones that were running."""
    seen = {}

    def peek(state):
        seen["timeline"] = tl = graph.last_timeline
        seen["mid"] = [(r.name, r.outcome) for r in tl.tasks]
        seen["mid_end"] = tl.end
        return {"log": ["peek"]}

    g = StateGraph(S)
    g.add_node("a", lambda s: {"log": ["a"]})
    g.add_node("peek", peek)
    g.add_node("z", lambda s: {"log": ["z"]})
    g.add_edge(START, "a")
    g.add_edge("a", "peek")
    g.add_edge("peek", "z")
    graph = g.compile()
    assert graph.invoke({"log": []})["log"] == ["a", "peek", "z"]
    assert seen["mid"] == [("a", "ok"), ("peek", "running")] and seen["mid_end"] is None
    # the same object, caught up: the run's end time too
    assert graph.last_timeline is seen["timeline"] and seen["timeline"].end is not None
    assert [r.name for r in graph.last_timeline.tasks] == ["a", "peek", "z"]
    assert [r.outcome for r in graph.last_timeline.tasks] == ["ok", "ok", "ok"]
    assert all(r.end is not None and r.end >= r.start for r in graph.last_timeline.tasks)


def test_each_run_timeline_owns_its_task_list():
    """Every timeline a user gets has its own list of records, which they may edit
    freely; reading the same run's timeline again gives the same object."""
    first = _fanout(lambda s: {"log": [1]}, 2)
    second = _fanout(lambda s: {"log": [2]}, 1)
    first.invoke({"log": []})
    second.invoke({"log": []})
    a, b = first.last_timeline.tasks, second.last_timeline.tasks
    assert a is not b and len(a) == 2 and len(b) == 1
    a.clear()
    assert len(second.last_timeline.tasks) == 1 and first.last_timeline.tasks == []


def test_timeline_outcomes_retries_and_threads():
    from swiftgraph.types import RetryPolicy

    attempts = []

    def flaky(state):
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return {"n": 1}

    def boom(state):
        raise KeyError("boom")

    g = StateGraph(S)
    g.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.001, jitter=False))
    g.add_node("boom", boom)
    g.add_edge(START, "flaky")
    g.add_edge("flaky", "boom")
    graph = g.compile()
    with pytest.raises(KeyError):
        graph.invoke({})
    by = {r.name: r for r in graph.last_timeline.tasks}
    assert by["flaky"].outcome == "ok" and by["flaky"].retries == 2
    assert by["boom"].outcome == "error" and "boom" in by["boom"].error
    assert all(r.worker for r in by.values())
    # parallel sync nodes run in pool threads, and the timeline says which
    graph = _fanout(lambda s: time.sleep(0.01) or {"log": [1]}, 3)
    graph.invoke({"log": []})
    threads = {r.worker for r in graph.last_timeline.tasks}
    assert len(threads) >= 2 and all(t.startswith("swiftgraph") for t in threads)


def test_sync_api_leaves_no_event_loop_open():
    """invoke() runs on a private loop per thread; it is closed when the thread ends and
    at exit, so ``python -X dev`` (or -W error) shows no unclosed-loop ResourceWarning."""
    import subprocess
    import sys
    import textwrap

    program = textwrap.dedent("""
        import threading
        from typing import TypedDict
        from swiftgraph.graph import START, StateGraph

        class S(TypedDict):
            n: int

        g = StateGraph(S)
        g.add_node("a", lambda s: {"n": s["n"] + 1})
        g.add_edge(START, "a")
        app = g.compile()
        assert app.invoke({"n": 0}) == {"n": 1}
        worker = threading.Thread(target=lambda: app.invoke({"n": 1}))
        worker.start()
        worker.join()
        print("ran")
    """)
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ran", done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr


def test_a_nodes_runtime_overrides_like_any_runtime():
    """A node's runtime works out execution_info when read; override() and
    dataclasses.replace give an ordinary Runtime with it (and with the change)."""
    import dataclasses

    from swiftgraph.runtime import Runtime

    class S(TypedDict):
        n: int

    seen = {}

    def node(state, runtime: Runtime):
        other = runtime.override(previous="x")
        seen["same_info"] = other.execution_info == runtime.execution_info
        seen["types"] = (isinstance(runtime, Runtime), type(other) is Runtime, other.previous)
        seen["replaced"] = dataclasses.replace(runtime, context={"k": 1}).context
        seen["task"] = runtime.execution_info.task_id
        return {"n": 1}

    g = StateGraph(S)
    g.add_node("a", node)
    g.add_edge(START, "a")
    g.compile().invoke({"n": 0})
    assert seen["same_info"] and seen["types"] == (True, True, "x") and seen["replaced"] == {"k": 1}
    assert len(seen["task"]) == 36


def test_importing_the_graph_api_stays_light():
    """``import swiftgraph.graph`` loads no module that costs milliseconds: not
    ``inspect`` (which ``dataclasses`` and ``asyncio`` bring), nor the checkpoint or
    serializer modules. A graph is built and inspected later; the import stays cheap."""
    import subprocess
    import sys

    heavy = ["inspect", "dataclasses", "asyncio", "swiftgraph._internal.persistence", "swiftgraph._internal.serde"]
    program = (
        "import sys\nimport swiftgraph.graph\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
