"""``annotator export PROJECT --frames all``: a project's predicted joints are exported as the
app exports them, with source ``predicted`` and their confidence where the format has room."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.codes import Source
from annotator.formats import registry
from tests.cli.test_fill_predicted import _project


@pytest.mark.parametrize("fmt", ["csv", "npz", "dlc-csv", "coco"])
def test_export_of_every_frame_carries_the_predictions_and_their_confidence(
    tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / ("all.json" if fmt == "coco" else f"all.{'npz' if fmt == 'npz' else 'csv'}")
    argv = ["export", str(_project(tmp_path, True)), "--format", fmt, "--frames", "all"]
    assert main([*argv, "--out", str(out)]) == 0
    inst = registry.get(fmt).read(out).instances[0]
    assert (inst.source[20] == Source.PREDICTED).all()
    assert inst.confidence is not None and np.allclose(inst.confidence[20], 0.9, atol=1e-4)
    assert np.isnan(inst.confidence[[0, 19, 21, 39]]).all()
    assert (inst.source[[0, 39]] == Source.MANUAL).all()
    # the prediction pulls its neighbours (hpim weighs it), as in the app's fill
    assert inst.poses[18, 0, 1] > 100.0 + 10.0


def test_export_without_predictions_has_no_score(tmp_path: Path) -> None:
    out = tmp_path / "plain.csv"
    argv = ["export", str(_project(tmp_path, False)), "--format", "csv", "--frames", "all"]
    assert main([*argv, "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0].endswith(",source")
    assert registry.get("csv").read(out).instances[0].confidence is None
