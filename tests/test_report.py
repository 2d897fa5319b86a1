"""Run reports: critical-path analysis and the text/Mermaid/SVG/HTML renderers."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest

from swiftgraph._internal.draw import END, START, graph_from_edges
from swiftgraph._internal.timeline import TaskRecord, Timeline
from swiftgraph.report import (
    critical_path,
    gantt_mermaid,
    gantt_rich,
    gantt_svg,
    gantt_text,
    render_html,
    write_html,
)
from swiftgraph.report._graph_svg import graph_svg

SVG = "{http://www.w3.org/2000/svg}"


def task(
    id: str, name: str, step: int, start: float, end: float | None, **kw: object
) -> TaskRecord:
    outcome = kw.pop("outcome", "ok" if end is not None else "running")
    return TaskRecord(id, name, step, start, end, outcome, **kw)  # type: ignore[arg-type]


def hiring() -> Timeline:
    """The lesson's graph: parse -> (background | references) -> decide."""
    return Timeline(
        "run-1",
        "hiring",
        0.0,
        5.0,
        [
            task("t1", "parse", 0, 0.0, 2.0),
            task("t2", "background", 1, 2.0, 5.0),
            task("t3", "references", 1, 2.0, 4.0),
            task("t4", "decide", 2, 5.0, 5.0),
        ],
    )


def functional() -> Timeline:
    """An entrypoint (0-10s) awaiting tasks: a & b in parallel, then c after b."""
    ns = ("main:e1",)
    return Timeline(
        "run-2",
        "workflow",
        0.0,
        10.0,
        [
            task("e1", "main", 0, 0.0, 10.0),
            task("a", "fetch_a", 0, 1.0, 4.0, namespace=ns),
            task("b", "fetch_b", 0, 1.0, 6.0, namespace=ns),
            task("c", "combine", 0, 6.0005, 9.0, namespace=ns),
        ],
    )


# --- analysis -----------------------------------------------------------------------------


def test_hiring_critical_path() -> None:
    cp = critical_path(hiring())
    assert cp.names == ["parse", "background", "decide"]
    assert cp.length == pytest.approx(5.0)
    assert cp.sequential == pytest.approx(7.0)
    assert cp.wall == pytest.approx(5.0)
    assert cp.saved == pytest.approx(2.0)
    assert cp.parallelism == pytest.approx(1.4)


def test_functional_nested_tasks_count_parent_self_time() -> None:
    cp = critical_path(functional())
    # the entrypoint frames the chain; b (not a) is what c waited for
    assert cp.names == ["main", "fetch_b", "combine"]
    # main's own time: 10s minus the 1..9s its children covered = 2s; a/b/c: 3 + 5 + 3
    assert cp.sequential == pytest.approx(13.0, abs=1e-3)
    assert cp.length == pytest.approx(10.0, abs=1e-3)
    assert cp.saved == pytest.approx(3.0, abs=1e-3)


@dataclass(slots=True)
class CallRecord(TaskRecord):
    """A record with the optional ``parent`` link (a record or a task id)."""

    parent: Any = None


@pytest.mark.parametrize("link", ["record", "id"])
def test_functional_calls_linked_by_parent_attribute(link: str) -> None:
    main = CallRecord("e1", "main", 0, 0.0, 10.0, "ok")
    ref = main if link == "record" else "e1"
    calls = [
        CallRecord("a", "fetch_a", 0, 1.0, 4.0, "ok", parent=ref),
        CallRecord("b", "fetch_b", 0, 1.0, 6.0, "ok", parent=ref),
        CallRecord("c", "combine", 0, 6.0, 9.0, "ok", parent=ref),
    ]
    cp = critical_path(Timeline("r", "wf", 0.0, 10.0, [main, *calls]))
    assert cp.names == ["main", "fetch_b", "combine"]
    assert (cp.sequential, cp.length, cp.saved) == pytest.approx((13.0, 10.0, 3.0))
    assert main in cp and calls[0] not in cp


def test_unresolved_ids_do_not_collapse_tasks() -> None:
    tl = hiring()
    for t in tl.tasks:
        t.id = ""  # a live timeline: the engine fills ids in lazily
    cp = critical_path(tl)
    assert cp.names == ["parse", "background", "decide"]
    assert len(_bars(gantt_svg(tl))) == 4


def test_subgraph_children_found_by_namespace() -> None:
    ns = ("sub:s1",)
    tl = Timeline(
        "r",
        "g",
        0.0,
        7.0,
        [
            task("p", "prep", 0, 0.0, 1.0),
            task("s1", "sub", 1, 1.0, 6.0),
            task("x", "x", 0, 1.0, 3.0, namespace=ns),
            task("y", "y", 1, 3.0, 6.0, namespace=ns),
            task("o", "other", 1, 1.0, 2.0),
            task("f", "finish", 2, 6.0, 7.0),
        ],
    )
    cp = critical_path(tl)
    assert cp.names == ["prep", "sub", "x", "y", "finish"]
    assert cp.sequential == pytest.approx(1 + 0 + 2 + 3 + 1 + 1)
    assert cp.length == pytest.approx(7.0)


def test_single_task() -> None:
    cp = critical_path(Timeline("r", "g", 10.0, 12.5, [task("t", "only", 0, 10.0, 12.5)]))
    assert cp.names == ["only"]
    assert (cp.length, cp.sequential, cp.wall, cp.saved) == pytest.approx((2.5, 2.5, 2.5, 0.0))
    assert cp.parallelism == pytest.approx(1.0)


def test_empty_timeline() -> None:
    cp = critical_path(Timeline())
    assert cp.tasks == () and cp.length == 0.0 and cp.sequential == 0.0
    assert cp.wall == 0.0 and cp.saved == 0.0 and cp.parallelism == 1.0


def test_overlapping_chains_pick_the_one_that_ends_last() -> None:
    tl = Timeline(
        "r",
        "g",
        0.0,
        7.0,
        [
            task("a1", "a1", 0, 0.0, 3.0),
            task("b1", "b1", 0, 0.0, 1.0),
            task("a2", "a2", 1, 3.0, 6.0),
            task("b2", "b2", 1, 1.2, 7.0),
        ],
    )
    cp = critical_path(tl)
    assert cp.names == ["b1", "b2"]
    assert cp.length == pytest.approx(6.8)
    assert cp.sequential == pytest.approx(12.8)
    assert cp.saved == pytest.approx(5.8)


def test_clock_slop_is_tolerated_both_ways() -> None:
    tl = Timeline(
        "r",
        "g",
        0.0,
        3.0,
        [
            task("a", "a", 0, 0.0, 1.0),
            task("b", "b", 1, 0.9995, 2.0),  # "started" 0.5 ms before a ended
            task("c", "c", 2, 2.0008, 3.0),
        ],
    )
    assert critical_path(tl).names == ["a", "b", "c"]


def test_zero_length_tasks_and_running_tasks() -> None:
    tl = Timeline(
        "r",
        "g",
        0.0,
        None,
        [
            task("a", "a", 0, 0.0, 1.0),
            task("z1", "z1", 1, 1.0, 1.0),
            task("z2", "z2", 1, 1.0, 1.0),
            task("run", "still_running", 2, 1.0, None),
        ],
    )
    cp = critical_path(tl)
    assert cp.names[0] == "a" and len(cp.names) == 2  # one of the parallel zero-length tasks
    assert cp.wall == pytest.approx(1.0)  # no end yet: span of the finished tasks


def test_origin_is_run_start_with_perf_counter_readings() -> None:
    tl = hiring()
    for t in tl.tasks:
        t.start += 5000.0
        t.end = (t.end or 0) + 5000.0
    tl.start, tl.end = 5000.0, 5005.0
    cp = critical_path(tl)
    assert cp.wall == pytest.approx(5.0) and cp.saved == pytest.approx(2.0)
    assert "5.00s" in gantt_text(tl)


# --- text, mermaid, rich --------------------------------------------------------------------


def test_gantt_text() -> None:
    text = gantt_text(hiring(), width=40)
    lines = text.splitlines()
    bars = [ln for ln in lines if "|" in ln]
    assert len(bars) == 4
    assert all(len(ln.split("|")[1]) == 40 for ln in bars)
    assert "critical path (*): parse -> background -> decide" in text
    crit = [ln for ln in bars if ln.endswith("*")]
    assert [ln.split()[0] for ln in crit] == ["parse", "background", "decide"]
    assert "=" in next(ln for ln in bars if ln.startswith("references"))
    assert "saved 2.00s" in text
    assert gantt_text(Timeline()) == "(no tasks)\n"


def test_gantt_mermaid() -> None:
    tl = hiring()
    tl.tasks.append(task("t9", "odd: name; #1", 1, 2.0, 2.5, outcome="error"))
    text = gantt_mermaid(tl)
    lines = text.splitlines()
    assert lines[0] == "gantt" and "    dateFormat x" in lines
    tasks = [ln for ln in lines if re.search(r":(crit, )?t\d+, \d+, \d+$", ln)]
    assert len(tasks) == 5
    assert sum(":crit," in ln for ln in tasks) == 3
    assert "    parse 2.00s :crit, t0, 0, 2000" in lines
    assert any(ln.strip().startswith("decide") and ln.endswith("5000, 5001") for ln in lines)
    odd = next(ln for ln in tasks if "odd" in ln)
    assert odd.split(" :")[0].count(":") == 0 and "#" not in odd and ";" not in odd
    assert "(error)" in odd
    assert [ln for ln in lines if ln.startswith("    section")] == [
        "    section step 0",
        "    section step 1",
        "    section step 2",
    ]


def test_gantt_rich_renders() -> None:
    pytest.importorskip("rich")
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(gantt_rich(hiring()))
    out = console.export_text()
    for name in ("parse", "background", "references", "decide"):
        assert name in out
    assert "\u2588" in out and "saved 2.00s" in out


def test_gantt_rich_without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich.table", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'swiftgraph[cli]'")):
        gantt_rich(hiring())


# --- SVG -----------------------------------------------------------------------------------


def _bars(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return [r for r in root.iter(f"{SVG}rect") if "bar" in r.get("class", "").split()]


def test_gantt_svg_one_bar_per_task_and_critical_marked() -> None:
    svg = gantt_svg(hiring(), title="Hiring")
    bars = _bars(svg)
    assert [b.get("data-task-id") for b in bars] == ["t1", "t3", "t2", "t4"]
    crit = {b.get("data-task-id") for b in bars if "crit" in b.get("class", "").split()}
    assert crit == {"t1", "t2", "t4"}
    x = {b.get("data-task-id"): float(b.get("x", "0")) for b in bars}
    assert x["t2"] == pytest.approx(x["t3"])
    assert x["t1"] < x["t2"] < x["t4"]
    assert all(float(b.get("width", "0")) >= 2 for b in bars)  # zero-length still visible
    assert "Hiring" in svg and "step 1" in svg


def test_gantt_svg_escapes_names() -> None:
    tl = hiring()
    tl.tasks.append(task('x&"1', 'A <b>&"bold"</b>\x00', 1, 2.0, 3.0))
    svg = gantt_svg(tl)
    bars = _bars(svg)  # still well-formed XML
    assert len(bars) == 5
    assert 'x&"1' in {b.get("data-task-id") for b in bars}  # attribute round-trips
    assert "<b>" not in svg and "\x00" not in svg


def test_gantt_svg_many_tasks_and_empty() -> None:
    tasks = [task(f"t{i}", f"node_{i}", i // 4, i * 0.01, i * 0.01 + 0.05) for i in range(40)]
    svg = gantt_svg(Timeline("r", "big", 0.0, 0.45, tasks))
    assert len(_bars(svg)) == 40
    assert "ms</text>" in svg  # sub-second axis ticks
    assert _bars(gantt_svg(Timeline())) == []


def test_graph_svg_nodes_edges_and_highlight() -> None:
    g = graph_from_edges(
        [START, "parse", "background", "references", "decide", END],
        [
            (START, "parse", False, None),
            ("parse", "background", False, None),
            ("parse", "references", False, None),
            ("background", "decide", False, None),
            ("references", "decide", True, "refs ok"),
            ("decide", "parse", True, "again"),
            ("decide", END, False, None),
        ],
    )
    root = ET.fromstring(graph_svg(g, critical=["parse", "background", "decide"]))
    nodes = [e for e in root.iter(f"{SVG}g") if "node" in e.get("class", "").split()]
    assert [n.get("data-node") for n in nodes] == list(g.nodes)
    hot = {n.get("data-node") for n in nodes if "crit" in n.get("class", "")}
    assert hot == {"parse", "background", "decide"}
    edges = [e for e in root.iter(f"{SVG}path") if "edge" in e.get("class", "").split()]
    assert len(edges) == len(g.edges)
    assert sum("cond" in e.get("class", "") for e in edges) == 2
    assert sum("crit" in e.get("class", "") for e in edges) == 4  # start->parse->bg->decide->end


# --- HTML ----------------------------------------------------------------------------------

EXTERNAL = re.compile(
    r"""(?:src|href)\s*=|url\(\s*['"]?(?:https?:)?//|@import|<link\b|<iframe""", re.IGNORECASE
)


def test_render_html_self_contained_with_every_task(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tl = functional()
    tl.tasks.append(
        task("bad", "<script>alert(1)</script>", 0, 2.0, 2.5, outcome="error", error="Boom <x>")
    )
    tl.tasks[1].input = {"q": "a" * 1000}
    g = graph_from_edges(
        [START, "main", END], [(START, "main", False, None), ("main", END, False, None)]
    )
    html = render_html(tl, graph=g, title="My <run>")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<tr class="task"') == len(tl.tasks) == 5
    ids = re.findall(r'<tr class="task" data-task-id="([^"]+)"', html)
    assert sorted(ids) == sorted(t.id for t in tl.tasks)
    assert html.count("<script>") == 1  # ours; the task named <script> is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Boom &lt;x&gt;" in html
    assert "My &lt;run&gt;" in html
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert re.findall(r"https?://[^\s\"'<]+", html) == ["http://www.w3.org/2000/svg"] * 2
    assert "a" * 300 not in html  # long reprs are truncated
    assert "graph TD;" in html  # Mermaid source included for copy/paste
    assert 'class="graph"' in html and 'class="gantt"' in html
    assert len(re.findall(r'<tr class="task" data-task-id="[^"]+" data-critical>', html)) == 3
    out = tmp_path / "report.html"
    assert write_html(tl, out, graph=g) == str(out)
    assert out.read_text(encoding="utf-8").count('<tr class="task"') == 5


def test_render_html_mermaid_only_and_empty() -> None:
    html = render_html(hiring(), graph_mermaid="graph TD;\n\ta --> b;\n")
    assert "<pre>graph TD;\n\ta --&gt; b;\n</pre>" in html and 'class="graph"' not in html
    empty = render_html(Timeline())
    assert '<tr class="task"' not in empty and "no finished tasks" in empty
