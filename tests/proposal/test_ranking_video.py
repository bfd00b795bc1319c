"""The video's descriptors for the next-frame ranking: pooling, rotation, cache by fingerprint."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.dynamics.ranking import video_evidence
from annotator.proposal import ranking_video as rv
from annotator.proposal.backbones import DEFAULT_BACKBONE, PROPOSAL_STEP
from annotator.proposal.features import cache_path, save_cached, video_features
from tests.proposal.helpers import ArrayVideo, GatedBackbone, moving_square


def _features(frames: int, channels: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(size=(frames, channels, 7, 7)), axis=0)
    return walk.astype(np.float16).astype(np.float32)


def _video(frames: int, fingerprint: str) -> ArrayVideo:
    return ArrayVideo(np.zeros((frames, 8, 8, 3), np.uint8), fingerprint=fingerprint)


def test_pooling_matches_adaptive_average_pooling() -> None:
    import torch

    x = _features(5, channels=3)
    want = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(x), 3).reshape(5, -1)
    assert np.allclose(rv.pooled(x), want.double().numpy(), atol=1e-5)


def test_the_rotation_keeps_what_the_ranking_reads() -> None:
    """With fewer pooled values than ``RANK_DIMS`` the descriptors are a rotation of the
    centred pooled maps: the video evidence the ranking computes is the same."""
    feats = _features(40)  # 4 x 9 = 36 pooled values
    out = rv.descriptors_from_features(feats)
    assert out.shape == (40, 36) and out.dtype == np.float32
    labelled = np.array([0, 13, 39])
    assert np.allclose(
        video_evidence(out, labelled), video_evidence(rv.pooled(feats), labelled), rtol=1e-4
    )
    wide = rv.descriptors_from_features(_features(40, channels=16))  # 144 values -> 64 axes
    assert wide.shape == (40, rv.RANK_DIMS)


def test_descriptors_are_cached_by_fingerprint_and_rebuilt_when_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video = _video(30, "fp-a")
    # Nothing cached and no backbone run allowed: no descriptors.
    assert rv.ranking_descriptors(video, compute=False) is None
    # The backbone features are cached (as Propose frames leaves them): built from those.
    save_cached(cache_path("fp-a", DEFAULT_BACKBONE), _features(30))
    first = rv.ranking_descriptors(video, compute=False)
    assert first is not None and first.shape == (30, 36)
    assert rv.cache_path("fp-a").is_file()

    def boom(*_args: object, **_kwargs: object) -> np.ndarray:
        raise AssertionError("rebuilt although cached")

    with monkeypatch.context() as patched:
        patched.setattr(rv, "descriptors_from_features", boom)
        again = rv.ranking_descriptors(video, compute=False)
    assert again is not None
    assert np.allclose(again, first, atol=1e-2)  # float16 on disk

    # Another video (another fingerprint) does not see them.
    assert rv.ranking_descriptors(_video(30, "fp-b"), compute=False) is None
    # A damaged file, or one for another frame count, is rebuilt.
    rv.cache_path("fp-a").write_bytes(b"not an array")
    assert rv.cached_descriptors("fp-a", 30) is None
    rebuilt = rv.ranking_descriptors(video, compute=False)
    assert rebuilt is not None and rebuilt.shape == (30, 36)
    save_cached(rv.cache_path("fp-a"), np.zeros((29, 36)))
    assert rv.cached_descriptors("fp-a", 30) is None
    rebuilt = rv.ranking_descriptors(video, compute=False)
    assert rebuilt is not None and len(rebuilt) == 30


def test_descriptors_of_a_feature_step_read_that_steps_features_only() -> None:
    """The bench's ``--feature-step``: every-other-frame features give their own descriptors
    (own cache), never the every-frame ones the app's ``N`` reads, and the reverse."""
    video = _video(30, "fp-step")
    save_cached(cache_path("fp-step", DEFAULT_BACKBONE, step=3), _features(30))
    assert rv.ranking_descriptors(video, compute=False) is None  # no every-frame features
    step3 = rv.ranking_descriptors(video, compute=False, step=3)
    assert step3 is not None and step3.shape == (30, 36)
    assert rv.cache_path("fp-step", step=3).is_file() and not rv.cache_path("fp-step").is_file()
    assert rv.cache_path("fp-step", step=3) != rv.cache_path("fp-step")
    assert rv.cached_descriptors("fp-step", 30) is None


def test_without_the_backbone_n_completes_the_proposals_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After proposals (every other frame's features cached), the reading for N that may not
    run the backbone over the video (``compute=False``) runs it on the frames left out."""
    fake = GatedBackbone.install(monkeypatch)
    fake.gate.set()
    video = ArrayVideo(moving_square(30), fingerprint="fp-proposed")
    video_features(video, DEFAULT_BACKBONE, step=PROPOSAL_STEP)
    assert sum(fake.seen) == 16  # frames 0, 2, ..., 28 and the last
    out = rv.ranking_descriptors(video, compute=False)
    assert out is not None and len(out) == 30
    assert sum(fake.seen) == 30  # then the odd frames before the last
    assert cache_path("fp-proposed", DEFAULT_BACKBONE).is_file()


def test_fewer_frames_than_pooled_values_decompose_the_small_side(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A short clip (40 frames, 2880 pooled values with the shipped backbone) used to pay a
    2880 x 2880 eigendecomposition (half a minute of CPU on a busy machine); the frames' own
    Gram matrix gives the same principal coordinates."""
    feats = _features(30, channels=16)  # 144 pooled values, 30 frames
    y = rv.pooled(feats)
    y = y - y.mean(axis=0)
    _, vecs = np.linalg.eigh(y.T @ y)  # the wide route, as reference
    want = y @ vecs[:, ::-1][:, : rv.RANK_DIMS]
    sizes: list[int] = []
    real = np.linalg.eigh

    def spy(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sizes.append(a.shape[0])
        return real(a)

    monkeypatch.setattr(np.linalg, "eigh", spy)
    out = rv.descriptors_from_features(feats)
    assert sizes == [30]
    assert out.shape == (30, rv.RANK_DIMS) and out.dtype == np.float32
    # Same coordinates up to each axis's sign; the axes past the rank (29) are zero.
    assert np.allclose(np.abs(out[:, :29]), np.abs(want[:, :29]), atol=1e-3 * np.abs(want).max())
    assert np.allclose(out[:, 29:], 0.0, atol=1e-3)
    labelled = np.array([0, 11, 29])
    assert np.allclose(video_evidence(out, labelled), video_evidence(y, labelled), rtol=1e-4)


def test_the_features_are_read_from_the_cache_file_chunk_by_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reading for ``N`` never loads the video's whole feature array: it reads the cache
    file ``CHUNK`` frames at a time, and gets what the whole array in memory gives."""
    from annotator.proposal import features as ft

    monkeypatch.setattr(rv, "CHUNK", 16)
    feats = _features(50)
    save_cached(cache_path("fp-chunks", DEFAULT_BACKBONE), feats)
    reads: list[int] = []
    real = ft.FeatureFile.__getitem__

    def spy(self: ft.FeatureFile, key: object) -> np.ndarray:
        out = real(self, key)
        reads.append(len(out))
        return out

    monkeypatch.setattr(ft.FeatureFile, "__getitem__", spy)
    out = rv.ranking_descriptors(_video(50, "fp-chunks"), compute=False)
    assert out is not None and out.shape == (50, 36)
    assert reads and max(reads) <= 16 and sum(reads) == 2 * 50  # two passes, in chunks
    want = rv.descriptors_from_features(feats)
    assert np.allclose(out, want, atol=1e-5 * np.abs(want).max())


def test_only_the_leading_axes_are_computed_and_they_match_the_full_decomposition() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 90)) @ rng.normal(size=(90, 90))
    cov = np.cov(x, rowvar=False, bias=True)
    _, vecs = np.linalg.eigh(cov)
    want = vecs[:, ::-1][:, :20]
    upper = np.triu(cov)  # only the upper triangle is read
    got = rv._top_axes(upper, 20)
    assert got.shape == (90, 20)
    # the same axes up to sign, each signed so that its largest component is positive
    assert np.allclose(np.abs(got.T @ want), np.eye(20), atol=1e-8)
    assert (got[np.abs(got).argmax(axis=0), np.arange(20)] > 0).all()
