"""Safe serialization of checkpoints and channel values: tagged JSON, stdlib only.

Why not pickle: loading a pickle runs whatever code the bytes name, so anyone who can
write to the checkpoint store can run code in every process that reads it. This module
never runs code from data: no pickle, no ``eval``, no ``importlib``. A class is rebuilt
only if it was registered in this process (:func:`register`, ``Serializer(allowed=...)``
or, for the instance that dumped it, automatically).

Format
------
UTF-8 JSON. Values JSON represents exactly are written as themselves: ``str``, ``int``,
``bool``, ``None``, finite ``float``, ``list`` and ``dict`` with ``str`` keys. Everything
else is a *tagged node*, a JSON object whose first key is ``"__sg__"``::

    {"__sg__": "tuple", "v": [1, 2]}
    {"__sg__": "dict", "v": [[1, "a"], [2, "b"]]}        # non-str keys, as (key, value) pairs
    {"__sg__": "dataclass", "c": "app.state:Msg", "v": {"role": "user", ...}}

Tags: ``tuple set frozenset dict bytes bytearray float int datetime date time timedelta
uuid decimal enum dataclass pydantic namedtuple``. A plain dict that itself has a
``"__sg__"`` key is written in the ``dict`` pair form, so user data can't forge a tag.
Class tags carry a stable name, ``"module:QualName"`` by default.

Round trips keep types exactly: a tuple comes back a tuple, ``{1: "a"}`` keeps its int key,
dict order is kept, ``IntEnum`` members come back as members, not ints. Sets are written
sorted when their items are orderable, so equal sets give equal bytes.

What is not kept: identity and sharing (an object reachable twice is written twice);
attributes of a dataclass that aren't fields; pydantic private attributes; a ``tzinfo``
other than ``datetime.timezone`` and ``zoneinfo.ZoneInfo`` is replaced by the equal fixed
offset. Loading restores dataclass fields directly, like pickle or ``copy`` (neither
``__init__`` nor ``__post_init__`` runs), and pydantic models with ``model_construct``
(no validation; ``model_post_init`` does run, as ``model_construct`` always does it).
A dataclass loaded from older data gets defaults for fields the data lacks; a field
the class no longer has, or a missing field without default, is an error.

Speed: the encoder walks the value once, copying only the containers that need a tag, so
plain JSON-like data costs one type-checking walk plus ``json``'s C encoder. Loading data
that holds no tag is a bare ``json.loads``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import enum
import json
import sys
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar, overload
from zoneinfo import ZoneInfo

__all__ = ["SerializationError", "Serializer", "class_name", "register"]

MARK = "__sg__"
"""The key that marks a tagged node."""

_MARK_BYTES = b'"__sg__"'
_MARK_STR = '"__sg__"'
_TypeT = TypeVar("_TypeT", bound=type)

# Types written as themselves (exact types: an int subclass such as an IntEnum member is not).
_SCALARS = frozenset({str, int, bool, type(None)})
# ints longer than this many bits are written in hex, past CPython's int<->str digit limit.
_BIG_INT_BITS = 10_000


class SerializationError(ValueError):
    """A value can't be serialized, or data can't be (or must not be) loaded.

    ``path`` locates the offending value inside the dumped object (``"[3].payload"``,
    ``"['messages'][0]"``; ``""`` for the top level) and ``where`` is the caller's
    description passed to :meth:`Serializer.dumps` (``"channel 'messages'"``), if any.
    """

    def __init__(self, message: str, *, path: str = "", where: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.where = where


class _Unsupported(Exception):
    """Internal: raised while walking; collects the path on its way up."""

    def __init__(self, head: str, detail: str) -> None:
        super().__init__(head)
        self.head = head  # "cannot serialize object of type 'X'"
        self.detail = detail  # why, and what to do
        self.segments: list[str] = []


# --------------------------------------------------------------------------- class registry


def class_name(cls: type) -> str:
    """The default stable name of a class in serialized data: ``"module:QualName"``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _pydantic_base() -> type | None:
    """pydantic's ``BaseModel`` if pydantic is already imported, else ``None``.

    Never imports pydantic: if it isn't loaded, no value can be a pydantic model.
    """
    main = sys.modules.get("pydantic.main")
    return getattr(main, "BaseModel", None) if main is not None else None


def _is_namedtuple_class(cls: type) -> bool:
    return (
        issubclass(cls, tuple)
        and isinstance(getattr(cls, "_fields", None), tuple)
        and hasattr(cls, "_make")
    )


def _class_kind(cls: Any) -> str | None:
    """The tag used for instances of ``cls``, or ``None`` if it can't be registered."""
    if not isinstance(cls, type):
        return None
    if issubclass(cls, enum.Enum):
        return "enum"
    if dataclasses.is_dataclass(cls):
        return "dataclass"
    base = _pydantic_base()
    if base is not None and issubclass(cls, base) and cls is not base:
        return "pydantic"
    if _is_namedtuple_class(cls):
        return "namedtuple"
    return None


class _Registry:
    __slots__ = ("by_cls", "by_name")

    def __init__(self) -> None:
        self.by_name: dict[str, type] = {}
        self.by_cls: dict[type, str] = {}

    def add(self, cls: type, name: str | None = None) -> None:
        if _class_kind(cls) is None:
            raise TypeError(
                f"cannot register {cls!r}: only Enum subclasses, dataclasses, pydantic v2 "
                "models and namedtuple classes can be registered"
            )
        if name is None:
            name = class_name(cls)
        elif not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        # The latest definition wins (a re-run notebook cell, a reloaded module). Older
        # names stay loadable as aliases; dumping writes the newest name.
        self.by_name[name] = cls
        self.by_cls[cls] = name


_GLOBAL = _Registry()


@overload
def register(cls: _TypeT, *, name: str | None = None) -> _TypeT: ...
@overload
def register(cls: None = None, *, name: str | None = None) -> Callable[[_TypeT], _TypeT]: ...
def register(cls: Any = None, *, name: str | None = None) -> Any:
    """Allow every :class:`Serializer` in this process to load instances of ``cls``.

    ``cls`` is an Enum, a dataclass, a pydantic v2 model or a namedtuple class. Works as
    a call (``register(MyState)``) or a decorator (``@register`` /
    ``@register(name="myapp:State")``). Pass ``name`` to keep data loadable after the
    class moves to another module: register it under the name the data carries.
    """
    if cls is None:

        def deco(c: _TypeT) -> _TypeT:
            _GLOBAL.add(c, name)
            return c

        return deco
    _GLOBAL.add(cls, name)
    return cls


# --------------------------------------------------------------------------- helpers


def _short_repr(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_label(t: type) -> str:
    mod = t.__module__
    return t.__qualname__ if mod == "builtins" else f"{mod}.{t.__qualname__}"


def _tag_big_ints(node: Any) -> Any:
    """Rewrite ints beyond CPython's int->str limit as hex nodes (cold path)."""
    t = type(node)
    if t is int and node.bit_length() > _BIG_INT_BITS:
        return {MARK: "int", "v": hex(node)}
    if t is list:
        return [_tag_big_ints(v) for v in node]
    if t is dict:
        return {k: _tag_big_ints(v) for k, v in node.items()}
    return node


_JSON_OUT = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
)
_JSON_OUT_ASCII = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, check_circular=False
)


def compact_json_encoder(*, ensure_ascii: bool, allow_nan: bool) -> Callable[[Any], str] | None:
    """``json.dumps(obj, separators=(",", ":"), ensure_ascii=..., allow_nan=...,
    check_circular=False)`` from one C encoder made once: ``JSONEncoder.encode`` builds a
    new one on every call (about 1.5 µs here, more than a small payload's encoding).
    Same output, same errors (``ValueError`` for a float that isn't finite when
    ``allow_nan`` is off, or an int past the digit limit; ``RecursionError`` for a
    cycle). None without the C accelerator."""
    import json.encoder as je

    make = getattr(je, "c_make_encoder", None)
    name = "c_encode_basestring_ascii" if ensure_ascii else "c_encode_basestring"
    basestring = getattr(je, name, None)
    if make is None or basestring is None:
        return None
    encode = make(None, _JSON_OUT.default, basestring, None, ":", ",", False, False, allow_nan)

    def json_text(obj: Any) -> str:
        return "".join(encode(obj, 0))

    return json_text


_json_text = compact_json_encoder(ensure_ascii=False, allow_nan=False) or _JSON_OUT.encode
_json_loads = json.loads


# --------------------------------------------------------------------------- Serializer


class Serializer:
    """Serialize values to tagged-JSON bytes and back, without ever running code on load.

    >>> s = Serializer()
    >>> s.loads(s.dumps({"n": (1, 2), 3: {b"x"}}))
    {'n': (1, 2), 3: {b'x'}}

    Classes: instances of Enums, dataclasses, pydantic v2 models and namedtuples are
    written with the class's stable name. Loading rebuilds only classes registered with
    :func:`register` (every serializer) or ``allowed`` / :meth:`register` (this one).
    With ``auto_register=True`` (the default) dumping an instance registers its class
    on this serializer, so round trips in one process just work; another process must
    register the class itself. ``auto_register=False`` makes dumping an unregistered
    class an error, which surfaces a missing registration at write time.

    Thread-safe and stateless apart from the registry.
    """

    __slots__ = ("_auto_register", "_decoder", "_registry")

    def __init__(self, allowed: Iterable[type] = (), *, auto_register: bool = True) -> None:
        self._registry = _Registry()
        self._auto_register = auto_register
        self._decoder = json.JSONDecoder(object_hook=self._object_hook)
        for cls in allowed:
            self._registry.add(cls)

    def register(self, cls: _TypeT, *, name: str | None = None) -> _TypeT:
        """Allow this serializer to load instances of ``cls`` (see :func:`register`)."""
        self._registry.add(cls, name)
        return cls

    # ------------------------------------------------------------------ public API

    def dumps(self, obj: Any, *, where: str | None = None) -> bytes:
        """Serialize ``obj`` to UTF-8 JSON bytes.

        ``where`` describes ``obj`` in error messages (``"channel 'messages'"``).
        Raises :class:`SerializationError` naming the type and the path of the first
        value that can't be represented; nothing is ever stringified or dropped.
        """
        t = type(obj)
        if t is str or obj is None or t is bool:  # most pending writes (edge triggers)
            try:
                return _json_text(obj).encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: the general path escapes it
        try:
            node = self._enc(obj)
        except _Unsupported as err:
            path = "".join(reversed(err.segments))
            loc = f" in {where}" if where else ""
            loc += f" at {path}" if path else (" (top-level value)" if where else "")
            raise SerializationError(
                f"{err.head}{loc}: {err.detail}", path=path, where=where
            ) from None
        except RecursionError:
            loc = f" in {where}" if where else ""
            raise SerializationError(
                f"cannot serialize value{loc}: it is nested too deeply or contains a "
                "reference cycle",
                where=where,
            ) from None
        try:
            text = _json_text(node)
        except ValueError:  # an int past the int->str digit limit
            node = _tag_big_ints(node)
            text = _json_text(node)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: escape them, JSON can carry them
            return _JSON_OUT_ASCII.encode(node).encode("ascii")

    def loads(self, data: bytes | bytearray | memoryview | str) -> Any:
        """Rebuild a value from :meth:`dumps` output.

        Raises :class:`SerializationError` for malformed data, unknown tags and classes
        that aren't registered. Never imports a module or calls anything named in data.
        """
        if isinstance(data, str):
            text = data
            tagged = _MARK_STR in text
        else:
            if not isinstance(data, bytes):
                if not isinstance(data, (bytearray, memoryview)):
                    raise TypeError(f"loads() takes bytes, not {type(data).__name__}")
                data = bytes(data)
            if data[:1] == b"\x80":
                raise SerializationError(
                    "refusing to load: the data looks like a pickle payload; swiftgraph "
                    "never unpickles (it would run code named by the data)"
                )
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SerializationError(f"malformed data: not UTF-8 JSON ({exc})") from None
            tagged = _MARK_BYTES in data
        try:
            if not tagged:
                return _json_loads(text)
            return self._decoder.decode(text)
        except SerializationError:
            raise
        except RecursionError:
            raise SerializationError("malformed data: nested too deeply") from None
        except (
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            AttributeError,
            ArithmeticError,
        ) as exc:
            raise SerializationError(f"malformed data: {type(exc).__name__}: {exc}") from None

    def dumps_typed(self, obj: Any, *, where: str | None = None) -> tuple[str, bytes]:
        """Serialize to ``(format, data)``; store the format beside the data.

        Formats: ``"null"`` (``None``, empty data), ``"bytes"`` (a ``bytes`` value, stored
        raw) and ``"json"`` (everything else, :meth:`dumps`).
        """
        if obj is None:
            return "null", b""
        if type(obj) is bytes:
            return "bytes", obj
        return "json", self.dumps(obj, where=where)

    def loads_typed(self, data: tuple[str, bytes | bytearray | memoryview]) -> Any:
        """Inverse of :meth:`dumps_typed`. Refuses any other format, pickle included."""
        try:
            fmt, payload = data
        except (TypeError, ValueError):
            raise SerializationError(
                f"loads_typed() takes a (format, data) pair, got {_short_repr(data)}"
            ) from None
        if fmt == "json":
            return self.loads(payload)
        if fmt == "bytes":
            return bytes(payload)
        if fmt == "null":
            return None
        if fmt == "pickle":
            raise SerializationError(
                "refusing to load format 'pickle': swiftgraph never unpickles (it would "
                "run code named by the data)"
            )
        raise SerializationError(
            f"unsupported serialization format {_short_repr(fmt)}: expected 'json', "
            "'bytes' or 'null'"
        )

    # ------------------------------------------------------------------ encoding

    def _enc(self, obj: Any) -> Any:
        t = type(obj)
        if t in _SCALARS:
            return obj
        if t is float:
            return obj if obj - obj == 0.0 else {MARK: "float", "v": repr(obj)}
        if t is dict:
            return self._enc_dict(obj)
        if t is list:
            return self._enc_list(obj)
        enc = _ENCODERS.get(t)
        if enc is not None:
            return enc(self, obj)
        return self._enc_class(obj)

    def _enc_list(self, obj: list[Any]) -> list[Any]:
        out: list[Any] | None = None
        for i, v in enumerate(obj):
            t = type(v)
            if t in _SCALARS or (t is float and v - v == 0.0):
                if out is not None:
                    out.append(v)
                continue
            try:
                if t is dict:
                    e = self._enc_dict(v)
                elif t is list:
                    e = self._enc_list(v)
                else:
                    e = self._enc(v)
            except _Unsupported as err:
                err.segments.append(f"[{i}]")
                raise
            if out is not None:
                out.append(e)
            elif e is not v:
                out = obj[:i]
                out.append(e)
        return obj if out is None else out

    def _enc_dict(self, obj: dict[Any, Any]) -> Any:
        if MARK in obj:
            return self._enc_pairs(obj)
        out: dict[str, Any] | None = None
        for k, v in obj.items():
            if type(k) is not str:
                return self._enc_pairs(obj)
            t = type(v)
            if t in _SCALARS or (t is float and v - v == 0.0):
                continue
            try:
                if t is dict:
                    e = self._enc_dict(v)
                elif t is list:
                    e = self._enc_list(v)
                else:
                    e = self._enc(v)
            except _Unsupported as err:
                err.segments.append(f"[{k!r}]")
                raise
            if e is not v:
                if out is None:
                    out = dict(obj)
                out[k] = e
        return obj if out is None else out

    def _enc_pairs(self, obj: dict[Any, Any]) -> dict[str, Any]:
        enc = self._enc
        pairs = []
        for k, v in obj.items():
            try:
                ek = enc(k)
            except _Unsupported as err:
                err.segments.append(f"[<key {_short_repr(k, 40)}>]")
                raise
            try:
                ev = enc(v)
            except _Unsupported as err:
                err.segments.append(f"[{_short_repr(k, 40)}]")
                raise
            pairs.append([ek, ev])
        return {MARK: "dict", "v": pairs}

    def _enc_seq(self, tag: str, items: Iterable[Any]) -> dict[str, Any]:
        enc = self._enc
        out = []
        for i, v in enumerate(items):
            try:
                out.append(enc(v))
            except _Unsupported as err:
                err.segments.append(f"[{i}]")
                raise
        return {MARK: tag, "v": out}

    def _enc_set(self, obj: set[Any] | frozenset[Any]) -> dict[str, Any]:
        try:
            items: Iterable[Any] = sorted(obj)
        except TypeError:  # unorderable items: keep iteration order
            items = obj
        tag = "set" if type(obj) is set else "frozenset"
        enc = self._enc
        out = []
        for v in items:
            try:
                out.append(enc(v))
            except _Unsupported as err:
                err.segments.append(f"{{{_short_repr(v, 40)}}}")
                raise
        return {MARK: tag, "v": out}

    def _enc_fields(self, values: dict[str, Any]) -> Any:
        """Encode a name->value mapping whose path segments are attributes."""
        out = {}
        enc = self._enc
        for k, v in values.items():
            try:
                out[k] = enc(v)
            except _Unsupported as err:
                err.segments.append(f".{k}")
                raise
        # Field names are str; the pair form only kicks in for a field named "__sg__".
        return self._enc_pairs(out) if MARK in out else out

    def _class_ref(self, cls: type) -> str:
        name = self._registry.by_cls.get(cls) or _GLOBAL.by_cls.get(cls)
        if name is not None:
            return name
        if not self._auto_register:
            raise _Unsupported(
                f"cannot serialize instance of {class_name(cls)!r}",
                "the class is not registered and this Serializer has auto_register=False; "
                f"call register({cls.__qualname__}) first",
            )
        self._registry.add(cls)
        return self._registry.by_cls[cls]

    def _enc_class(self, obj: Any) -> Any:
        t = type(obj)
        if isinstance(obj, enum.Enum):
            try:
                value = self._enc(obj.value)
            except _Unsupported as err:
                err.segments.append(".value")
                raise
            return {MARK: "enum", "c": self._class_ref(t), "v": value}
        if dataclasses.is_dataclass(t):
            values = {}
            for f in dataclasses.fields(obj):
                try:
                    values[f.name] = getattr(obj, f.name)
                except AttributeError:  # an init=False field that was never set
                    continue
            return {MARK: "dataclass", "c": self._class_ref(t), "v": self._enc_fields(values)}
        base = _pydantic_base()
        if base is not None and isinstance(obj, base):
            model: Any = obj
            values = dict(model.__dict__)
            extra = model.__pydantic_extra__
            if extra:
                values.update(extra)
            node = {MARK: "pydantic", "c": self._class_ref(t), "v": self._enc_fields(values)}
            node["s"] = sorted(model.model_fields_set)
            return node
        if isinstance(obj, tuple) and _is_namedtuple_class(t):
            node = self._enc_seq("namedtuple", obj)
            node["c"] = self._class_ref(t)
            return node
        hint = ""
        if callable(obj):
            hint = " (functions and other callables can't be stored)"
        raise _Unsupported(
            f"cannot serialize object of type {_type_label(t)!r}",
            f"supported are str, int, float, bool, None, bytes, bytearray, list, tuple, set, "
            "frozenset, dict, datetime, date, time, timedelta, UUID, Decimal, Enum members, "
            "dataclasses, pydantic v2 models and namedtuples; convert the value to one of "
            f"these{hint}",
        )

    # ------------------------------------------------------------------ decoding

    def _object_hook(self, d: dict[str, Any]) -> Any:
        if MARK not in d:
            return d
        tag = d[MARK]
        dec = _DECODERS.get(tag) if type(tag) is str else None
        if dec is None:
            raise SerializationError(
                f"refusing to load: unknown type tag {_short_repr(tag)} (the data is "
                "corrupted, was tampered with, or comes from a newer swiftgraph)"
            )
        return dec(self, d)

    def _resolve(self, d: dict[str, Any], kind: str) -> Any:
        name = d.get("c")
        if type(name) is not str:
            raise SerializationError(f"malformed data: {kind} node without a class name")
        cls: Any = self._registry.by_name.get(name) or _GLOBAL.by_name.get(name)
        if cls is None:
            qual = name.rpartition(":")[2].rpartition("<locals>.")[2]
            if not (qual and len(qual) <= 80 and all(p.isidentifier() for p in qual.split("."))):
                qual = "TheClass"  # the name in the data isn't a plain class name
            raise SerializationError(
                f"cannot load {kind} {_short_repr(name, 120)}: the class is not registered. "
                f"Call swiftgraph._internal.serde.register({qual}) (or pass it in "
                "Serializer(allowed=[...])) before loading; classes are never imported from "
                "names found in data"
            )
        if _class_kind(cls) != kind:
            raise SerializationError(
                f"refusing to load: data says {name!r} is a {kind}, but the registered "
                f"class {cls!r} is not"
            )
        return cls


def _payload(d: dict[str, Any], typ: type) -> Any:
    v = d.get("v")
    if type(v) is not typ:
        raise SerializationError(
            f"malformed data: {d[MARK]!r} node needs a {typ.__name__} payload, "
            f"got {type(v).__name__}"
        )
    return v


# --------------------------------------------------------------------------- tag tables


def _enc_bytes(self: Serializer, obj: bytes | bytearray) -> dict[str, Any]:
    tag = "bytes" if type(obj) is bytes else "bytearray"
    return {MARK: tag, "v": base64.b64encode(obj).decode("ascii")}


def _enc_datetime(self: Serializer, obj: _dt.datetime) -> dict[str, Any]:
    node: dict[str, Any] = {MARK: "datetime", "v": obj.isoformat()}
    tz = obj.tzinfo
    if type(tz) is ZoneInfo and tz.key:
        node["tz"] = tz.key
    if obj.fold:
        node["fold"] = 1
    return node


def _enc_time(self: Serializer, obj: _dt.time) -> dict[str, Any]:
    if obj.tzinfo is not None and type(obj.tzinfo) is not _dt.timezone:
        raise _Unsupported(
            f"cannot serialize time with tzinfo of type {_type_label(type(obj.tzinfo))!r}",
            "a time of day can only carry a fixed offset (datetime.timezone); use a "
            "datetime for zone-aware values",
        )
    node: dict[str, Any] = {MARK: "time", "v": obj.isoformat()}
    if obj.fold:
        node["fold"] = 1
    return node


_ENCODERS: dict[type, Callable[[Serializer, Any], Any]] = {
    tuple: lambda self, o: self._enc_seq("tuple", o),
    set: Serializer._enc_set,
    frozenset: Serializer._enc_set,
    bytes: _enc_bytes,
    bytearray: _enc_bytes,
    _dt.datetime: _enc_datetime,
    _dt.date: lambda self, o: {MARK: "date", "v": o.isoformat()},
    _dt.time: _enc_time,
    _dt.timedelta: lambda self, o: {MARK: "timedelta", "v": [o.days, o.seconds, o.microseconds]},
    uuid.UUID: lambda self, o: {MARK: "uuid", "v": str(o)},
    Decimal: lambda self, o: {MARK: "decimal", "v": str(o)},
}


def _dec_float(self: Serializer, d: dict[str, Any]) -> float:
    v = _payload(d, str)
    if v not in ("nan", "inf", "-inf"):
        raise SerializationError(f"malformed data: bad float {_short_repr(v)}")
    return float(v)


def _dec_int(self: Serializer, d: dict[str, Any]) -> int:
    return int(_payload(d, str), 16)


def _dec_dict(self: Serializer, d: dict[str, Any]) -> dict[Any, Any]:
    out = {}
    for pair in _payload(d, list):
        if type(pair) is not list or len(pair) != 2:
            raise SerializationError("malformed data: dict entries must be [key, value] pairs")
        out[pair[0]] = pair[1]
    return out


def _dec_datetime(self: Serializer, d: dict[str, Any]) -> _dt.datetime:
    value = _dt.datetime.fromisoformat(_payload(d, str))
    tz = d.get("tz")
    if tz is not None:
        if type(tz) is not str:
            raise SerializationError("malformed data: datetime 'tz' must be a zone name")
        try:
            value = value.replace(tzinfo=ZoneInfo(tz))
        except (ValueError, KeyError, OSError) as exc:  # bad key, or no such zone
            raise SerializationError(f"cannot load time zone {_short_repr(tz)}: {exc}") from None
    if d.get("fold") == 1:
        value = value.replace(fold=1)
    return value


def _dec_time(self: Serializer, d: dict[str, Any]) -> _dt.time:
    value = _dt.time.fromisoformat(_payload(d, str))
    return value.replace(fold=1) if d.get("fold") == 1 else value


def _dec_timedelta(self: Serializer, d: dict[str, Any]) -> _dt.timedelta:
    v = _payload(d, list)
    if len(v) != 3 or any(type(x) is not int for x in v):
        raise SerializationError("malformed data: timedelta needs [days, seconds, microseconds]")
    return _dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2])


def _dec_enum(self: Serializer, d: dict[str, Any]) -> enum.Enum:
    cls = self._resolve(d, "enum")
    member: enum.Enum = cls(d.get("v"))
    return member


def _dec_dataclass(self: Serializer, d: dict[str, Any]) -> Any:
    cls = self._resolve(d, "dataclass")
    values = _payload(d, dict)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in values if k not in fields]
    if unknown:
        raise SerializationError(
            f"cannot load dataclass {class_name(cls)!r}: data has fields {unknown!r} that the "
            "class doesn't define (did the class change since the data was written?)"
        )
    obj = cls.__new__(cls)
    for name, f in fields.items():
        if name in values:
            value = values[name]
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        elif not f.init:
            continue  # an init=False field that was unset when dumped
        else:
            raise SerializationError(
                f"cannot load dataclass {class_name(cls)!r}: field {name!r} is missing from "
                "the data and has no default"
            )
        object.__setattr__(obj, name, value)
    return obj


def _dec_pydantic(self: Serializer, d: dict[str, Any]) -> Any:
    cls = self._resolve(d, "pydantic")
    values = _payload(d, dict)
    fields_set = d.get("s")
    if type(fields_set) is not list or any(type(x) is not str for x in fields_set):
        raise SerializationError("malformed data: pydantic node needs a list of set fields")
    return cls.model_construct(_fields_set=set(fields_set), **values)


def _dec_namedtuple(self: Serializer, d: dict[str, Any]) -> Any:
    cls = self._resolve(d, "namedtuple")
    values = _payload(d, list)
    if len(values) != len(cls._fields):
        raise SerializationError(
            f"cannot load namedtuple {class_name(cls)!r}: data has {len(values)} items, "
            f"the class has {len(cls._fields)} fields"
        )
    return tuple.__new__(cls, values)


def _dec_set(self: Serializer, d: dict[str, Any]) -> set[Any]:
    return set(_payload(d, list))


_DECODERS: dict[str, Callable[[Serializer, dict[str, Any]], Any]] = {
    "tuple": lambda self, d: tuple(_payload(d, list)),
    "set": _dec_set,
    "frozenset": lambda self, d: frozenset(_payload(d, list)),
    "dict": _dec_dict,
    "bytes": lambda self, d: base64.b64decode(_payload(d, str), validate=True),
    "bytearray": lambda self, d: bytearray(base64.b64decode(_payload(d, str), validate=True)),
    "float": _dec_float,
    "int": _dec_int,
    "datetime": _dec_datetime,
    "date": lambda self, d: _dt.date.fromisoformat(_payload(d, str)),
    "time": _dec_time,
    "timedelta": _dec_timedelta,
    "uuid": lambda self, d: uuid.UUID(_payload(d, str)),
    "decimal": lambda self, d: Decimal(_payload(d, str)),
    "enum": _dec_enum,
    "dataclass": _dec_dataclass,
    "pydantic": _dec_pydantic,
    "namedtuple": _dec_namedtuple,
}
