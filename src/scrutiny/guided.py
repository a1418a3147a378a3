"""Guided local explanations: the global surrogate's regime as the prior of a small local fit.

For an input x whose global component says "removing feature f moves the logit by
mu0_f = beta_f z_f(x)", a few perturbations of x (subsets of its features switched off)
correct that guess with a Bayesian linear regression on the presence indicators K:

    y = a + K gamma + e,   e ~ N(0, s2),   gamma - mu0 ~ N(0, (s2 / lam) I)

The intercept is flat (the data are centred), s2 is profiled out, and lam, how far the local
effects may stray from the global ones, is chosen by maximising the marginal likelihood
over a grid. One eigendecomposition of the q x q matrix Kc' Kc serves every lam, so a fit
of n perturbations of q features costs O(n q^2 + q^3).

The perturbations need not be fixed in advance: ``thompson_deletions`` designs the next
ones from the posterior so far (Thompson sampling), each switching off the top features of
one posterior draw of the effects, so that queries go to the features whose rank at the
top is still in doubt. The posterior stays exact: the design depends only on responses
already seen.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

from scrutiny._parallel import one_blas_thread

LAMBDAS = np.logspace(-3, 4, 29)
# A designed perturbation also switches off each other feature with this probability, so
# that features ranked together are not always removed together; where it may switch off
# under 40% of the features, with max_rate / 8: the extras then stay an eighth of the most it
# may switch off, not 5% of every feature (max_off = 20 of 400 Fashion-MNIST pixels added 19).
EXTRA_OFF = 0.05
# A designed perturbation switches off a share ~ U(DESIGNED_MIN_SHARE, 1) of the most a
# random one may: the random first share already measures small deletions, and the rounds
# are there to settle which features belong at the top together. On the MNIST MLP (100
# queries, global fits of 4 seeds, 3 sets of 200 test digits) deduction PCR at k=20 went
# from 0.148 / 0.143 / 0.161 with U(0, 1) to 0.140 / 0.131 / 0.149 (docs/benchmarks.md).
DESIGNED_MIN_SHARE = 0.5


class _Posterior(NamedTuple):
    mean: np.ndarray  # (q,)
    V: np.ndarray  # (q, q) eigenvectors of Kc' Kc
    e: np.ndarray  # (q,) its eigenvalues
    lam: float
    s2: float
    t: np.ndarray  # (q,) V' Kc' rc, the data's projection
    mu0: np.ndarray  # (q,) the prior mean
    lams: np.ndarray  # (L,) the grid of lam
    s2s: np.ndarray  # (L,) s2 at each lam
    weights: np.ndarray  # (L,) each lam's evidence, normalised (a flat prior on the grid)


def _posterior(K, y, prior_mean, lambdas):
    """The posterior of gamma at the lam of largest evidence: its covariance is
    s2 (lam I + Kc' Kc)^-1 = s2 V diag(1 / (e + lam)) V'."""
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mu0 = np.asarray(prior_mean, dtype=np.float64)
    Kc = K - K.mean(axis=0)
    r = y - K @ mu0
    rc = r - r.mean()
    e, V = np.linalg.eigh(Kc.T @ Kc)
    e = np.maximum(e, 0.0)
    t = V.T @ (Kc.T @ rc)
    rr = rc @ rc
    dof = len(y) - 1  # one direction (the constant) is taken by the intercept
    # every lam at once (a row each: a loop over them was half the time of a guided fit);
    # rc' (I + Kc Kc' / lam)^-1 rc and log det(I + Kc Kc' / lam), through Kc' Kc
    lams = np.asarray(lambdas, dtype=np.float64)[:, None]
    s2 = np.maximum(rr - (t**2 / (e + lams)).sum(axis=1), 1e-300) / dof
    log_ev = -0.5 * dof * np.log(s2) - 0.5 * np.log1p(e / lams).sum(axis=1)
    best = int(np.argmax(log_ev))  # the first of equals, as the loop over lam kept it
    lam = float(lams[best, 0])
    weights = np.exp(log_ev - log_ev[best])
    return _Posterior(
        mu0 + V @ (t / (e + lam)),
        V,
        e,
        lam,
        s2[best],
        t,
        mu0,
        lams[:, 0],
        s2,
        weights / weights.sum(),
    )


def refine(K, y, prior_mean, lambdas=LAMBDAS):
    """Posterior of the local effects.

    K : (n, q) presence indicators (or any design); y : (n,) responses;
    prior_mean : (q,) the global guess of each effect.
    Returns (mean, sd, intercept, lam): posterior mean and sd of gamma, the fitted
    intercept, and the chosen prior precision ratio.

    The mean is the posterior's at the lam of largest evidence; the sd is the spread about
    it of the posterior averaged over the grid of lam, each weighted by its evidence: the
    sd at that lam alone took it as known, and where the evidence ran to a large lam (the
    global guess near the truth), 95% intervals held 60% of effects drawn from the model
    itself (89% now; at lam 1 and 0.01, 94-96% either way).
    """
    p = _posterior(K, y, prior_mean, lambdas)
    lams = p.lams[:, None]
    means = p.mu0 + (p.t / (p.e + lams)) @ p.V.T  # (L, q): each lam's posterior mean
    spread = p.s2s[:, None] * ((1.0 / (p.e + lams)) @ (p.V**2).T)  # (L, q): no (L, q, q)
    var = p.weights @ (spread + (means - p.mean) ** 2)
    intercept = float((np.asarray(y, float) - np.asarray(K, float) @ p.mean).mean())
    return p.mean, np.sqrt(var), intercept, p.lam


def random_deletions(q, n, max_rate, rng):
    """(n, q) bool: which features each of n random perturbations keeps. Row 0 keeps all
    (the input itself); each other row switches features off with its own rate
    ~ U(0, max_rate), so that small and large deletions are both seen."""
    rate = max_rate * rng.uniform(size=(n, 1))
    keep = rng.uniform(size=(n, q)) >= rate
    keep[0] = True
    return keep


def designed_fits(first, prior, max_rate, rngs, rounds, respond, signs=None):
    """``refine`` results (mean, sd, intercept, lam) for several inputs at once. Input i
    starts from the perturbations ``first[i]`` ((n, q_i) bool keeps); then, for each size in
    ``rounds``, that many more designed by ``thompson_deletions`` (share ``max_rate[i]``,
    generator ``rngs[i]``) to switch off the top effects of ``signs[i]`` times the response
    (+1 by default; -1: the top effects against it, a binary model's other class).
    ``respond(keeps)`` returns the responses to a list of keeps, one per input, so that each
    round can query the model once for all of them.

    The q x q algebra runs on one BLAS thread (the model's calls on as many as it likes):
    at q = 80 more threads only wait, and the results then do not depend on the machine's
    core count. On 2 cores a guided explain of 200 MNIST digits then took half the CPU
    time, and 2.0-2.6 s instead of 2.5-3.8 s."""
    keep = list(first)
    y = respond(keep)
    signs = [1.0] * len(keep) if signs is None else signs
    for size in filter(None, rounds):
        with _one_blas_thread():
            new = [
                thompson_deletions(k, s * r, s * p, size, m, g)
                for k, r, p, m, g, s in zip(keep, y, prior, max_rate, rngs, signs, strict=True)
            ]
        keep = [np.concatenate(pair) for pair in zip(keep, new, strict=True)]
        y = [np.concatenate(pair) for pair in zip(y, respond(new), strict=True)]
    with _one_blas_thread():
        return [refine(k.astype(float), r, p) for k, r, p in zip(keep, y, prior, strict=True)]


@cache
def _blas():
    """numpy's BLAS, found once: threadpool_limits looks for it at every call (3 ms with
    torch loaded, 49 calls for 200 inputs)."""
    return ThreadpoolController()


def _one_blas_thread():
    return one_blas_thread(_blas(), user_api="blas")


def thompson_deletions(K, y, prior_mean, n, max_rate, rng, lambdas=LAMBDAS):
    """(n, q) bool: which features each of n new perturbations keeps. Each draws the effects
    from the posterior given (K, y) and switches off its top ones, a share ~ U(max_rate *
    DESIGNED_MIN_SHARE, max_rate) of the q (at least one), and each other feature with
    probability ``min(EXTRA_OFF, max_rate / 8)``."""
    p = _posterior(K, y, prior_mean, lambdas)
    q = p.mean.size
    draws = p.mean + (rng.standard_normal((n, q)) * np.sqrt(p.s2 / (p.e + p.lam))) @ p.V.T
    share = rng.uniform(DESIGNED_MIN_SHARE, 1.0, size=n)
    n_off = np.maximum(1, np.rint(max_rate * q * share)).astype(np.int64)
    rank = np.argsort(np.argsort(-draws, axis=1, kind="stable"), axis=1, kind="stable")
    extra = min(EXTRA_OFF, max_rate / 8)
    return (rank >= n_off[:, None]) & (rng.uniform(size=(n, q)) >= extra)
