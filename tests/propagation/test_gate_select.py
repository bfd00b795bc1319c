"""The gate's budgeted selection rules (``gate_select``): exact counts, ends, spacing, the top
logit within a segment, no boundary skeleton, determinism."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from annotator.core.framespec import uniform_frames
from annotator.errors import UsageError
from annotator.propagation.gate import FORCED_BOUNDARY, FORCED_END, GateConfig, new_gate
from annotator.propagation.gate_select import (
    DEFAULT_RULE,
    NUDGE_REACH,
    RULES,
    free_top_frames,
    segment_frames,
    select,
    spaced_frames,
)
from annotator.video.motion import MotionFields, extract_motion
from tests.propagation.gate_helpers import synth_video


def _logits(frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=frames).astype(np.float32)


@pytest.mark.parametrize("frames,count", [(150, 8), (150, 15), (61, 4), (40, 40), (12, 3)])
def test_every_rule_gives_exactly_the_budget_with_both_ends(frames: int, count: int) -> None:
    logits = _logits(frames)
    for pick in (segment_frames, spaced_frames, free_top_frames):
        chosen = pick(logits, count)
        assert len(chosen) == count and len(set(chosen.tolist())) == count
        assert chosen[0] == 0 and chosen[-1] == frames - 1
        assert np.all(np.diff(chosen) > 0)
        assert np.array_equal(chosen, pick(logits, count))  # deterministic


def test_a_budget_of_one_is_one_frame() -> None:
    for pick in (segment_frames, spaced_frames, free_top_frames):
        assert pick(_logits(30), 1).tolist() == [0]


def test_segment_takes_the_largest_logit_of_each_even_segment() -> None:
    frames, count = 101, 6  # uniform: 0, 20, 40, 60, 80, 100
    logits = np.zeros(frames, np.float32)
    peaks = [13, 47, 51, 88]  # in the segments of 20, 40, 60 and 80
    logits[peaks] = [3.0, 2.0, 4.0, 1.0]
    logits[31] = 5.0  # the segment of 40 (31..50) holds 31 and 47: 31 wins
    chosen = segment_frames(logits, count).tolist()
    assert chosen == [0, 13, 31, 51, 88, 100]
    # the rule's spacing: every pick lies in its own segment around uniform's frame
    anchors = uniform_frames(frames, count)
    step = (frames - 1) / (count - 1)
    assert all(abs(c - a) <= step / 2 for c, a in zip(chosen, anchors, strict=True))


def test_nudge_stays_within_its_reach_and_prefers_the_top_logit_there() -> None:
    frames, count = 101, 6
    logits = np.zeros(frames, np.float32)
    logits[[13, 31, 47, 51, 88]] = [3.0, 5.0, 2.0, 4.0, 1.0]
    logits[[24, 36]] = [0.5, 0.7]  # within 5 frames of 20 and 40
    chosen = segment_frames(logits, count, reach=NUDGE_REACH).tolist()
    assert chosen == [0, 24, 36, 60, 80, 100]  # 60 and 80 had nothing within reach: ties
    anchors = uniform_frames(frames, count)
    assert all(abs(c - a) <= NUDGE_REACH * 20 for c, a in zip(chosen, anchors, strict=True))


def test_preferred_frames_come_first_within_a_segment() -> None:
    logits = np.zeros(21, np.float32)
    logits[9] = 9.0
    prefer = np.ones(21, bool)
    prefer[9] = False  # shares its training-rate step with another frame
    logits[11] = 1.0
    assert segment_frames(logits, 3, prefer).tolist() == [0, 11, 20]
    assert segment_frames(logits, 3).tolist() == [0, 9, 20]


def test_spaced_keeps_half_of_uniform_spacing_and_takes_top_logits() -> None:
    frames, count = 101, 6  # spacing 20: picks at least 10 apart
    logits = np.linspace(0, 1, frames).astype(np.float32)  # the last frames rank first
    chosen = spaced_frames(logits, count)
    assert np.diff(chosen).min() >= 10
    assert chosen.tolist() == [0, 60, 70, 80, 90, 100]
    # when half the spacing leaves too few, it shrinks instead of dropping labels
    bunched = np.zeros(frames, np.float32)
    bunched[40:60] = 1.0
    assert len(spaced_frames(bunched, 30)) == 30


def test_free_top_ignores_spacing() -> None:
    logits = np.zeros(50, np.float32)
    logits[[20, 21, 22]] = [3.0, 2.0, 1.0]
    assert free_top_frames(logits, 5).tolist() == [0, 20, 21, 22, 49]


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """One thread, as the benchmark runs the gate: this small network gains nothing from
    more, and on a busy machine their contention costs seconds per call."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def long_fields(tmp_path_factory: pytest.TempPathFactory) -> MotionFields:
    """100 frames at 30 fps: windows of 32 steps leave interior boundaries at 31, 62, 93."""
    folder = tmp_path_factory.mktemp("select")
    return extract_motion(synth_video(folder / "v.mp4", fps=30, seconds=100 / 30))


def test_select_on_a_video_gives_the_budget_without_the_skeleton(long_fields: MotionFields) -> None:
    model = new_gate(GateConfig(), seed=1)
    frames = len(long_fields)
    assert frames == 100
    for rule in RULES:
        chosen, result = select(model, long_fields, 7, rule)
        assert len(chosen) == 7 and chosen == sorted(set(chosen))
        assert chosen[0] == 0 and chosen[-1] == frames - 1
        if rule == DEFAULT_RULE:  # deterministic
            again, same = select(model, long_fields, 7, rule)
            assert again == chosen and np.array_equal(same.logits, result.logits)
        if rule == "top":  # the windows' shared boundaries are forced and taken first
            assert {31, 62, 93} <= set(chosen)
            assert result.logits[31] == FORCED_BOUNDARY
        else:  # every interior frame has a logit of its own
            assert result.logits[0] == FORCED_END == result.logits[-1]
            assert not np.isin(result.logits[1:-1], [FORCED_BOUNDARY, FORCED_END]).any()
    assert DEFAULT_RULE in RULES
    with pytest.raises(UsageError):
        select(model, long_fields, 7, "best")


def test_free_logits_equal_the_networks_away_from_boundaries(long_fields: MotionFields) -> None:
    """Inside the first window, far from both tilings' edges, the free logit is the network's
    own output there (the unshifted tiling)."""
    from annotator.propagation.gate import gate_fields

    model = new_gate(GateConfig(), seed=1)
    _, result = select(model, long_fields, 7, "segment")
    plain = gate_fields(model, long_fields, lam=result.lam).logits
    assert np.allclose(result.logits[5:12], plain[5:12], atol=1e-5)
    assert not np.allclose(result.logits[28:35], plain[28:35])  # near 31: the shifted tiling


def test_propose_path_uses_the_default_rule(tmp_path: Path) -> None:
    from annotator.propagation.gate_propose import gate_video

    video = synth_video(tmp_path / "v.mp4", fps=30, seconds=100 / 30)
    model = new_gate(GateConfig(), seed=1)
    proposal = gate_video(video, model, budget=6)
    expected = segment_frames(proposal.result.logits, 6, reach=NUDGE_REACH)
    assert DEFAULT_RULE == "nudge" and proposal.frames == expected.tolist()
    plain = gate_video(video, model)  # no budget: the frames the gate opens, as before
    assert plain.frames == [int(f) for f in np.flatnonzero(plain.result.gate)]
