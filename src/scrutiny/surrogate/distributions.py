"""Exact random variates the Gibbs sampler needs and numpy does not provide stably.

Each function takes an explicit ``numpy.random.Generator`` and works on arrays.
"""

from __future__ import annotations

import numpy as np

from scrutiny.surrogate.elastic_net import log_erfcx, tangent_ratio

_MAX_REJECTION_ROUNDS = 10_000


def log_gamma_variates(rng, shape):
    """log of Gamma(shape, 1) draws, exact without underflow for small shapes.

    Uses Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia & Tsang), in logs.
    """
    shape = np.asarray(shape, dtype=float)
    g = rng.gamma(shape + 1.0)
    return np.log(g) + np.log(rng.random(shape.shape)) / shape


def log_dirichlet(rng, alpha):
    """log of a Dirichlet(alpha) draw; of one per row when ``alpha`` is 2-D."""
    lg = log_gamma_variates(rng, alpha)
    top = lg.max(axis=-1, keepdims=True)
    return lg - (top + np.log(np.exp(lg - top).sum(axis=-1, keepdims=True)))


def inverse_gaussian(rng, mean, shape):
    """Inverse Gaussian (Wald) draws by Michael, Schucany & Haas (1976).

    numpy's ``Generator.wald`` cancels catastrophically when mean / shape is large (it can
    return 0 or negative values); here the smaller root is written as
    mean / (1 + r + sqrt(r (r + 2))) with r = mean nu^2 / (2 shape), which is stable.
    """
    mean, shape = np.broadcast_arrays(np.asarray(mean, float), np.asarray(shape, float))
    nu2 = rng.standard_normal(mean.shape) ** 2
    r = mean * nu2 / (2.0 * shape)
    with np.errstate(over="ignore"):  # r (r + 2) overflows beyond r ~ 1e154: then split it
        root = np.where(r < 1e150, np.sqrt(r * (r + 2.0)), np.sqrt(r) * np.sqrt(r + 2.0))
    x = mean / (1.0 + r + root)
    flip = rng.random(mean.shape) * (mean + x) > mean
    with np.errstate(over="ignore"):  # the branch not taken may overflow
        return np.where(flip, mean * (mean / x), x)


def truncated_gamma_excess(rng, rate):
    """v = tau - 1 for tau ~ Gamma(1/2, rate) truncated to (1, inf), by rejection.

    rate < 1: draw tau from the untruncated Gamma until tau > 1 (acceptance erfc(sqrt(rate))
    >= 0.157). rate >= 1: draw v ~ Exp(rate) and accept with (1 + v)^(-1/2) (acceptance
    sqrt(pi rate) erfcx(sqrt(rate)) >= 0.757).
    """
    rate = np.asarray(rate, dtype=float)
    out = np.empty(rate.shape)
    todo = np.arange(rate.size)
    flat = rate.reshape(-1)
    for _ in range(_MAX_REJECTION_ROUNDS):
        if todo.size == 0:
            return out
        r = flat[todo]
        small = r < 1.0
        with np.errstate(over="ignore"):  # a rate near 0 gives v = inf, its limit
            v = np.where(
                small,
                rng.gamma(0.5, 1.0, todo.size) / r - 1.0,
                rng.exponential(1.0, todo.size) / r,
            )
        u = rng.random(todo.size)
        ok = np.where(small, v > 0, u * u * (1.0 + v) <= 1.0)
        out.flat[todo[ok]] = v[ok]
        todo = todo[~ok]
    raise RuntimeError("truncated gamma rejection sampler did not finish")


def noise_precision(rng, shape, rate, n_coef, c):
    """Draw t > 0 with density proportional to t^(shape-1) exp(-rate t) erfcx(sqrt(c t))^(-n_coef).

    This is the exact conditional of 1 / sigma^2 under the elastic-net prior with the
    coefficients integrated out (see ``kernel``). -n_coef log erfcx(sqrt(c t)) is concave
    in t, so the density is log-concave and its tangent at the mode bounds it: propose from
    Gamma(shape, rate - g'(t0)) and accept with exp(g(t) - g(t0) - g'(t0) (t - t0)).
    Needs shape > 1 where c > 0. Where c == 0 or n_coef == 0 it is Gamma(shape, rate).
    """
    shape, rate, n_coef, c = (np.asarray(v, dtype=float) for v in (shape, rate, n_coef, c))
    shape, rate, n_coef, c = np.broadcast_arrays(shape, rate, n_coef, c)
    out = np.empty(shape.shape)
    plain = (c == 0) | (n_coef == 0)
    out[plain] = rng.gamma(shape[plain]) / rate[plain]
    idx = np.flatnonzero(~plain)
    if idx.size == 0:
        return out
    A, B, p, cc = shape.flat[idx], rate.flat[idx], n_coef.flat[idx], c.flat[idx]
    if np.any(A <= 1.0):
        raise ValueError("noise_precision needs shape > 1 when the elastic-net term is present")
    t0 = _tangent_point(A, B, p, cc)
    slope = cc * p * tangent_ratio(np.sqrt(cc * t0))
    prop_rate = B - slope
    g0 = -p * log_erfcx(np.sqrt(cc * t0))
    todo = np.arange(idx.size)
    for _ in range(_MAX_REJECTION_ROUNDS):
        if todo.size == 0:
            return out
        t = rng.gamma(A[todo]) / prop_rate[todo]
        log_acc = (
            -p[todo] * log_erfcx(np.sqrt(cc[todo] * t)) - g0[todo] - slope[todo] * (t - t0[todo])
        )
        ok = np.log(rng.random(todo.size)) <= log_acc
        out.flat[idx[todo[ok]]] = t[ok]
        todo = todo[~ok]
    raise RuntimeError("noise-precision rejection sampler did not finish")


def _tangent_point(A, B, p, c):
    """A point just above the mode of the log-concave noise-precision density.

    The mode solves F(t) = (A - 1) - B t + t g'(t) = 0 with 0 <= t g'(t) <= p / 2, so it
    lies in [(A - 1) / B, (A - 1 + p / 2) / B]; bisect in log t and return the upper end,
    where F < 0 guarantees a positive proposal rate B - g'(t) > (A - 1) / t. Bisection stops
    once the bracket is a tenth of the sd of log t (about 1 / sqrt(A)): the tangent then
    touches within 0.1 sd of the mode, which costs under 1% of the acceptance rate.
    """
    lo = np.log((A - 1.0) / B)
    hi = np.log((A - 1.0 + 0.5 * p) / B) + 1e-9
    tol = 0.1 / np.sqrt(A)
    while np.any(hi - lo > tol):
        mid = 0.5 * (lo + hi)
        t = np.exp(mid)
        x = np.sqrt(c * t)
        F = (A - 1.0) - B * t + p * x * x * tangent_ratio(x)
        pos = F > 0
        lo = np.where(pos, mid, lo)
        hi = np.where(pos, hi, mid)
    return np.exp(hi)


_MAX_SHRINKS = 2000  # halvings of the interval: far past float64's resolution of x0


def slice_sample(rng, logf, x0, width=1.0, max_steps=50):
    """One univariate slice-sampling update (Neal 2003: stepping out, then shrinkage) of
    each element of ``x0``, independently; ``logf`` maps an array to its elements' log
    densities. All elements step together, so a sweep costs the slowest one's evaluations
    of a vectorised ``logf``, not their sum. A log density that is not finite at x0 is an
    error: its slice has no point to find."""
    x0 = np.asarray(x0, dtype=float)
    f0 = logf(x0)
    if not np.isfinite(f0).all():
        raise FloatingPointError(
            f"slice sampling from a point of log density {f0[~np.isfinite(f0)][0]}"
        )
    log_y = f0 + np.log(rng.random(x0.shape))
    left = x0 - width * rng.random(x0.shape)
    right = left + width
    steps_left = rng.integers(max_steps, size=x0.shape)
    steps_right = max_steps - 1 - steps_left
    for edge, steps, sign in ((left, steps_left, -1.0), (right, steps_right, 1.0)):
        out = steps > 0
        while out.any():
            out &= logf(edge) > log_y
            edge += sign * width * out
            steps -= out
            out &= steps > 0
    x1, todo = x0.copy(), np.ones(x0.shape, dtype=bool)
    for _ in range(_MAX_SHRINKS):  # the interval closes on x0, which is in the slice
        if not todo.any():
            break
        trial = left + (right - left) * rng.random(x0.shape)
        inside = todo & (logf(trial) > log_y)
        x1[inside] = trial[inside]
        todo &= ~inside
        below = trial < x0
        left = np.where(todo & below, trial, left)
        right = np.where(todo & ~below, trial, right)
    return x1
