"""Snapshots of steps with several kinds of tasks: ``Send`` tasks, edge-triggered tasks,
subgraph nodes paused in ``interrupt()``; swiftgraph vs LangGraph.

Orders LangGraph keeps (and these tests pin):
- a snapshot (``get_state``/``get_state_history``) lists ``Send`` tasks first, by index,
  then edge-triggered tasks in the order their nodes were added;
- a running step (task events, the ``checkpoints`` stream's ``next``/``tasks``) lists
  ``Send`` tasks first, then edge-triggered tasks by node name;
- writes are applied edge-triggered tasks by name, then Sends by index (the final log).

A subgraph node's ``PregelTask.state`` is the config of the namespace the subgraph
checkpoints under, or with ``get_state(subgraphs=True)`` the subgraph's own snapshot;
a subgraph's checkpoints name their enclosing checkpoints (``metadata["parents"]``,
``config["configurable"]["checkpoint_map"]``).
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest
from conftest import divergence, run_both
from durability_kit import S, Tx, asking, compare, logger, saver, thread


def fan_out(E, **compile_kw):
    """start -> (zeta, alpha, mid: added in that order) + 2 x Send(w)."""
    g = E.StateGraph(S)
    for n in ("zeta", "alpha", "mid"):
        g.add_node(n, logger(n))
    g.add_node("w", lambda arg: {"log": [f"w{arg['n']}"]})
    g.add_node("start", logger("start"))
    g.add_edge(E.START, "start")
    for n in ("zeta", "alpha", "mid"):
        g.add_edge("start", n)
    g.add_conditional_edges("start", lambda s: [E.Send("w", {"n": 1}), E.Send("w", {"n": 2})], ["w"])
    return g.compile(checkpointer=saver(E), **compile_kw)


def starts(tx: Tx, chunks) -> list:
    """The task-start events of a ``tasks`` stream (results come in completion order)."""
    return [tx(c) for c in chunks if "input" in c]


def test_snapshot_lists_send_tasks_first():
    def scenario(E):
        tx = Tx()
        app, cfg = fan_out(E, interrupt_before=["mid"]), thread("fo")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        out.append(tx(list(app.get_state_history(cfg))))
        out.append(starts(tx, app.stream(None, cfg, stream_mode="tasks")))
        out += [tx.state(app, cfg), tx(list(app.get_state_history(cfg, limit=2)))]
        return out

    compare(scenario)


@pytest.mark.parametrize("mode", ["tasks", "checkpoints", "debug"])
def test_running_step_lists_send_tasks_first_then_by_name(mode):
    def scenario(E):
        tx = Tx()
        app, cfg = fan_out(E), thread("run")
        chunks = list(app.stream({"log": []}, cfg, stream_mode=mode))
        if mode == "tasks":
            return starts(tx, chunks)
        if mode == "debug":  # task results come in completion order
            chunks = [c for c in chunks if c["type"] != "task_result"]
        return tx(chunks)

    compare(scenario)


def subgraph_app(E, nested: bool = False, **compile_kw):
    """first -> (child: a subgraph whose 'ask' interrupts, other) + Send(w).
    ``nested``: child is pre -> grand, grand the subgraph asking."""
    inner = E.StateGraph(S)
    inner.add_node("ask", asking(E, "ask", "q?"))
    inner.add_node("after", logger("after"))
    inner.add_edge(E.START, "ask")
    inner.add_edge("ask", "after")
    child = inner.compile()
    if nested:
        mid = E.StateGraph(S)
        mid.add_node("pre", logger("pre"))
        mid.add_node("grand", child)
        mid.add_edge(E.START, "pre")
        mid.add_edge("pre", "grand")
        child = mid.compile()
    g = E.StateGraph(S)
    g.add_node("first", logger("first"))
    g.add_node("child", child)
    g.add_node("other", logger("other"))
    g.add_node("w", lambda arg: {"log": ["w"]})
    g.add_edge(E.START, "first")
    g.add_edge("first", "child")
    g.add_edge("first", "other")
    g.add_conditional_edges("first", lambda s: [E.Send("w", {})], ["w"])
    return g.compile(checkpointer=saver(E), **compile_kw)


@pytest.mark.parametrize("nested", [False, True], ids=["child", "grandchild"])
def test_subgraph_task_state_in_snapshots(nested):
    def scenario(E):
        tx = Tx()
        app, cfg = subgraph_app(E, nested), thread("sub")
        out = [tx.attempt(app.invoke, {"log": []}, cfg)]
        snap = app.get_state(cfg)
        out += [tx(snap), tx(app.get_state(cfg, subgraphs=True))]
        child = next(t for t in snap.tasks if t.name == "child")
        out += [tx.state(app, child.state), tx(list(app.get_state_history(child.state)))]
        out.append(tx(list(app.get_state_history(cfg))))
        out += [tx.attempt(app.invoke, E.Command(resume="yes"), cfg),
                tx(app.get_state(cfg, subgraphs=True)), tx.history(app, cfg)]
        return out

    compare(scenario)


@pytest.mark.parametrize("nested", [False, True], ids=["child", "grandchild"])
def test_subgraph_checkpoints_stream(nested):
    """The ``checkpoints`` stream of a run that pauses in a subgraph and is resumed:
    subgraph configs carry ``checkpoint_map``, subgraph tasks their namespace."""

    def scenario(E):
        tx = Tx()
        app, cfg = subgraph_app(E, nested), thread("cs")
        kw = {"stream_mode": "checkpoints", "subgraphs": True}
        # parallel tasks' subgraph checkpoints interleave: compare each namespace's in order
        def by_ns(chunks):
            out: dict = {}
            for ns, payload in chunks:
                out.setdefault(len(ns), []).append(tx(payload))
            return sorted(out.items())

        return [by_ns(app.stream({"log": []}, cfg, **kw)),
                by_ns(app.stream(E.Command(resume="ok"), cfg, **kw))]

    compare(scenario)


@divergence
def test_subgraph_not_started_snapshot_config():
    """Stopped before the subgraph node (a breakpoint), ``get_state(subgraphs=True)``
    shows an empty snapshot for it. Deliberate: LangGraph's empty snapshot's config also
    carries its internal ``__pregel_checkpointer`` entry (the saver object); swiftgraph's
    holds just the thread and namespace, the config ``subgraphs=False`` shows."""

    def build(E):
        tx = Tx()
        app, cfg = subgraph_app(E, interrupt_before=["child"]), thread("ns")
        app.invoke({"log": []}, cfg)
        snap = app.get_state(cfg, subgraphs=True)
        plain = app.get_state(cfg)
        child = next(t for t in snap.tasks if t.name == "child")
        config = next(t for t in plain.tasks if t.name == "child").state
        return tx(child.state), tx(config), sorted(child.state.config["configurable"])

    lg, sg = run_both(build, None, "build")
    assert lg.error is None and sg.error is None
    assert lg.value[2] == ["__pregel_checkpointer", "checkpoint_ns", "thread_id"]
    assert sg.value[2] == ["checkpoint_ns", "thread_id"]
    assert sg.value[0][1]["config"] == sg.value[1]  # the same config subgraphs=False shows
    sg_rest = {k: v for k, v in sg.value[0][1].items() if k != "config"}
    lg_rest = {k: v for k, v in lg.value[0][1].items() if k != "config"}
    assert sg_rest == lg_rest


@pytest.mark.parametrize("mode", ["values", "updates", "tasks", "debug", "tasks+updates"])
@pytest.mark.parametrize("nested", [False, True], ids=["child", "grandchild"])
def test_resumed_subgraph_step_streams(mode, nested):
    """Resuming a step whose siblings finished: LangGraph shows every task of the step
    started (in step order), then the finished ones' cached updates, then the rest."""

    def scenario(E):
        tx = Tx()
        app, cfg = subgraph_app(E, nested), thread("rs")
        modes = mode.split("+")
        kw = {"stream_mode": modes, "subgraphs": True}

        def by_ns(chunks, exact=True):
            out: dict = {}
            for ns, m, payload in chunks:
                if m == "debug" and payload["type"] == "task_result":
                    continue  # results come in completion order
                if m == "tasks" and "input" not in payload:
                    continue
                out.setdefault(len(ns), []).append((m, tx(payload)))
            if not exact:  # the first run's parallel tasks finish in any order
                return sorted((k, sorted(map(repr, v))) for k, v in out.items())
            return sorted(out.items())

        return [by_ns(app.stream({"log": []}, cfg, **kw), exact=False),
                by_ns(app.stream(E.Command(resume="ok"), cfg, **kw))]

    compare(scenario)


@pytest.mark.parametrize("nested", [False, True], ids=["child", "grandchild"])
@pytest.mark.parametrize("as_node", [None, "ask"])
def test_update_state_on_a_subgraph_namespace(nested, as_node):
    """update_state with the config a subgraph task's ``state`` holds updates the
    subgraph's own checkpoints, with the subgraph's channels and nodes."""

    def scenario(E):
        tx = Tx()
        app, cfg = subgraph_app(E, nested), thread("subupd")
        out = [tx.attempt(app.invoke, {"log": []}, cfg)]
        child = next(t for t in app.get_state(cfg).tasks if t.name == "child")
        sub_cfg = child.state
        if nested:  # the grandchild's namespace, from the child's own snapshot
            sub_cfg = next(t for t in app.get_state(sub_cfg).tasks if t.name == "grand").state
        out.append(tx.attempt(app.update_state, sub_cfg, {"log": ["patched"]}, as_node=as_node))
        out += [tx.state(app, sub_cfg), tx(app.get_state(cfg, subgraphs=True))]
        out += [tx.attempt(app.invoke, E.Command(resume="yes"), cfg), tx.state(app, cfg)]
        return out

    compare(scenario)


@pytest.mark.parametrize("asks", [False, True])
def test_subgraph_compiled_with_checkpointer_true_keeps_its_memory(asks):
    """compile(checkpointer=True): the subgraph keeps one thread under the node's name
    (not the task's) for all its runs in the parent's thread. Each new run takes its
    input on top of what it kept; a paused one resumes where it stopped. Outputs,
    snapshots (the task's state namespace) and the subgraph's own history compared."""

    def scenario(E):
        tx = Tx()

        class C(TypedDict, total=False):
            n: int
            log: Annotated[list, operator.add]

        def inc(state):
            n = state.get("n", 0) + 1
            return {"n": n, "log": [f"n={n}"]}

        sub = E.StateGraph(C)
        sub.add_node("inc", inc)
        sub.add_edge(E.START, "inc")
        if asks:
            sub.add_node("ask", lambda state: {"log": [E.types.interrupt(f"q{state['n']}")]})
            sub.add_edge("inc", "ask")
        g = E.StateGraph(C)
        g.add_node("child", sub.compile(checkpointer=True))
        g.add_edge(E.START, "child")
        app, cfg = g.compile(checkpointer=saver(E)), thread(f"memory-{asks}")
        out = []
        for answer in ("A", "B"):
            out.append(tx.attempt(app.invoke, {"log": []}, cfg))
            out.append(tx(app.get_state(cfg, subgraphs=True)))
            if asks:
                out.append(tx.attempt(app.invoke, E.Command(resume=answer), cfg))
        inner = {"configurable": {"thread_id": f"memory-{asks}", "checkpoint_ns": "child"}}
        return out + [tx.history(app, inner)]

    lg = compare(scenario)
    if asks:
        assert lg[5][0] == "ok" and lg[5][1]["n"] == 2 and lg[5][1]["log"][-1] == "B"
    else:  # the second run's input went on top of the first run's kept state
        assert lg[2] == ("ok", {"n": 2, "log": ["n=1", "n=1", "n=1", "n=2"]})
    assert lg[-1]  # the subgraph's own thread, read under its name
