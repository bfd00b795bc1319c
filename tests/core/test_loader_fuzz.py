"""Fuzzing the project loader: whatever the bytes, it returns a document or raises
``ProjectError`` with one line, and never writes anything."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.codes import Visibility
from annotator.core.commands import (
    AcceptProposals,
    AddInstance,
    MarkReviewed,
    PlaceJoint,
    SetFlag,
    SetGate,
    SetSceneCut,
    SetSetting,
)
from annotator.core.document import Document, Proposals, VideoRef
from annotator.core.history import History
from annotator.core.schema import document_to_dict
from annotator.core.skeleton import COCO, PENN_ACTION
from annotator.core.store import load_project
from annotator.errors import ProjectError

# 2,500 cases in all. Hypothesis' own strategies explore structure; seeded mutations cover
# volume cheaply. Each test takes a few seconds on a quiet machine.
FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _valid() -> dict[str, Any]:
    ts = np.arange(20) / 25.0
    ts[10:] += 0.01  # forces an explicit timestamp list
    doc = Document.new(VideoRef("clip.mp4", "11-abc", 20, 25.0, 64, 48), PENN_ACTION, ts)
    h = History(doc)
    h.push(PlaceJoint(1, 0, 1.5, 2.5))
    h.push(PlaceJoint(1, 3, 4.0, 5.0, Visibility.OCCLUDED))
    h.push(AddInstance(skeleton=COCO))
    h.push(PlaceJoint(2, 1, 4.0, 5.0, instance=1))
    h.push(AcceptProposals(Proposals((1, 5), tuple(f / 20 for f in range(20)), "kfpn")))
    h.push(MarkReviewed(0, 2, "me", at="2026-01-01T00:00:00Z"))
    h.push(SetFlag(3, "check"))
    h.push(SetSceneCut(8))
    h.push(SetGate(4, [0, 1]))
    h.push(SetSetting("fill", {"method": "hpim"}))
    return document_to_dict(doc, None)


VALID = _valid()
DEEP = "__deep_nesting__"


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:4]):
            out += _paths(value, (*prefix, i))
    return out


PATHS = [p for p in _paths(VALID) if p]

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from([-1, 0, 1, 3, 4, 2**31, 2**63, 2**64 + 1, 10**400, 1e308, -1e308, 5e-324]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
hostile = st.one_of(
    json_value,
    st.just(DEEP),
    st.integers(1, 3000).map(lambda n: [[0.0, 0.0, 1]] * n),  # big arrays
    st.integers(1, 20_000).map(lambda n: list(range(n))),
    st.sampled_from([1e400, 9_999_999, 10_000_000, 2**53]),
)


def _write(path: Path, data: Any, deep: int = 5000) -> None:
    text = json.dumps(data, allow_nan=True)
    text = text.replace(json.dumps(DEEP), "[" * deep + "]" * deep)
    path.write_text(text, encoding="utf-8")


def _listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {e.name: (e.stat().st_size, e.stat().st_mtime_ns, e.inode()) for e in os.scandir(folder)}


def _check_load(folder: Path, project: Path) -> None:
    before = _listing(folder)
    try:
        doc = load_project(project)
    except ProjectError as err:
        message = str(err)
        assert message and "\n" not in message and len(message) < 400
    else:
        assert isinstance(doc, Document)
    assert _listing(folder) == before, "the loader wrote something"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


def test_the_valid_bases_load(folder: Path) -> None:
    project = folder / "p.annot.json"
    _write(project, VALID)
    assert load_project(project).labelled_frames(1).tolist() == [2]
    _write(project, VALID_V0)
    assert load_project(project).labelled_frames(0).tolist() == [3]


@FUZZ
@given(path=st.sampled_from(PATHS), value=hostile, delete=st.booleans())
def test_mutated_projects(folder: Path, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    data = copy.deepcopy(VALID)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    project = folder / "p.annot.json"
    _write(project, data)
    _check_load(folder, project)


@settings(FUZZ, max_examples=250)
@given(data=json_value, with_schema=st.booleans())
def test_arbitrary_json(folder: Path, data: Any, with_schema: bool) -> None:
    if with_schema and isinstance(data, dict):
        data["schema"] = "annotator.project/1"
    project = folder / "p.annot.json"
    _write(project, data)
    _check_load(folder, project)


def _seeded_value(rng: np.random.Generator) -> Any:
    choices: list[Any] = [
        None, True, -1, 0, 2**31, 2**63, 10**400, 1e308, -1e308, float("nan"), float("inf"),
        "", "x" * 20_000, [], {}, [None], [[1, 2]], {"a": 1}, DEEP,
        [[0.0, 0.0, 1]] * int(rng.integers(1, 2000)), list(range(int(rng.integers(1, 5000)))),
        float(rng.normal() * 10.0 ** rng.integers(-5, 12)), int(rng.integers(-(2**62), 2**62)),
    ]  # fmt: skip
    return choices[int(rng.integers(len(choices)))]


VALID_V0: dict[str, Any] = {
    "schema": "annotator.project/0",
    "video": "clip.mp4",
    "fingerprint": "11-abc",
    "frame_count": 20,
    "fps": 25.0,
    "width": 64,
    "height": 48,
    "skeleton": "penn_action",
    "labels": {"3": [[1.0, 2.0, True], [3, 4, False]] + [[None, None, None]] * 11},
    "keyframes": [3, 7],
}
PATHS_V0 = [p for p in _paths(VALID_V0) if p]


def _mutate(base: dict[str, Any], paths: list[tuple[Any, ...]], rng: np.random.Generator) -> Any:
    data = copy.deepcopy(base)
    for _ in range(int(rng.integers(1, 4))):
        path = paths[int(rng.integers(len(paths)))]
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if rng.random() < 0.2 and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif rng.random() < 0.1 and isinstance(parent, dict):
                parent["9" * int(rng.integers(1, 6000))] = _seeded_value(rng)  # odd keys
            else:
                parent[path[-1]] = _seeded_value(rng)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return data


@settings(FUZZ, max_examples=800)
@given(seed=st.integers(0, 2**32 - 1))
def test_seeded_mutations(folder: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    project = folder / "p.annot.json"
    _write(project, _mutate(VALID, PATHS, rng), deep=int(rng.integers(10, 5000)))
    _check_load(folder, project)


@settings(FUZZ, max_examples=300)
@given(seed=st.integers(0, 2**32 - 1))
def test_seeded_mutations_of_schema_0(folder: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    project = folder / "p.annot.json"
    _write(project, _mutate(VALID_V0, PATHS_V0, rng), deep=int(rng.integers(10, 5000)))
    _check_load(folder, project)


BASE_BYTES = json.dumps(VALID).encode("utf-8")


@settings(FUZZ, max_examples=750)
@given(seed=st.integers(0, 2**32 - 1))
def test_truncated_and_corrupted_bytes(folder: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    raw = np.frombuffer(BASE_BYTES, dtype=np.uint8).copy()
    for pos in rng.integers(0, raw.size, size=rng.integers(0, 4)):
        raw[pos] = rng.choice([rng.integers(0, 256), ord("["), ord("}"), ord("9"), ord('"')])
    cut = int(rng.integers(1, raw.size + 1)) if rng.random() < 0.7 else raw.size
    project = folder / "p.annot.json"
    project.write_bytes(raw[:cut].tobytes())
    _check_load(folder, project)
