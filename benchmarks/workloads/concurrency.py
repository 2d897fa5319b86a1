"""Many concurrent ``ainvoke``s of a small I/O-bound graph: throughput and memory.

The graph (the lesson's research flow, sleeps in 5 ms units 2/3/2/0)::

    START -> parse (10ms) -> background (15ms) -+-> decide (0) -> END
                          -> references (10ms) -+

Every sample runs in a fresh subprocess (``python -m workloads.concurrency ENGINE N``)
so peak RSS (VmHWM) belongs to that engine alone. The child imports the engine,
compiles the graph and runs one warm-up invoke, records its baseline VmHWM, then
``asyncio.gather``s N ``ainvoke``s and reports runs/s, peak RSS and peak - baseline.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import subprocess
import sys
import time
from typing import TypedDict

from harness import Metric, Workload, check

UNIT_S = 0.005


class LessonState(TypedDict):
    topic: str
    parsed: str
    background: str
    references: str
    decision: str


async def parse(s):
    await asyncio.sleep(2 * UNIT_S)
    return {"parsed": s["topic"].upper()}


async def background(s):
    await asyncio.sleep(3 * UNIT_S)
    return {"background": "bg:" + s["parsed"]}


async def references(s):
    await asyncio.sleep(2 * UNIT_S)
    return {"references": "ref:" + s["parsed"]}


async def decide(s):
    return {"decision": s["background"] + "|" + s["references"]}


def build_lesson(E):
    g = E.StateGraph(LessonState)
    g.add_node("parse", parse)
    g.add_node("background", background)
    g.add_node("references", references)
    g.add_node("decide", decide)
    g.add_edge(E.START, "parse")
    g.add_edge("parse", "background")
    g.add_edge("parse", "references")
    g.add_edge(["background", "references"], "decide")
    g.add_edge("decide", E.END)
    return g.compile()


def expected_decision(topic: str) -> str:
    return f"bg:{topic.upper()}|ref:{topic.upper()}"


def peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --------------------------------------------------------------------- child process


async def _child(E, n: int) -> dict:
    app = build_lesson(E)
    out = await app.ainvoke({"topic": "warm"})
    assert out["decision"] == expected_decision("warm"), out
    gc.collect()
    base = peak_rss_mib()
    topics = [f"t{i}" for i in range(n)]
    t0 = time.perf_counter()
    outs = await asyncio.gather(*(app.ainvoke({"topic": t}) for t in topics))
    dt = time.perf_counter() - t0
    peak = peak_rss_mib()
    bad = [t for t, o in zip(topics, outs) if o.get("decision") != expected_decision(t)]
    return {
        "wall_s": dt,
        "runs_per_s": n / dt,
        "peak_rss_mib": peak,
        "delta_rss_mib": peak - base,
        "baseline_rss_mib": base,
        "invalid": len(bad),
        "example_invalid": repr(outs[topics.index(bad[0])])[:200] if bad else None,
    }


def main(argv: list[str]) -> None:
    import engines

    name, n = argv[0], int(argv[1])
    print(json.dumps(asyncio.run(_child(engines.load(name), n))))


# --------------------------------------------------------------------- workload


class ConcurrentInvokes(Workload):
    name = "concurrency"
    title = "10k (quick: 1k) concurrent ainvokes, 4-node graph"
    N, QUICK_N = 10_000, 1_000
    metrics = (
        Metric("runs_per_s", "throughput", "runs/s", target=5000, higher_is_better=True),
        Metric("peak_rss_mib", "peak RSS", "MiB", target=150),
        Metric("delta_rss_mib", "RSS over baseline", "MiB"),
    )
    warmup = 0  # each sample is a fresh process that warms itself up
    reps, quick_reps = 1, 1
    max_reps, budget_s, quick_budget_s = 3, 15.0, 3.0

    def setup(self, E, quick):
        from engines import child_env

        n = self.QUICK_N if quick else self.N
        cmd = [sys.executable, "-m", "workloads.concurrency", E.name, str(n)]
        env = child_env()

        def sample():
            p = subprocess.run(
                cmd, capture_output=True, text=True, env=env, timeout=900, check=False
            )
            check(p.returncode == 0, f"child failed: {p.stderr.strip()[-400:]}")
            r = json.loads(p.stdout.strip().splitlines()[-1])
            check(
                r["invalid"] == 0, f"{r['invalid']}/{n} wrong results, e.g. {r['example_invalid']}"
            )
            return {k: r[k] for k in ("runs_per_s", "peak_rss_mib", "delta_rss_mib")}

        return sample


WORKLOADS = [ConcurrentInvokes()]

if __name__ == "__main__":
    main(sys.argv[1:])
