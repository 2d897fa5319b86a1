"""The value types users hand to the engine: ``Send``, ``Command``, policies,
snapshots. Field names, defaults and reprs follow LangGraph's so code and
saved data port unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

if TYPE_CHECKING:
    from datetime import timedelta

StreamMode = Literal["values", "updates", "checkpoints", "tasks", "debug", "messages", "custom"]
"""How ``stream`` emits: see the README's table of modes."""

Durability = Literal["sync", "async", "exit"]
"""When checkpoints are written: before the next step starts, while it runs, or at exit."""

StreamWriter = Callable[[Any], None]
All = Literal["*"]


class Send:
    """Run ``node`` next superstep with ``arg`` as its whole input (map-reduce).

    Sends from one step run as separate tasks, after the node-triggered tasks, in
    the order they were sent."""

    __slots__ = ("arg", "node", "timeout")

    def __init__(self, /, node: str, arg: Any, *, timeout: float | None = None) -> None:
        self.node = node
        self.arg = arg
        self.timeout = timeout

    def __hash__(self) -> int:
        return hash((self.node, self.arg, self.timeout))

    def __repr__(self) -> str:
        if self.timeout is None:
            return f"Send(node={self.node!r}, arg={self.arg!r})"
        return f"Send(node={self.node!r}, arg={self.arg!r}, timeout={self.timeout!r})"

    def __eq__(self, value: object) -> bool:
        return (
            isinstance(value, Send)
            and self.node == value.node
            and self.arg == value.arg
            and self.timeout == value.timeout
        )


N = TypeVar("N", bound=Hashable)


@dataclass(kw_only=True, slots=True, frozen=True)
class Command(Generic[N]):
    """What a node returns to update state *and* choose where to go next.

    ``update`` is applied like a returned dict; ``goto`` names the next node(s) or
    holds ``Send``s; ``graph=Command.PARENT`` sends the command to the enclosing
    graph; ``resume`` answers a pending ``interrupt()``."""

    graph: str | None = None
    update: Any | None = None
    resume: dict[str, Any] | Any | None = None
    goto: Send | Sequence[Send | N] | N = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:
        contents = ", ".join(f"{k}={v!r}" for k, v in asdict(self).items() if v)
        return f"Command({contents})"

    def _update_as_tuples(self) -> Sequence[tuple[str, Any]]:
        update = self.update
        if isinstance(update, dict):
            return list(update.items())
        if isinstance(update, (list, tuple)) and all(
            isinstance(t, tuple) and len(t) == 2 and isinstance(t[0], str) for t in update
        ):
            return update
        if update is None:
            return []
        from .schema import object_as_tuples

        tuples = object_as_tuples(update)
        return tuples if tuples is not None else [("__root__", update)]


def default_retry_on(exc: Exception) -> bool:
    """LangGraph's default: retry what looks transient, not programming errors."""
    if isinstance(exc, ConnectionError):
        return True
    if isinstance(
        exc,
        (
            ValueError,
            TypeError,
            ArithmeticError,
            ImportError,
            LookupError,
            NameError,
            SyntaxError,
            RuntimeError,
            ReferenceError,
            StopIteration,
            StopAsyncIteration,
            OSError,
        ),
    ):
        return False
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return 500 <= status < 600
    return True


class RetryPolicy(NamedTuple):
    """How to retry a failing node: exponential backoff with optional jitter."""

    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    max_attempts: int = 3
    jitter: bool = True
    retry_on: (
        type[Exception] | Sequence[type[Exception]] | Callable[[Exception], bool]
    ) = default_retry_on


def _freeze(obj: Any, depth: int = 10) -> Any:
    """LangGraph's canonical form of a task's arguments for its cache key, kept exactly
    so the same calls hit: an unhashable mapping becomes its pairs sorted by key, an
    unhashable sequence a tuple, an array its bytes and shape. Hashable values are kept
    as they are, so ``args`` (a tuple) is written as given, dicts in their own order;
    only keyword arguments (and dicts, lists inside them) are made order-insensitive."""
    if depth <= 0 or isinstance(obj, Hashable):
        return obj
    if isinstance(obj, Mapping):
        pairs = [(k, _freeze(v, depth - 1)) for k, v in obj.items()]
        try:
            return tuple(sorted(pairs))
        except TypeError:  # keys of mixed types (LangGraph raises): any fixed order will do
            return tuple(sorted(pairs, key=lambda kv: (type(kv[0]).__name__, repr(kv[0]))))
    if isinstance(obj, Sequence):
        return tuple(_freeze(x, depth - 1) for x in obj)
    if hasattr(obj, "tobytes"):
        return (type(obj).__name__, obj.tobytes(), getattr(obj, "shape", None))
    return obj


_key_serde: Any = None


def default_cache_key(*args: Any, **kwargs: Any) -> bytes:
    """The key ``CachePolicy`` uses unless given a ``key_func``: the task's arguments
    in canonical form (:func:`_freeze`), as swiftgraph's typed JSON.

    LangGraph pickles them instead; typed JSON is as exact for the values a state
    holds (dataclasses, pydantic models, enums, sets, bytes ...) and never pickles. A
    value it can't represent raises ``SerializationError``: pass a ``key_func``."""
    global _key_serde
    if _key_serde is None:
        from .serde import Serializer

        _key_serde = Serializer()
    return _key_serde.dumps(
        (_freeze(args), _freeze(kwargs)),
        where="the input of a cached task (give its CachePolicy a key_func to key it yourself)",
    )


KeyFuncT = TypeVar("KeyFuncT", bound=Callable[..., "str | bytes"])


def _seconds(value: float | timedelta | None, *, field: str) -> float | None:
    if value is None:
        return None
    # (a timedelta, without importing datetime for it)
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value)  # type: ignore[arg-type]
    if seconds <= 0:
        raise ValueError(f"{field} must be greater than 0")
    return seconds


@dataclass(kw_only=True, slots=True, frozen=True)
class TimeoutPolicy:
    """How long one attempt of an async node (or ``@task``) may take.

    ``run_timeout``: a hard cap on the attempt's wall-clock time. ``idle_timeout``:
    the longest it may go without progress, where progress is ``runtime.heartbeat()``
    and, with ``refresh_on="auto"``, also a custom stream write, a ``@task`` call or
    a chunk streamed by a subgraph it runs. Past either, the attempt is cancelled and
    ``NodeTimeoutError`` raised; a ``RetryPolicy`` on the node decides whether to try
    again. ``add_node(..., timeout=5)`` (seconds, or a ``timedelta``) means
    ``TimeoutPolicy(run_timeout=5)``.

    Timing out cancels the attempt's coroutine, so it applies to ``async def`` bodies
    and subgraphs only: a plain function can't be stopped in-process, and a timeout on
    one is refused at compile time, as in LangGraph.
    """

    run_timeout: float | timedelta | None = None
    idle_timeout: float | timedelta | None = None
    refresh_on: Literal["auto", "heartbeat"] = "auto"

    @classmethod
    def coerce(cls, value: float | timedelta | TimeoutPolicy | None) -> TimeoutPolicy | None:
        """``value`` as a policy in seconds (``None`` when it sets no limit)."""
        if value is None:
            return None
        if not isinstance(value, TimeoutPolicy):
            value = cls(run_timeout=value)
        if value.refresh_on not in ("auto", "heartbeat"):
            raise ValueError("refresh_on must be 'auto' or 'heartbeat'")
        run = _seconds(value.run_timeout, field="run_timeout")
        idle = _seconds(value.idle_timeout, field="idle_timeout")
        if run is None and idle is None:
            return None
        return cls(run_timeout=run, idle_timeout=idle, refresh_on=value.refresh_on)


@dataclass(kw_only=True, slots=True, frozen=True)
class TracePolicy:
    """LangGraph's per-node control of what its tracer records of the node's input and
    output (``add_node(..., trace_policy=...)``). Accepted so such code runs: the spans
    swiftgraph exports (:mod:`swiftgraph.otel`) carry timings, never payloads, so there
    is nothing for it to transform."""

    process_inputs: Callable[[Any], Any] | None = None
    process_outputs: Callable[[Any], Any] | None = None


def omit_payload(_value: Any) -> dict[str, Any]:
    """A ``TracePolicy`` processor that records nothing of the value."""
    return {}


@dataclass(kw_only=True, slots=True, frozen=True)
class CachePolicy(Generic[KeyFuncT]):
    """Cache a node's (or task's) writes by a key computed from its input.

    ``key_func`` gets the node's input (a task's arguments) and returns a ``str`` or
    ``bytes`` key; ``ttl`` is how many seconds an entry lives (``None``: until
    cleared). Takes effect only in a graph compiled with ``cache=`` (or an
    ``@entrypoint(cache=...)``)."""

    key_func: KeyFuncT = default_cache_key  # type: ignore[assignment]
    ttl: int | None = None


@dataclass(slots=True)
class Overwrite:
    """Bypass a key's reducer and write ``value`` as is."""

    value: Any
    type: Literal["__overwrite__"] = "__overwrite__"


class Interrupt:
    """A pause requested by ``interrupt(value)``; ``id`` is what ``Command(resume={id: ...})`` answers."""

    __slots__ = ("id", "response_schema", "value")

    def __init__(self, value: Any, id: str = "placeholder-id", *, response_schema: Any = None) -> None:
        self.value = value
        self.id = id
        self.response_schema = response_schema

    @classmethod
    def from_ns(cls, value: Any, ns: str, *, response_schema: Any = None) -> Interrupt:
        digest = hashlib.blake2b(ns.encode(), digest_size=16).hexdigest()
        return cls(value=value, id=digest, response_schema=response_schema)

    @property
    def interrupt_id(self) -> str:
        """Deprecated in LangGraph in favour of ``id``; kept for code that still reads it."""
        return self.id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interrupt) and (self.value, self.id) == (other.value, other.id)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Interrupt(value={self.value!r}, id={self.id!r}, response_schema={self.response_schema!r})"


@dataclass(frozen=True)
class GraphOutput(Generic[N]):
    """What ``invoke(..., version="v2")`` returns: the output, and apart from it the
    interrupts that paused the run (none: ``()``)."""

    value: Any
    interrupts: tuple[Interrupt, ...] = ()

    def __getitem__(self, key: str) -> Any:
        """Deprecated (as in LangGraph): ``result["__interrupt__"]`` or a key of the value."""
        _warn_item_access()
        if key == "__interrupt__":
            return self.interrupts
        if isinstance(self.value, dict):
            return self.value[key]
        try:
            return getattr(self.value, key)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        _warn_item_access()
        if key == "__interrupt__":
            return bool(self.interrupts)
        if isinstance(self.value, dict):
            return key in self.value
        return isinstance(key, str) and hasattr(self.value, key)


def _warn_item_access() -> None:
    import warnings

    warnings.warn(
        "Accessing GraphOutput via `result[key]` is deprecated. Use `result.value` to access "
        "the output value directly, or `result.interrupts` for interrupts.",
        DeprecationWarning,
        stacklevel=3,
    )


class PregelTask(NamedTuple):
    """A task as shown in a ``StateSnapshot``."""

    id: str
    name: str
    path: tuple[str | int | tuple, ...]
    error: Exception | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Any | None = None


class StateSnapshot(NamedTuple):
    """The state of a thread at the start of a superstep."""

    values: dict[str, Any] | Any
    next: tuple[str, ...]
    config: dict[str, Any]
    metadata: dict[str, Any] | None
    created_at: str | None
    parent_config: dict[str, Any] | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...] = ()


class StateUpdate(NamedTuple):
    """One update of ``bulk_update_state``: ``values`` written as if ``as_node``
    returned them (``task_id``: the pending task it stands in for)."""

    values: dict[str, Any] | None
    as_node: str | None = None
    task_id: str | None = None


__all__ = [
    "All",
    "CachePolicy",
    "Command",
    "Durability",
    "GraphOutput",
    "Interrupt",
    "Overwrite",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamWriter",
    "TimeoutPolicy",
    "TracePolicy",
    "default_cache_key",
    "default_retry_on",
    "omit_payload",
]
