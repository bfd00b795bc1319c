"""``annotator bench proposal-direct``: how far K-FPN's proposals are from eq. 16's optimum.

For each rendered validation clip and budget (protocol A, ``efficiency_oneshot``) it places
the frames by ``uniform``, ``kfpn`` (the shipped method with a budget: the exact
linear-recovery search on pooled backbone features) and ``direct`` (eq. 16 with the model's
dictionary minimised for that clip, ``proposal.direct``; ``direct/ends`` with the first and
last frame forced), then prints

- the eq. 16 error of each set (summed over clips) and its relative gap to ``direct``'s
  (pooled, and the median over clips);
- PCK@0.05/0.1/0.2 after each fill, and ``direct`` minus ``kfpn`` in PCK@0.05 with its 95 %
  paired bootstrap interval over clips.

``--timing`` instead times the search: on the sample clip (240 frames; the backbone's own
time on it beside) and on a synthetic 3,000-frame feature stream.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from annotator.bench.efficiency import DEFAULT_LABELS, _fractions, one_shot_table
from annotator.bench.efficiency_data import IntArray, RenderedClip, default_set, load_set, make_fill
from annotator.bench.efficiency_oneshot import ALPHAS, budget_for, run_one_shot
from annotator.bench.paired import paired_interval
from annotator.core.framespec import uniform_frames
from annotator.core.metrics import pck_counts
from annotator.core.paths import shipped_dir
from annotator.errors import UsageError

SELECTORS = ("uniform", "kfpn", "direct", "direct/ends")
SAMPLE = shipped_dir("resources") / "samples" / "taiji.mp4"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", type=Path, help="a rendered folder (default: validation set)")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--fractions", default="0.05,0.1,0.2,0.3", help="protocol A budgets")
    parser.add_argument("--fills", default="hpim,hpim+mv", help="fills, comma-separated")
    parser.add_argument("--limit", type=int, help="use only the first N clips")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--timing",
        action="store_true",
        help="only time the search (sample clip; 3,000-frame synthetic features) and exit",
    )


Picks = dict[tuple[str, float, str], IntArray]


def _pick_all(
    clips: list[RenderedClip], fractions: list[float]
) -> tuple[Picks, dict[tuple[str, float, str], float], dict[str, float]]:
    """Every selector's frames, their eq. 16 errors, and the seconds each search took."""
    from annotator.proposal import kfpn
    from annotator.proposal.direct_video import propose_direct, video_objective
    from annotator.proposal.features import reading, video_features

    model = kfpn.load_model()
    picks: Picks = {}
    errors: dict[tuple[str, float, str], float] = {}
    seconds = dict.fromkeys(SELECTORS, 0.0)
    for clip in clips:
        with reading(clip.video) as source:
            feats = video_features(source, model.config.backbone)
            fps = source.fps
        obj, _, _ = video_objective(model, feats, fps)
        for fraction in fractions:
            k = budget_for(clip.frame_count, fraction)
            for name in SELECTORS:
                t = time.perf_counter()
                if name == "uniform":
                    frames = [int(f) for f in uniform_frames(clip.frame_count, k)]
                elif name == "kfpn":
                    frames = kfpn.propose_from_features(model, feats, fps, k).frames
                else:
                    ends = name == "direct/ends"
                    frames = propose_direct(model, feats, fps, k, anchor_ends=ends).frames
                seconds[name] += time.perf_counter() - t
                picks[(clip.name, fraction, name)] = np.asarray(sorted(frames), dtype=np.int64)
                errors[(clip.name, fraction, name)] = obj.total(frames)
    return picks, errors, seconds


def objective_table(
    clips: list[RenderedClip],
    fractions: list[float],
    errors: dict[tuple[str, float, str], float],
) -> str:
    lines = [
        "| k | selector | eq. 16 error, sum | gap to direct, pooled | gap, median clip |",
        "|---|---|---|---|---|",
    ]
    for fraction in fractions:
        ref = np.asarray([errors[(c.name, fraction, "direct")] for c in clips])
        for name in SELECTORS:
            e = np.asarray([errors[(c.name, fraction, name)] for c in clips])
            pooled = 100 * (e.sum() / ref.sum() - 1)
            median = 100 * float(np.median(e / np.maximum(ref, 1e-12) - 1))
            lines.append(
                f"| {100 * fraction:g}% | {name} | {e.sum():.3f} | {pooled:+.1f}% | {median:+.1f}% |"
            )
    return "\n".join(lines)


def _hits(
    clips: list[RenderedClip], fill: str, picks: Picks, fraction: float, name: str
) -> tuple[np.ndarray, np.ndarray]:
    hits, totals = [], []
    for clip in clips:
        key = f"fill:{fill}"
        if key not in clip.cache:
            clip.cache[key] = make_fill(clip, fill)
        pred, _ = clip.cache[key](picks[(clip.name, fraction, name)])
        h, n = pck_counts(pred, clip.gt_xy, clip.visible, clip.body, ALPHAS[0])
        hits.append(h)
        totals.append(n)
    return np.asarray(hits, dtype=np.int64), np.asarray(totals, dtype=np.int64)


def bootstrap_table(
    clips: list[RenderedClip],
    fills: list[str],
    fractions: list[float],
    picks: Picks,
    resamples: int,
    seed: int,
) -> str:
    lines = [
        "| fill | k | direct - kfpn | direct/ends - kfpn | direct/ends - uniform |",
        "|---|---|---|---|---|",
    ]
    pairs = (("direct", "kfpn"), ("direct/ends", "kfpn"), ("direct/ends", "uniform"))
    for fill in fills:
        for fraction in fractions:
            cells = []
            for a, b in pairs:
                ha = _hits(clips, fill, picks, fraction, a)
                hb = _hits(clips, fill, picks, fraction, b)
                d, lo, hi = paired_interval(ha, hb, resamples, seed)
                cells.append(f"{100 * d:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]")
            lines.append(f"| {fill} | {100 * fraction:g}% | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def time_search(fractions: list[float]) -> None:
    """Seconds of the direct search on the sample clip and on 3,000 synthetic frames."""
    from annotator.proposal import kfpn
    from annotator.proposal.direct_video import propose_direct
    from annotator.proposal.features import reading, video_features

    model = kfpn.load_model()
    with reading(SAMPLE) as source:
        t = time.perf_counter()
        feats = video_features(source, model.config.backbone, use_cache=False)
        backbone = time.perf_counter() - t
        fps = source.fps
    count = feats.shape[0]
    print(f"sample clip, {count} frames: backbone features {backbone:.1f} s (cold, no cache)\n")
    rng = np.random.default_rng(0)
    stream = np.cumsum(rng.normal(size=(3000, *feats.shape[1:])).astype(np.float32), axis=0)
    print("| input | k | kfpn with a budget, s | direct search, s |")
    print("|---|---|---|---|")
    for label, x, rate in (
        (f"sample clip ({count})", feats, fps),
        ("random walk (3000)", stream, 30.0),
    ):
        for fraction in fractions:
            k = budget_for(len(x), fraction)
            t = time.perf_counter()
            kfpn.propose_from_features(model, x, rate, k)
            lin = time.perf_counter() - t
            t = time.perf_counter()
            propose_direct(model, x, rate, k)
            print(f"| {label} | {k} | {lin:.1f} | {time.perf_counter() - t:.1f} |")


def run(args: argparse.Namespace) -> int:
    fractions = _fractions(args.fractions)
    if args.timing:
        time_search(fractions)
        return 0
    fills = [f.strip() for f in args.fills.split(",") if f.strip()]
    folder = args.set if args.set is not None else default_set(args.labels)
    clips = load_set(folder)[: args.limit] if args.limit else load_set(folder)
    if not clips:
        raise UsageError(f"{folder} holds no videos")
    start = time.perf_counter()
    print(f"{len(clips)} rendered clips, {sum(c.frame_count for c in clips)} frames ({folder})")
    picks, errors, seconds = _pick_all(clips, fractions)
    print("\neq. 16 error of each selector's frames (the model's dictionary and windows)\n")
    print(objective_table(clips, fractions, errors))
    print(
        "\nsearch seconds, all clips and budgets: "
        + ", ".join(f"{n} {s:.1f}" for n, s in seconds.items())
    )
    rows = run_one_shot(
        clips, fills, SELECTORS, fractions, args.seed, table=_lookup(clips, fractions, picks)
    )
    print("\nProtocol A (PCK in %, visible joints of all frames)\n")
    print(one_shot_table(rows))
    print(
        f"\nPCK@0.05 differences (points) with 95% paired bootstrap intervals over clips "
        f"({args.resamples} resamples)\n"
    )
    print(bootstrap_table(clips, fills, fractions, picks, args.resamples, args.seed))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0


def _lookup(
    clips: list[RenderedClip], fractions: list[float], picks: Picks
) -> dict[str, Callable[[RenderedClip, int, int], IntArray]]:
    """Selectors for ``run_one_shot`` that return the frames already picked."""
    fraction_of = {(c.name, budget_for(c.frame_count, f)): f for c in clips for f in fractions}

    def make(name: str) -> Callable[[RenderedClip, int, int], IntArray]:
        def pick(clip: RenderedClip, k: int, seed: int) -> IntArray:
            return picks[(clip.name, fraction_of[(clip.name, k)], name)]

        return pick

    return {name: make(name) for name in SELECTORS}
