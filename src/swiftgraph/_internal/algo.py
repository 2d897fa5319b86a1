"""The superstep algorithm as pure functions over a run's channels.

A superstep (1) runs every task planned for it on the state as it was when the step
began, then (2) applies all their writes at once, in a deterministic order: tasks
triggered by edges sorted by node name, then ``Send`` tasks in the order sent. The
two functions here are that algorithm; :mod:`.loop` only drives them.

Both do work in proportion to what the step touched, never to the size of the
graph: ``plan`` looks only at the nodes listening to channels that were just
written, and ``apply_writes`` visits only the channels written.

A run holds channel objects only where a value needs one (reducer keys, join
barriers, deferred triggers). A plain key lives in the run's ``values`` dict alone
(``apply_writes`` enforces its one-write-per-step rule), and an edge trigger
(``branch:to:X``), which carries ``None`` for exactly one step, is a name in the
step's ``updated`` set (and in the run's ``live_triggers``, for its checkpoint, when
checkpointed): thousands of live runs then hold a few objects each.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from .channels import Channel, raise_two_values
from .compiled_types import CNode, CompiledGraph, Task
from .constants import MISSING, PULL, PUSH
from .errors import UnknownTargetError
from .types import Send


def plan(
    graph: CompiledGraph,
    channels: Mapping[str, Channel],
    updated: AbstractSet[str],
    sends: list[Send],
    values: dict[str, Any],
    step: int,
) -> list[Task]:
    """The tasks of the next superstep, in the order LangGraph plans a running step:
    ``Send`` tasks by index, then edge-triggered tasks by node name. Callers see that
    order (task events, the ``checkpoints`` stream's ``next``); the order writes are
    applied in is :meth:`Task.sort_key`'s, not this one.

    A node runs when one of its trigger channels (its ``branch:to:`` edge trigger,
    a join barrier, a deferred trigger) is available; only channels updated in the
    last step (``updated``) can have become available, so only their listeners are
    checked. An edge trigger is available exactly when it is in ``updated``."""
    trigger_to_nodes = graph.trigger_to_nodes
    candidates: Collection[str]
    if len(updated) == 1:
        for only in updated:
            candidates = trigger_to_nodes.get(only, ())
        if len(candidates) > 1:
            candidates = sorted(candidates)
    else:
        candidates = {n for ch in updated for n in trigger_to_nodes.get(ch, ())}
        if len(candidates) > 1:
            candidates = sorted(candidates)
    nodes = graph.nodes
    tasks: list[Task] = []
    for idx, send in enumerate(sends):
        target = nodes.get(send.node)
        if target is None or target.hidden:
            raise UnknownTargetError(
                f"Send to unknown node '{send.node}'. Known nodes: "
                f"{', '.join(repr(n) for n in graph.node_names)}."
            )
        tasks.append(Task(target, PUSH, idx, send.arg, (PUSH,), step))
    ephemeral = graph.ephemeral
    for name in candidates:
        node = nodes[name]
        node_triggers = node.triggers
        if len(node_triggers) == 1:
            t = node_triggers[0]
            # a candidate listens to an updated channel: its only trigger is that one
            if t in ephemeral or ((ch := channels.get(t)) is not None and ch.is_available()):
                triggers: tuple[str, ...] = node_triggers
            else:
                triggers = ()
        else:
            triggers = tuple(
                t for t in node_triggers
                if (t in updated if t in ephemeral else (c := channels.get(t)) is not None and c.is_available())
            )
        if triggers:
            try:
                state = read_input(node, values)
            except Exception as exc:
                exc.add_note(f"Before task with name '{name}' and path '{(PULL, name)}'")
                raise
            tasks.append(Task(node, PULL, name, state, triggers, step))
    return tasks


def read_input(node: CNode, values: dict[str, Any]) -> Any:
    """What a node receives: the state keys of its input schema, as a fresh dict
    (or schema instance), so a node mutating its input can't touch the run's state."""
    keys = node.input_keys
    if keys is None:
        state = values.copy()
    else:
        state = {k: values[k] for k in keys if k in values}
    mapper = node.mapper
    return state if mapper is None else mapper(state)


def schema_order(values: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Put ``values`` (in place) in the order of ``keys``, the state schema's.

    LangGraph reads a node's input, a ``values`` chunk or a snapshot's values channel
    by channel in schema order, skipping keys without a value; ``values`` holds a key
    from its first value on, so a key first written after a key declared below it
    (a reducer key has a value from the start) would otherwise come out of order,
    and users see dict order (printing, ``json.dumps``, ``list(state)``)."""
    items = [(k, values[k]) for k in keys if k in values]
    values.clear()
    values.update(items)


def channel(graph: CompiledGraph, channels: dict[str, Channel], name: str) -> Channel | None:
    """A run's channel, created on first use: a run of a large graph only pays for
    the channels it actually writes. Edge triggers and plain keys have none (see
    apply_writes)."""
    ch = channels.get(name)
    if ch is None:
        proto = graph.channels.get(name)
        if proto is None or name in graph.ephemeral or name in graph.plain_keys:
            return None
        ch = channels[name] = proto.new()
    return ch


def apply_writes(
    graph: CompiledGraph,
    channels: dict[str, Channel],
    tasks: list[Task],
    values: dict[str, Any],
    live_triggers: set[str] | None,
    deferred: set[str],
    output_keys: frozenset[str],
    record: dict[str, list[Any]] | None = None,
) -> tuple[set[str], list[Send], bool]:
    """Apply one superstep's writes; return (triggers now available, sends, output touched).

    ``values`` mirrors the state channels' values, in schema order, and is kept in
    step here. ``live_triggers``, when given (a checkpoint keeps them), receives the
    edge triggers written in the step, by name: they carry nothing but ``None`` and
    expire after one step, so they need no channel object. ``deferred`` holds
    after-finish triggers waiting for the graph to go quiet. ``record``, when given,
    receives the state-key writes (for checkpoints)."""
    if len(tasks) > 1:
        tasks = sorted(tasks, key=Task.sort_key)
    by_channel: dict[str, list[Any]] = {}
    sends: list[Send] = []
    for task in tasks:
        if task.kind is PULL and task.node.held:  # the join barriers, deferred triggers
            for chan in task.triggers:  # that started it are spent (not an update_state
                ch = channels.get(chan)  # "task", which no trigger started; edge
                if ch is not None:  # triggers have no channel to consume)
                    ch.consume()
        for chan, value in task.writes:
            if chan is PUSH:
                sends.append(value)
                continue
            bucket = by_channel.get(chan)
            if bucket is None:
                by_channel[chan] = [value]
            else:
                bucket.append(value)
    output_touched = not output_keys.isdisjoint(by_channel)
    if live_triggers is not None:
        live_triggers.clear()  # edge triggers written last step expire, unless written again
    updated: set[str] = set()
    state_keys, plain_keys, ephemeral = graph.state_key_set, graph.plain_keys, graph.ephemeral
    reorder = False
    for chan, vals in by_channel.items():
        if chan in state_keys:
            if record is not None:
                record[chan] = vals
            if chan in plain_keys:  # no channel object: its value is in ``values``
                if len(vals) != 1:
                    raise_two_values(chan)
                value = vals[0]
            elif not (ch := channels[chan]).update(vals) or (value := ch.value) is MISSING:
                continue
            if chan not in values and values:  # a key's first value
                rank = graph.key_rank
                reorder = reorder or rank[chan] < rank[next(reversed(values))]
            values[chan] = value
            continue
        if chan in ephemeral:
            updated.add(chan)
            if live_triggers is not None:
                live_triggers.add(chan)
            continue
        ch = channels.get(chan) or channel(graph, channels, chan)
        if ch is None:
            continue
        if ch.update(vals) and ch.is_available():  # a join barrier, complete
            updated.add(chan)
        elif chan in graph.deferred_channels:
            deferred.add(chan)
    if reorder:  # a key first written after a key declared below it
        schema_order(values, graph.state_keys)
    # a step that triggers nothing lets deferred nodes run
    if deferred and not updated:
        for chan in list(deferred):
            ch = channels[chan]
            if ch.finish() and ch.is_available():
                updated.add(chan)
            deferred.discard(chan)
    return updated, sends, output_touched
