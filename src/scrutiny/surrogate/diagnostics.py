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
    return np.where(within > 0, r, np.where(between > 0, np.inf, 1.0))


def split_rhat(x):
    """max(bulk, tail) rank-normalised split R-hat, per parameter (needs >= 4 draws)."""
    x = np.asarray(x, dtype=float)
    if x.shape[1] < 4:
        raise ValueError("R-hat needs at least 4 draws per chain")
    bulk = _rhat_basic(_rank_normalize(_split(x)))
    # folded about the median of every draw, the middle one of an odd chain too (which
    # the split leaves out), as Vehtari et al. and arviz define it
    folded = np.abs(x - np.median(x.reshape(-1, *x.shape[2:]), axis=0))
    tail = _rhat_basic(_rank_normalize(_split(folded)))
    return np.maximum(bulk, tail)


def _autocovariance(x):
    n = x.shape[1]
    centered = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centered, n=size, axis=1)
    return np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n


def effective_sample_size(x):
    """Bulk ESS (Geyer's initial monotone sequence on rank-normalised split chains)."""
    x = _rank_normalize(_split(np.asarray(x, dtype=float)))
    m, n = x.shape[:2]
    acov = _autocovariance(x)
    within = (acov[:, 0] * n / (n - 1)).mean(axis=0)
    var_plus = within * (n - 1) / n + x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    n_pairs = n // 2
    pairs = rho[0 : 2 * n_pairs : 2] + rho[1 : 2 * n_pairs : 2]
    positive = np.cumprod(pairs > 0, axis=0).astype(bool)
    pairs = np.minimum.accumulate(np.where(positive, pairs, np.inf), axis=0)
    pairs = np.where(positive, pairs, 0.0)
    # the even lag of the first pair that is not positive still counts, once, where it is
    # positive (Vehtari et al. 2021; Stan, arviz): without it a short, strongly correlated
    # chain's ESS came out up to 7% high
    first_out = positive.sum(axis=0)
    even = np.take_along_axis(rho, np.minimum(2 * first_out, n - 1)[None], axis=0)[0]
    last = np.where((first_out < n_pairs) & (even > 0), even, 0.0)
    tau = -1.0 + 2.0 * pairs.sum(axis=0) + last
    tau = np.maximum(tau, 1.0 / np.log10(m * n))
    return np.where(var_plus > 0, m * n / tau, np.nan)
