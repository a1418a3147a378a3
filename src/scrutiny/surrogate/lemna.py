"""LEMNA's local surrogate (Guo et al., CCS 2018): a mixture of K linear regressions fitted
by EM, each regression a fused lasso, so that adjacent features (adjacent bytes) share
coefficients.

EM as in the paper's appendix and its reimplementations: the E-step weighs each row by
pi_k N(y_i; a_k + z_i.b_k, s2_k); the M-step sets pi_k to the mean responsibility, fits
(a_k, b_k) by fused lasso on the rows assigned to k (argmax responsibility), and s2_k to
the responsibility-weighted mean squared residual.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from scrutiny.surrogate.fused_lasso import fused_lasso

_HISTORY = 3  # log-likelihoods the last one is compared with, as the reimplementation does


class LemnaMixture:
    """Mixture of ``n_components`` fused-lasso regressions of y on Z.

    ``fusion=None`` is the authors' released default, genlasso's ``fusedlasso1d`` read at
    lambda = sqrt(n log p), n the rows of that component's fit. EM starts from a random
    assignment of the rows to the components (``random_state``: a seed or a numpy
    Generator) and stops when the log-likelihood is within ``tol`` of each of the last 3
    values, or after ``max_iter`` iterations.

    A component left without assigned rows keeps its last regression (at the start: the
    mean of y, zero coefficients); one whose weight falls to 0 (as one assigned no rows at
    the start does) stays at weight 0 and is never chosen again: it is not re-seeded.
    """

    def __init__(self, n_components=3, fusion=None, max_iter=100, tol=1e-2, random_state=0):
        self.n_components = n_components
        self.fusion = fusion
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, Z, y):
        Z, y = _check(Z, y)
        K, (n, p) = self.n_components, Z.shape
        rng = np.random.default_rng(self.random_state)
        self.variance_floor_ = _variance_floor(y)
        resp = np.eye(K)[rng.integers(K, size=n)]  # the random initial assignment
        self.intercept_ = np.full(K, y.mean())
        self.coef_ = np.zeros((K, p))
        self.noise_var_ = np.full(K, max(y.var(), self.variance_floor_))
        history = []
        for it in range(1, self.max_iter + 1):
            self.n_iter_ = it
            self._m_step(Z, y, resp)
            log_joint = self._log_joint(Z, y)
            self.log_likelihood_ = float(logsumexp(log_joint, axis=1).sum())
            resp = _normalise(log_joint)
            if len(history) >= _HISTORY and all(
                abs(self.log_likelihood_ - h) < self.tol for h in history[-_HISTORY:]
            ):
                break
            history.append(self.log_likelihood_)
        self.labels_ = resp.argmax(axis=1)
        return self

    def responsibilities(self, Z, y):
        """(n, K) posterior probabilities of the components for rows (Z, y)."""
        Z, y = _check(Z, y)
        return _normalise(self._log_joint(Z, y))

    def predict(self, Z):
        """(n, K) each component's regression of the rows."""
        return self.intercept_ + np.asarray(Z, dtype=np.float64) @ self.coef_.T

    def _m_step(self, Z, y, resp):
        self.weights_ = resp.mean(axis=0)
        assigned = resp.argmax(axis=1)
        for k in range(self.n_components):
            rows = assigned == k
            if rows.any():  # otherwise the last regression stays
                self.intercept_[k], self.coef_[k] = fused_lasso(
                    Z[rows], y[rows], self._fusion(rows.sum(), Z.shape[1])
                )
        mass = resp.sum(axis=0)
        sq = (resp * (y[:, None] - self.predict(Z)) ** 2).sum(axis=0)
        held = mass > 0
        self.noise_var_[held] = sq[held] / mass[held]
        self.noise_var_ = np.maximum(self.noise_var_, self.variance_floor_)

    def _fusion(self, n, p):
        return np.sqrt(n * np.log(p)) if self.fusion is None else self.fusion

    def _log_joint(self, Z, y):
        """(n, K) log pi_k + log N(y_i; fit_ik, s2_k); a weight of 0 gives -inf."""
        s2 = self.noise_var_
        log_density = -0.5 * (np.log(2 * np.pi * s2) + (y[:, None] - self.predict(Z)) ** 2 / s2)
        with np.errstate(divide="ignore"):
            return np.log(self.weights_) + log_density


def _check(Z, y):
    Z, y = np.asarray(Z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if Z.ndim != 2 or y.shape != (len(Z),) or Z.size == 0:
        raise ValueError(
            f"expected Z (n, p) and y (n,) with n, p > 0, got shapes {Z.shape} and {y.shape}"
        )
    return Z, y


def _variance_floor(y):
    """A noise variance no component goes below, so that a component fitting its rows
    exactly keeps finite densities; any positive value serves when y is constant."""
    v = y.var()
    return 1e-6 * v if v > 0 else 1e-6


def _normalise(log_joint):
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
