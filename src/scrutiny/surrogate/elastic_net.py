"""The Bayesian elastic-net prior of Li & Lin (2010), in numerically stable form.

For one coefficient, given the noise variance s2 and penalties (lam1, lam2),

    p(b | s2) = exp(-(lam1 |b| + lam2 b^2) / (2 s2)) / C(s2),
    log C(s2) = 0.5 log(2 pi s2 / lam2) + log erfcx(lam1 / sqrt(8 lam2 s2)).

The scaled complementary error function erfcx absorbs the exp(a) Phi(-sqrt(2a)) pair, which
overflows and underflows when written naively (and the normaliser enters raised to the p-th
power, p = 784 on MNIST).

As a scale mixture: b | u, s2 ~ N(0, s2 / (lam2 (1 + u))) with u = 1 / (tau - 1) and
tau ~ Gamma(1/2, rate a) truncated to (1, inf), a = lam1^2 / (8 lam2 s2). Given b, u is inverse
Gaussian with mean lam1 / (2 lam2 |b|) and shape lam1^2 / (4 lam2 s2). Storing u rather than
tau keeps the prior precision lam2 (1 + u) finite when b is tiny (tau would round to 1).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx

_SQRT_PI = np.sqrt(np.pi)


def log_erfcx(x):
    """log(erfcx(x)) for x >= 0; finite for every finite x."""
    return np.log(erfcx(x))


def log_normalizer(s2, lam1, lam2):
    """log C(s2) per coefficient (see module docstring); broadcasts."""
    s2 = np.asarray(s2, dtype=float)
    x = lam1 / np.sqrt(8.0 * lam2 * s2)
    return 0.5 * np.log(2.0 * np.pi * s2 / lam2) + log_erfcx(x)


def log_density(abs_sum, sq_sum, n_coef, s2, lam1, lam2):
    """Log elastic-net prior density of a coefficient vector from its sufficient statistics.

    abs_sum = sum |b|, sq_sum = sum b^2, n_coef = its length; broadcasts over components
    and nets. With lam1 = 0 it is the ridge prior N(0, s2 / lam2).
    """
    quad = (lam1 * abs_sum + lam2 * sq_sum) / (2.0 * s2)
    return -quad - n_coef * log_normalizer(s2, lam1, lam2)


def tangent_ratio(x):
    """r(x) = 1 / (sqrt(pi) x erfcx(x)) - 1, for x > 0, without cancellation at large x.

    The derivative of -log erfcx(sqrt(c t)) in t is c r(sqrt(c t)).
    """
    x = np.asarray(x, dtype=float)
    big = x > 100.0
    xs = np.where(big, 1.0, x)
    direct = 1.0 / (_SQRT_PI * xs * erfcx(xs)) - 1.0
    inv2 = 1.0 / np.where(big, x, 1.0) ** 2
    series = inv2 * (0.5 + inv2 * (-0.5 + 1.25 * inv2))
    return np.where(big, series, direct)
