"""``update_state`` (with and without ``as_node``, on the latest checkpoint and on an
old one: a fork), updating then resuming, time travel (``invoke(None | input, config
with checkpoint_id)``).  Pending writes after a failure: ``test_durability_pending``.

Transcripts compare whole snapshots and history rows (see ``durability_kit``).
"""

from __future__ import annotations

import pytest
from conftest import divergence, run_both
from durability_kit import (
    S,
    Tx,
    asking,
    chain,
    compare,
    interrupt_graph,
    logger,
    resume_if_pending,
    saver,
    steps,
    thread,
)


def ids_by_step(app, cfg) -> dict:
    """{step: checkpoint config} of the thread's checkpoints (the newest per step)."""
    out = {}
    for s in reversed(list(app.get_state_history(cfg))):
        out[s.metadata["step"]] = s.config
    return out


def forked(tx, app, cfg, *calls) -> list:
    """Run ``calls`` (callables returning something) then show state + full history."""
    out = [tx.attempt(c) for c in calls]
    return out + [tx.state(app, cfg), tx.attempt(app.get_state_history, cfg)]


@pytest.mark.parametrize("as_node", [None, "a", "b", "c"])
def test_update_latest_after_finished_run(as_node):
    def scenario(E):
        tx, app, cfg = Tx(), chain(E, "a", "b", "c"), thread("u")
        app.invoke({"log": []}, cfg)
        return forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["u"]}, as_node=as_node),
                      lambda: resume_if_pending(app, cfg))

    compare(scenario)


@pytest.mark.parametrize("as_node", [None, "a", "b"])
def test_update_at_breakpoint_then_resume(as_node):
    """as_node='b' stands in for the pending task b: in the history, the checkpoint
    before the update shows the update as b's result."""

    def scenario(E):
        tx, app, cfg = Tx(), chain(E, "a", "b", "c", interrupt_before=["b"]), thread("bp")
        app.invoke({"log": []}, cfg)
        return forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["u"]}, as_node=as_node),
                      lambda: resume_if_pending(app, cfg))

    compare(scenario)


def test_update_during_interrupt_then_resume():
    """The update checkpoint's task b has a new id and no question pending, so the
    answer is addressed to no task: b's interrupt() takes it (b returns 'b:yes')."""

    def scenario(E):
        tx, calls = Tx(), []
        app, cfg = interrupt_graph(E, calls), thread("iu")
        app.invoke({"log": []}, cfg)
        out = forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["u"]}),
                     lambda: app.invoke(E.Command(resume="yes"), cfg))
        return out + [calls]

    compare(scenario)


def test_update_as_the_node_paused_in_interrupt():
    """as_node='b' while b waits in interrupt(): the update stands in for b (the history
    shows it as b's result, next to b's question) and the run goes on with c."""

    def scenario(E):
        tx, calls = Tx(), []
        app, cfg = interrupt_graph(E, calls), thread("ib")
        app.invoke({"log": []}, cfg)
        out = forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["u"]}, as_node="b"),
                     lambda: resume_if_pending(app, cfg))
        return out + [calls]

    compare(scenario)


def test_update_during_interrupt_then_answer_two_questions():
    """b takes the first answer after the update and asks its second question, whose
    answer then goes to b as usual."""

    def scenario(E):
        tx, calls = Tx(), []
        app, cfg = interrupt_graph(E, calls, questions=("q1", "q2")), thread("i2")
        app.invoke({"log": []}, cfg)
        out = forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["u"]}),
                     lambda: app.invoke(E.Command(resume="yes"), cfg))
        out += forked(tx, app, cfg, lambda: app.invoke(E.Command(resume="no"), cfg))
        return out + [calls]

    compare(scenario)


def test_update_during_interrupt_answer_kept_after_an_error():
    """b takes the answer then fails: the answer stays with the step, so the rerun
    (invoke(None)) gets it again instead of asking."""

    def scenario(E):
        tx, calls, fail = Tx(), [], [True]
        g = E.StateGraph(S)
        g.add_node("a", logger("a", calls))

        def b(state):
            calls.append("b")
            answer = E.types.interrupt("ask")
            if fail:
                fail.pop()
                raise ValueError("boom")
            return {"log": [f"b:{answer}"]}

        g.add_node("b", b)
        g.add_node("c", logger("c", calls))
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        g.add_edge("b", "c")
        app, cfg = g.compile(checkpointer=saver(E)), thread("ie")
        app.invoke({"log": []}, cfg)
        out = forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["u"]}),
                     lambda: app.invoke(E.Command(resume="yes"), cfg))
        out += forked(tx, app, cfg, lambda: app.invoke(None, cfg))
        return out + [calls]

    compare(scenario)


def test_update_during_interrupt_in_subgraph():
    """The paused node is a subgraph: an interrupt() inside it takes the answer, and
    its second question is answered through the parent as usual."""

    def scenario(E):
        tx, calls = Tx(), []
        sub = E.StateGraph(S)
        sub.add_node("x", asking(E, "x", "q1", "q2", calls=calls))
        sub.add_edge(E.START, "x")
        g = E.StateGraph(S)
        g.add_node("a", logger("a", calls))
        g.add_node("b", sub.compile())
        g.add_node("c", logger("c", calls))
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        g.add_edge("b", "c")
        app, cfg = g.compile(checkpointer=saver(E)), thread("is")
        app.invoke({"log": []}, cfg)
        app.update_state(cfg, {"log": ["u"]})
        out = []
        for answer in ("yes", "no"):  # snapshots of subgraph tasks: test_subgraphs
            out += [tx.attempt(app.invoke, E.Command(resume=answer), cfg),
                    tx.brief(app.get_state(cfg)), tx(app.get_state(cfg).interrupts)]
        return out + [tx.history(app, cfg), calls]

    compare(scenario)


@pytest.mark.parametrize("case", ["unknown-node", "ambiguous", "start", "empty-thread"])
def test_update_state_edge_cases(case):
    def scenario(E):
        tx = Tx()
        g = E.StateGraph(S)
        for n in "abc":
            g.add_node(n, logger(n))
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        g.add_edge("a", "c")
        app, cfg = g.compile(checkpointer=saver(E)), thread("e")
        if case != "empty-thread":
            app.invoke({"log": []}, cfg)
        as_node = {"unknown-node": "nope", "start": "__start__"}.get(case)
        out = forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["u"]}, as_node=as_node),
                     lambda: resume_if_pending(app, cfg))
        return [o[:2] if o[0] == "raised" else o for o in out]  # messages: the divergence below

    compare(scenario)


@divergence
def test_update_state_error_messages():
    def build(E):
        g = E.StateGraph(S)
        for n in "abc":
            g.add_node(n, logger(n))
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        g.add_edge("a", "c")
        app, cfg = g.compile(checkpointer=saver(E)), thread("m")
        app.invoke({"log": []}, cfg)
        tx = Tx()
        return [tx.attempt(app.update_state, cfg, {"log": ["u"]}, as_node="nope"),
                tx.attempt(app.update_state, cfg, {"log": ["u"]})]

    # Deliberate: swiftgraph's messages name the known nodes / the nodes of the last step.
    lg, sg = run_both(build, None, "build")
    assert lg.value == [("raised", "InvalidUpdateError", "Node nope does not exist"),
                        ("raised", "InvalidUpdateError", "Ambiguous update, specify as_node")]
    assert sg.value == [
        ("raised", "InvalidUpdateError",
         "update_state(as_node='nope'): no such node. Known nodes: 'a', 'b', 'c'."),
        ("raised", "InvalidUpdateError", ("Ambiguous update, specify as_node: several nodes ran "
         "in the last step (nodes: a, b, c)"))]


@pytest.mark.parametrize("as_node", [None, "a", "b"])
def test_update_old_checkpoint_forks(as_node):
    """Update the checkpoint after step 1 (next: b): a new branch starts there."""

    def scenario(E):
        tx, app, cfg = Tx(), chain(E, "a", "b", "c"), thread("f")
        app.invoke({"log": []}, cfg)
        old = ids_by_step(app, cfg)[1]
        out = forked(tx, app, cfg, lambda: app.update_state(old, {"log": ["fork"]}, as_node=as_node))
        out += forked(tx, app, cfg, lambda: resume_if_pending(app, cfg))
        return out

    compare(scenario)


def test_time_travel_replay_from_old_checkpoint():
    def scenario(E):
        tx, calls = Tx(), []
        g = E.StateGraph(S)
        for n in "abc":
            g.add_node(n, logger(n, calls))
        g.add_edge(E.START, "a")
        g.add_edge("a", "b")
        g.add_edge("b", "c")
        app, cfg = g.compile(checkpointer=saver(E)), thread("tt")
        app.invoke({"log": []}, cfg)
        old = ids_by_step(app, cfg)[1]
        calls.clear()
        out = forked(tx, app, cfg, lambda: app.invoke(None, old))
        out.append(list(calls))
        out.append(tx.attempt(app.stream, None, old, stream_mode="updates"))
        return out + [tx.history(app, cfg)]

    lg = compare(scenario)
    assert lg[3] == ["b", "c"]


def test_time_travel_with_new_input():
    def scenario(E):
        tx, app, cfg = Tx(), chain(E, "a", "b"), thread("ti")
        app.invoke({"log": ["1"]}, cfg)
        old = ids_by_step(app, cfg)[1]
        return forked(tx, app, cfg, lambda: app.invoke({"log": ["new"]}, old))

    compare(scenario)


def test_time_travel_to_interrupted_step_asks_again():
    def scenario(E):
        tx, calls = Tx(), []
        app, cfg = interrupt_graph(E, calls), thread("ta")
        app.invoke({"log": []}, cfg)
        app.invoke(E.Command(resume="first"), cfg)
        old = ids_by_step(app, cfg)[1]
        out = forked(tx, app, cfg, lambda: app.invoke(None, old))
        out += [tx.attempt(app.invoke, E.Command(resume="second"), cfg), tx.state(app, cfg)]
        return out + [calls]

    compare(scenario)


@divergence
def test_unknown_checkpoint_id():
    def build(E):
        tx, app = Tx(), chain(E, "a")
        app.invoke({"log": []}, thread("x"))
        bad = thread("x", "1ef00000-0000-6000-8000-000000000000")
        return [tx.attempt(app.invoke, None, bad), tx.attempt(app.get_state, bad)]

    # Deliberate: LangGraph treats an unknown checkpoint id as an empty thread (invoke(None)
    # finds no input, get_state an empty snapshot); swiftgraph says the checkpoint is missing.
    lg, sg = run_both(build, None, "build")
    assert lg.value[0] == ("raised", "EmptyInputError", "Received no input for __start__")
    assert lg.value[1][1][1]["values"] == {} and lg.value[1][1][1]["metadata"] is None
    missing = ("raised", "CheckpointError", ("Checkpoint '<uuid>' of thread 'x' not found. List "
               "the thread's checkpoints with get_state_history(config)."))
    assert sg.value == [missing, missing]


@pytest.mark.parametrize("as_node", ["a", "c"])
def test_update_as_a_node_leaves_a_complete_join_pending(as_node):
    """Paused before c, whose join [a, b] is complete: an update as c (or as a) is no
    task that the join started, so it doesn't consume it: c is still next and runs on
    resume. (swiftgraph once consumed the join of the node updated as.)"""

    def scenario(E):
        g = E.StateGraph(S)
        for n in "abc":
            g.add_node(n, logger(n))
        g.add_edge(E.START, "a")
        g.add_edge(E.START, "b")
        g.add_edge(["a", "b"], "c")
        g.add_edge("c", E.END)
        tx = Tx()
        app, cfg = g.compile(checkpointer=saver(E), interrupt_before=["c"]), thread("j")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        out += [tx.attempt(app.update_state, cfg, {"log": ["u"]}, as_node=as_node), tx.state(app, cfg)]
        out += [tx.attempt(app.invoke, None, cfg), tx.state(app, cfg)]
        return out + [tx.history(app, cfg)]

    compare(scenario)


def test_update_without_as_node_after_sends_beside_one_node():
    """The last step ran two Sends to w beside one edge-triggered node x: LangGraph
    updates as x (Send tasks record no channel versions, which is how it infers
    ``as_node``), and so does swiftgraph, instead of calling it ambiguous."""

    def scenario(E):
        g = E.StateGraph(S)
        for n in ("fan", "w", "x", "y"):
            g.add_node(n, logger(n))
        g.add_edge(E.START, "fan")
        g.add_conditional_edges("fan", lambda s: [E.Send("w", s), E.Send("w", s), "x"], ["w", "x"])
        g.add_edge("x", "y")
        tx = Tx()
        app, cfg = g.compile(checkpointer=saver(E), interrupt_before=["y"]), thread("sx")
        out = [tx.attempt(app.invoke, {"log": []}, cfg), tx.state(app, cfg)]
        out += [tx.attempt(app.update_state, cfg, {"log": ["u"]}), tx.state(app, cfg)]
        out += [tx.attempt(app.invoke, None, cfg), tx.state(app, cfg)]
        return out

    compare(scenario)


# --- update_state's special nodes (END, "__input__", "__copy__") and bulk_update_state


def fork_with_sibling(E, calls):
    """a -> (p -> r, q asks): q pauses in interrupt() while p has finished."""
    g = E.StateGraph(S)
    for n in "apr":
        g.add_node(n, logger(n, calls))
    g.add_node("q", asking(E, "q", "ask", calls=calls))
    g.add_edge(E.START, "a")
    g.add_edge("a", "p")
    g.add_edge("a", "q")
    g.add_edge("p", "r")
    return g.compile(checkpointer=saver(E))


@pytest.mark.parametrize("where", ["breakpoint", "interrupt", "finished", "empty-thread"])
def test_update_as_end_clears_pending_tasks(where):
    """``update_state(config, None, as_node=END)``: the pending tasks are dropped; the
    writes of those that finished are applied (p's, which trigger r)."""

    def scenario(E):
        tx, calls = Tx(), []
        if where == "interrupt":
            app = fork_with_sibling(E, calls)
        else:
            app = chain(E, "a", "b", "c", interrupt_before=["b"] if where == "breakpoint" else None)
        cfg = thread(f"end-{where}")
        if where != "empty-thread":
            app.invoke({"log": []}, cfg)
        out = forked(tx, app, cfg, lambda: app.update_state(cfg, None, as_node=E.END))
        return out + [tx.attempt(resume_if_pending, app, cfg), tx.state(app, cfg), calls]

    compare(scenario)


def input_update(E, tx, where: str) -> list:
    app = chain(E, "a", "b", interrupt_before=["b"] if where == "breakpoint" else None)
    cfg = thread(f"in-{where}")
    if where != "empty-thread":
        app.invoke({"log": ["first"]}, cfg)
    out = forked(tx, app, cfg, lambda: app.update_state(cfg, {"log": ["in"]}, as_node="__input__"))
    return out + forked(tx, app, cfg, lambda: app.invoke(None, cfg))


@pytest.mark.parametrize("where", ["empty-thread", "finished"])
def test_update_as_input_starts_a_new_run(where):
    compare(lambda E: input_update(E, Tx(), where))


@divergence
def test_update_as_input_drops_pending_tasks():
    """Deliberate: on a thread stopped before b, LangGraph's input update leaves b
    pending beside START (the next step runs both: 'in', 'b', then 'a'); swiftgraph's
    input checkpoint is a new run's, as ``invoke(input)`` makes: START alone."""
    lg, sg = run_both(lambda E: input_update(E, Tx(), "breakpoint"), None, "build")
    assert lg.value[1][1]["next"] == ("__start__", "b")
    assert sg.value[1][1]["next"] == ("__start__",)
    assert lg.value[3] == ("ok", {"log": ["first", "a", "in", "b", "a"]})
    assert sg.value[3] == ("ok", {"log": ["first", "a", "in", "a"]})


@pytest.mark.parametrize("then", [None, "updates"])
def test_update_as_copy_forks_beside_the_checkpoint(then):
    """``as_node="__copy__"``: the same values and next tasks, the same parent; with a
    list of ``(values, as_node)`` it also applies them, as a step after the copy."""

    def scenario(E):
        tx = Tx()
        app, cfg = chain(E, "a", "b", "c", interrupt_before=["b"]), thread(f"copy-{then}")
        app.invoke({"log": []}, cfg)
        values = [({"log": ["u"]}, "b")] if then else None
        out = forked(tx, app, cfg, lambda: app.update_state(cfg, values, as_node="__copy__"))
        return out + forked(tx, app, cfg, lambda: app.invoke(None, cfg))

    compare(scenario)


def test_bulk_update_state_applies_each_superstep_as_one_step():
    """[[u1 as b, u2 as a], [u3 as c]]: a step's updates apply in the order given (b's
    before a's), each step is one checkpoint, and the routes of every update fire."""

    def scenario(E):
        tx = Tx()
        app, cfg = chain(E, "a", "b", "c", interrupt_before=["b"]), thread("bulk")
        app.invoke({"log": []}, cfg)
        steps = [[E.types.StateUpdate({"log": ["u1"]}, "b"), ({"log": ["u2"]}, "a", None)],
                 [E.types.StateUpdate({"log": ["u3"]}, "c")]]
        out = forked(tx, app, cfg, lambda: app.bulk_update_state(cfg, steps))
        return out + forked(tx, app, cfg, lambda: app.invoke(None, cfg))

    compare(scenario)


def test_bulk_update_state_async():
    def scenario(E):
        import asyncio

        tx = Tx()
        app, cfg = chain(E, "a", "b", "c", interrupt_before=["b"]), thread("abulk")

        async def go():
            await app.ainvoke({"log": []}, cfg)
            await app.abulk_update_state(cfg, [[({"log": ["u1"]}, "b", None), ({"log": ["u2"]}, "b", None)]])
            await app.aupdate_state(cfg, None, as_node="__copy__")
            return [tx(await app.aget_state(cfg)), tx(await app.ainvoke(None, cfg))]

        return asyncio.run(go())

    compare(scenario)


@pytest.mark.parametrize("case", [
    "no-supersteps", "empty-superstep", "two-without-as-node", "end-twice", "input-twice",
    "copy-twice", "copy-empty-thread", "input-none", "copy-bad-item",
])
def test_bulk_and_special_update_errors(case):
    def scenario(E):
        tx = Tx()
        app, cfg = chain(E, "a", "b"), thread(f"err-{case}")
        if case != "copy-empty-thread":
            app.invoke({"log": []}, cfg)
        U = E.types.StateUpdate
        steps = {
            "no-supersteps": [],
            "empty-superstep": [[]],
            "two-without-as-node": [[U({"log": [1]}), U({"log": [2]}, "a")]],
            "end-twice": [[U(None, E.END), U(None, E.END)]],
            "input-twice": [[U({"log": [1]}, "__input__"), U({"log": [2]}, "a")]],
            "copy-twice": [[U(None, "__copy__"), U({"log": [2]}, "a")]],
            "copy-empty-thread": [[U(None, "__copy__")]],
            "input-none": [[U(None, "__input__")]],
            "copy-bad-item": [[U([5], "__copy__")]],
        }[case]
        return [tx.attempt(app.bulk_update_state, cfg, steps), tx.history(app, cfg)]

    compare(scenario)


@pytest.mark.parametrize("how", ["subgraph", "invoked", "interrupting"])
def test_time_travel_through_a_subgraph(how):
    """Replaying (invoke(None, old config)) and forking (update_state on it) from the
    checkpoint before a subgraph node: the subgraph runs afresh for the new branch.
    (Its run used to take the parent's checkpoint_id for one of its own.)"""

    def scenario(E):
        tx = Tx()
        inner = steps(E, ("s1", logger("s1")),
                      ("s2", asking(E, "s2", "q") if how == "interrupting" else logger("s2")))

        def invokes(state):
            return {"log": inner.invoke({"log": []})["log"]}

        g = E.StateGraph(S)
        g.add_node("a", logger("a"))
        g.add_node("child", invokes if how == "invoked" else inner)
        g.add_node("p", logger("p"))
        g.add_edge(E.START, "a")
        g.add_edge("a", "child")
        g.add_edge("child", "p")
        app, cfg = g.compile(checkpointer=saver(E)), thread(f"tt-{how}")
        out = [tx.attempt(app.invoke, {"log": []}, cfg)]
        if how == "interrupting":
            out.append(tx.attempt(app.invoke, E.Command(resume="yes"), cfg))
        before = ids_by_step(app, cfg)[1]  # next: child
        out.append(tx.attempt(app.invoke, None, before))
        out.append(tx.attempt(lambda: app.invoke(None, app.update_state(before, {"log": ["u"]}))))
        return out + [tx.state(app, cfg), tx.history(app, cfg)]

    compare(scenario)
