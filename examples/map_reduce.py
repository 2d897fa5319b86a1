"""Map-reduce: summarize documents in parallel with Send, combine them with a reducer.

    python examples/map_reduce.py               # model calls take 0.5-2 s each
    python examples/map_reduce.py --unit 0.01   # the same, a hundred times faster
    swiftgraph run examples/map_reduce.py:graph --input '{"documents": ["One. Two.", "Three."]}'

``fan_out`` (a conditional edge out of START) returns one ``Send("summarize", {...})``
per document, so swiftgraph runs one ``summarize`` task per document, all in the same
superstep, at the same time. Each returns ``{"summaries": [one summary]}``; the
``Annotated[list, operator.add]`` reducer merges them in the order the Sends were made
(not the order the tasks finished), so the result is deterministic. ``combine`` runs
once, after every summary is in.

The "model" is simulated: a summary is the document's first sentence, and each call
sleeps in proportion to the document's length, so this runs offline.
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import time
from typing import Annotated, TypedDict

from swiftgraph.graph import END, START, StateGraph
from swiftgraph.types import Send

UNIT = 1.0
"""Real seconds per simulated second; ``--unit`` scales it."""

DOCUMENTS = [
    (
        "Swiftgraph runs independent steps at the same time. A run takes as long as its "
        "longest branch, not the sum of its steps."
    ),
    (
        "The hiring pipeline parses a resume first. The background check and the reference "
        "check then run in parallel, and the decision waits for both."
    ),
    (
        "Reducers merge parallel writes. Without one, two tasks writing the same key in "
        "one step is an error."
    ),
    "Send fans work out to many copies of one node. Each copy gets its own input.",
    (
        "Checkpoints record every superstep. A thread can be resumed, inspected or forked "
        "from any of them."
    ),
]


class State(TypedDict, total=False):
    documents: list[str]
    summaries: Annotated[list[str], operator.add]
    digest: str


class DocumentInput(TypedDict):
    index: int
    text: str


def model_seconds(text: str) -> float:
    """How long the simulated model takes for ``text`` (0.5 s + 1 s per 100 words, at unit 1)."""
    return (0.5 + len(text.split()) / 100) * UNIT


async def fake_model(text: str) -> str:
    """Stands in for an LLM call: waits, then returns the first sentence."""
    await asyncio.sleep(model_seconds(text))
    return text.split(". ")[0].rstrip(".") + "."


def fan_out(state: State) -> list[Send]:
    return [
        Send("summarize", {"index": i, "text": text})
        for i, text in enumerate(state.get("documents", []))
    ]


async def summarize(doc: DocumentInput) -> dict:
    summary = await fake_model(doc["text"])
    return {"summaries": [f"[{doc['index'] + 1}] {summary}"]}


async def combine(state: State) -> dict:
    return {"digest": "\n".join(state.get("summaries", []))}


def build_graph():
    g = StateGraph(State)
    g.add_node("summarize", summarize)
    g.add_node("combine", combine)
    g.add_conditional_edges(START, fan_out, ["summarize"])
    g.add_edge("summarize", "combine")
    g.add_edge("combine", END)
    return g.compile()


graph = build_graph()


async def main(unit: float = 1.0, documents: list[str] | None = None) -> dict:
    global UNIT
    UNIT = unit
    docs = DOCUMENTS if documents is None else documents
    start = time.perf_counter()
    result = await graph.ainvoke({"documents": docs})
    took = time.perf_counter() - start
    one_by_one = sum(model_seconds(d) for d in docs)
    print(result["digest"])
    print(f"\n{len(docs)} documents summarized in {took / unit:.2f} s "
          f"(one after another: {one_by_one / unit:.2f} s; the longest call: "
          f"{max(map(model_seconds, docs), default=0.0) / unit:.2f} s)")  # fmt: skip
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", type=float, default=1.0, help="real seconds per simulated second")
    asyncio.run(main(parser.parse_args().unit))
