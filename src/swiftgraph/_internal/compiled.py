"""``CompiledStateGraph``: a built graph, ready to run any number of times.

``compile_graph`` turns the builder's record into a :class:`CompiledGraph` (plain
indexed structures); the class below is the runnable face users call. Every entry
point (invoke, ainvoke, stream, astream, batch, abatch) goes through
:meth:`CompiledStateGraph._astream_events` or :meth:`_arun`, which drive one
:class:`.loop.Run`.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from . import syncbridge
from .builder import NodeSpec, StateGraph
from .caching import namespaces, node_namespace
from .callables import UserFn, named_objects, node_error_param
from .channels import (
    BinaryOperatorAggregate,
    Channel,
    EphemeralValue,
    LastValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
)
from .compiled_types import CBranch, CNode, CompiledGraph
from .constants import DEFAULT_ERROR_HANDLER, END, INTERRUPT, START, branch_channel, join_channel
from .context import CURRENT_TASK
from .errors import GraphDefinitionError
from .loop import Run
from .schema import input_mapper, is_pydantic_model, schema_keys
from .state_api import StateAPI
from .timeline import LiveTimeline, Timeline
from .timeouts import sync_timeout_unsupported
from .types import Command

StateT = TypeVar("StateT")
ContextT = TypeVar("ContextT")
InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")

_STREAM_MODES = frozenset({"values", "updates", "custom", "debug", "tasks", "checkpoints", "messages"})


def compile_graph(builder: StateGraph, **options: Any) -> CompiledStateGraph:
    state_keys = tuple(k for k in builder.channels)
    channels: dict[str, Channel] = {k: builder.channels[k] for k in state_keys}
    state_set = frozenset(state_keys)
    nodes: dict[str, CNode] = {}
    input_keys = builder.schemas[builder.input_schema]

    def keys_of(schema: Any) -> tuple[str, ...] | None:
        keys = builder.schemas.get(schema) or schema_keys(schema)
        return None if set(keys) == state_set and len(keys) == len(state_keys) else tuple(keys)

    nodes[START] = CNode(
        name=START,
        fn=None,
        subgraph=None,
        triggers=(START,),
        input_keys=None,
        mapper=None,
        output_keys=frozenset(input_keys),
        static_writes=(),
        branches=(),
        hidden=True,
    )
    deferred: set[str] = set()
    node_specs = dict(builder.nodes)
    defaults = builder.node_defaults  # (set_node_defaults: for nodes without their own)
    default_handler = None
    if defaults.get("error_handler") is not None:  # a node of its own, as LangGraph's
        if DEFAULT_ERROR_HANDLER in node_specs:
            raise GraphDefinitionError(
                f"Auto-generated default error handler node `{DEFAULT_ERROR_HANDLER}` already exists."
            )
        default_handler = DEFAULT_ERROR_HANDLER
        node_specs[default_handler] = NodeSpec(
            default_handler, defaults["error_handler"], builder.state_schema, is_error_handler=True
        )
    for name, spec in node_specs.items():
        trigger = branch_channel(name)
        if spec.defer:
            channels[trigger] = LastValueAfterFinish(trigger)
            deferred.add(trigger)
        else:
            channels[trigger] = EphemeralValue(trigger)
        is_graph = isinstance(spec.action, CompiledStateGraph)
        policy = spec.retry_policy if spec.retry_policy is not None else defaults.get("retry_policy")
        handler = spec.error_handler_node or (None if spec.is_error_handler else default_handler)
        cache_policy = spec.cache_policy  # (a handler's result is never cached: LangGraph's rule)
        if cache_policy is None and not spec.is_error_handler:
            cache_policy = defaults.get("cache_policy")
        ends = tuple(spec.ends.values()) if isinstance(spec.ends, dict) else tuple(spec.ends)
        fn = None if is_graph else UserFn(spec.action, name)
        timeout = spec.timeout or defaults.get("timeout")
        if timeout is not None and fn is not None and not fn.is_async:
            raise sync_timeout_unsupported(name)
        nodes[name] = CNode(
            name=name,
            fn=fn,
            subgraph=spec.action if is_graph else None,
            triggers=(trigger,),
            input_keys=keys_of(spec.input_schema),
            mapper=input_mapper(spec.input_schema),
            output_keys=state_set,
            static_writes=(),
            branches=(),
            retry_policy=() if policy is None else (tuple(policy) if isinstance(policy, (list, tuple)) and not hasattr(policy, "_fields") else (policy,)),
            cache_policy=cache_policy,
            cache_ns=node_namespace(name, fn),
            metadata=spec.metadata,
            defer=spec.defer,
            ends=ends,
            invokes=None if is_graph else invoked_graph(spec.action),
            timeout=timeout,
            error_handler=handler,
            error_param=node_error_param(spec.action) if spec.is_error_handler else None,
        )
    static: dict[str, list[tuple[str, Any]]] = {n: [] for n in nodes}
    for start, end in sorted(builder.edges):
        if end != END:
            static[start].append((branch_channel(end), None))
    for starts, end in sorted(builder.waiting_edges):
        if end == END:
            continue
        chan = join_channel(starts, end)
        names = frozenset(starts)
        if builder.nodes[end].defer:
            channels[chan] = NamedBarrierValueAfterFinish(chan, names)
            deferred.add(chan)
        else:
            channels[chan] = NamedBarrierValue(chan, names)
        nodes[end].triggers += (chan,)
        for start in starts:
            static[start].append((chan, start))
    branches: dict[str, list[CBranch]] = {n: [] for n in nodes}
    for start, specs in builder.branches.items():
        for bname, bspec in specs.items():
            schema = bspec.input_schema or (
                builder.nodes[start].input_schema if start in builder.nodes else builder.state_schema
            )
            branches[start].append(
                CBranch(bname, bspec.fn, bspec.ends, keys_of(schema), input_mapper(schema),
                        passthrough=bspec.input_schema is None)
            )
    for name, node in nodes.items():
        node.static_writes = tuple(static[name])
        node.branches = tuple(branches[name])
    trigger_to_nodes: dict[str, list[str]] = {}
    for name, node in nodes.items():
        if name == START:
            continue
        for t in node.triggers:
            trigger_to_nodes.setdefault(t, []).append(name)
    output_keys = builder.schemas[builder.output_schema]
    output_mapper = None  # LangGraph returns a dict even for dataclass/pydantic output schemas
    graph = CompiledGraph(
        nodes=nodes,
        node_names=tuple(node_specs),
        channels=channels,
        state_keys=state_keys,
        state_key_set=state_set,
        trigger_to_nodes={k: tuple(v) for k, v in trigger_to_nodes.items()},  # definition order
        deferred_channels=frozenset(deferred),
        input_keys=tuple(input_keys),
        output_keys=tuple(output_keys),
        output_key_set=frozenset(output_keys),
        output_mapper=output_mapper,
        warn_dropped_keys=bool(options.pop("warn_dropped_keys", False)),
        reducer_keys=frozenset(
            k for k in state_keys if isinstance(channels[k], BinaryOperatorAggregate)
        ),
        barrier_channels=tuple(k for k, ch in channels.items() if isinstance(ch, NamedBarrierValue)),
        node_order={name: i for i, name in enumerate(nodes)},
        plain_keys=frozenset(k for k in state_keys if type(channels[k]) is LastValue),
        ephemeral=frozenset(
            k for k, ch in channels.items() if type(ch) is EphemeralValue and not ch.guard
        ),
    )
    return CompiledStateGraph(builder, graph, **options)


def _prints(graph: CompiledStateGraph, options: dict[str, Any] | None) -> frozenset[str]:
    """The modes a call prints (for debugging, as LangGraph's): ``print_mode=``, or
    ``updates`` and ``values`` with ``debug=True`` there or at compile time."""
    options = options or {}
    if options.get("debug") or graph.debug:
        return frozenset(("updates", "values"))
    mode = options.get("print_mode") or ()
    return frozenset((mode,) if isinstance(mode, str) else mode)


def _print_chunk(ns: tuple[str, ...], mode: str, chunk: Any) -> None:
    """One printed chunk, in LangGraph's format: the mode in bold, a subgraph's
    namespace in yellow, the chunk's repr."""
    parts = [f"\033[1m[{mode}]\033[0m"]
    if ns:
        parts.append(f"\033[1;30;33m[graph={ns}]\033[0m")
    parts.append(repr(chunk))
    print(" ".join(parts))


def invoked_graph(fn: Any) -> CompiledStateGraph | None:
    """The first compiled graph ``fn`` names (see callables.named_objects) that keeps
    checkpoints (not compiled with ``checkpointer=False``): the one LangGraph's
    snapshots treat as the node's subgraph."""
    for value in named_objects(fn):
        if isinstance(value, CompiledStateGraph) and value.checkpointer is not False:
            return value
    return None


def _nest(run: Run, parent: Any) -> None:
    """``run``, of a graph compiled without a checkpointer and invoked inside the node
    ``parent`` of a checkpointed run, is checkpointed as LangGraph does it: with that
    run's saver, under the node's namespace (see _new_run), its interrupts raised into
    the node, which then pauses the parent. When the node runs again (the parent
    resumes it), the graph carries on from its checkpoint instead of its input (see
    ``Run._begin``): a finished one returns its state, an interrupted one resumes with
    the node's answer. As for a subgraph that is a node (``bodies.call_subgraph``)."""
    from .persistence import Checkpointing

    prun, pcp = parent.run, parent.run.cp
    run.checkpoint_with(Checkpointing(pcp.saver, pcp.thread_id, "|".join(run.ns), pcp.durability))
    run.cp.parents = {**pcp.parents, "|".join(prun.ns): parent.base}
    run.nested = True
    answers = prun.resumes.get(parent.id)
    if answers:
        run.nested = Command(resume=answers[-1])
    elif prun.null_resume and prun.null_resume_at in (None, parent.base):
        run.null_resume, run.null_resume_at = prun.null_resume, None


_NO_CONFIG: Mapping[str, Any] = MappingProxyType({})


def _merge_config(*configs: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for config in configs:
        if not config:
            continue
        for k, v in config.items():
            if k in ("configurable", "metadata") and isinstance(v, dict):
                out[k] = {**out.get(k, {}), **v}
            elif k == "tags" and v:
                out[k] = [*out.get(k, []), *v]
            elif v is not None:
                out[k] = v
    return out


class CompiledStateGraph(StateAPI, Generic[StateT, ContextT, InputT, OutputT]):
    """A compiled ``StateGraph``: call ``invoke``/``ainvoke``/``stream``/``astream``.

    It holds no per-run state, so one instance serves many concurrent runs; it can
    also be used as a node of another graph."""

    stream_mode: str = "updates"

    def __init__(
        self,
        builder: StateGraph,
        graph: CompiledGraph,
        *,
        checkpointer: Any = None,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Any = (),
        interrupt_after: Any = (),
        debug: bool = False,
        name: str = "LangGraph",
        config: dict[str, Any] | None = None,
        timeline: bool = True,
    ) -> None:
        self.builder = builder
        self.context_schema = builder.context_schema if builder is not None else None
        self.graph = graph
        self.checkpointer = checkpointer
        if checkpointer:  # every call will need it: load it now, not in the first get_state
            from . import persistence  # noqa: F401
        self.cache = cache
        self.store = store
        self.interrupt_before_nodes = interrupt_before
        self.interrupt_after_nodes = interrupt_after
        self.debug = debug
        self.name = name
        self.config = config
        self._last_timeline: LiveTimeline | None = None  # the latest run's, as it writes it
        self._last_view: Timeline | None = None  # what last_timeline gave for it
        self.record_timeline = timeline

    @property
    def last_timeline(self) -> Timeline | None:
        """The timeline of the most recent run started from this object.

        Concurrent runs of one compiled graph each record their own timeline; this
        is whichever started last, so read it right after a run you awaited."""
        live = self._last_timeline
        if live is None:
            return None
        view = self._last_view
        if view is None or view.live is not live:  # (one object per run: edits to it stay)
            view = self._last_view = live.view()
        else:
            view.resolve()
        return view

    def get_name(self, suffix: str | None = None) -> str:
        return self.name + (suffix or "")

    def with_config(self, config: dict[str, Any] | None = None, **kwargs: Any) -> CompiledStateGraph:
        """A copy whose runs start from ``config`` merged over this graph's."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.config = _merge_config(self.config, config, kwargs)
        return clone

    # --- running ---------------------------------------------------------------------

    def _new_run(
        self,
        config: dict[str, Any] | None,
        context: Any,
        *,
        modes: frozenset[str] = frozenset(),
        sink: Any = None,
        subgraphs: bool = False,
        sync: bool,
        out_keys: tuple[str, ...] | None = None,
        options: dict[str, Any] | None = None,
    ) -> Run:
        # (most runs have no config: they share one empty, read-only one)
        merged = _merge_config(self.config, config) if (self.config or config) else _NO_CONFIG
        runtime = None
        if context is not None:
            from .runtime import Runtime

            runtime = Runtime(context=_coerce_context(self.context_schema, context), store=self.store)
        ns: tuple[str, ...] = ()
        parent = CURRENT_TASK.get()
        if parent is not None and parent.run is not None:
            # a graph invoked from inside a running node: a child of that node's run
            prun = parent.run
            # under the node's namespace; the node's 2nd, 3rd... graph under one of its
            # own (as LangGraph counts them), so that each resumes its own checkpoints
            n = getattr(parent, "graphs_run", 0)
            parent.graphs_run = n + 1
            ns = prun.ns + (f"{parent.name}:{parent.id}",) + ((str(n),) if n else ())
            if sink is None and prun.subgraphs:
                modes, sink, subgraphs = prun.modes, prun.sink, True
            if runtime is None:
                runtime = prun.runtime
        timeline = LiveTimeline(self.name) if self.record_timeline else None
        run = Run(
            self, merged, modes=modes, sink=sink, ns=ns, subgraphs=subgraphs, sync=sync,
            runtime=runtime, timeline=timeline, out_keys=out_keys,
        )
        self._last_timeline = timeline
        if parent is not None and parent.run is not None:
            run.parent = parent
        if "messages" in modes:
            if parent is not None and parent.run is not None and sink is parent.run.sink and "messages" in parent.run.modes:
                run.messages = parent.run.messages.child(ns)  # streamed with its parent's subgraphs
            else:
                from .messages import MessagesStream, RunMessages

                run.messages = RunMessages(MessagesStream(sink), ns)
        if parent is not None and parent.run is not None and parent.run.cp is not None and (
            self.checkpointer is None
        ):
            _nest(run, parent)
        if self.checkpointer and not ns:
            from .persistence import Checkpointing

            opts = options or {}
            run.checkpoint_with(Checkpointing(
                self.checkpointer,
                _thread_id(merged),
                merged.get("configurable", {}).get("checkpoint_ns", ""),
                opts.get("durability") or "async",
            ))
            run.interrupt_before = _nodes(opts.get("interrupt_before"), self.interrupt_before_nodes)
            run.interrupt_after = _nodes(opts.get("interrupt_after"), self.interrupt_after_nodes)
        return run

    async def _arun(
        self, input: Any, config: Any, context: Any, sync: bool, options: dict[str, Any] | None = None
    ) -> Any:
        return await self._new_run(config, context, sync=sync, options=options).execute(input)

    def invoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        context: Any = None,
        stream_mode: str = "values",
        output_keys: str | Sequence[str] | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end and return its final state (sync)."""
        if stream_mode != "values" or output_keys is not None or version != "v1" or _prints(self, kwargs):
            return syncbridge.run_sync(
                lambda: self._ainvoke_streamed(input, config, context, stream_mode, output_keys, version, True, kwargs)
            )
        return syncbridge.run_sync(lambda: self._arun(input, config, context, True, kwargs))

    async def ainvoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        context: Any = None,
        stream_mode: str = "values",
        output_keys: str | Sequence[str] | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end and return its final state (async)."""
        if stream_mode != "values" or output_keys is not None or version != "v1" or _prints(self, kwargs):
            return await self._ainvoke_streamed(input, config, context, stream_mode, output_keys, version, False, kwargs)
        # the run's own coroutine, awaited here: one frame less per run than via _arun
        return await self._new_run(config, context, sync=False, options=kwargs).execute(input)

    async def _ainvoke_streamed(
        self, input: Any, config: Any, context: Any, stream_mode: str, output_keys: Any, version: str,
        sync: bool, options: dict[str, Any] | None = None,
    ) -> Any:
        keys = self.graph.output_keys if output_keys is None else output_keys
        stream = self._astream(input, config, context, stream_mode, keys, False, sync, "v1", options)
        if stream_mode == "values":
            latest = None
            async for chunk in stream:
                latest = chunk
            if version == "v2":
                from .types import GraphOutput

                if isinstance(latest, dict) and INTERRUPT in latest:  # apart from the value
                    latest = dict(latest)
                    return GraphOutput(latest, tuple(latest.pop(INTERRUPT)))
                return GraphOutput(latest)
            return latest
        chunks = [c async for c in stream]
        if version == "v2":
            return [{"type": stream_mode, "ns": (), "data": c} for c in chunks]
        return chunks

    def stream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        context: Any = None,
        stream_mode: str | Sequence[str] | None = None,
        output_keys: str | Sequence[str] | None = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding chunks as they happen (sync)."""
        mode = stream_mode if stream_mode is not None else self.stream_mode
        return syncbridge.iterate_sync(
            lambda: self._astream(input, config, context, mode, output_keys, subgraphs, True, version, kwargs)
        )

    def astream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        context: Any = None,
        stream_mode: str | Sequence[str] | None = None,
        output_keys: str | Sequence[str] | None = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Run the graph, yielding chunks as they happen (async)."""
        mode = stream_mode if stream_mode is not None else self.stream_mode
        return self._astream(input, config, context, mode, output_keys, subgraphs, False, version, kwargs)

    async def _astream(
        self,
        input: Any,
        config: Any,
        context: Any,
        stream_mode: str | Sequence[str],
        output_keys: Any,
        subgraphs: bool,
        sync: bool,
        version: str = "v1",
        options: dict[str, Any] | None = None,
    ) -> AsyncIterator[Any]:
        single = isinstance(stream_mode, str)
        wanted: frozenset[str] = frozenset((stream_mode,) if isinstance(stream_mode, str) else stream_mode)
        printed = _prints(self, options)
        modes = wanted | printed
        for m in modes:
            if m not in _STREAM_MODES:
                raise ValueError(f"Unknown stream_mode {m!r}; choose from {sorted(_STREAM_MODES)}")
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        buf: deque[tuple[tuple[str, ...], str, Any]] = deque()
        waiter: list[asyncio.Future[None] | None] = [None]

        def wake() -> None:
            w = waiter[0]
            if w is not None and not w.done():
                w.set_result(None)

        def sink(ns: tuple[str, ...], mode: str, chunk: Any) -> None:
            buf.append((ns, mode, chunk))
            if threading.get_ident() == loop_thread:
                wake()
            else:
                loop.call_soon_threadsafe(wake)

        drained: list[asyncio.Future[None] | None] = [None]

        async def pace() -> None:
            """Until the consumer has taken every chunk streamed so far (subgraph runs
            of one step wait together, on one future)."""
            if buf:
                fut = drained[0]
                if fut is None:
                    fut = drained[0] = loop.create_future()
                await asyncio.shield(fut)

        if output_keys is None:
            out_keys = self.graph.state_keys
        elif isinstance(output_keys, str):
            out_keys = (output_keys,)
        else:
            out_keys = tuple(output_keys)
        run = self._new_run(
            config, context, modes=modes, sink=sink, subgraphs=subgraphs, sync=sync, out_keys=out_keys,
            options=options,
        )
        run.pace = pace
        if "messages" in modes:
            # a chat model a node calls without passing its config finds the node's
            # callbacks in langchain_core's context variable (as LangGraph sets it)
            from .messages import HAS_LANGCHAIN

            if HAS_LANGCHAIN:
                from .lc_messages import install_config_view, reset_config_view

                token = install_config_view()
                try:
                    driver = loop.create_task(run.execute(input))
                finally:
                    reset_config_view(token)
            else:
                driver = loop.create_task(run.execute(input))
        else:
            driver = loop.create_task(run.execute(input))
        driver.add_done_callback(lambda _: wake())
        v2 = version == "v2"
        try:
            while True:
                while buf:
                    ns, mode, chunk = buf.popleft()
                    if isinstance(output_keys, str) and mode == "values" and isinstance(chunk, dict):
                        chunk = chunk.get(output_keys)
                    if mode in printed:
                        _print_chunk(ns if subgraphs else (), mode, chunk)
                    if mode not in wanted:
                        continue
                    if v2:
                        part = {"type": mode, "ns": ns, "data": chunk}
                        if mode == "values":  # the interrupts apart from the values
                            interrupts: Any = ()
                            if isinstance(chunk, dict) and INTERRUPT in chunk:
                                chunk = part["data"] = dict(chunk)
                                interrupts = chunk.pop(INTERRUPT)
                            part["interrupts"] = interrupts
                        yield part
                    elif subgraphs:
                        yield (ns, chunk) if single else (ns, mode, chunk)
                    else:
                        yield chunk if single else (mode, chunk)
                # the consumer took every chunk and asks for more: the run may go on
                if drained[0] is not None:
                    if not drained[0].done():
                        drained[0].set_result(None)
                    drained[0] = None
                if driver.done():
                    if not buf:
                        driver.result()
                        return
                    continue
                woken = waiter[0] = loop.create_future()
                await woken
                waiter[0] = None
        finally:
            if not driver.done():
                driver.cancel()
                try:
                    await driver
                except BaseException:
                    pass
            # a failed run's traceback holds this frame: not the task that holds the
            # error, nor the last chunk (a debug or tasks result holds it too)
            driver = chunk = part = None  # type: ignore[assignment]

    def batch(
        self,
        inputs: Sequence[Any],
        config: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``invoke`` each input; the runs proceed concurrently."""
        return syncbridge.run_sync(lambda: self._abatch(inputs, config, return_exceptions, True, kwargs))

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        return await self._abatch(inputs, config, return_exceptions, False, kwargs)

    async def _abatch(self, inputs: Sequence[Any], config: Any, return_exceptions: bool, sync: bool, kwargs: dict[str, Any]) -> list[Any]:
        configs = list(config) if isinstance(config, (list, tuple)) else [config] * len(inputs)
        context = kwargs.get("context")
        coros = [self._arun(i, c, context, False) for i, c in zip(inputs, configs)]
        return list(await asyncio.gather(*coros, return_exceptions=return_exceptions))

    def batch_as_completed(
        self,
        inputs: Sequence[Any],
        config: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Any]]:
        """``batch``, yielding ``(index, output)`` as each run finishes."""
        return syncbridge.iterate_sync(lambda: self._as_completed(inputs, config, return_exceptions, kwargs))

    def abatch_as_completed(
        self,
        inputs: Sequence[Any],
        config: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Any]]:
        return self._as_completed(inputs, config, return_exceptions, kwargs)

    async def _as_completed(
        self, inputs: Sequence[Any], config: Any, return_exceptions: bool, kwargs: dict[str, Any]
    ) -> AsyncIterator[tuple[int, Any]]:
        configs = list(config) if isinstance(config, (list, tuple)) else [config] * len(inputs)
        context = kwargs.get("context")

        async def one(i: int, value: Any, cfg: Any) -> tuple[int, bool, Any]:
            # a run's error as a value: raised out of as_completed, it would be held by
            # the future that as_completed's frame (in its traceback) holds, a cycle
            try:
                return i, True, await self._arun(value, cfg, context, False)
            except Exception as exc:
                return i, False, exc

        runs = [asyncio.ensure_future(one(i, v, c)) for i, (v, c) in enumerate(zip(inputs, configs))]
        try:
            for finished in asyncio.as_completed(runs):
                i, ok, out = await finished
                if not ok and not return_exceptions:
                    raise out
                yield i, out
        finally:
            for run in runs:
                run.cancel()
            # a failed run's traceback holds this frame: not the error, nor the
            # futures whose results hold it
            runs = run = out = None  # type: ignore[assignment]

    # --- subgraphs ---------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Any]:
        """The graph's nodes by name, ``__start__`` first (read-only)."""
        return MappingProxyType(self.graph.nodes)

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, CompiledStateGraph]]:
        """``(namespace, graph)`` for each node that is a graph or invokes one, as
        LangGraph finds them; ``namespace`` (``"parent|child"``, no task ids) picks
        one, ``recurse`` walks into them."""
        for name, node in self.graph.nodes.items():
            if namespace is not None and namespace != name and not namespace.startswith(name + "|"):
                continue
            graph = node.subgraph or node.invokes
            if graph is None:
                continue
            if name == namespace:
                yield name, graph
                return
            if namespace is None:
                yield name, graph
            if recurse and isinstance(graph, CompiledStateGraph):
                inner = None if namespace is None else namespace[len(name) + 1:]
                for sub_ns, sub in graph.get_subgraphs(namespace=inner, recurse=recurse):
                    yield f"{name}|{sub_ns}", sub

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, CompiledStateGraph]]:
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item

    # --- cache -----------------------------------------------------------------------

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Forget the cached results of the given nodes (default: all of them)."""
        if not self.cache:
            raise ValueError("No cache is set for this graph. Cannot clear cache.")
        self.cache.clear(namespaces(self.graph, nodes))

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Asynchronously forget the cached results of the given nodes (default: all)."""
        if not self.cache:
            raise ValueError("No cache is set for this graph. Cannot clear cache.")
        await self.cache.aclear(namespaces(self.graph, nodes))

    # --- introspection ---------------------------------------------------------------

    def get_graph(self, config: dict[str, Any] | None = None, *, xray: int | bool = False) -> Any:
        """The graph's nodes and edges, drawable with ``draw_mermaid()``/``draw_ascii()``."""
        from .drawing import graph_of

        return graph_of(self, xray=xray)

    async def aget_graph(self, config: dict[str, Any] | None = None, *, xray: int | bool = False) -> Any:
        return self.get_graph(config, xray=xray)

    def __repr__(self) -> str:
        return f"<CompiledStateGraph {self.name!r} nodes={list(self.graph.node_names)}>"


def _thread_id(config: Mapping[str, Any]) -> str:
    conf = config.get("configurable") or {}
    thread_id = conf.get("thread_id")
    if thread_id is None:
        raise ValueError(
            "Checkpointer requires one or more of the following 'configurable' keys: "
            "thread_id, checkpoint_ns, checkpoint_id"
        )
    return str(thread_id)


def _nodes(per_call: Any, compiled: Any) -> Any:
    chosen = per_call if per_call is not None else compiled
    if chosen == "*":
        return "*"
    return frozenset(chosen or ())


def _coerce_context(schema: Any, context: Any) -> Any:
    """LangGraph builds the ``context_schema`` dataclass/model from a dict context."""
    if isinstance(context, dict) and isinstance(schema, type) and (
        hasattr(schema, "__dataclass_fields__") or is_pydantic_model(schema)
    ):
        return schema(**context)
    return context
