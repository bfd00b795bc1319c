"""Two threads asking for one video's features at once run the backbone once; a waiter whose
computation stops without a cache computes itself, and a waiter can be cancelled."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from annotator.core.progress import Cancelled
from annotator.proposal import feature_share
from annotator.proposal.backbones import PROPOSAL_STEP
from annotator.proposal.features import cache_path, video_features
from tests.proposal.helpers import ArrayVideo, GatedBackbone, moving_square


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> type[GatedBackbone]:
    return GatedBackbone.install(monkeypatch)


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as err:  # handed to the test's thread
            out["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _users(video: ArrayVideo) -> int:
    run = feature_share._RUNS.get((cache_path(video.fingerprint, "fake"), "cpu"))
    return 0 if run is None else run.users


def _wait_for(condition: Any) -> None:
    for _ in range(400):
        if condition():
            return
        threading.Event().wait(0.025)
    raise AssertionError("timed out")


def test_a_second_caller_waits_and_reads_the_first_ones_cache(gated) -> None:  # type: ignore[no-untyped-def]
    video = ArrayVideo(moving_square(40), fingerprint="share")
    first, got_first = _in_thread(lambda: video_features(video, "fake"))
    assert gated.entered.wait(10)
    progress: list[float] = []
    second, got_second = _in_thread(
        lambda: video_features(video, "fake", progress=progress.append, mmap=True)
    )
    _wait_for(lambda: _users(video) == 2)  # the second waits for the first
    gated.gate.set()
    first.join(20)
    second.join(20)
    assert "error" not in got_first and "error" not in got_second
    assert sum(gated.seen) == 40  # every frame through the backbone once
    np.testing.assert_allclose(np.asarray(got_second["value"][:]), got_first["value"], atol=1e-2)
    assert progress and progress[-1] == 1.0
    assert _users(video) == 0  # nothing left behind


def test_a_waiter_computes_when_the_first_stops_without_a_cache(gated) -> None:  # type: ignore[no-untyped-def]
    video = ArrayVideo(moving_square(40), fingerprint="stopped")
    stop = threading.Event()
    first, got_first = _in_thread(lambda: video_features(video, "fake", should_stop=stop.is_set))
    assert gated.entered.wait(10)
    second, got_second = _in_thread(lambda: video_features(video, "fake"))
    _wait_for(lambda: _users(video) == 2)
    stop.set()  # the first is cancelled (Esc on the reading for N)
    gated.gate.set()
    first.join(20)
    second.join(20)
    assert isinstance(got_first.get("error"), Cancelled)
    assert got_second["value"].shape == (40, 4, 7, 7)
    assert cache_path(video.fingerprint, "fake").is_file()


def test_a_waiter_that_is_cancelled_stops_waiting(gated) -> None:  # type: ignore[no-untyped-def]
    video = ArrayVideo(moving_square(40), fingerprint="waiter")
    first, got_first = _in_thread(lambda: video_features(video, "fake"))
    assert gated.entered.wait(10)
    stop = threading.Event()
    second, got_second = _in_thread(lambda: video_features(video, "fake", should_stop=stop.is_set))
    _wait_for(lambda: _users(video) == 2)
    stop.set()
    second.join(5)
    assert not second.is_alive()  # it stopped while the first still holds its batch
    assert isinstance(got_second.get("error"), Cancelled)
    gated.gate.set()
    first.join(20)
    assert got_first["value"].shape == (40, 4, 7, 7) and sum(gated.seen) == 40


def _users_of(video: ArrayVideo, step: int) -> int:
    run = feature_share._RUNS.get((cache_path(video.fingerprint, "fake", step=step), "cpu"))
    return 0 if run is None else run.users


def test_every_frame_asked_while_the_proposals_run_waits_then_completes(gated) -> None:  # type: ignore[no-untyped-def]
    """The reading for N started while Propose computes every other frame: it waits for that
    run, then computes only the frames it left out."""
    video = ArrayVideo(moving_square(40), fingerprint="coarse-first")
    first, got_first = _in_thread(lambda: video_features(video, "fake", step=PROPOSAL_STEP))
    assert gated.entered.wait(10)
    progress: list[float] = []
    second, got_second = _in_thread(lambda: video_features(video, "fake", progress=progress.append))
    _wait_for(lambda: _users_of(video, PROPOSAL_STEP) == 2)
    gated.gate.set()
    first.join(20)
    second.join(20)
    assert "error" not in got_first and "error" not in got_second
    assert sum(gated.seen) == 40  # every other frame and the last, then the rest: once each
    assert got_second["value"].shape == (40, 4, 7, 7)
    assert progress and progress[-1] == 1.0 and max(progress) <= 1.0
    assert _users_of(video, 1) == 0 and _users_of(video, PROPOSAL_STEP) == 0


def test_proposals_asked_while_every_frame_is_computed_wait_and_read_it(gated) -> None:  # type: ignore[no-untyped-def]
    video = ArrayVideo(moving_square(40), fingerprint="full-first")
    first, got_first = _in_thread(lambda: video_features(video, "fake"))
    assert gated.entered.wait(10)
    second, got_second = _in_thread(
        lambda: video_features(video, "fake", step=PROPOSAL_STEP, finer=True, mmap=True)
    )
    _wait_for(lambda: _users(video) == 2)
    gated.gate.set()
    first.join(20)
    second.join(20)
    assert "error" not in got_first and "error" not in got_second
    assert sum(gated.seen) == 40  # one pass of the backbone
    np.testing.assert_allclose(np.asarray(got_second["value"][:]), got_first["value"], atol=1e-2)
    assert not cache_path(video.fingerprint, "fake", step=PROPOSAL_STEP).is_file()
