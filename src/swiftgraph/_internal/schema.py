"""Reading state schemas: which keys a schema has and how each key merges.

A schema may be a TypedDict, a dataclass or a pydantic model. ``Annotated[T, fn]``
with a two-argument ``fn`` makes that key a reducer channel; any other key keeps
the last value written. pydantic is never imported here: a pydantic schema is
recognised by duck typing, so the core stays dependency-free.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from .channels import BinaryOperatorAggregate, Channel, LastValue
from .errors import GraphDefinitionError, UnresolvedSchemaError

_MISSING = object()


def is_dataclass_type(cls: Any) -> bool:
    return isinstance(cls, type) and hasattr(cls, "__dataclass_fields__")


def is_pydantic_model(cls: Any) -> bool:
    return isinstance(cls, type) and hasattr(cls, "model_fields") and hasattr(cls, "model_validate")


@cache
def _hints(schema: Any) -> dict[str, Any]:
    if schema is None or schema is Any:
        return {}
    try:
        hints = typing.get_type_hints(schema, include_extras=True)
    except NameError as exc:
        # as LangGraph, refuse it: read as it is, an annotation hiding a reducer would
        # silently become "last value wins"
        raw: dict[str, Any] = {}
        for base in reversed(getattr(schema, "__mro__", ())):
            raw.update(getattr(base, "__annotations__", {}) or {})
        unresolved = [
            k for k, v in raw.items()
            if isinstance(v, (str, typing.ForwardRef)) and not k.startswith("__")
        ]
        raise UnresolvedSchemaError(
            f"Can't resolve the annotations of schema {getattr(schema, '__qualname__', schema)!r} "
            f"({exc}), so the types and reducers of {unresolved or 'its keys'} can't be read. "
            "Define the names its annotations use at module level (a schema inside a "
            "function can't see the function's names under `from __future__ import "
            "annotations`), or import them where the schema is defined."
        ) from exc
    if is_pydantic_model(schema):
        return {k: v for k, v in hints.items() if k in schema.model_fields}
    if is_dataclass_type(schema):
        names = set(schema.__dataclass_fields__)
        return {k: v for k, v in hints.items() if k in names}
    return {k: v for k, v in hints.items() if not k.startswith("__")}


def schema_keys(schema: Any) -> tuple[str, ...]:
    return tuple(_hints(schema))


def _reducer(key: str, typ: Any) -> Callable[[Any, Any], Any] | None:
    meta = getattr(typ, "__metadata__", None)
    if not meta or not callable(meta[-1]):
        return None
    fn = meta[-1]
    if isinstance(fn, type):
        return None
    import inspect

    # a module's builtin (not a builtin bound to an object, which the cache would keep)
    builtin = isinstance(fn, types.BuiltinFunctionType) and isinstance(
        getattr(fn, "__self__", None), (types.ModuleType, type(None))
    )
    positional = _BUILTIN_ARITY.get(fn) if builtin else None
    if positional is None:
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            return fn
        positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        if builtin:
            _BUILTIN_ARITY[fn] = positional
    if positional != 2:
        raise GraphDefinitionError(
            f"Invalid reducer signature. Expected (a, b) -> c. Got {inspect.signature(fn)} "
            f"(state key '{key}': a reducer in Annotated[T, reducer] must take the current "
            "value and the update)"
        )
    return fn


_BUILTIN_ARITY: dict[Any, int] = {}
"""Positional parameters of builtin reducers (``operator.add``...), found once: for a
builtin, ``inspect.signature`` parses its text signature with a class it makes anew on
every call, and a class is a reference cycle left to the garbage collector at every
``StateGraph``. Builtins are few and live as long as the process."""


def channels_for(schema: Any) -> dict[str, Channel]:
    """One prototype channel per key of ``schema``."""
    out: dict[str, Channel] = {}
    for key, typ in _hints(schema).items():
        fn = _reducer(key, typ)
        if fn is None:
            out[key] = LastValue(key)
        else:
            base = typing.get_args(typ)[0] if typing.get_origin(typ) is typing.Annotated else typ
            out[key] = BinaryOperatorAggregate(key, base, fn)
    return out


def input_mapper(schema: Any) -> Callable[[dict[str, Any]], Any] | None:
    """How a node receives state: a plain dict, or an instance of the schema class."""
    if isinstance(schema, type) and (is_dataclass_type(schema) or is_pydantic_model(schema)):
        return lambda values: schema(**values)
    return None


@lru_cache(maxsize=256)
def _annotated_keys(cls: Any) -> tuple[str, ...]:  # (a class: lru_cache hashes it)
    keys: list[str] = []
    for base in reversed(cls.__mro__):
        ann = base.__dict__.get("__annotations__") or {}
        for k in ann:
            if not k.startswith("_") and k not in keys:
                keys.append(k)
    return tuple(keys)


def object_as_tuples(obj: Any, keys: typing.Iterable[str] | None = None) -> list[tuple[str, Any]] | None:
    """A returned dataclass/pydantic instance as (key, value) writes, as LangGraph
    reads it: attributes set on the object, pydantic fields only when set or
    non-``None``. ``None`` if the object isn't a schema-like instance."""
    cls: Any = type(obj)
    if cls.__module__ == "builtins":
        return None
    annotated = _annotated_keys(cls)
    if not annotated:
        return None
    if keys is None:
        keys = annotated
    if is_pydantic_model(cls):
        keep = obj.model_fields_set
        defaults = {k: v.default for k, v in cls.model_fields.items()}
    else:
        keep = None
        defaults = {}
    out = []
    for k in keys:
        value = getattr(obj, k, _MISSING)
        if value is _MISSING:
            continue
        if value is not None or defaults.get(k, _MISSING) is not None or (keep is not None and k in keep):
            out.append((k, value))
    return out
