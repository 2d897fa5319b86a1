"""The lesson's hiring pipeline, three ways: sequential, Graph API, Functional API.

Parse a resume (2 s), then run a background check (3 s) and a reference check (2 s),
then decide.  One after another that is 7 s; the two checks only need the parsed
resume, so running them at the same time makes it 5 s (the longest branch).

Durations are lesson seconds times :data:`UNIT` (real seconds per lesson second);
:func:`set_unit` changes it, so the demo and the tests can run the same code faster.

* :func:`sequential` - plain asyncio, one step after another;
* :func:`build_graph` / :data:`graph` - the Graph API: a ``StateGraph`` with a fan-out
  after ``parse`` and a join at ``decide``;
* :func:`build_entrypoint` / :data:`screen_candidate` - the Functional API: ``@task``
  calls awaited with ``asyncio.gather``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

from swiftgraph.func import entrypoint, task
from swiftgraph.graph import END, START, StateGraph

UNIT = 1.0
"""Real seconds per lesson second (the lesson's durations are 2, 3 and 2)."""

DURATIONS = {"parse": 2, "background": 3, "references": 2, "decide": 0}
"""Lesson seconds of each step."""


def set_unit(unit: float) -> None:
    """Scale every step: ``set_unit(0.1)`` runs the lesson ten times faster."""
    global UNIT
    if not unit > 0:
        raise ValueError(f"unit must be a positive number of seconds, not {unit!r}")
    UNIT = float(unit)


async def _work(step: str) -> None:
    await asyncio.sleep(DURATIONS[step] * UNIT)


# --- Graph API --------------------------------------------------------------------------


class CandidateState(TypedDict, total=False):
    name: str
    decision: str


async def parse_resume(state: CandidateState) -> dict:
    await _work("parse")
    return {}


async def background_check(state: CandidateState) -> dict:
    await _work("background")
    return {}


async def reference_check(state: CandidateState) -> dict:
    await _work("references")
    return {}


async def decision(state: CandidateState) -> dict:
    return {"decision": "HIRED"}


def build_graph(checkpointer: Any = None) -> Any:
    """parse -> (background || references) -> decide."""
    g: StateGraph = StateGraph(CandidateState)
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
    return g.compile(checkpointer=checkpointer) if checkpointer is not None else g.compile()


# --- Functional API ---------------------------------------------------------------------


@task
async def parse_task(name: str) -> dict:
    await _work("parse")
    return {"parsed": True}


@task
async def background_task(name: str) -> dict:
    await _work("background")
    return {"status": "Clear"}


@task
async def reference_task(name: str) -> dict:
    await _work("references")
    return {"status": "Positive"}


async def _screen_candidate(name: str) -> str:
    await parse_task(name)
    background, reference = await asyncio.gather(background_task(name), reference_task(name))
    return f"HIRED - Background: {background['status']}, Refs: {reference['status']}"


_screen_candidate.__name__ = "screen_candidate"
_screen_candidate.__qualname__ = "screen_candidate"


def build_entrypoint(checkpointer: Any = None) -> Any:
    """The Functional API version, optionally with a checkpointer."""
    if checkpointer is None:
        return entrypoint(_screen_candidate)
    return entrypoint(checkpointer=checkpointer)(_screen_candidate)


# --- sequential -------------------------------------------------------------------------


async def sequential(name: str, on_step: Callable[[str, float, float], None] | None = None) -> None:
    """The three steps one after another; ``on_step(step, start, end)`` gets
    ``time.perf_counter()`` readings, so the demo can draw this run's timeline too."""
    import time

    state: CandidateState = {"name": name}
    steps: list[tuple[str, Callable[[CandidateState], Awaitable[dict]]]] = [
        ("parse", parse_resume), ("background", background_check), ("references", reference_check),
    ]  # fmt: skip
    for step, fn in steps:
        start = time.perf_counter()
        await fn(state)
        if on_step is not None:
            on_step(step, start, time.perf_counter())


graph = build_graph()
"""The Graph API pipeline, compiled without a checkpointer."""

screen_candidate = build_entrypoint()
"""The Functional API pipeline."""

__all__ = [
    "DURATIONS",
    "UNIT",
    "CandidateState",
    "build_entrypoint",
    "build_graph",
    "graph",
    "screen_candidate",
    "sequential",
    "set_unit",
]
