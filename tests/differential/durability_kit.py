"""Shared pieces of the ``test_durability_*`` differential tests (Graph API + checkpointer).

A scenario is a function ``scenario(E)`` that builds a graph on engine ``E`` with that
engine's ``InMemorySaver``, drives a whole multi-call conversation with it and returns a
transcript; ``check(scenario, None, "build")`` compares the transcripts of both engines.

Ids differ between engines (checkpoint ids, task ids, interrupt ids), so a
:class:`Tx` replaces each one by a label numbered in order of first appearance
(``cp0``, ``cp1``, ``int0`` ...).  That keeps the *relations* comparable: a snapshot's
``parent_config`` must name the same earlier checkpoint on both engines, a resume map
must be keyed by the interrupt the snapshot showed, and so on.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import operator
from typing import Annotated, Any, TypedDict

from conftest import assert_same, normalize, run_both


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]
    n: int


def saver(E):
    """A fresh in-memory checkpointer of engine ``E``."""
    return importlib.import_module(f"{E.package}.checkpoint.memory").InMemorySaver()


def interrupt_fn(E):
    return E.types.interrupt


def thread(tid: str, checkpoint_id: str | None = None) -> dict:
    conf = {"thread_id": tid}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def logger(name: str, calls: list | None = None):
    """A node appending ``name`` to ``log`` (and to ``calls`` when given)."""

    def node(state):
        if calls is not None:
            calls.append(name)
        return {"log": [name]}

    node.__name__ = name
    return node


def steps(E, *nodes, **compile_kw):
    """START -> nodes[0] -> nodes[1] ... -> END, each a ``(name, fn)`` pair, compiled
    with ``compile_kw`` (no checkpointer unless given: a subgraph takes its parent's)."""
    g = E.StateGraph(S)
    for name, fn in nodes:
        g.add_node(name, fn)
    names = [name for name, _ in nodes]
    g.add_edge(E.START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    g.add_edge(names[-1], E.END)
    return g.compile(**compile_kw)


def chain(E, *names, checkpointer=None, **compile_kw):
    """START -> names[0] -> names[1] ... -> END, each node a :func:`logger`."""
    return steps(E, *((name, logger(name)) for name in names),
                 checkpointer=checkpointer or saver(E), **compile_kw)


def asking(E, name, *questions, calls=None):
    """A node asking ``questions`` one after the other, logging the answers."""

    def node(state):
        if calls is not None:
            calls.append(name)
        answers = [E.types.interrupt(q) for q in questions]
        return {"log": [f"{name}:{'/'.join(map(str, answers))}"]}

    return node


def interrupt_graph(E, calls, layout="line", questions=("ask",), **compile_kw):
    """line: a -> b(asks) -> c;  fork: a -> (p asks, q asks) -> j;  sibling: a -> (b asks, c)."""
    g = E.StateGraph(S)
    g.add_node("a", logger("a", calls))
    g.add_edge(E.START, "a")
    if layout == "line":
        g.add_node("b", asking(E, "b", *questions, calls=calls))
        g.add_node("c", logger("c", calls))
        g.add_edge("a", "b")
        g.add_edge("b", "c")
    elif layout == "fork":
        g.add_node("p", asking(E, "p", "ask-p", calls=calls))
        g.add_node("q", asking(E, "q", "ask-q", calls=calls))
        g.add_node("j", logger("j", calls))
        g.add_edge("a", "p")
        g.add_edge("a", "q")
        g.add_edge(["p", "q"], "j")
    else:
        g.add_node("b", asking(E, "b", *questions, calls=calls))
        g.add_node("c", logger("c", calls))
        g.add_edge("a", "b")
        g.add_edge("a", "c")
    return g.compile(checkpointer=saver(E), **compile_kw)


class Tx:
    """Turns engine objects into comparable plain data, labelling ids consistently."""

    def __init__(self, strict: bool = False) -> None:
        # Two known gaps are masked unless ``strict`` (each is pinned by its own test):
        # the __start__ task's result (test_history_full_snapshots) and the type of
        # PregelTask.error (test_failed_task_error_in_snapshot).
        self.strict = strict
        self.ids: dict[tuple[str, str], str] = {}

    def label(self, kind: str, value: Any) -> Any:
        if value is None:
            return None
        key = (kind, str(value))
        if key not in self.ids:
            n = sum(1 for k in self.ids if k[0] == kind)
            self.ids[key] = f"{kind}{n}"
        return self.ids[key]

    def __call__(self, x: Any) -> Any:
        """Walk ``x``: Interrupts, snapshots, tasks, configs, exceptions -> plain data."""
        tname = type(x).__name__
        if tname == "Interrupt":
            return ("Interrupt", self(x.value), self.label("int", x.id))
        if isinstance(x, tuple) and hasattr(x, "_fields"):  # StateSnapshot, PregelTask ...
            fields = {f: self._field(f, getattr(x, f)) for f in x._fields}
            if tname == "PregelTask" and not self.strict:
                if x.name == "__start__":
                    fields["result"] = "<input>"
                if x.error is not None:
                    fields["error"] = ("<error>", str(x.error))
            return (tname, fields)
        if isinstance(x, dict):
            return {k: self._field(k, v) for k, v in x.items()}
        if isinstance(x, (list, tuple)) and x and all(type(v).__name__ == "Interrupt" for v in x):
            # parallel nodes interrupt in any order on LangGraph: list them by value
            x = type(x)(sorted(x, key=lambda i: repr(i.value)))
        if isinstance(x, list):
            return [self(v) for v in x]
        if isinstance(x, tuple):
            return tuple(self(v) for v in x)
        if isinstance(x, BaseException):
            return ("<exc>", type(x).__name__, normalize(str(x)))
        return normalize(x)

    def ns(self, ns: str) -> str:
        """``"child:<task id>|inner:<task id>"`` with each task id labelled."""
        return "|".join(
            f"{name}:{self.label('task', tid)}" if tid else name
            for name, _, tid in (part.partition(":") for part in ns.split("|"))
        ) if ns else ns

    def _field(self, key: str, v: Any) -> Any:
        if key in ("checkpoint_id", "parent_checkpoint_id") and isinstance(v, str):
            return self.label("cp", v)
        if key == "checkpoint_ns" and isinstance(v, str):
            return self.ns(v)
        if key in ("parents", "checkpoint_map") and isinstance(v, dict):
            # namespace -> checkpoint id (a subgraph's enclosing checkpoints)
            return {self.ns(k): self.label("cp", c) for k, c in v.items()}
        if key in ("id", "task_id") and isinstance(v, str):
            return self.label("task", v)
        if key in ("created_at", "ts", "timestamp"):
            return type(v).__name__
        return self(v)

    def attempt(self, fn, *args, **kwargs) -> tuple:
        """Call ``fn``; the result (or the exception raised) becomes transcript data."""
        try:
            out = fn(*args, **kwargs)
            if hasattr(out, "__next__"):  # a stream / history iterator: consume it
                out = list(out)
            return ("ok", self(out))
        except Exception as e:  # noqa: BLE001
            return ("raised", type(e).__name__, normalize(str(e)))

    def run(self, api: str, app, arg: Any, cfg: dict, **stream_kw) -> tuple:
        """``attempt`` of one run through ``api``: ``invoke``, ``ainvoke`` (under
        ``asyncio.run``) or ``stream`` (with ``stream_kw``)."""
        if api == "invoke":
            return self.attempt(app.invoke, arg, cfg)
        if api == "stream":
            return self.attempt(app.stream, arg, cfg, **stream_kw)
        return self.attempt(lambda: asyncio.run(app.ainvoke(arg, cfg)))

    def state(self, app, cfg: dict) -> Any:
        return self(app.get_state(cfg))

    def brief(self, snap) -> tuple:
        """(values, next, source, step) of a snapshot: the usual history row."""
        md = snap.metadata or {}
        return (self(snap.values), snap.next, md.get("source"), md.get("step"))

    def history(self, app, cfg: dict, **kw) -> list:
        return [self.brief(s) for s in app.get_state_history(cfg, **kw)]


def resume_if_pending(app, cfg: dict, how: Any = None) -> Any:
    """``invoke(how, cfg)`` when the thread has a next step (a finished thread answers
    differently on the two engines: pinned by test_resume_with_nothing_pending)."""
    if not app.get_state(cfg).next:
        return "nothing pending"
    return app.invoke(how, cfg)


def pending_interrupts(app, cfg: dict) -> list:
    """The interrupts a thread waits on, in snapshot order."""
    return list(app.get_state(cfg).interrupts)


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two transcripts first differ (a readable pointer for failure messages)."""
    if type(a) is not type(b):
        return f"{path or '<top>'}: langgraph {a!r}\n    swiftgraph {b!r}"
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}[{k!r}]: only in {'langgraph' if k in a else 'swiftgraph'}"
            d = first_difference(a[k], b[k], f"{path}[{k!r}]")
            if d:
                return d
        if list(a) != list(b):
            return f"{path}: key order langgraph {list(a)} swiftgraph {list(b)}"
        return None
    if isinstance(a, (list, tuple)):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        if len(a) != len(b):
            return f"{path}: length langgraph {len(a)} swiftgraph {len(b)}"
        return None
    return None if a == b else f"{path or '<top>'}: langgraph {a!r}\n    swiftgraph {b!r}"


def compare(scenario) -> Any:
    """Run ``scenario`` on both engines; assert equal transcripts; return LangGraph's."""
    lg, sg = run_both(scenario, None, "build")
    assert sg.error == lg.error, f"error mismatch\n  langgraph : {lg.error}\n  swiftgraph: {sg.error}"
    diff = first_difference(lg.value, sg.value)
    assert diff is None, f"transcripts differ at {diff}"
    assert_same(lg, sg)
    return lg.value
