"""Joint mappings, the shipped model files, and the lazy runtime import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from annotator.core.paths import models_dir
from annotator.core.skeleton import BUILTIN
from annotator.estimation.blazepose import LANDMARK_NAMES
from annotator.estimation.mapping import MAPPINGS, mapping, missing_joints, to_skeleton
from annotator.estimation.runtime import SHA256, sha256_of


def _side(name: str) -> str | None:
    low = name.lower()
    if low.startswith(("l-", "l_", "left")):
        return "left"
    if low.startswith(("r-", "r_", "right")):
        return "right"
    return None


@pytest.mark.parametrize("skeleton", sorted(BUILTIN))
def test_every_builtin_skeleton_has_a_consistent_mapping(skeleton: str) -> None:
    joints = BUILTIN[skeleton].joints
    table = mapping(skeleton)
    assert len(table) == len(joints)
    for name, src in zip(joints, table, strict=True):
        sides = {_side(LANDMARK_NAMES[i]) for i in src}
        if len(src) == 1:  # a one-to-one joint is on the same side of the subject
            assert sides == {_side(name)}, (skeleton, name)
        elif len(src) == 2:  # a midpoint joins a left and a right landmark
            assert sides == {"left", "right"} and _side(name) is None


def test_joints_without_counterpart_are_missing() -> None:
    assert missing_joints("penn_action") == [] and missing_joints("coco") == []
    assert missing_joints("mpii") == ["upper_neck", "head_top"]
    assert missing_joints("jhmdb") == ["belly"]
    xy = np.arange(33 * 2, dtype=float).reshape(1, 33, 2)
    conf = np.linspace(0, 1, 33)[None]
    out, c = to_skeleton(xy, conf, "mpii")
    assert np.isnan(out[0, 8]).all() and np.isnan(c[0, 9])
    np.testing.assert_allclose(out[0, 6], (xy[0, 23] + xy[0, 24]) / 2)  # pelvis
    assert c[0, 6] == pytest.approx(min(conf[0, 23], conf[0, 24]))
    assert set(MAPPINGS) == set(BUILTIN)


def test_shipped_models_match_their_sha256_and_model_card() -> None:
    card = (models_dir() / "blazepose.md").read_text()
    for name, digest in SHA256.items():
        assert sha256_of(models_dir() / name) == digest
        assert digest in card
    licence = (models_dir() / "LICENSE-blazepose-Apache-2.0.txt").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence


def test_the_runtime_is_imported_only_when_a_model_runs() -> None:
    code = (
        "import sys, annotator.estimation.registry, annotator.cli.estimate; "
        "print('ai_edge_litert' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
