"""Subprocess body for tests/test_crash.py: a checkpointed graph that can be SIGKILLed.

Run as a script (``python tests/crash_worker.py MODE ...``); test_crash.py also imports
it (tests/ is on ``sys.path``) for the graph, the side-log reader and the saver opener.

Modes:

* ``run``: open the saver, build the graph, print ``ready`` (the parent starts its kill
  timer there), then ``invoke(INPUT)`` (``--start``) or resume: ``invoke(None)``, or
  ``invoke(INPUT)`` if the thread has no checkpoint yet (the first run was killed
  before its input checkpoint was stored). Always ``durability="sync"``. Prints
  ``done <json>`` with the returned state. Crash points on top of the parent's timer:
  ``--die-before-save KEY`` / ``--die-after-save KEY`` SIGKILL the process itself just
  before / just after the saver stores the pending writes of task KEY (the window
  between a task returning and its writes being stored, and a step cut short after
  some of its tasks' writes are stored). ``--forget-writes`` makes the saver's
  ``get_writes`` return nothing: a broken saver the tests use to prove the checks
  catch a task rerun after its writes were saved.
* ``concurrent``: ``--runs`` invocations on threads ``p<proc>-t<i>``, in waves of
  ``WAVE`` concurrent ``ainvoke``s, durability cycling sync/async/exit; waits for a
  ``go`` line on stdin after opening the saver so every process starts together.
  Prints ``done <json>`` with the saver's busy-retry count.

The graph (7 supersteps; every node sleeps, so a kill can land inside any of them)::

    START -> prep -> fan0..fan3 (parallel, 5-30 ms each) -> join
          -> Send("mapper", {"i": i}) for i in 0..5 (5-30 ms each) -> reduce
          -> g0..g2 (parallel, 5-30 ms each) -> final -> END

Every node appends a deterministic token to ``tokens`` (``operator.add``; tokens of
join/reduce/final digest the state they saw, so a wrong restore changes them) and its
execution id ``<key>#<pid>.<n>`` to ``execs``: the final ``execs`` says which execution
of each task had its writes applied. Each execution appends two lines to the side log
(``--log``), opened ``O_APPEND``, written with one ``os.write`` and ``fsync``ed: a
``start`` line on entry and a ``finished`` line right before returning, with the task
key, node name, task id, a digest of the task's input and the pid.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import operator
import os
import random
import sys
from typing import Annotated, Any, TypedDict

MAP_N = 6
INPUT = {"topic": "crash", "tokens": [], "execs": [], "total": 0}
STEP_OF = {
    "prep": 0,
    **{f"fan{i}": 1 for i in range(4)},
    "join": 2,
    **{f"map{i}": 3 for i in range(MAP_N)},
    "reduce": 4,
    **{f"g{i}": 5 for i in range(3)},
    "final": 6,
}
"""Task key -> the step it runs in (steps counted from 0 = the first node's step)."""
KEYS = list(STEP_OF)

LOG_PATH: str | None = None
_counter = itertools.count()


class State(TypedDict, total=False):
    topic: str
    tokens: Annotated[list, operator.add]
    execs: Annotated[list, operator.add]
    total: Annotated[int, operator.add]


class MapInput(TypedDict):
    i: int


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def _log(event: dict[str, Any]) -> None:
    if LOG_PATH is None:
        return
    line = (json.dumps(event, sort_keys=True) + "\n").encode()
    fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write of a short line on an O_APPEND fd: never interleaved
        os.fsync(fd)
    finally:
        os.close(fd)


def _task_id() -> str | None:
    from swiftgraph.config import get_config

    ns = get_config().get("metadata", {}).get("langgraph_checkpoint_ns", "")
    return ns.rsplit(":", 1)[-1] if ns else None


async def _execute(
    key: str, node: str, task_input: dict[str, Any], lo: float, hi: float, out: dict[str, Any]
) -> dict[str, Any]:
    """One execution of one task: log start, sleep, log finished, return its writes."""
    exec_id = f"{key}#{os.getpid()}.{next(_counter)}"
    seen = {k: v for k, v in task_input.items() if k != "execs"}  # execs differ run to run
    common = {
        "key": key,
        "node": node,
        "exec": exec_id,
        "pid": os.getpid(),
        "task_id": _task_id(),
        "input": digest(seen),
    }
    _log({"ev": "start", **common})
    await asyncio.sleep(random.uniform(lo, hi))
    out = {**out, "execs": [exec_id]}
    _log({"ev": "finished", **common})
    return out


# --------------------------------------------------------------------- nodes


async def prep(s: State) -> dict[str, Any]:
    return await _execute("prep", "prep", dict(s), 0.002, 0.008, {"tokens": [f"prep:{s['topic']}"]})


def _fan(i: int):
    async def fan(s: State) -> dict[str, Any]:
        return await _execute(f"fan{i}", f"fan{i}", dict(s), 0.005, 0.030, {"tokens": [f"fan{i}"]})

    return fan


async def join(s: State) -> dict[str, Any]:
    return await _execute(
        "join", "join", dict(s), 0.002, 0.008, {"tokens": [f"join:{digest(s['tokens'])}"]}
    )


def scatter(s: State) -> list[Any]:
    from swiftgraph.types import Send

    return [Send("mapper", {"i": i}) for i in range(MAP_N)]


async def mapper(s: MapInput) -> dict[str, Any]:
    i = s["i"]
    return await _execute(
        f"map{i}", "mapper", dict(s), 0.005, 0.030, {"tokens": [f"map{i}"], "total": i * i}
    )


async def reduce(s: State) -> dict[str, Any]:
    token = f"reduce:{s['total']}:{digest(s['tokens'])}"
    return await _execute("reduce", "reduce", dict(s), 0.002, 0.008, {"tokens": [token]})


def _g(i: int):
    async def g(s: State) -> dict[str, Any]:
        return await _execute(f"g{i}", f"g{i}", dict(s), 0.005, 0.030, {"tokens": [f"g{i}"]})

    return g


async def final(s: State) -> dict[str, Any]:
    return await _execute(
        "final",
        "final",
        dict(s),
        0.002,
        0.008,
        {"tokens": [f"final:{len(s['tokens'])}:{digest(s['tokens'])}"]},
    )


def build(checkpointer: Any) -> Any:
    from swiftgraph.graph import END, START, StateGraph

    g = StateGraph(State)
    g.add_node("prep", prep)
    fans = [f"fan{i}" for i in range(4)]
    for i, name in enumerate(fans):
        g.add_node(name, _fan(i))
        g.add_edge("prep", name)
    g.add_node("join", join)
    g.add_node("mapper", mapper, input_schema=MapInput)
    g.add_node("reduce", reduce)
    gs = [f"g{i}" for i in range(3)]
    for i, name in enumerate(gs):
        g.add_node(name, _g(i))
        g.add_edge("reduce", name)
    g.add_node("final", final)
    g.add_edge(START, "prep")
    g.add_edge(fans, "join")
    g.add_conditional_edges("join", scatter, ["mapper"])
    g.add_edge("mapper", "reduce")
    g.add_edge(gs, "final")
    g.add_edge("final", END)
    return g.compile(checkpointer=checkpointer)


# --------------------------------------------------------------------- helpers for the parent


def open_saver(backend: str, target: str) -> Any:
    """A context manager yielding a saver of ``backend`` ("sqlite" | "postgres")."""
    if backend == "sqlite":
        from swiftgraph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver.from_conn_string(target)
    from swiftgraph.checkpoint.postgres import PostgresSaver

    return PostgresSaver.from_conn_string(target)


def read_log(path: str) -> list[dict[str, Any]]:
    """The side log's events in write order (a torn last line, impossible with one
    ``write`` per line, would fail loudly here)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


# --------------------------------------------------------------------- modes


def add_crash_points(saver: Any, *, before: str | None, after: str | None, forget: bool) -> None:
    """Wrap the saver instance: SIGKILL around storing KEY's pending writes; forget writes.

    The engine stores everything through ``put_many`` (batches of checkpoints and
    pending writes, one transaction each), reached through the saver's async method,
    which looks it up on the instance at call time; a SIGKILL from a worker thread
    kills the whole process."""
    import signal

    from swiftgraph.checkpoint.base import WriteBatch

    put_many = saver.put_many

    def keys_of(ops: Any) -> set[str]:
        return {
            exec_id.split("#")[0]
            for op in ops
            if isinstance(op, WriteBatch)
            for w in op.writes
            if w.channel == "execs"
            for exec_id in saver.serde.loads(w.value)
        }

    def crashing_put_many(ops: Any) -> None:
        keys = keys_of(ops)
        if before in keys:
            os.kill(os.getpid(), signal.SIGKILL)
        put_many(ops)
        if after in keys:
            os.kill(os.getpid(), signal.SIGKILL)

    if before or after:
        saver.put_many = crashing_put_many
    if forget:
        saver.get_writes = lambda *a, **k: []


def run_mode(args: argparse.Namespace) -> None:
    global LOG_PATH
    LOG_PATH = args.log
    random.seed(f"{args.seed}:{os.getpid()}")
    config = {"configurable": {"thread_id": args.thread}}
    with open_saver(args.backend, args.target) as saver:
        add_crash_points(
            saver, before=args.die_before_save, after=args.die_after_save, forget=args.forget_writes
        )
        graph = build(saver)
        if args.start:
            payload: Any = INPUT
        else:
            snap = graph.get_state(config)
            payload = (
                INPUT if snap.config.get("configurable", {}).get("checkpoint_id") is None else None
            )
        print("ready", "input" if payload is not None else "resume", flush=True)
        out = graph.invoke(payload, config, durability="sync")
    print("done " + json.dumps(out, sort_keys=True), flush=True)


CONC_GRAPH_STEPS = 4  # prep, fan (4 parallel), join, final: checkpoints = 1 input + 4 loop


class CState(TypedDict, total=False):
    n: int
    items: Annotated[list, operator.add]


async def c_prep(s: CState) -> dict[str, Any]:
    return {"items": [f"prep{s['n']}"]}


def _c_fan(i: int):
    async def fan(s: CState) -> dict[str, Any]:
        await asyncio.sleep(0.001 * i)
        return {"items": [f"fan{i}"]}

    return fan


async def c_join(s: CState) -> dict[str, Any]:
    return {"items": [f"join{len(s['items'])}"]}


async def c_final(s: CState) -> dict[str, Any]:
    return {"items": ["final"]}


def build_concurrent(checkpointer: Any) -> Any:
    from swiftgraph.graph import END, START, StateGraph

    g = StateGraph(CState)
    g.add_node("prep", c_prep)
    fans = [f"fan{i}" for i in range(4)]
    for i, name in enumerate(fans):
        g.add_node(name, _c_fan(i))
        g.add_edge("prep", name)
    g.add_node("join", c_join)
    g.add_node("final", c_final)
    g.add_edge(START, "prep")
    g.add_edge(fans, "join")
    g.add_edge("join", "final")
    g.add_edge("final", END)
    return g.compile(checkpointer=checkpointer)


def expected_concurrent(n: int) -> list[str]:
    return [f"prep{n}", "fan0", "fan1", "fan2", "fan3", "join5", "final"]


DURABILITIES = ("sync", "async", "exit")
WAVE = 10


def concurrent_mode(args: argparse.Namespace) -> None:
    with open_saver(args.backend, args.target) as saver:
        graph = build_concurrent(saver)
        graph.get_state({"configurable": {"thread_id": f"p{args.proc}-warm"}})  # schema ready
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("no go")

        async def one(i: int) -> None:
            config = {"configurable": {"thread_id": f"p{args.proc}-t{i}"}}
            out = await graph.ainvoke(
                {"n": i, "items": []}, config, durability=DURABILITIES[i % len(DURABILITIES)]
            )
            if out["items"] != expected_concurrent(i):
                raise AssertionError(f"thread {config}: {out}")

        async def main() -> None:
            for start in range(0, args.runs, WAVE):
                await asyncio.gather(*(one(i) for i in range(start, min(start + WAVE, args.runs))))

        asyncio.run(main())
        retries = getattr(saver, "busy_retries", 0)
    print("done " + json.dumps({"busy_retries": retries}), flush=True)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run")
    r.add_argument("--backend", required=True, choices=["sqlite", "postgres"])
    r.add_argument("--target", required=True)
    r.add_argument("--thread", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--seed", default="0")
    r.add_argument("--start", action="store_true")
    r.add_argument("--die-before-save", metavar="KEY")
    r.add_argument("--die-after-save", metavar="KEY")
    r.add_argument("--forget-writes", action="store_true")
    c = sub.add_parser("concurrent")
    c.add_argument("--backend", required=True, choices=["sqlite", "postgres"])
    c.add_argument("--target", required=True)
    c.add_argument("--proc", type=int, required=True)
    c.add_argument("--runs", type=int, default=50)
    args = ap.parse_args(argv)
    (run_mode if args.mode == "run" else concurrent_mode)(args)


if __name__ == "__main__":
    main(sys.argv[1:])
