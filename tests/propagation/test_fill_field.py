"""The video fills walk on optical flow by default (``fuse.FILL_FIELD``): its store sits at
twice the codec store's cell, the two stores of a frame stay under the 100 KB bound, and
``video_fill`` (``annotator estimate``) and ``annotator fill --video`` open the flow store
unless told ``--field mv``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.codes import Source
from annotator.core.paths import cache_dir
from annotator.errors import UsageError
from annotator.propagation import FILL_FIELD, resolve_fill, video_fill
from annotator.propagation.fuse import as_field
from annotator.video import open_video
from annotator.video.motion_cache import FLOW_CELL_FACTOR, default_cell, open_motion
from annotator.video.motion_store import BYTES_PER_CELL, MAX_FRAME_BYTES, grid_cells, store_cell
from tests.propagation.scenes import FRAMES, encode_rotation, labels_at, rotation_truth

POINTS = np.array([[178.0, 96.0], [128.0, 46.0], [93.0, 131.0]])


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode_rotation(tmp_path_factory.mktemp("field") / "disc.mp4", "h264")


def _stores() -> list[str]:
    return sorted(p.name for p in cache_dir("motion").glob("*.mvs"))


def test_the_fill_walks_dis_flow_by_default() -> None:
    assert FILL_FIELD == "dis" and as_field("mv") == "mv"
    with pytest.raises(UsageError, match="unknown motion field 'sift'"):
        as_field("sift")


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1280, 720), (3840, 2160)])
def test_codec_and_flow_stores_together_stay_under_the_bound(size: tuple[int, int]) -> None:
    width, height = size
    cell = store_cell(width, height)
    flow = FLOW_CELL_FACTOR * cell
    both = (grid_cells(width, height, cell) + grid_cells(width, height, flow)) * BYTES_PER_CELL
    assert both <= MAX_FRAME_BYTES
    if size in ((1920, 1080), (1080, 1920)):
        assert (cell, flow) == (12, 24)
    if size == (1280, 720):
        assert (cell, flow) == (8, 16)


def test_a_flow_store_defaults_to_twice_the_codec_cell(disc: Path) -> None:
    codec, flow = open_motion(disc), open_motion(disc, field="dis")
    assert default_cell(disc, "dis") == 2 * default_cell(disc) == 16
    assert (codec.cell, flow.cell) == (8, 16)
    assert (codec.kind, flow.kind) == ("mv", "flow")
    assert len(_stores()) == 2


def test_video_fill_opens_the_flow_store_and_follows_it(disc: Path) -> None:
    man = labels_at(rotation_truth, POINTS, [0, FRAMES - 1])
    fill = video_fill(disc, "hpim+mv", 25.0)
    assert callable(fill)
    res = fill(man)
    assert _stores() and all("-dis480-" in name and "-c16-" in name for name in _stores())
    assert (res.source[1:-1] == Source.HPIM_MV).all()
    truth = np.stack([rotation_truth(POINTS, t) for t in range(FRAMES)])
    assert np.hypot(*(res.poses[:, :, :2] - truth).T).max() < 3.0
    codec = video_fill(disc, "hpim+mv", 25.0, field="mv")
    assert callable(codec)
    codec(man)
    assert len(_stores()) == 2 and sum("-dis480-" in name for name in _stores()) == 1


def test_fill_command_walks_the_flow_unless_told_the_codec(
    disc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scipy.io import savemat

    truth = np.stack([rotation_truth(POINTS, t) for t in range(FRAMES)])
    x, y = np.full((FRAMES, 13), 10.0), np.full((FRAMES, 13), 10.0)
    x[:, :3], y[:, :3] = truth[:, :, 0], truth[:, :, 1]
    src = tmp_path / "labels.mat"  # Penn Action's layout: 13 joints, three on the disc
    labels = {"x": x, "y": y, "visibility": np.ones((FRAMES, 13), dtype=np.uint8)}
    savemat(str(src), {**labels, "dimensions": np.array([192, 256, FRAMES]), "nframes": FRAMES})
    out = tmp_path / "fill.npz"
    base = ["fill", str(src), "--keep-frames", f"0,{FRAMES - 1}", "--video", str(disc)]
    assert main([*base, "--out", str(out)]) == 0
    assert "hpim+mv" in capsys.readouterr().out
    assert [("-dis480-" in n, "-c16-" in n) for n in _stores()] == [(True, True)]
    with np.load(out) as z:
        assert (z["source"][1:-1, :3] == Source.HPIM_MV).all()
        assert np.hypot(*(z["poses"][:, :3, :2] - truth).T).max() < 3.0
    assert main([*base, "--field", "mv", "--out", str(out)]) == 0
    assert sorted("-dis480-" in n for n in _stores()) == [False, True]
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--field", "sift", "--out", str(out)])
    assert exit_.value.code == 2
    assert "invalid choice: 'sift'" in capsys.readouterr().err


def test_fill_help_names_the_default_field_and_its_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fill", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default dis)" in text and "13 ms of CPU per 720p frame" in text


def test_auto_fills_a_video_without_codec_vectors_along_the_flow(tmp_path: Path) -> None:
    video = encode_rotation(tmp_path / "disc.mkv", "novectors")
    with open_video(video, build_index=False) as reader:
        assert not reader.has_motion_vectors
    method = resolve_fill("auto")  # what ``annotator estimate`` does with its default
    fill = video_fill(video, method, 25.0)
    assert method == "hpim+mv" and callable(fill)
    res = fill(labels_at(rotation_truth, POINTS, [0, FRAMES - 1]))
    assert [("-dis480-" in n, "-c16-" in n) for n in _stores()] == [(True, True)]
    assert (res.source[1:-1] == Source.HPIM_MV).all()
    truth = np.stack([rotation_truth(POINTS, t) for t in range(FRAMES)])
    assert np.hypot(*(res.poses[:, :, :2] - truth).T).max() < 3.0
