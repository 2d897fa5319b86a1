"""Checkpointing guarantees that are swiftgraph's own (not compared with LangGraph):
safe loading, loud failure on unsupported values, storage that grows linearly."""

from __future__ import annotations

import operator
import pickle
from typing import Annotated, Any, TypedDict

import pytest

from swiftgraph.checkpoint.base import CheckpointRecord, new_checkpoint_id
from swiftgraph.checkpoint.memory import InMemorySaver
from swiftgraph.errors import SwiftGraphError
from swiftgraph.graph import START, StateGraph


class S(TypedDict, total=False):
    items: Annotated[list, operator.add]
    blob: Any


def _chain(n: int, saver: InMemorySaver):
    g = StateGraph(S)
    prev = START
    for i in range(n):
        g.add_node(f"n{i}", lambda s, i=i: {"items": [f"{i:04d}" + "x" * 96]})
        g.add_edge(prev, f"n{i}")
        prev = f"n{i}"
    return g.compile(checkpointer=saver)


def test_unsupported_value_fails_at_save_naming_channel_and_type():
    class Opaque:
        pass

    g = StateGraph(S)
    g.add_node("a", lambda s: {"blob": Opaque()})
    g.add_edge(START, "a")
    graph = g.compile(checkpointer=InMemorySaver())
    with pytest.raises(ValueError) as info:
        graph.invoke({"items": []}, {"configurable": {"thread_id": "t"}})
    message = str(info.value)
    assert "'blob'" in message and "Opaque" in message and "'a'" in message


@pytest.mark.parametrize(
    "data",
    [
        pickle.dumps({"trig": {}, "state": {}}),  # a pickle is never unpickled
        b'{"trig": {}, "sends": [], "state": {"x": {"__sg__": "dataclass", "c": "os:system", "v": {}}}}',
        b'{"trig": {}, "sends": [], "state": {"x": {"__sg__": "pydantic", "c": "subprocess:Popen", "v": {}}}}',
        b"not json at all",
        b'["a list, not a payload"]',
    ],
)
def test_tampered_checkpoint_is_refused_and_runs_nothing(data, tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(os, "system", lambda *a: pytest.fail("os.system was called"))
    saver = InMemorySaver()
    saver.put(
        CheckpointRecord(
            thread_id="t", checkpoint_ns="", checkpoint_id=new_checkpoint_id(), parent_id=None,
            step=0, created_at="2026-01-01T00:00:00+00:00", metadata={"source": "loop", "step": 0},
            data=data, snapshot=True,
        )
    )
    graph = _chain(2, saver)
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(SwiftGraphError) as info:
        graph.get_state(config)
    assert "thread 't'" in str(info.value)
    with pytest.raises(SwiftGraphError):
        graph.invoke(None, config)


def test_storage_grows_linearly_with_appends():
    """500 steps each appending a ~100-byte item: deltas plus bounded snapshots,
    not a full copy of the list per step (that would be ~12.5 MB)."""
    saver = InMemorySaver()
    graph = _chain(500, saver)
    out = graph.invoke({"items": []}, {"configurable": {"thread_id": "t"}, "recursion_limit": 600})
    assert len(out["items"]) == 500
    records = list(saver.list("t"))
    stored = sum(len(r.data) for r in records)
    final = 500 * 104
    assert len(records) == 502
    assert stored < 8 * final, f"{stored} bytes stored for a {final}-byte list"
    # and every checkpoint still rebuilds exactly
    history = list(graph.get_state_history({"configurable": {"thread_id": "t"}}))
    assert [len(h.values.get("items", [])) for h in history[:3]] == [500, 499, 498]
    assert history[-1].values == {"items": []}


def test_rebuild_in_a_fresh_process_view_matches():
    """A checkpoint rebuilt from storage alone (no in-process cache) equals the live one."""
    saver = InMemorySaver()
    graph = _chain(150, saver)
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 200}
    graph.invoke({"items": []}, config)
    live = graph.get_state(config).values
    fresh = InMemorySaver()
    fresh.storage, fresh.writes = saver.storage, saver.writes  # same rows, empty cache
    assert _chain(150, fresh).get_state(config).values == live


def test_checkpoints_carry_the_run_timeline_and_reports_rebuild_it_exactly():
    import asyncio

    from swiftgraph.cli._store import from_checkpoints
    from swiftgraph.report import critical_path

    async def nap(seconds: float, key: str):
        await asyncio.sleep(seconds)
        return {"items": [key]}

    g = StateGraph(S)
    g.add_node("parse", lambda s: nap(0.04, "p"))
    g.add_node("background", lambda s: nap(0.06, "b"))
    g.add_node("references", lambda s: nap(0.04, "r"))
    g.add_node("decide", lambda s: {"items": ["d"]})
    g.add_edge(START, "parse")
    g.add_edge("parse", "background")
    g.add_edge("parse", "references")
    g.add_edge(["background", "references"], "decide")
    saver = InMemorySaver()
    graph = g.compile(checkpointer=saver)
    asyncio.run(graph.ainvoke({"items": []}, {"configurable": {"thread_id": "t"}}))
    ((_, timeline),) = from_checkpoints(saver.list("t"), "t", saver.serde)
    by_name = {t.name: t for t in timeline.tasks}
    assert set(by_name) == {"parse", "background", "references", "decide"}
    assert 0.055 <= by_name["background"].duration < 0.2
    assert by_name["background"].start < by_name["references"].end  # ran side by side
    path = critical_path(timeline)
    assert [t.name for t in path.tasks] == ["parse", "background", "decide"]
    live = {t.name: t.duration for t in graph.last_timeline.tasks}
    # saved to the microsecond: each end rounds by at most half of one, and a wall-clock
    # time in float seconds carries about a quarter of one more
    assert abs(live["background"] - by_name["background"].duration) <= 2e-6


def test_step_timings_read_microseconds_and_the_first_float_format():
    """Checkpoints store task times as int microseconds; the first releases stored
    float seconds. Both read back as seconds: no saved history goes unreadable."""
    from swiftgraph._internal.serde import Serializer
    from swiftgraph.cli._store import step_timings

    serde = Serializer()

    def record(tl):
        data = serde.dumps({"trig": {}, "sends": [], "state": {}, "tl": tl})
        return CheckpointRecord("t", "", new_checkpoint_id(), None, 0, "", {}, data, True)

    new = step_timings(record([["a", "id", 0, 1_700_000_000_250_000, 1_700_000_001_000_000, "ok"]]), serde)
    old = step_timings(record([["a", "id", 0, 1_700_000_000.25, 1_700_000_001.0, "ok"]]), serde)
    assert new == old == [["a", "id", 0, 1_700_000_000.25, 1_700_000_001.0, "ok"]]
    running = step_timings(record([["a", "id", 0, 1_700_000_000_250_000, None, "running"]]), serde)
    assert running[0][3:5] == [1_700_000_000.25, None]


def test_answer_given_with_nothing_pending_survives_reopening_the_store(tmp_path):
    """Command(resume=v) after update_state replaced the paused step: v is saved with
    the step, so a fresh process (new saver, new graph, no cache) still has it: the
    node that took it and asked again waits on its second question, and a node that
    took it then failed gets it again on the rerun."""
    from swiftgraph.checkpoint.sqlite import SqliteSaver
    from swiftgraph.types import Command, interrupt

    class L(TypedDict, total=False):
        log: Annotated[list, operator.add]

    fail = [True]

    def build(saver):
        def b(state):
            first = interrupt("q1")
            if state["log"][-1] == "boom" and fail:
                fail.pop()
                raise RuntimeError("crash after taking the answer")
            return {"log": [f"b:{first}/{interrupt('q2')}"]}

        g = StateGraph(L)
        g.add_node("a", lambda s: {"log": ["a"]})
        g.add_node("b", b)
        g.add_edge(START, "a")
        g.add_edge("a", "b")
        return g.compile(checkpointer=saver)

    path = str(tmp_path / "runs.sqlite")
    for thread, update in (("asks-again", "u"), ("fails", "boom")):
        config = {"configurable": {"thread_id": thread}}
        with SqliteSaver.from_conn_string(path) as saver:
            graph = build(saver)
            graph.invoke({"log": []}, config)
            graph.update_state(config, {"log": [update]})
            if update == "boom":
                with pytest.raises(RuntimeError):
                    graph.invoke(Command(resume="yes"), config)
            else:
                assert [i.value for i in graph.invoke(Command(resume="yes"), config)["__interrupt__"]] == ["q2"]
        with SqliteSaver.from_conn_string(path) as saver:
            graph = build(saver)
            if update == "boom":
                assert [i.value for i in graph.invoke(None, config)["__interrupt__"]] == ["q2"]
            assert [i.value for i in graph.get_state(config).interrupts] == ["q2"]
            assert graph.invoke(Command(resume="no"), config)["log"] == ["a", update, "b:yes/no"]


# --- compacted deltas: short rebuild paths, nothing lost or changed ----------------------


class Mixed(TypedDict, total=False):
    items: Annotated[list, operator.add]
    total: Annotated[int, operator.add]
    tags: Annotated[list, operator.add]
    last: str
    n: int


def _mixed(saver: Any):
    """A loop exercising every kind of change: list appends, an int reducer, a plain key,
    and Overwrite of a reducer key (a step's updates are one batch: after an Overwrite,
    the rest of that step's updates are dropped, not the next step's)."""
    from swiftgraph.types import Overwrite

    def step(s):
        i = s.get("total", 0)
        out: dict[str, Any] = {"items": [f"{i:04d}"], "total": 1}
        if i % 3 == 0:
            out["last"] = f"at {i}"
        if i % 7 == 0:
            out["tags"] = Overwrite([i])
        elif i % 2:
            out["tags"] = [i, (i, "t")]
        return out

    def more(s):
        return "step" if s["total"] < s["n"] else "__end__"

    g = StateGraph(Mixed)
    g.add_node("step", step)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", more, ["step", "__end__"])
    return g.compile(checkpointer=saver)


def _fresh_view(saver: InMemorySaver) -> InMemorySaver:
    fresh = InMemorySaver()
    fresh.storage, fresh.writes, fresh._latest = saver.storage, saver.writes, saver._latest
    return fresh


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_compacted_history_rebuilds_every_checkpoint_exactly(backend, tmp_path):
    """Every checkpoint, rebuilt cold from storage, equals the state the run streamed."""
    from swiftgraph.checkpoint.sqlite import SqliteSaver

    n = 150
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": n + 10}
    saver: Any = InMemorySaver() if backend == "memory" else SqliteSaver(path=str(tmp_path / "c.db"))
    streamed = list(_mixed(saver).stream({"n": n}, config, stream_mode="values"))
    if backend == "memory":
        cold: Any = _fresh_view(saver)
    else:
        saver.close()
        cold = SqliteSaver(path=str(tmp_path / "c.db"))
    records = list(cold.list("t"))
    assert any(r.base_id for r in records), "no compacted delta was written"
    assert max(len(cold.get_chain("t", "", r.checkpoint_id)) for r in records) <= 16
    history = list(_mixed(cold).get_state_history(config))
    assert len(history) == len(records) == n + 2
    # history is newest first; the stream shows the state after the input and each step
    assert [h.values for h in history[: n + 1]][::-1] == streamed
    assert history[0].values["tags"] == [147, 149, (149, "t")]  # Overwrite at 147
    # resuming from the cold view goes on from the same state, and stays exact
    graph = _mixed(cold)
    more = list(graph.stream({"n": n + 40}, config, stream_mode="values"))
    assert more[-1]["total"] == n + 40
    again = _fresh_view(cold) if backend == "memory" else cold
    if backend == "sqlite":
        cold.close()
        again = SqliteSaver(path=str(tmp_path / "c.db"))
    history = list(_mixed(again).get_state_history(config))
    assert history[0].values == more[-1]
    assert [h.values["total"] for h in history[:41]] == list(range(n + 40, n - 1, -1))


def test_uncompacted_threads_still_load_and_continue(monkeypatch):
    """Threads written before compaction (every delta applies to its parent, no base_id,
    no "n") load as before, and a run continuing them compacts from there on."""
    from swiftgraph._internal import persistence

    saver = InMemorySaver()
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 500}
    monkeypatch.setattr(persistence, "FANOUT", 10**9)  # never compacts: the old format
    old = list(_mixed(saver).stream({"n": 200}, config, stream_mode="values"))
    records = list(saver.list("t"))
    assert not any(r.base_id for r in records)
    assert not any("n" in saver.serde.loads(r.data) for r in records)
    monkeypatch.setattr(persistence, "FANOUT", 4)
    cold = _fresh_view(saver)
    graph = _mixed(cold)
    assert [h.values for h in graph.get_state_history(config)][::-1][1:] == old
    new = list(graph.stream({"n": 260}, config, stream_mode="values"))
    assert any(r.base_id for r in cold.list("t"))
    history = [h.values for h in _mixed(_fresh_view(cold)).get_state_history(config)][::-1]
    # [0] and [202]: the two input checkpoints (the state before each input)
    assert history[1:202] == old and history[203:] == new


def test_a_saver_that_drops_base_id_still_loads_correctly():
    """A saver written against the older contract (it stores every field but base_id):
    the payload says how many steps a delta covers, so its base is found by parent ids."""

    class Forgetful(InMemorySaver):
        def put(self, record: CheckpointRecord) -> None:
            import dataclasses

            super().put(dataclasses.replace(record, base_id=None))

        def put_many(self, ops: Any) -> None:
            for op in ops:
                if isinstance(op, CheckpointRecord):
                    self.put(op)
                else:
                    self.put_writes(op.thread_id, op.checkpoint_ns, op.checkpoint_id, op.writes)

    saver = Forgetful()
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 200}
    streamed = list(_mixed(saver).stream({"n": 100}, config, stream_mode="values"))
    assert not any(r.base_id for r in saver.list("t"))
    cold = Forgetful()
    cold.storage, cold.writes, cold._latest = saver.storage, saver.writes, saver._latest
    history = [h.values for h in _mixed(cold).get_state_history(config)][::-1]
    assert history[1:] == streamed


def test_sqlite_file_from_schema_v1_upgrades_and_its_threads_load(tmp_path, monkeypatch):
    """A file written before base_id existed (schema v1, uncompacted deltas): opening it
    adds the column, and its threads load, list and continue."""
    import contextlib
    import sqlite3

    from swiftgraph._internal import persistence
    from swiftgraph.checkpoint.sqlite import MIGRATIONS, SqliteSaver

    mem = InMemorySaver()
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 200}
    monkeypatch.setattr(persistence, "FANOUT", 10**9)
    old = list(_mixed(mem).stream({"n": 60}, config, stream_mode="values"))
    monkeypatch.setattr(persistence, "FANOUT", 4)
    path = str(tmp_path / "v1.sqlite")
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (1, 'then')")
        cols = "thread_id, checkpoint_ns, checkpoint_id, parent_id, step, created_at, metadata, data, snapshot"
        for r in mem.list("t"):
            conn.execute(
                f"INSERT INTO checkpoints ({cols}) VALUES (?,?,?,?,?,?,?,?,?)",
                (r.thread_id, r.checkpoint_ns, r.checkpoint_id, r.parent_id, r.step, r.created_at,
                 persistence.json.dumps(r.metadata), r.data, r.snapshot),
            )
    with SqliteSaver.from_conn_string(path) as saver:
        graph = _mixed(saver)
        assert [h.values for h in graph.get_state_history(config)][::-1][1:] == old
        graph.invoke({"n": 100}, config)
        assert any(r.base_id for r in saver.list("t"))
        version = saver.conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        assert version == len(MIGRATIONS) == 2
    with SqliteSaver.from_conn_string(path) as saver:
        values = _mixed(saver).get_state(config).values
        assert values["total"] == 100 and values["items"] == [f"{i:04d}" for i in range(100)]


@pytest.mark.parametrize(
    "ns",
    [
        1_764_374_400_000_000_000,  # a whole second: isoformat() leaves the fraction out
        1_764_374_400_000_001_000,  # one microsecond past it
        1_764_374_401_123_456_789,  # nanoseconds are truncated, as datetime truncates them
    ],
)
def test_checkpoint_timestamps_are_datetime_isoformat(monkeypatch: pytest.MonkeyPatch, ns: int) -> None:
    """``created_at`` is formatted by hand (the date and time of day reused within a
    second): it must be exactly what ``datetime.isoformat()`` writes, or sorting and
    parsing timestamps from older checkpoints and from LangGraph would disagree."""
    import datetime as dt

    from swiftgraph._internal import persistence

    monkeypatch.setattr(persistence.time, "time_ns", lambda: ns)
    expected = dt.datetime.fromtimestamp(ns // 1000 / 1e6, dt.timezone.utc).isoformat()
    assert persistence.now_iso() == expected
    assert persistence.now_iso() == expected  # the second call reuses the cached second


def test_snapshot_created_at_is_utc_and_in_order() -> None:
    import datetime as dt

    saver = InMemorySaver()
    graph = _chain(3, saver)
    before = dt.datetime.now(dt.timezone.utc)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": []}, config)
    after = dt.datetime.now(dt.timezone.utc)
    stamps = [dt.datetime.fromisoformat(s.created_at) for s in graph.get_state_history(config)]
    assert len(stamps) == 5
    assert all(before <= t <= after for t in stamps)
    assert stamps == sorted(stamps, reverse=True)  # history comes newest first


class _ThreadNotingSaver(InMemorySaver):
    """Notes the thread its reads run on; ``wait``: its async reads also give the event
    loop a turn, as a saver doing real I/O would."""

    def __init__(self, wait: bool = False) -> None:
        super().__init__()
        self.wait = wait
        self.threads: set[str] = set()

    def get_chain(self, *args: Any, **kwargs: Any) -> Any:
        import threading

        self.threads.add(threading.current_thread().name)
        return super().get_chain(*args, **kwargs)

    async def aget_chain(self, *args: Any, **kwargs: Any) -> Any:
        if self.wait:
            import asyncio

            await asyncio.sleep(0)
        return self.get_chain(*args, **kwargs)


@pytest.mark.parametrize("wait", [False, True], ids=["inline", "waits"])
def test_sync_state_reads_from_async_code(wait: bool) -> None:
    """``get_state``/``get_state_history`` called from inside a running event loop (a
    notebook, an async app) give what the async API gives. With a saver that never
    waits they read right on the caller's thread (no worker-thread hop); one that
    waits is read the usual way (on a worker thread's loop)."""
    import asyncio
    import threading

    saver = _ThreadNotingSaver(wait)
    graph = _chain(3, saver)
    cfg = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": []}, cfg)

    async def both() -> tuple[Any, Any, list[Any], list[Any]]:
        sync_snap = graph.get_state(cfg)
        sync_hist = [s.config for s in graph.get_state_history(cfg, limit=3)]
        async_snap = await graph.aget_state(cfg)
        async_hist = [s.config async for s in graph.aget_state_history(cfg, limit=3)]
        return sync_snap, async_snap, sync_hist, async_hist

    saver._swiftgraph_cache.clear()  # (the engine's cache would answer without reading)
    sync_snap, async_snap, sync_hist, async_hist = asyncio.run(both())
    assert sync_snap == async_snap and sync_hist == async_hist
    assert len(sync_snap.values["items"]) == 3
    here = threading.current_thread().name
    if wait:
        assert any(t != here for t in saver.threads)
    else:
        assert saver.threads == {here}
