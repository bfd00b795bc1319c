"""``annotator train dictionary|kfpn|gate|online``: one module per model, each calling its
package's training code."""

from __future__ import annotations

import argparse

from annotator.cli.subcommands import add_table, run_table

TABLE = {
    "dictionary": ("annotator.cli.train_dictionary", "learn the pose dynamics dictionary"),
    "kfpn": ("annotator.cli.train_kfpn", "train the key frame proposal network"),
    "gate": ("annotator.cli.train_gate", "train the residual-driven gate (MAPN)"),
    "online": ("annotator.cli.train_online", "train the online key frame discriminator"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table(parser, TABLE)


def run(args: argparse.Namespace) -> int:
    return run_table(args)
