"""The fast Gaussian update of a fill on observations equals the plain solve, on HPIM's own
gap covariances (short and long gaps) and through a live drag on long
gaps."""

from __future__ import annotations

import numpy as np
import pytest

import annotator.dynamics.hpim as hpim_module
from annotator.core.codes import Visibility
from annotator.dynamics.condition import condition, condition_reference, whiten
from annotator.dynamics.hpim import make_hpim_filler
from annotator.propagation.fuse import LiveFill, fill_with
from annotator.propagation.registry import VideoSource
from annotator.video.motion import MotionFields


@pytest.mark.parametrize("gap", [3, 40, 60, 300])
def test_fast_update_equals_the_plain_solve(gap: int) -> None:
    filler = make_hpim_filler(fps=30.0)
    rng = np.random.default_rng(gap)
    cov = filler._gap_covariance((-gap, 0, gap, 2 * gap), gap)
    p = np.stack([cov * s for s in (3.0, 40.0, 900.0)])  # (3, n, n), px²
    n = gap - 1
    noise = rng.uniform(2.0, 400.0, (3, n))
    noise[1, : max(1, n // 4)] = 1e6 * (1.0 + p[1].max())  # frames without an observation
    innov = rng.normal(0.0, 15.0, (3, n, 2))
    innov[1, : max(1, n // 4)] = 0.0
    update, post = condition(p, noise, innov)
    ref_update, ref_post = condition_reference(p, noise, innov)
    np.testing.assert_allclose(update, ref_update, rtol=0, atol=1e-6)
    np.testing.assert_allclose(post, ref_post, rtol=1e-6, atol=1e-9)
    if gap == 300:  # past the table's reach: the valid variogram, a covariance again
        eig = np.linalg.eigvalsh(cov)
        assert eig[0] >= -1e-9 * eig[-1]


@pytest.mark.parametrize("gap", [40, 300, 900])
def test_gap_covariance_is_the_error_covariance_written_with_the_variogram(gap: int) -> None:
    # Cov(x_s − Σ w_s,i x_i, x_s' − Σ w_s',j x_j) = −γ(s − s') + Σ_i w_s,i γ(t_i − s')
    #   + Σ_j w_s',j γ(t_j − s) − Σ_ij w_s,i γ(t_i − t_j) w_s',j, term by term
    filler = make_hpim_filler(fps=30.0)
    rel = (-gap, 0, gap, 2 * gap)
    w, _ = filler.weights(rel, gap)
    long = filler.is_long(rel, gap)
    t = np.asarray(rel, dtype=np.float64)
    s = np.arange(1, gap, dtype=np.float64)
    g_ts = filler.gamma(t[:, None] - s[None, :], long)
    expected = -filler.gamma(s[:, None] - s[None, :], long) + w @ g_ts + (w @ g_ts).T
    expected -= w @ filler.gamma(t[:, None] - t[None, :], long) @ w.T
    cov = filler._gap_covariance(rel, gap)
    np.testing.assert_allclose(cov, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_an_indefinite_covariance_takes_the_symmetric_factorisation_and_the_same_update() -> None:
    # a learned table's covariance may be slightly indefinite: Cholesky fails there, the
    # Bunch-Kaufman inverse must give the plain solve's numbers
    rng = np.random.default_rng(7)
    n = 80
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = np.linspace(-20.0, 50.0, n)
    p = ((q * eig) @ q.T)[None]
    noise = rng.uniform(5.0, 9.0, (1, n))
    assert np.linalg.eigvalsh(p[0] + np.diag(noise[0]))[0] < 0  # not positive definite
    innov = rng.normal(0.0, 10.0, (1, n, 2))
    update, post = condition(p, noise, innov)
    ref_update, ref_post = condition_reference(p, noise, innov)
    np.testing.assert_allclose(update, ref_update, rtol=0, atol=1e-6)
    np.testing.assert_allclose(post, ref_post, rtol=1e-6, atol=1e-9)


def test_whiten_is_the_cholesky_solve_and_refuses_an_indefinite_matrix() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 30))
    a = x @ x.T + 30 * np.eye(30)
    rhs = rng.normal(size=(30, 5))
    y = whiten(a, rhs)
    assert y is not None
    np.testing.assert_allclose(np.linalg.cholesky(a) @ y, rhs, atol=1e-10)
    np.testing.assert_allclose(y.T @ y[:, :1], rhs.T @ np.linalg.solve(a, rhs[:, :1]), atol=1e-10)
    indefinite = a - 100 * np.eye(30)
    assert whiten(indefinite, rhs) is None


def _long_clip(frames: int = 900, joints: int = 3) -> tuple[MotionFields, np.ndarray]:
    """A field that moves everything by a smooth random velocity (plus noise per cell, so
    the walks' variances vary), and joints that follow it."""
    rng = np.random.default_rng(4)
    gh, gw, cell = 45, 80, 8
    vel = np.cumsum(rng.normal(0, 0.2, (frames, 2)), axis=0) * 0.1
    vel -= vel.mean(axis=0)
    noise = rng.normal(0, 0.3, (frames, gh, gw, 2))
    dx = (vel[:, 0, None, None] + noise[..., 0]).astype(np.float32)
    dy = (vel[:, 1, None, None] + noise[..., 1]).astype(np.float32)
    fields = MotionFields(
        dx=dx,
        dy=dy,
        valid=np.ones(dx.shape, dtype=bool),
        residual=rng.uniform(0, 20, dx.shape).astype(np.float32),
        picture_types=("P",) * frames,
        times=np.arange(frames) / 30.0,
        derived=np.zeros(frames, dtype=bool),
        kind="mv",
        cell=cell,
        width=gw * cell,
        height=gh * cell,
        codec="synthetic",
    )
    truth = np.empty((frames, joints, 3))
    truth[:, :, :2] = rng.uniform(150, 250, (joints, 2))[None] + np.cumsum(vel, axis=0)[:, None]
    truth[:, :, 2] = Visibility.VISIBLE
    return fields, truth


def test_drag_on_long_gaps_equals_the_plain_solve_and_a_fresh_fill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields, truth = _long_clip()
    keep = np.array([0, 300, 600, 899])
    man = np.full_like(truth, np.nan)
    man[:, :, 2] = Visibility.UNLABELLED
    man[keep] = truth[keep]
    source = VideoSource(fields=fields)
    live = LiveFill("hpim+mv", source, fps=30.0)
    live.reset(man)
    for _ in range(3):  # a drag of joint 1 on frame 300, a pixel at a time
        man[300, 1, 0] += 1.0
        live.update(man, (300, 300), joints=[1])
        fresh = fill_with(man, source, "hpim+mv", fps=30.0)
        np.testing.assert_allclose(live.result.poses, fresh.poses, atol=1e-6, equal_nan=True)
        np.testing.assert_allclose(
            live.result.variance, fresh.variance, rtol=1e-6, atol=1e-9, equal_nan=True
        )
    monkeypatch.setattr(hpim_module, "condition", condition_reference)
    plain = fill_with(man, source, "hpim+mv", fps=30.0)
    np.testing.assert_allclose(live.result.poses, plain.poses, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(
        live.result.variance, plain.variance, rtol=1e-6, atol=1e-9, equal_nan=True
    )


def test_a_gap_longer_than_the_dense_limit_follows_sure_observations() -> None:
    """Past ``MAX_DENSE_GAP`` the update works by blocks (no gap x gap matrix): with
    observations far surer than the prior, the fill follows them, labels stay exact."""
    filler = make_hpim_filler(fps=30.0)
    frames = np.array([0, 1500, 1800])
    t = np.arange(1801, dtype=np.float64)
    truth = np.stack([300 + 80 * np.sin(t / 90.0), 200 + 40 * np.cos(t / 70.0)], axis=1)
    assert hpim_module.MAX_DENSE_GAP < 1500 - 1
    obs = truth + np.random.default_rng(0).normal(0, 0.5, truth.shape)
    obs_var = np.full(truth.shape, 0.25)
    obs_var[frames] = np.nan
    out, var = filler.fill_run(frames, truth[frames], (obs, obs_var))
    plain, _ = filler.fill_run(frames, truth[frames])
    np.testing.assert_array_equal(out[frames], truth[frames])
    assert var is not None and np.isfinite(var).all() and np.isfinite(out).all()
    inside = np.arange(1, 1500)
    assert np.abs(out[inside] - truth[inside]).max() < 4.0  # observation noise: 0.5 px
    assert np.abs(plain[inside] - truth[inside]).max() > 20.0  # the prior alone is far off


def test_long_gap_blocks_solved_on_their_observed_frames_equal_the_dense_update(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long gap's blocks are solved on their observed frames alone: with one window
    covering the whole gap, that is the dense update of the whole gap (whose unobserved
    frames carry a huge noise instead), for joints observed on different frames."""
    filler = make_hpim_filler(fps=30.0)
    frames = np.array([0, 900, 1200])
    t = np.arange(1201, dtype=np.float64)
    truth = np.stack(
        [
            300 + 80 * np.sin(t / 90.0),
            200 + 40 * np.cos(t / 70.0),
            250 + 60 * np.cos(t / 50.0),
            150 + 30 * np.sin(t / 40.0),
        ],
        axis=1,
    )
    obs = truth + np.random.default_rng(1).normal(0, 2.0, truth.shape)
    obs_var = np.full(truth.shape, np.nan)
    obs_var[::10] = 4.0  # predictions on every tenth frame
    obs_var[::10, 2:] = 25.0  # the second joint less sure
    obs_var[300:500, 2:] = np.nan  # the second joint not on these
    obs_var[frames] = np.nan

    def run() -> tuple[np.ndarray, np.ndarray]:
        out, var = make_hpim_filler(fps=30.0).fill_run(frames, truth[frames], (obs, obs_var))
        assert var is not None
        return out, var

    monkeypatch.setattr(hpim_module, "MAX_DENSE_GAP", 5000)
    dense, dense_var = run()
    monkeypatch.setattr(hpim_module, "MAX_DENSE_GAP", 100)
    monkeypatch.setattr(hpim_module, "LONG_BLOCK", 2000)
    blocks, blocks_var = run()
    plain, _ = filler.fill_run(frames, truth[frames])
    inside = np.arange(1, 900)
    assert np.abs(dense[inside] - plain[inside]).max() > 5.0  # the observations do move it
    np.testing.assert_allclose(blocks, dense, atol=0.02)
    np.testing.assert_allclose(blocks_var, dense_var, rtol=1e-3)


def test_batched_block_updates_equal_one_block_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The long-gap blocks solved in one batch (padded to the largest window) give what each
    block solved alone gives, for windows with different observed frames and sizes."""
    filler = make_hpim_filler(fps=30.0)
    rel, gap = (0, 1400), 1400
    w, _ = filler.weights(rel, gap)
    cov = hpim_module._GapCovariance(filler, rel, gap, w)
    n, rng = gap - 1, np.random.default_rng(4)
    have = rng.random((2, n)) < 0.1  # two pairs, observed on about every tenth frame
    have[1, 300:700] = False  # the second: a stretch with no observation
    noise = np.where(have, rng.uniform(4.0, 30.0, have.shape), np.nan)
    prior = rng.normal(0, 5, (2, n, 2))
    seen = prior + rng.normal(0, 3, (2, n, 2))
    seen[~have] = np.nan  # as the fill hands them: no value where nothing was observed
    s_px = np.array([2.0, 0.5])
    block = hpim_module.LONG_BLOCK
    tasks = []
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        w0, w1 = max(0, b0 - block), min(n, b1 + block)
        for m in range(2):
            at = w0 + np.flatnonzero(have[m, w0:w1])
            if len(at):
                tasks.append((m, b0, b1, at))
    sizes = {len(task[3]) for task in tasks}
    assert len(sizes) > 3 and any(b1 - b0 < block for _m, b0, b1, _a in tasks)  # padded
    one_block = hpim_module._one_block

    def refused(*_args: object) -> None:
        raise AssertionError("the batch fell back to one block at a time")

    monkeypatch.setattr(hpim_module, "_one_block", refused)  # the batch itself is checked
    gains, explained = hpim_module._block_updates(cov, tasks, s_px, noise, seen, prior)
    for (m, b0, b1, at), gain, expl in zip(tasks, gains, explained, strict=True):
        a = cov.at(at, at) * s_px[m]
        a[np.diag_indices_from(a)] += noise[m, at]
        k_bs = cov.at(np.arange(b0, b1), at) * s_px[m]
        ref_gain, ref_expl = one_block(a, k_bs, seen[m, at] - prior[m, at])
        np.testing.assert_allclose(gain, ref_gain, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(expl, ref_expl, rtol=1e-7, atol=1e-9)


def test_a_singular_batch_is_solved_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """``block_gains`` says when a matrix of the batch is singular; the long-gap update then
    solves each block alone and gives the same fill."""
    from annotator.dynamics import condition as condition_module

    assert (
        condition_module.block_gains(np.zeros((2, 3, 3)), np.ones((2, 4, 3)), np.ones((2, 3, 2)))
        is None
    )
    frames = np.array([0, 1500, 1800])
    t = np.arange(1801, dtype=np.float64)
    truth = np.stack([300 + 80 * np.sin(t / 90.0), 200 + 40 * np.cos(t / 70.0)], axis=1)
    obs = truth + np.random.default_rng(2).normal(0, 2.0, truth.shape)
    obs_var = np.full(truth.shape, np.nan)
    obs_var[::10] = 9.0
    obs_var[frames] = np.nan
    obs[np.isnan(obs_var)] = np.nan  # as observations come: no value off the observed frames
    batched, batched_var = make_hpim_filler(fps=30.0).fill_run(
        frames, truth[frames], (obs, obs_var)
    )
    monkeypatch.setattr(hpim_module, "block_gains", lambda *_args: None)
    alone, alone_var = make_hpim_filler(fps=30.0).fill_run(frames, truth[frames], (obs, obs_var))
    assert np.isfinite(batched).all() and np.isfinite(batched_var).all()
    np.testing.assert_allclose(batched, alone, atol=1e-6)
    np.testing.assert_allclose(batched_var, alone_var, rtol=1e-6)


def test_small_and_large_blocks_give_the_same_fill(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks with few observed frames are batched, blocks with many factorised one by one:
    either way, for every block, the same fill (a joint observed on every frame beside one
    observed on every tenth)."""
    frames = np.array([0, 1500, 1800])
    t = np.arange(1801, dtype=np.float64)
    truth = np.stack(
        [300 + 80 * np.sin(t / 90.0), 200 + 40 * np.cos(t / 70.0),
         250 + 60 * np.cos(t / 50.0), 150 + 30 * np.sin(t / 40.0)], axis=1,
    )  # fmt: skip
    obs = truth + np.random.default_rng(5).normal(0, 2.0, truth.shape)
    obs_var = np.full(truth.shape, 9.0)  # the first joint on every frame (the walks)
    obs_var[:, 2:] = np.nan
    obs_var[::10, 2:] = 16.0  # the second on every tenth (predictions)
    obs_var[frames] = np.nan
    obs[np.isnan(obs_var)] = np.nan  # as observations come: no value off the observed frames

    def run(rows: int) -> tuple[np.ndarray, np.ndarray]:
        monkeypatch.setattr(hpim_module, "BATCH_ROWS", rows)
        out, var = make_hpim_filler(fps=30.0).fill_run(frames, truth[frames], (obs, obs_var))
        assert var is not None
        return out, var

    mixed, mixed_var = run(hpim_module.BATCH_ROWS)
    one_by_one, one_by_one_var = run(0)
    batched, batched_var = run(10**6)
    plain, _ = make_hpim_filler(fps=30.0).fill_run(frames, truth[frames])
    assert np.isfinite(mixed).all() and np.isfinite(mixed_var).all()
    assert np.abs(mixed - plain).max() > 5.0  # the observations do move it
    for out, var in ((one_by_one, one_by_one_var), (batched, batched_var)):
        np.testing.assert_allclose(mixed, out, atol=1e-6)
        np.testing.assert_allclose(mixed_var, var, rtol=1e-6)
