"""Channels: where a run keeps its state between supersteps.

Each state key is a channel, and so is each edge trigger (``branch:to:X``) and each
join barrier (``join:a+b:X``). A channel takes the writes of one superstep in one
``update`` call, which is where reducers run and where "two values for one plain key"
is caught. The semantics mirror LangGraph's channel classes one for one; the
classes here are leaner (slots, no generic type plumbing) because thousands of runs
may be live at once. A compiled graph keeps one prototype per channel; a run copies
only the ones whose state needs an object: plain keys (``LastValue``) and edge
triggers (``EphemeralValue``) are kept without one (see :mod:`.algo`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .constants import MISSING
from .errors import (
    EmptyChannelError,
    ErrorCode,
    InvalidUpdateError,
    create_error_message,
)


class Channel:
    """Base: a value plus the hooks the superstep algorithm calls."""

    __slots__ = ("key", "value")

    #: trigger channels are cleared/consumed by the algorithm; state channels persist
    is_trigger = False

    def __init__(self, key: str) -> None:
        self.key = key
        self.value: Any = MISSING

    def new(self) -> Channel:
        """A fresh, empty channel of the same kind (one per run)."""
        raise NotImplementedError

    def copy(self) -> Channel:
        ch = self.new()
        ch.restore(self.checkpoint())
        return ch

    def update(self, values: Sequence[Any]) -> bool:
        raise NotImplementedError

    def get(self) -> Any:
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        return self.value is not MISSING

    def consume(self) -> bool:
        return False

    def finish(self) -> bool:
        return False

    def checkpoint(self) -> Any:
        return self.value

    def restore(self, saved: Any) -> None:
        self.value = saved


class LastValue(Channel):
    """A plain state key: at most one write per superstep."""

    __slots__ = ()

    def new(self) -> LastValue:
        return LastValue(self.key)

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        if len(values) != 1:
            raise_two_values(self.key)
        self.value = values[0]
        return True


def raise_two_values(key: str) -> None:
    """A plain key written twice in one step (LangGraph's error, word for word). Runs
    keep plain keys in their ``values`` dict, without a channel object, and raise this
    themselves (see algo.apply_writes)."""
    raise InvalidUpdateError(
        create_error_message(
            message=f"At key '{key}': Can receive only one value per step. "
            "Use an Annotated key to handle multiple values.",
            error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
        ),
        ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
    )


def _overwrite_value(value: Any) -> tuple[bool, Any]:
    from .types import Overwrite

    if isinstance(value, Overwrite):
        return True, value.value
    if isinstance(value, dict) and set(value) == {"__overwrite__"}:
        return True, value["__overwrite__"]
    return False, None


class BinaryOperatorAggregate(Channel):
    """A key with a reducer: each write is folded in with ``operator(current, new)``."""

    __slots__ = ("operator", "typ")

    def __init__(self, key: str, typ: Any, operator: Callable[[Any, Any], Any]) -> None:
        super().__init__(key)
        self.operator = operator
        self.typ = typ
        self.value = _initial(typ)

    def new(self) -> BinaryOperatorAggregate:
        return BinaryOperatorAggregate(self.key, self.typ, self.operator)

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        op = self.operator
        it = iter(values)
        if self.value is MISSING:
            self.value = next(it)
        seen_overwrite = False
        for value in it:
            if type(value) is dict or not isinstance(value, (int, str, list, float)):
                is_ow, ow_value = _overwrite_value(value)
                if is_ow:
                    if seen_overwrite:
                        raise InvalidUpdateError(
                            create_error_message(
                                message="Can receive only one Overwrite value per super-step.",
                                error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                            ),
                            ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                        )
                    self.value = ow_value
                    seen_overwrite = True
                    continue
            if not seen_overwrite:
                self.value = op(self.value, value)
        return True


def _initial(typ: Any) -> Any:
    """LangGraph starts a reducer key at ``typ()`` (``[]`` for a list) when it can."""
    import collections.abc as cabc
    import typing

    origin = typing.get_origin(typ) or typ
    if origin is typing.Annotated:
        origin = typing.get_origin(typing.get_args(typ)[0]) or typing.get_args(typ)[0]
    if origin in (cabc.Sequence, cabc.MutableSequence):
        origin = list
    elif origin in (cabc.Set, cabc.MutableSet):
        origin = set
    elif origin in (cabc.Mapping, cabc.MutableMapping):
        origin = dict
    try:
        return origin()
    except Exception:
        return MISSING


class EphemeralValue(Channel):
    """An edge trigger: holds the last write for exactly one superstep."""

    __slots__ = ("guard",)
    is_trigger = True

    def __init__(self, key: str, guard: bool = False) -> None:
        super().__init__(key)
        self.guard = guard

    def new(self) -> EphemeralValue:
        return EphemeralValue(self.key, self.guard)

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            if self.value is not MISSING:
                self.value = MISSING
                return True
            return False
        if self.guard and len(values) != 1:
            raise InvalidUpdateError(
                f"At key '{self.key}': EphemeralValue(guard=True) can receive only one value "
                "per step. Use guard=False if you want to store any one of multiple values."
            )
        self.value = values[-1]
        return True


class LastValueAfterFinish(Channel):
    """The trigger of a ``defer=True`` node: available only once nothing else runs."""

    __slots__ = ("finished",)
    is_trigger = True

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.finished = False

    def new(self) -> LastValueAfterFinish:
        return LastValueAfterFinish(self.key)

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        self.finished = False
        self.value = values[-1]
        return True

    def get(self) -> Any:
        if self.value is MISSING or not self.finished:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        return self.finished and self.value is not MISSING

    def consume(self) -> bool:
        if self.finished:
            self.finished = False
            self.value = MISSING
            return True
        return False

    def finish(self) -> bool:
        if not self.finished and self.value is not MISSING:
            self.finished = True
            return True
        return False

    def checkpoint(self) -> Any:
        return MISSING if self.value is MISSING else (self.value, self.finished)

    def restore(self, saved: Any) -> None:
        if saved is MISSING:
            self.value, self.finished = MISSING, False
        else:
            self.value, self.finished = saved[0], bool(saved[1])


class NamedBarrierValue(Channel):
    """The trigger of ``add_edge([a, b], c)``: available once every source wrote."""

    __slots__ = ("names", "seen")
    is_trigger = True

    def __init__(self, key: str, names: frozenset[str]) -> None:
        super().__init__(key)
        self.names = names
        self.seen: set[str] = set()

    def new(self) -> NamedBarrierValue:
        return type(self)(self.key, self.names)

    def update(self, values: Sequence[Any]) -> bool:
        updated = False
        names, seen = self.names, self.seen
        for value in values:
            if value in names:
                if value not in seen:
                    seen.add(value)
                    updated = True
            else:
                raise InvalidUpdateError(f"At key '{self.key}': Value {value} not in {set(names)}")
        return updated

    def get(self) -> Any:
        if not self.is_available():
            raise EmptyChannelError()
        return None

    def is_available(self) -> bool:
        return len(self.seen) == len(self.names)

    def consume(self) -> bool:
        if len(self.seen) == len(self.names):
            self.seen = set()
            return True
        return False

    def checkpoint(self) -> Any:
        return sorted(self.seen) if self.seen else MISSING

    def restore(self, saved: Any) -> None:
        self.seen = set() if saved is MISSING else set(saved)


class NamedBarrierValueAfterFinish(NamedBarrierValue):
    """A join into a ``defer=True`` node."""

    __slots__ = ("finished",)

    def __init__(self, key: str, names: frozenset[str]) -> None:
        super().__init__(key, names)
        self.finished = False

    def is_available(self) -> bool:
        return self.finished and len(self.seen) == len(self.names)

    def consume(self) -> bool:
        if self.finished and len(self.seen) == len(self.names):
            self.finished = False
            self.seen = set()
            return True
        return False

    def finish(self) -> bool:
        if not self.finished and len(self.seen) == len(self.names):
            self.finished = True
            return True
        return False

    def checkpoint(self) -> Any:
        return MISSING if not self.seen else (sorted(self.seen), self.finished)

    def restore(self, saved: Any) -> None:
        if saved is MISSING:
            self.seen, self.finished = set(), False
        else:
            self.seen, self.finished = set(saved[0]), bool(saved[1])
