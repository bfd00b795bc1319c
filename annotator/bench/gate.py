"""``annotator bench gate``: the residual-driven gate against its baselines, protocol A.

On rendered validation clips (by default the label-efficiency benchmark's set), at each budget
(5/10/20 % of a clip's frames, the contract's rounding) the gate, a residual-energy threshold
gate, uniform spacing and K-FPN pick the frames; the ground truth is given there and a fill
completes the clip (``hpim+mv`` by default: HPIM with the joints propagated along the
codec's motion as observations, the app's default fill when fields exist). The gate's
budgeted frames come from its logits at the price of a label that makes it open about B
frames, by the app's selection rule (``gate_select``), or by each of ``--rules`` side by side,
each with its own differences to the baselines. PCK@0.05 over the visible joints of all
frames, pooled, and the gate's difference to each baseline with a 95 % paired bootstrap
interval (clips resampled with replacement, the same resample for both methods).

Then the curve of MAPN's Fig. 5: for several prices of a label lambda (``--lams``; the network
takes lambda as an input, so one model gives the whole curve), the share of frames the gate
opens without a budget against PCK@0.05, with uniform spacing at the same count per clip
beside it. Last, the gate's own speed (inference from motion fields; the fields are the
video layer's cost, docs/motion-vectors.md). ``--headroom`` adds a reference: uniform key frames
moved by up to 3 frames each by a search that sees the ground truth (``gate_headroom.py``).

The residual-energy threshold gate labels the first frame, then a frame whenever the mean
residual accumulated since the last label passes a threshold, and the last frame; the
threshold is found by bisection so that it labels B frames (topped up by the largest
energies when no threshold gives exactly B).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from annotator.bench.efficiency_data import RenderedClip as Clip
from annotator.bench.efficiency_data import default_set, load_set, make_fill, set_split
from annotator.bench.efficiency_oneshot import budget_for
from annotator.bench.paired import paired_interval
from annotator.core.framespec import uniform_frames
from annotator.core.metrics import pck_counts
from annotator.errors import AnnotatorError, UsageError
from annotator.video.motion import MotionFields

DEFAULT_LABELS = Path("../shared/data/penn_action/labels")
ALPHA = 0.05
IntArray = NDArray[np.int64]
Selector = Callable[[Clip, int], IntArray]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", type=Path, help="a rendered folder (default: the cached set)")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="Penn Action labels")
    parser.add_argument("--model", type=Path, help="gate model (default: models/gate.pt)")
    parser.add_argument(
        "--lams",
        default="0.005,0.01,0.02,0.03,0.05,0.1,0.2",
        help="prices of a label for the curve (the network takes lambda as an input)",
    )
    parser.add_argument("--fractions", default="0.05,0.1,0.2", help="budgets")
    parser.add_argument(
        "--rules",
        default=None,
        help="the gate's budget selection rules to compare, comma-separated "
        "(top, free-top, segment, spaced; default: the app's rule)",
    )
    parser.add_argument("--fill", default=None, help="hpim+mv (default), hpim or linear")
    parser.add_argument("--no-kfpn", action="store_true", help="skip K-FPN (slow on CPU)")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--limit", type=int, help="first N clips only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--headroom",
        action="store_true",
        help="also print how far uniform frames moved with the ground truth get (a reference)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (one is fastest for this network)"
    )


def threshold_frames(energy: NDArray[np.float32], count: int) -> IntArray:
    """The residual-energy threshold gate at ``count`` labels (see the module docstring)."""
    f = len(energy)
    count = max(2, min(count, f))
    e = np.nan_to_num(np.asarray(energy, dtype=np.float64))

    def pick(theta: float) -> list[int]:
        chosen, acc = [0], 0.0
        for t in range(1, f - 1):
            acc += e[t]
            if acc >= theta:
                chosen.append(t)
                acc = 0.0
        chosen.append(f - 1)
        return chosen

    lo, hi = 0.0, float(e.sum()) + 1.0
    best = pick(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        frames = pick(mid)
        if len(frames) > count:
            lo = mid
        else:
            hi, best = mid, frames
            if len(frames) == count:
                break
    rest = [t for t in np.argsort(-e, kind="stable") if t not in set(best)]
    best = best + [int(t) for t in rest[: count - len(best)]]
    return np.asarray(sorted(best), dtype=np.int64)


FILLS = ("hpim+mv", "hpim", "linear")


def _rules(requested: str | None) -> list[str]:
    from annotator.propagation.gate_select import DEFAULT_RULE, RULES

    rules = [r.strip() for r in (requested or DEFAULT_RULE).split(",") if r.strip()]
    unknown = [r for r in rules if r not in RULES]
    if unknown or not rules:
        raise UsageError(f"--rules: choose among {', '.join(RULES)}, not {requested!r}")
    return list(dict.fromkeys(rules))


def _fill_name(requested: str | None) -> str:
    if requested is not None and requested not in FILLS:
        raise UsageError(f"unknown fill {requested!r}; choose one of {', '.join(FILLS)}")
    return requested or "hpim+mv"


def _score(
    clips: Sequence[Clip],
    fill: str,
    picks: dict[str, IntArray],
    fields: dict[str, MotionFields],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per clip (hits, visible joints) of PCK@0.05 after the fill from ``picks[name]``."""
    from annotator.propagation.fuse import fill_with
    from annotator.propagation.registry import VideoSource

    hits, totals = [], []
    for clip in clips:
        if fill == "hpim+mv":
            source = VideoSource(fields=fields[clip.name], cuts=tuple(clip.cuts))
            res = fill_with(clip.manual(picks[clip.name]), source, fill, fps=clip.fps)
            pred = np.asarray(res.poses[:, :, :2], dtype=np.float64)
        else:
            pred, _ = make_fill(clip, fill)(picks[clip.name])
        h, n = pck_counts(pred, clip.gt_xy, clip.visible, clip.body, ALPHA)
        hits.append(h)
        totals.append(n)
    return np.asarray(hits, dtype=np.int64), np.asarray(totals, dtype=np.int64)


def _pct(x: tuple[NDArray[np.int64], NDArray[np.int64]]) -> float:
    return 100.0 * float(x[0].sum()) / max(float(x[1].sum()), 1.0)


def run(args: argparse.Namespace) -> int:
    import torch

    from annotator.propagation.gate import gate_fields, load_gate
    from annotator.propagation.gate_select import select
    from annotator.video.motion import extract_motion

    torch.set_num_threads(max(1, args.threads))

    try:
        fractions = [float(v) for v in args.fractions.split(",") if v.strip()]
    except ValueError:
        raise UsageError(
            f"--fractions must be numbers like 0.05,0.1, not {args.fractions!r}"
        ) from None
    if not fractions or any(not 0 < v <= 1 for v in fractions):
        raise UsageError("--fractions must lie in (0, 1]")
    start = time.perf_counter()
    folder = args.set if args.set is not None else default_set(args.labels)
    clips = load_set(folder)[: args.limit] if args.limit else load_set(folder)
    if not clips:
        raise UsageError(f"{folder} holds no videos")
    fill = _fill_name(args.fill)
    model = load_gate(args.model)
    frames = sum(c.frame_count for c in clips)
    print(f"{len(clips)} rendered clips, {frames} frames ({folder}); fill {fill}")
    if set_split(folder) != "val":
        print("note: this set is not from the validation split; publish figures from val only")
    print(f"gate model {model.path} (sha256 {(model.sha256 or '')[:12]}...)")
    fields = {c.name: extract_motion(c.video) for c in clips}
    gate_fields(model, fields[clips[0].name])  # warm-up: torch's first call is not the gate's
    t = time.perf_counter()
    results = {c.name: gate_fields(model, fields[c.name]) for c in clips}
    gate_seconds = time.perf_counter() - t

    rules = _rules(args.rules)

    def gate_rule(rule: str) -> Selector:
        def pick(c: Clip, k: int) -> IntArray:
            return np.asarray(select(model, fields[c.name], k, rule)[0], dtype=np.int64)

        return pick

    gates = {("gate" if len(rules) == 1 else f"gate {r}"): gate_rule(r) for r in rules}
    selectors: dict[str, Selector] = {
        **gates,
        "residual threshold": lambda c, k: threshold_frames(results[c.name].energy, k),
        "uniform": lambda c, k: uniform_frames(c.frame_count, k),
    }
    if not args.no_kfpn:
        try:
            from annotator.proposal.kfpn import load_model
            from annotator.proposal.registry import propose

            load_model()
            selectors["kfpn"] = lambda c, k: np.asarray(
                sorted(propose(c.video, "kfpn", k).frames), dtype=np.int64
            )
        except (ImportError, AnnotatorError) as err:
            print(f"note: kfpn not available ({err})")
    baselines = [n for n in selectors if n not in gates]
    print(
        f"\nPCK@0.05 (%) after the {fill} fill from the chosen frames; gate minus each baseline "
        f"with its 95% paired bootstrap interval over clips ({args.resamples} resamples); "
        f"gate selection rule(s): {', '.join(rules)}\n"
    )
    head = " | ".join(selectors)
    diffs = " | ".join(f"{r} - {n}" for r in gates for n in baselines)
    print(f"| labels | {head} | {diffs} |")
    print("|---" * (1 + len(selectors) + len(gates) * len(baselines)) + "|")
    for fraction in fractions:
        scores = {}
        for name, chooser in selectors.items():
            picks = {c.name: chooser(c, budget_for(c.frame_count, fraction)) for c in clips}
            scores[name] = _score(clips, fill, picks, fields)
        cells = [f"{_pct(scores[n]):.1f}" for n in selectors]
        for rule in gates:
            for n in baselines:
                d, lo, hi = paired_interval(scores[rule], scores[n], args.resamples, args.seed)
                cells.append(f"{100 * d:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]")
        print(f"| {100 * fraction:g}% | " + " | ".join(cells) + " |")

    lams = [float(v) for v in args.lams.split(",") if v.strip()]
    if lams:
        print(
            "\nLambda curve (MAPN Fig. 5): the gate's own decisions at each price of a label, no "
            "budget; uniform spacing with the same number of labels per clip beside it, and the "
            "paired bootstrap interval of the difference\n"
        )
        print(
            "| lambda | labelled | PCK@0.05 gate | PCK@0.05 uniform, same count | gate - uniform |"
        )
        print("|---|---|---|---|---|")
        for lam in lams:
            dec = {
                c.name: np.asarray(gate_fields(model, fields[c.name], lam=lam).frames)
                for c in clips
            }
            same = {c.name: uniform_frames(c.frame_count, max(2, len(dec[c.name]))) for c in clips}
            share = sum(len(v) for v in dec.values()) / frames
            g, u = _score(clips, fill, dec, fields), _score(clips, fill, same, fields)
            d, lo, hi = paired_interval(g, u, args.resamples, args.seed)
            print(
                f"| {lam:g} | {100 * share:.1f}% | {_pct(g):.1f} | {_pct(u):.1f} | "
                f"{100 * d:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] |"
            )

    if args.headroom:
        from annotator.bench.gate_headroom import print_headroom

        def one(clip: Clip, keep: IntArray) -> tuple[int, int]:
            hits, totals = _score([clip], fill, {clip.name: keep}, fields)
            return int(hits[0]), int(totals[0])

        print_headroom(clips, fractions, one)

    print(
        f"\ngate inference: {frames} frames in {gate_seconds:.2f} s = "
        f"{frames / max(gate_seconds, 1e-9):.0f} frames/s (input maps + network + decisions, "
        f"from motion fields; {max(1, args.threads)} torch thread(s))"
    )
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0
