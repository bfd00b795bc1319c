"""``bench estimation``'s pipeline rows: the fill's motion store is extracted once, timed apart
(``flow s``), and the fill then reads it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annotator.bench import estimation as bench
from annotator.cli import main
from annotator.propagation import FILL_FIELD
from annotator.video import motion_cache

CLIP = "mmhuman3d_single_person_demo"  # 40 frames, H.264: codec vectors exist


def _count_extractions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each store extraction (its field) and each estimator run ("estimate"), in order."""
    events: list[str] = []
    real_extract, real_estimate = motion_cache.extract_raw, bench.estimate_track

    def counted(path: Path, *args: Any, **kwargs: Any) -> Any:
        events.append(kwargs.get("field", args[6] if len(args) > 6 else "mv"))  # the 8th
        return real_extract(path, *args, **kwargs)

    def estimate(*args: Any, **kwargs: Any) -> Any:
        events.append("estimate")
        return real_estimate(*args, **kwargs)

    monkeypatch.setattr(motion_cache, "extract_raw", counted)
    monkeypatch.setattr(bench, "estimate_track", estimate)
    return events


def test_flow_store_is_timed_apart_and_the_fill_reads_it_back(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    video = data_dir / "videos" / f"{CLIP}.mp4"
    events = _count_extractions(monkeypatch)
    every = bench._timed_estimate(video, "all", None, "auto", 1)
    assert events == ["estimate"] and "flow" not in every.seconds  # every frame: no motion
    events.clear()

    result = bench._timed_estimate(video, "uniform", 0.25, "auto", 1, carried=True)
    # the carried region's codec store, then the fill's own store, each extracted once and
    # before the estimator (timed as ``flow s``): the fill reads it back, not inside ``fill s``
    assert events == ["mv", FILL_FIELD, "estimate"] and FILL_FIELD == "dis"
    assert result.fill == "hpim+mv" and result.seconds["flow"] > 0
    assert np.isfinite(result.poses[..., :2]).all()

    row = bench._pipeline_row(CLIP, "uniform", 0.25, result, every)
    assert row["flow_seconds"] == result.seconds["flow"]
    total = sum(v for k, v in result.seconds.items() if k != "cpu")
    assert row["seconds"] == pytest.approx(total)  # the flow counts in the row's wall time
    bench._print_pipelines([row], "auto", FILL_FIELD)
    header, line = capsys.readouterr().out.splitlines()[-2:]
    end = header.index("flow s") + len("flow s")
    assert line[end - 6 : end] == f"{row['flow_seconds']:>6.1f}"


def test_fill_field_mv_walks_the_codec_store_already_there(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = data_dir / "videos" / f"{CLIP}.mp4"
    events = _count_extractions(monkeypatch)
    result = bench._timed_estimate(video, "uniform", 0.25, "auto", 1, carried=True, fill_field="mv")
    assert events == ["mv", "estimate"]  # one store for the carried region and the fill
    assert result.fill == "hpim+mv" and "flow" in result.seconds


def test_an_unknown_fill_field_is_a_one_line_error_before_any_work(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "estimation", "--data", str(data_dir), "--fill-field", "bogus"]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no clip started
    assert err.splitlines() == [
        "annotator: error: unknown motion field 'bogus': use mv, dis, dis-640, dis-320, dis-fast, farneback"
    ]
