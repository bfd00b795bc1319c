"""The contract's frame-rate rule: the gate (trained at 30 fps) decides alike on one motion
filmed at 60 and at 30 fps, because its inputs are resampled onto the training timeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.propagation.gate import (
    frame_maps,
    frame_times,
    gate_fields,
    load_gate,
    normalise,
    resample_steps,
    step_logits,
)
from annotator.video.motion import extract_motion
from tests.propagation.gate_helpers import synth_video


def test_60_and_30_fps_of_one_motion_decide_alike(tmp_path: Path) -> None:
    model = load_gate()  # the shipped models/gate.pt
    fields = {
        fps: extract_motion(synth_video(tmp_path / f"v{fps}.mp4", fps=fps)) for fps in (30, 60)
    }
    steps = {}
    for fps, f in fields.items():
        maps, _ = resample_steps(frame_maps(f), frame_times(f))
        steps[fps] = maps[:48]  # 1.6 s at 30 steps per second
    # amounts per 1/30 s agree; a 60 fps frame alone carries about half of them
    total30 = float(steps[30].sum())
    assert abs(float(steps[60].sum()) - total30) < 0.2 * total30
    assert float(frame_maps(fields[60]).mean()) < 0.7 * float(steps[30].mean())
    logits = {fps: step_logits(model, normalise(s)) for fps, s in steps.items()}
    assert np.corrcoef(logits[30], logits[60])[0, 1] > 0.95
    assert np.mean((logits[30] > 0) == (logits[60] > 0)) >= 0.9
    # and on the video frames: what 30 fps labels at time t, 60 fps labels within 1/30 s
    r30, r60 = gate_fields(model, fields[30]), gate_fields(model, fields[60])
    t30 = np.asarray(r30.frames[:-1]) / 30.0  # the last frames differ by design (video end)
    t60 = np.asarray(r60.frames[:-1]) / 60.0
    near = [np.min(np.abs(t60 - t)) <= 1 / 30 + 1e-9 for t in t30]
    assert np.mean(near) >= 0.9
    assert abs(len(t30) - len(t60)) <= max(2, 0.15 * len(t30))


def test_rate_handling_is_what_makes_them_alike(tmp_path: Path) -> None:
    """Without resampling (60 fps frames fed as 30 fps steps) the inputs differ by far more."""
    f30 = extract_motion(synth_video(tmp_path / "a.mp4", fps=30))
    f60 = extract_motion(synth_video(tmp_path / "b.mp4", fps=60))
    handled, _ = resample_steps(frame_maps(f60), frame_times(f60))
    reference = frame_maps(f30)
    naive = frame_maps(f60)[: len(reference)]
    err_handled = np.abs(handled[: len(reference)] - reference).sum()
    err_naive = np.abs(naive - reference).sum()
    assert err_handled < 0.6 * err_naive
