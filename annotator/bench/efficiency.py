"""``annotator bench labels-efficiency``: how many labels a video needs, two protocols.

Runs on rendered validation videos (``annotator bench render``; by default a 24-video set
rendered once into the cache) and prints Markdown tables:

- Protocol A, one-shot (``efficiency_oneshot``): k = 5/10/20/30% of frames picked by each
  selector, ground truth given there, a fill completes the video; PCK@0.05/0.1/0.2 and mean
  error.
- Protocol B, interactive (``efficiency_interactive``): labels needed per video, as a fraction
  of its frames, for full coverage at 5% of body size.

Methods that are not available yet (no K-FPN model file, a fill whose model is missing) are
listed as such instead of failing the run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from annotator.bench.efficiency_data import (
    VIDEO_FILLS,
    RenderedClip,
    default_set,
    load_set,
    set_split,
)
from annotator.bench.efficiency_interactive import (
    RANKING,
    TAIL_FRAMES,
    InteractiveRow,
    run_interactive,
)
from annotator.bench.efficiency_oneshot import (
    SELECTORS,
    USES_GROUND_TRUTH,
    OneShotRow,
    paired_rows,
    run_one_shot,
)
from annotator.dynamics.ranking import (
    DEFAULT_DISAGREEMENT_MODE,
    DEFAULT_HELD,
    DISAGREEMENT_MODES,
    HELD_RULES,
)
from annotator.errors import AnnotatorError, UsageError

DEFAULT_LABELS = Path("../shared/data/penn_action/labels")
DEFAULT_FILLS = "linear,hpim"
DEFAULT_SELECTORS = "uniform,kmeans,bisection,kfpn,dp-linear"
DEFAULT_STRATEGIES = "variance,kfpn,bisection,uniform,kmeans,dp-linear,greedy-gt"
DEFAULT_FRACTIONS = "0.05,0.1,0.2,0.3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", type=Path, help="a rendered folder (default: the cached default validation set)"
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=DEFAULT_LABELS,
        help="Penn Action labels, to render the default set the first time",
    )
    parser.add_argument("--protocol", choices=("A", "B", "both"), default="both")
    parser.add_argument("--fills", default=DEFAULT_FILLS, help="fill methods, comma-separated")
    parser.add_argument("--selectors", default=DEFAULT_SELECTORS, help="protocol A selectors")
    parser.add_argument("--strategies", default=DEFAULT_STRATEGIES, help="protocol B strategies")
    parser.add_argument("--fractions", default=DEFAULT_FRACTIONS, help="protocol A budgets")
    parser.add_argument("--limit", type=int, help="use only the first N clips (quick runs)")
    parser.add_argument("--seed", type=int, default=0, help="k-means seed")
    parser.add_argument(
        "--paired-against",
        metavar="SELECTOR",
        help="protocol A: also print every other selector's PCK@0.05 minus this one's, with a "
        "95%% paired bootstrap interval over clips",
    )
    parser.add_argument(
        "--evidence-weight",
        type=float,
        default=None,
        help="weight of the video evidence in variance+video (default: the app's)",
    )
    parser.add_argument(
        "--disagreement-weight",
        type=float,
        default=None,
        help="weight of the fill's disagreement with the video's motion walks in "
        "variance+video (default: the app's; 0: without the walks)",
    )
    parser.add_argument(
        "--disagreement-mode",
        choices=DISAGREEMENT_MODES,
        default=DEFAULT_DISAGREEMENT_MODE,
        help="how the disagreement combines with the fill's variance (default: the app's)",
    )
    parser.add_argument(
        "--walk-field",
        default="mv",
        help="the motion field the walks for variance+video follow: mv (the codec's, what the "
        "bench's video fills walk) or an optical flow (dis, ...)",
    )
    parser.add_argument(
        "--feature-step",
        type=int,
        default=None,
        help="variance+video: the video's descriptors from the backbone on every N-th frame "
        "(default: the app's, every frame)",
    )
    parser.add_argument(
        "--held-rule",
        choices=HELD_RULES,
        default=DEFAULT_HELD,
        help="held frames that rank ahead of every gap in variance, variance+video and kfpn: "
        "unanchored ends only ('ends', the app's) or also joints held toward an absent label "
        "('all', the former rule)",
    )


def _names(text: str, known: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise UsageError(
            f"unknown {what} {bad[0] if bad else '(none)'}; choose from {', '.join(known)}"
        )
    return names


def _fractions(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--fractions must be numbers like 0.05,0.1, not {text!r}") from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise UsageError("--fractions must lie in (0, 1]")
    return values


def _available_fills(fills: list[str], clip: RenderedClip) -> tuple[list[str], list[str]]:
    """Fills that run, and one line per fill that cannot (e.g. its model is not shipped yet)."""
    from annotator.bench.efficiency_data import make_fill

    ok, notes = [], []
    for name in fills:
        try:
            make_fill(clip, name)(np.asarray([0, clip.frame_count - 1]))
            ok.append(name)
        except AnnotatorError as err:
            notes.append(f"fill {name}: not available ({err})")
    return ok, notes


def _kfpn_note() -> str | None:
    try:
        from annotator.proposal.kfpn import load_model

        load_model()
    except (ImportError, AnnotatorError) as err:
        return f"kfpn: not yet available ({err})"
    return None


def one_shot_table(rows: Sequence[OneShotRow]) -> str:
    lines = [
        "| fill | k | selector | PCK@0.05 | PCK@0.1 | PCK@0.2 | mean error (% body) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name = r.selector + (" (uses GT)" if r.selector in USES_GROUND_TRUTH else "")
        p = " | ".join(f"{100 * v:.1f}" for v in r.pck)
        lines.append(f"| {r.fill} | {100 * r.fraction:g}% | {name} | {p} | {r.mean_error:.2f} |")
    return "\n".join(lines)


def paired_table(rows: Sequence[OneShotRow], against: str) -> str:
    lines = [f"| fill | k | selector | minus {against} | 95% interval |", "|---|---|---|---|---|"]
    for fill, fraction, name, d, lo, hi in paired_rows(rows, against):
        lines.append(
            f"| {fill} | {100 * fraction:g}% | {name} | {100 * d:+.1f} | "
            f"[{100 * lo:+.1f}, {100 * hi:+.1f}] |"
        )
    return "\n".join(lines)


def interactive_table(rows: Sequence[InteractiveRow]) -> str:
    lines = [
        "| fill | strategy | next frame ranked by | labels needed, mean | median | "
        f"max | clips covered | tail: labels added with <= {TAIL_FRAMES} frames left, mean |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if not r.needed:
            lines.append(
                f"| {r.fill} | {r.strategy} | {RANKING[r.strategy]} | n/a: {r.note} | | | | |"
            )
            continue
        v = 100 * np.asarray(r.needed)
        # the tail's share of a clip's labels, mean over clips
        tail = f"{100 * float(np.mean(r.tail)):.1f}%" if r.tail else ""
        lines.append(
            f"| {r.fill} | {r.strategy} | {RANKING[r.strategy]} | {v.mean():.1f}% | "
            f"{np.median(v):.1f}% | {v.max():.1f}% | {sum(r.covered)}/{len(r.covered)} | "
            f"{tail} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    fills = _names(args.fills, ("linear", "pchip", "hpim", "eq17", "fista", *VIDEO_FILLS), "fill")
    selectors = _names(args.selectors, tuple(SELECTORS), "selector")
    strategies = _names(args.strategies, tuple(RANKING), "strategy")
    fractions = _fractions(args.fractions)
    if args.paired_against and args.paired_against not in selectors:
        raise UsageError(
            f"--paired-against {args.paired_against}: not among the selectors "
            f"({', '.join(selectors)})"
        )
    from annotator.proposal.backbones import check_feature_step

    check_feature_step(args.feature_step)
    start = time.perf_counter()
    if args.set is not None:
        folder = args.set
    else:
        if not args.labels.is_dir():
            raise UsageError(f"labels folder not found: {args.labels} (pass --labels or --set)")
        folder = default_set(args.labels)
    clips = load_set(folder)
    if args.limit is not None:
        clips = clips[: max(args.limit, 1)]
    if not clips:
        raise UsageError(f"{folder} holds no videos")
    fills, notes = _available_fills(fills, clips[0])
    if not fills:
        raise UsageError("none of the requested fills can run: " + "; ".join(notes))
    uses_model = {"kfpn", "direct"}
    kfpn_note = _kfpn_note() if uses_model & {*selectors, *strategies} else None
    if kfpn_note:
        notes.append(kfpn_note)
        selectors = [s for s in selectors if s not in uses_model]
        strategies = [s for s in strategies if s != "kfpn"]
    if set_split(folder) != "val":
        notes.append("this set is not from the validation split; publish figures from val only")
    frames = sum(c.frame_count for c in clips)
    print(f"{len(clips)} rendered validation clips, {frames} frames ({folder})")
    for note in notes:
        print(f"note: {note}")
    if args.protocol in ("A", "both"):
        t = time.perf_counter()
        rows = run_one_shot(clips, fills, selectors, fractions, args.seed)
        print(
            "\nProtocol A, one-shot: k frames labelled, the fill completes the video "
            "(PCK in %, visible joints of all frames)\n"
        )
        print(one_shot_table(rows))
        if args.paired_against:
            print(f"\nPCK@0.05 minus {args.paired_against}'s, 95% paired bootstrap over clips:\n")
            print(paired_table(rows, args.paired_against))
        print(f"\n({time.perf_counter() - t:.0f} s)")
    if args.protocol in ("B", "both"):
        t = time.perf_counter()
        rows_b = run_interactive(
            clips,
            fills,
            strategies,
            args.seed,
            args.evidence_weight,
            args.held_rule,
            args.disagreement_weight,
            args.disagreement_mode,
            args.walk_field,
            args.feature_step,
        )
        print(
            "\nProtocol B, interactive: labels needed per video (% of its frames) until every "
            f"visible joint is within 5% of body size (held rule: {args.held_rule})\n"
        )
        print(interactive_table(rows_b))
        print(f"\n({time.perf_counter() - t:.0f} s)")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0
