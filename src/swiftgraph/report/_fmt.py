"""Small formatting helpers shared by the report renderers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from swiftgraph._internal.timeline import TaskRecord, Timeline
from swiftgraph.report.analysis import CriticalPath, origin

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def seconds(x: float) -> str:
    """Human durations: ``850ms``, ``2.00s``, ``3m05.0s``."""
    if x <= 0:
        return "0ms"
    if x < 1:
        ms = x * 1000
        return f"{ms:.1f}ms" if ms < 10 else f"{ms:.0f}ms"
    if x < 60:
        return f"{x:.2f}s"
    minutes, rest = divmod(x, 60)
    return f"{int(minutes)}m{rest:04.1f}s"


def esc(text: Any) -> str:
    """Escape for XML/HTML text *and* attribute values; drop chars XML forbids."""
    s = _XML_BAD.sub("\ufffd", str(text))
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "\u2026"


def short_repr(value: Any, limit: int = 200) -> str:
    """A repr that never raises and never floods the page."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break the report
        text = f"<{type(value).__name__} object>"
    return clip(text, limit)


def task_label(name: str, namespace: tuple[str, ...]) -> str:
    """``parent/child`` for tasks inside subgraphs (namespace parts are ``name:id``)."""
    parts = [p.split(":", 1)[0] for p in namespace]
    return "/".join([*parts, name])


@dataclass(frozen=True, slots=True)
class Row:
    """One task as the charts draw it: offsets in seconds from the run's origin."""

    task: TaskRecord
    start: float
    end: float
    critical: bool
    label: str


def rows(timeline: Timeline, cp: CriticalPath) -> list[Row]:
    """Finished tasks in start order, with running ones drawn up to the run's end."""
    t0 = origin(timeline)
    horizon = max([t.end for t in timeline.tasks if t.end is not None], default=t0)
    horizon = max(horizon, timeline.end or horizon)
    crit = {id(t) for t in cp.tasks}
    out = [
        Row(
            t,
            t.start - t0,
            (t.end if t.end is not None else horizon) - t0,
            id(t) in crit,
            task_label(t.name, t.namespace),
        )
        for t in timeline.tasks
    ]
    out.sort(key=lambda r: (r.start, r.end))
    return out


def nice_step(span: float, ticks: int = 8) -> float:
    """A 1/2/5 x 10^k tick spacing giving at most about ``ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(float(m * mag) for m in (1, 2, 5, 10) if m * mag >= raw)
