"""A tiny, dependency-free graph model and its renderers.

``CompiledStateGraph.get_graph()`` in LangGraph returns a
``langchain_core.runnables.graph.Graph``; people paste its ``draw_mermaid()``
output into docs and notebooks and diff it in tests, so swiftgraph reproduces
that text *byte for byte* (same node order, same ids, same ``<p>`` labels for
names wrapped in markdown characters, same classDefs, same YAML frontmatter)
without importing langchain_core or PyYAML.  The engine only has to hand over
node names and ``(source, target, conditional, label)`` edges, see
:func:`graph_from_edges`.

ASCII drawing lives in :mod:`swiftgraph._internal.draw_ascii` (LangGraph needs
grandalf for it; we lay the graph out ourselves).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from swiftgraph._internal.mini_yaml import dump_yaml

START = "__start__"
END = "__end__"

_MARKDOWN_SPECIAL_CHARS = "*_`"
_SAFE_ID_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
# Order matters: '#' is escaped first so the entities themselves survive.
_LABEL_ESCAPES = {c: f"#{ord(c)};" for c in "[](){}<>|"} | {'"': "#quot;"}
_NODE_STYLES = {
    "default": "fill:#f2f0ff,line-height:1.2",
    "first": "fill-opacity:0",
    "last": "fill:#bfb6fc",
}


@dataclass
class Node:
    """A node of the drawn graph; ``id`` is unique, ``name`` is what is shown."""

    id: str
    name: str
    metadata: dict[str, Any] | None = None


@dataclass
class Edge:
    """A directed edge; ``conditional`` edges are drawn dotted, ``data`` is the label."""

    source: str
    target: str
    data: str | None = None
    conditional: bool = False


@dataclass
class Graph:
    """Nodes (in insertion order, which is also drawing order) and edges."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def first_node(self) -> Node | None:
        """The single node nobody points to (LangGraph styles it ``first``), else None."""
        targets = {e.target for e in self.edges}
        found = [n for n in self.nodes.values() if n.id not in targets]
        return found[0] if len(found) == 1 else None

    def last_node(self) -> Node | None:
        """The single node with no outgoing edge (styled ``last``), else None."""
        sources = {e.source for e in self.edges}
        found = [n for n in self.nodes.values() if n.id not in sources]
        return found[0] if len(found) == 1 else None

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """JSON shaped like LangGraph's ``Graph.to_json()`` (runnable ids are ours)."""
        nodes: list[dict[str, Any]] = []
        for node in self.nodes.values():
            item: dict[str, Any] = {"id": node.id}
            if node.id != END:
                item["type"] = "runnable"
                item["data"] = {"id": ["swiftgraph", "Node"], "name": node.name}
            if node.metadata is not None:
                item["metadata"] = node.metadata
            nodes.append(item)
        edges: list[dict[str, Any]] = []
        for edge in self.edges:
            e: dict[str, Any] = {"source": edge.source, "target": edge.target}
            if edge.data is not None:
                e["data"] = edge.data
            if edge.conditional:
                e["conditional"] = True
            edges.append(e)
        return {"nodes": nodes, "edges": edges}

    def draw_ascii(self) -> str:
        """A layered box-and-arrow drawing for terminals; see :mod:`.draw_ascii`."""
        from swiftgraph._internal.draw_ascii import draw_ascii

        return draw_ascii(self)

    def draw_mermaid(
        self,
        *,
        with_styles: bool = True,
        curve_style: str = "linear",
        wrap_label_n_words: int = 9,
        frontmatter_config: dict[str, Any] | None = None,
    ) -> str:
        """Mermaid flowchart text identical to LangGraph's ``draw_mermaid()``."""
        curve = getattr(curve_style, "value", curve_style)  # accept CurveStyle enums
        first, last = self.first_node(), self.last_node()
        fmt = {"default": "{0}({1})"}
        if first is not None:
            fmt[first.id] = "{0}([{1}]):::first"
        if last is not None:
            fmt[last.id] = "{0}([{1}]):::last"
        return _MermaidWriter(self, fmt, with_styles, wrap_label_n_words).render(
            _frontmatter(frontmatter_config, str(curve)) if with_styles else ""
        )


def graph_from_edges(
    nodes: list[str],
    edges: list[tuple[str, str, bool, str | None]],
    *,
    metadata: dict[str, dict[str, Any]] | None = None,
) -> Graph:
    """Build a :class:`Graph` the way LangGraph's ``add_edge`` helper does.

    ``edges`` keep their order (LangGraph: edges out of ``__start__`` first, then
    the discovered edges sorted, then implicit edges to ``__end__``); a repeated
    ``(source, target)`` pair is ignored, as in LangGraph, so the first one wins.
    ``__end__`` is dropped when no edge reaches it, because LangGraph only adds
    it with the first edge into it.  Subgraph nodes use ``parent:child`` ids and
    are shown by their last segment.
    """
    meta = metadata or {}
    used = {s for s, *_ in edges} | {t for _, t, *_ in edges}
    graph = Graph()
    for node_id in nodes:
        if node_id == END and END not in used:
            continue
        graph.nodes[node_id] = Node(node_id, node_id.rsplit(":", 1)[-1], meta.get(node_id))
    seen: set[tuple[str, str]] = set()
    for source, target, conditional, label in edges:
        for end in (source, target):
            if end not in graph.nodes:
                raise ValueError(f"edge {source!r} -> {target!r}: unknown node {end!r}")
        if (source, target) in seen:
            continue
        seen.add((source, target))
        graph.edges.append(Edge(source, target, label, conditional))
    return graph


def to_safe_id(label: str) -> str:
    """Mermaid-safe id: keep ``[A-Za-z0-9_-]``, hex-escape the rest (``:`` -> ``\\3a``)."""
    return "".join(ch if ch in _SAFE_ID_CHARS else "\\" + format(ord(ch), "x") for ch in label)


_LABEL_TABLE = {ord(c): entity for c, entity in _LABEL_ESCAPES.items()}


def _escape_label(text: str) -> str:
    return text.replace("#", "#35;").translate(_LABEL_TABLE)


def _metadata_lines(metadata: dict[str, Any]) -> list[str]:
    """Scalars and flat sequences are shown under the node name; the rest is skipped."""
    scalars = (str, int, float, bool)
    lines = []
    for key, value in metadata.items():
        if isinstance(value, scalars):
            shown = str(value)
        elif isinstance(value, (list, tuple, set)) and all(isinstance(v, scalars) for v in value):
            items = [str(v) for v in value]
            shown = ", ".join(sorted(items) if isinstance(value, set) else items)
        else:
            continue
        lines.append(_escape_label(f"{key} = {shown}"))
    return lines


class _MermaidWriter:
    """Port of langchain_core's ``draw_mermaid``, including ``a:b`` subgraph grouping."""

    def __init__(self, graph: Graph, fmt: dict[str, str], styles: bool, wrap: int) -> None:
        self.graph, self.fmt, self.styles, self.wrap = graph, fmt, styles, wrap
        self.out: list[str] = []
        self.sub_nodes: dict[str, dict[str, Node]] = {}
        self.edge_groups: dict[str, list[Edge]] = {}
        self.seen: set[str] = set()

    def node(self, key: str, node: Node) -> None:
        name = node.name.split(":")[-1]
        md = tuple(_MARKDOWN_SPECIAL_CHARS)
        label = f"<p>{name}</p>" if name.startswith(md) and name.endswith(md) else name
        lines = _metadata_lines(node.metadata or {})
        if lines:
            label = f"{label}<hr/><small><em>" + "\n".join(lines) + "</em></small>"
        self.out.append(
            "\t" + self.fmt.get(key, self.fmt["default"]).format(to_safe_id(key), label) + "\n"
        )

    def edge(self, edge: Edge) -> None:
        if edge.data is not None:
            text = str(edge.data)
            words = text.split()
            if len(words) > self.wrap:
                text = "&nbsp<br>&nbsp".join(
                    " ".join(words[i : i + self.wrap]) for i in range(0, len(words), self.wrap)
                )
            arrow = (
                f" -. &nbsp;{text}&nbsp; .-> "
                if edge.conditional
                else f" -- &nbsp;{text}&nbsp; --> "
            )
        else:
            arrow = " -.-> " if edge.conditional else " --> "
        self.out.append(f"\t{to_safe_id(edge.source)}{arrow}{to_safe_id(edge.target)};\n")

    def subgraph(self, edges: list[Edge], prefix: str) -> None:
        self_loop = len(edges) == 1 and edges[0].source == edges[0].target
        if prefix and not self_loop:
            name = prefix.rsplit(":", maxsplit=1)[-1]
            if name in self.seen:
                raise ValueError(
                    f"Found duplicate subgraph '{name}' -- this likely means that you're reusing "
                    "a subgraph node with the same name. Please adjust your graph to have "
                    "subgraph nodes with unique names."
                )
            self.seen.add(name)
            self.out.append(f"\tsubgraph {name}\n")
            if self.styles:
                for key, node in self.sub_nodes.get(prefix, {}).items():
                    self.node(key, node)
        for edge in edges:
            self.edge(edge)
        for nested, nested_edges in self.edge_groups.items():
            if not nested.startswith(prefix + ":") or nested == prefix:
                continue
            if ":" in nested[len(prefix) + 1 :]:
                continue  # only direct children; deeper ones recurse from there
            self.subgraph(nested_edges, nested)
        if prefix and not self_loop:
            self.out.append("\tend\n")

    def render(self, head: str) -> str:
        self.out.append(head + "graph TD;\n")
        regular: dict[str, Node] = {}
        for key, node in self.graph.nodes.items():
            if ":" in key:
                self.sub_nodes.setdefault(key.rsplit(":", 1)[0], {})[key] = node
            else:
                regular[key] = node
        if self.styles:
            for key, node in regular.items():
                self.node(key, node)
        for edge in self.graph.edges:
            src, tgt = edge.source.split(":"), edge.target.split(":")
            prefix = ":".join(s for s, t in zip(src, tgt) if s == t)
            self.edge_groups.setdefault(prefix, []).append(edge)
        self.subgraph(self.edge_groups.get("", []), "")
        for prefix, edges in list(self.edge_groups.items()):
            if prefix and ":" not in prefix:
                self.subgraph(edges, prefix)
                self.seen.add(prefix)
        if self.styles:
            for prefix, members in self.sub_nodes.items():
                if ":" not in prefix and prefix not in self.seen:
                    self.out.append(f"\tsubgraph {prefix}\n")
                    for key, node in members.items():
                        self.node(key, node)
                    self.out.append("\tend\n")
                    self.seen.add(prefix)
            self.out.extend(f"\tclassDef {k} {v}\n" for k, v in _NODE_STYLES.items())
        return "".join(self.out)


def _frontmatter(config: dict[str, Any] | None, curve: str) -> str:
    """``---`` YAML block with the curve style merged into ``config.flowchart``."""
    original = config or {}
    inner = original.get("config", {})
    merged = {
        **original,
        "config": {**inner, "flowchart": {**inner.get("flowchart", {}), "curve": curve}},
    }
    return "---\n" + dump_yaml(merged) + "---\n"
