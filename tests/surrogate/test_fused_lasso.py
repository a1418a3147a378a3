"""The fused-lasso solver against least squares, its own optimality conditions, and data
whose coefficients come in flat blocks."""

from itertools import pairwise

import numpy as np
import pytest
from scipy.optimize import linprog

from scrutiny.surrogate.fused_lasso import fused_lasso


def presence_data(seed, n=300, p=12, noise=0.1):
    rng = np.random.default_rng(seed)
    Z = (rng.uniform(size=(n, p)) < 0.5).astype(float)
    b = rng.normal(size=p)
    return Z, 0.5 + Z @ b + noise * rng.normal(size=n), rng


def subgradient_gap(Z, y, w, a, b, fusion, sparsity, zero=1e-7):
    """How far Z'r (r the weighted residuals) is from the penalty's subdifferential at b,
    in the sup norm, by linear programming: the optimality condition is
    Z'r = D'v + s, |v_l| <= fusion with v_l = fusion sign(b_{l+1} - b_l) where the
    difference is nonzero, and likewise s for sparsity and b_l. Also returns sum(r), the
    intercept's condition."""
    p = len(b)
    r = w * (y - a - Z @ b)
    c = Z.T @ r
    D = np.eye(p, k=1)[:-1] - np.eye(p)[:-1]  # (D b)_l = b_{l+1} - b_l
    bounds = [_bound(d, fusion, zero) for d in D @ b] + [_bound(x, sparsity, zero) for x in b]
    # variables (v, s, t): minimise t with -t <= D'v + s - c <= t
    A = np.hstack([D.T, np.eye(p)])
    A_ub = np.block([[A, -np.ones((p, 1))], [-A, -np.ones((p, 1))]])
    res = linprog(
        np.r_[np.zeros(2 * p - 1), 1.0],
        A_ub=A_ub,
        b_ub=np.r_[c, -c],
        bounds=[*bounds, (0, None)],
        method="highs",
    )
    assert res.status == 0
    return res.fun, r.sum()


def _bound(x, penalty, zero):
    return (penalty * np.sign(x),) * 2 if abs(x) > zero else (-penalty, penalty)


def test_without_penalties_it_is_least_squares():
    Z, y, _ = presence_data(0)
    a, b = fused_lasso(Z, y, fusion=0.0, sparsity=0.0)
    ls = np.linalg.lstsq(np.c_[np.ones(len(Z)), Z], y, rcond=None)[0]
    np.testing.assert_allclose(np.r_[a, b], ls, atol=1e-6, rtol=0)


def test_pure_fusion_meets_its_optimality_conditions_exactly_derived():
    """With sparsity 0 the condition Z'r = D'v solves for v: v_l = -cumsum(Z'r)_l, and
    optimality is |v_l| <= fusion, v_l = fusion sign(b_{l+1} - b_l) at every jump, and
    sum(Z'r) = 0 (the last v is 0)."""
    Z, y, rng = presence_data(1, p=20)
    w = rng.uniform(0.2, 2.0, size=len(y))
    fusion = 3.0
    a, b = fused_lasso(Z, y, fusion, weights=w)
    r = w * (y - a - Z @ b)
    v = -np.cumsum(Z.T @ r)
    jumps = np.abs(np.diff(b)) > 1e-7
    assert 0 < jumps.sum() < len(b) - 1  # the penalty both fuses and leaves jumps
    tol = 1e-4 * fusion
    assert abs(r.sum()) < tol and abs(v[-1]) < tol
    assert (np.abs(v[:-1]) <= fusion + tol).all()
    np.testing.assert_allclose(v[:-1][jumps], fusion * np.sign(np.diff(b))[jumps], atol=tol)


@pytest.mark.parametrize("fusion, sparsity", [(2.0, 5.0), (0.0, 8.0), (20.0, 1.0)])
def test_fused_and_sparse_fits_meet_the_subgradient_conditions(fusion, sparsity):
    Z, y, rng = presence_data(2, p=15)
    w = rng.uniform(0.2, 2.0, size=len(y))
    a, b = fused_lasso(Z, y, fusion, sparsity, weights=w)
    gap, intercept_gap = subgradient_gap(Z, y, w, a, b, fusion, sparsity)
    scale = max(fusion, sparsity)
    assert gap < 1e-4 * scale and abs(intercept_gap) < 1e-4 * scale
    # the least-squares answer is not optimal here: the check can fail
    ls = np.linalg.lstsq(np.c_[np.ones(len(Z)), Z] * np.sqrt(w)[:, None], y * np.sqrt(w))[0]
    assert subgradient_gap(Z, y, w, ls[0], ls[1:], fusion, sparsity)[0] > 1e-2 * scale


def test_a_dual_whose_newton_steps_stall_is_solved_all_the_same():
    """With both penalties the dual is singular: on these 78 perturbations of 41 byte ids
    the Newton steps had not converged when their 500 ran out, and the fit came back 4%
    above the minimum, with none of its zeros."""
    rng = np.random.default_rng(7)
    for _ in range(8):  # the audit's eighth draw
        n, ids = int(rng.integers(42, 120)), rng.integers(1, 257, size=41)
        m = rng.integers(1, 42, size=n)
        keep = rng.random((n, 41)).argsort(1) >= m[:, None]
        logit = keep[:, 20] * 3 + keep[:, 19] * 2 - 2
        y = 1 / (1 + np.exp(-logit)) + 0.01 * rng.normal(size=n)
    Z = (keep * ids).astype(float)
    a, b = fused_lasso(Z, y, 0.5, 1.0)
    gap, intercept_gap = subgradient_gap(Z, y, np.ones(n), a, b, 0.5, 1.0)
    assert gap < 1e-4 and abs(intercept_gap) < 1e-4


def test_flat_blocks_are_recovered_as_blocks():
    """41 byte positions in three flat blocks. Per coefficient the gradient noise has sd
    noise * sqrt(n var z) = 0.5, summed over a 14-long block about 2, so fusion = 10 fuses
    within blocks; the jumps carry n var(z) * jump * block = 100 * 0.2 * 13 >> 10 and stay.
    A block's level is pulled by at most fusion per neighbouring jump against a curvature
    of n var(z) * length: 2 * 10 / 1300 = 0.015, plus noise sd 0.05 / sqrt(1300)."""
    rng = np.random.default_rng(3)
    n, p, noise, fusion = 400, 41, 0.05, 10.0
    edges = [0, 14, 27, 41]
    levels = np.array([0.1, 0.4, -0.2])
    truth = np.repeat(levels, np.diff(edges))
    Z = (rng.uniform(size=(n, p)) < 0.5).astype(float)
    y = 0.3 + Z @ truth + noise * rng.normal(size=n)
    _, b = fused_lasso(Z, y, fusion)
    jumps = np.flatnonzero(np.abs(np.diff(b)) > 1e-6) + 1
    assert {14, 27} <= set(jumps) and len(jumps) <= 4
    assert np.unique(b.round(4)).size <= 5
    curvature = n * 0.25 * np.diff(edges)
    tolerance = 2 * fusion / curvature + 4 * noise / np.sqrt(curvature)
    means = np.array([b[lo:hi].mean() for lo, hi in pairwise(edges)])
    assert (np.abs(means - levels) < tolerance).all()
    assert np.unique(fused_lasso(Z, y, 0.0)[1].round(4)).size > 30  # unfused: no blocks


def test_huge_fusion_gives_one_block_the_least_squares_of_the_row_sums():
    """With every coefficient equal to beta, z.b = beta * sum(z): past a finite fusion the
    answer is exactly the one-variable least squares on the row sums."""
    Z, y, _ = presence_data(4, p=10)
    a, b = fused_lasso(Z, y, fusion=1e5)
    assert np.ptp(b) < 1e-6
    slope, intercept = np.polyfit(Z.sum(axis=1), y, 1)
    np.testing.assert_allclose([a, b.mean()], [intercept, slope], atol=1e-6)
    a, b = fused_lasso(Z, y, fusion=1e5, sparsity=20.0)  # one block, shrunk towards 0
    assert np.ptp(b) < 1e-6 and 0 < b[0] / slope < 1
    gap, intercept_gap = subgradient_gap(Z, y, np.ones(len(y)), a, b, 1e5, 20.0)
    assert gap < 1e-6 and abs(intercept_gap) < 1e-6


def test_integer_weights_are_repeated_rows():
    Z, y, rng = presence_data(5, n=60, p=8)
    w = rng.integers(1, 4, size=len(y))
    weighted = fused_lasso(Z, y, 2.0, 1.0, weights=w)
    repeated = fused_lasso(np.repeat(Z, w, axis=0), np.repeat(y, w), 2.0, 1.0)
    # absolute slack for coefficients that are 0 up to rounding (1e-14: 27 of 100 seeds)
    np.testing.assert_allclose(
        np.r_[weighted[0], weighted[1]], np.r_[repeated[0], repeated[1]], atol=1e-10
    )


def test_degenerate_inputs():
    Z, y, _ = presence_data(6, n=50, p=1)
    a, b = fused_lasso(Z, y, fusion=5.0)  # one column: no differences, least squares
    slope, intercept = np.polyfit(Z[:, 0], y, 1)
    np.testing.assert_allclose([a, b[0]], [intercept, slope], atol=1e-6)

    a, b = fused_lasso(np.ones((1, 4)), [2.5], fusion=1.0)  # one row: fitted by a constant
    assert a == 2.5 and (b == 0).all()
    a, b = fused_lasso(np.zeros((0, 4)), np.zeros(0), fusion=1.0)
    assert a == 0.0 and (b == 0).all()
    a, b = fused_lasso(Z, y, 1.0, weights=np.zeros(len(y)))  # no weight: the plain mean
    assert a == pytest.approx(y.mean()) and (b == 0).all()

    Z, y, _ = presence_data(7, n=80, p=6)
    Z[:, 2] = 1.0  # a constant column: the intercept's, its coefficient unidentified
    a, b = fused_lasso(Z, y, fusion=0.0)
    assert np.isfinite(b).all() and b[2] == 0.0
    keep = [0, 1, 3, 4, 5]
    ls = np.linalg.lstsq(np.c_[np.ones(len(Z)), Z[:, keep]], y)[0]
    np.testing.assert_allclose(np.r_[a, b[keep]], ls, atol=1e-6)
    gap, _ = subgradient_gap(Z, y, np.ones(len(y)), *fused_lasso(Z, y, 2.0, 0.5), 2.0, 0.5)
    assert gap < 1e-4

    with pytest.raises(ValueError, match="non-negative"):
        fused_lasso(Z, y, fusion=-1.0)


def test_an_admm_run_that_stops_short_of_its_tolerance_says_so():
    """Four rows of byte-id columns (a singular fit) under a small fusion: the last of its
    20,000 steps was returned quietly, 0.004 from optimal where the fusion is 0.01."""
    Z = np.array([[131, 49, 0, 114], [0, 49, 0, 114], [0, 49, 102, 0], [131, 0, 0, 0]], float)
    y = np.array([104.888, 0.878, 190.703, 35.747])
    with pytest.warns(RuntimeWarning, match="ADMM stopped after 20000 steps short of"):
        fused_lasso(Z, y, 0.01)
