"""The floors under two workloads, written as plain asyncio (no engine at all):

* ``concurrency``: the lesson's 4-node flow, 10,000 runs gathered at once;
* ``sleep_fanout``: 1,000 coroutines that each ``await asyncio.sleep(0.05)``,
  gathered: wall ÷ 50 ms, the median of 9.

    python benchmarks/asyncio_floor.py [N]

Whatever an engine adds sits on top of these numbers: they are what asyncio itself
costs on the machine for the same waits (three sleeps, one gather and a few dict
updates per run; a thousand tasks and their timers).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time

UNIT = 0.005  # the workload's 5 ms units: sleeps of 10/15/10 ms


async def parse(s: dict) -> dict:
    await asyncio.sleep(2 * UNIT)
    return {"parsed": s["topic"].upper()}


async def background(s: dict) -> dict:
    await asyncio.sleep(3 * UNIT)
    return {"background": "bg:" + s["parsed"]}


async def references(s: dict) -> dict:
    await asyncio.sleep(2 * UNIT)
    return {"references": "ref:" + s["parsed"]}


async def decide(s: dict) -> dict:
    return {"decision": s["background"] + "|" + s["references"]}


async def run(i: int) -> dict:
    s = {"topic": f"t{i}"}
    s.update(await parse(s))
    a, b = await asyncio.gather(background(s), references(s))
    s.update(a)
    s.update(b)
    s.update(await decide(s))
    return s


async def main(n: int) -> float:
    t0 = time.perf_counter()
    results = await asyncio.gather(*[run(i) for i in range(n)])
    assert all(r["decision"] == f"bg:T{i}|ref:T{i}" for i, r in enumerate(results))
    return n / (time.perf_counter() - t0)


async def nap() -> dict:
    await asyncio.sleep(0.05)
    return {"count": 1}


async def sleep_fanout(branches: int = 1_000, samples: int = 9) -> float:
    ratios = []
    for _ in range(samples):
        gc.collect()
        t0 = time.perf_counter()
        done = await asyncio.gather(*[nap() for _ in range(branches)])
        ratios.append((time.perf_counter() - t0) / 0.05)
        assert len(done) == branches
    return statistics.median(ratios)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(f"plain asyncio, {n} concurrent runs: {asyncio.run(main(n)):,.0f} runs/s")
    print(f"plain asyncio, 1,000 x sleep(50 ms) gathered: {asyncio.run(sleep_fanout()):.2f}x the 50 ms")
