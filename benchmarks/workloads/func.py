"""Functional API workloads (``@entrypoint`` / ``@task``).

Reported as n/a for an engine without ``<engine>.func``.
"""

from __future__ import annotations

import asyncio
import time

from harness import Metric, Workload, check

US = 1e6


async def double(i):
    return i * 2


async def step(x):
    return x + 1


def build_gather(E):
    """One entrypoint that launches n tasks at once and gathers them."""
    work = E.task(double)

    async def fan_in(n):
        results = await asyncio.gather(*[work(i) for i in range(n)])
        return sum(results)

    return E.entrypoint()(fan_in)


def build_sequence(E):
    """One entrypoint that awaits n tasks one after another."""
    work = E.task(step)

    async def sequence(n):
        x = 0
        for _ in range(n):
            x = await work(x)
        return x

    return E.entrypoint()(sequence)


class FuncGather(Workload):
    name = "func_gather"
    title = "@entrypoint gathering 1,000 async @tasks"
    N = 1000
    metrics = (Metric("per_task_us", "per task", "us", target=30),)
    needs = ("func",)

    def setup(self, E, quick):
        app, n = build_gather(E), self.N
        expected = n * (n - 1)

        async def sample():
            t0 = time.perf_counter()
            out = await app.ainvoke(n)
            dt = time.perf_counter() - t0
            check(out == expected, f"result={out!r}, expected {expected}")
            return {"per_task_us": dt / n * US}

        return sample


class FuncSequence(Workload):
    name = "func_sequence"
    title = "@entrypoint awaiting 200 @tasks in sequence"
    N = 200
    metrics = (Metric("per_task_us", "per task", "us", target=15),)
    needs = ("func",)

    def setup(self, E, quick):
        app, n = build_sequence(E), self.N

        async def sample():
            t0 = time.perf_counter()
            out = await app.ainvoke(n)
            dt = time.perf_counter() - t0
            check(out == n, f"result={out!r}, expected {n}")
            return {"per_task_us": dt / n * US}

        return sample


WORKLOADS = [FuncGather(), FuncSequence()]
