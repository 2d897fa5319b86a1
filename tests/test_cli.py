"""The ``swiftgraph`` command, run as a subprocess (``python -m swiftgraph.cli``),
its checkpoints in a real SQLite file. The inspection commands are also tested
in-process against a stand-in saver holding hand-made records (exact output for
known timestamps).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
UNIT = 0.1



def cli(*args: str, cwd: Path, stdin: str | None = None, timeout: float = 120, **env: str):
    full_env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1", COLUMNS="160")
    full_env.pop("SWIFTGRAPH_DB", None)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p
    )
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "swiftgraph.cli", *args], cwd=str(cwd), env=full_env, input=stdin,
        capture_output=True, text=True, encoding="utf-8", timeout=timeout, check=False,
    )  # fmt: skip


FLOWS = """
import asyncio, operator
from typing import Annotated, TypedDict
from swiftgraph.func import entrypoint, task
from swiftgraph.graph import END, START, StateGraph

class State(TypedDict, total=False):
    name: str
    checks: Annotated[list[str], operator.add]

async def parse(state):
    await asyncio.sleep(0.02)
    return {"checks": ["parsed"]}

async def background(state):
    await asyncio.sleep(0.03)
    return {"checks": ["background"]}

async def references(state):
    await asyncio.sleep(0.02)
    return {"checks": ["references"]}

def decide(state):
    return {"checks": ["decided:" + state["name"]]}

def make_builder():
    g = StateGraph(State)
    for fn in (parse, background, references, decide):
        g.add_node(fn)
    g.add_edge(START, "parse")
    g.add_edge("parse", "background")
    g.add_edge("parse", "references")
    g.add_edge(["background", "references"], "decide")
    g.add_edge("decide", END)
    return g

builder = make_builder()
graph = builder.compile()

def make_graph():
    return make_builder().compile()

@task
async def check(kind: str) -> str:
    await asyncio.sleep(0.01)
    return kind

@entrypoint
async def screen(name: str) -> list:
    first = await check("parsed")
    rest = await asyncio.gather(check("background"), check("references"))
    return [first, *rest, name]

def boom(state):
    raise ValueError("no candidates today")

_b = StateGraph(State)
_b.add_node("parse", parse)
_b.add_node("boom", boom)
_b.add_edge(START, "parse")
_b.add_edge("parse", "boom")
failing = _b.compile()

not_a_graph = 42

def needs_args(x):
    return graph
"""

EXPECTED = {"name": "Bob", "checks": ["parsed", "background", "references", "decided:Bob"]}


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    (tmp_path / "flows.py").write_text(FLOWS, encoding="utf-8")
    (tmp_path / "broken.py").write_text(
        "raise RuntimeError('broken at import')\n", encoding="utf-8"
    )
    return tmp_path


# --------------------------------------------------------------------------- help, imports
def test_help_lists_commands_and_exit_codes(tmp_path: Path) -> None:
    proc = cli("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for word in ("demo", "run", "draw", "threads", "history", "report", "exit codes",
                 "0  success", "1  the workflow raised", "2  usage error", "swiftgraph.sqlite"):  # fmt: skip
        assert word in proc.stdout, (word, proc.stdout)
    sub = cli("run", "--help", cwd=tmp_path)
    assert sub.returncode == 0 and "--stream" in sub.stdout and "exit codes" in sub.stdout


def test_no_command_and_unknown_command_are_usage_errors(tmp_path: Path) -> None:
    assert cli(cwd=tmp_path).returncode == 2
    proc = cli("frobnicate", cwd=tmp_path)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_importing_the_cli_or_the_core_loads_no_rich(tmp_path: Path) -> None:
    code = (
        "import sys, swiftgraph.graph, swiftgraph.func, swiftgraph.cli, swiftgraph.report\n"
        "assert not [m for m in sys.modules if m == 'rich' or m.startswith('rich.')], 'rich'\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- demo
_TIMING = re.compile(r"^(sequential|graph API|functional API)\s+([0-9.]+) s", re.MULTILINE)
_SAVED = re.compile(
    r"^(graph API|functional API): parallelism saved ([0-9.]+) s of ([0-9.]+) s", re.MULTILINE
)
DEMO_TASKS = ("parse", "background", "references", "decide", "screen_candidate", "parse_task",
              "background_task", "reference_task")  # fmt: skip


def _demo(cwd: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict, dict]:
    """Timing on a shared machine is noisy: take the best of a few runs."""
    best = None
    for _ in range(4):
        proc = cli("demo", "--unit", str(UNIT), *extra, cwd=cwd)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        times = {k: float(v) for k, v in _TIMING.findall(proc.stdout)}
        saved = {k: (float(a), float(b)) for k, a, b in _SAVED.findall(proc.stdout)}
        assert set(times) == {"sequential", "graph API", "functional API"}, proc.stdout
        assert set(saved) == {"graph API", "functional API"}, proc.stdout
        err = (
            abs(times["sequential"] - 7)
            + abs(times["graph API"] - 5)
            + abs(times["functional API"] - 5)
        )
        err += sum(abs(amount - 2) for amount, _ in saved.values())
        if best is None or err < best[0]:
            best = (err, proc, times, saved)
        if err <= 0.8:
            break
    return best[1], best[2], best[3]


def test_demo_timings_saved_figure_and_report(tmp_path: Path) -> None:
    proc, times, saved = _demo(tmp_path)
    out = proc.stdout
    assert 6.9 <= times["sequential"] <= 7.8, out
    assert 4.9 <= times["graph API"] <= 5.8, out
    assert 4.9 <= times["functional API"] <= 5.8, out
    for label in ("graph API", "functional API"):
        amount, of = saved[label]
        assert 1.5 <= amount <= 2.1, out  # 7 units of work in ~5: ~2 saved
        assert 6.9 <= of <= 7.6, out
    assert "critical path parse -> background -> decide" in out
    # charts: one per run, on one scale (the sequential one is the widest)
    assert "Gantt charts on one time scale" in out
    for label in ("sequential", "graph API", "functional API"):
        assert re.search(rf"^{label}:$", out, re.MULTILINE), out
    report = tmp_path / "swiftgraph-report.html"
    assert report.is_file()
    assert f"report: {report}" in out
    html = report.read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="task" data-task-id="[^"]+"[^>]*><td>([^<]+)</td>', html)
    assert sorted(rows) == sorted(["parse", "background", "references"]
                                  + ["parse", "background", "references", "decide"]
                                  + ["screen_candidate", "parse_task", "background_task",
                                     "reference_task"])  # fmt: skip
    for name in DEMO_TASKS:
        assert name in html
    ckpt = [line for line in out.splitlines() if line.startswith("checkpoints:")]
    assert len(ckpt) == 1, out
    assert "swiftgraph.sqlite" in ckpt[0] and (tmp_path / "swiftgraph.sqlite").is_file()


def test_demo_plain_custom_report_no_checkpoints(tmp_path: Path) -> None:
    proc = cli("--plain", "demo", "--unit", "0.02", "--no-checkpoints", "--report", "out/r.html",
               cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2 and "out/r.html" in proc.stderr  # no such folder: said plainly
    (tmp_path / "out").mkdir()
    proc = cli("--plain", "demo", "--unit", "0.02", "--no-checkpoints", "--report", "out/r.html",
               cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "checkpoints: off (--no-checkpoints)" in proc.stdout
    assert "critical path (*): parse -> background -> decide" in proc.stdout  # gantt_text
    assert (tmp_path / "out" / "r.html").is_file()
    assert not (tmp_path / "swiftgraph.sqlite").exists()


def test_demo_rejects_a_bad_unit(tmp_path: Path) -> None:
    proc = cli("demo", "--unit", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "--unit" in proc.stderr


# --------------------------------------------------------------------------- run
@pytest.mark.parametrize("attr", ["graph", "builder", "make_graph"])
def test_run_graph_builder_or_factory(flows: Path, attr: str) -> None:
    proc = cli("run", f"flows:{attr}", "--input", '{"name": "Bob"}', cwd=flows)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == EXPECTED


def test_run_entrypoint_and_file_path(flows: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = cli("run", str(flows / "flows.py") + ":screen", "--input", '"Ann"', cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["parsed", "background", "references", "Ann"]


def test_run_input_from_stdin_and_file(flows: Path) -> None:
    proc = cli("run", "flows:graph", "--input", "-", cwd=flows, stdin='{"name": "Bob"}')
    assert proc.returncode == 0 and json.loads(proc.stdout) == EXPECTED, proc.stderr
    (flows / "in.json").write_text('{"name": "Bob"}', encoding="utf-8")
    proc = cli("run", "flows:graph", "--input", "@in.json", cwd=flows)
    assert proc.returncode == 0 and json.loads(proc.stdout) == EXPECTED, proc.stderr


def test_run_stream_prints_updates_then_result(flows: Path) -> None:
    proc = cli("run", "flows:graph", "--input", '{"name": "Bob"}', "--stream", cwd=flows)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[-1] == EXPECTED
    updates = lines[:-1]
    assert next(iter(updates[0])) == "parse"
    assert sorted(next(iter(u)) for u in updates) == ["background", "decide", "parse", "references"]
    assert {"parse": {"checks": ["parsed"]}} in updates
    # progress on stderr, plain lines since it is not a terminal
    err = proc.stderr
    for name in ("parse", "background", "references", "decide"):
        assert re.search(rf"\] start {name}$", err, re.MULTILINE), err
        assert re.search(rf"\] done {name} [0-9.]+s$", err, re.MULTILINE), err


def test_run_report(flows: Path) -> None:
    proc = cli(
        "run", "flows:graph", "--input", '{"name": "Bob"}', "--report", "run.html", cwd=flows
    )
    assert proc.returncode == 0, proc.stderr
    html = (flows / "run.html").read_text(encoding="utf-8")
    assert html.count('<tr class="task"') == 4
    for name in ("parse", "background", "references", "decide"):
        assert f"<td>{name}</td>" in html
    assert "report: run.html" in proc.stderr


def test_run_workflow_error_exits_1_and_still_reports(flows: Path) -> None:
    proc = cli(
        "run", "flows:failing", "--input", '{"name": "Bob"}', "--report", "f.html", cwd=flows
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert "ValueError: no candidates today" in proc.stderr
    assert "swiftgraph: error: the workflow raised ValueError: no candidates today" in proc.stderr
    html = (flows / "f.html").read_text(encoding="utf-8")
    assert '<span class="outcome error">error</span>' in html and "no candidates today" in html


def test_run_import_error_in_module_exits_1(flows: Path) -> None:
    proc = cli("run", "broken:graph", "--input", "{}", cwd=flows)
    assert proc.returncode == 1
    assert "importing broken raised RuntimeError: broken at import" in proc.stderr


@pytest.mark.parametrize(
    ("target", "needles"),
    [
        ("flows", ["expected MODULE:ATTR"]),
        ("flows:", ["expected MODULE:ATTR"]),
        ("flowz:graph", ["module 'flowz' not found", "close names: flows"]),
        ("flows.sub:graph", ["module 'flows.sub' not found"]),
        ("nosuchpkg_xyz.mod:graph", ["module 'nosuchpkg_xyz.mod' not found", "'nosuchpkg_xyz'"]),
        ("flows:grpah", ["module 'flows' has no attribute 'grpah'", "close names: graph",
                         "graphs there:", "screen"]),
        ("flows:graph.nope", ["flows:graph has no attribute 'nope'"]),
        ("flows:not_a_graph", ["flows:not_a_graph is of type int, not a graph"]),
        ("flows:needs_args", ["flows:needs_args is a function taking arguments (x)"]),
        ("missing_dir/flows.py:graph", ["module file not found: missing_dir/flows.py"]),
    ],
)  # fmt: skip
def test_run_bad_target_exits_2(flows: Path, target: str, needles: list[str]) -> None:
    proc = cli("run", target, "--input", "{}", cwd=flows)
    assert proc.returncode == 2, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)
    assert "Traceback" not in proc.stderr


def test_run_bad_json_exits_2_and_shows_where(flows: Path) -> None:
    proc = cli("run", "flows:graph", "--input", '{"name": "Bob",}', cwd=flows)
    assert proc.returncode == 2
    assert "--input is not valid JSON" in proc.stderr
    assert "line 1 column 16" in proc.stderr
    lines = proc.stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == '{"name": "Bob",}')
    assert lines[at + 1].index("^") == lines[at].index("}")
    assert "Traceback" not in proc.stderr


def test_run_missing_input_and_missing_input_file_exit_2(flows: Path) -> None:
    assert cli("run", "flows:graph", cwd=flows).returncode == 2
    proc = cli("run", "flows:graph", "--input", "@nope.json", cwd=flows)
    assert proc.returncode == 2 and "cannot read nope.json" in proc.stderr


# --------------------------------------------------------------------------- draw
def test_draw_formats(flows: Path) -> None:
    sys.path.insert(0, str(flows))
    try:
        spec = importlib.util.spec_from_file_location("flows_for_draw", flows / "flows.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(flows))
    mermaid = cli("draw", "flows:graph", cwd=flows)
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout == module.graph.get_graph().draw_mermaid().rstrip("\n") + "\n"
    ascii_ = cli("draw", "flows:graph", "--format", "ascii", cwd=flows)
    assert ascii_.returncode == 0
    assert ascii_.stdout == module.graph.get_graph().draw_ascii().rstrip("\n") + "\n"
    svg = cli("draw", "flows:builder", "--format", "svg", cwd=flows)
    assert svg.returncode == 0, svg.stderr
    root = ET.fromstring(svg.stdout)
    assert root.tag.endswith("svg")
    for name in ("parse", "background", "references", "decide"):
        assert f">{name}<" in svg.stdout
    ep = cli("draw", "flows:screen", cwd=flows)
    assert ep.returncode == 0 and "screen" in ep.stdout
    bad = cli("draw", "flows:graph", "--format", "png", cwd=flows)
    assert bad.returncode == 2


# --------------------------------------------------------------------------- checkpoints
def test_run_with_thread_then_threads_history_report(flows: Path) -> None:
    db = "ck.sqlite"
    for _ in range(2):
        proc = cli("run", "flows:graph", "--input", '{"name": "Bob"}', "--thread", "t1", "--db", db,
                   cwd=flows)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "checkpoints: thread t1 in ck.sqlite" in proc.stderr
    proc = cli("run", "flows:screen", "--input", '"Ann"', "--thread", "t2", "--db", db, cwd=flows)
    assert proc.returncode == 0, proc.stderr

    threads = cli("threads", "--db", db, "--json", cwd=flows)
    assert threads.returncode == 0, threads.stderr
    rows = {r["thread"]: r for r in map(json.loads, threads.stdout.splitlines())}
    assert set(rows) == {"t1", "t2"}
    assert rows["t1"]["runs_kept"] == 2 and rows["t1"]["checkpoints"] >= 2
    human = cli("threads", "--db", db, cwd=flows)
    assert human.returncode == 0 and "t1" in human.stdout and "t2" in human.stdout

    history = cli("history", "t1", "--db", db, "--json", cwd=flows)
    assert history.returncode == 0, history.stderr
    hist = [json.loads(line) for line in history.stdout.splitlines()]
    ids = [h["checkpoint_id"] for h in hist]
    assert ids == sorted(ids, reverse=True)  # newest first
    written = {w for h in hist for w in h["ran"]}
    assert {"parse", "background", "references", "decide"} <= written
    assert cli("history", "t1", "--db", db, cwd=flows).returncode == 0

    report = cli("report", "t1", "--db", db, "--out", "t1.html", cwd=flows)
    assert report.returncode == 0, report.stderr
    html = (flows / "t1.html").read_text(encoding="utf-8")
    assert html.count('<tr class="task"') == 8  # two runs of four tasks, exact timelines
    assert "Rebuilt from checkpoints" not in html


def test_unknown_thread_and_missing_db_exit_2(flows: Path) -> None:
    proc = cli("run", "flows:graph", "--input", '{"name": "Bob"}', "--thread", "main-1",
               "--db", "ck.sqlite", cwd=flows)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for cmd in (["history", "main-2"], ["report", "main-2"]):
        bad = cli(*cmd, "--db", "ck.sqlite", cwd=flows)
        assert bad.returncode == 2
        assert "thread 'main-2' not found in ck.sqlite" in bad.stderr and "main-1" in bad.stderr
    missing = cli("threads", "--db", "nope.sqlite", cwd=flows)
    assert missing.returncode == 2 and "no checkpoint database at nope.sqlite" in missing.stderr
    assert not (flows / "nope.sqlite").exists()


def test_demo_checkpoints_are_listed(tmp_path: Path) -> None:
    proc = cli("demo", "--unit", "0.02", "--db", "demo.sqlite", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    threads = cli("threads", "--db", "demo.sqlite", "--json", cwd=tmp_path)
    names = [json.loads(line)["thread"] for line in threads.stdout.splitlines()]
    assert any(n.startswith("hiring-graph-") for n in names), names
    assert any(n.startswith("hiring-functional-") for n in names), names


def test_report_rebuilt_from_checkpoints_of_another_program(flows: Path) -> None:
    code = textwrap.dedent("""
        import asyncio, contextlib, flows
        from swiftgraph.checkpoint.sqlite import SqliteSaver
        made = SqliteSaver.from_conn_string("other.sqlite")
        cm = made if hasattr(made, "__enter__") and not hasattr(made, "put") else contextlib.nullcontext(made)
        with cm as saver:
            g = flows.make_builder().compile(checkpointer=saver)
            asyncio.run(g.ainvoke({"name": "Bob"}, {"configurable": {"thread_id": "ext"}}))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), str(flows)]))
    made = subprocess.run(
        [sys.executable, "-c", code], cwd=flows, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    proc = cli("report", "ext", "--db", "other.sqlite", cwd=flows)
    assert proc.returncode == 0, proc.stderr
    html = (flows / "swiftgraph-report-ext.html").read_text(encoding="utf-8")
    assert "Rebuilt from checkpoints" in html
    for name in ("parse", "background", "references", "decide"):
        assert f"<td>{name}</td>" in html


# --------------------------------------------------------------------------- in-process, stand-in saver
class _StandInSaver:
    """What the CLI needs of SqliteSaver: ``from_conn_string`` on a path that exists."""

    saver = None

    @classmethod
    def from_conn_string(cls, path: str):
        return cls.saver


def _records():
    from swiftgraph.checkpoint.base import CheckpointRecord

    def rec(tid, cid, step, source, at, writes):
        meta = {"source": source, "step": step, "writes": writes}
        return CheckpointRecord(tid, "", cid, None, step, at, meta, b"{}", step < 0)

    return [
        rec("alpha", "0001", -1, "input", "2025-01-01T10:00:00.000+00:00", {"__start__": {}}),
        rec("alpha", "0002", 0, "loop", "2025-01-01T10:00:02.000+00:00", {"parse": {}}),
        rec("alpha", "0003", 1, "loop", "2025-01-01T10:00:05.000+00:00",
            {"background": {}, "references": {}}),
        rec("alpha", "0004", 2, "loop", "2025-01-01T10:00:05.010+00:00", {"decide": {}}),
        rec("beta", "0005", -1, "input", "2025-01-01T11:00:00.000+00:00", {"__start__": {}}),
    ]  # fmt: skip


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from swiftgraph.checkpoint.memory import InMemorySaver
    from swiftgraph.cli import _common

    saver = InMemorySaver()
    for r in _records():
        saver.put(r)
    _StandInSaver.saver = saver
    monkeypatch.setattr(_common, "sqlite_saver_class", lambda: _StandInSaver)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "swiftgraph.sqlite").write_bytes(b"")  # the CLI checks the file exists
    return saver


def test_threads_history_report_with_a_stand_in_saver(stand_in, capsys) -> None:
    from swiftgraph.cli import main

    assert main(["--plain", "threads", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["thread"] for r in rows] == ["alpha", "beta"]
    assert rows[0]["checkpoints"] == 4 and rows[0]["last_step"] == 2 and rows[0]["runs_kept"] == 0

    assert main(["--plain", "threads"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "beta" in out

    assert main(["--plain", "history", "alpha", "--json"]) == 0
    hist = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [h["checkpoint_id"] for h in hist] == ["0004", "0003", "0002", "0001"]
    assert hist[1]["ran"] == ["background", "references"] and hist[1]["source"] == "loop"
    assert main(["--plain", "history", "alpha", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "0004" in out and "0002" not in out and "background, references" in out
    assert main(["history", "alpha"]) == 0  # not a terminal: plain lines, rich or not
    out = capsys.readouterr().out
    assert "0001" in out and "references" in out and "\u2503" not in out

    assert main(["--plain", "history", "alpah"]) == 2
    assert "thread 'alpah' not found" in capsys.readouterr().err

    assert main(["--plain", "report", "alpha", "--out", "alpha.html"]) == 0
    captured = capsys.readouterr()
    assert "report: alpha.html" in captured.out and "Rebuilt from checkpoints" in captured.err
    html = Path("alpha.html").read_text(encoding="utf-8")
    assert html.count('<tr class="task"') == 4
    # each task spans its superstep: background and references both 3 s
    assert "3.00s" in html and "Rebuilt from checkpoints" in html


def test_rich_tables_on_a_terminal(stand_in, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rich")
    from swiftgraph.cli import _common, main

    monkeypatch.setattr(_common.Output, "is_terminal", property(lambda self: True))
    assert main(["threads"]) == 0
    out = capsys.readouterr().out
    assert "\u2503" in out and "alpha" in out and "runs kept" in out
    assert main(["history", "alpha"]) == 0
    out = capsys.readouterr().out
    assert "\u2503" in out and "0004" in out and "background" in out and "references" in out


def test_from_checkpoints_splits_runs_and_spans_steps() -> None:
    from dataclasses import replace

    from swiftgraph.cli._store import from_checkpoints

    recs = _records()[:4]
    later = [replace(r, checkpoint_id="1" + r.checkpoint_id,
                     created_at=r.created_at.replace("T10:", "T12:")) for r in recs]  # fmt: skip
    runs = from_checkpoints(recs + later, "alpha")
    assert len(runs) == 2
    tl = runs[0][1]
    assert [t.name for t in tl.tasks] == ["parse", "background", "references", "decide"]
    durations = {t.name: round(t.duration, 3) for t in tl.tasks}
    assert durations == {"parse": 2.0, "background": 3.0, "references": 3.0, "decide": 0.01}
    assert round(tl.wall, 3) == 5.01
    assert all(t.thread == "alpha" for t in tl.tasks)


def test_timeline_store_round_trip(tmp_path: Path) -> None:
    import asyncio

    from swiftgraph.cli._store import graph_to_dict, load_runs, run_counts, save_run
    from swiftgraph.examples import hiring
    from swiftgraph.report import critical_path

    hiring.set_unit(0.01)
    try:
        flow = hiring.build_entrypoint()
        asyncio.run(flow.ainvoke("Ann"))
    finally:
        hiring.set_unit(1.0)
    tl = flow.last_timeline
    db = str(tmp_path / "runs.sqlite")
    save_run(db, "t", "label", tl, flow.get_graph())
    assert run_counts(db) == {"t": 1}
    [(label, back, graph, at)] = load_runs(db, "t")
    assert label == "label" and at
    assert [(t.name, t.step, t.start, t.end, t.outcome) for t in back.tasks] == [
        (t.name, t.step, t.start, t.end, t.outcome) for t in tl.tasks
    ]
    # parent links survive, so the critical path is the same
    assert critical_path(back).names == critical_path(tl).names
    assert graph_to_dict(graph) == graph_to_dict(flow.get_graph())
    assert load_runs(str(tmp_path / "empty.sqlite"), "t") == []


def test_cli_main_returns_codes_in_process(
    flows: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from swiftgraph.cli import main

    monkeypatch.chdir(flows)
    monkeypatch.syspath_prepend(str(flows))
    assert main(["run", "flows:graph", "--input", '{"name": "Bob"}']) == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED
    assert main(["run", "flows:graph", "--input", "{"]) == 2
    assert main(["run", "flows:failing", "--input", '{"name": "x"}']) == 1
    started = time.perf_counter()
    assert main(["draw", "flows:graph", "--format", "ascii"]) == 0
    assert time.perf_counter() - started < 5
    assert main(["draw", "flows:graph", "--plain"]) == 0  # --plain after the command works too
    assert main(["--plain", "draw", "flows:graph"]) == 0
