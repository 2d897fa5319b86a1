"""Tests for swiftgraph._internal.serde: exact round trips, clear refusals, no code on load."""

from __future__ import annotations

import builtins
import collections
import dataclasses
import datetime as dt
import enum
import importlib
import json
import math
import os
import pickle
import random
import socket
import subprocess
import sys
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypedDict
from zoneinfo import ZoneInfo

import pytest

from swiftgraph._internal import serde
from swiftgraph._internal.serde import SerializationError, Serializer, register

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    HAVE_HYPOTHESIS = True
except ImportError:  # not in the [test] extra yet: the seeded fuzz test below still runs
    HAVE_HYPOTHESIS = False


# --------------------------------------------------------------------------- helpers


def assert_same(a: Any, b: Any, path: str = "$") -> None:
    """Deep equality that also demands identical types (dict keys included) and order."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, float):
        if math.isnan(a):
            assert math.isnan(b), path
        else:
            assert a == b and math.copysign(1, a) == math.copysign(1, b), f"{path}: {a!r} != {b!r}"
    elif type(a) is dict:
        assert len(a) == len(b), path
        for i, ((ka, va), (kb, vb)) in enumerate(zip(a.items(), b.items())):
            assert_same(ka, kb, f"{path}.<key #{i}>")
            assert_same(va, vb, f"{path}[<value #{i}>]")
    elif type(a) in (list, tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif type(a) is Decimal:
        assert str(a) == str(b), f"{path}: {a!r} != {b!r}"
    elif type(a) in (set, frozenset):
        assert a == b, path
        assert sorted(map(repr, a)) == sorted(map(repr, b)), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def roundtrip(value: Any, s: Serializer | None = None) -> Any:
    s = s or Serializer()
    data = s.dumps(value)
    assert isinstance(data, bytes)
    data.decode("utf-8")  # always valid UTF-8
    json.loads(data)  # always strict JSON (no NaN/Infinity literals)
    json.loads(data, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    back = s.loads(data)
    assert_same(value, back)
    return back


# --------------------------------------------------------------------------- classes used below


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mode(enum.StrEnum):
    FAST = "fast"


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


class Point(enum.Enum):
    ORIGIN = (0, 0)


@dataclasses.dataclass
class Message:
    role: str
    content: str
    tags: tuple[str, ...] = ()
    payload: Any = None


@dataclasses.dataclass(frozen=True)
class Frozen:
    x: int
    when: dt.date


@dataclasses.dataclass(slots=True)
class Slotted:
    a: int
    b: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class WithPostInit:
    n: int
    doubled: int = dataclasses.field(init=False)
    calls: int = dataclasses.field(init=False, default=0)

    def __post_init__(self) -> None:
        self.doubled = self.n * 2
        self.calls += 1


class Pair(NamedTuple):
    left: Any
    right: Any


LegacyPair = collections.namedtuple("LegacyPair", "a b")


class StateDict(TypedDict):
    messages: list[Message]
    count: int


# --------------------------------------------------------------------------- primitives


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -1,
        2**63,
        -(2**80),
        1.5,
        -0.0,
        1e308,
        5e-324,
        float("inf"),
        float("-inf"),
        float("nan"),
        "",
        "héllo ✓ 日本",
        '\x00\n"\\',
        b"",
        b"\x00\xff raw",
        bytearray(b"ba"),
        [],
        [1, [2, [3]]],
        (),
        (1,),
        (1, (2, 3)),
        set(),
        {1, 2, 3},
        {"a", "b"},
        frozenset(),
        frozenset({(1, 2), "x"}),
        {},
        {"a": 1},
    ],
    ids=repr,
)
def test_primitive_roundtrip(value: Any) -> None:
    roundtrip(value)


def test_nan_and_inf_nested() -> None:
    roundtrip({"xs": [float("nan"), float("inf"), -float("inf"), -0.0], "t": (float("nan"),)})


def test_huge_int_past_digit_limit() -> None:
    big = 7**20000  # ~16900 digits: past CPython's int<->str limit of 4300
    roundtrip({"big": big, "neg": [-big], big: "as key"})
    roundtrip(2**20000)


def test_lone_surrogate_strings_stay_valid_utf8() -> None:
    value = {"s": "a\ud800b", "k\udfff": 1}
    data = Serializer().dumps(value)
    data.decode("utf-8")
    roundtrip(value)


def test_non_ascii_is_written_as_utf8_not_escaped() -> None:
    assert Serializer().dumps("日本") == '"日本"'.encode()


def test_dict_keys_of_every_kind_keep_type_and_order() -> None:
    value = {
        3: "int",
        "3": "str",
        1.5: "float",
        None: "none",
        True: "bool",
        (1, "a"): "tuple",
        frozenset({1}): "frozenset",
        b"k": "bytes",
        Color.RED: "enum",
        Level.LOW: "intenum",
        dt.date(2024, 1, 2): "date",
        uuid.UUID(int=5): "uuid",
        Decimal("1.0"): "decimal",
    }
    back = roundtrip(value)
    assert list(back) == list(value)


def test_plain_dict_order_preserved() -> None:
    value = {"z": 1, "a": 2, "m": {"y": 1, "b": 2}}
    assert list(roundtrip(value)) == ["z", "a", "m"]


def test_dict_with_marker_key_cannot_forge_a_tag() -> None:
    forged = {"__sg__": "tuple", "v": [1, 2]}
    back = roundtrip(forged)
    assert back == forged and type(back) is dict
    roundtrip({"outer": {"__sg__": "dataclass", "c": "os:system", "v": {}}})


def test_strings_that_look_like_tags_stay_strings() -> None:
    s = '{"__sg__":"tuple","v":[1]}'
    assert roundtrip(s) == s
    assert roundtrip([s, "__sg__", {"k": "__sg__"}])[1] == "__sg__"


def test_plain_json_data_is_written_as_plain_json() -> None:
    value = {"messages": [{"role": "user", "content": "hi"}], "n": 1, "x": 0.5, "ok": None}
    data = Serializer().dumps(value)
    assert data == json.dumps(value, separators=(",", ":")).encode()
    assert b"__sg__" not in data


def test_tuples_and_int_keys_are_not_flattened() -> None:
    back = roundtrip({"t": (1, 2), 1: [(), ((),)]})
    assert type(back["t"]) is tuple and 1 in back and "1" not in back


def test_shared_containers_are_copied_not_mutated() -> None:
    inner = [(1, 2)]
    value = {"a": inner, "b": inner}
    Serializer().dumps(value)
    assert value == {"a": [(1, 2)], "b": [(1, 2)]} and type(inner[0]) is tuple
    back = roundtrip(value)
    assert back["a"] is not back["b"]  # sharing is not preserved (documented)


def test_sets_are_written_in_sorted_order() -> None:
    s = Serializer()
    a = {f"item{i}" for i in range(50)}
    b = {f"item{i}" for i in reversed(range(50))}
    assert s.dumps(a) == s.dumps(b)
    roundtrip({1, "mixed", (2,)})  # unorderable items still work


def test_loads_accepts_bytes_like_and_str() -> None:
    s = Serializer()
    data = s.dumps({"t": (1,)})
    for form in (data, bytearray(data), memoryview(data), data.decode()):
        assert s.loads(form) == {"t": (1,)}
    with pytest.raises(TypeError):
        s.loads(123)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- datetime & friends


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 2, 29, 13, 14, 15, 123456),
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(seconds=17))),
        dt.datetime.min,
        dt.datetime.max,
        dt.date(1999, 12, 31),
        dt.time(0, 0),
        dt.time(23, 59, 59, 999999),
        dt.time(12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.timedelta(0),
        dt.timedelta(days=-3, seconds=5, microseconds=7),
        dt.timedelta.max,
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        uuid.uuid4(),
        Decimal("1.10"),
        Decimal("-0"),
        Decimal("1E+3"),
        Decimal("NaN"),
        Decimal("-Infinity"),
        Decimal("3.14159265358979323846264338327950288419716939937510"),
    ],
    ids=repr,
)
def test_stdlib_value_roundtrip(value: Any) -> None:
    back = roundtrip(value)
    if isinstance(value, Decimal):
        assert str(back) == str(value)  # exponent and sign kept, not just numeric equality
    if isinstance(value, (dt.datetime, dt.time)):
        assert back.tzinfo == value.tzinfo
        assert back.utcoffset() == value.utcoffset()


def test_zoneinfo_datetime_keeps_zone_and_fold() -> None:
    tz = ZoneInfo("America/New_York")
    first = dt.datetime(2023, 11, 5, 1, 30, tzinfo=tz)  # ambiguous hour: DST ends
    second = first.replace(fold=1)
    for value in (first, second, dt.datetime(2024, 7, 1, tzinfo=ZoneInfo("Europe/Paris"))):
        back = roundtrip(value)
        assert back.tzinfo is value.tzinfo  # ZoneInfo instances are cached per key
        assert back.fold == value.fold and back.utcoffset() == value.utcoffset()
    assert roundtrip(second).utcoffset() != roundtrip(first).utcoffset()


def test_naive_datetime_fold_kept() -> None:
    assert roundtrip(dt.datetime(2024, 1, 1, fold=1)).fold == 1


def test_time_with_zone_is_refused_not_dropped() -> None:
    with pytest.raises(SerializationError, match="tzinfo"):
        Serializer().dumps(dt.time(1, tzinfo=ZoneInfo("Europe/Paris")))


def test_datetime_subclass_is_refused() -> None:
    class MyDT(dt.datetime):
        pass

    with pytest.raises(SerializationError, match="MyDT"):
        Serializer().dumps(MyDT(2024, 1, 1))


# --------------------------------------------------------------------------- enums


@pytest.mark.parametrize(
    "member", [Color.RED, Level.HIGH, Mode.FAST, Perm.R, Perm.R | Perm.W, Perm(0), Point.ORIGIN]
)
def test_enum_roundtrip(member: enum.Enum) -> None:
    back = roundtrip({"m": member, member: [member]})
    assert back["m"] is member


def test_intenum_is_not_flattened_to_int() -> None:
    back = roundtrip([Level.LOW, 1])
    assert type(back[0]) is Level and type(back[1]) is int


# --------------------------------------------------------------------------- dataclasses


def test_dataclass_roundtrip_nested() -> None:
    msg = Message("user", "hi", ("a", "b"), payload={"when": dt.date(2024, 1, 1), 3: (Color.RED,)})
    back = roundtrip({"messages": [msg, Message("ai", "yo")]})
    assert type(back["messages"][0]) is Message
    assert back["messages"][0].payload[3] == (Color.RED,)


def test_frozen_and_slots_dataclasses() -> None:
    roundtrip(Frozen(1, dt.date(2024, 5, 6)))
    roundtrip(Slotted(1, [2, 3]))


def test_dataclass_loading_restores_fields_without_running_post_init() -> None:
    obj = WithPostInit(5)
    obj.calls = 7
    back = roundtrip(obj)
    assert (back.n, back.doubled, back.calls) == (5, 10, 7)


def test_dataclass_field_named_like_marker() -> None:
    DC = dataclasses.make_dataclass("DC", [("__sg__", int), ("v", int)])
    s = Serializer(allowed=[DC])
    data = s.dumps(DC(1, 2))
    assert s.loads(data) == DC(1, 2)


def test_dataclass_schema_evolution() -> None:
    @dataclasses.dataclass
    class V1:
        a: int

    s = Serializer()
    data = s.dumps(V1(1))

    @dataclasses.dataclass
    class V2:
        a: int
        b: list[int] = dataclasses.field(default_factory=lambda: [9])

    s2 = Serializer()
    s2.register(V2, name=serde.class_name(V1))
    assert s2.loads(data) == V2(1, [9])  # a new field with a default is filled in

    @dataclasses.dataclass
    class V3:
        b: int

    s3 = Serializer()
    s3.register(V3, name=serde.class_name(V1))
    with pytest.raises(SerializationError, match="'a'"):
        s3.loads(data)  # a field the class no longer has: refused, not dropped

    @dataclasses.dataclass
    class V4:
        a: int
        c: int

    s4 = Serializer()
    s4.register(V4, name=serde.class_name(V1))
    with pytest.raises(SerializationError, match="'c' is missing"):
        s4.loads(data)


# --------------------------------------------------------------------------- namedtuples, TypedDict


def test_namedtuples() -> None:
    back = roundtrip({"p": Pair(1, (2, 3)), "l": LegacyPair("x", Pair(None, b"z"))})
    assert type(back["p"]) is Pair and back["l"].b.right == b"z"
    assert roundtrip({Pair(1, 2): "as key"})


def test_namedtuple_wrong_arity_refused() -> None:
    s = Serializer(allowed=[Pair])
    data = s.dumps(Pair(1, 2)).replace(b"[1,2]", b"[1,2,3]")
    with pytest.raises(SerializationError, match="3 items"):
        s.loads(data)


def test_typeddict_values_are_plain_dicts() -> None:
    state: StateDict = {"messages": [Message("user", "hi")], "count": 1}
    back = roundtrip(state)
    assert type(back) is dict and back["messages"][0] == Message("user", "hi")


# --------------------------------------------------------------------------- pydantic


def test_pydantic_models() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Inner(pydantic.BaseModel):
        when: dt.datetime
        tags: tuple[str, ...] = ()

    class Outer(pydantic.BaseModel):
        name: str
        inner: Inner
        items: list[Inner] = []  # noqa: RUF012  (pydantic copies defaults)
        extra_map: dict[int, Color] = {}  # noqa: RUF012
        opt: int | None = None

    value = Outer(
        name="x",
        inner=Inner(when=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), tags=("a",)),
        items=[Inner(when=dt.datetime(2020, 1, 1))],
        extra_map={1: Color.GREEN},
    )
    back = roundtrip({"state": value})["state"]
    assert type(back) is Outer and type(back.inner) is Inner
    assert (
        back.model_fields_set == value.model_fields_set == {"name", "inner", "items", "extra_map"}
    )
    assert back.model_dump(exclude_unset=True) == value.model_dump(exclude_unset=True)


def test_pydantic_extra_frozen_and_root_models() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Loose(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow", frozen=True)
        a: int

    obj = Loose(a=1, b=(2, 3))
    back = roundtrip(obj)
    assert back.b == (2, 3) and back.model_extra == {"b": (2, 3)}

    Numbers = pydantic.RootModel[list[int]]
    assert roundtrip(Numbers([1, 2])).root == [1, 2]


def test_serde_never_imports_pydantic() -> None:
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('serde_probe', {serde.__file__!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class A:\n    x: tuple\n"
        "s = m.Serializer()\n"
        "assert s.loads(s.dumps({'a': A((1,)), 2: {1.5}})) == {'a': A((1,)), 2: {1.5}}\n"
        "assert 'pydantic' not in sys.modules, 'serde imported pydantic'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- registry


def test_loading_unregistered_class_names_it_and_says_register() -> None:
    @dataclasses.dataclass
    class Local:
        x: int

    data = Serializer().dumps(Local(1))
    with pytest.raises(SerializationError) as info:
        Serializer().loads(data)
    msg = str(info.value)
    assert (
        "test_serde:test_loading_unregistered_class_names_it_and_says_register.<locals>.Local"
        in msg
    )
    assert "register(Local)" in msg


def test_allowed_list_and_instance_register() -> None:
    data = Serializer().dumps([Color.RED, Message("a", "b")])
    assert Serializer(allowed=[Color, Message]).loads(data) == [Color.RED, Message("a", "b")]
    s = Serializer()
    s.register(Color)
    with pytest.raises(SerializationError, match="Message"):
        s.loads(data)


def test_global_register_and_decorator_forms() -> None:
    @register
    @dataclasses.dataclass
    class G1:
        x: int

    @register(name="tests:renamed-g2")
    @dataclasses.dataclass
    class G2:
        y: int

    data = Serializer().dumps([G1(1), G2(2)])
    assert b'"tests:renamed-g2"' in data
    assert Serializer().loads(data) == [G1(1), G2(2)]  # any Serializer in the process


def test_register_rejects_unsupported_classes() -> None:
    with pytest.raises(TypeError):
        register(dict)
    with pytest.raises(TypeError):
        Serializer(allowed=[socket.socket])


def test_auto_register_false_refuses_unregistered_at_dump_time() -> None:
    @dataclasses.dataclass
    class Unreg:
        x: int

    strict = Serializer(auto_register=False)
    with pytest.raises(SerializationError, match="not registered"):
        strict.dumps({"k": Unreg(1)}, where="channel 'k'")
    strict.register(Unreg)
    assert strict.loads(strict.dumps(Unreg(1))) == Unreg(1)


def test_kind_mismatch_refused() -> None:
    s = Serializer(allowed=[Message])
    data = json.dumps({"__sg__": "enum", "c": serde.class_name(Message), "v": 1}).encode()
    with pytest.raises(SerializationError, match="not"):
        s.loads(data)


def test_redefined_class_latest_definition_wins() -> None:
    s = Serializer()

    def make() -> type:
        @dataclasses.dataclass
        class Re:
            x: int

        return Re

    a, b = make(), make()
    s.dumps(a(1))
    back = s.loads(s.dumps(b(2)))
    assert type(back) is b


# --------------------------------------------------------------------------- unsupported values


@pytest.mark.parametrize(
    "value, type_name",
    [
        (lambda: 1, "function"),
        (object(), "object"),
        (threading.Lock(), "lock"),
        (print, "builtin_function_or_method"),
        (collections.OrderedDict(a=1), "collections.OrderedDict"),
        (collections.deque([1]), "collections.deque"),
        (type("L", (list,), {})(), "L"),
        (range(3), "range"),
        (Path("/x"), "PosixPath"),
        (Message, "type"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_unknown_types_raise_naming_the_type(value: Any, type_name: str) -> None:
    with pytest.raises(SerializationError) as info:
        Serializer().dumps({"k": value})
    assert f"{type_name}'" in str(info.value)
    assert info.value.path == "['k']"


def test_socket_error_names_type_channel_and_path() -> None:
    with socket.socket() as sock:
        state = [
            Message("u", "a"),
            Message("u", "b"),
            Message("u", "c"),
            Message("u", "d", payload=sock),
        ]
        with pytest.raises(SerializationError) as info:
            Serializer().dumps(state, where="channel 'messages'")
    err = info.value
    assert err.path == "[3].payload"
    assert err.where == "channel 'messages'"
    assert str(err).startswith(
        "cannot serialize object of type 'socket.socket' in channel 'messages' at [3].payload:"
    )


def test_nested_paths_through_every_container() -> None:
    bad = object()
    cases = [
        ({"a": [1, {"b": (0, bad)}]}, "['a'][1]['b'][1]"),
        ({1: {"x": bad}}, "[1]['x']"),
        ({bad: 1}, "[<key <object object at"),
        (Pair(1, {"r": bad}), "[1]['r']"),
        ({"s": frozenset({(1, bad)})}, "['s']{(1, <object object at"),
    ]
    for value, prefix in cases:
        with pytest.raises(SerializationError) as info:
            Serializer().dumps(value)
        assert info.value.path.startswith(prefix), (info.value.path, prefix)


def test_top_level_unknown_type() -> None:
    with pytest.raises(SerializationError) as info:
        Serializer().dumps(object(), where="channel 'x'")
    assert info.value.path == "" and "channel 'x' (top-level value)" in str(info.value)


def test_float_subclass_not_silently_converted() -> None:
    class F(float):
        pass

    with pytest.raises(SerializationError, match="'test_serde.*F'"):
        Serializer().dumps([F(1.0)])


def test_reference_cycle_is_a_clear_error() -> None:
    a: list[Any] = []
    a.append(a)
    with pytest.raises(SerializationError, match="cycle"):
        Serializer().dumps(a, where="channel 'loop'")


# --------------------------------------------------------------------------- typed API


def test_dumps_typed_formats() -> None:
    s = Serializer()
    assert s.dumps_typed(None) == ("null", b"")
    assert s.dumps_typed(b"\x00raw") == ("bytes", b"\x00raw")
    fmt, data = s.dumps_typed(bytearray(b"x"))
    assert fmt == "json" and type(s.loads_typed((fmt, data))) is bytearray
    for value in (None, b"", b"\xff", 0, "", (1,), {"a": [Color.RED]}, Message("a", "b")):
        assert_same(s.loads_typed(s.dumps_typed(value)), value)
    assert s.loads_typed(("bytes", memoryview(b"mv"))) == b"mv"


def test_loads_typed_refuses_other_formats() -> None:
    s = Serializer()
    with pytest.raises(SerializationError, match="pickle"):
        s.loads_typed(("pickle", pickle.dumps(1)))
    with pytest.raises(SerializationError, match="unsupported serialization format 'msgpack'"):
        s.loads_typed(("msgpack", b"\x01"))
    with pytest.raises(SerializationError, match="pair"):
        s.loads_typed(b"json")  # type: ignore[arg-type]


def test_dumps_typed_passes_where() -> None:
    with pytest.raises(SerializationError, match="in channel 'c' at \\['k'\\]"):
        Serializer().dumps_typed({"k": object()}, where="channel 'c'")


# --------------------------------------------------------------------------- malformed / tampered data


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "malformed"),
        (b"{", "malformed"),
        (b"[1,2] trailing", "malformed"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"__sg__": "tuple"}', "list payload"),
        (b'{"__sg__": "tuple", "v": "abc"}', "list payload"),
        (b'{"__sg__": "nope", "v": 1}', "unknown type tag 'nope'"),
        (b'{"__sg__": 5, "v": 1}', "unknown type tag 5"),
        (b'{"__sg__": "float", "v": "1e5"}', "bad float"),
        (b'{"__sg__": "bytes", "v": "!!not base64!!"}', "malformed"),
        (b'{"__sg__": "set", "v": [[1]]}', "unhashable"),
        (b'{"__sg__": "dict", "v": [[1]]}', "pairs"),
        (b'{"__sg__": "dict", "v": [[[1], 2]]}', "unhashable"),
        (b'{"__sg__": "datetime", "v": "yesterday"}', "malformed"),
        (
            b'{"__sg__": "datetime", "v": "2024-01-01T00:00:00", "tz": "../../etc/passwd"}',
            "time zone",
        ),
        (
            b'{"__sg__": "datetime", "v": "2024-01-01T00:00:00", "tz": "Nowhere/Atlantis"}',
            "time zone",
        ),
        (b'{"__sg__": "timedelta", "v": [1, 2]}', "timedelta"),
        (b'{"__sg__": "timedelta", "v": [1e300, 0, 0]}', "timedelta"),
        (b'{"__sg__": "uuid", "v": "zzz"}', "malformed"),
        (b'{"__sg__": "decimal", "v": "one"}', "malformed"),
        (b'{"__sg__": "int", "v": "xyz"}', "malformed"),
        (b'{"__sg__": "enum", "v": 1}', "without a class name"),
        (b"1" * 5000, "malformed"),  # past the int digit limit: refused, not computed
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_data_refused(data: bytes, match: str) -> None:
    with pytest.raises(SerializationError, match=match):
        Serializer().loads(data)


def test_bad_enum_value_refused() -> None:
    data = json.dumps({"__sg__": "enum", "c": serde.class_name(Color), "v": "purple"}).encode()
    with pytest.raises(SerializationError, match="purple"):
        Serializer(allowed=[Color]).loads(data)


class _Boom:
    """Unpickling this would write a file: proof of code execution if it ever happens."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path(self.target).write_text, ("pwned",))


def test_tampered_data_never_executes_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A module that would leave a trace if anything ever imported it.
    marker = tmp_path / "imported.txt"
    (tmp_path / "sg_evil_module.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nclass Evil:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pickled_file = tmp_path / "unpickled.txt"
    pickle_payload = pickle.dumps(_Boom(str(pickled_file)))

    calls: list[str] = []
    real_import = builtins.__import__

    def spy_import(name: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    payloads: list[bytes] = [pickle_payload, pickle.dumps(_Boom(str(pickled_file)), protocol=0)]
    for target in (
        "os:system",
        "builtins:eval",
        "subprocess:Popen",
        "sg_evil_module:Evil",
        "importlib:import_module",
        "pickle:loads",
        "os.system",
        "posix:system",
    ):
        for kind in ("enum", "dataclass", "pydantic", "namedtuple"):
            node = {"__sg__": kind, "c": target, "v": ["echo pwned > " + str(marker)], "s": []}
            payloads.append(json.dumps(node).encode())
            payloads.append(json.dumps({"state": [node]}).encode())  # nested too
    payloads.append(b'{"__sg__": "pickle", "v": "' + pickle_payload.hex().encode() + b'"}')
    payloads.append(b'{"__sg__": "eval", "v": "__import__(\'os\').system(\'true\')"}')

    monkeypatch.setattr(os, "system", lambda *a: calls.append("os.system") or 0)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append("Popen"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append("pickle.loads"))
    monkeypatch.setattr(importlib, "import_module", lambda *a, **k: calls.append("import_module"))
    monkeypatch.setattr(builtins, "eval", lambda *a, **k: calls.append("eval"))
    monkeypatch.setattr(builtins, "__import__", spy_import)
    s = Serializer()
    failures = []
    try:
        for data in payloads:
            try:
                s.loads(data)
            except SerializationError as exc:
                failures.append(str(exc))
            for fmt in ("pickle", "json"):
                try:
                    s.loads_typed((fmt, data))
                except SerializationError:
                    pass
    finally:
        builtins.__import__ = real_import
    assert len(failures) == len(payloads)  # every tampered payload refused
    assert calls == []  # nothing imported, nothing called
    assert not marker.exists() and "sg_evil_module" not in sys.modules
    assert not pickled_file.exists()
    assert any("sg_evil_module:Evil" in f and "register(Evil)" in f for f in failures)
    assert any("pickle" in f for f in failures)


# --------------------------------------------------------------------------- property-based


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random nested value made of primitives and containers (stdlib-only fuzzing)."""
    scalars = [
        lambda: None,
        lambda: rng.choice([True, False]),
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.choice([0.0, -0.0, 1.5, float("nan"), float("inf"), rng.uniform(-1e9, 1e9)]),
        lambda: "".join(rng.choice('ab_"\\é✓\x00\ud800') for _ in range(rng.randint(0, 6))),
        lambda: bytes(rng.randrange(256) for _ in range(rng.randint(0, 5))),
        lambda: rng.choice(["__sg__", "v", "c"]),
    ]
    hashable = [scalars[0], scalars[1], scalars[2], scalars[4], scalars[5], scalars[6]]
    if depth >= 4 or rng.random() < 0.3:
        return rng.choice(scalars)()
    kind = rng.randrange(6)
    n = rng.randint(0, 4)
    if kind == 0:
        return [_random_value(rng, depth + 1) for _ in range(n)]
    if kind == 1:
        return tuple(_random_value(rng, depth + 1) for _ in range(n))
    if kind == 2:
        return {rng.choice(hashable)(): _random_value(rng, depth + 1) for _ in range(n)}
    if kind == 3:
        return {str(rng.choice(hashable)()): _random_value(rng, depth + 1) for _ in range(n)}
    if kind == 4:
        return {rng.choice(hashable)() for _ in range(n)}
    return frozenset(rng.choice(hashable)() for _ in range(n))


def test_seeded_random_nested_roundtrips() -> None:
    rng = random.Random(20240601)
    s = Serializer()
    for _ in range(1500):
        roundtrip(_random_value(rng), s)


if HAVE_HYPOTHESIS:
    _keys = st.one_of(
        st.text(max_size=8),
        st.integers(),
        st.booleans(),
        st.none(),
        st.binary(max_size=4),
        st.tuples(st.integers(), st.text(max_size=3)),
        st.just("__sg__"),
    )
    _scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(),
        st.binary(max_size=16),
        st.just("__sg__"),
    )
    _values = st.recursive(
        _scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.lists(inner, max_size=4).map(tuple),
            st.dictionaries(st.text(max_size=8), inner, max_size=5),
            st.dictionaries(_keys, inner, max_size=5),
            st.sets(_keys, max_size=5),
            st.frozensets(_keys, max_size=5),
        ),
        max_leaves=40,
    )

    @settings(max_examples=200, deadline=None, database=None)
    @given(_values)
    def test_hypothesis_nested_roundtrips(value: Any) -> None:
        roundtrip(value)

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.binary(max_size=64))
    def test_hypothesis_random_bytes_never_crash_loads(data: bytes) -> None:
        try:
            Serializer().loads(data)
        except SerializationError:
            pass

else:  # pragma: no cover

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_hypothesis_nested_roundtrips() -> None: ...
