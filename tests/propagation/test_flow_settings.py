"""Walks on an optical flow have their own settings (tuned on training renders for DIS), walks
on the codec's vectors keep theirs: the field's kind chooses, in the walk, the fusion's weight
and the fused variance, on every path a fill takes (``fill_with``, ``LiveFill``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.bench.propagation_tune import better, tune_section
from annotator.core.codes import Visibility
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import fill_track
from annotator.errors import UsageError
from annotator.propagation import fuse
from annotator.propagation.fuse import LiveFill, fill_with, hpim_mv_filler
from annotator.propagation.mv import DEFAULT_SETTINGS, FLOW_SETTINGS, propagate, settings_for
from annotator.propagation.registry import VideoSource
from annotator.video.motion import MotionFields

FRAMES, JOINTS, CELL, GH, GW = 40, 4, 8, 24, 32


def _fields(kind: str) -> MotionFields:
    """A drift of 1.5 px a frame to the right with noisy cells (a spread to weigh)."""
    rng = np.random.default_rng(5)
    shape = (FRAMES, GH, GW)
    dx = (1.5 + rng.normal(0, 0.8, shape)).astype(np.float32)
    dy = rng.normal(0, 0.8, shape).astype(np.float32)
    valid = np.ones(shape, dtype=bool)
    valid[0] = False
    return MotionFields(
        dx=dx,
        dy=dy,
        valid=valid,
        residual=rng.uniform(0, 6, shape).astype(np.float32),
        picture_types=("I",) + ("P",) * (FRAMES - 1),
        times=np.arange(FRAMES) / 30.0,
        derived=np.zeros(FRAMES, dtype=bool),
        kind=kind,  # type: ignore[arg-type]
        cell=CELL,
        width=GW * CELL,
        height=GH * CELL,
        codec="synthetic",
    )


def _labels() -> np.ndarray:
    truth = np.empty((FRAMES, JOINTS, 3))
    start = np.array([[60.0, 60.0], [90.0, 70.0], [70.0, 120.0], [100.0, 130.0]])
    truth[:, :, :2] = start[None] + np.arange(FRAMES)[:, None, None] * np.array([1.5, 0.0])
    truth[:, :, 2] = Visibility.VISIBLE
    man = np.full_like(truth, np.nan)
    man[:, :, 2] = Visibility.UNLABELLED
    for f in (0, 13, 26, 39):
        man[f] = truth[f]
    return man


def test_each_kind_of_field_has_its_settings() -> None:
    assert settings_for("flow") is FLOW_SETTINGS and settings_for("mv") is DEFAULT_SETTINGS
    assert FLOW_SETTINGS != DEFAULT_SETTINGS
    assert fuse.correlation_for("mv") == fuse.CORRELATION
    assert fuse.correlation_for("flow") == fuse.FLOW_CORRELATION
    assert (fuse.conflict_for("mv"), fuse.conflict_for("flow")) == (
        fuse.CONFLICT,
        fuse.FLOW_CONFLICT,
    )
    # HPIM sees a flow walk's frame at 0.33 x its uncalibrated variance (the tuned weight)
    assert FLOW_SETTINGS.scale * fuse.FLOW_CORRELATION == pytest.approx(0.33)


@pytest.mark.parametrize("kind", ["mv", "flow"])
def test_the_walk_reads_the_settings_of_its_field(kind: str) -> None:
    man, fields = _labels(), _fields(kind)
    plain = propagate(man, fields)
    own = propagate(man, fields, settings=settings_for(kind))
    other = propagate(man, fields, settings=settings_for("mv" if kind == "flow" else "flow"))
    assert np.array_equal(plain.variance, own.variance, equal_nan=True)
    assert np.array_equal(plain.xy, own.xy, equal_nan=True)
    assert not np.allclose(plain.variance, other.variance, equal_nan=True)


@pytest.mark.parametrize("kind", ["mv", "flow"])
def test_hpim_mv_weighs_walks_as_their_field_says(kind: str) -> None:
    man, fields = _labels(), _fields(kind)
    source = VideoSource(fields=fields)
    got = fill_with(man, source, "hpim+mv", fps=30.0)
    obs = propagate(man, fields, settings=settings_for(kind))
    weighed = Observations(obs.xy, obs.variance * fuse.correlation_for(kind))
    want = fill_track(man, hpim_mv_filler(30.0, kind=kind), observations=weighed)
    assert np.array_equal(got.poses, want.poses, equal_nan=True)
    assert got.variance is not None and want.variance is not None
    assert np.array_equal(got.variance, want.variance, equal_nan=True)
    # the live fill (the app's) gives the same
    live = LiveFill("hpim+mv", source, fps=30.0)
    live.reset(man)
    assert np.array_equal(live.result.poses, got.poses, equal_nan=True)
    assert np.array_equal(live.result.variance, got.variance, equal_nan=True)


def test_the_conflict_weight_follows_the_field() -> None:
    man = _labels()
    fused = {k: fill_with(man, VideoSource(fields=_fields(k)), fps=30.0) for k in ("mv", "flow")}
    assert hpim_mv_filler(30.0, kind="flow").conflict == fuse.FLOW_CONFLICT  # type: ignore[attr-defined]
    assert hpim_mv_filler(30.0).conflict == fuse.CONFLICT  # type: ignore[attr-defined]
    assert not np.allclose(fused["mv"].variance, fused["flow"].variance, equal_nan=True)


def test_a_setting_is_better_only_when_it_loses_no_budget() -> None:
    assert better([80.0, 91.0, 97.0, 99.0], [79.0, 90.0, 97.0, 99.0])
    assert not better([82.0, 92.0, 96.0, 99.0], [79.0, 90.0, 97.0, 99.0])  # 20 % lost a point
    assert not better([79.02, 90.0, 97.0, 99.0], [79.0, 90.0, 97.0, 99.0])  # noise


def test_tuning_refuses_a_validation_set(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"split": "val"}')
    with pytest.raises(UsageError, match="training render"):
        tune_section(tmp_path)
    with pytest.raises(UsageError, match="unknown split"):
        tune_section(tmp_path / "nothing")
