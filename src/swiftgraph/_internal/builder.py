"""``StateGraph``: the builder users describe a workflow with.

It only records what the user said (nodes, edges, branches) and checks each call
as early as it can; ``compile()`` turns the record into the plain indexed
structures of :mod:`.compiled`, which is what runs.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .callables import UserFn, input_annotation, return_literals
from .channels import Channel
from .constants import END, RESERVED_CHARS, START
from .errors import GraphDefinitionError
from .schema import channels_for, schema_keys

if TYPE_CHECKING:
    from datetime import timedelta

    from .types import CachePolicy, RetryPolicy, TimeoutPolicy


def _warn_compiled(what: str) -> None:
    # logging is imported only when there is something to log: it costs milliseconds
    import logging

    logging.getLogger("swiftgraph").warning(
        f"Adding {what} to a graph that has already been compiled. This will "
        "not be reflected in the compiled graph."
    )

StateT = TypeVar("StateT")
ContextT = TypeVar("ContextT")
InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")


def _timeout_policy(value: Any) -> TimeoutPolicy | None:
    if value is None:
        return None
    from .types import TimeoutPolicy  # (when asked for: the builder imports no value types)

    return TimeoutPolicy.coerce(value)


class SwiftGraphWarning(UserWarning):
    """Something about a graph that is legal but probably not what was meant."""


class NodeSpec:
    """A node as the user added it (``compile()`` turns it into a ``CNode``)."""

    __slots__ = (
        "action", "cache_policy", "defer", "ends", "error_handler_node", "input_schema",
        "is_error_handler", "metadata", "name", "retry_policy", "timeout",
    )

    def __init__(
        self,
        name: str,
        action: Any,
        input_schema: Any,
        defer: bool = False,
        metadata: dict[str, Any] | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy | None = None,
        ends: tuple[str, ...] | dict[str, str] = (),
        timeout: TimeoutPolicy | None = None,
        error_handler_node: str | None = None,
        is_error_handler: bool = False,
    ) -> None:
        self.name = name
        self.error_handler_node = error_handler_node  # the node that handles its failures
        self.is_error_handler = is_error_handler  # it is such a node: no edges, run on failure
        self.action = action
        self.input_schema = input_schema
        self.defer = defer
        self.metadata = metadata
        self.retry_policy = retry_policy
        self.cache_policy = cache_policy
        self.ends = ends
        self.timeout = timeout


class BranchSpec:
    """A conditional edge as the user added it."""

    __slots__ = ("ends", "fn", "input_schema", "name", "path")

    def __init__(
        self,
        path: Callable[..., Any],
        ends: dict[Hashable, str] | None,
        input_schema: Any = None,
        name: str = "condition",
    ) -> None:
        self.path = path
        self.ends = ends
        self.input_schema = input_schema
        self.name = name
        self.fn = UserFn(path)


def _known(nodes: dict[str, Any]) -> str:
    return ", ".join(repr(n) for n in nodes) or "(none yet)"


def _is_graph(obj: Any) -> bool:
    from .compiled import CompiledStateGraph

    return isinstance(obj, CompiledStateGraph)


class StateGraph(Generic[StateT, ContextT, InputT, OutputT]):
    """A graph whose nodes read and update a shared state.

    Each node receives the state and returns an update (a dict of changed keys,
    a ``Command``, or ``None``). Nodes triggered together run concurrently in one
    superstep; their updates are merged at its end, per key, in node-name order.
    """

    def __init__(
        self,
        state_schema: type[StateT] | None = None,
        context_schema: type[ContextT] | None = None,
        *,
        input_schema: type[InputT] | None = None,
        output_schema: type[OutputT] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("config_schema") is not None and context_schema is None:
            context_schema = kwargs.pop("config_schema")
        input_schema = input_schema or kwargs.pop("input", None)
        output_schema = output_schema or kwargs.pop("output", None)
        if state_schema is None:
            if input_schema is None or output_schema is None:
                raise GraphDefinitionError(
                    "Must provide state_schema or input and output: StateGraph(State)"
                )
            state_schema = input_schema  # type: ignore[assignment]
        self.nodes: dict[str, NodeSpec] = {}
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: defaultdict[str, dict[str, BranchSpec]] = defaultdict(dict)
        self.channels: dict[str, Channel] = {}
        self.schemas: dict[Any, tuple[str, ...]] = {}
        self.compiled = False
        # set_node_defaults: retry_policy, cache_policy, timeout, for nodes without their own
        self.node_defaults: dict[str, Any] = {}
        self.state_schema = state_schema
        self.context_schema = context_schema
        self.input_schema = input_schema or state_schema
        self.output_schema = output_schema or state_schema
        for schema in (self.state_schema, self.input_schema, self.output_schema):
            self._add_schema(schema)

    def _add_schema(self, schema: Any) -> None:
        if schema in self.schemas:
            return
        keys = schema_keys(schema)
        if not keys and schema is not None:
            raise GraphDefinitionError(
                f"State schema {getattr(schema, '__name__', schema)!r} has no keys: use a "
                "TypedDict, dataclass or pydantic model with annotated fields."
            )
        self.schemas[schema] = keys
        for key, chan in channels_for(schema).items():
            existing = self.channels.get(key)
            if existing is None or (type(existing).__name__ == "LastValue" and type(chan).__name__ != "LastValue"):
                self.channels[key] = chan

    @property
    def _all_edges(self) -> set[tuple[str, str]]:
        return self.edges | {(s, e) for starts, e in self.waiting_edges for s in starts}

    # --- nodes -----------------------------------------------------------------------

    def add_node(
        self,
        node: str | Any,
        action: Any = None,
        *,
        defer: bool = False,
        metadata: dict[str, Any] | None = None,
        input_schema: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy | None = None,
        destinations: dict[str, str] | tuple[str, ...] | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
        error_handler: Any = None,
        trace_policy: Any = None,  # (LangGraph's tracing of payloads: see types.TracePolicy)
        **kwargs: Any,
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Add a node. ``add_node(fn)`` names it after the function.

        ``timeout``: a limit on each attempt of an ``async def`` node (seconds, a
        ``timedelta`` or a :class:`~swiftgraph.types.TimeoutPolicy`); see there."""
        if input_schema is None and kwargs.get("input") is not None:
            input_schema = kwargs.pop("input")
        if kwargs.get("retry") is not None and retry_policy is None:
            retry_policy = kwargs.pop("retry")
        if not isinstance(node, str):
            action = node
            node = getattr(action, "name", None) if _is_graph(action) else None
            node = node or getattr(action, "__name__", None) or type(action).__name__
        if self.compiled:
            _warn_compiled("a node")
        if action is None:
            raise GraphDefinitionError(f"Node `{node}` needs an action: add_node('{node}', fn)")
        if node in self.nodes:
            raise GraphDefinitionError(
                f"Node `{node}` already present. Each node needs a unique name; "
                f"existing nodes: {_known(self.nodes)}."
            )
        if node in (START, END):
            raise GraphDefinitionError(
                f"Node `{node}` is reserved. `{START}` and `{END}` are the graph's virtual "
                "entry and exit: connect to them with add_edge(START, ...) / add_edge(..., END)."
            )
        for ch in RESERVED_CHARS:
            if ch in node:
                raise GraphDefinitionError(
                    f"'{ch}' is a reserved character and is not allowed in the node names "
                    f"(node `{node}`)."
                )
        if not callable(action) and not _is_graph(action):
            raise GraphDefinitionError(
                f"Node `{node}`'s action must be a function or a compiled graph, "
                f"not {type(action).__name__}."
            )
        if input_schema is None and not _is_graph(action):
            hint = input_annotation(action)
            if isinstance(hint, type) and schema_keys(hint) and hint is not self.state_schema:
                input_schema = hint
        if input_schema is not None:
            self._add_schema(input_schema)
        handler = None
        if error_handler is not None:
            handler = f"__error_handler__{node}"
            if handler in self.nodes:
                raise GraphDefinitionError(f"Auto-generated error handler node `{handler}` already exists.")
            if not callable(error_handler):
                raise GraphDefinitionError(
                    f"Node `{node}`'s error_handler must be a function, not {type(error_handler).__name__}."
                )
            self.nodes[handler] = NodeSpec(  # before its node, where LangGraph lists it
                name=handler, action=error_handler, input_schema=input_schema or self.state_schema,
                is_error_handler=True,
            )
        ends: tuple[str, ...] | dict[str, str] = ()
        if destinations is not None:
            ends = dict(destinations) if isinstance(destinations, dict) else tuple(destinations)
        elif not _is_graph(action):
            ends = _command_destinations(action)
        self.nodes[node] = NodeSpec(
            name=node,
            action=action,
            input_schema=input_schema or self.state_schema,
            defer=defer,
            metadata=metadata,
            retry_policy=retry_policy,
            cache_policy=cache_policy,
            ends=ends,
            timeout=_timeout_policy(timeout),
            error_handler_node=handler,
        )
        return self

    def set_node_defaults(
        self,
        *,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy | None = None,
        error_handler: Any = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Policies for every node that doesn't set its own in ``add_node``, applied at
        ``compile()`` (to nodes added before or after this call), as LangGraph's: not
        inherited by subgraphs. ``retry_policy`` and ``timeout`` apply to error handlers
        too; ``cache_policy`` and ``error_handler`` (run as the node
        ``__default_error_handler__``) to the other nodes only."""
        if error_handler is not None:
            if not callable(error_handler):
                raise GraphDefinitionError(f"error_handler must be a function, not {type(error_handler).__name__}.")
            self.node_defaults["error_handler"] = error_handler
        if retry_policy is not None:
            self.node_defaults["retry_policy"] = retry_policy
        if cache_policy is not None:
            self.node_defaults["cache_policy"] = cache_policy
        if timeout is not None:
            self.node_defaults["timeout"] = _timeout_policy(timeout)
        return self

    # --- edges -----------------------------------------------------------------------

    def add_edge(self, start_key: str | list[str], end_key: str) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """``add_edge(a, b)``: run b after a. ``add_edge([a, b], c)``: run c once both ran."""
        if self.compiled:
            _warn_compiled("an edge")
        if isinstance(start_key, str):
            if start_key == END:
                raise GraphDefinitionError("END cannot be a start node")
            if end_key == START:
                raise GraphDefinitionError("START cannot be an end node")
            self.edges.add((start_key, end_key))
            return self
        starts = list(start_key)
        if not starts:
            raise GraphDefinitionError(f"add_edge([], {end_key!r}): a join needs at least one source")
        for start in starts:
            if start == END:
                raise GraphDefinitionError("END cannot be a start node")
            if start not in self.nodes:
                raise GraphDefinitionError(
                    f"Need to add_node `{start}` first (join into `{end_key}`; "
                    f"known nodes: {_known(self.nodes)})"
                )
        if end_key == START:
            raise GraphDefinitionError("START cannot be an end node")
        if end_key != END and end_key not in self.nodes:
            raise GraphDefinitionError(
                f"Need to add_node `{end_key}` first (join from {starts}; "
                f"known nodes: {_known(self.nodes)})"
            )
        self.waiting_edges.add((tuple(starts), end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | list[str] | None = None,
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """After ``source``, call ``path(state)`` to choose the next node(s).

        ``path`` returns a node name, ``END``, a list of them, or ``Send``s; with
        ``path_map`` it returns keys of that map instead."""
        if self.compiled:
            _warn_compiled("an edge")
        if not callable(path):
            raise GraphDefinitionError(
                f"The path of a conditional edge from `{source}` must be callable, got "
                f"{type(path).__name__}"
            )
        name = getattr(path, "__name__", None) or type(path).__name__
        if name == "<lambda>":
            name = "condition"
        if name in self.branches[source]:
            raise GraphDefinitionError(
                f"Branch with name `{name}` already exists for node `{source}`"
            )
        ends: dict[Hashable, str] | None
        if isinstance(path_map, dict):
            ends = dict(path_map)
        elif isinstance(path_map, list):
            ends = {name_: name_ for name_ in path_map}
        elif path_map is None:
            literals = return_literals(path)
            ends = {lit: lit for lit in literals} if literals else None
        else:
            raise GraphDefinitionError(
                f"path_map of the conditional edge from `{source}` must be a dict or a list"
            )
        hint = input_annotation(path)
        schema = hint if isinstance(hint, type) and schema_keys(hint) else None
        if schema is not None:
            self._add_schema(schema)
        self.branches[source][name] = BranchSpec(path, ends, schema, name)
        return self

    def add_sequence(self, nodes: Sequence[Any]) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Add nodes and chain them with edges, in order."""
        if len(nodes) < 1:
            raise GraphDefinitionError("Sequence requires at least one node.")
        previous: str | None = None
        for item in nodes:
            if isinstance(item, tuple) and len(item) == 2:
                name, action = item
            else:
                name = getattr(item, "name", None) if _is_graph(item) else None
                name = name or getattr(item, "__name__", None)
                action = item
            if name is None or name in self.nodes:
                raise GraphDefinitionError(
                    f"Node names must be unique: node with the name '{name}' already exists. "
                    "If you need to use two different runnables/callables with the same name "
                    "(for example, using `lambda`), please provide them as tuples (name, runnable/callable)."
                )
            self.add_node(name, action)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    def set_entry_point(self, key: str) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self, path: Callable[..., Any], path_map: dict[Hashable, str] | list[str] | None = None
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        return self.add_edge(key, END)

    # --- checking and compiling ------------------------------------------------------

    def validate(self, interrupt: Sequence[str] | None = None) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        from .validate import validate

        validate(self, interrupt)
        self.compiled = True
        return self

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        debug: bool = False,
        name: str | None = None,
        warn_dropped_keys: bool = False,
        timeline: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Check the graph and turn it into a runnable ``CompiledStateGraph``.

        ``warn_dropped_keys=True`` (swiftgraph only) warns when a node returns keys
        that aren't in the state schema, which LangGraph drops silently; ``timeline=False``
        (swiftgraph only) stops recording run timelines (they cost well under 2 µs a task)."""
        from .compiled import compile_graph

        interrupt_before = interrupt_before or []
        interrupt_after = interrupt_after or []
        names = [n for n in (interrupt_before, interrupt_after) if n != "*"]
        self.validate([n for group in names for n in group])
        return compile_graph(
            self,
            checkpointer=checkpointer,
            cache=cache,
            store=store,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            debug=debug,
            name=name or "LangGraph",
            warn_dropped_keys=warn_dropped_keys,
            timeline=timeline,
        )


def _command_destinations(action: Any) -> tuple[str, ...]:
    """``-> Command[Literal["a", "b"]]`` on a node: where it may go (for drawing)."""
    import typing

    from .callables import _unwrap
    from .types import Command

    try:
        hint = typing.get_type_hints(_unwrap(action)).get("return")
    except Exception:
        return ()
    if hint is None:
        return ()
    candidates = [hint]
    if typing.get_origin(hint) in (typing.Union,) or type(hint).__name__ == "UnionType":
        candidates = list(typing.get_args(hint))
    for cand in candidates:
        if typing.get_origin(cand) is Command:
            args = typing.get_args(cand)
            if args and typing.get_origin(args[0]) is typing.Literal:
                return tuple(typing.get_args(args[0]))
    return ()


def warn_graph(message: str) -> None:
    warnings.warn(message, SwiftGraphWarning, stacklevel=4)
