"""Threads from the outside: ``get_state``, ``get_state_history``, ``update_state``.

These read checkpoints through the same restore path a resumed run uses, so what a
snapshot shows is exactly what a resume would start from. ``update_state`` writes a
checkpoint as if ``as_node`` had returned the values (its edges fire too); applied to
an old checkpoint it forks the thread: the new checkpoint becomes the latest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from . import syncbridge
from .constants import PULL, START
from .errors import InvalidUpdateError
from .types import PregelTask, StateSnapshot

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
        run.cp = Checkpointing(saver or self._saver(), thread_id, ns, "sync")
        run.step_writes = {}
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
        from .persistence import load

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
        from .persistence import ERROR, interrupts_of, pending_tasks, restore_into

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
        from .persistence import load

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
        """Write ``values`` as if ``as_node`` returned them; returns the new checkpoint's config."""
        return syncbridge.run_sync(lambda: self.aupdate_state(config, values, as_node))

    async def aupdate_state(
        self, config: dict[str, Any], values: Any, as_node: str | None = None, task_id: str | None = None
    ) -> dict[str, Any]:
        thread_id, ns, checkpoint_id = self._where(config)
        # a subgraph's namespace is updated by the subgraph (its channels and nodes)
        owner = self._owner_of(ns)
        return await owner._update_at(self._saver(), thread_id, ns, checkpoint_id, values, as_node)

    async def _update_at(
        self, saver: Any, thread_id: str, ns: str, checkpoint_id: str | None, values: Any,
        as_node: str | None,
    ) -> dict[str, Any]:
        from .algo import apply_writes
        from .compiled_types import Task
        from .persistence import load, pending_tasks, restore_into
        from .writes import fresh_state, result_writes, route

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
        graph = self.graph
        if as_node is None:
            as_node = _last_writer(restored) if restored is not None else START
            if as_node is None and restored is not None and restored.record.parent_id:
                as_node = await _last_pulled(saver, thread_id, ns, restored.record.parent_id)
        if as_node is None:
            raise InvalidUpdateError(
                "Ambiguous update, specify as_node: several nodes ran in the last step "
                f"(nodes: {', '.join(graph.node_names)})"
            )
        node = graph.nodes.get(as_node) if as_node != START else graph.nodes[START]
        if node is None:
            raise InvalidUpdateError(
                f"update_state(as_node={as_node!r}): no such node. Known nodes: "
                f"{', '.join(repr(n) for n in graph.node_names)}."
            )
        task = Task(node, PULL, as_node, values, (), run.step)
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
        _, sends, _ = apply_writes(
            graph, run.channels, [task], run.values, run.live_triggers, run.deferred,
            frozenset(), run.step_writes,
        )
        record = run.cp.make_record(
            run, source="update", step=run.step, by_channel=run.step_writes, sends=sends,
            ran=[as_node],
        )
        await saver.aput(record)
        if latest:
            await _stand_in(run, pending, as_node, writes)
        return _config(thread_id, ns, record.checkpoint_id, run.cp.parents)


async def _stand_in(
    run: Any, pending: list[Any], as_node: str, writes: list[tuple[str, Any]]
) -> None:
    """Save an update as the result of the task it replaces, as LangGraph does.

    ``update_state(as_node=n)`` while ``n`` is the pending task of the thread's latest
    checkpoint (stopped before it by a breakpoint, or paused in its ``interrupt()``)
    says what ``n`` returned: LangGraph saves the update's writes against that
    checkpoint under the task's id, so the history shows them as the task's result.
    The new checkpoint holds the updated state either way; these rows only fill in
    the step it replaced. Left alone: a checkpoint the thread has moved past (an
    update there forks, and the old step keeps what it had) and a task that has
    writes of its own (they are never mixed with an update's). Sends are not
    repeated here: they already travel with the new checkpoint.
    """
    from .constants import PUSH

    # the first of as_node's tasks in LangGraph's order: those Sends started come first
    mine = [t for t in pending if t.name == as_node]
    task = min(mine, key=lambda t: t.kind is PULL, default=None)
    rows = [(c, v) for c, v in writes if c is not PUSH]
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
    task_ns = f"{task.name}:{task.id}"
    if ns:
        task_ns = f"{ns}|{task_ns}"
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": task_ns}}
    if not recurse:
        return config
    return await sub._state_at(saver, config, thread_id, task_ns, None, True)
