"""Turning what a node returned into channel writes.

A node may return a dict, ``None``, a ``Command``, a list mixing them, or a
dataclass/pydantic instance of its state schema; anything else is an error that
names the node. Keys outside the schema are dropped, as LangGraph drops them.
After the node's own update come its outgoing edges and conditional edges; a
conditional edge sees the state as this node left it (the step's start state
plus this node's own writes), not its siblings' writes.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .algo import channel, schema_order
from .channels import raise_two_values
from .compiled_types import CBranch, CNode, CompiledGraph
from .constants import END, PUSH, START, branch_channel
from .errors import (
    ErrorCode,
    InvalidUpdateError,
    ParentCommand,
    UnknownTargetError,
    create_error_message,
)
from .schema import object_as_tuples
from .types import Command, Send

if TYPE_CHECKING:
    from .loop import Run


class UnknownRouteKeyError(UnknownTargetError, KeyError):
    """A conditional edge returned a key its ``path_map`` doesn't have. A ``KeyError``
    too, as in LangGraph, so ``except KeyError`` still catches it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def result_writes(graph: CompiledGraph, node: CNode, result: Any) -> list[tuple[str, Any]]:
    if result is None:
        return []
    keys = node.output_keys
    if type(result) is dict:
        if keys.issuperset(result):  # the usual case: every key is the schema's
            return list(result.items())
        writes = [(k, v) for k, v in result.items() if k in keys]
        if graph.warn_dropped_keys and len(writes) != len(result):
            _warn_dropped(node, [k for k in result if k not in keys])
        return writes
    if isinstance(result, Command):
        return command_writes(graph, node, result)
    if isinstance(result, (list, tuple)) and result and any(isinstance(r, Command) for r in result):
        writes = []
        for item in result:
            writes.extend(result_writes(graph, node, item))
        return writes
    if isinstance(result, dict):
        return [(k, v) for k, v in result.items() if k in keys]
    tuples = object_as_tuples(result, [k for k in graph.state_keys if k in keys])
    if tuples is not None:
        return tuples
    raise InvalidUpdateError(
        create_error_message(
            message=f"Expected dict, got {result}",
            error_code=ErrorCode.INVALID_GRAPH_NODE_RETURN_VALUE,
        ),
        ErrorCode.INVALID_GRAPH_NODE_RETURN_VALUE,
    )


def _warn_dropped(node: CNode, dropped: list[str]) -> None:
    warnings.warn(
        f"Node '{node.name}' returned key(s) {dropped} that are not in the state schema; "
        "they were dropped. Add them to the schema to keep them.",
        stacklevel=2,
    )


def command_writes(graph: CompiledGraph, node: CNode, cmd: Command) -> list[tuple[str, Any]]:
    if cmd.graph == Command.PARENT:
        raise ParentCommand(cmd)
    keys = node.output_keys
    writes = [(k, v) for k, v in cmd._update_as_tuples() if k in keys]
    goto = cmd.goto
    targets = [goto] if isinstance(goto, (Send, str)) else goto
    for target in targets:
        if isinstance(target, Send):
            writes.append((PUSH, target))
        elif isinstance(target, str):
            if target != END:
                writes.append((branch_channel(_check_target(graph, node, target, "Command(goto=...)")), None))
        else:
            raise InvalidUpdateError(
                f"Node '{node.name}' returned Command(goto={target!r}): goto takes node names "
                "or Send objects"
            )
    return writes


def _check_target(graph: CompiledGraph, node: CNode, target: str, how: str) -> str:
    dest = graph.nodes.get(target)
    if dest is None or dest.hidden:
        raise UnknownTargetError(
            f"Node '{node.name}' routed to unknown node '{target}' via {how}. Known nodes: "
            f"{', '.join(repr(n) for n in graph.node_names)}. (LangGraph drops such a route "
            "with a warning; swiftgraph refuses it.)"
        )
    return target


def fresh_state(run: Run, branch: CBranch, writes: list[tuple[str, Any]], returned: Any) -> Any:
    """What a conditional edge's path function receives: the state with its node's
    own writes applied (not its siblings'), as LangGraph's fresh read gives it.

    Keys come in schema order, except that a path function without an input schema
    of its own gets, as in LangGraph, the node's returned dict merged under the state
    (``{**returned, **state}``): the node's keys first, in the order it returned them,
    keys outside the schema included."""
    keys, mapper = branch.input_keys, branch.mapper
    values = run.values
    state = values.copy() if keys is None else {k: values[k] for k in keys if k in values}
    own: dict[str, list[Any]] = {}
    state_keys = run.graph.state_key_set
    for chan, value in writes:
        if chan in state_keys and (keys is None or chan in keys):
            own.setdefault(chan, []).append(value)
    fresh = False
    plain = run.graph.plain_keys
    for chan, vals in own.items():
        if chan in plain:  # no channel object (see algo.apply_writes)
            if len(vals) != 1:
                raise_two_values(chan)
            value = vals[0]
        else:
            ch = channel(run.graph, run.channels, chan).copy()  # type: ignore[union-attr]
            ch.update(vals)
            if not ch.is_available():
                continue
            value = ch.value
        fresh = fresh or chan not in state
        state[chan] = value
    if fresh:  # a key's first value: in schema order, as LangGraph reads the state
        schema_order(state, keys or run.graph.state_keys)
    if mapper is not None:
        return mapper(state)
    if branch.passthrough and isinstance(returned, dict):
        return {**returned, **state}
    return state


def route(graph: CompiledGraph, node: CNode, branch: CBranch, result: Any) -> list[tuple[str, Any]]:
    """A conditional edge's return value as trigger writes and Sends."""
    items = result if isinstance(result, (list, tuple)) else [result]
    if branch.ends is not None:
        dests: list[Any] = []
        for r in items:
            if isinstance(r, Send):
                dests.append(r)
                continue
            try:
                dests.append(branch.ends[r])
            except (KeyError, TypeError):
                raise UnknownRouteKeyError(
                    f"The conditional edge '{branch.name}' after node '{node.name}' returned "
                    f"{r!r}, which is not a key of its path_map {list(branch.ends)}."
                ) from None
    else:
        dests = list(items)
    writes: list[tuple[str, Any]] = []
    for dest in dests:
        if dest is None or dest == START:
            raise ValueError("Branch did not return a valid destination")
        if isinstance(dest, Send):
            if dest.node == END:
                raise InvalidUpdateError("Cannot send a packet to the END node")
            _check_target(graph, node, dest.node, f"Send from conditional edge '{branch.name}'")
            writes.append((PUSH, dest))
        elif dest != END:
            if not isinstance(dest, str):
                raise InvalidUpdateError(
                    f"The conditional edge '{branch.name}' after node '{node.name}' returned "
                    f"{dest!r}: return a node name, END, a list of them, or Send objects."
                )
            target = _check_target(graph, node, dest, f"conditional edge '{branch.name}'")
            writes.append((branch_channel(target), None))
    return writes
