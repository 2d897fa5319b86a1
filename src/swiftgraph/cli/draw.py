"""``swiftgraph draw MODULE:ATTR [--format mermaid|ascii|svg]``: print a graph's diagram.

``mermaid`` is the text LangGraph's ``draw_mermaid()`` prints (paste it into docs),
``ascii`` a box drawing for terminals, ``svg`` a standalone SVG image (the one the HTML
report embeds).
"""

from __future__ import annotations

import argparse
from typing import Any

from swiftgraph.cli._common import CliError, Output, load_target

HELP = "print a graph's diagram as Mermaid, ASCII or SVG"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("draw", help=HELP, description=__doc__.split("\n\n", 1)[0].split(": ", 1)[1])
    p.add_argument("target", metavar="MODULE:ATTR", help="the graph (as for `swiftgraph run`)")
    p.add_argument("--format", choices=("mermaid", "ascii", "svg"), default="mermaid",
                   help="output format (default: mermaid)")  # fmt: skip
    p.add_argument("--xray", action="store_true", help="expand subgraphs")
    return p


def main(args: argparse.Namespace, out: Output) -> int:
    graph, target = load_target(args.target)
    get = getattr(graph, "get_graph", None)
    if not callable(get):
        raise CliError(f"{target} cannot draw itself (it has no get_graph())")
    drawing = get(xray=True) if args.xray else get()
    if args.format == "mermaid":
        text = drawing.draw_mermaid()
    elif args.format == "ascii":
        text = drawing.draw_ascii()
    else:
        from swiftgraph.report._graph_svg import graph_svg

        text = graph_svg(drawing)
    out.data(text.rstrip("\n"))
    return 0
