"""Skeleton templates: built-ins, shipped JSON templates, custom files and their errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from annotator.core.skeleton import (
    BUILTIN,
    COCO,
    JHMDB,
    MPII,
    PENN_ACTION,
    TEMPLATE_DIR,
    Skeleton,
    load_skeleton,
    templates,
)
from annotator.errors import SkeletonError


@pytest.mark.parametrize(
    ("skeleton", "joints", "pairs"),
    [(PENN_ACTION, 13, 6), (JHMDB, 15, 6), (COCO, 17, 8), (MPII, 16, 6)],
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_builtins(skeleton: Skeleton, joints: int, pairs: int) -> None:
    assert skeleton.num_joints == joints
    assert len(skeleton.symmetry) == pairs
    assert len(skeleton.colors) == joints
    for a, b in skeleton.symmetry:  # a left joint is paired with its right twin
        left, right = skeleton.joints[a].lower(), skeleton.joints[b].lower()
        assert left.startswith("l") and right.startswith("r")
        assert re.sub(r"^(left_|l-|l_)", "", left) == re.sub(r"^(right_|r-|r_)", "", right)
    perm = skeleton.flip_permutation()
    assert sorted(perm) == list(range(joints))
    assert tuple(perm[p] for p in perm) == tuple(range(joints))  # flipping twice is identity
    edges = {frozenset(e) for e in skeleton.edges}
    assert len(edges) == len(skeleton.edges)  # no duplicate edges
    connected = {0}
    for _ in range(joints):
        connected |= {j for e in skeleton.edges for j in e if set(e) & connected}
    assert connected == set(range(joints))


def test_shipped_templates_are_valid() -> None:
    files = sorted(TEMPLATE_DIR.glob("*.json"))
    assert files
    for path in files:
        skeleton = Skeleton.from_json(path)
        assert skeleton.name == path.stem
        assert load_skeleton(path.stem) == skeleton
    names = set(templates())
    assert set(BUILTIN) <= names and {"hand", "upper_body", "blazepose_33"} <= names
    assert load_skeleton("blazepose_33").num_joints == 33


def test_load_by_name_and_path(tmp_path: Path) -> None:
    assert load_skeleton("coco") is COCO
    path = tmp_path / "mouse.json"
    path.write_text(json.dumps({"name": "mouse", "joints": ["nose", "tail"], "edges": [[0, 1]]}))
    mouse = load_skeleton(path)
    assert mouse.joints == ("nose", "tail") and len(mouse.colors) == 2
    assert Skeleton.from_dict(mouse.to_dict()) == mouse
    with pytest.raises(SkeletonError, match="no skeleton 'giraffe'"):
        load_skeleton("giraffe")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{", "not valid JSON"),
        ([], "JSON object"),
        ({"joints": ["a"]}, "missing the 'name'"),
        ({"name": "x", "joints": []}, "1 to 256 joints"),
        ({"name": "x", "joints": ["a", "a"]}, "duplicate"),
        ({"name": "x", "joints": ["a", "b"], "edges": [[0, 2]]}, "edge"),
        ({"name": "x", "joints": ["a", "b"], "edges": [[0, 0]]}, "two different"),
        ({"name": "x", "joints": ["a", "b", "c"], "symmetry": [[0, 1], [1, 2]]}, "more than one"),
        ({"name": "x", "joints": ["a"], "colors": ["red"]}, "#rrggbb"),
        ({"name": "x", "joints": ["a"], "colors": ["#000000", "#ffffff"]}, "2 colours"),
        ({"name": "x", "joints": ["a", "b"], "edges": [[0, True]]}, "integer pairs"),
    ],
)
def test_invalid_templates_are_refused(tmp_path: Path, data: object, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(SkeletonError, match=message):
        load_skeleton(path)
    assert "bad" not in templates(tmp_path)  # a broken file is skipped in listings
