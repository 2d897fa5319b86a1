"""The lesson's hiring pipeline, three ways, on swiftgraph.

    python examples/hiring_pipeline.py            # the lesson's timings (2 s, 3 s, 2 s)
    python examples/hiring_pipeline.py --unit 0.1  # the same, ten times faster

Sequential: parse, background check and reference check one after another (~7 s).
Graph API: parse, then background and references in parallel, then decide (~5 s).
Functional API: the same with @entrypoint/@task and asyncio.gather (~5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import TypedDict

from swiftgraph.func import entrypoint, task
from swiftgraph.graph import END, START, StateGraph

UNIT = 1.0  # seconds per lesson second; --unit scales it


class CandidateState(TypedDict, total=False):
    name: str
    decision: str


async def parse_resume(state: CandidateState) -> dict:
    await asyncio.sleep(2 * UNIT)
    return {}


async def background_check(state: CandidateState) -> dict:
    await asyncio.sleep(3 * UNIT)
    return {}


async def reference_check(state: CandidateState) -> dict:
    await asyncio.sleep(2 * UNIT)
    return {}


async def decision(state: CandidateState) -> dict:
    return {"decision": "HIRED"}


def build_graph():
    g = StateGraph(CandidateState)
    g.add_node("parse", parse_resume)
    g.add_node("background", background_check)
    g.add_node("references", reference_check)
    g.add_node("decide", decision)
    g.add_edge(START, "parse")
    g.add_edge("parse", "background")
    g.add_edge("parse", "references")
    g.add_edge("background", "decide")
    g.add_edge("references", "decide")
    g.add_edge("decide", END)
    return g.compile()


@task
async def background_task(name: str) -> dict:
    await asyncio.sleep(3 * UNIT)
    return {"status": "Clear"}


@task
async def reference_task(name: str) -> dict:
    await asyncio.sleep(2 * UNIT)
    return {"status": "Positive"}


@task
async def parse_task(name: str) -> dict:
    await asyncio.sleep(2 * UNIT)
    return {"parsed": True}


@entrypoint
async def screen_candidate(name: str) -> str:
    await parse_task(name)
    background, reference = await asyncio.gather(background_task(name), reference_task(name))
    return f"HIRED - Background: {background['status']}, Refs: {reference['status']}"


async def sequential(name: str) -> None:
    await parse_resume({"name": name})
    await background_check({"name": name})
    await reference_check({"name": name})


async def main() -> None:
    graph = build_graph()
    rows = []
    for label, run in (
        ("sequential", lambda: sequential("Alice Johnson")),
        ("graph API", lambda: graph.ainvoke({"name": "Bob Lee"})),
        ("functional API", lambda: screen_candidate.ainvoke("Clara Smith")),
    ):
        start = time.perf_counter()
        result = await run()
        took = (time.perf_counter() - start) / UNIT
        rows.append((label, took))
        print(f"{label:<15} {took:4.1f} s   {result if result is not None else ''}")
    saved = rows[0][1] - rows[1][1]
    print(f"\nparallelism saved {saved:.1f} s of {rows[0][1]:.1f} s (lesson seconds)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", type=float, default=1.0, help="seconds per lesson second")
    UNIT = parser.parse_args().unit
    asyncio.run(main())
