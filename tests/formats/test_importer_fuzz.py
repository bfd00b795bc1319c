"""Fuzzing every importer and model loader: whatever the file holds, the loader returns a value
that is safe to use or raises an ``AnnotatorError`` (one line), never anything else.

For label files "safe" means what the project loader demands: a document made of the import
saves and loads again. For model files it means finite, in-range parameters that fill a track.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.io import savemat

from annotator.core.document import Document
from annotator.core.store import load_project, save_project
from annotator.errors import AnnotatorError
from annotator.formats import registry
from tests.cli.hostile import pose_set

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
NASTY_NUMBERS = [
    "1e8", "-1e30", "1e400", "NaN", "nan", "inf", "-0", "9" * 50, "9" * 5000, "1.5", "-1",
    "0x10", "", "[]", "{}", "null", "true", '"7"', "2147483648", "[1,2,3]",
]  # fmt: skip
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _must_be_safe(read: Any, path: Path, tmp: Path) -> None:
    """``read(path)`` gives labels a project holds (save + load), or one-line refusal."""
    try:
        ps = read(path)
    except AnnotatorError as err:
        assert "\n" not in str(err)
        return
    doc = Document.from_pose_set(ps)
    project = tmp / "fuzz.annot.json"
    save_project(doc, project)
    load_project(project)


@st.composite
def _mutated(draw: st.DrawFn, good: bytes) -> bytes:
    """``good`` with numbers replaced by nasty ones, bytes flipped or cut."""
    data = good
    spans = [m.span() for m in NUMBER.finditer(data)]
    for _ in range(draw(st.integers(0, 4))):
        if spans:
            a, b = spans[draw(st.integers(0, len(spans) - 1))]
            new = draw(st.sampled_from(NASTY_NUMBERS)).encode()
            data = data[:a] + new + data[b:]
            spans = [m.span() for m in NUMBER.finditer(data)]
    if draw(st.booleans()):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at + 1 :]
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


FILE_FORMATS = {"coco": "l.json", "cvat-video": "l.xml", "dlc-csv": "l.csv", "csv": "t.csv"}


@pytest.mark.parametrize("fmt", sorted(FILE_FORMATS))
def test_text_importers_survive_mutations(fmt: str, tmp_path: Path) -> None:
    good_path = tmp_path / ("good-" + FILE_FORMATS[fmt])
    registry.get(fmt).write(pose_set(people=2), good_path)
    good = good_path.read_bytes()
    adaptor = registry.get(fmt)

    @FUZZ
    @given(data=_mutated(good))
    def run(data: bytes) -> None:
        path = tmp_path / FILE_FORMATS[fmt]
        path.write_bytes(data)
        _must_be_safe(adaptor.read, path, tmp_path)

    run()


_NUMERIC = st.sampled_from([np.nan, np.inf, -1.0, 0.0, 1e8, 1e30, 5.5, 2.0, 1.0, 3.0])


@st.composite
def _npz_fields(draw: st.DrawFn) -> dict[str, Any]:
    frames, joints = draw(st.integers(0, 4)), draw(st.sampled_from([13, 17, 5, 0]))
    shape = draw(st.sampled_from([(frames, joints, 3), (2, frames, joints, 3), (frames, joints)]))
    poses = np.array(draw(st.lists(_NUMERIC, min_size=1, max_size=1)) * int(np.prod(shape)))
    fields: dict[str, Any] = {"poses": poses.reshape(shape).astype(np.float32)}
    if shape[-1] == 3 and draw(st.booleans()):
        fields["poses"][..., 2] = draw(st.sampled_from([0, 1, 2, 3]))
    optional = {
        "fps": st.sampled_from([np.nan, 0.0, -5.0, 30.0, "abc", np.arange(3.0), 1e300]),
        "track_ids": st.sampled_from([np.array([np.nan]), np.array([0, 0]), np.array([-1]),
                                      np.array([2**40]), np.array([0, 1]), np.array(["x"])]),
        "width": st.sampled_from([np.nan, -1, 64, 2**40, "w"]),
        "timestamps": st.sampled_from([np.zeros(frames), np.full(frames, np.nan),
                                       -np.arange(frames, dtype=float), np.array(["t"])]),
        "source": st.sampled_from([np.zeros(shape[:-1], np.int8), np.full(shape[:-1], 99)]),
        "joint_names": st.sampled_from([np.array(["a"] * joints), np.array(["=cmd"] * 1)]),
        "skeleton_json": st.sampled_from(["[" * 5000, '{"joints": 1e999}', "{}", "nan"]),
        "boxes": st.sampled_from([np.zeros((1, frames, 4)), np.full((1, frames, 4), np.nan)]),
    }  # fmt: skip
    for key, strategy in optional.items():
        if draw(st.booleans()):
            fields[key] = draw(strategy)
    return fields


@FUZZ
@given(fields=_npz_fields())
def test_npz_importer(fields: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "l.npz"
    np.savez(path, **fields)
    _must_be_safe(registry.get("npz").read, path, tmp_path)


@FUZZ
@given(
    shape=st.sampled_from([(4, 13), (0, 13), (4, 12), (4,), (1, 4, 13)]),
    value=st.sampled_from([10.0, np.nan, 1e8, -1e30, 1 + 2j, np.inf]),
    vis=st.sampled_from([1.0, np.nan, 7.0, "v"]),
    dims=st.sampled_from([[[240, 320, 4]], [[np.nan, 1, 1]], [[]], [[1e30, 2, 3]]]),
    bbox=st.sampled_from([None, np.zeros((4, 4)), np.zeros((3,)), np.full((4, 4), np.nan)]),
)
def test_penn_mat_importer(
    shape: tuple[int, ...], value: Any, vis: Any, dims: Any, bbox: Any, tmp_path: Path
) -> None:
    x = np.full(shape, value)
    data: dict[str, Any] = {"x": x, "y": np.full(shape, 20.0), "dimensions": np.array(dims)}
    data["visibility"] = np.full(shape, vis) if not isinstance(vis, str) else vis
    if bbox is not None:
        data["bbox"] = bbox
    path = tmp_path / "0001.mat"
    savemat(str(path), data)
    _must_be_safe(registry.get("penn-mat").read, path, tmp_path)


@FUZZ
@given(
    shape=st.sampled_from([(2, 15, 4), (2, 15, 0), (2, 13, 4), (3, 15, 4), (15,)]),
    value=st.sampled_from([10.0, np.nan, 1e8, 1 + 2j, np.inf, "s"]),
)
def test_jhmdb_mat_importer(shape: tuple[int, ...], value: Any, tmp_path: Path) -> None:
    path = tmp_path / "joint_positions.mat"
    savemat(str(path), {"pos_img": np.full(shape, value) if not isinstance(value, str) else value})
    _must_be_safe(registry.get("jhmdb-mat").read, path, tmp_path)


# ---------------------------------------------------------------------------- model loaders
_PARAM = st.sampled_from([np.nan, np.inf, -3.0, 0.0, 0.5, 1.0, 2.0, 30.0, 1e12, np.arange(3.0)])


def _track() -> np.ndarray:
    track = np.full((30, 2, 3), np.nan, np.float32)
    track[:, :, 2] = 0
    for f in (0, 9, 20, 29):
        track[f, :, :2] = (f, 2 * f)
        track[f, :, 2] = 1
    return track


@FUZZ
@given(
    variogram=st.sampled_from(
        [np.array([0.0, 1.0, 2.0]), np.full(4, np.nan), np.zeros(0), -np.ones(3), np.ones((2, 2))]
    ),
    params=st.fixed_dictionaries(
        {k: _PARAM for k in ("fps", "reach", "trend", "nugget", "hold_below")}
    ),
    mix=st.sampled_from([np.zeros(5), np.full(5, np.nan), np.zeros(2), np.full(5, 2.0)]),
    drop=st.sampled_from([None, "fps", "reach", "variogram", "pchip_mix"]),
)
def test_hpim_model_loader(
    variogram: np.ndarray, params: dict[str, Any], mix: np.ndarray, drop: str | None, tmp_path: Path
) -> None:
    from annotator.dynamics.fill import fill_track
    from annotator.dynamics.hpim import HpimModel

    fields = {"variogram": variogram, "pchip_mix": mix, **params}
    fields.pop(drop or "", None)
    path = tmp_path / "m.npz"
    np.savez(path, **fields)
    try:
        model = HpimModel.load(path)
    except AnnotatorError as err:
        assert "\n" not in str(err)
        return
    assert np.isfinite(model.variogram).all() and model.fps > 0 and model.reach >= 0
    result = fill_track(_track(), "hpim", fps=30.0, dictionary=str(path))
    assert np.isfinite(result.poses[:, :, :2]).all()


@FUZZ
@given(
    r=st.sampled_from([np.full(6, 0.9), np.full(6, np.nan), np.zeros(0), -np.ones(6), np.ones(3)]),
    theta=st.sampled_from([np.linspace(0.1, 1, 6), np.full(6, np.inf), np.ones((2, 3))]),
    extra=st.fixed_dictionaries({}, optional={k: _PARAM for k in ("fps", "ridge", "rows")}),
)
def test_dyan_model_loader(
    r: np.ndarray, theta: np.ndarray, extra: dict[str, Any], tmp_path: Path
) -> None:
    from annotator.dynamics.dyan import load_dyan_model

    path = tmp_path / "d.npz"
    np.savez(path, r=r, theta=theta, **extra)
    try:
        model = load_dyan_model(path)
    except AnnotatorError as err:
        assert "\n" not in str(err)
        return
    assert np.isfinite(model.matrix).all() and model.matrix.size > 0


@FUZZ
@given(
    matrix=st.sampled_from(
        [np.eye(40, 8), np.full((40, 8), np.nan), np.zeros((0, 0)), np.eye(40, 8) * (1 + 1j)]
    ),
    key=st.sampled_from(["Dictionary", "D"]),
)
def test_dyan_mat_loader(matrix: np.ndarray, key: str, tmp_path: Path) -> None:
    from annotator.dynamics.dyan import load_dictionary

    path = tmp_path / "d.mat"
    savemat(str(path), {key: matrix})
    try:
        d, _ = load_dictionary(path)
    except AnnotatorError as err:
        assert "\n" not in str(err)
        return
    assert np.isfinite(d).all() and d.size > 0
