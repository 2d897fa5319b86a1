"""Load an engine (``swiftgraph`` or ``langgraph``) as a flat namespace ``E``.

Workloads build their graphs only through ``E`` (``E.StateGraph``, ``E.START``,
``E.END``, ``E.Send``, ``E.entrypoint``, ``E.task``, ``E.InMemorySaver``,
``E.SqliteSaver``), so the same builder code runs on both engines. Optional parts that an engine lacks are
recorded in ``E.missing`` (feature -> reason) instead of failing the load.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SRC = REPO / "src"

# Benchmark the working tree, not whatever swiftgraph may be installed.
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

ENGINES = ("swiftgraph", "langgraph")

# feature -> (module suffix, {attribute in E: attribute in module})
OPTIONAL = {
    "send": ("types", {"Send": "Send"}),
    "func": ("func", {"entrypoint": "entrypoint", "task": "task"}),
    "memory": ("checkpoint.memory", {"InMemorySaver": "InMemorySaver"}),
    "sqlite": ("checkpoint.sqlite", {"SqliteSaver": "SqliteSaver"}),  # langgraph-checkpoint-sqlite
    "timeline": ("report", {"critical_path": "critical_path"}),  # run timelines: swiftgraph only
}


class EngineUnavailable(Exception):
    pass


def child_env() -> dict[str, str]:
    """Environment for benchmark subprocesses: same interpreter, src/ importable."""
    env = dict(os.environ)
    parts = [str(SRC), str(BENCH_DIR)]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def compile_package(name: str) -> None:
    """Byte-compile an engine's package where it is writable (a source checkout).

    pip compiles an installed package (LangGraph) at install time; swiftgraph runs
    from an editable checkout, and where ``PYTHONDONTWRITEBYTECODE`` is set its modules
    would be compiled from source in every fresh process. Workloads that time a fresh
    process call this first, so both engines start from bytecode."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if os.access(location, os.W_OK):
                compileall.compile_dir(location, quiet=1)


def _import(modname: str):
    try:
        return importlib.import_module(modname), None
    except ModuleNotFoundError as e:
        if e.name and modname.startswith(e.name):  # the module itself (or a parent) is absent
            return None, f"{modname} missing"
        return None, f"{modname} import failed: {e!r}"
    except Exception as e:  # noqa: BLE001 - a bug inside the module
        return None, f"{modname} import failed: {e!r}"


def load(name: str) -> SimpleNamespace:
    graph, why = _import(f"{name}.graph")
    if graph is None:
        raise EngineUnavailable(why)
    E = SimpleNamespace(name=name, missing={}, version=version(name))
    try:
        E.StateGraph, E.START, E.END = graph.StateGraph, graph.START, graph.END
    except AttributeError as e:
        raise EngineUnavailable(f"{name}.graph incomplete: {e}") from e
    for feature, (suffix, attrs) in OPTIONAL.items():
        mod, why = _import(f"{name}.{suffix}")
        for attr, src_attr in attrs.items():
            value = getattr(mod, src_attr, None) if mod else None
            if value is None and mod is not None:
                why = f"{name}.{suffix}.{src_attr} missing"
            setattr(E, attr, value)
        if why:
            E.missing[feature] = why
    return E


def version(name: str) -> str:
    from importlib.metadata import version as dist_version

    try:
        v = dist_version(name)
    except Exception:  # noqa: BLE001
        v = "?"
    mod = sys.modules.get(name)
    if mod is not None and str(getattr(mod, "__file__", "") or "").startswith(str(SRC)):
        return f"{v} (working tree, HEAD {git_rev()})"
    return v


def git_rev() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except Exception:  # noqa: BLE001
        return "unknown"
