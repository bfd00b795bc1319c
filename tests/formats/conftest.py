"""Fixtures for the format tests: small PoseSets with every joint state, and a fake video."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.poseset import PoseSet
from annotator.core.skeleton import PENN_ACTION
from tests.formats.helpers import FRAMES, FakeVideo, person


@pytest.fixture
def pose_set() -> PoseSet:
    return PoseSet(
        PENN_ACTION, FRAMES, [person(0, 0.0)], fps=30.0, width=64, height=48,
        timestamps=np.arange(FRAMES) / 30.0, video_path="/videos/walk.mp4",
    )  # fmt: skip


@pytest.fixture
def two_people() -> PoseSet:
    return PoseSet(
        PENN_ACTION, FRAMES, [person(0, 0.0), person(4, 100.0)], fps=25.0, width=64,
        height=48,
    )  # fmt: skip


@pytest.fixture
def fake_video() -> FakeVideo:
    return FakeVideo()
