"""Training on cached features: a model file comes out, resume continues, targets minimise eq. 16."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from annotator.dynamics.dyan_torch import dictionary
from annotator.errors import UsageError
from annotator.proposal.kfpn import load_model
from annotator.proposal.select import RecoveryObjective, reduce_window
from annotator.proposal.train import Clip, TrainSettings, find_videos, train

CONFIG = {"window": 8, "in_channels": 6, "poles": 3, "hidden": 8, "reduced": 4}


def _clips() -> list[Clip]:
    rng = np.random.default_rng(0)
    clips = []
    for n in (12, 20):
        t = np.arange(n)[:, None, None, None]
        feats = np.sin(0.3 * t + rng.uniform(0, 3, (1, 6, 7, 7))) + 0.1 * rng.normal(
            size=(n, 6, 7, 7)
        )
        clips.append(Clip(f"clip{n}", feats.astype(np.float16), np.arange(n)))
    return clips


def _settings(epochs: int) -> TrainSettings:
    return TrainSettings(
        epochs=epochs,
        batch=4,
        windows_per_epoch=8,
        optimizer="adam",
        lr=1e-3,
        pole_warmup=3,
        config=dict(CONFIG),
    )


def test_training_writes_a_loadable_model_and_resumes(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    out = tmp_path / "k.pt"
    lines: list[str] = []
    info = train(_clips(), out, _settings(1), val_clips=_clips()[:1], report=lines.append)
    assert out.is_file() and Path(str(out) + ".ckpt").is_file()
    assert len(info["history"]) == 1 and "val" in info["history"][0]
    assert any(line.startswith("epoch 1/1") for line in lines)
    model = load_model(out)
    assert model.config.window == 8 and model.meta["train_clips"] == ["clip12", "clip20"]
    lines.clear()
    info = train(_clips(), out, _settings(2), resume=False, report=lines.append)
    assert [h["epoch"] for h in info["history"]] == [1, 2]
    # Resuming a finished 2-epoch run with 3 epochs is refused (other settings) ...
    with pytest.raises(UsageError):
        train(_clips(), out, _settings(3), resume=True, report=lines.append)


def test_resume_continues_after_the_last_epoch(tmp_path: Path) -> None:
    out = tmp_path / "k.pt"
    settings = _settings(2)
    train(_clips(), out, settings, report=lambda s: None)
    lines: list[str] = []
    info = train(_clips(), out, settings, resume=True, report=lines.append)
    assert lines[0].startswith("resuming after epoch 2")
    assert len(info["history"]) == 2


def test_minimise_balances_error_against_frame_cost() -> None:
    t = 10
    d = dictionary(torch.tensor([0.97, 1.0]).double(), torch.tensor([0.3, 0.9]).double(), t)
    steps = np.arange(t)[:, None]
    y = np.sin(steps * np.array([0.2, 0.45, 0.7]))
    y -= y.mean(axis=0)
    obj = RecoveryObjective(d.numpy(), [reduce_window(y / np.linalg.norm(y))], steps.T, 0.1)
    costs = (1e-4, 0.05, 0.2, 2.0)
    picks = [obj.minimise(c) for c in costs]
    assert picks[0] and picks[-1] == []
    assert all(len(a) >= len(b) for a, b in itertools.pairwise(picks))
    for chosen, cost in zip(picks, costs, strict=True):
        value = obj.total(set(chosen)) + cost * len(chosen)
        assert value <= obj.total(set()) + 1e-12  # never worse than choosing nothing


def test_find_videos(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.avi").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in find_videos([tmp_path])] == ["a.mp4", "b.avi"]
    with pytest.raises(UsageError):
        find_videos([tmp_path / "missing"])


def test_linear_targets_minimise_linear_recovery_plus_cost() -> None:
    from annotator.proposal.select import linear_recovery_costs
    from annotator.proposal.train import linear_targets

    rng = np.random.default_rng(8)
    y = torch.from_numpy(np.cumsum(rng.normal(size=(2, 7, 3)), axis=1))
    settings = TrainSettings(w_sparse=1.0, w_rec=2.0)
    masks = linear_targets(y, settings)
    cost = 1.0 / (2.0 * 7)
    for b in range(2):
        seg, head, tail = linear_recovery_costs(y[b].numpy())

        def total(frames: tuple[int, ...], seg=seg, head=head, tail=tail) -> float:
            inner = sum(seg[a, c] for a, c in itertools.pairwise(frames))
            return float(head[frames[0]] + tail[frames[-1]] + inner + cost * len(frames))

        best = min((c for n in range(1, 8) for c in itertools.combinations(range(7), n)), key=total)
        chosen = tuple(int(i) for i in np.flatnonzero(masks[b].numpy()))
        assert np.isclose(total(chosen), total(best))


def test_training_on_the_linear_target_runs(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    settings = _settings(1)
    settings.target = "linear"
    info = train(_clips(), tmp_path / "lin.pt", settings, report=lambda line: None)
    assert info["settings"]["target"] == "linear"
    assert load_model(tmp_path / "lin.pt").config.window == 8
