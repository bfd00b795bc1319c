"""``annotator train dictionary|kfpn|gate``: training commands, each owned by its package."""

from __future__ import annotations

import argparse

from annotator.subcommands import add_table, run_table

TABLE = {
    "dictionary": ("annotator.dynamics.cli_train", "learn the pose dynamics dictionary"),
    "kfpn": ("annotator.proposal.cli_train", "train the key frame proposal network"),
    "gate": ("annotator.propagation.cli_train_gate", "train the residual-driven gate (MAPN)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table(parser, TABLE)


def run(args: argparse.Namespace) -> int:
    return run_table(args)
