#!/usr/bin/env python
"""swiftgraph vs LangGraph benchmarks. See benchmarks/README.md.

python benchmarks/run.py [--quick] [--only NAME ...] [--engines swiftgraph,langgraph]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

import engines as engine_loader
from harness import measure
from workloads import ALL, BY_NAME

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
FMT = {
    "us": "{:,.1f} µs",
    "ms": "{:,.1f} ms",
    "x": "{:.2f}x",
    "runs/s": "{:,.0f}/s",
    "MiB": "{:,.0f} MiB",
    "KiB": "{:,.1f} KiB",
}


def fmt(v, unit):
    return FMT[unit].format(v) if v is not None else ""


def cell(r: dict, key: str, unit: str) -> str:
    if r is None:
        return "-"
    if r["status"] != "ok":
        return f"{r['status']}"
    return fmt(r["median"].get(key), unit)


def table_row(label: str, m, res: dict, names: list[str]) -> list[str]:
    """One metric: each engine's median, ratio, target, swiftgraph's PASS/MISS."""
    vals = {n: res[n]["median"].get(m.key) if res[n]["status"] == "ok" else None for n in names}
    row = [label, m.label] + [cell(res[n], m.key, m.unit) for n in names]
    sg, lg = vals.get("swiftgraph"), vals.get("langgraph")
    if len(names) > 1:
        ratio = (sg / lg if m.higher_is_better else lg / sg) if sg and lg else None
        row.append(f"{ratio:,.1f}x" if ratio else "")
    target = (
        "" if m.target is None else ("≥ " if m.higher_is_better else "≤ ") + fmt(m.target, m.unit)
    )
    status = ""
    if m.target is not None and "swiftgraph" in res:
        r = res["swiftgraph"]
        if sg is not None:
            status = "PASS" if m.meets(sg) else "MISS"
        else:
            status = f"n/a ({r['reason']})" if r["status"] == "n/a" else r["status"]
    return row + [target, status]


def print_table(cols: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows)]
    last = len(cols) - 1
    for k, row in enumerate([cols, *rows]):
        print(
            "  ".join(
                str(x).ljust(wd) if j < 2 or j == last else str(x).rjust(wd)
                for j, (x, wd) in enumerate(zip(row, widths))
            ).rstrip()
        )
        if k == 0:
            print("  ".join("-" * wd for wd in widths))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, 1k concurrent runs")
    ap.add_argument(
        "--only", nargs="+", metavar="NAME", choices=list(BY_NAME), help="workloads to run"
    )
    ap.add_argument("--engines", default=",".join(engine_loader.ENGINES), help="comma-separated")
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    ap.add_argument("--list", action="store_true", help="list workloads and exit")
    args = ap.parse_args()

    if args.list:
        for w in ALL:
            print(f"{w.name:21} {w.title}")
        return 0

    machine = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"machine: Python {machine['python']} ({machine['implementation']}), "
        f"{machine['cpus']} CPUs, {machine['platform']}, load avg {machine['loadavg'][0]}"
    )

    engines, skipped = {}, {}
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        try:
            engines[name] = engine_loader.load(name)
            missing = "".join(f"; {why}" for why in engines[name].missing.values())
            print(f"engine:  {name} {engines[name].version}{missing}")
        except engine_loader.EngineUnavailable as e:
            skipped[name] = str(e)
            print(f"engine:  {name} SKIPPED ({e})")
    if not engines:
        print("no engine could be imported", file=sys.stderr)
        return 2
    names = list(engines)
    mode = "quick" if args.quick else "full"
    print(f"mode:    {mode}\n")

    cols = (
        ["workload", "metric", *names]
        + (["ratio"] if len(names) > 1 else [])
        + ["target", "status"]
    )
    rows, results = [], {}
    loop = asyncio.new_event_loop()
    for w in [BY_NAME[n] for n in args.only] if args.only else ALL:
        print(f"running {w.name}: {w.title} ...", end="", flush=True)
        res = measure(w, engines, args.quick, loop)
        print(
            " "
            + ", ".join(
                f"{n}: {r['status']}" + (f" x{r['n']}" if r.get("n") else "")
                for n, r in res.items()
            )
        )
        for n, r in res.items():
            if r["status"] != "ok":
                print(f"    {n}: {r['reason']}")
        results[w.name] = {
            "title": w.title,
            "engines": res,
            "metrics": [m.__dict__ for m in w.metrics],
        }
        rows += [
            table_row(w.name if i == 0 else "", m, res, names) for i, m in enumerate(w.metrics)
        ]
    loop.close()

    print()
    print_table(cols, rows)
    if len(names) > 1:
        print(
            "\nratio: how many times better swiftgraph is (langgraph/swiftgraph; "
            "swiftgraph/langgraph for throughput). status: swiftgraph vs its target."
        )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "mode": mode,
                "machine": machine,
                "git": engine_loader.git_rev(),
                "engines": {
                    n: {"version": E.version, "missing": E.missing} for n, E in engines.items()
                },
                "skipped_engines": skipped,
                "workloads": results,
            },
            indent=1,
            default=str,
        )
    )
    print(f"\nresults written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
