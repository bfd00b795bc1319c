"""Prefill's pure parts: confidence as variance, review flags, predicted joints as the fill's
observations, laid over the fill, fused with another source, and in the fill output."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import fill_track, save_fill_npz
from annotator.estimation.prefill import (
    combine,
    confidence_variance,
    low_confidence_flags,
    predicted_observations,
)
from annotator.propagation.fuse import fuse_observations

F, J = 41, 2


def _labels() -> np.ndarray:
    """Two joints moving right along straight lines, labelled on frames 0 and 40."""
    manual = np.full((F, J, 3), np.nan)
    manual[:, :, 2] = Visibility.UNLABELLED
    for f in (0, 40):
        manual[f, 0] = (100.0 + 2 * f, 50.0, Visibility.VISIBLE)
        manual[f, 1] = (100.0 + 2 * f, 150.0, Visibility.VISIBLE)
    return manual


def _predicted(conf: float) -> tuple[np.ndarray, np.ndarray]:
    """Joint 0 predicted on frame 20, 40 px below the straight line, with ``conf``."""
    pred = np.full((F, J, 3), np.nan, dtype=np.float32)
    pred[:, :, 2] = Visibility.UNLABELLED
    pred[20, 0] = (140.0, 90.0, Visibility.VISIBLE)
    pred[20, 1] = (np.nan, np.nan, Visibility.ABSENT)
    confidence = np.full((F, J), np.nan, dtype=np.float32)
    confidence[20] = (conf, 0.9)
    return pred, confidence


def test_confidence_becomes_a_variance_in_px2() -> None:
    var = confidence_variance(np.array([1.0, 0.5, 0.01, np.nan]))
    assert np.allclose(var[:3], [9.0, 36.0, 3600.0]) and np.isnan(var[3])


def test_low_confidence_joints_are_named_per_frame() -> None:
    values = np.zeros((2, 3, 3), dtype=np.float32)
    values[:, :, 2] = Visibility.VISIBLE
    values[1, 2, 2] = Visibility.UNLABELLED
    conf = np.array([[0.9, 0.2, 0.49], [0.9, 0.8, np.nan]], dtype=np.float32)
    flags = low_confidence_flags([5, 8], values, conf, ["head", "L-wrist", "R-wrist"])
    assert flags == {5: "prefill: low confidence on L-wrist, R-wrist (< 0.5)"}


def test_predicted_joints_pull_the_hpim_fill_by_their_confidence() -> None:
    manual = _labels()
    plain = fill_track(manual, "hpim", fps=30.0)
    pulled = {}
    for conf in (0.95, 0.05):
        pred, confidence = _predicted(conf)
        obs = predicted_observations(pred, confidence)
        assert obs is not None and np.isnan(obs.variance[20, 1])  # absent: no observation
        pulled[conf] = fill_track(manual, "hpim", fps=30.0, observations=obs)
    # a sure prediction pulls the fill nearly all the 40 px; an unsure one a little
    shift_sure = pulled[0.95].poses[20, 0, 1] - plain.poses[20, 0, 1]
    shift_unsure = pulled[0.05].poses[20, 0, 1] - plain.poses[20, 0, 1]
    assert shift_sure > 35.0 and 0.0 < shift_unsure < 0.2 * shift_sure
    assert pulled[0.95].poses[18, 0, 1] - plain.poses[18, 0, 1] > 10.0  # neighbours follow
    for res in pulled.values():  # labels stay exact, the other joint is unchanged
        assert np.array_equal(res.poses[[0, 40]], plain.poses[[0, 40]])
        assert np.allclose(res.poses[:, 1], plain.poses[:, 1], equal_nan=True)


def test_combine_shows_the_estimator_value_where_there_is_no_label() -> None:
    manual = _labels()
    pred, confidence = _predicted(0.3)
    pred[0, 0] = (1.0, 1.0, Visibility.VISIBLE)  # under a manual label: the label wins
    confidence[0, 0] = 0.7
    fill = fill_track(
        manual, "hpim", fps=30.0, observations=predicted_observations(pred, confidence)
    )
    out = combine(fill, manual, pred, confidence)
    assert out.source[20, 0] == Source.PREDICTED and out.source[20, 1] == Source.PREDICTED
    assert tuple(out.poses[20, 0]) == (140.0, 90.0, Visibility.VISIBLE)
    assert out.poses[20, 1, 2] == Visibility.ABSENT and np.isnan(out.poses[20, 1, 0])
    assert out.confidence is not None and np.isclose(out.confidence[20, 0], 0.3)
    assert out.variance is not None and np.isclose(out.variance[20, 0], (3 / 0.3) ** 2)
    assert out.source[0, 0] == Source.MANUAL and np.isnan(out.confidence[0, 0])
    assert out.source[10, 0] == Source.HPIM and np.isnan(out.confidence[10]).all()
    assert fill.source[20, 0] == Source.HPIM  # the fill itself is not changed
    # an update of a span in place equals the full combine
    nothing = np.full_like(pred, np.nan)
    nothing[:, :, 2] = Visibility.UNLABELLED
    again = combine(fill, manual, nothing, np.full_like(confidence, np.nan))
    assert again.confidence is None and again.source[20, 0] == Source.HPIM
    part = combine(fill, manual, pred, confidence, (15, 25), into=again)
    full = combine(fill, manual, pred, confidence)
    assert np.array_equal(part.poses, full.poses, equal_nan=True)
    assert np.array_equal(part.source, full.source)
    assert np.array_equal(part.confidence, full.confidence, equal_nan=True)


def test_the_fill_output_carries_confidence(tmp_path: Path) -> None:
    manual = _labels()
    pred, confidence = _predicted(0.8)
    out = combine(fill_track(manual, "hpim", fps=30.0), manual, pred, confidence)
    path = tmp_path / "fill.npz"
    save_fill_npz(path, out)
    with np.load(path) as data:
        assert data["confidence"].dtype == np.float32 and data["confidence"].shape == (F, J)
        assert np.isclose(data["confidence"][20, 0], 0.8)
        names = list(data["source_names"])
        assert names[data["source"][20, 0]] == "predicted"
    plain = tmp_path / "plain.npz"
    save_fill_npz(plain, fill_track(manual, "hpim", fps=30.0))
    with np.load(plain) as data:
        assert "confidence" not in data.files  # absent when no value came from an estimator


def test_two_sources_fuse_as_a_gaussian_product() -> None:
    a = Observations(
        np.array([[[0.0, 0.0], [5.0, 5.0], [np.nan, np.nan]]]), np.array([[4.0, 1.0, np.nan]])
    )
    b = Observations(
        np.array([[[10.0, 0.0], [np.nan, np.nan], [np.nan, np.nan]]]),
        np.array([[12.0, 3.0, np.nan]]),
    )
    fused = fuse_observations(a, b)
    assert np.allclose(fused.xy[0, 0], (2.5, 0.0)) and np.isclose(fused.variance[0, 0], 3.0)
    assert np.allclose(fused.xy[0, 1], (5.0, 5.0)) and np.isclose(fused.variance[0, 1], 1.0)
    assert np.isnan(fused.xy[0, 2]).all() and np.isnan(fused.variance[0, 2])
