"""Commands with sub-commands (``train``, ``bench``): a name -> module table, loaded lazily.

Each target module exposes ``add_arguments(parser)`` and ``run(args) -> int``, like the
top-level commands in ``annotator.cli``. A module that fails to import disables only its own
sub-command (which then explains why), never its siblings.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping

from annotator.errors import AnnotatorError


def add_table(parser: argparse.ArgumentParser, table: Mapping[str, tuple[str, str]]) -> None:
    """Register ``table`` ({name: (module, help)}) as sub-commands of ``parser``."""
    sub = parser.add_subparsers(dest="subcommand", metavar="WHAT", required=True)
    for name, (module_name, help_text) in table.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        # ``-v`` after the sub-command too, where "run again with -v" sends the user; the
        # program reads it from the command line before parsing (``annotator.cli.main``)
        child.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show details and tracebacks",
        )
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            child.set_defaults(_module=None, _unavailable=f"{name!r} is unavailable: {err}")
            continue
        module.add_arguments(child)
        child.set_defaults(_module=module)


def run_table(args: argparse.Namespace) -> int:
    if args._module is None:
        raise AnnotatorError(args._unavailable)
    status: int = args._module.run(args) or 0
    return status
