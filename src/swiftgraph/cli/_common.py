"""What the CLI commands share: exit codes, output, JSON, loading MODULE:ATTR, checkpoints.

Nothing here imports ``rich`` at import time: it is an optional extra (``swiftgraph[cli]``)
and the commands fall back to plain text without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_WORKFLOW = 1
EXIT_USAGE = 2

DB_ENV = "SWIFTGRAPH_DB"
DEFAULT_DB = "swiftgraph.sqlite"


class CliError(Exception):
    """A problem the user can fix (exit 2 unless ``code`` says otherwise)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class WorkflowFailed(Exception):
    """The workflow (or the module defining it) raised: exit 1."""

    def __init__(self, exc: BaseException, what: str = "the workflow") -> None:
        super().__init__(f"{what} raised {type(exc).__name__}: {exc}")
        self.exc = exc


# --- output -------------------------------------------------------------------------------


class Output:
    """Prints through ``rich`` when it is installed (and ``--plain`` wasn't given),
    else with ``print``. Data goes to stdout; progress and notes go to stderr."""

    def __init__(self, plain: bool = False) -> None:
        self.console: Any = None
        self.err_console: Any = None
        if not plain and os.environ.get("SWIFTGRAPH_PLAIN", "") in ("", "0"):
            try:
                from rich.console import Console
            except ImportError:
                pass
            else:
                self.console = Console(soft_wrap=True)
                self.err_console = Console(stderr=True, soft_wrap=True)

    @property
    def rich(self) -> bool:
        return self.console is not None

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal if self.console is not None else sys.stdout.isatty()

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.console is not None:
            self.console.print(text, style=style, markup=False, highlight=False)
        else:
            print(text, flush=True)

    def note(self, text: str, style: str | None = "dim") -> None:
        """A line for people (stderr), so stdout stays parseable."""
        if self.err_console is not None:
            self.err_console.print(text, style=style, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def renderable(self, obj: Any) -> None:
        if self.console is not None:
            self.console.print(obj)
        else:
            print(obj, flush=True)

    def data(self, text: str) -> None:
        """Machine-readable output: always plain, never wrapped or styled."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def error(message: str) -> None:
    print(f"swiftgraph: error: {message}", file=sys.stderr, flush=True)


# --- JSON ---------------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """``json.dumps(default=...)`` hook: dataclasses, pydantic models, sets, tuples of
    namedtuples, objects with ``__dict__``; anything else as its ``repr``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump()
        except Exception:  # noqa: BLE001, S110 - fall through to repr
            pass
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if hasattr(value, "_asdict"):
        return value._asdict()
    if hasattr(value, "__dict__") and not inspect.isroutine(value) and not isinstance(value, type):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return repr(value)


def dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, default=to_jsonable, ensure_ascii=False, indent=indent)


def parse_json(text: str, what: str = "--input") -> Any:
    """``json.loads`` with an error that shows where the JSON went wrong.

    ``-`` reads standard input; ``@FILE`` reads a file."""
    source = what
    if text == "-":
        text, source = sys.stdin.read(), f"{what} (stdin)"
    elif text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
        source = f"{what} ({path})"
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines() or [""]
        line = lines[exc.lineno - 1] if exc.lineno - 1 < len(lines) else ""
        caret = " " * (exc.colno - 1) + "^"
        raise CliError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            f" (char {exc.pos}):\n  {line}\n  {caret}"
        ) from None


# --- MODULE:ATTR --------------------------------------------------------------------------


def _close(name: str, candidates: Any, n: int = 5) -> list[str]:
    cands = sorted({c for c in candidates if isinstance(c, str)})
    found = difflib.get_close_matches(name, cands, n=n, cutoff=0.5)
    lowered = [c for c in cands if name.lower() in c.lower() and c not in found]
    return (found + lowered)[:n]


def _module_candidates(module: str) -> list[str]:
    """Names ``module`` could have meant: siblings in its package, or top-level modules
    on ``sys.path`` (the current directory first)."""
    import pkgutil

    parent, _, _ = module.rpartition(".")
    if parent:
        try:
            pkg = importlib.import_module(parent)
        except Exception:  # noqa: BLE001 - the parent is missing too: say so below
            return []
        paths = getattr(pkg, "__path__", None)
        if not paths:
            return []
        return [f"{parent}.{m.name}" for m in pkgutil.iter_modules(paths)]
    return [m.name for m in pkgutil.iter_modules([os.getcwd(), *sys.path])]


def is_graph_like(obj: Any) -> bool:
    if isinstance(obj, type):
        return False
    return (
        callable(getattr(obj, "ainvoke", None))
        or callable(getattr(obj, "invoke", None))
        or (callable(getattr(obj, "compile", None)) and hasattr(obj, "add_node"))
    )


def import_module(spec: str) -> Any:
    """Import a dotted module, or a ``.py`` file by path (its folder goes on sys.path)."""
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        path = Path(spec)
        if not path.is_file():
            near = _close(
                path.name,
                (p.name for p in path.parent.glob("*.py")) if path.parent.is_dir() else [],
            )
            hint = f"; files like it there: {', '.join(near)}" if near else ""
            raise CliError(f"module file not found: {spec}{hint}")
        name = path.stem if path.stem.isidentifier() else "_swiftgraph_target"
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        mspec = importlib.util.spec_from_file_location(name, path)
        if mspec is None or mspec.loader is None:
            raise CliError(f"cannot import {spec} as a Python module")
        module = importlib.util.module_from_spec(mspec)
        sys.modules[name] = module
        try:
            mspec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise WorkflowFailed(exc, f"importing {spec}") from exc
        return module
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (spec == missing or spec.startswith(missing + ".")):
            near = _close(spec, _module_candidates(spec))
            hint = f"; close names: {', '.join(near)}" if near else ""
            where = "" if missing == spec else f" (no module named {missing!r})"
            raise CliError(f"module {spec!r} not found{where}{hint}") from None
        raise WorkflowFailed(exc, f"importing {spec}") from exc
    except CliError:
        raise
    except Exception as exc:
        raise WorkflowFailed(exc, f"importing {spec}") from exc


def load_target(target: str) -> tuple[Any, str]:
    """Resolve ``MODULE:ATTR`` to a runnable graph; returns (graph, description).

    ATTR may be a compiled graph, an ``@entrypoint``, a ``StateGraph`` builder (compiled
    here) or a zero-argument function returning one of those. A dotted ATTR walks
    attributes (``module:obj.graph``)."""
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise CliError(
            f"expected MODULE:ATTR (for example my_app.workflow:graph or path/to/file.py:graph), "
            f"got {target!r}"
        )
    module = import_module(module_name)
    obj: Any = module
    walked: list[str] = []
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("__")]
            near = _close(part, names)
            graphs = [
                n for n in names if not n.startswith("_") and is_graph_like(getattr(obj, n, None))
            ]
            where = f"module {module_name!r}" if not walked else f"{module_name}:{'.'.join(walked)}"
            msg = f"{where} has no attribute {part!r}"
            if near:
                msg += f"; close names: {', '.join(near)}"
            if graphs:
                msg += f"; graphs there: {', '.join(graphs)}"
            raise CliError(msg)
        obj = getattr(obj, part)
        walked.append(part)
    return resolve_graph(obj, target), target


def resolve_graph(obj: Any, target: str) -> Any:
    if (
        callable(getattr(obj, "compile", None))
        and hasattr(obj, "add_node")
        and not isinstance(obj, type)
    ):
        try:
            return obj.compile()
        except Exception as exc:
            raise WorkflowFailed(exc, f"compiling {target}") from exc
    if is_graph_like(obj):
        return obj
    if callable(obj) and not isinstance(obj, type):
        try:
            sig = inspect.signature(obj)
            required = [
                p for p in sig.parameters.values()
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]  # fmt: skip
        except (TypeError, ValueError):
            required = []
        if required:
            raise CliError(
                f"{target} is a function taking arguments ({', '.join(p.name for p in required)}); "
                "point at a compiled graph, an @entrypoint, a StateGraph, or a function of no "
                "arguments returning one"
            )
        try:
            made = obj()
            if inspect.isawaitable(made):
                import asyncio

                made = asyncio.run(_await(made))
        except Exception as exc:
            raise WorkflowFailed(exc, f"calling {target}()") from exc
        if callable(getattr(made, "compile", None)) and hasattr(made, "add_node"):
            return resolve_graph(made, target + "()")
        if is_graph_like(made):
            return made
        raise CliError(f"{target}() returned {type(made).__name__}, not a graph")
    raise CliError(
        f"{target} is of type {type(obj).__name__}, not a graph: point at a compiled graph, an "
        "@entrypoint, a StateGraph, or a function of no arguments returning one"
    )


async def _await(aw: Any) -> Any:
    return await aw


def check_output_path(path: str, what: str) -> None:
    """Fail before any work is done when ``path`` can't be written (no such folder)."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise CliError(f"{what} {path}: folder {str(folder)!r} does not exist")


# --- checkpoints --------------------------------------------------------------------------


def default_db() -> str:
    """``$SWIFTGRAPH_DB`` or ``swiftgraph.sqlite`` in the current directory."""
    return os.environ.get(DB_ENV) or DEFAULT_DB


def sqlite_saver_class() -> Any:
    """``SqliteSaver``, imported when a command first needs it (the others never load
    it). The tests put a stand-in here."""
    from swiftgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver


@contextlib.contextmanager
def open_saver(path: str, *, must_exist: bool = False) -> Iterator[Any]:
    """A ``SqliteSaver`` on ``path``. ``from_conn_string`` may return the saver or a
    context manager yielding it (LangGraph's style); both work."""
    cls = sqlite_saver_class()
    if must_exist and not Path(path).is_file():
        raise CliError(f"no checkpoint database at {path} (choose one with --db or ${DB_ENV})")
    made = cls.from_conn_string(str(path))
    if hasattr(made, "__enter__") and not hasattr(made, "put"):
        with made as saver:
            yield saver
        return
    try:
        yield made
    finally:
        close = getattr(made, "close", None)
        if callable(close):
            close()


def with_checkpointer(graph: Any, saver: Any) -> Any:
    """A copy of a compiled graph (or entrypoint) that checkpoints into ``saver``."""
    clone = object.__new__(type(graph))
    clone.__dict__.update(graph.__dict__)
    clone.checkpointer = saver
    return clone


def timeline_of(graph: Any) -> Any:
    tl = getattr(graph, "last_timeline", None)
    return tl


def graph_drawing(graph: Any) -> Any:
    """``graph.get_graph()`` or None when the object can't draw itself."""
    get = getattr(graph, "get_graph", None)
    if not callable(get):
        return None
    try:
        return get()
    except Exception:  # noqa: BLE001 - a report without a diagram beats no report
        return None
