"""Graph API workloads (StateGraph): chains, fan-out/join, Send map, sleeping fan-out.

Builders take an engine namespace ``E`` and are the only graph-construction code:
both engines run byte-for-byte the same node functions.
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import time
from typing import Annotated, TypedDict

from harness import Metric, Workload, check

# --------------------------------------------------------------------- state & nodes


class ChainState(TypedDict):
    x: int


async def inc(s):
    return {"x": s["x"] + 1}


def inc_sync(s):
    return {"x": s["x"] + 1}


class FanState(TypedDict):
    count: Annotated[int, operator.add]
    joined: int


async def fan(s):
    return {"joined": -1}


async def branch(s):
    return {"count": 1}


async def nap(s):
    await asyncio.sleep(NAP_S)
    return {"count": 1}


async def join(s):
    return {"joined": s["count"]}


class MapState(TypedDict):
    n: int
    total: Annotated[int, operator.add]


async def plan(s):
    return {"total": 0}


async def worker(s):
    return {"total": s["i"]}


NAP_S = 0.05

# --------------------------------------------------------------------- builders


def build_chain(E, n: int, node=inc):
    g = E.StateGraph(ChainState)
    names = [f"n{i}" for i in range(n)]
    for name in names:
        g.add_node(name, node)
    g.add_edge(E.START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    g.add_edge(names[-1], E.END)
    return g.compile()


def chain_config(n: int) -> dict:
    return {"recursion_limit": n + 1}  # a chain of n nodes takes n supersteps


def build_fanout(E, n: int, node=branch):
    """fan -> n parallel branches -> join (a single join waiting on all n)."""
    g = E.StateGraph(FanState)
    g.add_node("fan", fan)
    names = [f"b{i}" for i in range(n)]
    for name in names:
        g.add_node(name, node)
        g.add_edge("fan", name)
    g.add_node("join", join)
    g.add_edge(names, "join")
    g.add_edge(E.START, "fan")
    g.add_edge("join", E.END)
    return g.compile()


def build_send_map(E):
    """plan -> conditional edge returning n Sends -> worker (reducer sums)."""

    def route(s):
        return [E.Send("worker", {"i": i}) for i in range(s["n"])]

    g = E.StateGraph(MapState)
    g.add_node("plan", plan)
    g.add_node("worker", worker)
    g.add_edge(E.START, "plan")
    g.add_conditional_edges("plan", route, ["worker"])
    g.add_edge("worker", E.END)
    return g.compile()


# --------------------------------------------------------------------- workloads

US = 1e6


class ChainAsync(Workload):
    name = "chain_async"
    title = "200-node async chain, ainvoke"
    N = 200
    metrics = (Metric("per_step_us", "per step", "us", target=10),)

    def setup(self, E, quick):
        g, cfg, n = build_chain(E, self.N), chain_config(self.N), self.N

        async def sample():
            t0 = time.perf_counter()
            out = await g.ainvoke({"x": 0}, cfg)
            dt = time.perf_counter() - t0
            check(out["x"] == n, f"x={out.get('x')!r}, expected {n}")
            return {"per_step_us": dt / n * US}

        return sample


class ChainSync(Workload):
    name = "chain_sync"
    title = "200-node sync chain, invoke"
    N = 200
    metrics = (Metric("per_step_us", "per step", "us", target=10),)

    def setup(self, E, quick):
        g, cfg, n = build_chain(E, self.N, inc_sync), chain_config(self.N), self.N

        def sample():
            t0 = time.perf_counter()
            out = g.invoke({"x": 0}, cfg)
            dt = time.perf_counter() - t0
            check(out["x"] == n, f"x={out.get('x')!r}, expected {n}")
            return {"per_step_us": dt / n * US}

        return sample


class ChainScaling(Workload):
    name = "chain_scaling"
    title = "async chain per-step cost vs length"
    SIZES = (10, 100, 400, 1600)
    MIN_STEPS = 200  # short chains are invoked repeatedly so each timing covers >= this many steps
    metrics = tuple(Metric(f"per_step_us_{n}", f"per step @{n}", "us") for n in SIZES) + (
        Metric("growth", f"growth {SIZES[-1]}/{SIZES[0]}", "x", target=1.5),
    )
    reps, quick_reps = 5, 2

    def setup(self, E, quick):
        graphs = [
            (n, build_chain(E, n), chain_config(n), max(1, self.MIN_STEPS // n)) for n in self.SIZES
        ]

        async def sample():
            res = {}
            for n, g, cfg, times in graphs:
                t0 = time.perf_counter()
                for _ in range(times):
                    out = await g.ainvoke({"x": 0}, cfg)
                dt = time.perf_counter() - t0
                check(out["x"] == n, f"chain {n}: x={out.get('x')!r}")
                res[f"per_step_us_{n}"] = dt / (n * times) * US
            return res

        return sample

    def derive(self, m):
        return {"growth": m[f"per_step_us_{self.SIZES[-1]}"] / m[f"per_step_us_{self.SIZES[0]}"]}


class Fanout(Workload):
    name = "fanout"
    title = "1,000 parallel async branches -> join"
    N = 1000
    metrics = (Metric("per_branch_us", "per branch", "us", target=30),)

    def setup(self, E, quick):
        g, n = build_fanout(E, self.N), self.N

        async def sample():
            t0 = time.perf_counter()
            out = await g.ainvoke({"count": 0})
            dt = time.perf_counter() - t0
            check(
                out["count"] == n and out["joined"] == n,
                f"count={out.get('count')!r} joined={out.get('joined')!r}, expected {n}",
            )
            return {"per_branch_us": dt / n * US}

        return sample


class SendMap(Workload):
    name = "send"
    title = "1,000 Sends -> worker, operator.add reducer"
    N = 1000
    metrics = (Metric("per_item_us", "per item", "us", target=30),)
    needs = ("send",)

    def setup(self, E, quick):
        g, n = build_send_map(E), self.N
        expected = n * (n - 1) // 2

        async def sample():
            t0 = time.perf_counter()
            out = await g.ainvoke({"n": n, "total": 0})
            dt = time.perf_counter() - t0
            check(out["total"] == expected, f"total={out.get('total')!r}, expected {expected}")
            return {"per_item_us": dt / n * US}

        return sample


class SleepFanout(Workload):
    name = "sleep_fanout"
    title = "1,000 branches x asyncio.sleep(50ms)"
    N = 1000
    metrics = (Metric("wall_over_critical", "wall / 50ms", "x", target=1.5),)
    reps, quick_reps = 5, 3

    def setup(self, E, quick):
        g, n = build_fanout(E, self.N, nap), self.N

        async def sample():
            t0 = time.perf_counter()
            out = await g.ainvoke({"count": 0})
            dt = time.perf_counter() - t0
            check(
                out["count"] == n and out["joined"] == n,
                f"count={out.get('count')!r} joined={out.get('joined')!r}, expected {n}",
            )
            return {"wall_over_critical": dt / NAP_S}

        return sample


class TimelineCost(Workload):
    """What recording the run timeline costs per task: the same 200-node async chain
    compiled with and without it (``compile(timeline=False)``), run back to back in
    each sample; the difference over the task count. swiftgraph only."""

    name = "timeline_cost"
    title = "run timeline cost per task (200-node async chain, on vs off)"
    N = 200
    metrics = (Metric("per_task_us", "per task", "us", target=2),)
    needs = ("timeline",)
    reps, quick_reps, max_reps = 9, 5, 15

    def setup(self, E, quick):
        n, cfg = self.N, chain_config(self.N)
        on = build_chain(E, n)
        off = on.builder.compile(timeline=False)

        async def run(g):
            t0 = time.perf_counter()
            out = await g.ainvoke({"x": 0}, cfg)
            check(out["x"] == n, f"x={out.get('x')!r}, expected {n}")
            return time.perf_counter() - t0

        async def sample():
            # the fastest of several interleaved runs each: a difference of two noisy
            # numbers needs the noise (other processes, GC) filtered out of both
            with_tl, without = [], []
            for _ in range(7):
                with_tl.append(await run(on))
                without.append(await run(off))
            with_tl, without = min(with_tl), min(without)
            check(len(on.last_timeline.tasks) == n, "the timeline must hold every task")
            return {"per_task_us": (with_tl - without) / n * US}

        return sample


WORKLOADS = [
    ChainAsync(), ChainSync(), ChainScaling(), Fanout(), SendMap(), SleepFanout(), TimelineCost()
]
