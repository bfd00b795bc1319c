"""Which predicted joints anchor the fill and which are weighed (``prefill.fill_inputs``)."""

from __future__ import annotations

import numpy as np

from annotator.core.codes import Visibility
from annotator.estimation.prefill import (
    between_labels,
    changed_rows,
    fill_inputs,
    predicted_observations,
    weighs,
)

F, J = 12, 2


def _empty() -> np.ndarray:
    m = np.full((F, J, 3), np.nan)
    m[:, :, 2] = Visibility.UNLABELLED
    return m


def _manual() -> np.ndarray:
    m = _empty()
    m[2, 0] = (1, 1, Visibility.VISIBLE)
    m[6, 0] = (2, 2, Visibility.OCCLUDED)
    m[9, 0, 2] = Visibility.ABSENT  # breaks joint 0's run after frame 6
    m[1, 1] = (1, 1, Visibility.VISIBLE)
    m[10, 1] = (1, 1, Visibility.VISIBLE)
    return m


def test_between_labels_joins_positioned_labels_of_one_shot() -> None:
    inside = between_labels(_manual())
    assert np.flatnonzero(inside[:, 0]).tolist() == [3, 4, 5]  # not 7, 8: absent at 9
    assert np.flatnonzero(inside[:, 1]).tolist() == list(range(2, 10))
    cut = between_labels(_manual(), scene_cuts=[5])
    assert not cut[:, 0].any() and not cut[:, 1].any()
    assert not between_labels(_empty()).any()


def test_predictions_outside_runs_anchor_and_inside_are_weighed() -> None:
    pred = _empty()
    frames = [0, 4, 8, 11]
    for t in frames:
        pred[t] = (10 + t, 20 + t, Visibility.VISIBLE)
    conf = np.full((F, J), np.nan)
    conf[frames] = 0.9
    man = _manual()
    inputs = fill_inputs(man, pred, predicted_observations(pred, conf))
    assert inputs.anchors is not None
    assert np.flatnonzero(inputs.anchors[:, 0]).tolist() == [0, 8, 11]
    assert np.flatnonzero(inputs.anchors[:, 1]).tolist() == [0, 11]
    assert np.array_equal(inputs.labels[8, 0], pred[8, 0])  # an anchor is a label
    assert np.array_equal(inputs.labels[2, 0], man[2, 0])  # labels untouched
    assert inputs.labels[4, 0, 2] == Visibility.UNLABELLED  # weighed, not a label
    assert inputs.observations is not None
    weighed = np.isfinite(inputs.observations.variance)
    assert np.flatnonzero(weighed[:, 0]).tolist() == [4]
    assert np.flatnonzero(weighed[:, 1]).tolist() == [4, 8]
    assert (man[:, :, 2] == _manual()[:, :, 2]).all()  # the input is not written to


def test_a_fill_that_weighs_nothing_takes_every_prediction_as_a_label() -> None:
    """linear, pchip, eq17, fista and mv weigh no observations: a prediction between two
    labels is a label for them (dropped, the frame the estimator saw was filled by a line
    between the labels while its estimate was shown on it)."""
    pred = _empty()
    for t in (0, 4, 8, 11):
        pred[t] = (10 + t, 20 + t, Visibility.VISIBLE)
    conf = np.where(np.isfinite(pred[:, :, 0]), 0.9, np.nan)
    man = _manual()
    obs = predicted_observations(pred, conf)
    assert weighs("hpim") and weighs("hpim+mv")
    for method in ("linear", "pchip", "eq17", "fista", "mv"):
        assert not weighs(method)
        inputs = fill_inputs(man, pred, obs, method=method)
        assert inputs.observations is None and inputs.anchors is not None
        assert np.flatnonzero(inputs.anchors[:, 0]).tolist() == [0, 4, 8, 11]
        assert np.array_equal(inputs.labels[4, 0], pred[4, 0])
        assert np.array_equal(inputs.labels[6, 0], man[6, 0])  # a label stays the label
    weighing = fill_inputs(man, pred, obs, method="hpim+mv")
    assert np.flatnonzero(weighing.anchors[:, 0]).tolist() == [0, 8, 11]


def test_without_predictions_the_labels_are_the_manual_array_itself() -> None:
    man = _manual()
    inputs = fill_inputs(man, _empty(), None)
    assert inputs.labels is man and inputs.observations is None and inputs.anchors is None


def test_changed_rows() -> None:
    a = np.zeros((F, J), bool)
    b = a.copy()
    b[3, 1] = b[7, 0] = True
    assert changed_rows(None, None) is None
    assert changed_rows(a, a.copy()) is None
    assert changed_rows(a, b) == (3, 7)
    assert changed_rows(None, b) == (3, 7) == changed_rows(b, None)
