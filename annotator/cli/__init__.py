"""The ``annotator`` program: the GUI plus the headless commands of CONTRACTS.md.

``annotator [VIDEO|PROJECT] [--screenshot PNG]`` starts the desktop app; ``annotator COMMAND
...`` runs a headless command. Every command is a module of this package exposing
``add_arguments(parser)`` and ``run(args) -> int``, which parses arguments and composes the
library packages (``video``, ``formats``, ``dynamics``, ``proposal``, ...) that do the work;
the libraries never import each other sideways for a command's sake. This file only maps names
to modules, so starting one command never imports the others' heavy dependencies.

Errors the user can fix (``AnnotatorError``) print one line on stderr and exit 2. Unexpected
errors print one line too (``-v`` adds the traceback) and exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from annotator import __version__
from annotator.core.paths import prepare_frozen_runtime
from annotator.errors import AnnotatorError


@dataclass(frozen=True)
class CommandSpec:
    name: str
    module: str
    help: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("info", "annotator.cli.info", "print facts about a video (--json)"),
    CommandSpec("frame", "annotator.cli.frame", "write one frame of a video as PNG"),
    CommandSpec("proxy", "annotator.cli.proxy", "make a short-GOP copy for fast seeking"),
    CommandSpec("import", "annotator.cli.import_labels", "import a label file into a project"),
    CommandSpec("export", "annotator.cli.export", "export a project to another format"),
    CommandSpec("fill", "annotator.cli.fill", "fill unlabelled frames from key frames"),
    CommandSpec("propose", "annotator.cli.propose", "propose key frames to label"),
    CommandSpec("estimate", "annotator.cli.estimate", "estimate poses: key frames, then fill"),
    CommandSpec(
        "train", "annotator.cli.train", "train the dictionary, K-FPN, gate or online model"
    ),
    CommandSpec("bench", "annotator.cli.bench", "run a benchmark and print its table"),
)
# Commands left out of the program's help: checks of an installed build.
HIDDEN: tuple[CommandSpec, ...] = (
    CommandSpec("selftest", "annotator.cli.selftest", "check motion extraction, torch, models"),
)
_BY_NAME = {spec.name: spec for spec in COMMANDS + HIDDEN}


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="show details and tracebacks")


def _gui_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {spec.name:<10}{spec.help}" for spec in COMMANDS)
    parser = argparse.ArgumentParser(
        prog="annotator",
        description="Pose annotation for videos. Without a command, starts the desktop app.",
        epilog=f"commands (annotator COMMAND --help for each):\n{commands}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", help="a video or project file to open")
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        help="open offscreen, wait for background work, save a screenshot of the window, exit",
    )
    parser.add_argument("--version", action="version", version=f"annotator {__version__}")
    _add_common(parser)
    return parser


def _command_parser(spec: CommandSpec) -> tuple[argparse.ArgumentParser, ModuleType]:
    module = importlib.import_module(spec.module)
    parser = argparse.ArgumentParser(prog=f"annotator {spec.name}", description=spec.help)
    _add_common(parser)
    module.add_arguments(parser)
    return parser, module


def main(argv: Sequence[str] | None = None) -> int:
    prepare_frozen_runtime()
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args_list or "--verbose" in args_list
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args_list and args_list[0] in _BY_NAME:
            parser, module = _command_parser(_BY_NAME[args_list[0]])
            args = parser.parse_args(args_list[1:])
            status: int = module.run(args) or 0
            return status
        args = _gui_parser().parse_args(args_list)
        from annotator.cli.methods import install
        from annotator.gui.launch import run as run_gui

        install()  # the app's proposal list then offers the gate too

        status = run_gui(args)
        return status
    except AnnotatorError as err:
        print(f"annotator: error: {err}", file=sys.stderr)
        if verbose:
            traceback.print_exc()
        return 2
    except KeyboardInterrupt:
        print("annotator: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the last line of defence: one line, not a dump
        print(f"annotator: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        if verbose:
            traceback.print_exc()
        else:
            print("annotator: run again with -v for details", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
