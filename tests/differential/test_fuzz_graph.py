"""Randomized differential tests of the Graph API: random graphs, run on both engines.

A seeded generator (:func:`describe`) makes a graph *description*: plain data (dicts,
lists, strings) saying which nodes exist, how they are wired and what each node does.
:func:`build` turns one description into a compiled graph on either engine, so both
engines run the same graph.  Each seed is compared on the final state (``invoke`` or
``ainvoke``) and on a ``["updates", "values"]`` stream (per superstep: tasks of one
step finish in any order), errors included (type and message).

Every node appends ``name(plain, count, len(log))`` to the ``log`` reducer, so the
order of the writes and what each node saw are compared, not just the end value.

What is generated (and what is not):
- 2-8 nodes, sync or async (a graph with an async node or path runs with ``ainvoke``
  and ``astream``: LangGraph refuses those under ``invoke``, a documented difference);
- static edges, fan-out, joins (``add_edge([a, b], c)``), ``defer=True``;
- conditional edges returning a name, a list, END, ``Send``s, or looping back while
  ``count`` is small, with or without a ``path_map``;
- nodes returning a dict, None or ``Command(goto=..., update=...)`` (or no goto); nodes
  writing the plain key (two in one step: ``InvalidUpdateError``); a node or a path
  raising at one ``count`` (maybe under a ``RetryPolicy``; one such place a graph); ``Overwrite`` of the list;
  keys outside the schema; ``max_concurrency`` now and then;
- always a ``recursion_limit`` (the default is over 10,000 steps), small now and then.
Routes only ever name nodes that exist (swiftgraph raises for unknown targets where
LangGraph drops them, a documented difference), and every graph has an entry edge.

``SWIFTGRAPH_FUZZ_SEEDS=5000`` runs more seeds (``SWIFTGRAPH_FUZZ_START`` offsets them);
a failure prints the seed and the description.  Replay one with
``pytest tests/differential/test_fuzz_graph.py -k 'seed[123]'``, or in Python with
``compare(describe(123))``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import operator
import os
import pprint
import random
from typing import Annotated, TypedDict

import pytest

from conftest import LG, SG, assert_same, run

N_SEEDS = int(os.environ.get("SWIFTGRAPH_FUZZ_SEEDS", "300"))
FIRST_SEED = int(os.environ.get("SWIFTGRAPH_FUZZ_START", "0"))
END = "__end__"
START = "__start__"


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]
    plain: str
    count: Annotated[int, operator.add]


# --------------------------------------------------------------------------- generator
def describe(seed: int) -> dict:
    """A random graph description (plain data) for ``seed``."""
    r = random.Random(seed)
    names = [f"n{i}" for i in range(r.randint(2, 8))]
    nodes = {}
    for name in names:
        nodes[name] = {
            "async": r.random() < 0.3,
            "defer": r.random() < 0.12,
            "plain": r.random() < 0.2,  # writes the plain key
            "returns": r.choices(["dict", "none", "command"], [0.75, 0.1, 0.15])[0],
            "raise_at": r.randint(1, 12) if r.random() < 0.08 else None,
            "error": r.choice(["ValueError", "KeyError", "RuntimeError"]),
            "overwrite": r.random() < 0.06,  # writes ``Overwrite([...])`` to the log
            "extra": r.random() < 0.05,  # also returns a key the schema doesn't have
            "retry": r.random() < 0.1,  # a RetryPolicy (the failure repeats: same input)
        }
        if nodes[name]["returns"] == "command":
            # no goto at all now and then: a Command that only updates
            nodes[name]["goto"] = (
                _targets(r, names, allow_send=True, allow_end=True) if r.random() < 0.85
                else {"kind": "none"}
            )

    edges: list = [[START, r.choice(names)]]
    if r.random() < 0.3:  # fan-out from START
        edges.append([START, r.choice(names)])
    for _ in range(r.randint(0, len(names) + 2)):
        edges.append([r.choice(names), r.choice(names + [END])])
    joins = []
    for _ in range(r.choices([0, 1, 2], [0.6, 0.3, 0.1])[0]):
        if len(names) >= 3:
            *srcs, dst = r.sample(names, r.randint(3, min(4, len(names))))
            joins.append([srcs, dst])
    conds = []
    for _ in range(r.choices([0, 1, 2, 3], [0.3, 0.35, 0.25, 0.1])[0]):
        cond = _cond(r, names)
        if nodes[cond["src"]]["returns"] == "none" and cond.get("route", {}).get("kind") == "send":
            # a node writing nothing never raises ``count``: its Sends would never stop
            cond["route"] = _targets(r, names, allow_send=False, allow_end=True)
        conds.append(cond)
    if r.random() < 0.1:  # a conditional entry point
        conds.append({**_cond(r, names), "src": START})
    # At most one place fails.  When two tasks of a step fail differently, which error
    # the caller sees is a race on both engines (LangGraph pops the failed futures
    # from a set), so only one node or path raises, and every task of it that fails
    # in one step fails alike (same count, same message).
    failing = [spec for spec in nodes.values() if spec["raise_at"] is not None]
    failing += [cond for cond in conds if cond["raise_at"] is not None]
    if len(failing) > 1:
        keep = r.choice(failing)
        for spec in failing:
            if spec is not keep:
                spec["raise_at"] = None
    return {
        "nodes": nodes,
        "edges": edges,
        "joins": joins,
        "conds": conds,
        "input": _input(r),
        "recursion_limit": r.choice([25, 25, 4, 6, 10]),
        "max_concurrency": r.choice([None, None, None, 1, 2]),
        "sync_method": r.choice(["invoke", "ainvoke"]),
        "sync_stream": r.choice(["stream", "astream"]),
    }


def _targets(r: random.Random, names: list, allow_send: bool, allow_end: bool) -> dict:
    """Where a route or goto leads: one name, a list of names (maybe repeated, maybe
    empty), END, or Sends (a list or a lone one)."""
    kinds = ["name", "list"] + (["send"] if allow_send else []) + (["end"] if allow_end else [])
    kind = r.choice(kinds)
    if kind == "name":
        return {"kind": "name", "to": r.choice(names)}
    if kind == "end":
        return {"kind": "end"}
    if kind == "list":
        pool = names + ([END] if allow_end else [])
        return {"kind": "list", "to": r.choices(pool, k=r.choice([0, 1, 2, 2, 3, 3]))}
    # Sends multiply tasks (a node sending to itself twice doubles them each step), so
    # they are only sent while ``count`` is below ``cap``; a Send's argument carries
    # ``count + 1``, so Sends from Sent tasks stop too.
    return {"kind": "send", "to": [r.choice(names) for _ in range(r.randint(1, 3))],
            "cap": r.randint(1, 5), "lone": r.random() < 0.2}


def _cond(r: random.Random, names: list) -> dict:
    """A conditional edge: routes by ``count`` (``loop``) or always the same way."""
    cond = {"src": r.choice(names), "async": r.random() < 0.2, "map": r.random() < 0.4,
            "raise_at": r.randint(1, 10) if r.random() < 0.05 else None}
    if r.random() < 0.35:
        cond["loop"] = {"below": r.randint(1, 8), "back": r.choice(names),
                        "out": r.choice(names + [END])}
    else:
        cond["route"] = _targets(r, names, allow_send=True, allow_end=True)
    return cond


def _input(r: random.Random) -> dict:
    inp = {"log": [], "plain": "in", "count": 0}
    for key in list(inp):
        if r.random() < 0.15:
            del inp[key]
    return inp


# --------------------------------------------------------------------------- builder
ERRORS = {"ValueError": ValueError, "KeyError": KeyError, "RuntimeError": RuntimeError}


def _seen(name: str, state: dict) -> str:
    return f"{name}({state.get('plain')},{state.get('count')},{len(state.get('log') or [])})"


def _route_value(E, route: dict, state: dict, mapped: bool):
    """The path's return value for ``route`` (keys of the path map when ``mapped``)."""
    key = (lambda n: f"k_{n}") if mapped else (lambda n: n)
    if route["kind"] == "none":
        return ()
    if route["kind"] == "name":
        return key(route["to"])
    if route["kind"] == "end":
        return key(END) if mapped else E.END
    if route["kind"] == "list":
        return [key(t) for t in route["to"]]
    count = state.get("count") or 0
    if count >= route["cap"]:
        return key(END) if mapped else E.END
    sends = [E.Send(t, {"plain": f"s{i}", "count": count + 1}) for i, t in enumerate(route["to"])]
    return sends[0] if route["lone"] else sends


def _node(E, name: str, spec: dict):
    def body(state):
        if spec["raise_at"] is not None and state.get("count") == spec["raise_at"]:
            raise ERRORS[spec["error"]](f"{name} fails at count {spec['raise_at']}")
        answer = ""
        if spec.get("ask_at") is not None and state.get("count") == spec["ask_at"]:
            # (test_fuzz_durable only: a question, answered on resume)
            answer = "=" + str(E.types.interrupt(f"{name}?{spec['ask_at']}"))
        if spec["returns"] == "none":
            return None
        update = {"log": [_seen(name, state) + answer], "count": 1}
        if spec.get("overwrite"):
            update["log"] = E.Overwrite(update["log"])
        if spec.get("extra"):
            update["extra"] = name
        if spec["plain"]:
            update["plain"] = name
        if spec["returns"] == "command":
            goto = _route_value(E, spec["goto"], state, mapped=False)
            return E.Command(goto=goto, update=update) if goto != () else E.Command(update=update)
        return update

    async def abody(state):
        await asyncio.sleep(0)
        return body(state)

    fn = abody if spec["async"] else body
    fn.__name__ = name
    return fn


def _path(E, cond: dict):
    mapped = cond["map"]

    def path(state):
        if cond["raise_at"] is not None and state.get("count") == cond["raise_at"]:
            raise ValueError(f"route from {cond['src']} fails at count {cond['raise_at']}")
        if "loop" in cond:
            loop = cond["loop"]
            target = loop["back"] if (state.get("count") or 0) < loop["below"] else loop["out"]
            return f"k_{target}" if mapped else target
        return _route_value(E, cond["route"], state, mapped)

    async def apath(state):
        return path(state)

    return apath if cond["async"] else path


def _path_map(desc: dict, cond: dict) -> dict | None:
    if not cond["map"]:
        return None
    targets = list(desc["nodes"]) + [END]
    return {f"k_{t}": t for t in targets}


def build(desc: dict, compile_kw=None):
    """A builder ``build(E)`` for the harness: the described graph on engine ``E``
    (``compile_kw(E)``: more arguments for ``compile``, a checkpointer...)."""

    def make(E):
        g = E.StateGraph(S)
        for name, spec in desc["nodes"].items():
            retry = E.RetryPolicy(initial_interval=0, jitter=False, max_attempts=2,
                                  retry_on=Exception) if spec.get("retry") else None
            g.add_node(name, _node(E, name, spec), defer=spec["defer"], retry_policy=retry)
        end = lambda t: E.END if t == END else (E.START if t == START else t)  # noqa: E731
        for src, dst in desc["edges"]:
            g.add_edge(end(src), end(dst))
        for srcs, dst in desc["joins"]:
            g.add_edge(srcs, dst)
        for i, cond in enumerate(desc["conds"]):
            pm = _path_map(desc, cond)
            if pm is not None:
                pm = {k: end(v) for k, v in pm.items()}
            path = _path(E, cond)
            path.__name__ = f"route{i}"
            g.add_conditional_edges(end(cond["src"]), path, pm)
        return g.compile(**(compile_kw(E) if compile_kw else {}))

    return make


def is_async(desc: dict) -> bool:
    return any(n["async"] for n in desc["nodes"].values()) or any(
        c["async"] for c in desc["conds"]
    )


def _strip_unfinished_step(out):
    """Drop stream chunks after the last ``values`` chunk of a failed run.

    When a task fails, whether the other tasks of its step finish (and stream their
    updates) first is a race on both engines, so only whole steps are compared.
    """
    if out.ok or not isinstance(out.value, list):
        return out
    last = max((i for i, c in enumerate(out.value) if c[0] == "values"), default=-1)
    out.value = out.value[: last + 1]
    return out


class _Records(logging.Handler):
    """Collects what asyncio logs (an unretrieved task error, a never-awaited coroutine)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().splitlines()[0])


def compare(desc: dict) -> None:
    """Run ``desc`` on both engines (final state, then the updates + values stream);
    neither may make asyncio log anything."""
    records = _Records()
    logger = logging.getLogger("asyncio")
    logger.addHandler(records)
    try:
        failed = _compare(desc)
        if failed:  # a failed run's tasks live in reference cycles with its traceback
            gc.collect()
    finally:
        logger.removeHandler(records)
    assert records.messages == [], f"asyncio logged: {records.messages}"


def _compare(desc: dict) -> bool:
    config = {"recursion_limit": desc["recursion_limit"]}
    if desc["max_concurrency"] is not None:
        config["max_concurrency"] = desc["max_concurrency"]
    make = build(desc)
    method = "ainvoke" if is_async(desc) else desc["sync_method"]
    smethod = "astream" if is_async(desc) else desc["sync_stream"]
    lg, sg = (run(E, make, desc["input"], method, config=config) for E in (LG, SG))
    assert_same(lg, sg)
    lg, sg = (
        _strip_unfinished_step(run(E, make, desc["input"], smethod, config=config,
                                   stream_mode=["updates", "values"]))
        for E in (LG, SG)
    )
    assert_same(lg, sg, order="steps")
    return not lg.ok


@pytest.mark.filterwarnings("ignore")  # swiftgraph warns about unreachable nodes and such
@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + N_SEEDS), ids="seed[{}]".format)
def test_random_graph(seed):
    desc = describe(seed)
    try:
        compare(desc)
    except AssertionError as e:
        raise AssertionError(
            f"seed {seed} diverges\n{pprint.pformat(desc, sort_dicts=False)}\n{e}"
        ) from None
