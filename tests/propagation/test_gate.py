"""The gate: improved semantic hashing, gradients through the propagation loss, model files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from annotator.propagation.gate import (
    FORCED_END,
    GateResult,
    hash_gate,
    load_gate,
    new_gate,
    save_gate,
    window_starts,
)
from annotator.propagation.gate_data import load_clips
from annotator.propagation.gate_train import loss_terms, make_batch, propagate
from tests.propagation.gate_helpers import rendered_set


def test_hashing_is_hard_at_inference_and_mixed_in_training() -> None:
    logits = torch.linspace(-3, 3, 4001)
    hard = hash_gate(logits, training=False)
    assert torch.equal(hard, (logits > 0).float())
    torch.manual_seed(0)
    train = hash_gate(logits, training=True)
    assert float(train.min()) >= 0.0 and float(train.max()) <= 1.0
    binary = (train == 0) | (train == 1)
    # about half hard decisions (plus saturated soft ones), the rest continuous
    assert 0.4 < float(binary.float().mean()) < 0.8
    # noise: some decisions disagree with the sign of the logit
    assert bool(((train == 1) & (logits < -0.5)).any())


def test_hard_decisions_pass_the_saturating_sigmoids_gradient() -> None:
    logits = torch.zeros(2000, requires_grad=True)
    torch.manual_seed(1)
    hash_gate(logits, training=True).sum().backward()
    grad = logits.grad
    assert grad is not None
    # d/dx of 1.2 sigmoid(x) - 0.1 is 1.2 s (1 - s) <= 0.3, and non-zero away from saturation
    assert float(grad.max()) <= 0.3 + 1e-6
    assert float((grad > 0).float().mean()) > 0.5


def test_gradients_reach_the_weights_through_the_propagation(tmp_path: Path) -> None:
    clips = load_clips([rendered_set(tmp_path / "set", clips=1, frames=36)], tmp_path / "cache")
    model = new_gate(seed=0)
    batch = make_batch(clips, [(0, 0, model.config.window)])
    torch.manual_seed(0)
    _, err, _ = loss_terms(model, batch, torch.full((1,), 0.03), training=True)
    err.backward()  # the error term alone: its only path to the weights is through g
    grads = [p.grad for p in model.net.parameters()]
    assert all(g is not None for g in grads)
    first_conv = next(model.net.parameters()).grad
    assert first_conv is not None and float(first_conv.abs().sum()) > 0


def test_propagation_switches_between_label_and_motion(tmp_path: Path) -> None:
    clips = load_clips([rendered_set(tmp_path / "set", clips=1, frames=36)], tmp_path / "cache")
    batch = make_batch(clips, [(0, 0, 32)])
    ones = torch.ones(1, 32)
    assert torch.allclose(propagate(ones, batch), batch.gt)
    g = torch.zeros(1, 32)
    g[:, 0] = g[:, -1] = 1
    moved = propagate(g, batch)
    err = torch.linalg.vector_norm(moved - batch.gt, dim=-1)
    # the codec field carries the joints along the object: a few px at most, while the
    # object itself moves about 3 px per frame (~95 px in the window)
    assert float(err.mean()) < 6.0
    held = torch.linalg.vector_norm(batch.gt[:, :1] - batch.gt, dim=-1)
    assert float(err.mean()) < 0.2 * float(held.mean())


def test_model_file_round_trip(tmp_path: Path) -> None:
    model = new_gate(seed=3)
    digest = save_gate(tmp_path / "g.pt", model, {"lam": 0.1})
    loaded = load_gate(tmp_path / "g.pt")
    assert loaded.sha256 == digest and loaded.meta["lam"] == 0.1
    x = torch.rand(2, 32, model.config.channels, 16, 16)
    model.net.eval()
    with torch.no_grad():
        assert torch.allclose(model.net(x), loaded.net(x))


def test_missing_model_is_a_user_error(tmp_path: Path) -> None:
    from annotator.errors import UsageError

    with pytest.raises(UsageError, match="annotator train gate"):
        load_gate(tmp_path / "none.pt")


def test_windows_share_boundaries() -> None:
    assert window_starts(20, 32) == [0]
    assert window_starts(32, 32) == [0]
    assert window_starts(100, 32) == [0, 31, 62, 93]


def test_top_takes_one_frame_per_step_first() -> None:
    logits = np.array([FORCED_END, 5, 4.9, -1, 3, 2.9, FORCED_END], np.float32)
    reps = np.array([0, 1, 3, 4, 6], np.int64)  # frames 2 and 5 share a step with 1 and 4
    result = GateResult(logits, (logits > 0).astype(np.uint8), np.zeros(7, np.float32), reps)
    assert result.top(4) == [0, 1, 4, 6]
    assert result.top(6) == [0, 1, 2, 3, 4, 6] or result.top(6) == [0, 1, 2, 4, 5, 6]


def test_decisions_go_into_the_document_through_set_gate(tmp_path: Path) -> None:
    """The app's path: one ``SetGate`` with the gate's per-frame decisions (one undo step);
    the per-frame residual energy comes with them, one float per frame."""
    from annotator.core.commands import SetGate
    from annotator.core.history import History
    from annotator.propagation.gate import gate_fields
    from annotator.video.motion import extract_motion
    from tests.core.helpers import make_doc
    from tests.propagation.gate_helpers import synth_video

    fields = extract_motion(synth_video(tmp_path / "v.mp4", fps=30))
    result = gate_fields(new_gate(seed=0), fields)
    assert result.gate.shape == result.energy.shape == (len(fields),)
    assert result.energy[0] == 0.0 and np.all(np.isfinite(result.energy))
    doc = make_doc(frames=len(fields))
    history = History(doc)
    history.push(SetGate(0, result.gate))
    assert np.array_equal(doc.gate, result.gate)
    history.undo()
    assert np.all(doc.gate == -1)
