"""Proposals cache every other frame's features; the reading for ``N`` then completes that
cache to every frame, running the backbone only on the frames it left out, and a proposal run
takes every frame's features when they are cached."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.proposal import features as ft
from annotator.proposal.backbones import PROPOSAL_STEP
from tests.proposal.helpers import ArrayVideo, GatedBackbone, moving_square


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[GatedBackbone]:
    backbone = GatedBackbone.install(monkeypatch)
    backbone.gate.set()  # never held: these tests run one caller at a time
    return backbone


def _rounded(video: ArrayVideo) -> np.ndarray:
    """Every frame's features as a full run caches them (float16)."""
    direct = ft.video_features(video, "fake", use_cache=False)
    return direct.astype(np.float16).astype(np.float32)


def test_the_proposals_step_is_every_other_frame() -> None:
    assert PROPOSAL_STEP == 2


@pytest.mark.parametrize("count", [11, 12])
def test_every_frame_after_the_proposals_runs_the_backbone_on_the_other_frames_only(
    fake: type[GatedBackbone], count: int
) -> None:
    video = ArrayVideo(moving_square(count), fingerprint=f"complete-{count}")
    ft.video_features(video, "fake", step=PROPOSAL_STEP)
    coarse = sum(fake.seen)
    assert coarse == len({*range(0, count, 2), count - 1})  # every other frame and the last
    full = ft.video_features(video, "fake")
    assert sum(fake.seen) == count  # then the frames between only: each frame once
    assert ft.cache_path(video.fingerprint, "fake").is_file()
    want = _rounded(video)
    fake.seen.clear()
    np.testing.assert_array_equal(full, want)
    interpolated = ft.video_features(video, "fake", step=PROPOSAL_STEP)
    assert not np.array_equal(interpolated, want)  # the proposals' own cache is left as it was
    assert not fake.seen  # both read from their caches


def test_a_proposals_cache_of_another_backbone_is_not_completed(
    fake: type[GatedBackbone],
) -> None:
    video = ArrayVideo(moving_square(12), fingerprint="other-rows")
    ft.save_cached(ft.cache_path("other-rows", "fake", step=PROPOSAL_STEP), np.ones((12, 8, 7, 7)))
    full = ft.video_features(video, "fake")
    assert fake.seen[1:] == [8, 4]  # after one batch showed it: the whole video, as without it
    np.testing.assert_array_equal(full, _rounded(video))


def test_proposals_take_every_frames_features_when_cached(fake: type[GatedBackbone]) -> None:
    video = ArrayVideo(moving_square(12), fingerprint="finer")
    full = ft.video_features(video, "fake")
    fake.seen.clear()
    got = ft.video_features(video, "fake", step=PROPOSAL_STEP, finer=True)
    assert not fake.seen
    np.testing.assert_array_equal(got, full)
    # Asked for a step as such (a benchmark comparing steps), it computes that step.
    own = ft.video_features(video, "fake", step=PROPOSAL_STEP)
    assert sum(fake.seen) == 7 and not np.array_equal(own, full)


def test_the_shipped_backbone_completes_to_what_a_full_run_gives() -> None:
    video = ArrayVideo(moving_square(9), fingerprint="complete-real")
    name = "efficientnet-lite0"
    every = ft.video_features(video, name, use_cache=False)
    ft.video_features(video, name, step=PROPOSAL_STEP)
    full = ft.video_features(video, name)
    scale = float(np.abs(every).max())
    assert np.allclose(full, every, atol=2e-3 * scale)  # float16 cache, other batches


def test_cancelling_the_completion_keeps_the_proposals_cache_and_writes_nothing(
    fake: type[GatedBackbone],
) -> None:
    from annotator.core.progress import Cancelled
    from tests.proposal.test_features_stream import decode_threads

    threads = decode_threads()
    video = ArrayVideo(moving_square(60), fingerprint="complete-cancel")
    coarse = ft.video_features(video, "fake", step=PROPOSAL_STEP)
    seen = sum(fake.seen)
    calls = {"n": 0}

    def stop_soon() -> bool:
        calls["n"] += 1
        return calls["n"] > 24  # past the first batch of frames left out

    with pytest.raises(Cancelled):
        ft.video_features(video, "fake", should_stop=stop_soon)
    assert 0 < sum(fake.seen) - seen < 30  # it had started on the frames left out
    assert not ft.cache_path("complete-cancel", "fake").exists()
    assert decode_threads() == threads
    leftovers = [p.name for p in ft.cache_path("x", "fake").parent.iterdir()]
    assert leftovers == [ft.cache_path("complete-cancel", "fake", step=PROPOSAL_STEP).name]
    np.testing.assert_array_equal(ft.video_features(video, "fake", step=PROPOSAL_STEP), coarse)
    # Asked again, it completes as if never cancelled.
    np.testing.assert_array_equal(ft.video_features(video, "fake"), _rounded(video))
