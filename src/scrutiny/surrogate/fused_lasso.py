"""Fused-lasso linear regression, the per-component fit of LEMNA (Guo et al., CCS 2018).

Minimises over (a, b)

    0.5 sum_i w_i (y_i - a - z_i.b)^2 + fusion sum_l |b_l - b_{l-1}| + sparsity sum_l |b_l|

with the intercept a unpenalised. The intercept is profiled out by centring Z and y at
their weighted means (a = ybar - zbar.b holds at every optimum). With H = Z'WZ, g = Z'Wy and
D stacking the differences and the identity, each row with its penalty t_j, b solves the
dual, a quadratic programme in a box:

    v = argmin_{|v_j| <= t_j} 0.5 (g - D'v)' H^-1 (g - D'v),    b = H^-1 (g - D'v),

by projected Newton steps (Bertsekas 1982), exact once the binding constraints are found.
ADMM on the primal (Boyd et al. 2011) took 10^3-10^4 steps, 0.3 s, on 41 bytes' ids, whose
columns' scales differ by 256; L-BFGS-B on the dual took hundreds of steps. When H is
singular (a component with fewer rows than features, a constant column) there is no H^-1,
and ADMM solves the primal. When one block of equal coefficients meets the optimality
conditions (large fusions) it is returned directly.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import cho_factor, cho_solve

_RELAX = 1.6  # ADMM's over-relaxation, in Boyd et al.'s range 1.5-1.8
_ADMM_TOL, _ADMM_STEPS = 1e-8, 20000


def fused_lasso(Z, y, fusion, sparsity=0.0, weights=None, tol=1e-10, max_iter=500):
    """(intercept, coef) of the fused-lasso fit above; ``tol`` bounds the dual's projected
    gradient relative to its largest gradient at 0, ``max_iter`` caps the Newton steps.

    With fewer than two rows of positive weight, or a y constant to rounding over them, a
    constant fits exactly: the weighted mean and zero coefficients (the plain mean, or 0
    without rows, when no weight is positive)."""
    Z = np.asarray(Z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = Z.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if fusion < 0 or sparsity < 0 or (w < 0).any():
        raise ValueError("fusion, sparsity and weights must be non-negative")
    if np.count_nonzero(w) < 2:
        return _mean(y, w), np.zeros(p)
    z_bar, y_bar = w @ Z / w.sum(), w @ y / w.sum()
    Zc, yc = Z - z_bar, y - y_bar
    if np.sqrt(w @ yc**2 / w.sum()) <= 1e-12 * np.abs(y).max():
        # a constant up to rounding (an EM component of one output level): solved, its
        # coefficients were that rounding, 3e-33, which rankings then read as effects
        return float(y_bar), np.zeros(p)
    b = _solve(Zc.T @ (w[:, None] * Zc), Zc.T @ (w * yc), fusion, sparsity, tol, max_iter)
    return float(y_bar - z_bar @ b), b


def _mean(y, w):
    if w.sum() > 0:
        return float(w @ y / w.sum())
    return float(y.mean()) if y.size else 0.0


def _solve(H, g, fusion, sparsity, tol, max_iter):
    """b minimising 0.5 b'Hb - g'b + the penalties; H, g are the centred Z'WZ and Z'Wy."""
    p = len(g)
    scale = np.trace(H) / p  # H's typical curvature
    if scale <= 0 or not g.any():  # b = 0 meets the optimality conditions exactly
        return np.zeros(p)
    flat = _single_block(H, g, fusion, sparsity)
    if flat is not None:
        return flat
    D, thresholds = _penalty_rows(p, fusion, sparsity)
    if not len(D):  # least squares; a constant column (a zero row of H) gets 0
        return cho_solve(cho_factor(H + 1e-10 * scale * np.eye(p)), g)
    curvature = np.linalg.eigvalsh(H)
    if curvature[0] <= 1e-8 * curvature[-1]:  # no H^-1: fewer rows than columns, a constant
        return _admm(H, g, D, thresholds, scale, _ADMM_TOL, _ADMM_STEPS)
    factor = cho_factor(H)
    A = cho_solve(factor, D.T)  # H^-1 D'
    v, done = _box_qp(D @ A, A.T @ g, thresholds, tol, max_iter)
    if not done:  # both penalties make the dual singular, where Newton steps can stall
        return _admm(H, g, D, thresholds, scale, _ADMM_TOL, _ADMM_STEPS)
    return cho_solve(factor, g - D.T @ v)


def _box_qp(Q, q, t, tol, max_iter):
    """v minimising f(v) = 0.5 v'Qv - q'v over |v| <= t (the dual of the penalised fit):
    Bertsekas' (1982) projected Newton method. Bounds that the gradient pushes against are
    held; a Newton step on the others, projected on the box, with an Armijo search along
    the projection arc. On a quadratic it ends exactly once the binding set is found.
    Returns v and whether its projected gradient met ``tol`` within ``max_iter`` steps."""
    v = np.zeros(len(q))
    f = lambda v: 0.5 * v @ Q @ v - q @ v  # noqa: E731
    ridge = 1e-12 * max(np.abs(np.diag(Q)).max(), 1e-300)  # Q is singular with sparsity
    for steps in range(max_iter + 1):  # the last pass only checks
        r = Q @ v - q
        step = np.clip(v - r, -t, t) - v  # the projected gradient
        if np.abs(step).max() <= tol * max(np.abs(q).max(), 1e-300):
            return v, True
        if steps == max_iter:
            return v, False
        eps = min(np.linalg.norm(step), 1e-3 * t.min())
        held = ((v >= t - eps) & (r < 0)) | ((v <= -t + eps) & (r > 0))
        free = ~held
        d = -r * held / np.maximum(np.diag(Q), ridge)  # scaled gradient on the held
        if free.any():
            Qf = Q[np.ix_(free, free)] + ridge * np.eye(free.sum())
            d[free] = -cho_solve(cho_factor(Qf), r[free])
        f0, alpha = f(v), 1.0
        while True:
            trial = np.clip(v + alpha * d, -t, t)
            # Armijo on the arc: the held coordinates by the gradient, the free by Newton
            gain = r[free] @ (v - trial)[free] + r[held] @ (v - trial)[held]
            if f(trial) <= f0 - 1e-4 * gain or alpha < 1e-12:
                break
            alpha *= 0.5
        v = trial


def _admm(H, g, D, thresholds, scale, tol, max_iter):
    """The same minimum by ADMM on the split D b = c (Boyd et al. 2011), for a singular H:
    b <- (H + rho D'D + delta I)^-1 (g + rho D'(c - u) + delta b), c <- soft(D b + u),
    u <- u + D b - c, with D b over-relaxed (3.4.3). The proximal term delta (b - b_old)
    (Deng & Yin 2016) keeps the system positive definite and the fixed points unchanged."""
    p = len(g)
    # a heuristic: a large penalty takes a larger rho, so that the dual variable reaches
    # it in fewer steps (rho is fixed, so that H + rho D'D is factorised once)
    rho = scale * max(1.0, np.sqrt(thresholds.max() * p / np.abs(g).sum()))
    delta = 1e-6 * scale
    factor = cho_factor(H + rho * D.T @ D + delta * np.eye(p))
    b, c, u = np.zeros(p), np.zeros(len(D)), np.zeros(len(D))
    eps_abs = tol * np.linalg.norm(g)  # residuals in the units of the gradient
    for _ in range(max_iter):
        b_old, c_old = b, c
        b = cho_solve(factor, g + rho * D.T @ (c - u) + delta * b)
        Db = D @ b
        relaxed = _RELAX * Db + (1 - _RELAX) * c  # over-relaxation (Boyd et al. 3.4.3)
        c = _soft(relaxed + u, thresholds / rho)
        u = u + relaxed - c
        primal = rho * np.linalg.norm(Db - c)
        dual = np.linalg.norm(rho * D.T @ (c - c_old) + delta * (b - b_old))
        eps_pri = eps_abs + tol * rho * max(np.linalg.norm(Db), np.linalg.norm(c))
        eps_dual = eps_abs + tol * rho * np.linalg.norm(D.T @ u)
        if primal <= eps_pri and dual <= eps_dual:
            break
    else:  # its last iterate, which may be short of the minimum: said, not returned quietly
        warnings.warn(
            f"fused lasso: ADMM stopped after {max_iter} steps short of its tolerance (a "
            "singular fit with a small fusion penalty): the coefficients may not be the "
            "minimum",
            RuntimeWarning,
            stacklevel=4,  # the caller of fused_lasso
        )
    return b


def _single_block(H, g, fusion, sparsity):
    """All coefficients at one value beta, when that is optimal, else None. beta is the
    penalised fit of y on the row sums; it is optimal when Z'r - s = D'v for some
    |v| <= fusion, s = sparsity sign(beta): v = -cumsum(Z'r - s), Z'r = g - H b. Large
    fusions end here, which ADMM would reach slowly; p = 1 always does."""
    p = len(g)
    curvature = H.sum()  # 1'H1
    if curvature <= 0:
        return None
    beta = _soft(g.sum(), p * sparsity) / curvature
    if beta == 0 and sparsity > 0:  # s free in [-sparsity, sparsity]: left to ADMM
        return None
    b = np.full(p, beta)
    v = -np.cumsum(g - H @ b - sparsity * np.sign(beta))
    return b if (np.abs(v[:-1]) <= fusion).all() else None


def _penalty_rows(p, fusion, sparsity):
    """D's rows (adjacent differences, then the identity) with their penalties; a penalty
    of 0 contributes no rows."""
    rows, thresholds = [], []
    if fusion > 0 and p > 1:
        rows.append(np.eye(p, k=1)[:-1] - np.eye(p)[:-1])
        thresholds.append(np.full(p - 1, float(fusion)))
    if sparsity > 0:
        rows.append(np.eye(p))
        thresholds.append(np.full(p, float(sparsity)))
    if not rows:
        return np.zeros((0, p)), np.zeros(0)
    return np.vstack(rows), np.concatenate(thresholds)


def _soft(x, t):
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)
