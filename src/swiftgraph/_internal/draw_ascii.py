"""Layered layout of a :class:`~swiftgraph._internal.draw.Graph`, and an ASCII drawing.

LangGraph's ``draw_ascii`` needs grandalf; swiftgraph has no dependencies, so it
does a small Sugiyama-style layout itself: cycles are broken by DFS from
``__start__``, nodes are layered top-down by longest path, edges that skip
layers get invisible "dummy" waypoints, and a few barycenter sweeps order each
layer to limit crossings.  The same :func:`layered` result positions the graph
diagram in the HTML report.  The drawing is meant for humans: edges that point
back up (cycles) and edge labels are listed under the picture instead of being
squeezed into it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from swiftgraph._internal.draw import START, Edge, Graph

DUMMY = "\x00"  # prefix of waypoint ids; never a real node id


@dataclass
class Layered:
    """Layers of node ids (top first) plus the per-layer hops of every forward edge."""

    layers: list[list[str]]
    hops: list[tuple[str, str, Edge]] = field(default_factory=list)
    back: list[Edge] = field(default_factory=list)


def _back_edges(graph: Graph) -> set[int]:
    """Indices of edges that close a cycle, by iterative DFS starting at __start__."""
    out: dict[str, list[int]] = {n: [] for n in graph.nodes}
    for i, e in enumerate(graph.edges):
        out[e.source].append(i)
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    back: set[int] = set()
    roots = ([START] if START in graph.nodes else []) + list(graph.nodes)
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node, it = stack[-1]
            idx = next(it, None)
            if idx is None:
                state[node] = 2
                stack.pop()
                continue
            target = graph.edges[idx].target
            if state.get(target) == 1:
                back.add(idx)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(out[target])))
    return back


def layered(graph: Graph, sweeps: int = 4) -> Layered:
    """Longest-path layering with dummy waypoints and barycenter ordering."""
    back = _back_edges(graph)
    forward = [e for i, e in enumerate(graph.edges) if i not in back]
    level = {n: 0 for n in graph.nodes}
    for _ in range(len(graph.nodes)):  # Bellman-Ford style relaxation on a DAG
        changed = False
        for e in forward:
            if level[e.target] < level[e.source] + 1:
                level[e.target], changed = level[e.source] + 1, True
        if not changed:
            break
    depth = max(level.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for n in graph.nodes:
        layers[level[n]].append(n)
    hops: list[tuple[str, str, Edge]] = []
    for i, e in enumerate(forward):
        chain = [e.source]
        for lvl in range(level[e.source] + 1, level[e.target]):
            dummy = f"{DUMMY}{i}:{lvl}"
            layers[lvl].append(dummy)
            chain.append(dummy)
        chain.append(e.target)
        hops.extend((a, b, e) for a, b in itertools.pairwise(chain))
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for a, b, _ in hops:
        down.setdefault(a, []).append(b)
        up.setdefault(b, []).append(a)
    for sweep in range(sweeps * 2 + 1):
        downward = sweep % 2 == 0
        order = range(1, depth) if downward else range(depth - 2, -1, -1)
        for lvl in order:
            ref = layers[lvl - 1 if downward else lvl + 1]
            layers[lvl] = _barycenter_order(layers[lvl], ref, up if downward else down)
    return Layered(layers, hops, [graph.edges[i] for i in sorted(back)])


def _barycenter_order(layer: list[str], ref: list[str], nbrs: dict[str, list[str]]) -> list[str]:
    """Sort a layer by the mean position of each item's neighbours in ``ref``."""
    where = {n: i for i, n in enumerate(ref)}

    def key(item: tuple[int, str]) -> float:
        pos = [where[m] for m in nbrs.get(item[1], []) if m in where]
        return sum(pos) / len(pos) if pos else float(item[0])

    return [n for _, n in sorted(enumerate(layer), key=key)]


def draw_ascii(graph: Graph) -> str:
    """Boxes per layer, routed arrows between layers (``:``/``.`` when conditional)."""
    if not graph.nodes:
        return ""
    lay = layered(graph)
    width = {
        n: 1 if n.startswith(DUMMY) else len(graph.nodes[n].name) + 4 for l in lay.layers for n in l
    }
    spans = [sum(width[n] for n in layer) + 3 * (len(layer) - 1) for layer in lay.layers]
    total = max(spans)
    left: dict[str, int] = {}
    for layer, span in zip(lay.layers, spans):
        x = (total - span) // 2
        for n in layer:
            left[n], x = x, x + width[n] + 3
    col = {n: left[n] + width[n] // 2 for n in left}
    rows: list[list[str]] = []

    def put(r: int, c: int, ch: str, over: str = "") -> None:
        while len(rows) <= r:
            rows.append([" "] * total)
        if rows[r][c] == " " or rows[r][c] in over:
            rows[r][c] = ch

    index = {n: i for i, layer in enumerate(lay.layers) for n in layer}
    row = 0
    for lvl, layer in enumerate(lay.layers):
        for n in layer:
            if n.startswith(DUMMY):
                cond = any(b == n and e.conditional for _, b, e in lay.hops)
                for r in range(3):
                    put(row + r, col[n], ":" if cond else "|")
                continue
            w = width[n]
            for r, text in enumerate(
                ("+" + "-" * (w - 2) + "+", "| " + graph.nodes[n].name + " |")
            ):
                for k, ch in enumerate(text):
                    put(row + r, left[n] + k, ch)
            for k, ch in enumerate("+" + "-" * (w - 2) + "+"):
                put(row + 2, left[n] + k, ch)
        row += 3
        hops = {
            (col[a], col[b], e.conditional, b.startswith(DUMMY))
            for a, b, e in lay.hops
            if index[a] == lvl
        }
        if not hops:
            continue
        # One horizontal "bus" per source (fan-out) or per target (fan-in), whichever
        # needs fewer rows in this channel.
        by_src = sorted({(sx, c) for sx, tx, c, _ in hops if sx != tx})
        by_tgt = sorted({(tx, c) for sx, tx, c, _ in hops if sx != tx})
        fan_in = len(by_tgt) < len(by_src)
        track = {t: i + 1 for i, t in enumerate(by_tgt if fan_in else by_src)}
        last = len(track) + 1
        for sx, tx, cond, to_dummy in sorted(hops, key=lambda h: not h[2]):  # solid over dotted
            v, h = (":", ".") if cond else ("|", "-")
            t = 0 if sx == tx else track[(tx if fan_in else sx, cond)]
            for r in range(t + 1 if t else last):
                put(row + r, sx, v, over="-.")
            if t:
                for c in range(min(sx, tx), max(sx, tx) + 1):
                    put(row + t, c, h)
                put(row + t, sx, "+", over="-.|:")
                put(row + t, tx, "+", over="-.|:")
                for r in range(t + 1, last):
                    put(row + r, tx, v, over="-.")
            put(row + last, tx, v if to_dummy else "v", over="|:")
        row += last + 1
    text = "\n".join("".join(r).rstrip() for r in rows)
    notes = [e for e in graph.edges if e.data is not None and e not in lay.back]
    lines = [text]
    if notes:
        lines += ["", "labels:"] + [_edge_line(e) for e in notes]
    if lay.back:
        lines += ["", "edges back up (cycles):"] + [_edge_line(e) for e in lay.back]
    return "\n".join(lines) + "\n"


def _edge_line(e: Edge) -> str:
    arrow = "-.->" if e.conditional else "-->"
    label = f"  ({e.data})" if e.data is not None else ""
    return f"  {e.source} {arrow} {e.target}{label}"
