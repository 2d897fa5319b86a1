"""The floor under the concurrency workload: the lesson's 4-node flow written as
plain asyncio (no engine at all), 10,000 runs gathered at once.

    python benchmarks/asyncio_floor.py [N]

Whatever an engine adds sits on top of this number: it is what asyncio itself costs
on the machine for three sleeps, one gather and a few dict updates per run.
"""

from __future__ import annotations

import asyncio
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


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(f"plain asyncio, {n} concurrent runs: {asyncio.run(main(n)):,.0f} runs/s")
