"""``annotator bench propagation --fields``, ``--sections cost`` and ``--sections dis``: the
fields are checked with a one-line usage error, the cost table times each field's extraction,
and the DIS table times each setting and reads the synthetic step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotator.bench.propagation import parse_fields
from annotator.bench.propagation_fields import DIS_SETTINGS, cost_section, dis_section
from annotator.errors import UsageError
from annotator.synth.motion import Scene, encode


def test_fields_are_checked_and_kept_in_their_order() -> None:
    assert parse_fields("dis, mv") == ["mv", "dis"]
    assert parse_fields("mv,dis,dis-fast,farneback") == ["mv", "dis", "dis-fast", "farneback"]
    assert parse_fields("dis-320,dis-640,dis") == ["dis", "dis-640", "dis-320"]
    for bad in ("", "lk", "mv,flow"):
        with pytest.raises(UsageError, match="--fields"):
            parse_fields(bad)


def test_cost_section_prints_one_row_per_clip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    encode(Scene(width=96, height=64, frames=6), videos / "hybrik_taiji.mp4", "libx264")
    cost_section(tmp_path, ["mv", "dis"])
    rows = [line for line in capsys.readouterr().out.splitlines() if "hybrik_taiji" in line]
    assert len(rows) == 1 and "(6 frames)" in rows[0]
    # decode, then each field as wall / CPU (ratio to the decode)
    assert len(re.findall(r"[\d.]+ / [\d.]+ \([\d.]+x\)", rows[0])) == 2


def test_dis_section_times_each_setting_and_reads_the_known_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    encode(Scene(width=256, height=192, frames=4), videos / "hybrik_taiji.mp4", "libx264")
    dis_section(tmp_path, frames=4)
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(DIS_SETTINGS)  # the header, then one row per setting
    medium = rows[1].split(" | ")
    assert medium[0] == "| medium preset" and all(float(ms) > 0 for ms in medium[1:3])
    # the 5 px step at 512 px: the medium preset reads it (the 256 px reading is lower)
    assert float(medium[3]) == pytest.approx(5.0, abs=0.1)
    assert float(medium[4].rstrip(" |")) < float(medium[3])
