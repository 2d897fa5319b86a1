"""Node and task caching: how a run uses the ``BaseCache`` given to ``compile(cache=...)``
or ``@entrypoint(cache=...)``.

Only runs with a cache come here: ``Run.cache`` is ``None`` otherwise, and the loop
checks it once per superstep and once per ``@task`` call, so a graph without a cache
pays nothing more. What LangGraph 1.2.22 does, and so this module:

- A task is cached when its node or ``@task`` has a ``CachePolicy``, or its graph a
  default one (``@entrypoint(cache_policy=...)`` covers the entrypoint and each task it
  calls that has none of its own).
- Its entry lives in the namespace ``("__pregel_ns_writes", <module.qualname of the
  function, or "__dynamic__">, <node name>)`` (a ``@task``'s has no node name), under
  a hash of ``key_func(input)``: ``clear(namespaces)`` can forget one node's results.
- A step looks up all its cached tasks at once, before any of them runs. A hit doesn't
  run: its saved writes (state updates, edge triggers, ``Send``s, so the routing too)
  count as if it had just finished; the ``updates`` stream marks it with
  ``"__metadata__": {"cached": True}``, the ``tasks``/``debug`` streams show its start
  but no result.
- A miss runs, and its writes are stored as soon as it finishes, unless it failed, was
  interrupted or wrote nothing.

Entries hold the writes as plain data (a ``Send`` as ``[node, arg]``), serialized by
the cache's serde: typed JSON by default, never pickle.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from .constants import MISSING, PUSH
from .timeline import LIVE_END, LIVE_OUTCOME, LIVE_OUTPUT, live_entry
from .types import Send

if TYPE_CHECKING:
    from .callables import UserFn
    from .compiled_types import CompiledGraph, Task
    from .loop import Run

CACHE_NS = "__pregel_ns_writes"
DYNAMIC = "__dynamic__"

Entry = tuple[tuple[tuple[str, ...], str], "int | None"]  # ((namespace, key), ttl)


# --- namespaces and keys ---------------------------------------------------------------


def identifier(obj: Any) -> str | None:
    """``module.qualname`` of a function, as LangGraph names cache namespaces; ``None``
    for what has no stable name (a ``functools.partial``, a callable object)."""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    module = getattr(obj, "__module__", None)
    if name is None or module is None:
        return None
    return f"{module}.{name}"


def node_namespace(name: str, fn: UserFn | None) -> tuple[str, ...]:
    """A graph node's (or an entrypoint's) namespace. LangGraph names async functions
    and subgraphs ``__dynamic__`` (it only looks at the sync callable); so does this."""
    ident = None if fn is None or fn.is_async else identifier(fn.fn)
    return (CACHE_NS, ident or DYNAMIC, name)


def task_namespace(func: Any) -> tuple[str, ...]:
    """A ``@task``'s namespace: its function's name, sync or async."""
    return (CACHE_NS, identifier(func) or DYNAMIC)


def entry_for(run: Run, task: Task) -> Entry | None:
    """The cache key and ttl of a task, or ``None`` if it isn't cached."""
    node = task.node
    policy = node.cache_policy if node.cache_policy is not None else run.graph.cache_policy
    if policy is None:
        return None
    if node.call_args:
        args, kwargs = task.input
        raw = policy.key_func(*args, **kwargs)
    else:
        raw = policy.key_func(task.input)
    if isinstance(raw, str):
        raw = raw.encode()
    return (node.cache_ns, hashlib.blake2b(raw, digest_size=16).hexdigest()), policy.ttl


def namespaces(graph: CompiledGraph, names: Sequence[str] | None) -> list[tuple[str, ...]]:
    """The namespaces of the named nodes (all when ``names`` is empty), for ``clear_cache``."""
    by_name = {node.name: node for node in graph.nodes.values() if not node.hidden}
    return [by_name[n].cache_ns for n in (names or graph.node_names) if n in by_name]


# --- entries ---------------------------------------------------------------------------


def encode(writes: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Writes as plain data a serializer takes (``Send`` isn't one of its types)."""
    return [(c, [v.node, v.arg]) if c is PUSH else (c, v) for c, v in writes]


def decode(value: list[Any]) -> list[tuple[str, Any]]:
    """Back to writes; the loop tells Sends by identity (``chan is PUSH``)."""
    return [(PUSH, Send(v[0], v[1])) if c == PUSH else (c, v) for c, v in value]


async def store(run: Run, task: Task, entry: Entry, writes: Sequence[tuple[str, Any]]) -> None:
    """Save a finished task's writes (none: nothing to save, as LangGraph)."""
    if not writes:
        return
    full, ttl = entry
    try:
        await run.cache.aset({full: (encode(writes), ttl)})
    except Exception as exc:
        exc.add_note(f"While saving the writes of task '{task.name}' to the cache")
        raise


# --- the two places the loop asks --------------------------------------------------------


async def serve_step(
    run: Run, tasks: list[Task]
) -> tuple[list[Task], Callable[[Task, bool], Coroutine[Any, Any, None]] | None]:
    """Finish the step's tasks found in the cache; return the tasks left to run and
    how to run each: ``bodies.run_task`` (None), or that and then store its writes if
    it is cached."""
    entries: dict[Task, Entry] = {}
    # LangGraph looks up one task per key, the last to ask, so others with the same
    # key run; hits are served in the order their keys first came up
    asking: dict[Any, Task] = {}
    for task in tasks:
        entry = entry_for(run, task)
        if entry is not None:
            entries[task] = entry
            asking[entry[0]] = task
    if not entries:
        return tasks, None
    found = await run.cache.aget(list(asking))
    for full, task in asking.items():
        if full in found:
            await _served(run, task, decode(found[full]))
    left = [task for task in tasks if not task.done]

    from .bodies import run_task  # (bodies imports this module)

    async def run_and_store(task: Task, alone: bool = False) -> None:
        await run_task(run, task, alone)
        entry = entries.get(task)
        if entry is not None and task.done:
            await store(run, task, entry, task.writes)

    return left, run_and_store


async def _served(run: Run, task: Task, writes: list[tuple[str, Any]]) -> None:
    """A step's task served from the cache: done, with its saved writes."""
    task.writes = writes
    task.done = True
    node = task.node
    if run.timeline is not None and not node.hidden:
        now = time.perf_counter()
        live = run.timeline
        record = live_entry(live, task, now)
        live[record + LIVE_END] = now
        live[record + LIVE_OUTCOME] = "cached"
        live[record + LIVE_OUTPUT] = writes
    if run.cp is not None:
        await run.cp.save_writes(task.base, task, writes)
    if "updates" in run.modes and not node.hidden:
        from .events import update_chunk

        chunk = writes[0][1] if node.returns else update_chunk(run, writes)
        run.emit("updates", {node.name: chunk, "__metadata__": {"cached": True}})


async def serve_call(run: Run, task: Task, entry: Entry, record: int | None) -> Any:
    """A ``@task`` call's cached return value, or ``MISSING`` to run it."""
    full = entry[0]
    found = await run.cache.aget([full])
    if full not in found:
        return MISSING
    writes = decode(found[full])  # [("__return__", value)]
    value = writes[0][1]
    if record is not None:
        from .bodies import ended  # (bodies imports this module)

        ended(run, record, "cached", value)
    if run.cp is not None:
        await run.cp.save_writes(task.base, task, writes)
    if "updates" in run.modes:
        run.emit("updates", {task.node.name: value, "__metadata__": {"cached": True}})
    return value
