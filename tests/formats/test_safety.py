"""Exports a spreadsheet cannot turn into commands, and one overwrite rule for import and export."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.cli import main
from annotator.core.document import Document
from annotator.core.poseset import PoseSet
from annotator.core.skeleton import Skeleton
from annotator.core.store import save_project
from annotator.formats import registry
from tests.cli.hostile import pose_set

HOSTILE = ('=HYPERLINK("http://x","a")', "+1+cmd", "-2", "@SUM(A1)", "\tx", "safe")


def _hostile_names() -> PoseSet:
    ps = pose_set()
    names = HOSTILE + tuple(f"j{i}" for i in range(ps.skeleton.num_joints - len(HOSTILE)))
    return PoseSet(Skeleton(name="evil", joints=names), ps.frame_count, ps.instances, ps.fps)


@pytest.mark.parametrize(("fmt", "name"), [("csv", "t.csv"), ("dlc-csv", "d.csv")])
def test_csv_exports_escape_formulas_and_read_them_back(
    fmt: str, name: str, tmp_path: Path
) -> None:
    import csv

    ps = _hostile_names()
    path = tmp_path / name
    registry.get(fmt).write(ps, path)
    with path.open(encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    for joint in HOSTILE[:-1]:
        assert joint not in cells and "'" + joint in cells
    back = registry.get(fmt).read(path, skeleton=ps.skeleton)
    assert back.skeleton.joints == ps.skeleton.joints


def test_export_refuses_an_existing_file_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "p.annot.json"
    save_project(Document.from_pose_set(pose_set()), project)
    out = tmp_path / "o.csv"
    out.write_text("earlier")
    argv = ["export", str(project), "--format", "csv", "--out", str(out)]
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "earlier"
    assert main([*argv, "--force"]) == 0
    assert out.read_text().startswith("frame,time")
