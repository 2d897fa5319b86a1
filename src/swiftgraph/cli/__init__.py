"""The ``swiftgraph`` command: run workflows, draw them, and look at their runs.

One module per command (``demo``, ``run``, ``draw``, ``threads``, ``history``,
``report``), each with ``add_parser(subparsers)`` and ``main(args, out) -> int``.
Output uses ``rich`` when installed (``pip install 'swiftgraph[cli]'``), plain text
otherwise or with ``--plain``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from swiftgraph import __version__
from swiftgraph.cli._common import (
    DB_ENV,
    DEFAULT_DB,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WORKFLOW,
    CliError,
    Output,
    WorkflowFailed,
    error,
)

EPILOG = f"""\
exit codes:
  {EXIT_OK}  success
  {EXIT_WORKFLOW}  the workflow raised (or the module defining it failed to import)
  {EXIT_USAGE}  usage error: bad arguments, MODULE:ATTR not found, invalid JSON input,
     unknown thread, no checkpoint database
  130 interrupted (Ctrl-C)

checkpoints:
  SQLite checkpoints go to --db PATH, else ${DB_ENV}, else ./{DEFAULT_DB}
  (the current directory, so each project keeps its own runs).

examples:
  swiftgraph demo --unit 0.1
  swiftgraph run my_app.flow:graph --input '{{"name": "Bob"}}' --stream
  swiftgraph run path/to/flow.py:graph --input @input.json --thread t1 --report run.html
  swiftgraph draw my_app.flow:graph --format ascii
  swiftgraph threads && swiftgraph history t1 && swiftgraph report t1 --out t1.html
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep its usage line
        self.print_usage(sys.stderr)
        error(message)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    from swiftgraph.cli import demo, draw, history, report, run, threads

    parser = _Parser(
        prog="swiftgraph",
        description="Run swiftgraph workflows, draw them, and see every run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"swiftgraph {__version__}")
    parser.add_argument(
        "--plain", action="store_true", help="plain text output even when rich is installed"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (demo, run, draw, threads, history, report):
        p = module.add_parser(sub)
        p.epilog = EPILOG
        p.formatter_class = argparse.RawDescriptionHelpFormatter
        p.add_argument(
            "--plain",
            action="store_true",
            default=argparse.SUPPRESS,  # given here or before the command: both work
            help="plain text output even when rich is installed",
        )
        p.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``swiftgraph`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return EXIT_USAGE
    out = Output(plain=args.plain)
    try:
        return int(args.handler(args, out) or EXIT_OK)
    except CliError as exc:
        error(str(exc))
        return exc.code
    except WorkflowFailed as exc:
        import traceback

        traceback.print_exception(exc.exc, file=sys.stderr)
        error(str(exc))
        return EXIT_WORKFLOW
    except KeyboardInterrupt:
        error("interrupted")
        return 130


__all__ = ["build_parser", "main"]
