"""Online K-FPN: the discriminator, the predictor, the online pass and its sliding window."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from annotator.proposal import kfpn, online
from annotator.proposal import online_train as ot
from annotator.proposal.train import Clip

from .helpers import tiny_model_file

CHANNELS = 8


def _poles(count: int = 6) -> tuple[np.ndarray, np.ndarray]:
    from annotator.dynamics.dyan_torch import default_poles

    radius, theta = default_poles(count)
    return radius.double().numpy(), theta.double().numpy()


def _segments(steps: int, rng: np.random.Generator, cuts: list[int]) -> np.ndarray:
    """(steps, C, 7, 7) maps: one random level per segment between ``cuts``, small noise."""
    level = rng.normal(size=(CHANNELS, 7, 7))
    out = np.empty((steps, CHANNELS, 7, 7))
    for t in range(steps):
        if t in cuts:
            level = rng.normal(size=(CHANNELS, 7, 7))
        out[t] = level
    return (out + 0.02 * rng.normal(size=out.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[online.OnlineModel, object]:
    """A small discriminator trained by the real training code on streams with jumps."""
    folder = tmp_path_factory.mktemp("online")
    kfpn_model = kfpn.load_model(tiny_model_file(folder / "k.pt", window=8, channels=CHANNELS))
    rng = np.random.default_rng(0)
    clips = []
    for i in range(12):
        cuts = sorted(rng.choice(np.arange(15, 90), size=3, replace=False).tolist())
        feats = _segments(100, rng, cuts)
        clips.append(Clip(f"c{i}", feats.astype(np.float16), np.arange(100)))
    config = online.OnlineConfig(in_channels=CHANNELS, hidden=8, batch_steps=10, online_rows=10)
    radius, theta = _poles()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only add waiting on a busy machine
    try:
        pairs, tau = ot.make_pairs(kfpn_model, clips, [10], config, radius, theta, 0.1, tau=0.2)
        assert 0 < pairs.label.mean() < 0.5  # both kinds of pairs exist
        net, metrics = ot.train_discriminator(pairs, config, epochs=8, report=lambda _: None)
    finally:
        torch.set_num_threads(threads)
    assert metrics["balanced_accuracy"] > 0.9
    model = ot.build_model(net, config, radius, theta, {"tau": tau})
    online.save_model(folder / "online.pt", model)
    return online.load_model(folder / "online.pt"), kfpn_model


def test_discriminator_shapes_and_gradients() -> None:
    net = online.Discriminator(CHANNELS, hidden=8)
    actual = torch.randn(5, CHANNELS, 7, 7)
    predicted = torch.randn(5, CHANNELS, 7, 7)
    logits = net(actual, predicted)
    assert logits.shape == (5,)
    blocks = [m for m in net.blocks if isinstance(m, torch.nn.Sequential)]
    assert len(blocks) == 4
    assert all(
        isinstance(b[0], torch.nn.Conv2d) and isinstance(b[1], torch.nn.BatchNorm2d) for b in blocks
    )
    logits.sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_the_predictor_keeps_a_constant_and_stays_within_the_key_frames() -> None:
    radius, theta = _poles(20)
    pred = online.Predictor(radius, theta, window=40, ridge=0.1)
    keys = np.stack([np.full((2, 3), 5.0)] * 3)
    assert np.allclose(pred.predict(keys, np.array([0, 4, 8]), 12), 5.0)
    levels = np.stack([np.full(4, float(v)) for v in (0, 0, 10, 10)])
    forecast = pred.predict(levels, np.array([0, 3, 6, 9]), 10)
    assert np.all((forecast > -2) & (forecast < 12))  # a fit of the key frames, not noise
    # one row more than the window's: the dictionary is extended for the new frame
    assert pred.dictionary(11).shape[0] == 11


def test_an_abrupt_change_makes_a_key_frame_and_a_constant_stream_none(
    trained: tuple[online.OnlineModel, object],
) -> None:
    model, kfpn_model = trained
    rng = np.random.default_rng(5)
    change = 60
    jump = online.detect(model, kfpn_model, _segments(120, rng, [change]))
    after_batch = [k for k in jump.key_steps if k >= model.config.batch_steps]
    assert after_batch and change <= after_batch[0] <= change + 2
    assert all(k >= change for k in after_batch)
    flat = online.detect(model, kfpn_model, _segments(120, rng, []))
    assert [k for k in flat.key_steps if k >= model.config.batch_steps] == []
    assert flat.key_steps == flat.batch_keys


def test_a_budget_gives_exactly_that_many_frames(
    trained: tuple[online.OnlineModel, object],
) -> None:
    model, kfpn_model = trained
    feats = _segments(60, np.random.default_rng(6), [20, 40])
    for budget in (3, 9):
        result = online.detect(model, kfpn_model, feats, budget)
        assert len(result.key_steps) == budget == len(set(result.key_steps))


def test_the_sliding_window_bounds_memory_per_frame(
    trained: tuple[online.OnlineModel, object],
) -> None:
    model, _ = trained
    window = model.config.window
    stream = online.Stream(online.Predictor(model.radius, model.theta, window, 0.1))
    for t in range(3 * window):
        stream.add(t, np.zeros((CHANNELS, 7, 7), np.float32))
        assert stream.predict(t + 1) is not None
        assert len(stream.keys) <= window
    assert len(stream.predictor._dicts) <= window
    # a key frame far in the past is still used (at the window's first row), alone
    assert stream.predict(100 * window) is not None and len(stream.keys) == 1

    def peak(steps: int) -> int:
        feats = _segments(steps, np.random.default_rng(7), list(range(25, steps, 25)))
        tracemalloc.start()
        online.run_stream(model, feats, [0])
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    short, long = peak(300), peak(1500)
    assert long < 1.3 * short + 64 * 1024  # only the per-step logits grow (8 bytes a step)


def test_online_is_a_proposal_method_and_the_command_writes_a_proposals_file(
    trained: tuple[online.OnlineModel, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from annotator.cli import main
    from annotator.proposal.registry import METHODS

    from .helpers import moving_square
    from .test_registry import _write_video

    assert "online" in METHODS
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "cache"))
    model, kfpn_model = trained
    assert model.path is not None and kfpn_model.path is not None  # type: ignore[attr-defined]
    monkeypatch.setenv("ANNOTATOR_KFPN_MODEL", str(kfpn_model.path))  # type: ignore[attr-defined]
    # the tiny models take 8 channels; the real backbone gives 320, which must be refused
    video = tmp_path / "square.mp4"
    _write_video(video, moving_square(40, (48, 64)))
    out = tmp_path / "p.json"
    args = ["propose", str(video), "--out", str(out), "--method", "online"]
    assert main([*args, "--model", str(model.path), "--device", "cpu"]) == 2
    real = online.save_model  # a 320-channel model of the same kind
    config = online.OnlineConfig(batch_steps=10, online_rows=10)
    net = online.Discriminator(config.in_channels, config.hidden)
    real(tmp_path / "o320.pt", online.OnlineModel(net.eval(), config, model.radius, model.theta))
    monkeypatch.setenv("ANNOTATOR_KFPN_MODEL", str(tiny_model_file(tmp_path / "k320.pt")))
    assert main([*args, "--model", str(tmp_path / "o320.pt"), "--budget", "6"]) == 0
    data = json.loads(out.read_text())
    assert data["schema"] == "annotator.proposals/1" and data["method"] == "online"
    assert data["frame_count"] == 40 and len(data["frames"]) == 6
    assert data["frames"] == sorted(data["frames"]) and len(data["scores"]) == 40
    assert data["gate"] is not None and sum(data["gate"]) == 6
    assert data["model"]["name"] == "o320.pt"


def test_on_a_long_stream_of_scenes_the_key_frame_share_stays_that_of_one_scene(
    trained: tuple[online.OnlineModel, object],
) -> None:
    """Scene after scene (a cut every 12 steps, shorter than the 20-row window): one key frame
    per cut. Fitting every key frame in the window made a new scene's frames look unlike the
    old scene's key frames still in it, and nearly every frame became a key frame."""
    model, _ = trained
    steps, every = 1200, 12
    cuts = list(range(every, steps, every))
    feats = _segments(steps, np.random.default_rng(8), cuts)
    result = online.run_stream(model, feats, [0])
    online_keys = [k for k in result.key_steps if k >= 1]
    assert len(online_keys) <= 1.2 * len(cuts)  # the old window: 542
    assert all(any(c <= k <= c + 1 for k in online_keys) for c in cuts)  # every cut is found


def test_the_prediction_fits_only_the_newest_key_frames() -> None:
    radius, theta = _poles(20)
    predictor = online.Predictor(radius, theta, window=40, ridge=0.1)
    last = online.Stream(predictor, fit_keys=1)
    two = online.Stream(predictor, fit_keys=2)
    for step, level in ((0, 0.0), (5, 4.0), (9, 10.0)):
        for stream in (last, two):
            stream.add(step, np.full((2, 3), level, np.float32))
    assert [s for s, _ in last.keys] == [9] and [s for s, _ in two.keys] == [5, 9]
    assert np.allclose(last.predict(12), 10.0)  # the newest key frame, as it is
    between = two.predict(12)
    assert between is not None and np.all((between > 3.0) & (between < 11.0))
    assert online.OnlineConfig().fit_keys == 1  # the default the benchmark measured
