"""Model cards written beside trained dynamics models (``annotator train dictionary``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.dynamics.dyan_training import DyanResult
from annotator.dynamics.hpim import HpimModel

_LICENCE = """Licence: the Penn Action annotations are research-use (cite Zhang, Zhu, Derpanis, ICCV 2013){jh};
this file holds only learned parameters (poles, a ridge), not the annotations."""


def dyan_card(
    name: str,
    res: DyanResult,
    command: str,
    date: str,
    penn: Path | None,
    jhmdb: Path | None,
    quick: bool,
) -> str:
    s = res.settings
    rows = "\n".join(f"| {float(b) * 100:g}% | {v:+.1f}% |" for b, v in res.tune_rel.items())
    hist = "\n".join(
        f"| {int(h['epoch'])} | {h['loss']:.5f} | {h['held_out']:.5f} |" for h in s.history
    )
    data = []
    if penn is not None:
        data.append(
            f"Penn Action train-split labels (`{penn}`), the contract's training part only "
            "(the first 1000 files by name); every 5th of them (200 files, all actions) is "
            f"held out of the gradient steps to choose the epoch ({res.tune_files} files), "
            f"the others give the gap windows"
        )
    if jhmdb is not None:
        data.append(f"JHMDB split 1 train list (`{jhmdb}`), puppet units")
    objective = (
        "through the fill: eq. 17 fills of random gaps (uniform key frames at a random "
        "budget 4-35% or a random subset of frames, up to 3 labels each side in a window "
        f"of {s.rows} frames centred on the gap), loss = mean Euclidean error on the gap's "
        "frames relative to linear interpolation's there (floor 0.003 body); the ridge of the solve is learned with the poles"
        if s.objective == "fill"
        else f"DYAN eq. 2 (½‖y − D c‖² + {s.sparsity:g}‖c‖₁, FISTA unrolled 30 steps) on "
        f"complete {s.rows}-frame windows (comparison only)"
    )
    r, th = res.poles.r, res.poles.theta
    layout = (
        "r^t cos tθ, (−r)^t cos tθ, r^t sin tθ, (−r)^t sin tθ (`--layout published`)"
        if res.poles.mirrored
        else "r^t cos tθ, r^t sin tθ (`--layout plain`: no (−r)^t columns)"
    )
    jh = "; JHMDB is research-use too (cite Jhuang et al., ICCV 2013)" if jhmdb else ""
    return f"""# {name}: DYAN dictionary for the `eq17`/`fista` fills (learned poles)

- What: {len(r)} poles p = r·e^(iθ) (`r`, `theta` in radians per frame at {res.poles.fps:g}
  fps) and a ridge ({res.ridge:.3g}); the dictionary is built from them for any window length
  (`annotator/dynamics/dyan.py`: a constant column and {layout}, unit-norm columns),
  {s.rows} rows by default. At another frame rate the
  poles become p^(f_train / f_video) and the window keeps its length in seconds.
- Data: {"; ".join(data)}. Poses divided by each sequence's median body size (one dictionary
  for any image size); the dictionary acts per coordinate, so it serves any skeleton.
  {"QUICK smoke run on a subset: not for shipping." if quick else ""}
- Objective: {objective}.
- Command: `{command}`
- Trained: {date}, {res.seconds / 60:.1f} min of training on {s.device} (2 threads; reading
  the label files and cutting the windows comes on top, about a minute), {s.epochs} epochs of
  {s.steps_per_epoch} Adam steps (batch {s.batch}, lr {s.lr:g}), kept epoch {res.epochs_run}
  (best on the held-out training files). Poles: r {r.min():.3f}-{r.max():.3f} (median
  {np.median(r):.3f}), θ {th.min():.3f}-{th.max():.3f} rad/frame.
- `eq17` error relative to linear interpolation on the held-out training files, uniform key
  frames (validation figures, 258 videos never used here: `docs/benchmarks-fill.md`):

| key frames | eq17 vs linear |
|---|---|
{rows}

Training history (the objective on the gradient-step windows; the same on gaps of the held-out
files (1 = linear's error), which chooses the epoch):

| epoch | loss | held-out fill error |
|---|---|---|
{hist}

{_LICENCE.format(jh=jh)}
"""


def hpim_card(
    name: str, labels: Path, model: HpimModel, rel: dict[str, float], date: str, quick: bool
) -> str:
    rows = "\n".join(f"| {float(b) * 100:g}% | {v:+.1f}% |" for b, v in rel.items())
    return f"""# {name}: HPIM motion prior (Penn Action)

- Data: Penn Action train-split labels, the contract's training part only (the first 1000
  files by name, `annotator.core.split.penn_action_split`); every 5th of them (200 files,
  all actions) tunes the settings, the other 800 estimate the variogram, then the variogram
  is re-estimated on all 1000.
  {"QUICK smoke run on a subset: not for shipping." if quick else ""}
- Command: `annotator train dictionary --kind hpim-prior --data {labels} --out models/{name}`
- Trained: {date}
- Settings chosen: reach {model.reach}, trend {model.trend}, nugget {model.nugget:g} (units of
  γ(1 frame)), hold_below {model.hold_below:g} px, pchip_mix {list(model.pchip_mix)} (gap bins
  < 4, < 7, < 12, < 20, ≥ 20 frames), frame rate {model.fps:g} fps, {len(model.variogram)} lags.
- Mean error relative to linear interpolation on the 200 tuning files, uniform key
  frames (validation figures: `docs/benchmarks-fill.md`):

| key frames | HPIM vs linear |
|---|---|
{rows}

Licence: the Penn Action annotations are research-use (cite Zhang, Zhu, Derpanis, ICCV 2013);
this file holds only pooled statistics of them.
"""


def uncertainty_section(model: HpimModel, rho: float, command: str, date: str, files: int) -> str:
    """The model card's section on the fitted uncertainty."""
    return f"""
## Uncertainty

The fill's variance (per frame, joint and coordinate, pixels²) = {model.unc_scale:.3g} x
(kriging variance x the joint's motion scale + {model.unc_loo:g} x mid-gap bridge x squared
leave-one-label-out residuals of the gap's labels + {model.unc_disagree:g} x (hpim − pchip)²).
Weights chosen on {files} training files (every 5th of the first 1000) to maximise the
Spearman correlation with the squared error of uniform key frame fills at 5, 10, 20, 30%
({rho:.3f} pooled), the scale so that its mean is the mean squared error.
Command: `{command}` ({date}). Validation figures: `docs/benchmarks-fill.md`.
"""
