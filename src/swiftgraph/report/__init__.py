"""Run reports: where the time of a run went, and what was worth parallelising.

Everything here reads a :class:`~swiftgraph._internal.timeline.Timeline` (one
record per task, kept by the engine) and never feeds back into the engine,
which does not import this package.  ``rich`` is the only optional extra, used
only by :func:`gantt_rich`.

* :func:`critical_path` - the chain of tasks that set the wall time, and how
  much running tasks in parallel saved;
* :func:`gantt_mermaid`, :func:`gantt_svg`, :func:`gantt_text`,
  :func:`gantt_rich` - the same Gantt chart for docs, files, terminals;
* :func:`render_html` / :func:`write_html` - a single offline HTML page with
  the summary, the chart, the graph diagram and a table of every task;
  :func:`render_html_runs` / :func:`write_html_runs` - several runs on one page,
  their charts on one time scale, to compare them.
"""

from swiftgraph.report.analysis import CriticalPath, critical_path
from swiftgraph.report.gantt import gantt_mermaid, gantt_rich, gantt_svg, gantt_text
from swiftgraph.report.html import render_html, render_html_runs, write_html, write_html_runs

__all__ = [
    "CriticalPath",
    "critical_path",
    "gantt_mermaid",
    "gantt_rich",
    "gantt_svg",
    "gantt_text",
    "render_html",
    "render_html_runs",
    "write_html",
    "write_html_runs",
]
