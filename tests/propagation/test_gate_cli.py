"""``annotator propose --method gate`` writes the contract's proposals file, and ``annotator
train gate`` runs end to end on a tiny rendered set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.propagation.gate import load_gate
from annotator.propagation.gate_select import NUDGE_REACH, segment_frames
from tests.propagation.gate_helpers import rendered_set, synth_video


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gate trained for a few steps on two synthetic clips (seconds)."""
    root = tmp_path_factory.mktemp("gate")
    out = root / "gate.pt"
    status = main(
        [
            "train",
            "gate",
            "--train",
            str(rendered_set(root / "set", clips=2, frames=40)),
            "--val",
            str(root / "set"),
            "--cache",
            str(root / "cache"),
            "--out",
            str(out),
            "--steps",
            "20",
            "--batch",
            "4",
            "--lam",
            "0.02",
        ]
    )
    assert status == 0
    return out


def test_train_gate_end_to_end(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = load_gate(tiny_model)
    assert model.meta["steps"] == 20 and model.meta["lam"] == 0.02
    assert "val_pck" in model.meta and "train_share" in model.meta
    assert not list(tiny_model.parent.glob("*.tmp"))  # written atomically


def _propose(video: Path, out: Path, model: Path, *extra: str) -> dict[str, object]:
    status = main(
        [
            "propose",
            str(video),
            "--method",
            "gate",
            "--model",
            str(model),
            "--out",
            str(out),
            *extra,
        ]
    )
    assert status == 0
    data: dict[str, object] = json.loads(out.read_text())
    return data


def test_propose_gate_writes_the_contract_file(tmp_path: Path, tiny_model: Path) -> None:
    video = synth_video(tmp_path / "v.mp4", fps=30)
    data = _propose(video, tmp_path / "p.json", tiny_model)
    count = 48
    assert data["schema"] == "annotator.proposals/1" and data["method"] == "gate"
    assert data["frame_count"] == count and data["budget"] is None
    scores, gate = data["scores"], data["gate"]
    assert isinstance(scores, list) and isinstance(gate, list)
    assert len(scores) == count and len(gate) == count
    assert set(gate) <= {0, 1}
    # without a budget: the frames the gate opens, which are the positive logits
    assert data["frames"] == [i for i, g in enumerate(gate) if g == 1]
    assert all((s > 0) == (g == 1) for s, g in zip(scores, gate, strict=True))
    assert gate[0] == 1 and gate[-1] == 1
    model = data["model"]
    assert isinstance(model, dict) and model["name"] == "gate.pt" and len(model["sha256"]) == 64


def test_propose_gate_with_a_budget_follows_the_selection_rule(
    tmp_path: Path, tiny_model: Path
) -> None:
    video = synth_video(tmp_path / "v.mp4", fps=30)
    data = _propose(video, tmp_path / "p.json", tiny_model, "--budget", "5")
    frames, scores = data["frames"], np.asarray(data["scores"], np.float32)
    assert isinstance(frames, list) and len(frames) == 5
    assert data["budget"] == 5
    # the default rule: ends, and the largest logit near each evenly spaced frame
    assert frames == segment_frames(scores, 5, reach=NUDGE_REACH).tolist()
    assert frames[0] == 0 and frames[-1] == len(scores) - 1
    # gate 1 on exactly the chosen frames: the timeline's gate row and G agree with them
    assert np.flatnonzero(data["gate"]).tolist() == frames


def test_propose_lists_the_gate() -> None:
    from annotator.cli.propose import METHODS

    assert "gate" in METHODS
