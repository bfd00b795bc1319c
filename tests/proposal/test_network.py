"""The K-FPN network: shapes, α sharpening, deterministic CPU inference of a tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from annotator.errors import UsageError
from annotator.proposal.kfpn import load_model, propose_from_features, window_scores
from annotator.proposal.network import Kfpn, KfpnConfig

from .helpers import tiny_model_file


def test_shapes_and_alpha_sharpens_scores() -> None:
    torch.manual_seed(0)
    net = Kfpn(KfpnConfig(window=6, in_channels=10, poles=3, hidden=8, reduced=4)).eval()
    x = torch.randn(2, 6, 10, 7, 7)
    with torch.no_grad():
        soft = net(x)
        net.alpha.fill_(50.0)
        sharp = net(x)
    assert soft.shape == (2, 6)
    # Higher α pushes every score away from 0.5 (towards a binary indicator).
    assert torch.all((sharp - 0.5).abs() >= (soft - 0.5).abs() - 1e-6)
    with pytest.raises(ValueError):
        net(torch.randn(1, 5, 10, 7, 7))


def test_tiny_random_model_is_deterministic_on_cpu(tmp_path) -> None:
    model = load_model(tiny_model_file(tmp_path / "tiny.pt", window=8, channels=12))
    feats = np.random.default_rng(0).normal(size=(30, 12, 7, 7)).astype(np.float32)
    positions = np.arange(30)
    _, first = window_scores(model, feats, positions)
    _, second = window_scores(model, feats, positions)
    assert np.array_equal(first, second)
    again = load_model(tmp_path / "tiny.pt")
    a = propose_from_features(model, feats, 30.0, budget=5)
    b = propose_from_features(again, feats, 30.0, budget=5)
    assert a == b and len(a.frames) == 5
    assert model.sha256 is not None and len(model.sha256) == 64


def test_sliding_windows_match_one_window_on_a_short_video(tmp_path) -> None:
    model = load_model(tiny_model_file(tmp_path / "tiny.pt", window=8, channels=12))
    feats = np.random.default_rng(1).normal(size=(8, 12, 7, 7)).astype(np.float32)
    with torch.no_grad():
        direct = model.net(torch.from_numpy(feats)[None]).numpy()[0]
    result = propose_from_features(model, feats, 30.0, anchor_ends=False, natural="threshold")
    assert np.allclose(result.scores, direct, atol=1e-6)
    assert result.frames == [i for i in range(8) if direct[i] >= 0.99]
    # A longer video: its first frames are scored by the first window, as if alone.
    longer = np.concatenate([feats, np.random.default_rng(2).normal(size=(12, 12, 7, 7))])
    merged = propose_from_features(
        model, longer.astype(np.float32), 30.0, anchor_ends=False, natural="threshold"
    )
    assert np.allclose(merged.scores[:4], direct[:4], atol=1e-6)


def test_other_frame_rates_are_resampled_to_the_training_rate(tmp_path) -> None:
    model = load_model(tiny_model_file(tmp_path / "tiny.pt", window=8, channels=12))
    base = np.random.default_rng(3).normal(size=(20, 12, 7, 7)).astype(np.float32)
    doubled = np.repeat(base, 2, axis=0)  # the same motion filmed at 60 fps
    at_30 = propose_from_features(model, base, 30.0, budget=4)
    at_60 = propose_from_features(model, doubled, 60.0, budget=4)
    assert [f // 2 for f in at_60.frames] == at_30.frames
    for search in ("linear", "eq16"):
        a30 = propose_from_features(model, base, 30.0, budget=4, anchor_ends=True, search=search)
        a60 = propose_from_features(model, doubled, 60.0, budget=4, anchor_ends=True, search=search)
        assert [f // 2 for f in a60.frames] == a30.frames
        assert a30.frames[0] == 0 and a30.frames[-1] == 19  # anchored ends are proposed
        assert a60.frames[-1] == 39
    assert propose_from_features(model, base, 30.0, budget=4, search="eq16").frames[0] == 0


def test_natural_count_is_the_expected_count_of_key_frames(tmp_path) -> None:
    model = load_model(tiny_model_file(tmp_path / "tiny.pt", window=8, channels=12))
    feats = np.random.default_rng(5).normal(size=(24, 12, 7, 7)).astype(np.float32)
    from annotator.proposal.kfpn import grid_descriptors
    from annotator.proposal.select import select_linear_recovery

    strict = propose_from_features(model, feats, 30.0, natural="threshold")
    for search in ("linear", "eq16"):
        result = propose_from_features(model, feats, 30.0, search=search)
        expected = round(sum(result.scores))
        assert len(result.frames) == max(expected, len(strict.frames))
        assert {0, 23} <= set(result.frames)
        if search == "eq16":  # grows the network's s >= 0.99 set
            assert set(strict.frames) <= set(result.frames)
        else:  # the search alone places them (the s >= 0.99 frames only raise the count)
            y = grid_descriptors(model, feats, np.arange(24))
            want = len(result.frames)
            assert result.frames == select_linear_recovery(y, want, anchor_ends=True)


def test_linear_search_budget_frames_rebuild_the_features_best(tmp_path) -> None:
    from annotator.proposal.kfpn import grid_descriptors
    from annotator.proposal.select import select_linear_recovery

    model = load_model(tiny_model_file(tmp_path / "tiny.pt", window=8, channels=12))
    feats = np.random.default_rng(7).normal(size=(26, 12, 7, 7)).astype(np.float32)
    result = propose_from_features(model, feats, 30.0, budget=6)
    assert len(result.frames) == 6
    y = grid_descriptors(model, feats, np.arange(26))
    assert y.shape == (26, 12 * model.config.loss_pool**2)
    assert result.frames == select_linear_recovery(y, 6)
    with pytest.raises(UsageError):
        propose_from_features(model, feats, 30.0, budget=6, search="nope")
