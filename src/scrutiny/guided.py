"""Guided local explanations: the global surrogate's regime as the prior of a small local fit.

For an input x whose global component says "removing feature f moves the logit by
mu0_f = beta_f z_f(x)", a few perturbations of x (subsets of its features switched off)
correct that guess with a Bayesian linear regression on the presence indicators K:

    y = a + K gamma + e,   e ~ N(0, s2),   gamma - mu0 ~ N(0, (s2 / lam) I)

The intercept is flat (the data are centred), s2 is profiled out, and lam, how far the local
effects may stray from the global ones, is chosen by maximising the marginal likelihood
over a grid. With n perturbations and q features everything goes through the n x n matrix
K K' (one eigendecomposition), so it costs O(n^2 q) whatever q is.
"""

from __future__ import annotations

import numpy as np

LAMBDAS = np.logspace(-3, 4, 29)


def refine(K, y, prior_mean, lambdas=LAMBDAS):
    """Posterior of the local effects.

    K : (n, q) presence indicators (or any design); y : (n,) responses;
    prior_mean : (q,) the global guess of each effect.
    Returns (mean, sd, intercept, lam): posterior mean and sd of gamma, the fitted
    intercept, and the chosen prior precision ratio.
    """
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mu0 = np.asarray(prior_mean, dtype=np.float64)
    n = len(y)
    Kc = K - K.mean(axis=0)
    r = y - K @ mu0
    rc = r - r.mean()
    e, U = np.linalg.eigh(Kc @ Kc.T)
    e = np.maximum(e, 0.0)
    proj2 = (U.T @ rc) ** 2
    dof = n - 1  # one direction (the constant) is taken by the intercept
    best = None
    for lam in lambdas:
        shrink = 1.0 + e / lam
        s2 = (proj2 / shrink).sum() / dof
        log_ev = -0.5 * dof * np.log(max(s2, 1e-300)) - 0.5 * np.log(shrink).sum()
        if best is None or log_ev > best[0]:
            best = (log_ev, lam, s2)
    _, lam, s2 = best
    w = U @ ((U.T @ rc) / (e + lam))  # (Kc Kc' + lam I)^-1 rc
    delta = Kc.T @ w
    mean = mu0 + delta
    # posterior covariance (s2 / lam) (I - Kc' (Kc Kc' + lam I)^-1 Kc): its diagonal
    V = Kc.T @ U
    var = (s2 / lam) * (1.0 - (V**2 / (e + lam)).sum(axis=1))
    intercept = float((y - K @ mean).mean())
    return mean, np.sqrt(np.maximum(var, 0.0)), intercept, float(lam)
