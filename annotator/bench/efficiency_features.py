"""``annotator bench proposal-search``: which per-frame descriptors make eq. 16 pick good frames.

The shipped K-FPN network is trained to imitate a greedy search on the recovery objective
(eq. 16 with a binary s) over its feature windows; the budget mode runs that search itself.
So the search, run directly on a descriptor sequence, is what a network trained on those
descriptors can at best do. This bench runs it on several descriptor kinds
(``annotator.proposal.descriptors``, plus ``gtpose``: the ground-truth joints, a reference
that uses the labels) with a choice of DYAN dictionary, window scaling and minimum spacing,
and scores protocol A (``efficiency_oneshot``) against uniform and k-means at equal budgets.

Selector names read ``eq16/KIND/DICTIONARY/SCALE/gGAP[/free]``: ``DICTIONARY`` is ``kfpn``
(the shipped model's learned poles) or ``pose`` (the pose fill's poles, ``models/dyan_penn.npz``,
at the model's window length); ``SCALE`` is ``window`` or ``video``
(``select.normalise_sequence_windows``); ``GAP`` is the minimum spacing as a share of the
uniform spacing; ``free`` drops the first/last frame anchors.

``--linear`` adds ``lin/KIND`` (and ``lin/KIND/ends``, first and last frame forced): the
frames whose *linear interpolation* rebuilds the descriptor sequence best, found exactly
(``select.select_linear_recovery``): eq. 16's recovery term with the fill's own model in
place of the DYAN ridge fit.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time
from pathlib import Path

import numpy as np

from annotator.bench.efficiency import DEFAULT_LABELS, _fractions, one_shot_table
from annotator.bench.efficiency_data import (
    FloatArray,
    IntArray,
    RenderedClip,
    default_set,
    load_set,
)
from annotator.bench.efficiency_oneshot import SELECTORS, Selector, run_one_shot
from annotator.core.paths import shipped_dir
from annotator.errors import UsageError

KINDS = ("effnet", "fgmotion", "effnet-fg", "gtpose")
DICTIONARIES = ("kfpn", "pose")
SCALES = ("window", "video")
POSE_DICTIONARY = shipped_dir("models") / "dyan_penn.npz"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", type=Path, help="a rendered folder (default: validation set)")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--kinds", default="effnet,fgmotion", help=f"of {', '.join(KINDS)}")
    parser.add_argument("--dictionaries", default="kfpn", help="kfpn and/or pose")
    parser.add_argument("--scales", default="window", help="window and/or video")
    parser.add_argument(
        "--linear", action="store_true", help="also the linear-recovery search (lin/KIND)"
    )
    parser.add_argument(
        "--max-gaps", default="", help="linear search: longest gaps, x the even spacing"
    )
    parser.add_argument("--rhos", default="", help="ρ values (default: the model's)")
    parser.add_argument("--gaps", default="0", help="minimum spacing shares, e.g. 0,0.5,0.75")
    parser.add_argument("--free-ends", action="store_true", help="also try without end anchors")
    parser.add_argument("--baselines", default="uniform,kmeans", help="protocol A selectors")
    parser.add_argument("--fractions", default="0.05,0.1", help="protocol A budgets")
    parser.add_argument("--fills", default="hpim")
    parser.add_argument("--limit", type=int, help="use only the first N clips")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--timing",
        type=int,
        metavar="FRAMES",
        help="only time the linear search on a random-walk sequence of FRAMES x 2880 (the "
        "pooled EfficientNet size) at --fractions, and exit",
    )


def time_linear_search(frames: int, fractions: list[float], dims: int = 320 * 9) -> None:
    """Wall and CPU seconds of ``select_linear_recovery`` on a long random-walk sequence."""
    from annotator.proposal.select import EXACT_LIMIT, MAX_GAP_SHARE, select_linear_recovery

    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(size=(frames, dims)).astype(np.float32), axis=0)
    for fraction in fractions:
        k = max(2, int(np.ceil(fraction * frames)))
        wall, cpu = time.perf_counter(), time.process_time()
        picked = select_linear_recovery(y, k)
        gap = frames if frames <= 400 else max(8, int(np.ceil(MAX_GAP_SHARE * frames / k)))
        path = "exact" if k * frames * min(gap, frames - 1) <= EXACT_LIMIT else "lagrangian"
        print(
            f"{frames} frames x {dims}, budget {k} ({path}): {len(picked)} frames in "
            f"{time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"
        )


@functools.cache
def dictionary(name: str) -> tuple[FloatArray, float]:
    """(T x K dictionary, ρ): the shipped K-FPN model's poles, or the pose fill's poles at
    the same window length."""
    import torch

    from annotator.proposal.kfpn import load_model

    model = load_model()
    with torch.no_grad():
        kfpn_d = model.net.dictionary().double().numpy()
    if name == "kfpn":
        return kfpn_d, model.rho
    if name == "pose":
        from annotator.dynamics.dyan import dyan_dictionary, load_dyan_model

        poles = load_dyan_model(POSE_DICTIONARY).poles
        return dyan_dictionary(poles, kfpn_d.shape[0]), model.rho
    raise UsageError(f"unknown dictionary {name!r}; choose from {', '.join(DICTIONARIES)}")


def gt_pose_descriptor(clip: RenderedClip) -> FloatArray:
    """(F, 26): the ground-truth joints in body sizes, gaps interpolated per coordinate (a
    reference: it uses the labels the proposals are meant to save)."""
    xy: FloatArray = clip.gt_xy.reshape(clip.frame_count, -1).copy()
    body = clip.body
    scale = float(np.nanmedian(body[np.isfinite(body) & (body > 0)])) if np.any(body > 0) else 1.0
    t = np.arange(clip.frame_count)
    for k in range(xy.shape[1]):
        ok = np.isfinite(xy[:, k])
        xy[:, k] = np.interp(t, t[ok], xy[ok, k]) if ok.any() else 0.0
    return xy / scale


def clip_descriptor(clip: RenderedClip, kind: str) -> FloatArray:
    key = f"descriptor:{kind}"
    if key not in clip.cache:
        if kind == "gtpose":
            clip.cache[key] = gt_pose_descriptor(clip)
        else:
            from annotator.proposal.descriptors import descriptors

            d = descriptors(clip.video, kind)
            clip.cache[key] = d[: clip.frame_count]
    out: FloatArray = clip.cache[key]
    return out


def search_selector(
    kind: str, dict_name: str, scale: str, gap: float, ends: bool, rho: float | None = None
) -> Selector:
    from annotator.proposal.select import select_on_sequence

    def pick(clip: RenderedClip, k: int, seed: int) -> IntArray:
        d, model_rho = dictionary(dict_name)
        rho_used = model_rho if rho is None else rho
        y = clip_descriptor(clip, kind)
        min_gap = round(gap * clip.frame_count / max(k, 1))
        frames = select_on_sequence(
            y, k, d, rho_used, anchor_ends=ends, min_gap=min_gap, scale=scale
        )
        return np.asarray(frames, dtype=np.int64)

    return pick


def linear_selector(kind: str, ends: bool = False, max_gap: float | None = None) -> Selector:
    from annotator.proposal.select import select_linear_recovery

    def pick(clip: RenderedClip, k: int, seed: int) -> IntArray:
        gap = None if max_gap is None else max(2, int(np.ceil(max_gap * clip.frame_count / k)))
        y = clip_descriptor(clip, kind)
        frames = select_linear_recovery(y, k, max_gap=gap, anchor_ends=ends)
        return np.asarray(frames, dtype=np.int64)

    return pick


def selector_name(
    kind: str, dict_name: str, scale: str, gap: float, ends: bool, rho: float | None = None
) -> str:
    name = f"eq16/{kind}/{dict_name}/{scale}/g{gap:g}"
    return name + ("" if rho is None else f"/rho{rho:g}") + ("" if ends else "/free")


def _list(text: str, known: tuple[str, ...], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise UsageError(f"unknown {what} {bad[0] if bad else '(none)'}; choose from {known}")
    return names


def run(args: argparse.Namespace) -> int:
    kinds = _list(args.kinds, KINDS, "descriptor kind")
    dicts = _list(args.dictionaries, DICTIONARIES, "dictionary")
    scales = _list(args.scales, SCALES, "scaling")
    baselines = _list(args.baselines, tuple(SELECTORS), "selector") if args.baselines else []
    try:
        gaps = [float(g) for g in args.gaps.split(",") if g.strip()]
    except ValueError:
        raise UsageError(f"--gaps must be numbers, not {args.gaps!r}") from None
    fractions = _fractions(args.fractions)
    if args.timing:
        time_linear_search(args.timing, fractions)
        return 0
    fills = [f.strip() for f in args.fills.split(",") if f.strip()]
    folder = args.set if args.set is not None else default_set(args.labels)
    clips = load_set(folder)[: args.limit] if args.limit else load_set(folder)
    table: dict[str, Selector] = {name: SELECTORS[name] for name in baselines}
    try:
        rhos: list[float | None] = [float(r) for r in args.rhos.split(",") if r.strip()] or [None]
    except ValueError:
        raise UsageError(f"--rhos must be numbers, not {args.rhos!r}") from None
    for kind, d, scale, gap, rho, ends in itertools.product(
        kinds, dicts, scales, gaps, rhos, [True, False] if args.free_ends else [True]
    ):
        name = selector_name(kind, d, scale, gap, ends, rho)
        table[name] = search_selector(kind, d, scale, gap, ends, rho)
    try:
        max_gaps = [float(g) for g in args.max_gaps.split(",") if g.strip()]
    except ValueError:
        raise UsageError(f"--max-gaps must be numbers, not {args.max_gaps!r}") from None
    if args.linear:
        for kind in kinds:
            table[f"lin/{kind}"] = linear_selector(kind)
            table[f"lin/{kind}/ends"] = linear_selector(kind, True)
            for share in max_gaps:
                table[f"lin/{kind}/m{share:g}"] = linear_selector(kind, False, share)
    frames = sum(c.frame_count for c in clips)
    print(f"{len(clips)} clips, {frames} frames ({folder})")
    print("gtpose uses the ground truth (a reference, not a proposal method)")
    start = time.perf_counter()
    rows = run_one_shot(clips, fills, list(table), fractions, args.seed, table)
    print()
    print(one_shot_table(rows))
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0
