"""Threads from the outside: ``get_state``, ``get_state_history``, ``update_state``.

These read checkpoints through the same restore path a resumed run uses, so what a
snapshot shows is exactly what a resume would start from. ``update_state`` writes a
checkpoint as if ``as_node`` had returned the values (its edges fire too); applied to
an old checkpoint it forks the thread: the new checkpoint becomes the latest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import syncbridge
from .constants import END, PULL, START
from .errors import InvalidUpdateError
from .types import PregelTask, StateSnapshot, StateUpdate

INPUT, COPY = "__input__", "__copy__"  # update_state's special nodes (as LangGraph's)
_ALONE = {  # ... each of which takes its superstep alone
    END: "Cannot apply multiple updates when clearing state",
    INPUT: "Cannot apply multiple updates when updating as input",
    COPY: "Cannot copy checkpoint with multiple updates",
}

if TYPE_CHECKING:
    from .persistence import Restored


class StateAPI:
    """Mixed into ``CompiledStateGraph``; needs ``self.checkpointer`` and ``self.graph``."""

    checkpointer: Any
    graph: Any

    def _saver(self) -> Any:
        if not self.checkpointer:
            raise ValueError("No checkpointer set: compile(checkpointer=InMemorySaver()) first.")
        return self.checkpointer

    def _reads_inline(self) -> bool:
        """Its saver's async reads are its sync ones (see syncbridge.run_sync)."""
        return getattr(self.checkpointer, "async_inline", False) is True

    @staticmethod
    def _where(config: dict[str, Any]) -> tuple[str, str, str | None]:
        conf = config.get("configurable") or {}
        if "thread_id" not in conf:
            raise KeyError("thread_id")  # as LangGraph; the config needs {"configurable": {"thread_id": ...}}
        return str(conf["thread_id"]), conf.get("checkpoint_ns", ""), conf.get("checkpoint_id")

    def _temp_run(self, thread_id: str, ns: str, saver: Any = None) -> Any:
        from .loop import Run
        from .persistence import Checkpointing

        run = Run(self, {"configurable": {"thread_id": thread_id}}, out_keys=self.graph.state_keys)
        run.checkpoint_with(Checkpointing(saver or self._saver(), thread_id, ns, "sync"))
        return run

    def _owner_of(self, ns: str) -> Any:
        """The graph whose checkpoints live under ``ns`` (``"child:<task id>|..."``).

        A subgraph node checkpoints under its own namespace, which a snapshot hands
        out as ``PregelTask.state``; as LangGraph, a config naming that namespace
        reads the subgraph's state, restored with the subgraph's channels (the
        parent's would misread it). A namespace naming no subgraph node reads this
        graph's channels, as LangGraph does."""
        owner = self
        for part in ns.split("|") if ns else ():
            node = owner.graph.nodes.get(part.split(":", 1)[0])
            sub = None if node is None else node.subgraph or node.invokes
            if sub is None:
                return self
            owner = sub
        return owner

    # --- get_state -------------------------------------------------------------------

    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state at its latest checkpoint (or at ``checkpoint_id``)."""
        return syncbridge.run_sync(
            lambda: self.aget_state(config, subgraphs=subgraphs), read_only=self._reads_inline()
        )

    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        thread_id, ns, checkpoint_id = self._where(config)
        saver = self._saver()
        owner = self._owner_of(ns)
        return await owner._state_at(saver, config, thread_id, ns, checkpoint_id, subgraphs)

    async def _state_at(
        self, saver: Any, config: dict[str, Any], thread_id: str, ns: str,
        checkpoint_id: str | None, subgraphs: bool,
    ) -> StateSnapshot:
        from .restore import load

        restored = await load(saver, thread_id, ns, checkpoint_id, with_writes=True)
        if restored is None:
            return StateSnapshot({}, (), config, None, None, None, (), ())
        return await self._snapshot(
            saver, restored, thread_id, ns, latest=checkpoint_id is None, subgraphs=subgraphs
        )

    async def _snapshot(
        self, saver: Any, restored: Restored, thread_id: str, ns: str, *, latest: bool,
        subgraphs: bool = False,
    ) -> StateSnapshot:
        from .algo import apply_writes
        from .persistence import ERROR
        from .restore import interrupts_of, pending_tasks, restore_into

        run = self._temp_run(thread_id, ns, saver)
        restore_into(run, restored)
        tasks = _snapshot_order(self.graph, pending_tasks(run, restored))
        shown: list[PregelTask] = []
        all_interrupts: list[Any] = []
        for task in tasks:
            saved = run.saved.get(task.id, [])
            if latest:
                its = tuple(interrupts_of(saved, len(run.resumes.get(task.id, ()))))
            else:
                its = tuple(interrupts_of(saved))
            all_interrupts.extend(its)
            error = next((v for c, v in saved if c == ERROR), None)  # the repr, as LangGraph
            result = None
            if task.done:
                result = {c: v for c, v in task.writes if c in self.graph.state_key_set}
            state = None
            sub = task.node.subgraph or task.node.invokes
            if sub is not None:
                state = await _subgraph_state(sub, saver, thread_id, ns, task, subgraphs)
            shown.append(PregelTask(task.id, task.name, task.path, error, its, state, result))
        done = [t for t in tasks if t.done]
        if latest and done:
            apply_writes(self.graph, run.channels, done, run.values, set(), set(), frozenset(), None)
            tasks = [t for t in tasks if not t.done]
        record = restored.record
        parents = record.metadata.get("parents")
        values = run.read_output()
        return StateSnapshot(
            values=values if values is not None else {},
            next=tuple(t.name for t in tasks),
            config=_config(thread_id, ns, record.checkpoint_id, parents),
            metadata=dict(record.metadata),
            created_at=record.created_at,
            parent_config=_config(thread_id, ns, record.parent_id, parents) if record.parent_id else None,
            tasks=tuple(shown),
            interrupts=tuple(all_interrupts),
        )

    # --- history ---------------------------------------------------------------------

    def get_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first."""
        return iter(
            syncbridge.run_sync(
                lambda: self._history(config, filter=filter, before=before, limit=limit),
                read_only=self._reads_inline(),
            )
        )

    async def aget_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        for snap in await self._history(config, filter=filter, before=before, limit=limit):
            yield snap

    async def _history(
        self, config: dict[str, Any], *, filter: Any, before: Any, limit: int | None
    ) -> list[StateSnapshot]:
        from .restore import load

        saver = self._saver()
        thread_id, ns, checkpoint_id = self._where(config)
        owner = self._owner_of(ns)
        before_id = ((before or {}).get("configurable") or {}).get("checkpoint_id") or checkpoint_id
        out: list[StateSnapshot] = []
        if limit is not None and limit <= 0:  # as LangGraph: nothing, not one
            return out
        if checkpoint_id is not None and before is None:
            # as LangGraph's savers: a config naming a checkpoint lists just that one
            first = await saver.aget(thread_id, ns, checkpoint_id)
            records = [first] if first is not None else []
        else:
            records = await saver.alist(thread_id, ns, before=before_id)
        for record in records:
            if filter and any(record.metadata.get(k) != v for k, v in filter.items()):
                continue
            restored = await load(saver, thread_id, ns, record.checkpoint_id, with_writes=True)
            out.append(await owner._snapshot(saver, restored, thread_id, ns, latest=False))  # type: ignore[arg-type]
            if limit is not None and len(out) >= limit:
                break
        return out

    # --- update_state ----------------------------------------------------------------

    def update_state(
        self, config: dict[str, Any], values: Any, as_node: str | None = None, task_id: str | None = None
    ) -> dict[str, Any]:
        """Write ``values`` as if ``as_node`` returned them; returns the new checkpoint's
        config. ``as_node`` may also be one of LangGraph's three special names:
        ``END`` with ``values=None`` clears the pending tasks (the finished ones' writes
        are kept), ``"__input__"`` saves ``values`` as new input for ``START``, and
        ``"__copy__"`` copies the checkpoint (then applies ``values``, a list of
        ``(values, as_node)`` updates, if given)."""
        return self.bulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    async def aupdate_state(
        self, config: dict[str, Any], values: Any, as_node: str | None = None, task_id: str | None = None
    ) -> dict[str, Any]:
        return await self.abulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    def bulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate | tuple[Any, ...]]]
    ) -> dict[str, Any]:
        """Apply ``supersteps`` in turn, one checkpoint each: a superstep's updates
        (``StateUpdate``s or ``(values, as_node[, task_id])`` tuples) are applied
        together, in the order given, as the tasks of one step would be."""
        return syncbridge.run_sync(lambda: self.abulk_update_state(config, supersteps))

    async def abulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate | tuple[Any, ...]]]
    ) -> dict[str, Any]:
        if len(supersteps) == 0:
            raise ValueError("No supersteps provided")
        if any(len(updates) == 0 for updates in supersteps):
            raise ValueError("No updates provided")
        thread_id, ns, checkpoint_id = self._where(config)
        # a subgraph's namespace is updated by the subgraph (its channels and nodes)
        owner, saver = self._owner_of(ns), self._saver()
        out = config
        for updates in supersteps:
            out = await owner._update_at(
                saver, thread_id, ns, checkpoint_id, [StateUpdate(*u) for u in updates]
            )
            checkpoint_id = out["configurable"]["checkpoint_id"]
        return out

    async def _update_at(
        self, saver: Any, thread_id: str, ns: str, checkpoint_id: str | None,
        updates: list[StateUpdate],
    ) -> dict[str, Any]:
        """One superstep of updates, saved as one checkpoint (see update_state)."""
        from .restore import load, pending_tasks, restore_into

        run = self._temp_run(thread_id, ns, saver)
        restored = await load(saver, thread_id, ns, checkpoint_id, with_writes=True)
        if restored is not None:
            run.cp.parents = dict(restored.record.metadata.get("parents") or {})
            restore_into(run, restored)
            pending = pending_tasks(run, restored)
            latest = checkpoint_id is None or checkpoint_id == (
                await saver.aget(thread_id, ns, None)
            ).checkpoint_id
        else:
            run.step = 0
            pending, latest = [], False
        values, as_node = updates[0].values, updates[0].as_node
        if as_node in _ALONE and (values is None or as_node != END):
            if len(updates) > 1:
                raise InvalidUpdateError(_ALONE[as_node])
            if as_node == END:
                record = await self._clear(run, pending)
            elif as_node == INPUT:
                record = await self._as_input(run, restored, values)
            else:
                record = await self._copy(run, restored)
                if isinstance(values, list) and values:
                    for item in values:
                        if not isinstance(item, Sequence) or isinstance(item, str):
                            raise InvalidUpdateError(f"Invalid update item: {item} when copying checkpoint")
                    return await self._update_at(
                        saver, thread_id, ns, record.checkpoint_id, [StateUpdate(*i[:2]) for i in values]
                    )
            return _config(thread_id, ns, record.checkpoint_id, run.cp.parents)
        if len(updates) == 1 and as_node is None:
            as_node = _last_writer(restored) if restored is not None else START
            if as_node is None and restored is not None and restored.record.parent_id:
                as_node = await _last_pulled(saver, thread_id, ns, restored.record.parent_id)
            if as_node is None:
                raise InvalidUpdateError(
                    "Ambiguous update, specify as_node: several nodes ran in the last step "
                    f"(nodes: {', '.join(self.graph.node_names)})"
                )
            updates = [StateUpdate(values, as_node, updates[0].task_id)]
        elif any(u.as_node is None for u in updates):
            raise InvalidUpdateError("as_node is required when applying multiple updates")
        tasks = [await self._update_task(run, i, u) for i, u in enumerate(updates)]
        record = await self._apply(run, tasks, "update", sorted({t.name for t in tasks}))
        if latest:
            await _stand_in(run, pending, updates, tasks)
        return _config(thread_id, ns, record.checkpoint_id, run.cp.parents)

    async def _update_task(self, run: Any, index: int, update: StateUpdate) -> Any:
        """The stand-in task of one update: ``update.values`` as what its node returned,
        through its static writes and routing functions. A ``Send`` kind keyed by the
        update's index, so that a step of updates applies in the order given."""
        from .compiled_types import Task
        from .constants import PUSH
        from .writes import fresh_state, result_writes, route

        graph, as_node, values = self.graph, update.as_node, update.values
        node = graph.nodes.get(as_node) if as_node != START else graph.nodes[START]
        if node is None:
            raise InvalidUpdateError(
                f"update_state(as_node={as_node!r}): no such node. Known nodes: "
                f"{', '.join(repr(n) for n in graph.node_names)}."
            )
        task = Task(node, PUSH, index, values, (), run.step)
        task.run = run
        writes = result_writes(graph, node, values)
        writes.extend(node.static_writes)
        for branch in node.branches:
            state = fresh_state(run, branch, writes, values)
            out = branch.fn.fn(state)
            if hasattr(out, "__await__"):
                out = await out
            writes.extend(route(graph, node, branch, out))
        task.writes = writes
        return task

    async def _apply(self, run: Any, tasks: list[Any], source: str, ran: list[str] | None) -> Any:
        """Apply ``tasks``' writes as one step and save the checkpoint it makes."""
        from .algo import apply_writes

        _, sends, _ = apply_writes(
            self.graph, run.channels, tasks, run.values, run.live_triggers, run.deferred,
            frozenset(), run.step_writes,
        )
        record = run.cp.make_record(
            run, source=source, step=run.step, by_channel=run.step_writes, sends=sends, ran=ran,
        )
        await run.cp.saver.aput(record)
        return record

    async def _clear(self, run: Any, pending: list[Any]) -> Any:
        """``update_state(config, None, as_node=END)``: the pending tasks are dropped,
        the writes of those that finished applied, as LangGraph's "clear all tasks"."""
        return await self._apply(run, pending, "update", None)

    async def _as_input(self, run: Any, restored: Restored | None, values: Any) -> Any:
        """``as_node="__input__"``: ``values`` saved as a run's input checkpoint, so
        ``invoke(None)`` runs ``START`` with them (the state is left as it was)."""
        if values is None:
            raise InvalidUpdateError(f"Received no input writes for {START}")
        run.step = restored.record.step + 1 if restored is not None else -1
        record = run.cp.make_record(run, source="input", step=run.step, by_channel=None, sends=[], start=values)
        await run.cp.saver.aput(record)
        return record

    async def _copy(self, run: Any, restored: Restored | None) -> Any:
        """``as_node="__copy__"``: the checkpoint again, as a fork beside it (the same
        parent, values and next tasks; none of its pending writes)."""
        import dataclasses

        if restored is None:
            raise InvalidUpdateError("Cannot copy a non-existent checkpoint")
        record = run.cp.make_record(
            run, source="fork", step=restored.record.step + 1, by_channel=None,
            sends=restored.sends, start=restored.start, ran=restored.ran,
        )
        record = dataclasses.replace(record, parent_id=restored.record.parent_id)
        await run.cp.saver.aput(record)
        return record


async def _stand_in(run: Any, pending: list[Any], updates: list[StateUpdate], tasks: list[Any]) -> None:
    """Save updates as the results of the tasks they replace, as LangGraph does.

    ``update_state(as_node=n)`` while ``n`` is a pending task of the thread's latest
    checkpoint (stopped before it by a breakpoint, or paused in its ``interrupt()``)
    says what ``n`` returned: LangGraph saves the update's writes against that
    checkpoint under the task's id, so the history shows them as the task's result.
    The k-th update as ``n`` stands in for ``n``'s k-th task (those Sends started
    first), or for the task ``task_id`` names. The new checkpoint holds the updated
    state either way; these rows only fill in the step it replaced. Left alone: a
    checkpoint the thread has moved past (an update there forks, and the old step
    keeps what it had) and a task that has writes of its own (they are never mixed
    with an update's). Sends are not repeated here: they already travel with the new
    checkpoint.
    """
    from .constants import PUSH

    taken: dict[str, int] = {}
    for update, stand_in in zip(updates, tasks):
        if update.task_id is not None:
            task = next((t for t in pending if t.id == update.task_id), None)
        else:
            name = stand_in.name
            mine = sorted((t for t in pending if t.name == name), key=lambda t: t.kind is PULL)
            k = taken[name] = taken.get(name, -1) + 1
            task = mine[k] if k < len(mine) else None
        rows = [(c, v) for c, v in stand_in.writes if c is not PUSH]
        if task is not None and not task.done and rows:
            await run.cp.save_writes(task.base, task, rows)


def _last_writer(restored: Restored) -> str | None:
    ran = restored.ran
    if ran is None:
        return START if restored.record.metadata.get("source") == "input" else None
    return ran[0] if len(ran) == 1 else None


async def _last_pulled(saver: Any, thread_id: str, ns: str, parent_id: str) -> str | None:
    """The one node that ran from an edge in the step that made a checkpoint, if one
    did: LangGraph infers ``update_state``'s ``as_node`` from the channel versions
    nodes have seen, which ``Send`` tasks don't record, so a step of Sends beside one
    edge-triggered node updates as that node. The step's tasks are read from the
    writes they saved against the checkpoint it started from."""
    prefix = f"~{PULL}, "
    names = {
        w.task_path[len(prefix):]
        for w in await saver.aget_writes(thread_id, ns, parent_id)
        if w.task_path.startswith(prefix)
    }
    return names.pop() if len(names) == 1 else None


def _config(
    thread_id: str, ns: str, checkpoint_id: str | None, parents: dict[str, str] | None = None
) -> dict[str, Any]:
    """A snapshot's config; a subgraph's also maps each enclosing namespace to its
    checkpoint (``checkpoint_map``: the metadata's ``parents`` plus its own), as
    LangGraph's do."""
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}
    if parents:
        conf["checkpoint_map"] = {**parents, ns: checkpoint_id}
    return {"configurable": conf}


def _snapshot_order(graph: Any, tasks: list[Any]) -> list[Any]:
    """Tasks as LangGraph lists them in a snapshot: ``Send`` tasks first, by index,
    then edge-triggered ones in the order their nodes were added (a running step
    orders those by name instead, see :func:`.algo.plan`). Only what is shown
    changes: writes are still applied in :meth:`Task.sort_key`'s order."""
    order = graph.node_order
    return sorted(tasks, key=lambda t: (1, order.get(t.name, 0)) if t.kind is PULL else (0, 0))


async def _subgraph_state(
    sub: Any, saver: Any, thread_id: str, ns: str, task: Any, recurse: bool
) -> Any:
    """``PregelTask.state`` of a subgraph node's task, as LangGraph fills it: the
    config of the namespace the subgraph checkpoints under (pass it to ``get_state``
    to read the subgraph), or with ``get_state(subgraphs=True)`` the subgraph's own
    latest snapshot, recursively."""
    from .taskinfo import subgraph_ns

    task_ns = subgraph_ns(task)
    if ns:
        task_ns = f"{ns}|{task_ns}"
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": task_ns}}
    if not recurse:
        return config
    return await sub._state_at(saver, config, thread_id, task_ns, None, True)
