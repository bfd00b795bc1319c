"""Label-efficiency protocols: the budgeted DP reference is optimal, the interactive annotator
stops exactly when covered, and the command prints both tables on a tiny rendered set."""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from annotator.bench import efficiency
from annotator.bench.efficiency_data import RenderedClip, load_set
from annotator.bench.efficiency_interactive import label_until_covered
from annotator.bench.efficiency_oneshot import (
    _linear_costs,
    bisection_at_budget,
    budget_for,
    dp_linear_at_budget,
)
from annotator.core.codes import Source
from annotator.core.datasets import load_penn_action
from annotator.dynamics.base import Observations
from annotator.dynamics.fill import FillResult
from annotator.errors import UsageError
from annotator.proposal.backbones import DEFAULT_STEP
from annotator.synth.render import render_sequence
from annotator.synth.render_set import write_manifest


def synthetic_clip(frames: int = 14, cuts: list[int] | None = None) -> RenderedClip:
    """Two joints on a wiggly path (no video), all visible, body size 100 px."""
    rng = np.random.default_rng(5)
    t = np.arange(frames)[:, None]
    xy = np.stack(
        [50 + 20 * np.sin(t / 2.0 + [0, 1]), 50 + 3 * t + rng.normal(0, 2, (frames, 2))], axis=-1
    )
    poses = np.concatenate([xy, np.ones((frames, 2, 1))], axis=2).astype(np.float32)
    boxes = np.tile(np.array([0, 0, 100, 60], np.float32), (frames, 1))
    return RenderedClip("syn", Path("none.mp4"), poses, boxes, cuts or [], 30.0)


def linear_total(clip: RenderedClip, frames: tuple[int, ...]) -> float:
    if "test_costs" not in clip.cache:
        clip.cache["test_costs"] = _linear_costs(clip)
    seg, head, tail = clip.cache["test_costs"]
    return float(
        head[frames[0]] + tail[frames[-1]] + sum(seg[a, b] for a, b in itertools.pairwise(frames))
    )


@pytest.mark.parametrize("cuts", [[], [6]])
def test_budgeted_dp_beats_every_other_placement(cuts: list[int]) -> None:
    clip = synthetic_clip(cuts=cuts)
    for k in (2, 3, 4):
        best = dp_linear_at_budget(clip, k)
        assert len(best) == k
        brute = min(linear_total(clip, c) for c in itertools.combinations(range(14), k))
        assert linear_total(clip, tuple(int(f) for f in best)) == pytest.approx(brute)


def test_linear_costs_match_the_linear_fill() -> None:
    """The DP's cost model is the fill engine's linear fill (held across a scene cut)."""
    from annotator.bench.efficiency_data import make_fill

    clip = synthetic_clip(cuts=[6])
    frames = np.array([1, 4, 9, 12])
    pred = make_fill(clip, "linear")(frames)[0]
    err = np.minimum(np.linalg.norm(pred - clip.gt_xy, axis=2) / clip.body[:, None], 1.0).sum()
    assert linear_total(clip, (1, 4, 9, 12)) == pytest.approx(err, rel=1e-6)


def test_budgets_and_bisection() -> None:
    assert budget_for(100, 0.05) == 5 and budget_for(10, 0.05) == 2 and budget_for(3, 1.0) == 3
    assert bisection_at_budget(17, 3).tolist() == [0, 8, 16]
    assert bisection_at_budget(17, 5).tolist() == [0, 4, 8, 12, 16]


def fill_result(pred: np.ndarray, frames: np.ndarray, var: np.ndarray | None) -> FillResult:
    """A fill's result: ``pred`` (F, J, 2) filled between ``frames``, labels on them."""
    poses = np.concatenate([pred, np.ones((*pred.shape[:2], 1))], axis=2).astype(np.float32)
    source = np.full(pred.shape[:2], Source.HPIM, dtype=np.int8)
    source[frames] = Source.MANUAL
    variance = None
    if var is not None:
        variance = var.astype(np.float32)
        variance[frames] = 0.0
    return FillResult(poses, source, np.zeros(pred.shape[:2], dtype=bool), variance)


def test_simulated_annotator_stops_as_soon_as_covered() -> None:
    clip = synthetic_clip()
    gt = clip.gt_xy
    calls: list[list[int]] = []

    def fill(frames: np.ndarray) -> FillResult:
        calls.append(frames.tolist())
        pred = np.full_like(gt, 1e6)  # wrong everywhere except on labels
        pred[frames] = gt[frames]
        var = np.ones(gt.shape[:2])
        var[:, 0] = np.arange(len(gt))  # the fill is least sure of the last frames
        return fill_result(pred, frames, var)

    last = len(gt) - 1
    frames, done = label_until_covered(clip, fill, [0, last], use_variance=True)
    assert done and len(frames) == len(gt)  # it had to label every frame
    assert [len(c) for c in calls] == list(range(2, len(gt) + 1))  # one label per round
    # the app's ranking: the largest variance first (the frames next to the last one)
    assert calls[1] == [0, last - 1, last] and calls[2] == [0, last - 2, last - 1, last]


def test_the_tail_counts_labels_that_chase_the_last_few_wrong_frames() -> None:
    """A fill right only on its labels: each label fixes one frame, so the uncovered count
    falls by one per label and the last ``TAIL_FRAMES`` labels are the tail; a fill right
    everywhere but one frame the ranking does not look at spends every label in the tail."""
    from annotator.bench.efficiency_interactive import TAIL_FRAMES

    clip = synthetic_clip()
    gt = clip.gt_xy
    f = len(gt)

    def only_labels(frames: np.ndarray) -> FillResult:
        pred = np.full_like(gt, 1e6)
        pred[frames] = gt[frames]
        return fill_result(pred, frames, np.ones(gt.shape[:2]))

    trace: list[int] = []
    frames, done = label_until_covered(clip, only_labels, [0, f - 1], True, uncovered=trace)
    assert done and trace == list(range(f - 2, 0, -1))  # one count before each added label
    assert sum(u <= TAIL_FRAMES for u in trace) == TAIL_FRAMES

    def one_wrong(frames: np.ndarray) -> FillResult:
        pred = gt.copy()
        if 3 not in frames:
            pred[3] += 50.0  # frame 3 is wrong until labelled
        var = np.ones(gt.shape[:2])
        var[:, 0] = np.arange(f)  # but the fill is least sure of the last frames
        return fill_result(pred, frames, var)

    trace = []
    frames, done = label_until_covered(clip, one_wrong, [0, f - 1], True, uncovered=trace)
    assert done and 3 in frames and len(trace) == len(frames) - 2 > 1
    assert all(u == 1 for u in trace)  # every added label was spent in the tail


def test_protocol_b_ranks_with_the_apps_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's next frame is whatever ``ranking.rank_next_frames`` puts first."""
    from annotator.dynamics import ranking

    clip = synthetic_clip(frames=12)
    gt = clip.gt_xy
    seen: list[object] = []

    def spy(
        manual,
        result,
        top=None,
        objective="peak",
        video=None,
        evidence_weight=None,
        held_rule="",
        observed=None,
        disagreement_weight=None,
        disagreement_mode="",
    ):
        seen.append((video, held_rule, observed, disagreement_mode))
        return [(7, 1.0)] if 7 not in np.flatnonzero(manual[:, 0, 2] == 1) else []

    monkeypatch.setattr(ranking, "rank_next_frames", spy)

    def fill(frames: np.ndarray) -> FillResult:
        pred = gt.copy() if 7 in frames.tolist() else gt + 1e3
        pred[frames] = gt[frames]
        return fill_result(pred, frames, np.ones(gt.shape[:2]))

    video = np.zeros((12, 3))
    walks = Observations(np.full(gt.shape, np.nan), np.full(gt.shape[:2], np.nan))
    asked: list[list[int]] = []

    def observe(frames: np.ndarray) -> Observations:
        asked.append(frames.tolist())
        return walks

    frames, done = label_until_covered(
        clip, fill, [0, 11], True, descriptors=video, observe=observe
    )
    assert done and frames.tolist() == [0, 7, 11]
    assert seen and seen[0][0] is video and seen[0][1] == ranking.DEFAULT_HELD
    # the walks from the labels so far reach the ranking, with the app's way of weighing them
    assert seen[0][2] is walks and seen[0][3] == ranking.DEFAULT_DISAGREEMENT_MODE
    assert asked == [[0, 11]]


def tiny_set(data_dir: Path, folder: Path) -> Path:
    videos = []
    for name in ("1049", "1956"):
        seq = load_penn_action(data_dir / "penn_action" / "labels" / f"{name}.mat")
        f = 0.3
        small = replace(
            seq,
            xy=seq.xy[:24] * f,
            visible=seq.visible[:24],
            bbox=seq.bbox[:24] * f,
            width=int(seq.width * f),
            height=int(seq.height * f),
        )
        videos.append(render_sequence(small, folder, 0, "h264-nobframes"))
    write_manifest(folder, videos, "val", 0)
    return folder


def test_command_prints_both_tables(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tiny_set(data_dir, tmp_path / "set")
    assert [c.name for c in load_set(folder)] == ["1049", "1956"]
    parser = argparse.ArgumentParser()
    efficiency.add_arguments(parser)
    args = parser.parse_args(
        [
            "--set",
            str(folder),
            "--fills",
            "linear",
            "--selectors",
            "uniform,kmeans,dp-linear",
            "--strategies",
            "bisection,uniform,dp-linear",
            "--fractions",
            "0.1,0.3",
        ]
    )
    assert efficiency.run(args) == 0
    out = capsys.readouterr().out
    assert "Protocol A" in out and "Protocol B" in out
    rows = [line for line in out.splitlines() if line.startswith("| linear |")]
    assert len(rows) == 2 * 3 + 3
    pck05 = {tuple(c.strip() for c in r.split("|")[2:4]): float(r.split("|")[4]) for r in rows[:6]}
    # More labels never hurt the ground-truth reference.
    assert pck05[("30%", "dp-linear (uses GT)")] >= pck05[("10%", "dp-linear (uses GT)")]
    with pytest.raises(UsageError):
        efficiency.run(parser.parse_args(["--set", str(folder), "--fills", "magic"]))


def test_proposals_are_labelled_first_in_order_until_covered() -> None:
    clip = synthetic_clip(frames=10)
    gt = clip.gt_xy
    need = {0, 3, 7, 9}  # the fill is right once these four are labelled

    def fill(frames: np.ndarray) -> FillResult:
        pred = gt.copy() if need <= set(frames.tolist()) else gt + 1e3
        return fill_result(pred, frames, None)

    frames, done = label_until_covered(clip, fill, [9], True, queue=[7, 3, 9, 0, 5, 6])
    assert done and frames.tolist() == [0, 3, 7, 9]  # stops before proposals 5 and 6


def test_video_evidence_steers_the_annotator_to_where_the_picture_changes() -> None:
    clip = synthetic_clip(frames=20)
    gt = clip.gt_xy
    descriptors = np.zeros((20, 1))
    descriptors[13:, 0] = 10.0  # the picture changes at frame 13

    def fill(frames: np.ndarray) -> FillResult:
        pred = gt + 1e3  # wrong until frame 13 is labelled, then right
        if 13 in frames.tolist():
            pred = gt.copy()
        pred[frames] = gt[frames]
        # the fill itself is equally unsure everywhere
        return fill_result(pred, frames, np.ones(gt.shape[:2]))

    plain, done_plain = label_until_covered(clip, fill, [0, 19], True)
    seen, done_seen = label_until_covered(clip, fill, [0, 19], True, descriptors=descriptors)
    assert done_plain and done_seen
    assert len(seen) < len(plain)
    assert 13 in seen.tolist() and len(seen) <= 4


def test_the_table_prints_the_tail_for_ranked_strategies_only() -> None:
    from annotator.bench.efficiency_interactive import InteractiveRow

    rows = [
        InteractiveRow("variance", "hpim", (0.5, 0.25), (True, True), tail=(0.5, 0.1)),
        InteractiveRow("uniform", "hpim", (0.5, 0.5), (True, True)),
    ]
    ranked, spaced = efficiency.interactive_table(rows).splitlines()[2:]
    assert ranked.endswith("| 2/2 | 30.0% |") and "37.5%" in ranked
    assert spaced.endswith("| 2/2 |  |")


def test_the_walks_protocol_b_compares_the_fill_with_follow_the_chosen_field(
    data_dir: Path, tmp_path: Path
) -> None:
    from annotator.bench.efficiency_data import make_observe

    clip = load_set(tiny_set(data_dir, tmp_path / "set"))[0]
    frames = np.array([0, 12, clip.frame_count - 1])
    codec = make_observe(clip)(frames)
    flow = make_observe(clip, "dis")(frames)
    for walks in (codec, flow):
        assert walks.xy.shape == (clip.frame_count, clip.poses.shape[1], 2)
        assert np.isnan(walks.xy[frames]).all()  # labels are not walked
        assert np.isfinite(walks.xy[1:12]).any()  # the gaps are
    assert clip.cache["motion"].kind == "mv" and clip.cache["motion:dis"].kind == "flow"
    assert not np.array_equal(codec.xy, flow.xy, equal_nan=True)


def test_a_feature_step_reaches_the_video_descriptors_of_protocol_b(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from annotator.bench import efficiency_interactive
    from annotator.proposal import ranking_video

    asked: list[dict[str, object]] = []

    def descriptors(video: object, **kwargs: object) -> np.ndarray:
        asked.append(kwargs)
        return np.zeros((12, 3), np.float32)

    monkeypatch.setattr(ranking_video, "ranking_descriptors", descriptors)
    clip = synthetic_clip(frames=12)
    efficiency_interactive._video_descriptors(clip)
    efficiency_interactive._video_descriptors(clip, 2)
    assert asked == [{"step": DEFAULT_STEP}, {"step": 2}]  # the app's default, then --feature-step
    parser = argparse.ArgumentParser()
    efficiency.add_arguments(parser)
    with pytest.raises(UsageError, match="--feature-step is at least 1"):
        efficiency.run(parser.parse_args(["--set", str(tmp_path), "--feature-step", "0"]))
