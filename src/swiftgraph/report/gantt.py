"""Gantt charts of a run: Mermaid text, SVG, plain text, and a ``rich`` renderable.

Every chart marks the critical path (see :mod:`.analysis`), because "which
tasks made this run as slow as it was" is the question a Gantt chart of a
parallel run is for.  Times are offsets from the run's start.
"""

from __future__ import annotations

import re
from typing import Any

from swiftgraph._internal.timeline import Timeline
from swiftgraph.report._fmt import Row, rows, seconds
from swiftgraph.report._gantt_svg import gantt_svg
from swiftgraph.report.analysis import CriticalPath, critical_path

__all__ = ["gantt_mermaid", "gantt_rich", "gantt_svg", "gantt_text", "summary_line"]

_MERMAID_UNSAFE = re.compile(r"[:;#\r\n]+")


def summary_line(cp: CriticalPath) -> str:
    """``wall 5.00s, sequential 7.00s, saved 2.00s (1.40x parallel)``."""
    return (
        f"wall {seconds(cp.wall)}, sequential {seconds(cp.sequential)}, "
        f"saved {seconds(cp.saved)} ({cp.parallelism:.2f}x parallel)"
    )


def _section(row: Row) -> str:
    ns = row.label.rsplit("/", 1)[0] + " " if "/" in row.label else ""
    return f"{ns}step {row.task.step}"


def gantt_mermaid(timeline: Timeline, *, title: str | None = None) -> str:
    """Mermaid ``gantt`` source; times are millisecond offsets (``dateFormat x``).

    Zero-length tasks get 1 ms so Mermaid still draws them; ``:``, ``;`` and
    ``#`` (Mermaid syntax) are replaced in names.
    """
    cp = critical_path(timeline)
    head = title if title is not None else (timeline.graph or "run")
    lines = [
        "gantt",
        f"    title {_clean(head + ' - ' + summary_line(cp))}",
        "    dateFormat x",
        f"    axisFormat {'%S.%L' if cp.wall < 60 else '%M:%S'}",
        "    todayMarker off",
    ]
    section = None
    for i, row in enumerate(rows(timeline, cp)):
        if _section(row) != section:
            section = _section(row)
            lines.append(f"    section {_clean(section)}")
        start = round(row.start * 1000)
        end = max(start + 1, round(row.end * 1000))
        tags = "crit, " if row.critical else ""
        note = "" if row.task.outcome == "ok" else f" ({row.task.outcome})"
        name = _clean(f"{row.label} {seconds(row.end - row.start)}{note}")
        lines.append(f"    {name} :{tags}t{i}, {start}, {end}")
    return "\n".join(lines) + "\n"


def _clean(text: str) -> str:
    return _MERMAID_UNSAFE.sub(" ", text).strip() or "task"


def _bar(row: Row, span: float, width: int) -> tuple[int, int]:
    """Column range [a, b) of a bar; every task gets at least one column."""
    scale = width / span if span > 0 else 0.0
    a = min(width - 1, int(row.start * scale))
    b = max(a + 1, min(width, round(row.end * scale)))
    return a, b


def gantt_text(timeline: Timeline, width: int = 60) -> str:
    """Plain-text bars: ``#`` on the critical path, ``=`` elsewhere, ``x`` failed."""
    cp = critical_path(timeline)
    table = rows(timeline, cp)
    if not table:
        return "(no tasks)\n"
    span = max(cp.wall, max(r.end for r in table))
    name_w = min(28, max(len(r.label) for r in table))
    pad = " " * (name_w + 1)
    left, right = "0s", seconds(span)
    lines = [pad + " " + left + right.rjust(width + 2 - len(left))]
    for row in table:
        a, b = _bar(row, span, width)
        ch = "x" if row.task.outcome == "error" else "#" if row.critical else "="
        bar = " " * a + ch * (b - a) + " " * (width - b)
        mark = " *" if row.critical else ""
        note = "" if row.task.outcome == "ok" else f" {row.task.outcome}"
        label = row.label if len(row.label) <= name_w else row.label[: name_w - 1] + "~"
        lines.append(f"{label:<{name_w}} |{bar}| {seconds(row.end - row.start)}{note}{mark}")
    lines.append(summary_line(cp))
    lines.append("critical path (*): " + " -> ".join(cp.names))
    return "\n".join(lines) + "\n"


def gantt_rich(timeline: Timeline, width: int = 50) -> Any:
    """A ``rich`` Table with a coloured bar per task (rich is an optional extra)."""
    try:
        from rich.table import Table
        from rich.text import Text
    except ImportError as exc:  # pragma: no cover - exercised without rich installed
        raise ImportError("pip install 'swiftgraph[cli]'") from exc
    cp = critical_path(timeline)
    table_rows = rows(timeline, cp)
    span = max([cp.wall, *(r.end for r in table_rows)])
    table = Table(title=timeline.graph or None, caption=summary_line(cp), expand=False)
    table.add_column("task")
    table.add_column("step", justify="right")
    table.add_column("timeline")
    table.add_column("duration", justify="right")
    table.add_column("outcome")
    for row in table_rows:
        a, b = _bar(row, span, width)
        style = "red" if row.task.outcome == "error" else "bold orange1" if row.critical else "cyan"
        bar = Text("\u00b7" * a, style="dim")
        bar.append("\u2588" * (b - a), style=style)
        bar.append("\u00b7" * (width - b), style="dim")
        name = Text(row.label, style="bold" if row.critical else "")
        table.add_row(name, str(row.task.step), bar, seconds(row.end - row.start), row.task.outcome)
    return table
