"""BlazePose on real frames against the golden reference (``realgt``), and ``estimate``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.codes import SOURCE_NAMES, Source, Visibility
from annotator.estimation.blazepose import BlazePose
from annotator.estimation.roi import Roi
from annotator.video import open_video


def _clip(data_dir: Path, name: str) -> tuple[Path, dict[str, np.ndarray]]:
    ref = np.load(data_dir / "realgt" / f"{name}.npz")
    return data_dir / "videos" / f"{name}.mp4", {k: ref[k] for k in ref.files}


def test_landmarks_on_the_body_on_a_real_frame(data_dir: Path) -> None:
    video, ref = _clip(data_dir, "hybrik_taiji")
    reader = open_video(video, build_index=False)
    try:
        est = BlazePose().run(reader, [0])
    finally:
        reader.close()
    assert est.detected[0] and est.detector_calls == 1 and est.landmark_calls == 2
    xy = est.xy[0]
    # every landmark inside the box of the reference's body, padded by 10 % of its size
    lo, hi = ref["xy"][0].min(axis=0), ref["xy"][0].max(axis=0)
    pad = 0.1 * (hi - lo)
    assert ((xy >= lo - pad) & (xy <= hi + pad)).all()
    # and near the reference's own landmarks (a detector start differs from a tracked one)
    assert np.median(np.linalg.norm(xy - ref["xy"][0], axis=1)) < 5.0
    # the subject's left is the image's right for a person facing the camera
    assert xy[11, 0] > xy[12, 0] and xy[23, 0] > xy[24, 0]


def test_landmark_stage_matches_the_golden_reference(data_dir: Path) -> None:
    """In the reference's own ROI, the landmark model and decoding agree to 0.1 px."""
    video, ref = _clip(data_dir, "mmhuman3d_single_person_demo")
    est = BlazePose()
    reader = open_video(video, build_index=False)
    try:
        for i in (0, 13, 27, 39):
            _, xy = est.landmarks(reader.frame(i), Roi(*map(float, ref["roi"][i])))
            assert np.abs(xy[:33] - ref["xy"][i]).max() < 0.1
            assert np.abs(xy[33:35] - ref["aux_xy"][i]).max() < 0.1
    finally:
        reader.close()


def test_tracking_matches_the_golden_reference(data_dir: Path) -> None:
    video, ref = _clip(data_dir, "mmpose_body3d_demo")
    reader = open_video(video, build_index=False)
    try:
        est = BlazePose().run(reader, range(60))
    finally:
        reader.close()
    assert est.detector_calls == 1 and est.landmark_calls == 60  # detect once, then track
    d = np.linalg.norm(est.xy - ref["xy"][:60], axis=-1)
    assert np.median(d) < 1.0 and np.percentile(d, 95) < 3.0
    np.testing.assert_allclose(est.roi[:5], ref["roi"][:5], atol=0.05)


def test_estimate_writes_the_fill_layout_with_predicted_values(
    data_dir: Path, tmp_path: Path
) -> None:
    video, _ = _clip(data_dir, "mmhuman3d_single_person_demo")
    out = tmp_path / "poses.npz"
    args = [str(video), "--out", str(out), "--keyframes", "uniform", "--budget", "5"]
    assert main(["estimate", *args, "--fill", "linear", "--no-progress"]) == 0
    data = np.load(out)
    assert set(data.files) == {"poses", "source", "source_names", "held", "confidence"}
    assert data["poses"].shape == (40, 13, 3) and data["poses"].dtype == np.float32
    assert tuple(data["source_names"]) == SOURCE_NAMES
    source = data["source"]
    key = np.flatnonzero((source == Source.PREDICTED).any(axis=1))
    assert list(key) == [0, 10, 20, 29, 39]  # uniform:5
    conf = data["confidence"]
    predicted = source == Source.PREDICTED
    assert np.isfinite(conf[predicted]).all() and ((conf >= 0) & (conf <= 1))[predicted].all()
    assert np.isnan(conf[~predicted]).all()
    assert (source[~predicted] == Source.LINEAR).sum() > 0.7 * (~predicted).sum()
    codes = data["poses"][..., 2]
    assert set(np.unique(codes[predicted])) <= {Visibility.VISIBLE, Visibility.OCCLUDED}


def test_estimate_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", str(tmp_path / "none.mp4"), "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"annotator: error: video not found: {tmp_path / 'none.mp4'}"]


def _count_extractions(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, object]]:
    """(video, field) of every motion store extracted from now on (cached opens not counted)."""
    from annotator.video import motion_cache

    extractions: list[tuple[Path, object]] = []
    real_extract = motion_cache.extract_raw

    def counted(path: Path, *args: object, **kwargs: object) -> object:
        field = kwargs.get("field", args[6] if len(args) > 6 else "mv")  # extract_raw's 8th
        extractions.append((path, field))
        return real_extract(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(motion_cache, "extract_raw", counted)
    return extractions


def test_estimate_with_the_gate_fills_along_the_flow_each_store_extracted_once(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "cache"))
    extractions = _count_extractions(monkeypatch)
    video, _ = _clip(data_dir, "mmhuman3d_single_person_demo")
    out = tmp_path / "poses.npz"
    args = [str(video), "--out", str(out), "--keyframes", "gate", "--budget", "6"]
    assert main(["estimate", *args, "--no-progress"]) == 0  # default fill: auto
    assert "filled the rest with hpim+mv" in capsys.readouterr().out
    # the gate reads the codec's vectors, the fill walks the optical flow: one store each
    assert extractions == [(video, "mv"), (video, "dis")]
    data = np.load(out)
    source = data["source"]
    key = np.flatnonzero((source == Source.PREDICTED).any(axis=1))
    assert 2 <= len(key) <= 6
    filled = ~np.isin(np.arange(40), key)
    assert (source[filled] == Source.HPIM_MV).mean() > 0.5


def test_auto_fill_follows_the_motion_and_other_names_stay() -> None:
    from annotator.propagation import resolve_fill

    assert resolve_fill("auto") == "hpim+mv"
    assert resolve_fill("linear") == "linear"


def test_the_bar_follows_the_fills_motion_extraction(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "cache"))
    video, _ = _clip(data_dir, "mmhuman3d_single_person_demo")
    out = tmp_path / "poses.npz"
    args = [str(video), "--out", str(out), "--keyframes", "uniform", "--budget", "5"]
    assert main(["estimate", *args]) == 0
    bar = capsys.readouterr().err.split("\r")
    stages = [line for line in bar if "motion fields for the fill" in line]
    assert stages and "100 %" in stages[-1]
    # the estimator's part ends at 90 %: the motion extraction takes the rest
    assert any(" 90 % estimating poses" in line for line in bar)
    # the carried key-frame regions read the store first; the fill reads it back
    assert any("motion fields for the key frames" in line for line in bar)


def test_estimate_can_fill_along_the_codec_store_the_gate_read(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--fill-field mv``: the fill walks the codec store the gate already read, so only that
    one store is extracted (the fast pipeline)."""
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "cache"))
    extractions = _count_extractions(monkeypatch)
    video, _ = _clip(data_dir, "mmhuman3d_single_person_demo")
    out = tmp_path / "poses.npz"
    args = [str(video), "--out", str(out), "--keyframes", "gate", "--budget", "6"]
    assert main(["estimate", *args, "--fill-field", "mv", "--no-progress"]) == 0
    assert "filled the rest with hpim+mv" in capsys.readouterr().out
    assert extractions == [(video, "mv")]
    with pytest.raises(SystemExit) as stop:  # argparse's usage error for a bad choice
        main(["estimate", *args, "--fill-field", "nope", "--no-progress"])
    assert stop.value.code == 2 and "--fill-field" in capsys.readouterr().err
