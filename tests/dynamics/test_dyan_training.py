"""Training our DYAN dictionary: the torch fill is the app's fill, and training improves it."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.dynamics.dyan import DyanFiller, Poles, dyan_dictionary
from annotator.dynamics.dyan_training import (
    DyanTraining,
    Motion,
    fill_predict,
    gap_samples,
    train_dyan,
)

torch = pytest.importorskip("torch")
POLES = Poles(np.array([0.97, 1.0, 0.92]), np.array([0.08, 0.3, 1.1]))


def _motions(n: int, seed: int) -> list[Motion]:
    """Smooth synthetic two-joint motions in body units."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        f = int(rng.integers(40, 90))
        t = np.arange(f)[:, None, None]
        freq = rng.uniform(0.05, 0.2, size=(1, 2, 2))
        phase = rng.uniform(0, 6.3, size=(1, 2, 2))
        out.append(Motion(0.2 * np.sin(freq * t + phase), "synthetic"))
    return out


def test_training_backpropagates_through_the_apps_fill() -> None:
    """The torch fill of a gap window equals ``DyanFiller``'s numpy fill of the same gap."""
    m = _motions(1, 3)[0]
    pool = gap_samples([m], rows=40, reach=3, draws=1, seed=0)
    assert len(pool.ctx) > 0
    d = dyan_dictionary(POLES, 40)
    ridge = 1e-3
    pred = fill_predict(
        torch,
        torch.tensor(d),
        torch.tensor(ridge),
        torch.as_tensor(pool.ctx),
        torch.as_tensor(pool.ctx_val).double(),
    ).numpy()
    # rebuild the same label set: the first sample's labels are the context rows
    filler = DyanFiller("eq17", d, POLES, rows=40, ridge=ridge)
    compared = 0
    for k in range(0, len(pool.ctx), 7):
        ctx = pool.ctx[k][pool.ctx[k] >= 0]
        vals = pool.ctx_val[k][: len(ctx)].astype(np.float64)
        gap_rows = np.flatnonzero(pool.mask[k] > 0)
        a, b = int(gap_rows[0]) - 1, int(gap_rows[-1]) + 1
        # the filler sees a run whose labels are ``ctx`` (window rows as frames)
        out, _ = filler.fill_run(ctx.astype(np.int64), vals)
        i = int(np.flatnonzero(ctx == a)[0])
        if ctx[i + 1] != b:
            continue
        got = out[a + 1 - ctx[0] : b - ctx[0]]
        np.testing.assert_allclose(pred[k, a + 1 : b], got, atol=1e-6)
        compared += 1
    assert compared >= 3


def test_a_short_training_run_improves_the_held_out_fill() -> None:
    settings = DyanTraining(poles=6, epochs=3, steps_per_epoch=25, batch=64, lr=0.05)
    res = train_dyan(_motions(30, 1), _motions(8, 2), settings, report=lambda _: None)
    held = [h["held_out"] for h in settings.history]
    assert len(held) == 4  # the initial poles, then 3 epochs
    assert min(held[1:]) < held[0]
    assert res.epochs_run >= 1
    assert len(res.poles.r) == 6 and np.isfinite(res.poles.r).all()
    assert not res.poles.mirrored
    assert res.ridge > 0
