"""``core.safeio``: the guard every loader and writer goes through."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from annotator.core import safeio
from annotator.core.poseset import PoseSet
from annotator.core.schema import MAX_COORD, check_pose_set
from annotator.errors import AnnotatorError, FormatError, ProjectError
from tests.cli.hostile import pose_set


def test_regular_files_only(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"12345")
    assert safeio.regular_file(tmp_path / "f") == 5
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "zero").symlink_to("/dev/zero")
    for name in ("fifo", "zero"):
        with pytest.raises(FormatError, match="not a regular file"):
            safeio.read_bytes(tmp_path / name, 1000, FormatError)
    with pytest.raises(FormatError, match="folder"):
        safeio.read_bytes(tmp_path, 1000, FormatError)
    with pytest.raises(FormatError, match="not found"):
        safeio.read_bytes(tmp_path / "missing", 1000, FormatError)
    with pytest.raises(FormatError, match="too large"):
        safeio.read_bytes(tmp_path / "f", 4, FormatError)
    assert safeio.read_bytes(tmp_path / "f", 5) == b"12345"


def test_json_guards() -> None:
    assert safeio.parse_json('{"a": [1, 2.5, null]}', "x") == {"a": [1, 2.5, None]}
    for text, words in (
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ("[" + "9" * 5000 + "]", "digits"),
        ("[NaN]", "NaN is not allowed"),
        ("[Infinity]", "Infinity is not allowed"),
        ("{", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
    ):
        with pytest.raises(ProjectError, match=words):
            safeio.parse_json(text, "x", ProjectError)


def test_npz_declared_sizes_are_checked_before_loading(tmp_path: Path) -> None:
    from tests.cli.hostile import npz_declaring

    path = npz_declaring(tmp_path / "a.npz", {"poses": (1 << 40,)})
    with pytest.raises(FormatError, match="declares"):
        safeio.load_npz(path, FormatError)
    path = tmp_path / "o.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(FormatError, match="Python objects"):
        safeio.load_npz(path, FormatError)


def test_mat_headers_are_checked_and_complex_refused(tmp_path: Path) -> None:
    from scipy.io import savemat

    from tests.cli.hostile import mat_declaring

    with pytest.raises(FormatError, match="declares"):
        safeio.load_mat(mat_declaring(tmp_path / "a.mat", 10**9), FormatError)
    savemat(str(tmp_path / "c.mat"), {"x": np.array([1 + 2j])})
    with pytest.raises(FormatError, match="complex"):
        safeio.load_mat(tmp_path / "c.mat", FormatError)


def test_atomic_output_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), safeio.atomic_output(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed half way")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary left
    safeio.atomic_write_text(target, "new")
    assert target.read_text() == "new"
    safeio.atomic_savez(tmp_path / "a.npz", {"x": np.arange(3)})
    with np.load(tmp_path / "a.npz") as z:
        assert z["x"].tolist() == [0, 1, 2]
    with pytest.raises(AnnotatorError, match="folder does not exist"):
        safeio.atomic_write_bytes(tmp_path / "no" / "x", b"")


def test_atomic_output_fsyncs_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1]
    )
    safeio.atomic_write_bytes(tmp_path / "f", b"data")
    assert events[:2] == ["fsync", "replace"] and events[-1] == "fsync"  # file, rename, folder


def test_check_pose_set_holds_the_project_loaders_limits() -> None:
    check_pose_set(pose_set(), "ok")
    for ps, words in (
        (pose_set(MAX_COORD * 10), "beyond"),
        (pose_set(np.inf), "infinite"),
        (pose_set(people=300), "people"),
    ):
        with pytest.raises(FormatError, match=words):
            check_pose_set(ps, "labels", FormatError)
    bad = pose_set()
    bad.instances[0].poses[0, 0, 2] = 7
    with pytest.raises(ProjectError, match="visibility"):
        check_pose_set(bad, "labels")
    shifted = PoseSet(bad.skeleton, bad.frame_count, [], fps=float("nan"))
    with pytest.raises(ProjectError, match="frame rate"):
        check_pose_set(shifted, "labels")


def test_outputs_never_replace_a_device_pipe_or_socket(tmp_path: Path) -> None:
    """Renaming a new file over a pipe (or, as root, a device such as /dev/full) would replace
    it: every writer refuses with a one-line message and leaves it as it was."""
    import os
    import stat

    from annotator.core.document import Document, VideoRef
    from annotator.core.safeio import atomic_write_text
    from annotator.core.skeleton import PENN_ACTION
    from annotator.core.store import save_project
    from annotator.errors import AnnotatorError, ProjectError

    pipe = tmp_path / "out.json"
    os.mkfifo(pipe)
    with pytest.raises(AnnotatorError, match="not a regular file"):
        atomic_write_text(pipe, "{}")
    doc = Document.new(VideoRef("clip.mp4", None, 10, 30.0, 64, 48), PENN_ACTION)
    with pytest.raises(ProjectError, match="not a regular file"):
        save_project(doc, pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temporary left
