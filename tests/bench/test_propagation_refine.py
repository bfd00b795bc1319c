"""``annotator bench propagation --refine``: refinements of the walks by name, each an extra
``hpim+mv+NAME`` fill that walks refined on the decoded luma; a bad name is a one-line usage
error from the command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from annotator.bench.propagation import REFINED, _fill_fn, _fills, parse_refines
from annotator.core.codes import Source, Visibility
from annotator.errors import UsageError
from annotator.propagation.lk import decode_luma
from annotator.synth.motion import MovingObject, Scene, encode
from annotator.video.motion import extract_motion


def test_refines_by_name() -> None:
    assert parse_refines("none") == []
    assert parse_refines("lk, lk-pyr") == ["lk", "lk-pyr"]
    assert _fills(["lk"])[-1] == "hpim+mv+lk"
    with pytest.raises(UsageError):
        parse_refines("lk,sift")


def test_a_bad_refine_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "realgt").mkdir()
    args = ["bench", "propagation", "--data", str(tmp_path), "--sections", "real"]
    out = subprocess.run(
        [sys.executable, "-m", "annotator", *args, "--refine", "sift"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "--refine" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_the_refined_fill_walks_the_luma(tmp_path: Path) -> None:
    patch = MovingObject(start=(40, 70), velocity=(6, 2), size=(20, 20), seed=7)
    path = encode(Scene(frames=9, objects=(patch,)), tmp_path / "p.mp4", "libx264")
    fields = extract_motion(path, field="dis", cell=16, use_cache=False)
    truth = np.array([50.0, 80.0]) + np.array([6.0, 2.0]) * np.arange(9)[:, None]
    manual = np.full((9, 1, 3), np.nan)
    manual[:, :, 2] = Visibility.UNLABELLED
    manual[[0, 8], 0, :2] = truth[[0, 8]]
    manual[[0, 8], 0, 2] = Visibility.VISIBLE
    with pytest.raises(UsageError):  # it needs the luma
        _fill_fn(REFINED + "lk", fields, 25.0)(manual)
    res = _fill_fn(REFINED + "lk", fields, 25.0, luma=decode_luma(path))(manual)
    assert (res.source[1:-1, 0] == Source.HPIM_MV).all()
    assert np.isfinite(res.poses[:, 0, :2]).all()
