"""An agent loop with a human approval step: interrupt(), a checkpoint, and resume.

    python examples/approval_agent.py                 # approves the tool call
    python examples/approval_agent.py --deny          # rejects it; the agent answers without it
    python examples/approval_agent.py --db run.sqlite # checkpoints in a SQLite file

The "model" decides to call a tool (simulated: a sleep and a canned decision), the
``approve`` node asks a human with ``interrupt(...)``, and the run pauses: ``invoke``
returns ``__interrupt__`` and the checkpoint keeps the step pending. Resuming with
``Command(resume=True|False)`` reruns ``approve`` from its start, where ``interrupt``
now returns the answer, and the loop goes on to the tool or straight to the answer.
A second process could do the resuming: with ``--db`` the pause survives a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import operator
from typing import Annotated, Literal, TypedDict

from swiftgraph.checkpoint.memory import InMemorySaver
from swiftgraph.graph import END, START, StateGraph
from swiftgraph.types import Command, interrupt

UNIT = 0.05


class AgentState(TypedDict, total=False):
    question: str
    log: Annotated[list[str], operator.add]
    tool_request: str | None
    tool_result: str | None
    answer: str


async def model(state: AgentState) -> dict:
    await asyncio.sleep(2 * UNIT)  # a model call
    if state.get("tool_result") is None and state.get("tool_request") is None:
        return {"log": ["model: wants search()"], "tool_request": f"search({state['question']!r})"}
    found = state.get("tool_result") or "no tool result"
    return {"log": ["model: answers"], "answer": f"Answer to {state['question']!r} using {found}"}


def approve(state: AgentState) -> Command[Literal["tool", "model"]]:
    decision = interrupt({"tool_request": state["tool_request"], "question": "Run this tool?"})
    if decision:
        return Command(goto="tool", update={"log": ["human: approved"]})
    return Command(goto="model", update={"log": ["human: denied"], "tool_request": None, "tool_result": "denied"})


async def tool(state: AgentState) -> dict:
    await asyncio.sleep(1 * UNIT)  # the tool's I/O
    return {"log": ["tool: searched"], "tool_result": "3 results"}


def route(state: AgentState) -> Literal["approve", "__end__"]:
    return "approve" if state.get("tool_request") and state.get("tool_result") is None else END


def build(checkpointer=None):
    g = StateGraph(AgentState)
    g.add_node("model", model)
    g.add_node("approve", approve)
    g.add_node("tool", tool)
    g.add_edge(START, "model")
    g.add_conditional_edges("model", route)
    g.add_edge("tool", "model")
    return g.compile(checkpointer=checkpointer or InMemorySaver())


def main(approve_it: bool, db: str | None) -> None:
    config = {"configurable": {"thread_id": "approval-demo"}}
    if db:
        from swiftgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(db) as saver:
            saver.delete_thread("approval-demo")
            _run(build(saver), config, approve_it)
    else:
        _run(build(), config, approve_it)


def _run(graph, config, approve_it: bool) -> None:
    first = graph.invoke({"question": "what is swiftgraph?", "log": []}, config)
    (pending,) = first["__interrupt__"]
    print(f"paused: {pending.value}")
    print(f"next: {graph.get_state(config).next}")
    final = graph.invoke(Command(resume=approve_it), config)
    for line in final["log"]:
        print(f"  {line}")
    print(final["answer"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deny", action="store_true", help="reject the tool call")
    parser.add_argument("--db", help="a SQLite file for the checkpoints")
    parser.add_argument("--unit", type=float, default=UNIT, help="seconds per simulated second")
    args = parser.parse_args()
    UNIT = args.unit
    main(not args.deny, args.db)
