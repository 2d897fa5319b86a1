"""How much of the concurrency workload is the garbage collector's: 10,000 concurrent
``ainvoke``s of the lesson's 4-node graph (as ``workloads/concurrency.py``), with the
collector on (timing each collection by generation) and then off.

    python benchmarks/concurrency_gc.py [ENGINE] [N]

Each setting runs in its own fresh process. Thousands of runs alive at once hold
hundreds of thousands of objects, and every full collection walks them all; this
shows what that costs next to the rest. Each process then runs a second batch: a
long-running server's steady state, where the first batch has raised the collector's
bar for a full collection. Compare with ``asyncio_floor.py``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


async def _measure(engine: str, n: int, collector: bool) -> dict:
    sys.path[:0] = [str(HERE), str(HERE / "workloads")]
    import engines
    from workloads.concurrency import build_lesson

    app = build_lesson(engines.load(engine))
    await app.ainvoke({"topic": "warm"})
    gc.collect()
    spent = {0: 0.0, 1: 0.0, 2: 0.0}
    count = {0: 0, 1: 0, 2: 0}
    started = [0.0]

    def timer(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started[0]
            count[info["generation"]] += 1

    if collector:
        gc.callbacks.append(timer)
    else:
        gc.disable()
    t0 = time.perf_counter()
    await asyncio.gather(*(app.ainvoke({"topic": f"t{i}"}) for i in range(n)))
    wall = time.perf_counter() - t0
    out = {"runs_per_s": n / wall, "wall_s": wall, "collections": dict(count), "gc_s": dict(spent)}
    # the same again in this process: a server's steady state, where the first
    # batch's objects have raised the collector's bar for a full collection
    for gen in spent:
        spent[gen], count[gen] = 0.0, 0
    t0 = time.perf_counter()
    await asyncio.gather(*(app.ainvoke({"topic": f"u{i}"}) for i in range(n)))
    wall = time.perf_counter() - t0
    out["again"] = {"runs_per_s": n / wall, "wall_s": wall, "collections": count, "gc_s": spent}
    return out


def main() -> None:
    engine = sys.argv[1] if len(sys.argv) > 1 else "swiftgraph"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    if len(sys.argv) > 3:  # the child: one setting, printed as JSON
        print(json.dumps(asyncio.run(_measure(engine, n, sys.argv[3] == "on"))))
        return
    for setting in ("on", "off"):
        out = subprocess.run(
            [sys.executable, __file__, engine, str(n), setting],
            capture_output=True, text=True, check=True,
        ).stdout
        first = json.loads(out.strip().splitlines()[-1])
        for label, r in (("", first), (", a second batch in that process", first["again"])):
            line = (
                f"{engine}, {n} concurrent runs{label}, collector {setting}: "
                f"{r['runs_per_s']:,.0f} runs/s"
            )
            if setting == "on":
                full, full_s = r["collections"]["2"], r["gc_s"]["2"]
                young_s = r["gc_s"]["0"] + r["gc_s"]["1"]
                line += (
                    f" ({r['wall_s']:.2f} s; {full} full collections took {full_s:.2f} s,"
                    f" younger ones {young_s:.2f} s)"
                )
            print(line)


if __name__ == "__main__":
    main()
