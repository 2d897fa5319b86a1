"""swiftgraph-only behaviour of the Functional API (``swiftgraph.func``).

What LangGraph doesn't do, or what the differential tests can't see: the bare
``@entrypoint`` form, decoration-time signature checks, the message of a task called
outside a workflow, real concurrency (wall-clock bounds, kept generous), exception
identity, and cancellation of sibling tasks when one fails.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from swiftgraph.func import entrypoint, final, task

# --------------------------------------------------------------------------- decoration


def test_bare_entrypoint_works():
    @entrypoint
    def wf(x: int) -> int:
        return x + 1

    assert wf.invoke(1) == 2
    assert asyncio.run(wf.ainvoke(2)) == 3
    assert list(wf.stream(3, stream_mode="updates")) == [{"wf": 4}]


def test_called_entrypoint_works():
    @entrypoint()
    def wf(x: int) -> int:
        return x + 1

    assert wf.invoke(1) == 2
    assert asyncio.run(wf.ainvoke(2)) == 3
    assert list(wf.stream(3, stream_mode="updates")) == [{"wf": 4}]


def test_bare_and_called_entrypoint_agree():
    def body(x):
        return {"got": x}

    bare = entrypoint(body)
    called = entrypoint()(body)
    assert type(bare) is type(called)
    for wf in (bare, called):
        assert wf.invoke(5) == {"got": 5}
        assert next(iter(wf.stream(5, stream_mode="tasks")))["name"] == "body"


def test_bare_async_entrypoint_works():
    @task
    async def t(x):
        await asyncio.sleep(0)
        return x * 2

    @entrypoint
    async def wf(x):
        return await t(x)

    assert asyncio.run(wf.ainvoke(21)) == 42


def test_entrypoint_with_zero_positional_params_is_refused_at_decoration():
    def no_input() -> int:
        return 1

    with pytest.raises(ValueError, match="no_input"):
        entrypoint(no_input)
    with pytest.raises(ValueError, match="no_input"):
        entrypoint()(no_input)


def test_entrypoint_with_only_keyword_params_is_refused_at_decoration():
    def kw_only(*, config) -> int:
        return 1

    with pytest.raises(ValueError, match="kw_only"):
        entrypoint()(kw_only)


def test_entrypoint_with_two_positional_params_is_refused_at_decoration():
    def two_inputs(a, b):
        return a + b

    with pytest.raises(ValueError, match="two_inputs") as ei:
        entrypoint()(two_inputs)
    assert "positional" in str(ei.value)
    with pytest.raises(ValueError, match="two_inputs"):
        entrypoint(two_inputs)


def test_async_entrypoint_signature_is_checked_too():
    async def async_two(a, b):
        return a

    with pytest.raises(ValueError, match="async_two"):
        entrypoint()(async_two)


def test_entrypoint_with_injected_keyword_params_is_accepted():
    @entrypoint
    def wf(x, *, config, writer, previous=None):
        writer({"k": config["configurable"].get("k")})
        return [x, previous]

    assert wf.invoke(1, {"configurable": {"k": "v"}}) == [1, None]
    assert list(wf.stream(1, {"configurable": {"k": "v"}}, stream_mode="custom")) == [{"k": "v"}]


def test_task_called_outside_an_entrypoint_raises():
    @task
    def lonely(x):
        return x

    with pytest.raises(RuntimeError, match="@entrypoint") as ei:
        lonely(1)
    assert "lonely" in str(ei.value)


def test_async_task_called_outside_an_entrypoint_raises():
    @task
    async def lonely_async(x):
        return x

    async def main():
        lonely_async(1)

    with pytest.raises(RuntimeError, match="@entrypoint"):
        asyncio.run(main())


def test_task_decorator_bare_and_with_options():
    @task
    def a(x):
        return x + 1

    @task(name="bee")
    def b(x):
        return x * 2

    @entrypoint
    def wf(x):
        return [a(x).result(), b(x).result()]

    assert wf.invoke(3) == [4, 6]
    names = [c["name"] for c in wf.stream(3, stream_mode="tasks") if "input" in c]
    assert names == ["wf", "a", "bee"]


# --------------------------------------------------------------------------- concurrency
def test_sync_tasks_run_concurrently_in_sync_entrypoint():
    threads = set()

    @task
    def slow(i):
        threads.add(threading.get_ident())
        time.sleep(0.3)
        return i

    @entrypoint
    def wf(n):
        futures = [slow(i) for i in range(n)]
        return [f.result() for f in futures]

    start = time.perf_counter()
    assert wf.invoke(3) == [0, 1, 2]
    elapsed = time.perf_counter() - start
    assert elapsed < 0.6, f"3 x sleep(0.3) took {elapsed:.2f}s: tasks ran one by one"
    assert elapsed >= 0.29
    assert len(threads) == 3


def test_sync_tasks_run_concurrently_under_ainvoke():
    @task
    def slow(i):
        time.sleep(0.3)
        return i

    @entrypoint
    def wf(n):
        futures = [slow(i) for i in range(n)]
        return [f.result() for f in futures]

    start = time.perf_counter()
    assert asyncio.run(wf.ainvoke(3)) == [0, 1, 2]
    assert time.perf_counter() - start < 0.6


def test_async_tasks_gathered_run_concurrently():
    @task
    async def nap(i):
        await asyncio.sleep(0.2)
        return i

    @entrypoint
    async def wf(n):
        return list(await asyncio.gather(*(nap(i) for i in range(n))))

    start = time.perf_counter()
    assert asyncio.run(wf.ainvoke(3)) == [0, 1, 2]
    elapsed = time.perf_counter() - start
    assert elapsed < 0.45, f"3 x asyncio.sleep(0.2) took {elapsed:.2f}s"
    assert elapsed >= 0.19


def test_async_tasks_gathered_run_concurrently_when_streamed():
    @task
    async def nap(i):
        await asyncio.sleep(0.2)
        return i

    @entrypoint
    async def wf(n):
        return list(await asyncio.gather(*(nap(i) for i in range(n))))

    async def main():
        return [c async for c in wf.astream(3, stream_mode="updates")]

    start = time.perf_counter()
    chunks = asyncio.run(main())
    assert time.perf_counter() - start < 0.45
    assert chunks[-1] == {"wf": [0, 1, 2]}
    assert sorted(c["nap"] for c in chunks[:-1]) == [0, 1, 2]


def test_sequential_awaits_are_not_parallel():
    """Sanity check of the bounds above: awaiting one by one takes the sum."""

    @task
    async def nap(i):
        await asyncio.sleep(0.1)
        return i

    @entrypoint
    async def wf(n):
        return [await nap(i) for i in range(n)]

    start = time.perf_counter()
    assert asyncio.run(wf.ainvoke(3)) == [0, 1, 2]
    assert time.perf_counter() - start >= 0.29


def test_lesson_shape_takes_longest_branch_not_sum():
    """parse (2) then gather(background 3, references 2): 5 units, not 7."""
    unit = 0.05

    @task
    async def parse(name):
        await asyncio.sleep(2 * unit)
        return name

    @task
    async def background(name):
        await asyncio.sleep(3 * unit)
        return "Clear"

    @task
    async def references(name):
        await asyncio.sleep(2 * unit)
        return "Positive"

    @entrypoint
    async def screen(name):
        await parse(name)
        bg, ref = await asyncio.gather(background(name), references(name))
        return f"HIRED - Background: {bg}, Refs: {ref}"

    start = time.perf_counter()
    assert asyncio.run(screen.ainvoke("Clara")) == "HIRED - Background: Clear, Refs: Positive"
    elapsed = (time.perf_counter() - start) / unit
    assert 4.9 <= elapsed < 6.5, f"{elapsed:.2f} units"


# --------------------------------------------------------------------------- errors
class Boom(Exception):
    pass


def test_sync_task_exception_reaches_caller_unchanged():
    err = Boom("sync boom")

    @task
    def bad(x):
        raise err

    @entrypoint
    def wf(x):
        return bad(x).result()

    with pytest.raises(Boom) as ei:
        wf.invoke(1)
    assert ei.value is err
    with pytest.raises(Boom) as ei:
        asyncio.run(wf.ainvoke(1))
    assert ei.value is err


def test_async_task_exception_reaches_caller_unchanged():
    err = Boom("async boom")

    @task
    async def bad(x):
        await asyncio.sleep(0)
        raise err

    @entrypoint
    async def wf(x):
        return await bad(x)

    with pytest.raises(Boom) as ei:
        asyncio.run(wf.ainvoke(1))
    assert ei.value is err

    async def consume():
        return [c async for c in wf.astream(1)]

    with pytest.raises(Boom) as ei:
        asyncio.run(consume())
    assert ei.value is err


def test_nested_task_exception_reaches_caller_unchanged():
    err = Boom("deep")

    @task
    def inner(x):
        raise err

    @task
    def outer(x):
        return inner(x).result()

    @entrypoint
    def wf(x):
        return outer(x).result()

    with pytest.raises(Boom) as ei:
        wf.invoke(1)
    assert ei.value is err
    with pytest.raises(Boom) as ei:
        list(wf.stream(1))
    assert ei.value is err


def _failing_gather_workflow(flags, err):
    @task
    async def sibling(x):
        await asyncio.sleep(1)
        flags["sibling_finished"] = True
        return x

    @task
    async def failing(x):
        await asyncio.sleep(0.02)
        raise err

    @entrypoint
    async def wf(x):
        return await asyncio.gather(sibling(x), failing(x))

    return wf


def test_gathered_failure_arrives_fast_and_cancels_sibling():
    flags = {}
    err = Boom("gathered")
    wf = _failing_gather_workflow(flags, err)

    async def main():
        start = time.perf_counter()
        with pytest.raises(Boom) as ei:
            await wf.ainvoke(1)
        elapsed = time.perf_counter() - start
        # keep this loop alive past the sibling's sleep: if it were still running it
        # would set the flag now
        await asyncio.sleep(1.2)
        return ei.value, elapsed

    raised, elapsed = asyncio.run(main())
    assert raised is err
    assert elapsed < 0.5, f"error took {elapsed:.2f}s: waited for the sibling"
    assert "sibling_finished" not in flags, "sibling task kept running after the failure"


def test_gathered_failure_cancels_sibling_when_streaming():
    flags = {}
    err = Boom("gathered stream")
    wf = _failing_gather_workflow(flags, err)

    async def main():
        start = time.perf_counter()
        with pytest.raises(Boom) as ei:
            async for _ in wf.astream(1, stream_mode=["updates", "tasks"]):
                pass
        elapsed = time.perf_counter() - start
        await asyncio.sleep(1.2)
        return ei.value, elapsed

    raised, elapsed = asyncio.run(main())
    assert raised is err
    assert elapsed < 0.5
    assert "sibling_finished" not in flags


def test_failure_cancels_sibling_under_sync_invoke():
    """The async workflow run through the sync API (swiftgraph runs async code under
    invoke()): the sibling is cancelled too, not left running in the engine's loop."""
    flags = {}
    err = Boom("gathered sync")
    wf = _failing_gather_workflow(flags, err)
    start = time.perf_counter()
    with pytest.raises(Boom) as ei:
        wf.invoke(1)
    elapsed = time.perf_counter() - start
    assert ei.value is err
    assert elapsed < 0.5
    time.sleep(1.2)
    assert "sibling_finished" not in flags


def test_error_is_not_wrapped_and_has_task_notes():
    @task
    def bad(x):
        raise KeyError("k")

    @entrypoint
    def wf(x):
        return bad(x).result()

    with pytest.raises(KeyError) as ei:
        wf.invoke(1)
    assert type(ei.value) is KeyError
    notes = getattr(ei.value, "__notes__", [])
    assert any("'wf'" in n for n in notes), notes


# --------------------------------------------------------------------------- final
def test_final_returns_value():
    @entrypoint
    def wf(x):
        return entrypoint.final(value=x * 2, save={"kept": x})

    assert wf.invoke(4) == 8
    assert asyncio.run(wf.ainvoke(5)) == 10
    assert list(wf.stream(6, stream_mode="values")) == [12]


def test_final_object():
    fin = entrypoint.final(value="shown", save="kept")
    assert fin.value == "shown" and fin.save == "kept"
    assert final is entrypoint.final


def test_final_value_none():
    @entrypoint
    async def wf(x):
        return entrypoint.final(value=None, save=x)

    assert asyncio.run(wf.ainvoke(1)) is None


def test_timeline_links_each_call_to_its_caller():
    """A task called from a task is recorded under its caller, the caller under the
    entrypoint: reports draw the call tree from these links."""

    @task
    def inner(x):
        return x + 1

    @task
    def outer(x):
        return inner(x).result() * 2

    @entrypoint()
    def wf(x):
        return outer(x).result() + outer(x + 1).result()

    assert wf.invoke(1) == 4 + 6
    by_parent = sorted(
        (r.name, r.parent.name if r.parent else None, r.output) for r in wf.last_timeline.tasks
    )
    assert by_parent == [
        ("inner", "outer", 2), ("inner", "outer", 3),
        ("outer", "wf", 4), ("outer", "wf", 6),
        ("wf", None, None),
    ]
    outers = [r for r in wf.last_timeline.tasks if r.name == "outer"]
    inners = [r for r in wf.last_timeline.tasks if r.name == "inner"]
    assert {id(i.parent) for i in inners} == {id(o) for o in outers}  # each under its own caller


# ------------------------------------------------------------ @task from graph nodes


@task
def _module_task(x: int) -> int:
    return x


def _calls_module_task(state):
    return {"n": _module_task(1).result()}


def test_plain_functions_that_call_tasks_are_recognized():
    """A plain graph node that calls @tasks must run in a worker thread (its task calls
    need the event loop), so the engine looks for the tasks it names: as a global, a
    closure variable, inside a lambda or comprehension, through functools.partial or
    a callable object's __call__. Anything else runs inline, on the loop's thread."""
    import functools

    from swiftgraph._internal.callables import UserFn

    @task
    def local(x: int) -> int:
        return x

    def closure(state):
        return {"n": local(1).result()}

    def in_comprehension(state):
        return {"n": [local(i).result() for i in range(2)]}

    def in_lambda(state):
        return (lambda: local(1))()

    class Node:
        def __call__(self, state, extra=0):
            return {"n": _module_task(extra).result()}

    def unrelated(state):
        return {"n": len(state)}

    seen = {
        f: UserFn(f).calls_tasks
        for f in (_calls_module_task, closure, in_comprehension, in_lambda, unrelated)
    }
    assert seen == {
        _calls_module_task: True, closure: True, in_comprehension: True, in_lambda: True, unrelated: False,
    }
    assert UserFn(functools.partial(_calls_module_task)).calls_tasks
    assert UserFn(Node()).calls_tasks

    async def awaits(state):  # an async node awaits its tasks on the loop: nothing to move
        return {"n": await local(1)}

    assert not UserFn(awaits).calls_tasks
