"""``annotator bench propagation --sections tune --set TRAIN``: the walk and fusion settings
varied one at a time on a rendered *training* set.

Starting from the settings every walk uses today (``mv.DEFAULT_SETTINGS``, ``fuse.CORRELATION``),
each parameter below takes a few values on a log scale around its current one while the others
stay put; every row prints ``hpim+mv``'s PCK@0.05 at the render section's budgets (protocol A,
uniform key frames) and their mean, and the ``mv`` walk's calibration (squared error per
coordinate over variance, mean over mean) that the variance scale divides out. A value counts
as better only when it raises the mean by more than 0.05 points and loses no budget by more
(:func:`better`); the best value of each parameter is then tried together (``combined``),
kept if it is better too, else the best single change is (``chosen``); a second pass starts
from the choice. The set must be a training render (``bench
render --split train``): the section refuses a validation set, since settings chosen on it
could not be checked on it.

Parameters (``mv.WalkSettings`` and the fusion's correlation):
``radius`` and ``min_radius`` (share of the body, and the least px, whose cells vote),
``spread_weight`` and ``residual_weight`` (the step variance), ``disagree`` (the two walks'
disagreement in the variance), ``occluded`` (a walk from an occluded label) and
``correlation`` (how much less than independent a walk's frames count in HPIM's update).
``scale`` and the fusion's conflict weight move no position (they calibrate variances), so
they are not in the grid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.dynamics.base import Observations
from annotator.dynamics.fill import fill_track
from annotator.errors import UsageError
from annotator.propagation.mv import WalkSettings, propagate

GRID: dict[str, tuple[float, ...]] = {
    "radius": (0.02, 0.04, 0.08),
    "min_radius": (6.0, 12.0, 24.0),
    "spread_weight": (1.0, 2.0, 4.0, 8.0),
    "residual_weight": (0.0, 0.05, 0.2),
    "disagree": (0.5, 2.0, 8.0),
    "occluded": (5.0, 10.0, 20.0),
    "correlation": (1.0, 3.0, 9.0, 27.0),
}


@dataclass(frozen=True)
class Trial:
    """One setting: the walk's settings and the fusion's correlation."""

    walk: WalkSettings
    correlation: float

    def with_value(self, name: str, value: float) -> Trial:
        if name == "correlation":
            return replace(self, correlation=value)
        return replace(self, walk=replace(self.walk, **{name: value}))

    def value(self, name: str) -> float:
        return self.correlation if name == "correlation" else float(getattr(self.walk, name))


def evaluate(clips: list[Any], fields: dict[str, Any], trial: Trial) -> tuple[list[float], float]:
    """``hpim+mv`` PCK@0.05 in % per render budget, and the walk's calibration (mean squared
    error per coordinate over mean variance, filled frames of visible joints)."""
    from annotator.bench.efficiency_oneshot import budget_for
    from annotator.bench.propagation import ALPHA, RENDER_BUDGETS
    from annotator.core.framespec import uniform_frames
    from annotator.core.metrics import pck
    from annotator.propagation.fuse import hpim_mv_filler

    fillers: dict[float, Any] = {}
    scores: list[float] = []
    err2: list[NDArray[np.float64]] = []
    var: list[NDArray[np.float64]] = []
    for budget in RENDER_BUDGETS:
        pred, gt, vis, body = [], [], [], []
        for clip in clips:
            keep = uniform_frames(clip.frame_count, budget_for(clip.frame_count, budget))
            man = clip.manual(keep)
            obs = propagate(man, fields[clip.name], clip.cuts, trial.walk)
            have = np.isfinite(obs.variance) & (obs.variance > 0) & clip.visible
            err2.append(((obs.xy - clip.gt_xy) ** 2).sum(axis=2)[have] / 2.0)
            var.append(obs.variance[have])
            weighed = Observations(obs.xy, obs.variance * trial.correlation)
            filler = fillers.setdefault(clip.fps, hpim_mv_filler(clip.fps))
            res = fill_track(man, filler, scene_cuts=clip.cuts, observations=weighed)
            pred.append(res.poses[:, :, :2].astype(np.float64))
            gt.append(clip.gt_xy)
            vis.append(clip.visible)
            body.append(clip.body)
        p, g = np.concatenate(pred), np.concatenate(gt)
        scores.append(100 * pck(p, g, np.concatenate(vis), np.concatenate(body), ALPHA))
    e, v = np.concatenate(err2), np.concatenate(var)
    return scores, float(e.mean() / max(v.mean(), 1e-12))


def _row(label: str, scores: list[float], calibration: float) -> str:
    cells = " | ".join(f"{s:.1f}" for s in scores)
    return f"| {label} | {cells} | {np.mean(scores):.2f} | {calibration:.2f} |"


def tune_section(folder: Path, field: Any = "dis", cell: int = 8, rounds: int = 2) -> Trial:
    """Print the one-at-a-time grid on the training set ``folder``, up to ``rounds`` passes
    (each from the previous pass's choice); return the chosen trial."""
    from annotator.bench.efficiency_data import load_set, set_split
    from annotator.bench.propagation import RENDER_BUDGETS
    from annotator.propagation.fuse import CORRELATION
    from annotator.propagation.mv import DEFAULT_SETTINGS
    from annotator.video.motion import extract_motion

    split = set_split(folder)
    if split != "train":
        raise UsageError(
            f"--sections tune needs a training render (bench render --split train), not "
            f"{split or 'a set of unknown split'}: {folder}"
        )
    clips = load_set(folder)
    fields = {c.name: extract_motion(c.video, field=field, cell=cell) for c in clips}
    current = Trial(DEFAULT_SETTINGS, CORRELATION)
    frames = sum(c.frame_count for c in clips)
    print(f"\nTuning on the training set {folder} ({len(clips)} clips, {frames} frames),")
    print(f"field {field} ({cell} px cells): hpim+mv PCK@0.05 in %, one parameter at a time")
    scores, cal = evaluate(clips, fields, current)
    for round_ in range(1, rounds + 1):
        budgets = " | ".join(f"{int(100 * b)} %" for b in RENDER_BUDGETS)
        print(f"\nPass {round_}\n\n| setting | {budgets} | mean | mv calibration |")
        print("|---" * (3 + len(RENDER_BUDGETS)) + "|")
        print(_row("start" if round_ > 1 else "current", scores, cal), flush=True)
        chosen, chosen_scores, chosen_cal = _pass(clips, fields, current, scores)
        if chosen == current:
            print("\nno setting gained at every budget: the settings stand")
            break
        changed = ", ".join(
            f"{n} {chosen.value(n):g}" for n in GRID if chosen.value(n) != current.value(n)
        )
        print(f"\nchosen: {changed}")
        current, scores, cal = chosen, chosen_scores, chosen_cal
    walk = ", ".join(f"{n} {current.value(n):g}" for n in GRID)
    print(f"\nsettings: {walk}")
    return current


def _pass(
    clips: list[Any], fields: dict[str, Any], base: Trial, scores: list[float]
) -> tuple[Trial, list[float], float]:
    """One pass: each parameter's values from ``base``, then the best of each together
    (kept if :func:`better`, else the best single change). Returns the choice, its scores
    and calibration (``base`` itself when nothing was better)."""
    best = base
    single: tuple[Trial, list[float], float] = (base, scores, 0.0)
    for name, values in GRID.items():
        top = float(np.mean(scores))
        for value in values:
            if value == base.value(name):
                continue
            trial = base.with_value(name, value)
            s, c = evaluate(clips, fields, trial)
            print(_row(f"{name} {value:g}", s, c), flush=True)
            if better(s, scores) and np.mean(s) > top:
                top = float(np.mean(s))
                best = best.with_value(name, value)
                if top > np.mean(single[1]):
                    single = (trial, s, c)
    if best == single[0]:
        return single
    s, c = evaluate(clips, fields, best)
    changed = ", ".join(f"{n} {best.value(n):g}" for n in GRID if best.value(n) != base.value(n))
    print(_row(f"combined: {changed}", s, c))
    return (best, s, c) if better(s, scores) else single


def better(scores: list[float], current: list[float], noise: float = 0.05) -> bool:
    """Whether ``scores`` beat ``current``: the mean up by more than ``noise`` points and no
    budget down by more than ``noise`` (a setting that trades one budget for another is not
    adopted)."""
    gain = np.asarray(scores) - np.asarray(current)
    return bool(gain.mean() > noise and gain.min() >= -noise)
