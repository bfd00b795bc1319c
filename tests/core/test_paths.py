"""Where the shipped files are found, and that a wheel ships every one of them."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from annotator.core.paths import SHIPPED, shipped_dir

ROOT = Path(__file__).resolve().parents[2]


def test_a_source_checkout_uses_its_own_folders() -> None:
    assert shipped_dir("models") == ROOT / "models"
    assert (shipped_dir("resources") / "skeletons").is_dir()
    with pytest.raises(ValueError, match="no shipped folder"):
        shipped_dir("tests")


def test_the_wheel_data_files_cover_every_shipped_file() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data_files: dict[str, list[str]] = config["tool"]["setuptools"]["data-files"]
    listed: set[Path] = set()
    for dest, patterns in data_files.items():
        for pattern in patterns:
            for name in glob.glob(str(ROOT / pattern)):
                source = Path(name).relative_to(ROOT)
                # installed under share/annotator/<same relative folder>
                assert dest == f"share/annotator/{source.parent.as_posix()}"
                listed.add(source)
    shipped = {
        p.relative_to(ROOT) for kind in SHIPPED for p in (ROOT / kind).rglob("*") if p.is_file()
    }
    assert shipped - listed == set()
