"""``annotator bench propagation --fields`` and ``--sections cost``: the fields are checked
with a one-line usage error, and the cost table times each field's extraction."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotator.bench.propagation import parse_fields
from annotator.bench.propagation_fields import cost_section
from annotator.errors import UsageError
from annotator.synth.motion import Scene, encode


def test_fields_are_checked_and_kept_in_their_order() -> None:
    assert parse_fields("dis, mv") == ["mv", "dis"]
    assert parse_fields("mv,dis,dis-fast,farneback") == ["mv", "dis", "dis-fast", "farneback"]
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
