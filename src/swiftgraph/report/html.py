"""A run report as ONE self-contained HTML file.

It must open anywhere: attached to a bug report, offline, behind a strict CSP
proxy, in a CI artifact viewer.  So there is no CDN, no web font, no image or
script to fetch: styles and a few lines of script are inline, the Gantt chart
and the graph diagram are inline SVG (Mermaid's JS is not available, so the
graph is laid out here; the Mermaid source is included as text to paste
elsewhere).  Each task row is ``<tr class="task" data-task-id=...>`` so tests
(and people with devtools) can find them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from swiftgraph._internal.draw import Graph
from swiftgraph._internal.timeline import Timeline
from swiftgraph.report._fmt import esc, rows, seconds, short_repr
from swiftgraph.report._gantt_svg import gantt_svg
from swiftgraph.report._graph_svg import graph_svg
from swiftgraph.report.analysis import CriticalPath, critical_path

CSS = """
*{box-sizing:border-box}body{margin:0;padding:24px 32px;background:#f8f9fa;color:#212529;
font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 12px}.meta{color:#6c757d;margin:0}
section,header{background:#fff;border:1px solid #e9ecef;border-radius:8px;padding:16px 20px;
margin:0 0 16px}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 12px}
.card{border:1px solid #e9ecef;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}.card span{color:#6c757d;font-size:12px}
.chain{display:flex;flex-wrap:wrap;gap:6px;align-items:center}.pill{background:#fff4e6;
border:1px solid #e8590c;color:#d9480f;border-radius:12px;padding:1px 10px;font-weight:600}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #f1f3f5;vertical-align:top}
th{background:#f8f9fa;position:sticky;top:0}td.num{text-align:right;white-space:nowrap}
tr.task[data-critical] td:first-child{border-left:3px solid #e8590c}
tr.task.hl{background:#fff4e6}code{font-size:12px;word-break:break-all;color:#495057}
.outcome{border-radius:4px;padding:0 6px;font-size:12px;background:#e9ecef}
.outcome.ok{background:#d3f9d8;color:#2b8a3e}.outcome.error{background:#ffe3e3;color:#c92a2a}
.err{color:#c92a2a}body.critonly tr.task:not([data-critical]){display:none}
body.critonly svg.gantt .bar:not(.crit){opacity:.15}pre{background:#f8f9fa;padding:10px;
overflow:auto;font-size:12px}label{font-size:13px;color:#495057}
"""

# Tiny and defensive: it must never throw (the browser test fails on console errors).
SCRIPT = """
(function () {
  var box = document.getElementById("critonly");
  if (box) box.addEventListener("change", function () {
    document.body.classList.toggle("critonly", box.checked);
  });
  var bars = document.querySelectorAll("svg.gantt .bar");
  for (var i = 0; i < bars.length; i++) bars[i].addEventListener("click", function (ev) {
    var id = ev.currentTarget.getAttribute("data-task-id");
    var trs = document.querySelectorAll("tr.task");
    for (var j = 0; j < trs.length; j++) {
      var hit = trs[j].getAttribute("data-task-id") === id;
      trs[j].classList.toggle("hl", hit);
      if (hit) trs[j].scrollIntoView({block: "center"});
    }
  });
  document.documentElement.setAttribute("data-report-ready", "1");
})();
"""


def render_html(
    timeline: Timeline,
    *,
    graph: Graph | None = None,
    graph_mermaid: str | None = None,
    title: str = "swiftgraph run report",
) -> str:
    """The report page: summary, Gantt chart, graph diagram, and a table of every task."""
    cp = critical_path(timeline)
    meta = " \u00b7 ".join(
        x
        for x in (
            f"graph {timeline.graph}" if timeline.graph else "",
            f"run {timeline.run_id}" if timeline.run_id else "",
            f"{len(timeline.tasks)} tasks",
        )
        if x
    )
    parts = [
        f'<header><h1>{esc(title)}</h1><p class="meta">{esc(meta)}</p></header>',
        *_run_sections(timeline, cp, graph, graph_mermaid, prefix=""),
    ]
    return _page(title, parts)


def render_html_runs(
    runs: Sequence[tuple[str, Timeline] | tuple[str, Timeline, Graph | None]],
    *,
    title: str = "swiftgraph runs",
    note: str = "",
) -> str:
    """Several runs on ONE page, to compare them: a table of their wall time,
    sequential time and savings, then each run's summary, Gantt chart (all on the
    same time scale), graph diagram (when given) and task table.

    ``runs`` holds ``(label, timeline)`` or ``(label, timeline, graph)``.
    """
    items = [(r[0], r[1], r[2] if len(r) > 2 else None) for r in runs]  # type: ignore[misc]
    cps = [critical_path(tl) for _, tl, _ in items]
    span = max([cp.wall for cp in cps] + [r.end for (_, tl, _), cp in zip(items, cps)
                                           for r in rows(tl, cp)] + [0.0])
    head = "".join(f"<th>{h}</th>" for h in (
        "run", "wall time", "sequential (sum of tasks)", "saved", "parallelism", "critical path",
    ))  # fmt: skip
    body = "".join(
        f'<tr><td><a href="#run{i}">{esc(label)}</a></td><td class="num">{esc(seconds(cp.wall))}</td>'
        f'<td class="num">{esc(seconds(cp.sequential))}</td>'
        f'<td class="num">{esc(seconds(cp.saved))}</td>'
        f'<td class="num">{cp.parallelism:.2f}x</td><td>{esc(" -> ".join(cp.names))}</td></tr>'
        for i, ((label, _, _), cp) in enumerate(zip(items, cps))
    )
    tasks = sum(len(tl.tasks) for _, tl, _ in items)
    meta = f"{len(items)} runs \u00b7 {tasks} tasks"
    parts = [
        (
            f'<header><h1>{esc(title)}</h1><p class="meta">{esc(meta)}</p>'
            + (f"<p>{esc(note)}</p>" if note else "")
            + '<p><label><input type="checkbox" id="critonly"> critical path only</label></p>'
            + "</header>"
        ),
        (
            f'<section id="runs"><h2>Runs</h2><div class="scroll"><table><thead><tr>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div></section>"
        ),
    ]
    for i, ((label, tl, graph), cp) in enumerate(zip(items, cps)):
        parts.append(f'<h2 class="run" id="run{i}">{esc(label)}</h2>')
        parts.extend(
            _run_sections(tl, cp, graph, None, prefix=f"run{i}-", heading=label, span=span)
        )
    return _page(title, parts)


def _run_sections(
    timeline: Timeline,
    cp: CriticalPath,
    graph: Graph | None,
    graph_mermaid: str | None,
    *,
    prefix: str,
    heading: str = "",
    span: float | None = None,
) -> list[str]:
    """Summary, timeline, graph and task sections of one run; ``prefix`` keeps the
    section ids unique when several runs share a page (the single-run page has no
    prefix and its own "critical path only" box in the timeline section)."""
    table = rows(timeline, cp)
    cards = "".join(
        f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>'
        for k, v in (
            ("wall time", seconds(cp.wall)),
            ("sequential (sum of tasks)", seconds(cp.sequential)),
            ("saved by parallelism", seconds(cp.saved)),
            ("parallelism", f"{cp.parallelism:.2f}x"),
            ("critical path", seconds(cp.length)),
        )
    )
    chain = " <span>\u2192</span> ".join(f'<span class="pill">{esc(n)}</span>' for n in cp.names)
    toggle = (
        ""
        if prefix
        else '<p><label><input type="checkbox" id="critonly"> critical path only</label></p>'
    )
    chart_title = heading or timeline.graph or "Run timeline"
    chart = gantt_svg(timeline, title=chart_title, cp=cp, span=span)
    parts = [
        (
            f'<section id="{prefix}summary"><h2>Summary</h2><div class="cards">{cards}</div>'
            f'<div class="chain"><span>Critical path:</span> {chain or "<em>no finished tasks</em>"}'
            "</div></section>"
        ),
        (
            f'<section id="{prefix}timeline"><h2>Timeline</h2>{toggle}<div class="scroll">'
            f"{chart}</div></section>"
        ),
    ]
    if graph is not None or graph_mermaid is not None:
        mermaid = graph_mermaid if graph_mermaid is not None else graph.draw_mermaid()  # type: ignore[union-attr]
        hot = [t.name for t in cp.tasks if not t.namespace]
        drawing = f'<div class="scroll">{graph_svg(graph, critical=hot)}</div>' if graph else ""
        parts.append(
            f'<section id="{prefix}graph"><h2>Graph</h2>{drawing}<details{"" if graph else " open"}>'
            f"<summary>Mermaid source</summary><pre>{esc(mermaid)}</pre></details></section>"
        )
    parts.append(_task_table(table, prefix))
    return parts


def _page(title: str, parts: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(parts)
        + '\n<footer class="meta">Generated by swiftgraph; this file loads nothing from the network.'
        f"</footer>\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


def _task_table(table: list[Any], prefix: str = "") -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "task", "step", "start", "duration", "outcome", "retries", "thread", "input", "output",
            "error",
        )
    )  # fmt: skip
    body = []
    for r in table:
        t = r.task
        crit = " data-critical" if r.critical else ""
        body.append(
            f'<tr class="task" data-task-id="{esc(t.id)}"{crit}><td>{esc(r.label)}</td>'
            f'<td class="num">{t.step}</td><td class="num">+{esc(seconds(r.start))}</td>'
            f'<td class="num">{esc(seconds(r.end - r.start))}</td>'
            f'<td><span class="outcome {esc(t.outcome)}">{esc(t.outcome)}</span></td>'
            f'<td class="num">{t.retries}</td><td>{esc(t.thread)}</td>'
            f"<td><code>{esc(short_repr(t.input))}</code></td>"
            f"<td><code>{esc(short_repr(t.output))}</code></td>"
            f'<td class="err">{esc(t.error or "")}</td></tr>'
        )
    return (
        f'<section id="{prefix}tasks"><h2>Tasks</h2><div class="scroll"><table><thead><tr>'
        f"{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table></div></section>"
    )


def write_html(timeline: Timeline, path: str | os.PathLike[str], **kw: Any) -> str:
    """Write :func:`render_html` output to ``path`` (UTF-8) and return the path as str."""
    return _write(render_html(timeline, **kw), path)


def write_html_runs(runs: Sequence[Any], path: str | os.PathLike[str], **kw: Any) -> str:
    """Write :func:`render_html_runs` output to ``path`` (UTF-8) and return the path as str."""
    return _write(render_html_runs(runs, **kw), path)


def _write(text: str, path: str | os.PathLike[str]) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return os.fspath(path)
