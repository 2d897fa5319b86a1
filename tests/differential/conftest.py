"""Differential harness: run the same graph on LangGraph and swiftgraph, compare outcomes.

Every test builds its graph with a ``build(E)`` function, where ``E`` is an
:class:`Engine` namespace exposing the public API of one engine (``E.StateGraph``,
``E.START``, ``E.Send``, ``E.errors`` ...).  The harness runs the graph on both
engines and compares final values, stream chunks and raised errors.

Set ``SWIFTGRAPH_DIFF_SELFTEST=1`` to make the "swiftgraph" side use LangGraph as
well (harness self-check: every test must then pass).  By default the swiftgraph
side imports the real ``swiftgraph`` package.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

SELFTEST = os.environ.get("SWIFTGRAPH_DIFF_SELFTEST") == "1"

_SRC = Path(__file__).resolve().parents[2] / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

SYNC_METHODS = ["invoke", "stream"]
ASYNC_METHODS = ["ainvoke", "astream"]
ALL_METHODS = SYNC_METHODS + ASYNC_METHODS


# --------------------------------------------------------------------------- engines
class Engine:
    """Lazy namespace over one engine's public modules."""

    _ATTRS = {
        "StateGraph": ("graph", "StateGraph"),
        "START": ("graph", "START"),
        "END": ("graph", "END"),
        "Send": ("types", "Send"),
        "Command": ("types", "Command"),
        "RetryPolicy": ("types", "RetryPolicy"),
        "CachePolicy": ("types", "CachePolicy"),
        "Overwrite": ("types", "Overwrite"),
        "Runtime": ("runtime", "Runtime"),
        "get_config": ("config", "get_config"),
        "get_stream_writer": ("config", "get_stream_writer"),
    }
    _MODULES = {"graph", "types", "errors", "config", "runtime"}

    def __init__(self, label: str, package: str):
        self.label = label
        self.package = package

    def __getattr__(self, name: str) -> Any:
        if name in self._MODULES:
            return importlib.import_module(f"{self.package}.{name}")
        if name in self._ATTRS:
            mod, attr = self._ATTRS[name]
            return getattr(importlib.import_module(f"{self.package}.{mod}"), attr)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"Engine({self.label}->{self.package})"


LG = Engine("langgraph", "langgraph")
SG = Engine("swiftgraph", "langgraph" if SELFTEST else "swiftgraph")
ENGINES = (LG, SG)


# Pins a deliberate, documented swiftgraph difference from LangGraph (two-sided assertion).
# Such a test asserts swiftgraph-specific behaviour, so it cannot pass in self-test mode.
divergence = pytest.mark.skipif(SELFTEST, reason="asserts swiftgraph-specific behaviour")


@pytest.fixture(params=[LG, SG], ids=lambda e: e.label)
def E(request) -> Engine:
    """Parametrize a test over both engines (for tests comparing against a spec)."""
    return request.param


# --------------------------------------------------------------------------- normalize
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")
_DROP_KEYS = {"timestamp"}
_ID_KEYS = {"id", "task_id"}


def norm_ns(ns: tuple) -> tuple:
    """('child:1f0e...', 'inner:abc') -> ('child:<id>', 'inner:<id>')"""
    return tuple(re.sub(r"^([^:]+):.*$", r"\1:<id>", str(part)) for part in ns)


def normalize(obj: Any) -> Any:
    """Make values comparable across engines (ids, timestamps, user classes)."""
    if isinstance(obj, str):
        return _ADDR.sub("", _UUID.sub("<uuid>", obj))
    if isinstance(obj, dict):
        return {
            k: (
                "<id>" if k in _ID_KEYS and v is not None
                else norm_ns(v) if k == "ns" and isinstance(v, tuple)
                else normalize(v)
            )
            for k, v in obj.items()
            if k not in _DROP_KEYS
        }
    if isinstance(obj, list):
        return [normalize(x) for x in obj]
    if isinstance(obj, tuple):
        return tuple(normalize(x) for x in obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(map(repr, obj))
    if obj is None or isinstance(obj, (int, float, bool, bytes)):
        return obj
    if isinstance(obj, BaseException):
        return ("<exc>", type(obj).__name__, normalize(str(obj)))
    if hasattr(obj, "model_dump"):  # pydantic model (class object differs per engine)
        return ("<model>", type(obj).__name__, normalize(obj.model_dump()))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return ("<dc>", type(obj).__name__, normalize(fields))
    if type(obj).__name__ == "Send":
        return ("<Send>", obj.node, normalize(obj.arg))
    if hasattr(obj, "__dict__") and not callable(obj):
        return ("<obj>", type(obj).__name__, normalize(vars(obj)))
    return ("<repr>", type(obj).__name__, normalize(repr(obj)))


# --------------------------------------------------------------------------- outcomes
@dataclasses.dataclass
class Outcome:
    engine: str
    value: Any = None  # final value (invoke) or list of chunks (stream)
    error: tuple | None = None  # (type name, message, builtin bases, notes)
    exc: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def describe_error(e: BaseException) -> tuple:
    bases = tuple(c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins")
    notes = tuple(
        re.sub(r"id '[^']*'", "id '<id>'", n) for n in getattr(e, "__notes__", ())
    )
    return (type(e).__name__, normalize(str(e)), bases, notes)


def run(E: Engine, build: Callable[[Engine], Any], input: Any, method: str = "invoke",
        **kwargs) -> Outcome:
    """Build the graph with engine ``E`` and run it with ``method``.

    ``method`` is one of invoke/ainvoke/stream/astream/batch/abatch, or "build" to
    compare the return value of ``build(E)`` itself; kwargs are passed
    through (config=..., stream_mode=..., subgraphs=..., context=...).  Errors raised
    while building/compiling are captured too.
    """
    out = Outcome(E.label)
    try:
        graph = build(E)
        if method == "build":  # compare whatever build() returned (e.g. mermaid text)
            out.value = graph
        elif method == "invoke":
            out.value = graph.invoke(input, **kwargs)
        elif method == "ainvoke":
            out.value = asyncio.run(graph.ainvoke(input, **kwargs))
        elif method == "batch":
            out.value = graph.batch(input, **kwargs)
        elif method == "abatch":
            out.value = asyncio.run(graph.abatch(input, **kwargs))
        elif method == "stream":  # chunks received before an error are kept
            out.value = []
            for chunk in graph.stream(input, **kwargs):
                out.value.append(chunk)
        elif method == "astream":
            out.value = []

            async def consume():
                async for chunk in graph.astream(input, **kwargs):
                    out.value.append(chunk)

            asyncio.run(consume())
        else:
            raise ValueError(f"unknown method {method}")
    except Exception as e:  # noqa: BLE001
        out.error, out.exc = describe_error(e), e
    if kwargs.get("subgraphs") and isinstance(out.value, list):
        out.value = [
            (norm_ns(c[0]), *c[1:]) if isinstance(c, tuple) and isinstance(c[0], tuple) else c
            for c in out.value
        ]
    out.value = normalize(out.value)
    return out


def run_both(build, input, method="invoke", **kwargs) -> tuple[Outcome, Outcome]:
    return run(LG, build, input, method, **kwargs), run(SG, build, input, method, **kwargs)


# --------------------------------------------------------------------------- comparing
def group_steps(chunks: list, mode: Any = None) -> list:
    """Split a (normalized) chunk list into supersteps and sort within each step.

    Used where tasks of one superstep may finish in any order.  Rules:
    - a multi-mode stream containing ('values', ...) items: each 'values' chunk closes
      a step (the values chunk itself is kept, in place, as the step terminator);
    - 'debug' chunks: grouped by their 'step' field;
    - 'tasks' chunks: a task-start event following a task-result starts a new step.
    """
    groups: list[list] = [[]]
    prev_result = False
    for c in chunks:
        body = c[-1] if isinstance(c, tuple) and c else c
        if isinstance(c, tuple) and len(c) >= 2 and isinstance(c[-2], str):
            if c[-2] == "values":
                groups[-1].append(("~values", c))
                groups.append([])
                continue
        if isinstance(body, dict) and "step" in body and "payload" in body:
            while len(groups) <= body["step"]:
                groups.append([])
            groups[body["step"]].append(c)
            continue
        if isinstance(body, dict) and "triggers" in body and "input" in body:
            if prev_result:
                groups.append([])
            prev_result = False
        elif isinstance(body, dict) and "result" in body and "error" in body:
            prev_result = True
        groups[-1].append(c)
    return [sorted(g, key=repr) for g in groups if g]


def assert_same(lg: Outcome, sg: Outcome, order: str = "exact") -> None:
    """Compare two outcomes.  ``order='steps'`` ignores order *within* a superstep."""
    assert sg.error == lg.error, (
        f"error mismatch\n  langgraph : {lg.error}\n  swiftgraph: {sg.error}"
    )
    lv, sv = lg.value, sg.value
    if order == "steps":
        lv, sv = group_steps(lv), group_steps(sv)
    elif order == "multiset":
        lv, sv = sorted(lv, key=repr), sorted(sv, key=repr)
    assert sv == lv, f"value mismatch\n  langgraph : {lv!r}\n  swiftgraph: {sv!r}"
    # dict equality ignores insertion order, but users see it (printing, json.dumps, list(d))
    assert repr(sv) == repr(lv), (
        f"dict key order differs\n  langgraph : {lv!r}\n  swiftgraph: {sv!r}"
    )


def check(build, input, method="invoke", order="exact", **kwargs) -> Outcome:
    """run_both + assert_same; returns the LangGraph outcome for extra assertions."""
    lg, sg = run_both(build, input, method, **kwargs)
    assert_same(lg, sg, order=order)
    return lg


def build_error(E: Engine, build: Callable[[Engine], Any]) -> BaseException | None:
    """Return the exception raised by ``build(E)`` (graph construction + compile)."""
    try:
        build(E)
    except Exception as e:  # noqa: BLE001
        return e
    return None
