"""The compiled form of a graph: plain, indexed, immutable after ``compile()``.

Everything a superstep needs is a dict lookup away: which nodes listen to a
channel (``trigger_to_nodes``), which keys a node reads and may write, which
edges it fires. One compiled graph serves any number of concurrent runs; a run
owns only its channels and tasks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .callables import UserFn
from .channels import Channel
from .constants import PULL


@dataclass(slots=True, eq=False)
class CBranch:
    """A conditional edge, ready to evaluate."""

    name: str
    fn: UserFn
    ends: dict[Any, str] | None
    input_keys: tuple[str, ...] | None
    mapper: Any
    passthrough: bool = False  # no input schema of its own: sees its node's returned keys


@dataclass(slots=True, eq=False)
class CNode:
    """A node, ready to run."""

    name: str
    fn: UserFn | None  # None: the START node, which forwards the input
    subgraph: Any  # a CompiledStateGraph used as this node, or None
    triggers: tuple[str, ...]
    input_keys: tuple[str, ...] | None  # None: all state keys
    mapper: Any
    output_keys: frozenset[str]
    static_writes: tuple[tuple[str, Any], ...]
    branches: tuple[CBranch, ...]
    retry_policy: tuple[Any, ...] = ()
    cache_policy: Any = None
    cache_ns: tuple[str, ...] = ()  # where its cache entries live (see caching.py)
    metadata: dict[str, Any] | None = None
    hidden: bool = False
    defer: bool = False
    ends: tuple[str, ...] = ()
    returns: bool = False  # Functional API: the return value is the output, not an update
    call_args: bool = False  # Functional API @task: input is (args, kwargs)
    # a body the loop may call itself, without the executor's frames (what it asks to
    # have injected, it injects): no retries, not a subgraph, no @task calls (see
    # UserFn.calls_tasks), no timeout or error handler (the run adds: no concurrency
    # bound)
    plain: bool = False
    # its triggers that are channel objects (join barriers, deferred triggers), which
    # its run consumes; edge triggers expire by themselves (set by CompiledGraph)
    held: tuple[str, ...] = ()
    # START, or a plain body without conditional edges nor a graph it invokes (set by
    # CompiledGraph): alone in its step, the loop runs it without run_task (see
    # Run.execute)
    bare: bool = False
    # a plain (def) body with conditional edges whose path functions are all plain:
    # they run where the body ran, right after it (see bodies.attempt_once)
    sync_routes: bool = False
    # the graph its body invokes, if it names one (compiled.invoked_graph): its
    # snapshots show that graph's state, as a subgraph node's
    invokes: Any = None
    timeout: Any = None  # a TimeoutPolicy (coerced) for each attempt: see timeouts.py
    error_handler: str | None = None  # the node that runs when this one fails (bodies.run_task)
    # an error handler's: the parameter typed NodeError, which receives the failure
    error_param: str | None = None
    # a dict it returns is what a report shows of its writes: every key it may write
    # is a state key a report shows (see bodies.reported_output)
    reports_dicts: bool = False

    def __post_init__(self) -> None:
        fn = self.fn
        self.plain = (
            fn is not None and not fn.calls_tasks and not self.retry_policy
            and self.subgraph is None and self.timeout is None and self.error_handler is None
            and self.error_param is None
        )
        self.reports_dicts = not self.returns and all(
            isinstance(k, str) and ":" not in k and not k.startswith("__") for k in self.output_keys
        )


@dataclass(slots=True, eq=False)
class CompiledGraph:
    """The runnable core of a ``CompiledStateGraph``."""

    nodes: dict[str, CNode]
    node_names: tuple[str, ...]  # user nodes, in the order they were added
    channels: dict[str, Channel]  # prototypes; each run gets fresh copies
    state_keys: tuple[str, ...]
    state_key_set: frozenset[str]
    trigger_to_nodes: dict[str, tuple[str, ...]]
    deferred_channels: frozenset[str]
    input_keys: tuple[str, ...]
    output_keys: tuple[str, ...]
    output_key_set: frozenset[str]
    output_mapper: Any = None
    warn_dropped_keys: bool = False
    reducer_keys: frozenset[str] = frozenset()  # state keys merged by a reducer
    # state keys whose channel a run creates up front: all but the plain keys (see
    # plain_keys), which never get one (set in __post_init__)
    eager_keys: tuple[str, ...] = ()
    barrier_channels: tuple[str, ...] = ()  # join barriers (may hold partial state)
    cache_policy: Any = None  # @entrypoint(cache_policy=...): for tasks without their own
    functional: bool = False  # an @entrypoint: its body runs off the loop so tasks can block
    node_order: dict[str, int] = field(default_factory=dict)  # name -> position added
    extras: dict[str, Any] = field(default_factory=dict)
    # Edge triggers (``branch:to:X``): always written ``None`` and available for exactly
    # the step after the write, so a run keeps them as names in ``Run.live_triggers``
    # instead of channel objects (see algo.apply_writes)
    ephemeral: frozenset[str] = frozenset()
    # Plain state keys (LastValue): a run keeps their value in ``Run.values`` only,
    # with no channel object (apply_writes checks the one-write-per-step rule)
    plain_keys: frozenset[str] = frozenset()
    key_rank: dict[str, int] = field(default_factory=dict)  # state key -> schema position

    def __post_init__(self) -> None:
        if not self.key_rank:
            self.key_rank = {k: i for i, k in enumerate(self.state_keys)}
        self.eager_keys = tuple(k for k in self.state_keys if k not in self.plain_keys)
        for node in self.nodes.values():
            node.held = tuple(t for t in node.triggers if t in self.channels and t not in self.ephemeral)
            node.bare = (
                not node.branches and not node.returns and node.invokes is None
                and (node.plain or (node.fn is None and node.subgraph is None))
            )
            node.sync_routes = (
                bool(node.branches) and node.fn is not None and not node.fn.is_async
                and not any(b.fn.is_async for b in node.branches)
            )


class Task:
    """One node execution in one superstep."""

    __slots__ = (
        "_id",
        "attempt",
        "base",
        "caller",
        "done",
        "failure",
        "fut",
        "graphs_run",
        "input",
        "interrupt_idx",
        "key",
        "kind",
        "node",
        "record",
        "run",
        "step",
        "triggers",
        "writes",
    )

    caller: Task  # set only on a Functional API call: the task that made it
    failure: Any  # set only on an error handler's task: the NodeError it handles
    attempt: tuple[int, float]  # set only on a retried task: (attempt number, first's start)
    graphs_run: int  # set only on a task whose body invoked graphs: how many so far
    fut: Any  # set only on a task of a step of several: the asyncio task running it

    def __init__(
        self, node: CNode, kind: str, key: Any, input: Any, triggers: tuple[str, ...], step: int
    ) -> None:
        self.node = node
        self.kind = kind  # PULL (edge-triggered) or PUSH (a Send)
        self.key = key  # node name for PULL, send index for PUSH
        self.input = input
        self.triggers = triggers
        self.step = step
        self.writes: Sequence[tuple[str, Any]] = ()  # set when it finishes (a list)
        self._id: str | None = None
        self.run: Any = None
        self.record: Any = None
        self.base = ""  # the checkpoint (or run) the task's step started from
        self.done = False  # its writes are known (ran, or restored from pending writes)
        self.interrupt_idx = 0  # interrupt() calls made so far in this execution

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def path(self) -> tuple[Any, ...]:
        if self.kind is not PULL:
            if isinstance(self.key, int):
                return (self.kind, self.key, False)  # a Send: LangGraph's (PUSH, index, has-call)
            caller = getattr(self, "caller", None)  # set only on Functional API calls
            if caller is not None:
                return (self.kind, caller.path, self.key[1], True)  # (PUSH, caller's path, index, call)
            return (self.kind, self.key)
        return (PULL, self.node.name)  # an entrypoint's task is keyed START: its path names it

    def sort_key(self) -> tuple[int, Any]:
        """LangGraph's write order: edge-triggered tasks by name, then Sends by index."""
        return (0, self.key) if self.kind is PULL else (1, self.key)

    @property
    def id(self) -> str:
        """A stable id: the same run, step and path give the same id (for replay)."""
        if self._id is None:
            base = self.base or (self.run.run_key if self.run is not None else "")
            self._id = task_id(base, self.step, self.kind, self.key)
        return self._id


def task_id(base: str, step: int, kind: str, key: Any) -> str:
    h = hashlib.blake2b(f"{base}|{step}|{kind}|{key}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
