"""Posterior summaries in bounded memory, with label switching resolved on the fly.

Each kept draw is relabelled to the chain's running consensus (Hungarian matching of its
partition against the accumulated allocation counts, in the spirit of Stephens 2000) before
anything is accumulated. Means and variances use every kept draw; a ``ThinningBuffer``
keeps an evenly spaced, bounded subset of draws for intervals and diagnostics.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def match_labels(reference_counts, counts):
    """perm with perm[b] = a: the relabelling of columns of ``counts`` (n, J) that best
    agrees with ``reference_counts`` (n, J), by maximal total overlap."""
    overlap = reference_counts.T @ counts
    ref, new = linear_sum_assignment(-overlap)
    perm = np.empty(counts.shape[1], dtype=np.int64)
    perm[new] = ref
    return perm


def weighted_quantiles(values, weights, q):
    """Quantiles ``q`` of each column of ``values`` (N, p) with draw ``weights`` (N,): at
    the first value whose cumulative weight reaches q (the weighted inverse distribution
    function; equal weights give numpy's "inverted_cdf")."""
    order = np.argsort(values, axis=0, kind="stable")
    cum = np.cumsum(weights[order], axis=0)
    cum /= cum[-1]
    out = []
    for level in q:
        # reaching q up to the sums' rounding: 5 of 200 equal weights summed to just below
        # 0.025, and the quantile moved up a draw
        reached = cum >= level * (1 - 1e-9)
        at = np.minimum((~reached).sum(axis=0), len(values) - 1)  # per column
        rows = np.take_along_axis(order, at[None], axis=0)
        out.append(np.take_along_axis(values, rows, axis=0)[0])
    return out


class ThinningBuffer:
    """Keeps at most ``capacity`` evenly spaced draws, whatever the number offered.

    When full and another draw is due, every other stored draw is dropped and the stride
    doubles, so the kept draws stay in order and equally spaced (usable for R-hat and ESS)
    and memory stays bounded; a run that offers exactly ``capacity`` draws keeps them all.
    Rows are allocated as draws come, doubling up to ``capacity``: allocated up front, a
    large capacity cost its memory (and permuting it, its time) however few the draws.
    """

    def __init__(self, capacity):
        if capacity < 2 or capacity % 2:
            raise ValueError(f"buffer capacity must be an even number >= 2, got {capacity}")
        self.capacity = capacity
        self.stride = 1
        self.offered = 0
        self.size = 0
        self.rows = 0
        self.arrays = {}

    def offer(self, **values):
        if self.offered % self.stride == 0:
            if self.size == self.capacity:  # offered = capacity x stride: due at 2 x stride
                half = self.capacity // 2
                for a in self.arrays.values():
                    a[:half] = a[0 : self.capacity : 2]
                self.size = half
                self.stride *= 2
            elif self.size == self.rows:
                self._grow(values)
            for k, v in values.items():
                self.arrays[k][self.size] = v
            self.size += 1
        self.offered += 1

    def _grow(self, values):
        old, self.rows = self.arrays, min(self.capacity, 2 * self.rows or 1)
        self.arrays = {
            k: np.empty((self.rows, *np.shape(v)), dtype=np.asarray(v).dtype)
            for k, v in values.items()
        }
        for k, a in old.items():
            self.arrays[k][: self.size] = a[: self.size]

    def get(self, key):
        return self.arrays[key][: self.size]


class ChainSummary:
    """Relabelled running moments, allocation counts and thinned draws of one chain."""

    def __init__(self, n_rows, n_components, capacity, coef_unit=None):
        self.n_draws = 0
        # stored draws are coef * coef_unit (powers of 2, exact): a column of 1e60 has
        # coefficients of about 1e-60, 0 in float32, and its intervals were [0, 0]
        self.coef_unit = 1.0 if coef_unit is None else coef_unit
        self.label_counts = np.zeros((n_rows, n_components))
        self.buffer = ThinningBuffer(capacity)
        self.sums = {}
        # each component's coefficients over the draws in which it held rows: running mean
        # and sum of squared deviations (Welford), not sums of x and x^2, whose
        # E[x^2] - E[x]^2 cancelled to 0, or to noise, once |mean| / sd passed about 1e7
        self.coef_mean = self.coef_m2 = 0.0

    def record(self, draw):
        """Add one ``kernel.ChainDraw``."""
        labels = draw.labels
        J = self.label_counts.shape[1]
        if self.n_draws == 0:
            perm = np.arange(J)
        else:
            perm = match_labels(self.label_counts, np.eye(J)[labels])
        inv = np.argsort(perm)  # inv[a] = chain label now called a
        self.label_counts[np.arange(labels.size), perm[labels]] += 1.0
        weights = np.exp(draw.log_weights)[inv]
        coef = draw.coef[inv]
        noise_var = draw.noise_var[inv]
        counts = draw.counts[inv]
        occupied = counts > 0
        # A component's parameters are averaged over the draws in which it holds rows: in an
        # empty one they are prior draws, whose mean need not exist (the intercept's prior is
        # Cauchy-like under the default noise prior).
        for key, val in (
            ("noise_var", np.where(occupied, noise_var, 0.0)),
            ("occupied", occupied.astype(float)),
            ("weights", weights),
            ("counts", counts.astype(float)),
        ):
            self.sums[key] = self.sums.get(key, 0.0) + val
        # in float64 whatever the sampler's dtype; an empty component's: no change
        x = np.where(occupied[:, None], np.asarray(coef, dtype=np.float64), self.coef_mean)
        # the mixture's regression in this draw, its components holding rows weighted by
        # their share of the weight among them: linear in the features, one vector
        share = np.where(occupied, weights, 0.0)
        self.sums["mixture_coef"] = self.sums.get("mixture_coef", 0.0) + share @ x / share.sum()
        delta = x - self.coef_mean
        self.coef_mean = self.coef_mean + delta / np.maximum(self.sums["occupied"], 1.0)[:, None]
        self.coef_m2 = self.coef_m2 + delta * (x - self.coef_mean)
        with np.errstate(over="ignore"):  # a prior draw beyond float32 (a vague noise
            # prior's empty component) is kept as inf
            coef32 = (np.asarray(coef, dtype=np.float64) * self.coef_unit).astype(np.float32)
        self.buffer.offer(
            coef=coef32,
            noise_var=noise_var,
            weights=weights,
            counts=counts,
            log_likelihood=draw.log_likelihood,
            concentration=draw.concentration,
        )
        self.n_draws += 1

    def permute(self, perm):
        """Rename component b to perm[b] everywhere (to align with another chain)."""
        inv = np.argsort(perm)
        self.label_counts = self.label_counts[:, inv]
        for key in ("noise_var", "occupied", "weights", "counts"):
            self.sums[key] = self.sums[key][inv]
        self.coef_mean, self.coef_m2 = self.coef_mean[inv], self.coef_m2[inv]
        for key in ("coef", "noise_var", "weights", "counts"):
            filled = self.buffer.arrays[key][: self.buffer.size]
            filled[:] = filled[:, inv]
