"""``annotator export`` of a project with two people writes both, with their track ids and
each person's own fill, in every format that reads back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator import cli
from annotator.core import commands as cmd
from annotator.core.codes import Visibility
from annotator.core.document import Document, VideoRef
from annotator.core.history import History
from annotator.core.skeleton import PENN_ACTION
from annotator.core.store import save_project
from annotator.formats import registry


def _project(tmp_path: Path) -> Path:
    doc = Document.new(VideoRef("", None, 30, 25.0, 200, 150), PENN_ACTION)
    history = History(doc)
    history.push(cmd.AddInstance(track_id=5))
    for k, (frame, x) in enumerate([(0, 10.0), (20, 50.0)]):
        for person, shift in ((0, 0.0), (1, 100.0)):
            pose = np.zeros((1, 13, 3), dtype=np.float32)
            pose[0, :, 0] = x + shift + np.arange(13)
            pose[0, :, 1] = 20.0 + k
            pose[0, :, 2] = Visibility.VISIBLE
            history.push(cmd.SetLabels(frame, pose, instance=person))
    path = tmp_path / "two.annot.json"
    save_project(doc, path)
    return path


@pytest.mark.parametrize("name", ["coco", "cvat-video", "dlc-csv", "csv", "npz"])
def test_export_keeps_both_people(tmp_path: Path, name: str) -> None:
    project = _project(tmp_path)
    adaptor = registry.get(name)
    out = tmp_path / f"out{adaptor.extensions[0]}"
    frames = "all" if name in ("coco", "csv", "npz") else "manual"
    assert (
        cli.main(["export", str(project), "--format", name, "--out", str(out), "--frames", frames])
        == 0
    )
    back = adaptor.read(out)
    assert [i.track_id for i in back.instances] == [0, 5]
    for inst, shift in zip(back.instances, (0.0, 100.0), strict=True):
        np.testing.assert_allclose(inst.poses[20, :, 0], 50.0 + shift + np.arange(13), atol=1e-3)
        if frames == "all":  # filled from this person's labels only
            assert np.isfinite(inst.poses[10, :, 0]).all()
            assert (np.abs(inst.poses[10, :, 0] - (30.0 + shift + np.arange(13))) < 20).all()
