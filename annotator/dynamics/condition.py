"""The Gaussian update of a fill on noisy observations inside a gap, with about a third of the
work of a plain solve.

HPIM conditions its fill (the prior mean, error covariance ``P`` over the n frames of a gap)
on observations with noise ``R`` (diagonal): the update ``P (P + R)⁻¹ (obs − out)`` and the
posterior variances ``diag(P − P (P + R)⁻¹ P)``. Solving ``(P + R) X = P`` for the whole
matrix costs about 8/3 n³ flops (an LU factorisation and n right-hand sides). Because ``R`` is
diagonal, ``P (P + R)⁻¹ = I − R (P + R)⁻¹``, so

    diag(P (P + R)⁻¹ P) = diag(P) − r + r² diag((P + R)⁻¹)

and the inverse of ``P + R`` (about n³ flops: Cholesky, LAPACK's ``potrf``/``potri``, as
``P + R`` is positive definite since long gaps take a valid variogram; where it is not, the
symmetric Bunch-Kaufman factorisation ``sytrf``/``sytri``, which needs no definiteness)
replaces the n right-hand
sides; the update is then two matrix-vector products. Same numbers as the plain solve up to
rounding (``tests/dynamics/test_condition.py``: 1e-6 px on the update, 1e-6 relative on the
variance, whose unobserved frames carry a huge noise and lose digits to cancellation); a
singular ``P + R`` falls back to the plain solve, and short gaps (``FAST_FROM``) take it.

Callers run these solves with BLAS on one thread (:func:`one_blas_thread`): small matrices (a few hundred rows), where OpenBLAS's
threads cost more than they give, badly so when the two cores are shared (a 300-frame solve
measured 12 ms on one thread and 23-125 ms on two, on the loaded development machine).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.lapack import dpotrf, dpotri, dsytrf, dsytri, dtrtrs

FloatArray = NDArray[np.float64]

FAST_FROM = 48
"""Gaps of fewer frames take the plain solve, batched over all of a label pattern's gaps and
joints in one call (a 10,000-frame fill has thousands of short ones: one LAPACK call each
would cost more in Python than the flops they save)."""


def _diag(d: FloatArray) -> FloatArray:
    """(M, n, n) diagonal matrices from (M, n)."""
    out = np.zeros((*d.shape, d.shape[-1]))
    i = np.arange(d.shape[-1])
    out[:, i, i] = d
    return out


def condition(p: FloatArray, noise: FloatArray, innov: FloatArray) -> tuple[FloatArray, FloatArray]:
    """For M gaps of n frames: prior covariances ``p`` (M, n, n), noise variances ``noise``
    (M, n) (large where there is no observation) and innovations ``innov`` (M, n, K) (zero
    where there is none). Returns the update ``P (P + R)⁻¹ innov`` (M, n, K) and the posterior
    variances ``diag(P − P (P + R)⁻¹ P)`` (M, n)."""
    if p.shape[1] < FAST_FROM:
        return condition_reference(p, noise, innov)
    update = np.empty(innov.shape)
    inv_diag = np.empty(noise.shape)
    a = p + _diag(noise)
    for m in range(len(a)):
        low, info = _symmetric_inverse(a[m])
        if info != 0:  # singular: the plain solve says so its own way
            return condition_reference(p, noise, innov)
        inv = np.tril(low) + np.tril(low, -1).T
        inv_diag[m] = np.diagonal(inv)
        update[m] = p[m] @ (inv @ innov[m])
    # diag(P) − diag(P (P + R)⁻¹ P) = r − r² diag((P + R)⁻¹)
    return update, noise - noise * noise * inv_diag


def _symmetric_inverse(a: FloatArray) -> tuple[FloatArray, int]:
    """The inverse of the symmetric ``a`` in its lower triangle, and LAPACK's ``info`` (0: done).
    Cholesky first (``potrf``/``potri``, blocked: about three times faster than the
    Bunch-Kaufman pair at 600 rows); a matrix that is not positive definite takes the
    Bunch-Kaufman L D Lᵀ (``sytrf``/``sytri``), which needs no definiteness."""
    factor, info = dpotrf(a.T, lower=1, clean=0)  # a.T: the same matrix, Fortran order
    if info == 0:
        low, info = dpotri(factor, lower=1, overwrite_c=1)
        if info == 0:
            return low, 0
    factor, pivots, info = dsytrf(a.T, lower=1)
    if info == 0:
        factor, info = dsytri(factor, pivots, lower=1, overwrite_a=1)
    return factor, int(info)


def whiten(a: FloatArray, rhs: FloatArray) -> FloatArray | None:
    """``L⁻¹ rhs`` where ``a = L Lᵀ`` (Cholesky), or None when ``a`` is not positive definite.
    With ``Y = L⁻¹ [innov, Kᵀ]``, ``K a⁻¹ innov = Y_Kᵀ Y_innov`` and ``diag(K a⁻¹ Kᵀ)`` is the
    column sums of ``Y_K²``: a factorisation and one triangular solve, half the flops of an LU
    solve for the same right-hand sides."""
    factor, info = dpotrf(a.T, lower=1, clean=1)
    if info != 0:
        return None
    y, info = dtrtrs(factor, rhs, lower=1)
    return None if info != 0 else np.asarray(y)


def block_gains(
    a: FloatArray, k: FloatArray, innov: FloatArray
) -> tuple[FloatArray, FloatArray] | None:
    """For a batch of symmetric ``a`` (m, s, s) with ``k`` (m, b, s) and ``innov`` (m, s, c):
    ``k a⁻¹ innov`` (m, b, c) and ``diag(k a⁻¹ kᵀ)`` (m, b), or None when some ``a`` is
    singular. Explicit inverses, batched (LAPACK's LU per matrix in one call): many small
    blocks (tens of rows) cost what one call and two batched products cost, where one
    factorisation per block from Python costs several times that in overhead alone."""
    try:
        inv = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return None
    gain = k @ (inv @ innov)
    explained = np.einsum("mbs,mbs->mb", k @ inv, k)
    return gain, explained


_CONTROLLER: Any = None


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread (for a whole fill's solves: entering it
    costs about a millisecond; the controller is built once, it scans the process's
    libraries)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # a declared dependency; without it BLAS keeps its threads
            _CONTROLLER = False
        else:
            _CONTROLLER = ThreadpoolController()
    if _CONTROLLER is False:
        return contextlib.nullcontext()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def condition_reference(
    p: FloatArray, noise: FloatArray, innov: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """:func:`condition` by a plain solve for the whole gain (the definition; the tests'
    reference and the fallback)."""
    a = p + _diag(noise)
    gain_t = np.linalg.solve(a, p)  # Aᵀ⁻¹ Pᵀ = (P A⁻¹)ᵀ, both symmetric
    update = np.einsum("mon,mok->mnk", gain_t, innov)
    post = np.einsum("mnn->mn", p) - np.einsum("mon,mon->mn", gain_t, p)
    return update, post
