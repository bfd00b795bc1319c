"""The renderer: deterministic output, ground truth that lies on the drawn body, honest encoding
settings and a ground-truth file in the contract's npz layout."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from annotator.bench import render_cli
from annotator.core.codes import SOURCE_NAMES, Visibility
from annotator.core.datasets import PennSequence, load_penn_action
from annotator.core.skeleton import PENN_ACTION
from annotator.errors import UsageError
from annotator.synth.render import render_frames, render_sequence
from annotator.synth.render_encode import Encoding, encode_video
from annotator.synth.render_set import select_files


def tiny(data_dir: Path, name: str, frames: int = 24, factor: float = 0.4) -> PennSequence:
    """A real label file shrunk to a small frame (fast to render and encode)."""
    seq = load_penn_action(data_dir / "penn_action" / "labels" / f"{name}.mat")
    w, h = int(seq.width * factor), int(seq.height * factor)
    return replace(
        seq,
        xy=seq.xy[:frames] * factor,
        visible=seq.visible[:frames],
        bbox=seq.bbox[:frames] * factor,
        width=w,
        height=h,
    )


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_same_seed_same_bytes_other_seed_other_video(data_dir: Path, tmp_path: Path) -> None:
    seq = tiny(data_dir, "0002")
    a = render_sequence(seq, tmp_path / "a", 3, "h264-bframes")
    b = render_sequence(seq, tmp_path / "b", 3, "h264-bframes")
    c = render_sequence(seq, tmp_path / "c", 4, "h264-bframes")
    assert a.video.read_bytes() == b.video.read_bytes()
    assert np.array_equal(np.load(a.labels)["poses"], np.load(b.labels)["poses"], equal_nan=True)
    frames_a, frames_c = decoded(a.video), decoded(c.video)
    assert len(frames_a) == len(frames_c) == 24
    assert np.abs(frames_a[0].astype(int) - frames_c[0].astype(int)).mean() > 5


@pytest.mark.parametrize("name", ["0002", "0496", "1049", "1956"])
def test_visible_joints_lie_on_the_drawn_body(data_dir: Path, name: str) -> None:
    seq = tiny(data_dir, name, frames=20, factor=0.5)
    counted = 0
    for seed in (0, 1):
        for f in render_frames(seq, seed, keep_body=True):
            assert f.body is not None
            vis = f.poses[:, 2] == Visibility.VISIBLE
            for x, y in f.poses[vis, :2]:
                assert f.body[round(float(y)), round(float(x))]
                counted += 1
            # Everything with a position is inside the frame; absent joints have none.
            has = np.isin(f.poses[:, 2], [Visibility.VISIBLE, Visibility.OCCLUDED])
            h, w = f.body.shape
            assert np.all((f.poses[has, 0] >= 0) & (f.poses[has, 0] <= w - 1))
            assert np.all((f.poses[has, 1] >= 0) & (f.poses[has, 1] <= h - 1))
            assert np.all(np.isnan(f.poses[~has, :2]))
    assert counted > 100  # most joints are visible: the test really looked at some


def test_figure_changes_the_pixels_at_visible_joints(data_dir: Path) -> None:
    """The drawn figure, not just the mask, is where the ground truth says: the rendered frame
    differs from the same scene rendered with the figure moved far away."""
    seq = tiny(data_dir, "0753", frames=12, factor=0.5)
    away = replace(seq, xy=seq.xy + 10_000.0, bbox=seq.bbox + 10_000.0)
    with_body = list(render_frames(seq, 7))
    without = list(render_frames(away, 7))
    diffs = []
    for f, g in zip(with_body, without, strict=True):
        vis = f.poses[:, 2] == Visibility.VISIBLE
        for x, y in f.poses[vis, :2]:
            xi, yi = round(float(x)), round(float(y))
            diffs.append(np.abs(f.rgb[yi, xi].astype(int) - g.rgb[yi, xi].astype(int)).sum())
    assert len(diffs) > 30
    assert np.median(diffs) > 20


def test_ground_truth_file_has_the_contract_layout(data_dir: Path, tmp_path: Path) -> None:
    seq = tiny(data_dir, "1355", frames=30)
    n = seq.frame_count
    v = render_sequence(seq, tmp_path, 0, "mpeg4-gop12", label_name="1355.mat")
    gt = np.load(v.labels)
    assert gt["poses"].dtype == np.float32 and gt["poses"].shape == (n, 13, 3)
    assert gt["source"].dtype == np.int8 and np.all(gt["source"] == 0)
    assert tuple(gt["source_names"]) == SOURCE_NAMES
    assert set(np.unique(gt["poses"][:, :, 2])) <= {1.0, 2.0, 3.0}
    assert gt["boxes"].shape == (1, n, 4)
    assert int(gt["width"]) % 2 == 0 and int(gt["height"]) % 2 == 0
    assert json.loads(str(gt["encoding"]))["gop"] == 12
    frames = decoded(v.video)
    assert len(frames) == n
    # The app's npz import adaptor reads it as one Penn Action person with its box.
    from annotator.formats.registry import guess

    ps = guess(v.labels).read(v.labels)
    assert ps.skeleton.name == PENN_ACTION.name and ps.frame_count == n
    assert np.array_equal(ps.instances[0].poses, gt["poses"], equal_nan=True)
    assert ps.instances[0].boxes is not None
    assert frames[0].shape == (int(gt["height"]), int(gt["width"]), 3)


def _frame_types(path: Path) -> tuple[str, list[int]]:
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    kinds = "".join(av.video.frame.PictureType(f.pict_type).name for f in frames)
    return kinds, [i for i, f in enumerate(frames) if f.key_frame]


@pytest.mark.parametrize(
    ("codec", "gop", "bframes"), [("libx264", 30, 3), ("libx264", 30, 0), ("mpeg4", 12, 0)]
)
def test_encoder_settings_are_honoured(tmp_path: Path, codec: str, gop: int, bframes: int) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    frames = [np.roll(base, 2 * i, axis=1) for i in range(64)]
    path = tmp_path / "v.mp4"
    assert encode_video(path, frames, 64, 48, 30.0, Encoding("x", codec, gop, bframes)) == 64
    kinds, keys = _frame_types(path)
    assert keys == list(range(0, 64, gop))
    assert ("B" in kinds) == (bframes > 0)


def test_profiles_cycle_and_bad_input_is_a_usage_error(data_dir: Path, tmp_path: Path) -> None:
    labels = data_dir / "penn_action" / "labels"
    picked = select_files(labels, "val", 5)
    assert len(picked) == 5 and all(
        p.stem >= select_files(labels, "val", None)[0].stem for p in picked
    )
    parser = argparse.ArgumentParser()
    render_cli.add_arguments(parser)
    with pytest.raises(UsageError):
        render_cli.run(
            parser.parse_args(
                ["--labels", str(tmp_path / "none"), "--split", "val", "--out", str(tmp_path)]
            )
        )
    with pytest.raises(UsageError):
        render_cli.run(
            parser.parse_args(
                [
                    "--labels",
                    str(labels),
                    "--split",
                    "val",
                    "--out",
                    str(tmp_path),
                    "--profiles",
                    "vp9",
                ]
            )
        )


def test_joints_penn_marks_as_not_in_the_picture_are_absent(data_dir: Path) -> None:
    """Penn Action puts joints it did not label (e.g. the far side in a side view) at (1, 1),
    not visible; they must come out absent (no position)."""
    seq = tiny(data_dir, "1828", frames=10, factor=0.5)
    corner = (seq.xy[..., 0] <= 0.5) & (seq.xy[..., 1] <= 0.5) & ~seq.visible
    assert corner.any()
    for i, f in enumerate(render_frames(seq, 0)):
        assert np.all(f.poses[corner[i], 2] == Visibility.ABSENT)
        assert np.all(np.isnan(f.poses[corner[i], :2]))
        assert np.all(f.poses[~corner[i], 2] != Visibility.ABSENT)  # the camera keeps them in


def test_joints_behind_a_moving_occluder_are_occluded(data_dir: Path) -> None:
    seq = tiny(data_dir, "0753", frames=40, factor=0.3)
    hidden = 0
    for seed in range(4):
        for f in render_frames(seq, seed, keep_body=True):
            assert f.occluder is not None
            has = np.isin(f.poses[:, 2], [Visibility.VISIBLE, Visibility.OCCLUDED])
            for x, y, code in f.poses[has]:
                under = f.occluder[round(float(y)), round(float(x))] >= 0.5
                assert not (under and code == Visibility.VISIBLE)
                hidden += int(under)
    assert hidden > 0  # some occluder did cross the person in these seeds
