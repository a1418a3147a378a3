"""Synthetic data with a known answer, shared by the surrogate tests."""

import numpy as np


def sparse_mixture(seed=0, n=3000, p=50, n_regimes=3, n_active=10, noise=0.1):
    """y from one of 3 sparse linear regimes: 10 of 50 features each, |coef| in [1, 2]."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    coef = np.zeros((n_regimes, p))
    n_active = min(n_active, p)
    support = [rng.choice(p, n_active, replace=False) for _ in range(n_regimes)]
    for k, s in enumerate(support):
        coef[k, s] = rng.uniform(1, 2, n_active) * rng.choice([-1, 1], n_active)
    intercept = np.array([0.0, 1.0, -1.0])[:n_regimes]
    z = rng.integers(n_regimes, size=n)
    y = intercept[z] + (Z * coef[z]).sum(axis=1) + noise * rng.standard_normal(n)
    return Z, y, z, coef, support
