"""Calling user functions: what a node or path function accepts, found once.

Inspecting a signature costs microseconds; a run can call a node thousands of
times. So each user function is inspected when the graph is built, and the engine
later calls it through a :class:`UserFn` that already knows whether it is a
coroutine function and which extra arguments (``config``, ``writer``, ``store``,
``runtime``, ``previous``) it wants injected by name, as LangGraph does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

INJECTABLE = ("config", "writer", "store", "runtime", "previous")


def _inspect() -> Any:
    # inspect costs milliseconds to import; it is needed only once graphs are built
    import inspect

    return inspect


def _unwrap(fn: Any) -> Any:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def is_async_callable(fn: Any) -> bool:
    inspect = _inspect()
    target = _unwrap(fn)
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)
    return not inspect.isfunction(target) and inspect.iscoroutinefunction(call)


def named_objects(fn: Any) -> list[Any]:
    """What ``fn``'s code names: the values of the globals and closure variables it
    reads (also from a lambda, comprehension or function inside it), through
    ``functools.partial`` and a callable object's ``__call__``. Found once, when the
    graph is built: the engine looks there for the ``@task``s and graphs a node calls
    (see :func:`names_a_task`, ``compiled.invoked_graph``)."""
    target = _unwrap(fn)
    code = getattr(target, "__code__", None)
    if code is None:
        call = getattr(type(target), "__call__", None)
        target, code = call, getattr(call, "__code__", None)
    if code is None:
        return []
    scope = getattr(target, "__globals__", {})
    cells = getattr(target, "__closure__", None) or ()
    found = [c.cell_contents for c in cells if _filled(c)]
    todo = [code]
    while todo:
        c = todo.pop()
        found.extend(scope[n] for n in c.co_names if n in scope)
        todo.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return found


def names_a_task(fn: Any) -> bool:
    """Whether ``fn`` names a Functional API ``@task``: a plain function that calls one
    must not run on the event loop's thread, which its call needs (see
    ``functional._TaskFunction.__call__``)."""
    return any(getattr(type(v), "swiftgraph_task", False) is True for v in named_objects(fn))


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:  # an empty cell
        return False
    return True


class UserFn:
    """A user function plus what the engine learned about it at build time."""

    __slots__ = ("calls_tasks", "first_param", "fn", "inject", "is_async", "n_positional", "name")

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        self.fn = fn
        self.is_async = is_async_callable(fn)
        self.calls_tasks = not self.is_async and names_a_task(fn)
        self.name: str = name or getattr(fn, "__name__", None) or type(fn).__name__
        inspect = _inspect()
        valid_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        self.inject: tuple[str, ...] = tuple(
            k for k in INJECTABLE if k in params and params[k].kind in valid_kinds
        )
        positional = [
            p
            for p in params.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in self.inject
        ]
        self.first_param = positional[0] if positional else None
        self.n_positional = len(positional)


def node_error_param(fn: Callable[..., Any]) -> str | None:
    """The parameter of an error handler typed ``NodeError`` (as LangGraph, by its
    annotation: the class, or its name under ``from __future__ import annotations``)."""
    from .errors import NodeError

    inspect = _inspect()
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    for name, param in params.items():
        hint = param.annotation
        if hint is NodeError or (isinstance(hint, str) and hint.rsplit(".", 1)[-1] == "NodeError"):
            return name
        if getattr(hint, "__name__", None) == "NodeError":  # (another module's NodeError)
            return name
    return None


def input_annotation(fn: Callable[..., Any]) -> Any:
    """The type hint of ``fn``'s first parameter, or ``None``."""
    inspect = _inspect()
    target = _unwrap(fn)
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = getattr(target, "__call__", target)
    try:
        import typing

        hints = typing.get_type_hints(target)
        params = list(inspect.signature(target).parameters)
    except Exception:
        return None
    if not params:
        return None
    return hints.get(params[0])


def return_literals(fn: Callable[..., Any]) -> tuple[Any, ...] | None:
    """``Literal["a", "b"]`` in ``fn``'s return annotation: the names it can route to."""
    import typing

    try:
        hint = typing.get_type_hints(_unwrap(fn)).get("return")
    except Exception:
        return None
    if hint is None:
        return None
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return typing.get_args(hint)
    if origin in (list, typing.Union) or str(origin) == "<class 'types.UnionType'>":
        found: list[Any] = []
        for arg in typing.get_args(hint):
            if typing.get_origin(arg) is typing.Literal:
                found.extend(typing.get_args(arg))
        return tuple(found) or None
    return None


