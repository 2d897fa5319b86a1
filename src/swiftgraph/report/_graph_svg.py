"""The graph diagram as inline SVG, so the HTML report needs no Mermaid JS or CDN.

Positions come from the same layered layout as ``Graph.draw_ascii()``; edges
that skip layers bend through their waypoints, edges that close a cycle loop
round the right-hand side, conditional edges are dashed, and nodes/edges on
the run's critical path are drawn in orange.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from swiftgraph._internal.draw import END, START, Graph
from swiftgraph._internal.draw_ascii import DUMMY, layered
from swiftgraph.report._fmt import esc

NODE_H, LAYER_GAP, NODE_GAP, MARGIN, CHAR_W = 34, 58, 30, 20, 7.4
STYLE = (
    "text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "font-size:13px;fill:#212529}.node rect{fill:#f2f0ff;stroke:#9775fa;stroke-width:1.2}"
    ".node.first rect{fill:#fff}.node.last rect{fill:#bfb6fc}"
    ".node.crit rect{stroke:#e8590c;stroke-width:2.5}.edge{fill:none;stroke:#868e96;"
    "stroke-width:1.4}.edge.cond{stroke-dasharray:5 4}.edge.crit{stroke:#e8590c;stroke-width:2.2}"
    ".elabel{font-size:11px;fill:#495057}.elabel-bg{fill:#fff;opacity:.85}"
)


def _width(graph: Graph, item: str) -> float:
    return 12.0 if item.startswith(DUMMY) else max(56.0, len(graph.nodes[item].name) * CHAR_W + 26)


def graph_svg(graph: Graph, *, critical: Iterable[str] = ()) -> str:
    """Draw ``graph``; ``critical`` is the ordered node names of the critical path."""
    chain = [n for n in critical if n in graph.nodes]
    hot_nodes = set(chain)
    if chain:
        chain = [START, *chain, END]
    hot_edges = set(itertools.pairwise(chain))
    lay = layered(graph)
    spans = [
        sum(_width(graph, n) for n in layer) + NODE_GAP * (len(layer) - 1) for layer in lay.layers
    ]
    inner = max(spans, default=0.0)
    longest = max([len(str(e.data or "")) * 6.2 for e in lay.back], default=0.0)
    extra = 40 + 24 * len(lay.back) + longest / 2 + 10 if lay.back else 0
    width, height = (
        inner + 2 * MARGIN + extra,
        len(lay.layers) * (NODE_H + LAYER_GAP) - LAYER_GAP + 2 * MARGIN,
    )
    pos: dict[str, tuple[float, float, float]] = {}  # item -> (center x, top y, width)
    for i, (layer, span) in enumerate(zip(lay.layers, spans)):
        x = MARGIN + (inner - span) / 2
        for item in layer:
            w = _width(graph, item)
            pos[item] = (x + w / 2, MARGIN + i * (NODE_H + LAYER_GAP), w)
            x += w + NODE_GAP
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" '
            f'height="{max(height, 40):.0f}" viewBox="0 0 {width:.0f} {max(height, 40):.0f}" role="img">'
        ),
        f"<title>{esc('graph')}</title><style>{STYLE}</style><defs>",
        *(
            f'<marker id="arrow{s}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{c}"/></marker>'
            for s, c in (("", "#868e96"), ("-crit", "#e8590c"))
        ),
        "</defs>",
    ]
    labels: list[str] = []
    by_edge: dict[int, list[tuple[float, float, float, float]]] = {}  # x0, y0, x1, y1 per hop
    out_off, in_off = _ports(lay.hops, pos, 0), _ports(lay.hops, pos, 1)
    for h, (a, b, e) in enumerate(lay.hops):
        (ax, atop, _), (bx, btop, _) = pos[a], pos[b]
        by_edge.setdefault(id(e), []).append((ax + out_off[h], atop + NODE_H, bx + in_off[h], btop))
    for e in graph.edges:
        hot = (e.source, e.target) in hot_edges
        cls = "edge" + (" cond" if e.conditional else "") + (" crit" if hot else "")
        marker = "url(#arrow-crit)" if hot else "url(#arrow)"
        if id(e) in by_edge:
            d, (lx, ly) = _down_path(by_edge[id(e)])
        else:
            d, (lx, ly) = _back_path(
                pos[e.source], pos[e.target], inner + MARGIN, lay.back.index(e)
            )
        out.append(f'<path class="{cls}" d="{d}" marker-end="{marker}"/>')
        if e.data is not None:
            tw = len(str(e.data)) * 6.2 + 8
            labels.append(
                f'<rect class="elabel-bg" x="{lx - tw / 2:.1f}" y="{ly - 9:.1f}" width="{tw:.1f}" '
                f'height="16" rx="3"/><text class="elabel" x="{lx:.1f}" y="{ly + 3:.1f}" '
                f'text-anchor="middle">{esc(e.data)}</text>'
            )
    out += labels
    first, last = graph.first_node(), graph.last_node()
    for node in graph.nodes.values():
        cx, top, w = pos[node.id]
        cls = "node" + (" first" if first and node.id == first.id else "")
        cls += (" last" if last and node.id == last.id else "") + (
            " crit" if node.id in hot_nodes else ""
        )
        rx = NODE_H / 2 if node.id in (START, END) else 6
        out.append(
            f'<g class="{cls}" data-node="{esc(node.id)}"><rect x="{cx - w / 2:.1f}" y="{top:.1f}" '
            f'width="{w:.1f}" height="{NODE_H}" rx="{rx}"/><text x="{cx:.1f}" y="{top + 21:.1f}" '
            f'text-anchor="middle">{esc(node.name)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _ports(
    hops: list[tuple[str, str, Any]], pos: dict[str, tuple[float, float, float]], end: int
) -> dict[int, float]:
    """Spread the edges leaving (end=0) or entering (end=1) a node along its border."""
    groups: dict[str, list[tuple[float, int]]] = {}
    for h, hop in enumerate(hops):
        groups.setdefault(hop[end], []).append((pos[hop[1 - end]][0], h))
    off: dict[int, float] = {}
    for item, members in groups.items():
        members.sort()
        n, w = len(members), pos[item][2]
        step = 0.0 if item.startswith(DUMMY) or n == 1 else min(14.0, (w - 20) / (n - 1))
        for i, (_, h) in enumerate(members):
            off[h] = (i - (n - 1) / 2) * step
    return off


def _down_path(hops: list[tuple[float, float, float, float]]) -> tuple[str, tuple[float, float]]:
    """Source bottom -> waypoints -> target top: an S-curve per layer gap, straight
    through the layers where the edge only passes a waypoint."""
    x0, y0, _, _ = hops[0]
    d = [f"M{x0:.1f},{y0:.1f}"]
    label = (x0, y0)
    for k, (ax, ay, bx, by) in enumerate(hops):
        if k:
            d.append(f"L{ax:.1f},{ay:.1f}")
        mid = (ay + by) / 2
        d.append(f"C{ax:.1f},{mid:.1f} {bx:.1f},{mid:.1f} {bx:.1f},{by - 1:.1f}")
        if k == 0:
            label = ((ax + bx) / 2, mid)
    return " ".join(d), label


def _back_path(
    src: tuple[float, float, float], dst: tuple[float, float, float], right: float, k: int
) -> tuple[str, tuple[float, float]]:
    """An edge closing a cycle: out of the source's right side, round, into the target's.

    A cubic whose control points share x = c peaks at 3/4 of the way to c, so c is
    chosen to put the peak clear of the widest layer (``right``).
    """
    sx, sy = src[0] + src[2] / 2, src[1] + NODE_H / 2
    tx, ty = dst[0] + dst[2] / 2, dst[1] + NODE_H / 2
    if src == dst:  # self-loop: a small ear on the right
        sy, ty = sy + 8, sy - 8
        peak = sx + 30
    else:
        peak = right + 30 + 24 * k
    base = max(sx, tx)
    c = base + (peak - base) / 0.75
    d = f"M{sx:.1f},{sy:.1f} C{c:.1f},{sy:.1f} {c:.1f},{ty:.1f} {tx + 2:.1f},{ty:.1f}"
    return d, (peak, (sy + ty) / 2)
