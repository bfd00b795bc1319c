"""``annotator bench fill``: fill accuracy from labels alone, on the contract's validation split.

For each uniform key frame budget (5, 10, 20, 30% of each video's frames) and each fill
method: PCK@0.05/0.1/0.2 and the mean error in % of body size, both over the visible joints
of the frames that were *not* labelled. Then a paired bootstrap over videos of HPIM's
difference to linear, and (``--coverage``) the labels needed to keep every visible joint of
every frame within 5% of body size: uniform spacing, bisection, the exact DP optimum for
linear fills, and greedy selection with ground truth. ``--speed`` times the fill engine on a
10,000-frame, 17-joint track. Figures only; nothing here is a test.

``eq17``/``fista`` use our trained dictionary (``models/dyan_penn.npz``);
``--reference-dictionary`` adds rows for the same fills with another one (the K-FPN authors'
published dictionary from the shared data, which the product does not ship). The coverage
section adds a simulated annotator who always labels the frame ``rank_next_frames`` puts
first (ground truth used only to stop).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.bench.placement import (
    bisection_frames,
    dp_optimal_linear,
    greedy_with_gt,
    label_fill,
    ranked_annotator,
    uniform_to_cover,
)
from annotator.core.datasets import PennSequence, load_penn_action
from annotator.core.framespec import uniform_count, uniform_frames
from annotator.core.metrics import body_size, normalized_errors
from annotator.core.split import penn_action_split
from annotator.dynamics.fill import METHODS, FillEngine, fill_track, make_filler
from annotator.errors import UsageError

BUDGETS = (0.05, 0.1, 0.2, 0.3)
RANKED = "ranked annotator, top of rank_next_frames (hpim)"
TOLD_GAPS = "ranked annotator told which gaps are still uncovered (ground truth, hpim)"
ALPHAS = (0.05, 0.1, 0.2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = Path(os.environ.get("ANNOTATOR_DATA", "../shared/data")) / "penn_action" / "labels"
    parser.add_argument("--labels", default=str(default), help="Penn Action labels folder")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods")
    parser.add_argument("--budgets", default=",".join(f"{b:g}" for b in BUDGETS))
    parser.add_argument("--quick", action="store_true", help="every 5th validation video")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--coverage", action="store_true", help="labels to full coverage at 5%%")
    parser.add_argument("--speed", action="store_true", help="time full and incremental fills")
    parser.add_argument(
        "--calibration", action="store_true", help="how well HPIM's variance predicts its error"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reference-dictionary",
        help="also run eq17/fista with this dictionary (e.g. the published K-FPN .mat)",
    )


def run(args: argparse.Namespace) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.bootstrap < 1:
        raise UsageError(f"--bootstrap must be at least 1 resample, not {args.bootstrap}")
    for m in methods:
        if m not in METHODS:
            raise UsageError(f"unknown method {m!r}; expected some of {', '.join(METHODS)}")
    try:
        budgets = [float(b) for b in args.budgets.split(",")]
    except ValueError:
        raise UsageError(
            f"--budgets must be fractions like 0.05,0.1, not {args.budgets!r}"
        ) from None
    if args.speed:
        print_speed()
    labels = Path(args.labels)
    if not labels.is_dir():
        raise UsageError(f"labels folder not found: {labels}")
    _, val = penn_action_split(labels)
    if args.quick:
        val = val[::5]
    seqs = [load_penn_action(p) for p in val]
    print(f"# Fill accuracy on {len(seqs)} Penn Action validation videos (labels only)\n")
    ref = args.reference_dictionary
    if ref and not Path(ref).is_file():
        raise UsageError(f"reference dictionary not found: {ref}")
    per_video = accuracy_tables(seqs, methods, budgets, ref)
    if "hpim" in methods and "linear" in methods:
        print_bootstrap(per_video, budgets, args.bootstrap, args.seed)
    if args.calibration and "hpim" in methods:
        print_calibration(seqs, budgets)
    if args.coverage:
        print_coverage(seqs, [m for m in ("linear", "pchip", "hpim") if m in methods])
    return 0


@dataclass
class VideoScore:
    """Sums over one video's counted joints, so videos can be pooled and resampled."""

    err: float  # sum of error / body
    n: int  # counted joints
    hits: NDArray[np.int64]  # per alpha: joints within alpha x body


def score_video(
    seq: PennSequence, pred: NDArray[np.float64], frames: NDArray[np.int64]
) -> VideoScore:
    vis = seq.visible.copy()
    vis[frames] = False  # only frames that were filled count
    body = body_size(seq.xy, seq.visible, seq.bbox)
    e = normalized_errors(pred, seq.xy, vis, body)
    counted = ~np.isnan(e)
    ok = np.isfinite(e) & counted
    hits = np.array([int((e[counted] <= a).sum()) for a in ALPHAS], dtype=np.int64)
    return VideoScore(float(e[ok].sum()), int(counted.sum()), hits)


def fill_labels(
    seq: PennSequence, frames: NDArray[np.int64], filler: object
) -> NDArray[np.float64]:
    manual = np.full((seq.frame_count, seq.xy.shape[1], 3), np.nan)
    manual[:, :, 2] = 0
    manual[frames, :, :2] = seq.xy[frames]
    manual[frames, :, 2] = np.where(seq.visible[frames], 1, 2)
    res = fill_track(manual, filler)  # type: ignore[arg-type]
    return np.asarray(res.poses[:, :, :2], dtype=np.float64)


def accuracy_tables(
    seqs: Sequence[PennSequence],
    methods: Sequence[str],
    budgets: Sequence[float],
    reference: str | None = None,
) -> dict[tuple[float, str], list[VideoScore]]:
    out: dict[tuple[float, str], list[VideoScore]] = {}
    fillers = {m: make_filler(m, fps=30.0) for m in methods}
    for m in ("eq17", "fista"):
        if reference and m in methods:
            fillers[f"{m} (published)"] = make_filler(m, fps=30.0, dictionary=reference)
    methods = list(fillers)
    for b in budgets:
        print(f"## Uniform key frames, {100 * b:g}% of each video\n")
        print("| method | PCK@0.05 | PCK@0.1 | PCK@0.2 | mean error (% body) | vs linear |")
        print("|---|---|---|---|---|---|")
        lin_mean = None
        for m in methods:
            t0 = time.perf_counter()
            scores = []
            for s in seqs:
                frames = uniform_frames(s.frame_count, uniform_count(s.frame_count, b))
                scores.append(score_video(s, fill_labels(s, frames, fillers[m]), frames))
            out[(b, m)] = scores
            n = sum(v.n for v in scores)
            mean = 100.0 * sum(v.err for v in scores) / max(n, 1)
            pcks = np.sum([v.hits for v in scores], axis=0) / max(n, 1)
            if m == "linear":
                lin_mean = mean
            rel = f"{100 * (mean / lin_mean - 1):+.1f}%" if lin_mean else "-"
            print(
                f"| {m} | {pcks[0]:.3f} | {pcks[1]:.3f} | {pcks[2]:.3f} | {mean:.3f} | {rel} |"
                f" <!-- {time.perf_counter() - t0:.1f}s -->"
            )
        print()
    return out


def print_bootstrap(
    per_video: dict[tuple[float, str], list[VideoScore]],
    budgets: Sequence[float],
    resamples: int,
    seed: int,
) -> None:
    print(f"## HPIM vs linear: paired bootstrap over videos ({resamples} resamples, 95%)\n")
    print("| key frames | linear | hpim | difference | 95% interval | relative | 95% interval |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(seed)
    for b in budgets:
        lin, hp = per_video[(b, "linear")], per_video[(b, "hpim")]
        el = np.array([v.err for v in lin])
        eh = np.array([v.err for v in hp])
        n = np.array([v.n for v in lin], dtype=np.float64)
        idx = rng.integers(0, len(n), size=(resamples, len(n)))
        ml = el[idx].sum(1) / n[idx].sum(1)
        mh = eh[idx].sum(1) / n[idx].sum(1)
        diff, rel = 100 * (mh - ml), 100 * (mh / ml - 1)
        m_l, m_h = 100 * el.sum() / n.sum(), 100 * eh.sum() / n.sum()
        d_lo, d_hi = np.percentile(diff, [2.5, 97.5])
        r_lo, r_hi = np.percentile(rel, [2.5, 97.5])
        print(
            f"| {100 * b:g}% | {m_l:.3f} | {m_h:.3f} | {m_h - m_l:+.3f} | [{d_lo:+.3f}, {d_hi:+.3f}]"
            f" | {100 * (m_h / m_l - 1):+.1f}% | [{r_lo:+.1f}%, {r_hi:+.1f}%] |"
        )
    print()


def print_coverage(seqs: Sequence[PennSequence], methods: Sequence[str]) -> None:
    print("## Labels to full coverage at 5% of body size (share of frames labelled)\n")
    rows: dict[str, list[int]] = {}
    placers: dict[str, Callable[..., NDArray[np.int64]]] = {
        "uniform": uniform_to_cover,
        "bisection": bisection_frames,
        "greedy with ground truth": greedy_with_gt,
    }
    total = sum(s.frame_count for s in seqs)
    for s in seqs:
        body = body_size(s.xy, s.visible, s.bbox)
        rows.setdefault("DP-optimal (linear)", []).append(
            len(dp_optimal_linear(s.xy, s.visible, body))
        )
        for m in methods:
            fill = label_fill(s.xy, m, fps=30.0)
            for name, placer in placers.items():
                if name.startswith("greedy") and m == "linear":
                    continue  # the DP gives linear's exact optimum
                rows.setdefault(f"{name} ({m})", []).append(
                    len(placer(fill, s.xy, s.visible, body))
                )
        if "hpim" in methods:
            rows.setdefault(RANKED, []).append(
                len(ranked_annotator(s.xy, s.visible, body, method="hpim", fps=30.0))
            )
            rows.setdefault(TOLD_GAPS, []).append(
                len(
                    ranked_annotator(
                        s.xy, s.visible, body, method="hpim", fps=30.0, told_uncovered_gaps=True
                    )
                )
            )
    print("| placement (fill) | labels | % of frames |")
    print("|---|---|---|")
    for name, counts in rows.items():
        print(f"| {name} | {sum(counts)} | {100 * sum(counts) / total:.1f}% |")
    print()
    for name, short in ((RANKED, "ranked annotator"), (TOLD_GAPS, "told which gaps")):
        if name not in rows:
            continue
        for ref in ("uniform (hpim)", "uniform (linear)", "DP-optimal (linear)"):
            if ref in rows:
                print(f"- {short} / {ref}: {sum(rows[name]) / sum(rows[ref]):.2f}")
    if RANKED in rows:
        print()


def print_speed(frames: int = 10_000, joints: int = 17, fraction: float = 0.1) -> None:
    """Full fill and one-joint incremental update on a synthetic track (median of runs)."""
    rng = np.random.default_rng(0)
    truth = np.cumsum(rng.normal(0, 2, size=(frames, joints, 2)), axis=0)
    manual = np.full((frames, joints, 3), np.nan)
    manual[:, :, 2] = 0
    keys = uniform_frames(frames, uniform_count(frames, fraction))
    manual[keys, :, :2] = truth[keys]
    manual[keys, :, 2] = 1
    print(f"## Speed: {frames} frames, {joints} joints, {100 * fraction:g}% labelled (median)\n")
    print("Wall time and this process's CPU time (the CPU figure is what a quiet machine shows).\n")
    print(
        "| method | full fill, wall (ms) | full fill, CPU (ms) | one-joint edit, wall (ms) |"
        " one-joint edit, CPU (ms) |"
    )
    print("|---|---|---|---|---|")
    for m in ("linear", "pchip", "hpim"):
        engine = FillEngine(m, fps=30.0)
        engine.reset(manual)
        full = [_timed(partial(engine.reset, manual)) for _ in range(7)]
        inc = []
        for _ in range(100):
            t = int(rng.choice(keys))
            j = int(rng.integers(0, joints))
            manual[t, j, :2] += rng.normal(0, 3, size=2)
            inc.append(_timed(partial(engine.update, manual, (t, t))))
        fw, fc = np.median(full, axis=0)
        iw, ic = np.median(inc, axis=0)
        print(f"| {m} | {fw:.1f} | {fc:.1f} | {iw:.2f} | {ic:.2f} |")
    print()


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return 1000 * (time.perf_counter() - w0), 1000 * (time.process_time() - c0)


def print_calibration(seqs: Sequence[PennSequence], budgets: Sequence[float]) -> None:
    """Spearman correlation of HPIM's variance with its squared error (per filled visible
    joint), and mean squared error per coordinate over mean variance (1 = calibrated)."""
    from dataclasses import replace

    from scipy.stats import spearmanr

    from annotator.dynamics.hpim import HpimFiller

    filler = make_filler("hpim", fps=30.0)
    assert isinstance(filler, HpimFiller)
    m = filler.model
    plain_model = replace(m, unc_loo=0.0, unc_disagree=0.0, unc_scale=1.0)
    plain = HpimFiller(plain_model, 30.0)

    class PositionsOnly(HpimFiller):
        """The kriging variance alone: it depends on where the labels are, not on them."""

        def _motion_scale(self, frames: NDArray[np.int64], values: NDArray[np.float64]) -> Any:
            return np.ones((len(frames) - 1, values.shape[1]))

    positions = PositionsOnly(plain_model, 30.0)
    print("## HPIM uncertainty against its error (filled visible joints)\n")
    print("Spearman correlation of the variance with the squared error; mean squared error")
    print("over mean variance (1 = calibrated). 'kriging x motion' leaves out the data terms;")
    print("'kriging only' is the variance of label positions alone.\n")
    print(
        "| key frames | Spearman, shipped | kriging x motion only | kriging only |"
        " mean squared error / variance |"
    )
    print("|---|---|---|---|---|")
    for b in budgets:
        var, err, var0, var1 = [], [], [], []
        for s in seqs:
            frames = uniform_frames(s.frame_count, uniform_count(s.frame_count, b))
            manual = np.full((s.frame_count, s.xy.shape[1], 3), np.nan)
            manual[:, :, 2] = 0
            manual[frames, :, :2] = s.xy[frames]
            manual[frames, :, 2] = 1
            res = fill_track(manual, filler)
            counted = s.visible.copy()
            counted[frames] = False
            assert res.variance is not None
            var.append(res.variance[counted])
            v0 = fill_track(manual, plain).variance
            assert v0 is not None
            var0.append(v0[counted])
            v1 = fill_track(manual, positions).variance
            assert v1 is not None
            var1.append(v1[counted])
            err.append(((res.poses[:, :, :2] - s.xy) ** 2).sum(axis=2)[counted] / 2.0)
        v, e = np.concatenate(var), np.concatenate(err)
        rho = float(spearmanr(v, e)[0])
        rho0 = float(spearmanr(np.concatenate(var0), e)[0])
        rho1 = float(spearmanr(np.concatenate(var1), e)[0])
        print(f"| {100 * b:g}% | {rho:.3f} | {rho0:.3f} | {rho1:.3f} | {e.mean() / v.mean():.2f} |")
    print()
