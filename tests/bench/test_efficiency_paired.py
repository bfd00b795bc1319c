"""Protocol A's paired comparison: each row carries its clips' PCK@0.05 counts, and
``--paired-against`` prints every other selector's difference with a bootstrap interval over
clips."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pytest

from annotator.bench import efficiency
from annotator.bench.efficiency_data import make_fill
from annotator.bench.efficiency_oneshot import OneShotRow, budget_for, paired_rows, run_one_shot
from annotator.core.framespec import uniform_frames
from annotator.core.metrics import pck
from annotator.errors import UsageError

from .test_efficiency import synthetic_clip, tiny_set


def _row(selector: str, hits: list[int], fraction: float = 0.1) -> OneShotRow:
    counted = [10] * len(hits)
    return OneShotRow(
        "hpim", fraction, selector, (sum(hits) / sum(counted),) * 3, 1.0, 2, 20,
        tuple(hits), tuple(counted),
    )  # fmt: skip


def test_the_difference_is_pooled_and_its_interval_resamples_clips() -> None:
    rows = [
        _row("kfpn", [5, 6, 7, 8]),
        _row("same", [5, 6, 7, 8]),
        _row("better", [6, 7, 8, 9]),  # one more hit on every clip
        _row("mixed", [9, 2, 7, 8]),  # better on one clip, worse on another
        _row("kfpn", [1, 1, 1, 1], fraction=0.2),
        _row("better", [2, 2, 2, 2], fraction=0.2),
    ]
    got = {(f, s): (d, lo, hi) for _fill, f, s, d, lo, hi in paired_rows(rows, "kfpn", 500)}
    assert set(got) == {(0.1, "same"), (0.1, "better"), (0.1, "mixed"), (0.2, "better")}
    assert got[(0.1, "same")] == (0.0, 0.0, 0.0)
    assert got[(0.1, "better")] == pytest.approx((0.1, 0.1, 0.1))  # 4 hits more of 40
    d, lo, hi = got[(0.1, "mixed")]
    assert d == pytest.approx(0.0) and lo < 0 < hi  # a pooled tie that varies by clip
    assert got[(0.2, "better")] == pytest.approx((0.1, 0.1, 0.1))


def test_rows_count_each_clips_hits_as_the_pooled_pck_does() -> None:
    clips = [synthetic_clip(), replace(synthetic_clip(frames=20, cuts=[9]), name="syn20")]
    rows = run_one_shot(clips, ["linear"], ["uniform", "bisection"], [0.2])
    for r in rows:
        assert len(r.hits) == len(r.counted) == 2
        assert r.counted == (28, 40)  # every joint of every frame is visible and counted
        assert sum(r.hits) / sum(r.counted) == pytest.approx(r.pck[0])
    # per clip: the same as scoring that clip's fill alone
    clip = clips[1]
    pred = make_fill(clip, "linear")(uniform_frames(20, budget_for(20, 0.2)))[0]
    assert rows[0].selector == "uniform"
    assert rows[0].hits[1] == round(pck(pred, clip.gt_xy, clip.visible, clip.body, 0.05) * 40)


def test_the_command_prints_the_paired_rows(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tiny_set(data_dir, tmp_path / "set")
    parser = argparse.ArgumentParser()
    efficiency.add_arguments(parser)
    common = [
        "--set",
        str(folder),
        "--protocol",
        "A",
        "--fills",
        "linear",
        "--fractions",
        "0.1,0.3",
    ]
    args = parser.parse_args([*common, "--selectors", "uniform,bisection,dp-linear",
                              "--paired-against", "uniform"])  # fmt: skip
    assert efficiency.run(args) == 0
    out = capsys.readouterr().out
    assert "minus uniform's, 95% paired bootstrap over clips" in out
    paired = [r for r in out.splitlines() if r.startswith("| linear |") and "[" in r]
    assert [r.split("|")[3].strip() for r in paired] == ["bisection", "dp-linear"] * 2
    with pytest.raises(UsageError, match="not among the selectors"):
        efficiency.run(parser.parse_args([*common, "--paired-against", "kfpn",
                                          "--selectors", "uniform"]))  # fmt: skip
