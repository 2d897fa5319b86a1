"""The garbage collector's work under the concurrency workload, counted instead of timed.

    python benchmarks/gc_pressure.py [ENGINE] [N]

Wall-clock A/B runs of ``concurrency`` can't resolve a change of a few percent on these
machines (paired 10,000-run batches spread by +-10%). What drives the collector's
share of that workload is deterministic, so this counts it:

- **what a waiting run holds**: the net count of GC-type objects allocated (tracked or
  not: an untracked dict or tuple counts towards the next young collection as much as
  a tracked one) per run while 1,000 runs wait in their first node (``parse``) and in
  the fan-out (``background`` and ``references``), sleeps scaled up so every run gets
  there; beside the same flow in plain asyncio (``asyncio_floor.py``);
- **the collections** that 10,000 concurrent runs take (``gc.get_stats()``): every
  700 net allocations a young collection, and a full one (walking every object alive,
  hundreds of thousands here) after enough of those. One full collection fewer at the
  end of the ramp is worth about a tenth of the workload's time.

Each setting runs in a fresh process. Compare before/after a change; timings belong to
``run.py --only concurrency`` and ``concurrency_gc.py``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PHASES = {"parse": 0.08, "fan-out": 0.2}  # seconds after the start, sleeps in 50 ms units


async def _held(engine: str, n: int) -> dict[str, float]:
    import asyncio_floor
    import engines
    import workloads.concurrency as lesson

    lesson.UNIT_S = asyncio_floor.UNIT = 0.05  # parse ends at 100 ms, the fan-out at 250
    app = lesson.build_lesson(engines.load(engine)) if engine != "asyncio" else None
    if app is not None:
        await app.ainvoke({"topic": "warm"})
    out = {}
    for phase, at in PHASES.items():
        gc.collect()
        gc.disable()
        before = gc.get_count()[0]
        if app is None:
            runs = asyncio.gather(*(asyncio_floor.run(i) for i in range(n)))
        else:
            runs = asyncio.gather(*(app.ainvoke({"topic": f"t{i}"}) for i in range(n)))
        await asyncio.sleep(at)
        out[phase] = (gc.get_count()[0] - before) / n
        await runs
        gc.enable()
    return out


async def _collections(engine: str, n: int) -> dict[str, int]:
    import engines
    from workloads.concurrency import build_lesson

    app = build_lesson(engines.load(engine))
    await app.ainvoke({"topic": "warm"})
    gc.collect()
    before = [s["collections"] for s in gc.get_stats()]
    await asyncio.gather(*(app.ainvoke({"topic": f"t{i}"}) for i in range(n)))
    after = [s["collections"] for s in gc.get_stats()]
    return {"young": after[0] - before[0], "middle": after[1] - before[1], "full": after[2] - before[2]}


def _child(what: str, engine: str, n: int) -> None:
    sys.path[:0] = [str(HERE), str(HERE / "workloads")]
    measure = _held if what == "held" else _collections
    print(json.dumps(asyncio.run(measure(engine, n))))


def _run(what: str, engine: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", what, engine, str(n)],
        capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    engine = sys.argv[1] if len(sys.argv) > 1 else "swiftgraph"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    for who in (engine, "asyncio"):
        held = _run("held", who, 1_000)
        print(
            f"{who}: GC-type objects a waiting run holds: "
            + ", ".join(f"{phase} {count:.1f}" for phase, count in held.items())
        )
    c = _run("collections", engine, n)
    print(f"{engine}, {n} concurrent runs: {c['young']} young, {c['middle']} middle, {c['full']} full collections")


if __name__ == "__main__":
    main()
