"""Measurement harness: workload description and the interleaved sampling loop."""

from __future__ import annotations

import asyncio
import gc
import inspect
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ValidationError(AssertionError):
    """A workload produced a wrong result: the engine must not look fast."""


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValidationError(msg)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "us", "ms", "x", "runs/s", "MiB"
    target: float | None = None  # swiftgraph's target
    higher_is_better: bool = False

    def meets(self, value: float) -> bool:
        assert self.target is not None
        return value >= self.target if self.higher_is_better else value <= self.target


class Workload:
    """One benchmark. Subclasses set the attributes and implement ``setup``.

    ``setup(E, quick)`` builds everything outside the timed region and returns a
    zero-argument ``sample`` callable (sync, or returning an awaitable). Each call
    runs the workload once, validates the result and returns ``{metric key: value}``.
    ``derive(medians)`` may add metrics computed from the per-metric medians.
    """

    name: str = ""
    title: str = ""
    metrics: tuple[Metric, ...] = ()
    needs: tuple[str, ...] = ()  # optional engine features (see engines.OPTIONAL)
    reps: int = 7  # interleaved samples per engine (minimum)
    quick_reps: int = 3
    warmup: int = 1  # discarded samples per engine before measuring
    max_reps: int = 25  # fast engines get extra samples up to this ...
    budget_s: float = 1.0  # ... while their measured time stays under this
    quick_budget_s: float = 0.3
    # A sample shorter than this runs the workload again (timeit's "loops") and
    # averages: one run of a fast engine can take about a millisecond, and the first
    # one after gc.collect() pays for the caches that collection left cold (over
    # both engines' heaps), which is no part of the engine's cost.
    min_sample_s: float = 0.02

    def setup(self, E: Any, quick: bool) -> Callable[[], Any]:
        raise NotImplementedError

    def derive(self, medians: dict[str, float]) -> dict[str, float]:
        return {}


def _run(
    sample: Callable[[], Any], loop: asyncio.AbstractEventLoop, min_s: float = 0.0
) -> tuple[dict, float]:
    """One sample after a full collection: the workload run once, or as many times
    as make ``min_s`` seconds, its values averaged; returns them and the duration."""
    gc.collect()
    runs: list[dict] = []
    spent = 0.0
    while not runs or spent < min_s:
        t0 = time.perf_counter()
        result = sample()
        if inspect.isawaitable(result):
            result = loop.run_until_complete(result)
        spent += time.perf_counter() - t0
        runs.append(result)
    if len(runs) == 1:
        return runs[0], spent
    return {k: statistics.fmean(r[k] for r in runs) for k in runs[0]}, spent


def measure(
    w: Workload, engines: dict[str, Any], quick: bool, loop: asyncio.AbstractEventLoop
) -> dict[str, dict]:
    """Run ``w`` on every engine, interleaved; return per-engine status and medians."""
    out: dict[str, dict] = {}
    samplers: dict[str, Callable] = {}
    for name, E in engines.items():
        lacking = [E.missing[f] for f in w.needs if f in E.missing]
        if lacking:
            out[name] = {"status": "n/a", "reason": "; ".join(lacking)}
            continue
        try:
            sampler = w.setup(E, quick)
            for _ in range(w.warmup):
                _run(sampler, loop, w.min_sample_s)
        except Exception as e:  # noqa: BLE001 - report, keep going
            out[name] = _error(e)
            continue
        samplers[name] = sampler
        out[name] = {"status": "ok", "samples": {}, "spent_s": 0.0}

    reps = w.quick_reps if quick else w.reps
    budget = w.quick_budget_s if quick else w.budget_s
    max_reps = max(reps, w.max_reps if not quick else min(w.max_reps, 10))

    def wants_more(name: str) -> bool:
        r = out[name]
        n = len(next(iter(r["samples"].values()), []))
        return n < reps or (n < max_reps and r["spent_s"] < budget)

    rnd = 0
    while True:
        active = [n for n in samplers if out[n]["status"] == "ok" and wants_more(n)]
        if not active:
            break
        for name in active if rnd % 2 == 0 else reversed(active):  # alternate who goes first
            try:
                values, spent = _run(samplers[name], loop, w.min_sample_s)
            except Exception as e:  # noqa: BLE001 - report, keep going
                out[name] = _error(e)
                continue
            out[name]["spent_s"] += spent
            for k, v in values.items():
                out[name]["samples"].setdefault(k, []).append(v)
        rnd += 1

    for name, r in out.items():
        if r["status"] == "ok":
            r["median"] = {k: statistics.median(v) for k, v in r["samples"].items()}
            r["median"].update(w.derive(r["median"]))
            r["n"] = len(next(iter(r["samples"].values()), []))
    return out


def _error(e: BaseException) -> dict:
    kind = "invalid result" if isinstance(e, ValidationError) else type(e).__name__
    return {
        "status": "error",
        "reason": f"{kind}: {e}"[:300],
        "traceback": traceback.format_exc(limit=8),
    }
