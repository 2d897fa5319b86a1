"""The lesson's hiring pipeline, three ways, on swiftgraph.

    python examples/hiring_pipeline.py            # the lesson's timings (2 s, 3 s, 2 s)
    python examples/hiring_pipeline.py --unit 0.1  # the same, ten times faster

Sequential: parse, background check and reference check one after another (~7 s).
Graph API: parse, then background and references in parallel, then decide (~5 s).
Functional API: the same with @entrypoint/@task and asyncio.gather (~5 s).

The workflows themselves live in ``swiftgraph.examples.hiring`` (so the CLI can run
them too: ``swiftgraph demo`` adds Gantt charts, the critical path and an HTML report).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from swiftgraph.examples import hiring


async def main(unit: float = 1.0) -> None:
    hiring.set_unit(unit)
    graph = hiring.build_graph()
    screen_candidate = hiring.build_entrypoint()
    rows = []
    for label, run in (
        ("sequential", lambda: hiring.sequential("Alice Johnson")),
        ("graph API", lambda: graph.ainvoke({"name": "Bob Lee"})),
        ("functional API", lambda: screen_candidate.ainvoke("Clara Smith")),
    ):
        start = time.perf_counter()
        result = await run()
        took = (time.perf_counter() - start) / unit
        rows.append((label, took))
        print(f"{label:<15} {took:4.1f} s   {result if result is not None else ''}")
    saved = rows[0][1] - rows[1][1]
    print(f"\nparallelism saved {saved:.1f} s of {rows[0][1]:.1f} s (lesson seconds)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", type=float, default=1.0, help="seconds per lesson second")
    asyncio.run(main(parser.parse_args().unit))
