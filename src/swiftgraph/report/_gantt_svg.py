"""The Gantt chart as one self-contained SVG (no fonts, scripts or links to fetch).

One row per task, bars placed by start/end offset, alternate shading per
superstep of the top-level graph, the critical path in orange, a time axis
with 1/2/5 ticks, and each bar's name, duration and outcome in a tooltip.
Bars carry ``class="bar"`` (plus ``crit`` on the critical path) and
``data-task-id`` so tests and the HTML report's script can find them.
"""

from __future__ import annotations

import math

from swiftgraph._internal.timeline import Timeline
from swiftgraph.report._fmt import Row, clip, esc, nice_step, rows, seconds
from swiftgraph.report.analysis import CriticalPath, critical_path

ROW_H, BAR_H, TOP, PAD = 22, 14, 64, 12
COLORS = {"crit": "#e8590c", "normal": "#4c6ef5", "error": "#c92a2a", "other": "#adb5bd"}
STYLE = (
    "text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "font-size:12px;fill:#212529}.title{font-size:15px;font-weight:600}.sub{fill:#495057}"
    ".tick{fill:#868e96;font-size:11px}.grid{stroke:#e9ecef}.band{fill:#f1f3f5}"
    ".steplabel{fill:#868e96;font-size:10px}.dur{fill:#495057;font-size:11px}"
    ".name.crit{font-weight:600}.bar{cursor:pointer}.bar:hover{opacity:.8}"
)


def _kind(row: Row) -> str:
    if row.task.outcome == "error":
        return "error"
    if row.task.outcome in ("running", "cancelled", "interrupted"):
        return "other"
    return "crit" if row.critical else "normal"


def gantt_svg(
    timeline: Timeline,
    *,
    title: str | None = None,
    width: int = 1000,
    cp: CriticalPath | None = None,
    span: float | None = None,
) -> str:
    """Render the timeline as an SVG document string (see the module docstring).

    ``span`` (seconds) stretches the time axis to at least that long, so charts of
    several runs drawn with the same ``span`` share one scale."""
    cp = cp or critical_path(timeline)
    table = rows(timeline, cp)
    label_w = min(300, max([80, *(len(r.label) * 7 + 16 for r in table)]))
    x0, x1 = PAD + label_w, width - 90
    span = max([cp.wall, *(r.end for r in table), 1e-9, span or 0.0])

    def sx(t: float) -> float:
        return x0 + (x1 - x0) * t / span

    height = TOP + max(1, len(table)) * ROW_H + 44
    head = esc(title if title is not None else (timeline.graph or "Run timeline"))
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="gantt" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
        ),
        f"<title>{head}</title><style>{STYLE}</style>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text class="title" x="{PAD}" y="20">{head}</text>',
        f'<text class="sub" x="{PAD}" y="38">{esc(_summary(cp))}</text>',
    ]
    bottom = TOP + len(table) * ROW_H
    steps: dict[int, list[Row]] = {}
    for r in table:
        if not r.task.namespace:
            steps.setdefault(r.task.step, []).append(r)
    if len(steps) > 1:
        for i, (step, members) in enumerate(sorted(steps.items())):
            a, b = sx(min(r.start for r in members)), sx(max(r.end for r in members))
            if i % 2 == 0:
                out.append(
                    f'<rect class="band" x="{a:.1f}" y="{TOP - 4}" '
                    f'width="{max(b - a, 1):.1f}" height="{bottom - TOP + 8}"/>'
                )
            out.append(f'<text class="steplabel" x="{a + 2:.1f}" y="{TOP - 8}">step {step}</text>')
    tick = nice_step(span)
    k = 0
    while k * tick <= span * 1.0001:
        x = sx(k * tick)
        out.append(
            f'<line class="grid" x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{bottom + 4}"/>'
        )
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">'
            f"{esc(_tick(k * tick, tick))}</text>"
        )
        k += 1
    for i, r in enumerate(table):
        y = TOP + i * ROW_H
        a, b = sx(r.start), max(sx(r.end), sx(r.start) + 2)
        kind = _kind(r)
        cls = "bar crit" if r.critical else "bar"
        crit = " crit" if r.critical else ""
        dur = seconds(r.end - r.start)
        tip = f"{r.label} - {dur} ({r.task.outcome}), step {r.task.step}"
        out += [
            (
                f'<text class="name{crit}" x="{x0 - 8}" y="{y + 15}" text-anchor="end">'
                f"{esc(clip(r.label, label_w // 7))}</text>"
            ),
            (
                f'<rect class="{cls}" data-task-id="{esc(r.task.id)}" x="{a:.1f}" y="{y + 4}" '
                f'width="{b - a:.1f}" height="{BAR_H}" rx="3" fill="{COLORS[kind]}">'
                f"<title>{esc(tip)}</title></rect>"
            ),
            f'<text class="dur" x="{b + 5:.1f}" y="{y + 15}">{esc(dur)}</text>',
        ]
    ly = bottom + 32
    for j, (kind, text) in enumerate(
        [("crit", "critical path"), ("normal", "other tasks"), ("error", "failed")]
    ):
        lx = PAD + j * 130
        out.append(
            f'<rect class="swatch" x="{lx}" y="{ly - 9}" width="12" height="10" rx="2" '
            f'fill="{COLORS[kind]}"/><text x="{lx + 17}" y="{ly}">{text}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _summary(cp: CriticalPath) -> str:
    return (
        f"wall {seconds(cp.wall)} \u00b7 sequential {seconds(cp.sequential)} \u00b7 "
        f"saved {seconds(cp.saved)} \u00b7 {cp.parallelism:.2f}x parallel"
    )


def _tick(t: float, step: float) -> str:
    """Tick labels: ``250ms`` below a second, else seconds with as few decimals as needed."""
    if t == 0:
        return "0s" if step >= 1 else "0ms"
    if t < 1:
        return f"{t * 1000:.{max(0, -math.floor(math.log10(step * 1000)))}f}ms"
    return f"{round(t, 6):g}s"
