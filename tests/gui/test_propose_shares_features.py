"""Propose pressed while the reading for N (started on open) runs the backbone over the same
video: the user's task starts at once, the backbone runs over the video once, and both the
proposals and N's descriptors arrive."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.gui import proposal_panel, video_ranking
from annotator.proposal import backbones, feature_share
from annotator.proposal.features import cache_path, reading
from tests.gui.conftest import open_and_wait
from tests.proposal.helpers import GatedBackbone


class KfpnMaps(GatedBackbone):
    """The gated stand-in with K-FPN's 320 channels of varied maps, so Propose (K-FPN) runs
    on them."""

    wait_s = 30.0

    def maps(self, frames: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(int(frames.mean() * 1000))
        return rng.normal(size=(len(frames), 320, 7, 7)).astype(np.float32)


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> type[GatedBackbone]:
    return KfpnMaps.install(monkeypatch)


def test_propose_during_the_reading_for_n_runs_the_backbone_once(
    qtbot, window, figure_video, gated
) -> None:  # type: ignore[no-untyped-def]
    video, _ = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    with reading(video) as source:
        key = (cache_path(source.fingerprint, backbones.DEFAULT_BACKBONE), "cpu")
    # What opening the video starts (short video: the reading runs the backbone).
    reading_task = video_ranking.start(window, session)
    assert reading_task is not None and reading_task.background
    assert gated.entered.wait(20)
    proposal_panel.propose(window, session, "kfpn")  # Tools > Propose Frames, K-FPN
    propose_task = window.proposals.task
    assert propose_task is not None and not propose_task.background
    # The user's task runs now, waiting inside the feature computation the reading started.
    qtbot.waitUntil(
        lambda: key in feature_share._RUNS and feature_share._RUNS[key].users == 2,
        timeout=20000,
    )
    assert reading_task in window.tasks.running
    gated.gate.set()
    assert window.tasks.wait_idle(120)
    assert not window.reporter.errors, window.reporter.errors
    assert sum(gated.seen) == session.frame_count  # one pass of the backbone, not two
    proposals = session.doc.proposals
    assert proposals is not None and proposals.method == "kfpn" and len(proposals.frames) > 0
    assert session.video_descriptors is not None
    assert len(session.video_descriptors) == session.frame_count
    assert key not in feature_share._RUNS


def test_cancelling_propose_while_it_waits_leaves_the_reading_for_n(
    qtbot, window, figure_video, gated
) -> None:  # type: ignore[no-untyped-def]
    video, _ = figure_video
    open_and_wait(qtbot, window, video)
    session = window.session
    reading_task = video_ranking.start(window, session)
    assert reading_task is not None and gated.entered.wait(20)
    proposal_panel.propose(window, session, "kfpn")
    propose_task = window.proposals.task
    assert propose_task is not None
    panel = window.proposals.panel
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()  # the Proposals dock's Cancel: Propose only
    qtbot.waitUntil(lambda: propose_task not in window.tasks.running, timeout=10000)
    assert propose_task.cancelled and not reading_task.cancelled
    assert session.doc.proposals is None
    gated.gate.set()
    assert window.tasks.wait_idle(120)
    assert not window.reporter.errors, window.reporter.errors
    assert sum(gated.seen) == session.frame_count
    assert session.video_descriptors is not None
