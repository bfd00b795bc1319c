"""Commands with sub-commands (``train``, ``bench``): a name -> module table, loaded lazily.

Each target module exposes ``add_arguments(parser)`` and ``run(args) -> int``, like the
top-level commands in ``annotator.cli``.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping


def add_table(parser: argparse.ArgumentParser, table: Mapping[str, tuple[str, str]]) -> None:
    """Register ``table`` ({name: (module, help)}) as sub-commands of ``parser``."""
    sub = parser.add_subparsers(dest="subcommand", metavar="WHAT", required=True)
    for name, (module_name, help_text) in table.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(child)
        child.set_defaults(_module=module)


def run_table(args: argparse.Namespace) -> int:
    status: int = args._module.run(args) or 0
    return status
