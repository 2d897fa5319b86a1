"""Crash tests: a checkpointed run SIGKILLed at random moments resumes to the same result.

A subprocess (``tests/crash_worker.py``) runs a 7-superstep graph with parallel branches
and a ``Send`` map-reduce on a real saver (a SQLite file; a PostgreSQL database) with
``durability="sync"``. The parent kills it with SIGKILL after a random delay within the
run's expected duration, then resumes the thread with ``invoke(None, config)`` in fresh
processes, which may be killed too, until one finishes. Every node execution leaves a
``start`` and (right before returning) a ``finished`` line in an fsynced side log.

What may legitimately run twice: a task whose process died before its writes reached
the saver, whether it was mid-sleep or had already returned (its ``finished`` line
written, ``put_writes`` not yet committed). What must never happen, and is asserted:

* **final state** (``get_state`` values, minus the per-execution ids) differs from an
  uninterrupted reference run: same tokens in the same order, same reducer total;
  the history has as many checkpoints as the reference, one per step, a linear chain.
* **a task whose writes were saved runs again**: "finished" means *its writes are in
  the saver* (read back with ``get_writes`` for every checkpoint of the thread). The
  execution whose writes were saved must be the last execution of that task in the
  side log (the log is written in real time order: processes run one after another,
  and a saved write was saved before its process died); it must have a ``finished``
  line; exactly one execution per task has saved writes.
* **a saved write is lost**: every saved write's tokens are in the final state, and
  the final ``execs`` (one id per execution whose writes were applied) are exactly the
  saved executions.
* **a finished execution loses its writes without a crash**: an execution with a
  ``finished`` line but no saved writes must belong to a killed process.
* **a rerun sees another state**: every execution of a task saw the same input (a
  digest of the state it was given) as in the reference run, under one task id.

Kills: the first run by the parent's timer; resumes (up to two killed) by the timer or
by the worker itself right before/after the saver stores a chosen task's writes.
``test_fixed_crash_points`` hits those windows deterministically, and
``test_the_checks_catch_...`` runs a saver that forgets pending writes to show the
checks fail when a saved task reruns. Seeds are printed in every assertion message;
replay one with ``CRASH_SEED=<seed> pytest tests/test_crash.py -k "sigkill and <backend>"``
(kill timing still varies with the machine).

The ``after-save-join`` case pins a bug found this way and fixed: Sends restored from
stored pending writes were dropped (their channel name wasn't the interned constant the
loop compares by identity), so a run killed in that window lost its map step.

``test_processes_share_one_database``: 4 processes x 50 invocations (distinct threads,
waves of 10 concurrent ``ainvoke``s, durability cycling sync/async/exit) on one SQLite
file / one PostgreSQL database at once; then every thread's state and history.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import crash_worker as cw
import pytest

WORKER = Path(__file__).resolve().with_name("crash_worker.py")
KILLS_PER_BACKEND = int(os.environ.get("CRASH_KILLS", "15"))
PARALLEL = 4  # scenarios driven at once (each is a chain of subprocesses)
MAX_KILLED_RESUMES = 2  # resumes that may be killed before one is left to finish
RESUME_KILL_P = 0.5
PROC_TIMEOUT = 60


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    return env


ENV = _env()


@dataclass
class Attempt:
    pid: int
    mode: str  # "input" | "resume" as the worker reported it
    kill_after: float | None
    crash_point: list[str]  # the worker's --die-*-save arguments, if any
    killed: bool
    returncode: int
    output: str
    run_s: float  # from "ready" (the graph is about to run) to the process's exit


@dataclass
class Scenario:
    backend: str
    seed: int
    thread: str
    log: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def killed_pids(self) -> set[int]:
        return {a.pid for a in self.attempts if a.killed}

    def describe(self) -> str:
        def how(a: Attempt) -> str:
            if not a.killed:
                return "finished"
            if a.crash_point:
                return f"killed itself at {' '.join(a.crash_point)}"
            return f"killed at {a.kill_after * 1e3:.0f} ms"  # type: ignore[operator]

        steps = ", ".join(f"{a.mode}(pid {a.pid}, {how(a)})" for a in self.attempts)
        return f"[{self.backend} seed={self.seed} thread={self.thread}: {steps}]"


def run_worker(
    backend: str,
    target: str,
    thread: str,
    log: str,
    seed: int,
    *,
    start: bool,
    kill_after: float | None = None,
    crash_point: list[str] | None = None,
    extra: list[str] | None = None,
) -> Attempt:
    cmd = [
        sys.executable,
        str(WORKER),
        "run",
        "--backend",
        backend,
        "--target",
        target,
        "--thread",
        thread,
        "--log",
        log,
        "--seed",
        str(seed),
        *(crash_point or []),
        *(extra or []),
    ]
    if start:
        cmd.append("--start")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        ready = p.stdout.readline()  # type: ignore[union-attr]
        if not ready.startswith("ready"):
            p.kill()
            out, err = p.communicate(timeout=PROC_TIMEOUT)
            raise AssertionError(f"worker did not start (seed {seed}): {ready}{out}\n{err}")
        mode = ready.split()[1]
        t_ready = time.perf_counter()
        if kill_after is not None:
            time.sleep(kill_after)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)  # it may exit on its own just before this lands
        out, err = p.communicate(timeout=PROC_TIMEOUT)
        run_s = time.perf_counter() - t_ready
    except BaseException:
        with contextlib.suppress(OSError):
            p.kill()
        raise
    killed = p.returncode == -signal.SIGKILL
    assert killed or p.returncode == 0, (
        f"worker failed (seed {seed}, thread {thread}, exit {p.returncode}):\n{err[-3000:]}"
    )
    return Attempt(p.pid, mode, kill_after, crash_point or [], killed, p.returncode, out, run_s)


def run_scenario(backend: str, target: str, seed: int, tmp: Path, expected_s: float) -> Scenario:
    """The first run killed by the parent after a random delay; resumes killed (with
    probability RESUME_KILL_P, at most MAX_KILLED_RESUMES times) alternately by the
    parent's timer and by the worker itself right before or after the saver stores a
    random task's writes (a resume that never reaches that task just finishes)."""
    rng = random.Random(seed)
    thread = f"crash-{backend}-{seed}"
    sc = Scenario(backend, seed, thread, str(tmp / f"{thread}.log"))
    sc.attempts.append(
        run_worker(
            backend, target, thread, sc.log, seed, start=True, kill_after=rng.uniform(0, expected_s)
        )
    )
    for n in range(MAX_KILLED_RESUMES + 1):
        kill = n < MAX_KILLED_RESUMES and rng.random() < RESUME_KILL_P
        timer = crash_point = None
        if kill and rng.random() < 0.5:
            timer = rng.uniform(0, expected_s)
        elif kill:
            crash_point = [
                rng.choice(["--die-before-save", "--die-after-save"]),
                rng.choice(cw.KEYS),
            ]
        a = run_worker(
            backend,
            target,
            thread,
            sc.log,
            seed,
            start=False,
            kill_after=timer,
            crash_point=crash_point,
        )
        sc.attempts.append(a)
        if not a.killed:
            return sc
    raise AssertionError(f"{sc.describe()} the last resume was killed")


# --------------------------------------------------------------------- reading the outcome


@dataclass
class Outcome:
    values: dict[str, Any]
    next: tuple[str, ...]
    steps: list[int]  # checkpoint steps, oldest first
    linear: bool  # every checkpoint's parent is the previous one
    saved: dict[str, list[tuple[str, str, list[str]]]]  # key -> [(exec, task_id, tokens)]


def read_outcome(saver: Any, thread: str) -> Outcome:
    graph = cw.build(saver)
    config = {"configurable": {"thread_id": thread}}
    snap = graph.get_state(config)
    records = list(saver.list(thread))[::-1]
    linear = all(b.parent_id == a.checkpoint_id for a, b in itertools.pairwise(records))
    linear = linear and bool(records) and records[0].parent_id is None
    saved: dict[str, list[tuple[str, str, list[str]]]] = collections.defaultdict(list)
    for rec in records:
        by_task: dict[str, dict[str, Any]] = collections.defaultdict(dict)
        for w in saver.get_writes(thread, "", rec.checkpoint_id):
            if "__start__" not in w.task_path:  # the input's writes, not a node's
                by_task[w.task_id][w.channel] = saver.serde.loads(w.value)
        for task_id, chans in by_task.items():
            if "execs" in chans:
                (exec_id,) = chans["execs"]
                saved[exec_id.split("#")[0]].append((exec_id, task_id, chans.get("tokens", [])))
    return Outcome(
        dict(snap.values), tuple(snap.next), [r.step for r in records], linear, dict(saved)
    )


def comparable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "execs"}


@dataclass
class Stats:
    scenarios: int = 0
    first_run_killed: int = 0
    killed_resumes: int = 0
    reruns: int = 0  # executions that had to run again (killed before their writes were saved)
    finished_unsaved: int = 0  # returned ("finished" logged) but killed before put_writes
    reused_after_kill: int = 0  # saved writes of a killed process used, not rerun
    partial_steps: int = 0  # steps cut by a kill after some of their tasks' writes were saved


def check_scenario(
    sc: Scenario, out: Outcome, ref: Outcome, ref_inputs: dict[str, str], stats: Stats
) -> None:
    where = sc.describe()
    # 1. the same result as an uninterrupted run, and the same history shape
    assert out.next == (), f"{where} thread not finished: next={out.next}"
    assert comparable(out.values) == comparable(ref.values), (
        f"{where} final state differs from the reference run:\n"
        f"  got      {comparable(out.values)}\n  expected {comparable(ref.values)}"
    )
    assert out.steps == ref.steps and out.linear, (
        f"{where} history: steps {out.steps} (linear={out.linear}), reference {ref.steps}"
    )

    events = cw.read_log(sc.log)
    starts: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    finished: set[str] = set()
    for e in events:
        if e["ev"] == "start":
            starts[e["key"]].append(e)
        else:
            finished.add(e["exec"])
    assert set(starts) == set(cw.KEYS), f"{where} tasks never ran: {set(cw.KEYS) - set(starts)}"
    assert set(out.saved) == set(cw.KEYS), (
        f"{where} tasks without saved writes: {set(cw.KEYS) - set(out.saved)}"
    )

    final_execs = out.values["execs"]
    saved_execs = []
    for key in cw.KEYS:
        saves = out.saved[key]
        # 2. exactly one execution of each task got its writes stored ...
        assert len(saves) == 1, (
            f"{where} task {key!r} has writes saved by several executions: {saves}"
        )
        exec_id, task_id, tokens = saves[0]
        saved_execs.append(exec_id)
        execs = [e["exec"] for e in starts[key]]
        assert exec_id in execs, (
            f"{where} saved execution {exec_id} of {key!r} is not in the side log"
        )
        # ... and once stored, the task never ran again
        assert execs[-1] == exec_id, (
            f"{where} task {key!r} ran again after its writes were saved: saved by {exec_id}, "
            f"executions in order {execs}"
        )
        assert exec_id in finished, (
            f"{where} {exec_id} has saved writes but never logged 'finished'"
        )
        # 3. no saved write lost: its tokens are in the final state
        for tok in tokens:
            assert tok in out.values["tokens"], f"{where} saved token {tok!r} of {exec_id} lost"
        # 4. every execution of a task saw the same input and had the same task id
        seen = {e["input"] for e in starts[key]}
        assert seen == {ref_inputs[key]}, (
            f"{where} task {key!r} saw inputs {seen}, reference {ref_inputs[key]}: "
            "a resumed run restored a different state"
        )
        ids = {e["task_id"] for e in starts[key]}
        assert ids == {task_id}, f"{where} task {key!r} ran with task ids {ids}, saved as {task_id}"
        # 5. executions that finished without saved writes died with their process
        for e in starts[key][:-1]:
            assert e["pid"] in sc.killed_pids, (
                f"{where} {e['exec']} of {key!r} was superseded but its process {e['pid']} was not killed"
            )
            stats.reruns += 1
            if e["exec"] in finished:
                stats.finished_unsaved += 1
    # 3'. the writes applied are exactly the saved ones, each once
    assert sorted(final_execs) == sorted(saved_execs), (
        f"{where} applied executions {sorted(final_execs)} != saved executions {sorted(saved_execs)}"
    )

    stats.scenarios += 1
    stats.first_run_killed += sc.attempts[0].killed
    stats.killed_resumes += sum(a.killed for a in sc.attempts[1:])
    pid_of = {key: int(out.saved[key][0][0].split("#")[1].split(".")[0]) for key in cw.KEYS}
    stats.reused_after_kill += sum(pid in sc.killed_pids for pid in pid_of.values())
    by_step: dict[int, set[int]] = collections.defaultdict(set)
    for key, pid in pid_of.items():
        by_step[cw.STEP_OF[key]].add(pid)
    stats.partial_steps += sum(
        1 for pids in by_step.values() if len(pids) > 1 and pids & sc.killed_pids
    )


# --------------------------------------------------------------------- the crash test


@pytest.fixture
def pg_schema_dsn(pg_dsn: str) -> Iterator[str]:
    """A DSN whose ``search_path`` is a fresh, empty schema (dropped afterwards)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"crash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield make_conninfo(pg_dsn, options=f"-c search_path={schema}")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return str(tmp_path / "crash.sqlite")
    return request.getfixturevalue("pg_schema_dsn")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_at_random_moments_then_resume(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = _target(backend, request, tmp_path)

    # uninterrupted reference runs, PARALLEL at once (the load the crash runs will see):
    # their result, inputs, history, and how long a run takes from "ready" to exit
    def reference(i: int) -> tuple[float, Scenario]:
        sc = Scenario(backend, -1, f"ref-{backend}-{i}", str(tmp_path / f"ref{i}.log"))
        sc.attempts.append(
            run_worker(backend, target, sc.thread, sc.log, i, start=True, kill_after=None)
        )
        return sc.attempts[0].run_s, sc

    with ThreadPoolExecutor(PARALLEL) as pool:
        refs = list(pool.map(reference, range(PARALLEL)))
    expected_s = max(d for d, _ in refs)
    with cw.open_saver(backend, target) as saver:
        ref = read_outcome(saver, refs[0][1].thread)
        for _, sc in refs:
            other = read_outcome(saver, sc.thread)
            assert comparable(other.values) == comparable(ref.values) and other.steps == ref.steps
    ref_inputs = {e["key"]: e["input"] for e in cw.read_log(refs[0][1].log) if e["ev"] == "start"}
    assert len(ref_inputs) == len(cw.KEYS) and len(cw.read_log(refs[0][1].log)) == 2 * len(cw.KEYS)
    assert ref.next == () and len(ref.values["tokens"]) == len(cw.KEYS)

    base = int(os.environ.get("CRASH_SEED", random.randrange(1_000_000)))
    seeds = [base + i for i in range(KILLS_PER_BACKEND if "CRASH_SEED" not in os.environ else 1)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        scenarios = list(
            pool.map(lambda s: run_scenario(backend, target, s, tmp_path, expected_s), seeds)
        )

    stats = Stats()
    with cw.open_saver(backend, target) as saver:
        for sc in scenarios:
            check_scenario(sc, read_outcome(saver, sc.thread), ref, ref_inputs, stats)
    print(f"\n{backend}: seeds {seeds[0]}..{seeds[-1]}, run ~{expected_s * 1e3:.0f} ms, {stats}")
    # the kills must mostly land inside the run, or the test proves little
    assert stats.first_run_killed >= len(seeds) // 2, (
        f"only {stats.first_run_killed}/{len(seeds)} first runs were killed before finishing "
        f"(seeds {seeds[0]}..{seeds[-1]}): {[sc.describe() for sc in scenarios]}"
    )


# --------------------------------------------------------------------- many processes at once

CONC_PROCS = 4
CONC_RUNS = 50


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_share_one_database(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = _target(backend, request, tmp_path)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "concurrent",
                "--backend",
                backend,
                "--target",
                target,
                "--proc",
                str(w),
                "--runs",
                str(CONC_RUNS),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for w in range(CONC_PROCS)
    ]
    try:
        for p in procs:  # every process has opened the database ...
            line = p.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith("ready"), (line, p.stderr.read())  # type: ignore[union-attr]
        for p in procs:  # ... then all start together
            p.stdin.write("go\n")  # type: ignore[union-attr]
            p.stdin.flush()  # type: ignore[union-attr]
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for w, (p, (out, err)) in enumerate(zip(procs, results)):
        assert "database is locked" not in out + err, (
            f"process {w} saw 'database is locked':\n{err[-2000:]}"
        )
        assert p.returncode == 0, f"process {w} failed:\n{err[-3000:]}"
        assert out.strip().splitlines()[-1].startswith("done"), out
    print(
        f"\n{backend}: busy retries per process",
        [o.strip().splitlines()[-1][5:] for o, _ in results],
    )

    from swiftgraph.checkpoint.memory import InMemorySaver

    # checkpoints per thread, by durability (as LangGraph: "exit" stores only the last one)
    ref = cw.build_concurrent(InMemorySaver())
    expected_history = {}
    for d in cw.DURABILITIES:
        ref.invoke({"n": 0, "items": []}, {"configurable": {"thread_id": d}}, durability=d)
        expected_history[d] = len(list(ref.get_state_history({"configurable": {"thread_id": d}})))
    assert expected_history["sync"] == expected_history["async"] == 1 + 1 + cw.CONC_GRAPH_STEPS

    with cw.open_saver(backend, target) as saver:
        graph = cw.build_concurrent(saver)
        bad = []
        for w in range(CONC_PROCS):
            for i in range(CONC_RUNS):
                config = {"configurable": {"thread_id": f"p{w}-t{i}"}}
                snap = graph.get_state(config)
                history = list(graph.get_state_history(config))
                want = expected_history[cw.DURABILITIES[i % len(cw.DURABILITIES)]]
                if (
                    snap.next != ()
                    or snap.values.get("items") != cw.expected_concurrent(i)
                    or len(history) != want
                ):
                    bad.append(
                        (config["configurable"]["thread_id"], snap.next, snap.values, len(history))
                    )
        assert not bad, f"{len(bad)} threads incomplete or wrong, e.g. {bad[:3]}"
        assert len([t for t in saver.threads() if "-t" in t]) == CONC_PROCS * CONC_RUNS
    if backend == "sqlite":
        with contextlib.closing(sqlite3.connect(target)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --------------------------------------------------------------------- fixed crash points


def _reference(backend: str, target: str, tmp: Path) -> tuple[Outcome, dict[str, str]]:
    sc = Scenario(backend, -1, f"ref-{backend}", str(tmp / "ref.log"))
    run_worker(backend, target, sc.thread, sc.log, 0, start=True)
    with cw.open_saver(backend, target) as saver:
        ref = read_outcome(saver, sc.thread)
    return ref, {e["key"]: e["input"] for e in cw.read_log(sc.log) if e["ev"] == "start"}


def _crash_then_resume(
    target: str, tmp: Path, name: str, crash_point: list[str], extra: list[str]
) -> tuple[Scenario, Outcome]:
    sc = Scenario("sqlite", 0, name, str(tmp / f"{name}.log"))
    sc.attempts.append(
        run_worker(
            "sqlite", target, name, sc.log, 0, start=True, crash_point=crash_point, extra=extra
        )
    )
    assert sc.attempts[-1].killed, f"{sc.describe()} the crash point was never reached"
    sc.attempts.append(run_worker("sqlite", target, name, sc.log, 0, start=False, extra=extra))
    assert not sc.attempts[-1].killed
    with cw.open_saver("sqlite", target) as saver:
        return sc, read_outcome(saver, name)


@pytest.mark.parametrize(
    "crash_point",
    [
        ["--die-before-save", "fan1"],  # fan1 returned ("finished" logged), writes not stored
        ["--die-after-save", "fan1"],  # fan1's writes stored, the rest of its step not
        ["--die-after-save", "map3"],  # inside the Send map step
        ["--die-after-save", "join"],  # join's writes (its Sends) stored, its step not
        ["--die-before-save", "final"],  # the last task
        ["--die-after-save", "final"],  # every write stored, the last checkpoint not
    ],
    ids=lambda c: f"{c[0][2:]}-{c[1]}",
)
def test_fixed_crash_points(crash_point: list[str], tmp_path: Path) -> None:
    """Each window deterministically (SQLite): the same checks as the random kills."""
    target = str(tmp_path / "fixed.sqlite")
    ref, ref_inputs = _reference("sqlite", target, tmp_path)
    sc, out = _crash_then_resume(target, tmp_path, "t", crash_point, [])
    stats = Stats()
    check_scenario(sc, out, ref, ref_inputs, stats)
    key = crash_point[1]
    if crash_point[0] == "--die-before-save":  # the returned task ran again, nothing else
        assert stats.finished_unsaved == 1, (sc.describe(), stats)
    else:  # the task whose writes were stored was not rerun
        ((exec_id, _, _),) = out.saved[key]
        assert int(exec_id.split("#")[1].split(".")[0]) == sc.attempts[0].pid, sc.describe()


def test_the_checks_catch_a_rerun_of_a_task_whose_writes_were_saved(tmp_path: Path) -> None:
    """The checker has teeth: a saver that forgets pending writes (``get_writes`` returns
    nothing) makes the resumed run redo fan1 although its writes were stored."""
    target = str(tmp_path / "broken.sqlite")
    ref, ref_inputs = _reference("sqlite", target, tmp_path)
    sc, out = _crash_then_resume(
        target, tmp_path, "t", ["--die-after-save", "fan1"], ["--forget-writes"]
    )
    with pytest.raises(AssertionError, match="ran again after its writes were saved"):
        check_scenario(sc, out, ref, ref_inputs, Stats())
