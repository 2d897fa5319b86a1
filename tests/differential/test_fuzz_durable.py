"""Randomized differential tests of checkpointed runs: the random graphs of
:mod:`test_fuzz_graph`, compiled with an in-memory checkpointer and random
breakpoints, run on both engines until they finish.

Each seed invokes the graph on a thread, then resumes it (``invoke(None)``) while its
snapshot has a next step, and compares every call's result or error, the snapshot
after each call (values, next, tasks, interrupts, metadata), and the whole history
(values, source and step of every checkpoint). Ids are compared by the order they
appear in (task ids are not LangGraph's values, a documented difference). A past
checkpoint's ``next`` is left out: where a join's target is also reached by an edge,
LangGraph's history lists it next before the join is complete (a documented
difference, pinned in test_durability_breakpoints.py).

What is generated on top of the graph: ``interrupt_before`` and ``interrupt_after``,
each ``None``, some nodes, or ``"*"``; nodes calling ``interrupt()`` at one ``count``
(answered, by interrupt id, when the thread is resumed); now and then, before a
resume, an ``update_state`` as a named node. Not as the node it would infer:
LangGraph infers ``as_node`` from the channel versions nodes have seen, swiftgraph
from the tasks of the checkpoint's step, and after some histories (an earlier
update, a node triggered two ways) LangGraph finds it ambiguous where swiftgraph
names the step's one node (a documented difference). Graphs with a failing node or path are left out:
when a step fails, whether its other tasks finished (and saved their writes) first is
a race on both engines, and resuming shows it.

``SWIFTGRAPH_FUZZ_DURABLE_SEEDS=2000`` runs more seeds (``SWIFTGRAPH_FUZZ_START``
offsets them, as for the plain fuzz test); a failure prints the seed and the
description.
"""

from __future__ import annotations

import asyncio
import os
import pprint
import random

import pytest
from durability_kit import Tx, compare, saver, thread
from test_fuzz_graph import FIRST_SEED, build, describe, is_async

N_SEEDS = int(os.environ.get("SWIFTGRAPH_FUZZ_DURABLE_SEEDS", "150"))
MAX_RESUMES = 8


def durable(seed: int) -> tuple[dict, dict]:
    """The graph description for ``seed`` (no failing node) and its breakpoints."""
    desc = describe(seed)
    for spec in [*desc["nodes"].values(), *desc["conds"]]:
        spec["raise_at"] = None
    r = random.Random(f"durable-{seed}")
    names = list(desc["nodes"])
    for name in names:  # a node that asks a question (interrupt()) at one count
        desc["nodes"][name]["ask_at"] = r.randint(0, 6) if r.random() < 0.2 else None

    def breakpoints():
        kind = r.choices(["none", "some", "all"], [0.4, 0.5, 0.1])[0]
        if kind == "all":
            return "*"
        return sorted(r.sample(names, r.randint(1, len(names)))) if kind == "some" else None

    return desc, {"interrupt_before": breakpoints(), "interrupt_after": breakpoints()}


def scenario_for(desc: dict, breaks: dict):
    make = build(desc, lambda E: dict(breaks, checkpointer=saver(E)))
    config = {"recursion_limit": desc["recursion_limit"]}
    if desc["max_concurrency"] is not None:
        config["max_concurrency"] = desc["max_concurrency"]
    run_async = is_async(desc) or desc["sync_method"] == "ainvoke"
    r = random.Random(f"updates-{desc['input']}-{len(desc['nodes'])}-{desc['recursion_limit']}")
    # update_state before a resume, as one of the nodes (named: see the module docstring)
    updates = [r.choice(list(desc["nodes"])) if r.random() < 0.3 else None for _ in range(MAX_RESUMES)]

    def scenario(E):
        tx, app = Tx(), make(E)
        cfg = {**thread("fz"), **config}

        def update(values, as_node):
            if is_async(desc):
                return asyncio.run(app.aupdate_state(cfg, values, as_node=as_node))
            return app.update_state(cfg, values, as_node=as_node)

        def call(value):
            if run_async:
                return asyncio.run(app.ainvoke(value, cfg))
            return app.invoke(value, cfg)

        out = [tx.attempt(call, desc["input"]), tx.state(app, cfg)]
        for k in range(MAX_RESUMES):
            snap = app.get_state(cfg)
            if not snap.next:
                break
            if updates[k] is not None:  # an edit while paused
                # (an async path needs aupdate_state on LangGraph: a documented difference)
                out.append(tx.attempt(update, {"log": [f"edit{k}"]}, updates[k]))
                out.append(tx.state(app, cfg))
                snap = app.get_state(cfg)
                if not snap.next:
                    break
            # answer every pending question (by interrupt id: each engine its own
            # ids), or go on past a breakpoint
            answers = {i.id: f"ans({i.value})" for i in snap.interrupts}
            out += [tx.attempt(call, E.Command(resume=answers) if answers else None), tx.state(app, cfg)]
        # the history's values, sources and steps (not its ``next``: see the docstring)
        history = [tx.brief(snap) for snap in app.get_state_history(cfg)]
        return out + [[(values, source, step) for values, _next, source, step in history]]

    return scenario


@pytest.mark.filterwarnings("ignore")  # swiftgraph warns about unreachable nodes and such
@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + N_SEEDS), ids="seed[{}]".format)
def test_random_durable_graph(seed):
    desc, breaks = durable(seed)
    try:
        compare(scenario_for(desc, breaks))
    except AssertionError as e:
        raise AssertionError(
            f"seed {seed} diverges (breakpoints {breaks})\n"
            f"{pprint.pformat(desc, sort_dicts=False)}\n{e}"
        ) from None
