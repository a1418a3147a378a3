"""Convergence diagnostics: rank-normalised split R-hat and bulk effective sample size.

Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), vectorised over parameters. Input
arrays are (chains, draws, *parameter_shape).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri


def _split(x):
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def average_ranks(a):
    """1-based ranks along axis 0, ties sharing their mean rank; NaN where a slice has a NaN.

    What ``scipy.stats.rankdata(a, axis=0)`` returns, without importing scipy.stats (0.6 s,
    paid again by every worker process that fits a surrogate), and sorting contiguous rows.
    """
    b = np.ascontiguousarray(np.moveaxis(np.asarray(a, dtype=float), 0, -1))
    order = np.argsort(b, axis=-1)
    s = np.take_along_axis(b, order, axis=-1)
    n = b.shape[-1]
    pos = np.broadcast_to(np.arange(n), b.shape)
    diff = s[..., 1:] != s[..., :-1]
    edge = np.ones((*b.shape[:-1], 1), dtype=bool)
    first = np.concatenate([edge, diff], axis=-1)  # a tie group starts here
    last = np.concatenate([diff, edge], axis=-1)  # a tie group ends here
    start = np.maximum.accumulate(np.where(first, pos, 0), axis=-1)
    end = np.minimum.accumulate(np.where(last, pos, n - 1)[..., ::-1], axis=-1)[..., ::-1]
    ranks = np.empty(b.shape)
    np.put_along_axis(ranks, order, (start + end) / 2.0 + 1.0, axis=-1)
    ranks[np.isnan(b).any(axis=-1)] = np.nan
    return np.moveaxis(ranks, -1, 0)


def _rank_normalize(x):
    flat = x.reshape(-1, *x.shape[2:])
    ranks = average_ranks(flat)
    z = ndtri((ranks - 0.375) / (flat.shape[0] + 0.25))
    return z.reshape(x.shape)


def _rhat_basic(x):
    n = x.shape[1]
    chain_var = x.var(axis=1, ddof=1)
    within = chain_var.mean(axis=0)
    between = n * x.mean(axis=1).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between / n
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(var_plus / within)
    r = np.where(within > 0, r, np.where(between > 0, np.inf, 1.0))
    return np.where(np.isnan(within) | np.isnan(between), np.nan, r)  # not "converged"


def split_rhat(x):
    """max(bulk, tail) rank-normalised split R-hat, per parameter (needs >= 4 draws)."""
    x = np.asarray(x, dtype=float)
    if x.shape[1] < 4:
        raise ValueError("R-hat needs at least 4 draws per chain")
    bulk = _rhat_basic(_rank_normalize(_split(x)))
    # folded about the median of every draw, the middle one of an odd chain too (which
    # the split leaves out), as Vehtari et al.'s posterior package does; arviz takes the
    # median of the split draws, which differs for odd chains (by 0.003 at 101 draws)
    med = np.median(x.reshape(-1, *x.shape[2:]), axis=0)
    # ranks take infinite draws (prior draws beyond float32, under a vague noise prior); a
    # draw at an infinite median is at distance 0 from it, where inf - inf says NaN
    with np.errstate(invalid="ignore"):
        folded = np.where(x == med, 0.0, np.abs(x - med))
    tail = _rhat_basic(_rank_normalize(_split(folded)))
    return np.maximum(bulk, tail)


def _autocovariance(x):
    n = x.shape[1]
    centered = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centered, n=size, axis=1)
    return np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n


def effective_sample_size(x):
    """Bulk ESS (Geyer's initial monotone sequence on rank-normalised split chains), as
    arviz's ``ess(method="bulk")``: a parameter constant in every draw gets the number of
    split draws, as there, and NaN where a draw is NaN. Needs >= 4 draws per chain."""
    x = np.asarray(x, dtype=float)
    if x.shape[1] < 4:
        raise ValueError("ESS needs at least 4 draws per chain")
    x = _rank_normalize(_split(x))
    m, n = x.shape[:2]
    acov = _autocovariance(x)
    within = (acov[:, 0] * n / (n - 1)).mean(axis=0)
    var_plus = within * (n - 1) / n + x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # pairs of lags (2k, 2k + 1) up to lag n - 2 only (k <= last), as arviz: summed to lag
    # n - 1 they put some short chains' ESS a third or more below arviz's
    last = max((n - 3) // 2, 0)
    sums = rho[0 : 2 * last + 2 : 2] + rho[1 : 2 * last + 2 : 2]
    positive = np.cumprod(sums > 0, axis=0).astype(bool)
    # the pair that ends the sequence: the first that is not positive, else the last one
    # (arviz stops there even if it is positive); the pairs before it count, monotone
    end = np.minimum(positive.sum(axis=0), last)
    before = np.arange(last + 1).reshape((-1,) + (1,) * end.ndim) < end
    monotone = np.minimum.accumulate(np.where(positive, sums, np.inf), axis=0)
    # the ending pair's even lag counts once where it is positive (Vehtari et al. 2021), or,
    # as in arviz, where that pair is not negative (arviz then adds it even if negative)
    end_sum = np.take_along_axis(sums, end[None], axis=0)[0]
    even = np.take_along_axis(rho, 2 * end[None], axis=0)[0]
    tail = np.where((end_sum >= 0) | (even > 0), even, 0.0)
    tau = -1.0 + 2.0 * np.where(before, monotone, 0.0).sum(axis=0) + tail
    tau = np.maximum(tau, 1.0 / np.log10(m * n))
    constant = x.min(axis=(0, 1)) == x.max(axis=(0, 1))
    return np.where(np.isnan(var_plus), np.nan, np.where(constant, m * n, m * n / tau))
