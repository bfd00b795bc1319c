"""``annotator bench ...``: benchmarks that print tables (never run by the tests)."""

from __future__ import annotations

import argparse

from annotator.cli.subcommands import add_table, run_table

TABLE = {
    "video": ("annotator.bench.video_speed", "reader and motion-field speed on real clips"),
    "fill": ("annotator.bench.fill_accuracy", "fill accuracy on labels alone (no video)"),
    "propagation": (
        "annotator.bench.propagation",
        "fills from the video (mv, hpim+mv) against labels-only fills; speed",
    ),
    "render": ("annotator.bench.render_cli", "render videos with exact ground truth"),
    "labels-efficiency": (
        "annotator.bench.efficiency",
        "labels needed per video: proposals and fills against baselines",
    ),
    "proposal-search": (
        "annotator.bench.efficiency_features",
        "eq. 16 key frame search on several per-frame descriptors, protocol A",
    ),
    "proposal-direct": (
        "annotator.bench.proposal_direct",
        "K-FPN's proposals against eq. 16 minimised per video: error gap and protocol A",
    ),
    "proposal-speed": (
        "annotator.bench.proposal_speed",
        "K-FPN proposals end to end against decode time (CPU, and GPU when present); memory",
    ),
    "kfpn-online": (
        "annotator.bench.kfpn_online",
        "online key frame detection against batch K-FPN (Table 3, Tb sweep, long stream)",
    ),
    "gate": (
        "annotator.bench.gate",
        "the residual-driven gate against residual threshold, uniform and K-FPN",
    ),
    "estimation": (
        "annotator.bench.estimation",
        "pose estimator: golden check, and key frames + estimator + fill against every frame",
    ),
    "gui": ("annotator.bench.gui_speed", "GUI responsiveness: drag-to-redraw and frame steps"),
    "screenshots": (
        "annotator.bench.screenshots",
        "the README's pictures: the app on the sample video, light and dark",
    ),
    "motion": ("annotator.bench.motion_speed", "motion-field accuracy and extraction speed"),
    "document": ("annotator.bench.document_speed", "document edits, save and load at scale"),
    "formats": ("annotator.bench.format_speed", "write and read time and size per format"),
    "startup": ("annotator.bench.startup", "seconds from starting the app to the first frame"),
    "propose-on-open": (
        "annotator.bench.propose_on_open",
        "Propose Frames right after a video opens, beside the app's own background work",
    ),
    "seek-while-busy": (
        "annotator.bench.seek_while_busy",
        "how quickly frames show while the app's own background work runs",
    ),
    "open-long": (
        "annotator.bench.open_long",
        "resident memory (peak, after) while the app opens a long video and works on it",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_table(parser, TABLE)


def run(args: argparse.Namespace) -> int:
    from annotator.cli.methods import install

    install()  # as before the app starts: ``bench gui`` proposes with the gate like the app
    return run_table(args)
