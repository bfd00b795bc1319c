"""The ``info``, ``frame`` and ``proxy`` commands, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from annotator.cli import main
from annotator.video import open_video
from tests.video.videomaker import make_video, rotate, sequential_frames

CONTRACT_KEYS = {
    "path",
    "frame_count",
    "fps",
    "variable_frame_rate",
    "width",
    "height",
    "rotation",
    "codec",
    "duration",
    "key_frames",
    "has_motion_vectors",
}


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return make_video(tmp_path / "v.mp4", n=30, options={"g": "10", "sc_threshold": "0"})


def test_info_json_has_the_contract_fields(video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(video), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info) >= CONTRACT_KEYS
    assert info["frame_count"] == 30 and info["key_frames"] == [0, 10, 20]
    assert (info["width"], info["height"], info["codec"]) == (96, 64, "h264")
    assert info["has_motion_vectors"] is True and info["variable_frame_rate"] is False


def test_info_without_index_reports_null_key_frames(
    video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(video), "--json", "--no-index"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["key_frames"] is None and info["frame_count_exact"] is False


def test_info_summary_is_readable(video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(video)]) == 0
    out = capsys.readouterr().out
    assert "96 x 64" in out and "30" in out and "h264" in out


def test_motion_vectors_flag_follows_the_codec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_video(tmp_path / "m.mkv", n=5, codec="libvpx-vp9")
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["has_motion_vectors"] is False


def test_frame_writes_the_exact_frame(tmp_path: Path) -> None:
    path = make_video(tmp_path / "r.mp4", n=12, rotation=-90, options={"bf": "2"})
    out = tmp_path / "f.png"
    assert main(["frame", str(path), "7", "--out", str(out)]) == 0
    written = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    expected = rotate(sequential_frames(path), 90)[7]
    assert np.array_equal(written, expected)


def test_bad_input_is_one_line_and_nonzero(
    tmp_path: Path, video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(tmp_path / "missing.mp4")]) == 2
    assert main(["frame", str(video), "30", "--out", str(tmp_path / "x.png")]) == 2
    assert main(["frame", str(video), "1", "--out", str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("annotator: error:") for line in err)
    assert "out of range" in err[1]


def test_proxy_has_the_same_frames_with_short_gops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_video(
        tmp_path / "long.mp4", n=40, vfr=True, options={"g": "300", "sc_threshold": "0"}
    )
    before = src.read_bytes()
    assert main(["proxy", str(src), "--gop", "8"]) == 0
    proxy = Path(capsys.readouterr().out.strip())
    assert proxy.exists() and proxy.parent != src.parent
    assert src.read_bytes() == before  # the user's file is untouched
    with open_video(src) as original, open_video(proxy) as copy:
        assert original.wait_for_index() and copy.wait_for_index()
        assert copy.frame_count == original.frame_count == 40
        assert copy.key_frames is not None and list(copy.key_frames) == [0, 8, 16, 24, 32]
        np.testing.assert_allclose(copy.timestamps, original.timestamps, atol=1e-4)
        for i in (0, 13, 39):  # lossy, but the same picture
            diff = np.abs(copy.frame(i).astype(int) - original.frame(i).astype(int))
            assert diff.mean() < 6
    assert main(["proxy", str(src)]) == 0  # made once, then reused
    assert Path(capsys.readouterr().out.strip()) == proxy
