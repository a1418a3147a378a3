"""The DMM-MEN Gibbs kernel: ``init(rng, data, params) -> state`` and
``step(rng, state, data) -> (state, info)``.

Model (Guo, Huang, Tao, Xing & Lin, NeurIPS 2018; plus a per-component intercept b_j):
    y_i | z_i = j        ~ N(b_j + x_i' beta_j, s2_j), possibly censored: a response at or
                           beyond a bound (lower, upper) is only known to lie beyond it
    P(z_i = j) = pi_j,     pi from a truncated stick-breaking DP, sticks ~ Beta(1, alpha)
    alpha                ~ Gamma(e, f)
    c_j | w ~ Cat(w),      w ~ Dirichlet(alpha_e, ..., alpha_e)        (net of component j)
    beta_j | s2_j, c_j=k ~ Bayesian elastic net (lam1_k, lam2_k), see ``elastic_net``
    b_j | s2_j           ~ N(0, s2_j / lam0)
    s2_j                 ~ InvGamma(a0, b0)
    lam1_k ~ Gamma(h1, r1),  lam2_k ~ Gamma(h2, r2)

One sweep, each move an exact draw from a full or partially collapsed conditional:
 1. z | all                      responsibilities, drawn by inverse CDF; for a censored row
                                 with its latent response integrated out (the likelihood is
                                 a normal tail probability), then that response given z from
                                 its truncated normal (data augmentation, Chib 1992)
 2. sticks | z, alpha; alpha | sticks
 3. lam along lam1^2 / lam2 fixed | z, u, s2 with the coefficients integrated out (a
    Metropolis step, see ``_scale_penalties``); then
    (s2_j, beta_j, b_j) | z, u_j, lam_{c_j}, as one block: s2_j with the coefficients
    integrated out (its density is log-concave in 1 / s2_j, drawn exactly by rejection),
    then the coefficients from their Gaussian given s2_j. Empty components: an exact draw
    from the prior.
 4. c | beta, s2, lam, w and lam | c, beta, s2, both with u integrated out (the full
    elastic-net prior density, normalising constants included); w | c; then u | beta, s2, lam.
    Steps 4 form one partially collapsed block (van Dyk & Park 2008): u is drawn last.

The coefficient draw uses a Cholesky factor of the precision X'X + D when the component has
many rows, and the O(n_j^2 P) algorithm of Bhattacharya, Chakraborty & Mallick (2016) when
it has fewer rows than ``woodbury_ratio`` times the number of columns; both are exact. A
matrix positive definite only in exact arithmetic (a component's equal columns or repeated
rows, penalties drawn near 0) is factored with its diagonal raised by its rounding error
(``backends._jittered``); the Gram path's evidence then takes the raised prior precisions.

Several independent chains on the same features can run as one (``init(..., n_chains=C)``),
also for several responses (the data's R responses shared evenly: chain c fits response
c // (C / R)): their components sit side by side (component g = c J + j is component j of
chain c, net h = c K + k net k of chain c) and every row appears once per chain, as virtual
row v = c n + i. Every move then works on all chains in the same calls: a sweep of small
fits is mostly the cost of its calls, not of their arithmetic. With one chain the layout is
the plain one.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import special

from scrutiny.surrogate import elastic_net
from scrutiny.surrogate.distributions import (
    inverse_gaussian,
    log_dirichlet,
    log_gamma_variates,
    noise_precision,
    slice_sample,
    truncated_gamma_excess,
)
from scrutiny.surrogate.stats import ComponentStats

_MIN_ABS_COEF = 1e-150  # keeps the inverse-Gaussian mean finite when a coefficient is 0
# the largest prior precision lam2 (1 + u) of a coefficient, its u capped to stay below it:
# float32 holds 3.4e38 (and 1 / 1e36 stays a normal number), float64 far more. u itself is
# never capped: the noise variance's rate takes c sum(1/u), which a capped u pushed up by
# c p / cap, and a coefficient pinned by a capped precision sets u's next draw too small:
# at a fixed lambda1 of 1e10, with u capped at 1e15, s2 came out 36 to 1,000 times too large
_MAX_PRECISION = {"float32": 1e36, "float64": 1e250}
# An empty component's noise precision from a vague prior (shape 0.01) underflows to 0 about
# once in 1,200 draws; floored here, its s2 stays finite (1e300) for a component no row uses.
_MIN_EMPTY_PRECISION = 1e-300


@dataclass(frozen=True)
class Priors:
    """Hyperparameters of DMM-MEN; defaults follow the authors' released code."""

    n_components: int = 10
    n_nets: int = 3
    concentration_shape: float = 5.0
    concentration_rate: float = 1.0
    net_concentration: float | None = None  # Dirichlet weight of each net; None = 1 / n_nets
    noise_shape: float = 0.5
    noise_scale: float = 0.5
    lambda1_shape: float = 1.0
    lambda1_rate: float = 0.5
    lambda2_shape: float = 4.0
    lambda2_rate: float = 0.5
    intercept_precision: float = 0.01
    lambda1: float | None = None  # fix the L1 penalty (0 = ridge); None = sample it
    lambda2: float | None = None  # fix the L2 penalty; None = sample it

    def __post_init__(self):
        if int(self.n_components) < 1 or int(self.n_nets) < 1:
            raise ValueError("n_components and n_nets must be at least 1")
        positive = (
            "concentration_shape concentration_rate noise_shape noise_scale lambda1_shape "
            "lambda1_rate lambda2_shape lambda2_rate intercept_precision"
        ).split()
        for name in (*positive, "net_concentration", "lambda1", "lambda2"):
            value = getattr(self, name)  # True was 1.0; "1" failed in a comparison
            if value is not None and (
                isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real)
            ):
                raise ValueError(f"{name} must be a number, got {value!r}")
        # finite too: an infinite one failed deep inside the sampler (lambda2: a NaN log
        # density; lambda1: the noise's rejection sampler; net_concentration: NaN weights)
        for name in positive:
            if not 0 < getattr(self, name) < np.inf:
                raise ValueError(f"{name} must be positive and finite, got {getattr(self, name)!r}")
        if self.net_concentration is not None and not 0 < self.net_concentration < np.inf:
            raise ValueError(
                f"net_concentration must be positive and finite, got {self.net_concentration!r}"
            )
        if self.lambda1 is not None and not 0 <= self.lambda1 < np.inf:
            raise ValueError(f"lambda1 must be >= 0 and finite, got {self.lambda1!r}")
        if self.lambda2 is not None and not 0 < self.lambda2 < np.inf:
            raise ValueError(f"lambda2 must be > 0 and finite, got {self.lambda2!r}")

    @property
    def alpha_e(self):
        return 1.0 / self.n_nets if self.net_concentration is None else self.net_concentration


@dataclass(frozen=True)
class SamplerParams:
    priors: Priors = field(default_factory=Priors)
    init: object = "random"  # "random", "kmeans", "quantile" or an array of initial labels
    # where the n_j^2 P draw beats the P^3 Cholesky: measured, one thread, float32, at
    # n_j / P = 0.5 (P = 167), 0.54 (P = 400) and 0.59 (P = 663)
    woodbury_ratio: float = 0.55
    gram_refresh: int = 50
    fixed_labels: bool = False  # keep the initial partition: regimes known in advance
    ray_moves: bool = True  # move the penalties along lam1^2 / lam2 fixed (_scale_penalties)


def used_columns(Z):
    """Z's columns that are not 0 in every row: the only ones the sampler's linear algebra
    holds (the others never meet the likelihood; their coefficients are prior draws)."""
    return np.flatnonzero((Z != 0).any(axis=0))


def fitted_width(Z, fit_intercept):
    """P, the columns a fit of Z works with: its used columns and the intercept."""
    return used_columns(Z).size + int(bool(fit_intercept))


@dataclass(frozen=True)
class GibbsData:
    """Observations on the backend: one feature matrix and R >= 1 responses to it.

    X holds a leading column of ones (if there is an intercept) and then only the feature
    columns that are non-zero somewhere: an all-zero column never meets the likelihood, so
    its coefficients are prior draws and it is left out of every product. ``columns`` maps
    the columns of X to positions in the full coefficient vector (intercept first).

    C chains run as one kernel share the responses evenly and in order: chain c fits
    response c // (C / R) (``per_chain``).
    """

    X: object
    y: object  # (n, R) on the backend
    y_np: np.ndarray  # (R, n)
    columns: np.ndarray  # (n_cols,) position of each column of X in the coefficient vector
    n_penalized: int  # p, the number of features (all of them)
    has_intercept: bool
    backend: object
    censored: np.ndarray | None = None  # (R, n) -1 at/below ``lower``, +1 at/above ``upper``
    bounds: np.ndarray | None = None  # (R, n) the bound of each censored response (0 elsewhere)
    # (n_penalized + intercept,) powers of 2 that draws are stored times, in float32
    # (``summaries.ChainSummary``): 1 for columns up to 2^64, then their size / 2^64
    coef_unit: np.ndarray | None = None

    @property
    def n_rows(self):
        return self.y_np.shape[1]

    @property
    def n_cols(self):
        return self.columns.size

    @property
    def n_responses(self):
        return self.y_np.shape[0]

    def per_chain(self, values, n_chains):
        """(C n,) copy of ``values`` (R, n), each chain's response's row, chain after chain."""
        R = self.n_responses
        if n_chains % R:
            raise ValueError(f"{n_chains} chains cannot be shared evenly among {R} responses")
        return np.repeat(values, n_chains // R, axis=0).reshape(-1)

    def response(self, r):
        """The data of response r alone (the same X)."""
        cens = None if self.censored is None else self.censored[r : r + 1]
        some = cens is not None and cens.any()
        return replace(
            self,
            y=self.y[:, r : r + 1],
            y_np=self.y_np[r : r + 1],
            censored=cens if some else None,
            bounds=self.bounds[r : r + 1] if some else None,
        )

    @classmethod
    def build(cls, Z, y, backend, fit_intercept=True, lower=None, upper=None):
        """y: (n,) or (R, n). Responses at or below ``lower`` (at or above ``upper``) are
        censored there; each bound is None, one value, or one value per response."""
        Z = np.asarray(Z, dtype=np.float64)
        y = np.atleast_2d(np.asarray(y, dtype=np.float64))
        R = y.shape[0]
        lo = np.broadcast_to(np.asarray(-np.inf if lower is None else lower, float), (R,))
        hi = np.broadcast_to(np.asarray(np.inf if upper is None else upper, float), (R,))
        if not (lo < hi).all():
            raise ValueError(f"the censoring bounds must satisfy lower < upper, got {lo}, {hi}")
        lo, hi = lo[:, None], hi[:, None]
        censored = np.where(y <= lo, -1, np.where(y >= hi, 1, 0)).astype(np.int8)
        y = np.clip(y, lo, hi)
        bounds = np.where(censored < 0, lo, np.where(censored > 0, hi, 0.0))
        off = int(fit_intercept)
        used = used_columns(Z)
        X = np.hstack([np.ones((Z.shape[0], off)), Z[:, used]])
        columns = np.concatenate([np.arange(off), used + off])
        # a column of size S has coefficients of about 1 / S, in float32 down to 1e-38: 0
        # from S = 1e45 (intervals [0, 0]), coarse before. Up to 2^64 they are stored as
        # they are (a vague prior's empty components' draws of 1e38 stay finite)
        unit = np.ones(Z.shape[1] + off)
        size = np.floor(np.log2(np.abs(X).max(axis=0)))
        unit[columns] = np.exp2(np.maximum(size - 64, 0.0))
        return cls(
            backend.asarray(X),
            backend.asarray(np.ascontiguousarray(y.T)),
            y,
            columns,
            Z.shape[1],
            fit_intercept,
            backend,
            censored if censored.any() else None,
            bounds if censored.any() else None,
            unit,
        )


@dataclass(frozen=True)
class GibbsState:
    """One point of C chains (C = 1 unless ``init`` was asked for more; see the module
    docstring for the layout). Arrays are never modified after the state is built;
    ``stats`` is a cache of (data, labels) that the kernel moves forward in place."""

    params: SamplerParams
    labels: np.ndarray  # (C n,) component (g = c J + j) of each virtual row
    log_weights: np.ndarray  # (C J,) log pi
    concentration: np.ndarray  # (C,) alpha
    nets: np.ndarray  # (C J,) elastic net (h = c K + k) of each component
    log_net_weights: np.ndarray  # (C K,) log w
    lam1: np.ndarray  # (C K,)
    lam2: np.ndarray  # (C K,)
    noise_var: np.ndarray  # (C J,)
    coef: np.ndarray  # (C J, P) intercept first (if any), then penalized coefficients
    scales: np.ndarray  # (C J, p) u, latent scales of the penalized coefficients
    stats: ComponentStats = field(repr=False, compare=False)

    @property
    def n_chains(self):
        return self.concentration.size


@dataclass(frozen=True)
class GibbsInfo:
    log_likelihood: np.ndarray  # (C,) observed-data log-likelihood of the entering state
    counts: np.ndarray  # (C J,) rows per component after the step
    n_moved: int  # rows that changed component (all chains)
    n_woodbury: int  # components drawn with the n_j < P algorithm (all chains)


@dataclass(frozen=True)
class ChainDraw:
    """One chain's part of a (possibly batched) state, in that chain's own labels."""

    labels: np.ndarray  # (n,) in 0..J-1
    log_weights: np.ndarray  # (J,)
    coef: np.ndarray  # (J, P)
    noise_var: np.ndarray  # (J,)
    concentration: float
    counts: np.ndarray  # (J,)
    log_likelihood: float
    lam1: np.ndarray  # (K,)
    lam2: np.ndarray  # (K,)
    nets: np.ndarray  # (J,) in 0..K-1


def chain_draws(state, info):
    """Every chain's ``ChainDraw``."""
    J, K = state.params.priors.n_components, state.params.priors.n_nets
    n = state.labels.size // state.n_chains
    return [
        ChainDraw(
            labels=state.labels[c * n : (c + 1) * n] - c * J,
            log_weights=state.log_weights[c * J : (c + 1) * J],
            coef=state.coef[c * J : (c + 1) * J],
            noise_var=state.noise_var[c * J : (c + 1) * J],
            concentration=float(state.concentration[c]),
            counts=info.counts[c * J : (c + 1) * J],
            log_likelihood=float(info.log_likelihood[c]),
            lam1=state.lam1[c * K : (c + 1) * K],
            lam2=state.lam2[c * K : (c + 1) * K],
            nets=state.nets[c * J : (c + 1) * J] - c * K,
        )
        for c in range(state.n_chains)
    ]


# ----------------------------------------------------------------------------------------
# kernel


def init(rng, data, params=None, n_chains=1):
    """A starting state of ``n_chains`` chains run as one: labels from ``params.init``, then
    the remaining variables drawn from their conditionals given those labels."""
    params = SamplerParams() if params is None else params
    pri = params.priors
    J, K, p, C = pri.n_components, pri.n_nets, data.n_penalized, int(n_chains)
    if C < 1:
        raise ValueError(f"n_chains must be at least 1, got {n_chains!r}")
    gen = data.backend.generator(rng)
    ys = _chain_rows(data, data.y_np, C)
    labels = np.concatenate(
        [_initial_labels(rng, data, ys[c], params.init, J) + c * J for c in range(C)]
    )
    lam1, lam2 = _draw_penalties_from_prior(rng, pri, C * K)
    log_w = log_dirichlet(rng, np.full((C, K), pri.alpha_e))
    probs = np.exp(log_w - np.logaddexp.reduce(log_w, axis=1, keepdims=True))
    nets = np.concatenate([c * K + rng.choice(K, size=J, p=pc) for c, pc in enumerate(probs)])
    stats = component_stats(data, labels, params)
    alpha = np.full(C, pri.concentration_shape / pri.concentration_rate)
    log_weights, alpha = _draw_weights(rng, stats.counts, alpha, pri)
    scales = np.where(_elastic(lam1[nets])[:, None], 1.0, np.zeros((C * J, p)))
    factors = _factorize(data, stats, _prior_precisions(data, pri, nets, lam2, scales))
    noise_var, coef, scales, _ = _draw_noise_and_coef(
        rng, gen, data, params, stats, nets, lam1, lam2, scales, factors
    )
    return GibbsState(
        params,
        labels,
        log_weights,
        alpha,
        nets,
        log_w.reshape(-1),
        lam1,
        lam2,
        noise_var,
        coef,
        scales,
        stats,
    )


def component_stats(data, labels, params):
    """The sufficient statistics of a labelling, with Gram matrices for the components
    that have ``woodbury_ratio`` x P rows or more (the others are factored from their rows)."""
    n_chains = labels.size // data.n_rows
    return ComponentStats(
        data,
        labels,
        n_chains * params.priors.n_components,
        params.gram_refresh,
        min_rows=params.woodbury_ratio * data.n_cols,
        n_chains=n_chains,
    )


def step(rng, state, data):
    """One Gibbs sweep; returns the new state and a GibbsInfo. (Stepping again from an
    older state gives the same draws up to rounding: ``stats`` has moved on.)"""
    params, pri = state.params, state.params.priors
    gen = data.backend.generator(rng)
    labels, loglik, censored_means = _draw_labels(gen, data, state)
    if params.fixed_labels:
        labels = state.labels
    stats = state.stats
    n_moved = stats.update(data, labels)
    if data.censored is not None:
        stats.set_response(data, _draw_censored(rng, data, state, labels, censored_means))
    log_weights, alpha = _draw_weights(rng, stats.counts, state.concentration, pri)
    lam1, lam2, scales = state.lam1, state.lam2, state.scales
    D = _prior_precisions(data, pri, state.nets, lam2, scales)
    factors = _factorize(data, stats, D)
    if params.ray_moves and _moves_along_ray(pri):
        lam1, lam2, factors = _scale_penalties(
            rng, data, params, stats, state.nets, lam1, lam2, scales, state.noise_var, factors
        )
    noise_var, coef, scales, n_wood = _draw_noise_and_coef(
        rng, gen, data, params, stats, state.nets, lam1, lam2, scales, factors
    )
    nets, log_net_weights, lam1, lam2 = _draw_nets_and_penalties(
        rng, data, pri, coef, noise_var, state.nets, state.log_net_weights, lam1, lam2
    )
    scales = _draw_scales(rng, data, coef, noise_var, lam1[nets], lam2[nets])
    new = replace(
        state,
        labels=labels,
        log_weights=log_weights,
        concentration=alpha,
        nets=nets,
        log_net_weights=log_net_weights,
        lam1=lam1,
        lam2=lam2,
        noise_var=noise_var,
        coef=coef,
        scales=scales,
    )
    return new, GibbsInfo(loglik, stats.counts.copy(), n_moved, n_wood)


# ----------------------------------------------------------------------------------------
# the moves


def _initial_labels(rng, data, y, init, J):
    """A chain's starting labels; ``y`` (n,) its responses."""
    n = data.n_rows
    if isinstance(init, str):
        if init == "quantile":
            ranks = np.argsort(np.argsort(y + 1e-12 * rng.standard_normal(n), kind="stable"))
            return (ranks * J // n).astype(np.int64)
        if init == "random":
            return rng.integers(J, size=n)
        if init == "kmeans":
            return _kmeans_labels(rng, data, y, J)
        raise ValueError(
            f"init must be 'kmeans', 'quantile', 'random' or an array of labels, got {init!r}"
        )
    labels = np.asarray(init)
    if (
        labels.shape != (n,)
        or labels.dtype.kind not in "iu"
        or labels.min() < 0
        or labels.max() >= J
    ):
        raise ValueError(f"init labels must be {n} integers in [0, {J})")
    return labels.astype(np.int64)


def _kmeans_labels(rng, data, y, J, n_iter=10):
    """k-means++ then Lloyd iterations on (features, response), the response weighted as much
    as all features together: regimes of a model are usually regions of its input space."""
    X = data.backend.to_numpy(data.X)[:, int(data.has_intercept) :]
    w = np.sqrt(X.var(axis=0).sum() / max(y.var(), 1e-300))
    F = np.hstack([X, w * y[:, None]])
    sq = (F**2).sum(axis=1)
    C = np.empty((J, F.shape[1]))
    C[0] = F[rng.integers(len(F))]
    dist = sq - 2 * F @ C[0] + C[0] @ C[0]
    for j in range(1, J):  # k-means++: each centre drawn in proportion to squared distance
        d2 = np.maximum(dist, 0.0)
        C[j] = F[rng.choice(len(F), p=d2 / d2.sum())] if d2.sum() > 0 else F[rng.integers(len(F))]
        dist = np.minimum(dist, sq - 2 * F @ C[j] + C[j] @ C[j])
    for _ in range(n_iter):
        labels = np.argmin((C**2).sum(axis=1) - 2 * F @ C.T, axis=1)
        for j in range(J):
            mine = labels == j
            if mine.any():
                C[j] = F[mine].mean(axis=0)
    return labels.astype(np.int64)


def _elastic(lam1):
    return np.asarray(lam1) > 0


def _draw_penalties_from_prior(rng, pri, K):
    lam1 = (
        np.full(K, pri.lambda1, float)
        if pri.lambda1 is not None
        else (rng.gamma(pri.lambda1_shape, 1.0 / pri.lambda1_rate, K))
    )
    lam2 = (
        np.full(K, pri.lambda2, float)
        if pri.lambda2 is not None
        else (rng.gamma(pri.lambda2_shape, 1.0 / pri.lambda2_rate, K))
    )
    return lam1, lam2


def _draw_labels(gen, data, state):
    """z_i ~ Cat(responsibilities) in every chain; also each chain's observed-data
    log-likelihood and, for the censored rows, every component's mean (n_censored, C J)."""
    be, xp = data.backend, data.backend.xp
    C, J, n, R = state.n_chains, state.params.priors.n_components, data.n_rows, data.n_responses
    # components whose squared residuals could overflow the backend's floats (an empty one
    # drawn from a vague noise prior: s2 up to 1e300 beside float32's 3e38) work in units of
    # their sd; dividing the others by 1 leaves them exactly as they are
    wide = state.noise_var > np.sqrt(np.finfo(str(be.dtype).removeprefix("torch.")).max)
    unit = np.where(wide, np.sqrt(state.noise_var), 1.0)
    B = be.asarray(state.coef[:, data.columns] / unit[:, None])
    s2 = be.asarray(np.where(wide, 1.0, state.noise_var))
    const = be.asarray(state.log_weights - 0.5 * np.log(2.0 * np.pi * state.noise_var))
    mean = data.X @ B.T
    y = data.y[:, :, None]
    if wide.any():  # times 1 / unit: a unit past float32's range is no overflow warning
        y = y * be.asarray(1.0 / unit.reshape(R, -1))
    # each chain's components against its own response: (n, R, C J / R)
    res = y - xp.reshape(mean, (n, R, -1))
    # a residual whose square passes float32's range lies over 4e9 sd from a component whose
    # s2 is within it (wider ones work in units of their sd, above): density 0, rightly
    with np.errstate(over="ignore"):
        logp = const - xp.reshape(res * res, (n, C * J)) / (2.0 * s2)
    censored_means = None
    if data.censored is not None:  # likelihood of "beyond the bound": a normal tail
        rows = np.flatnonzero(data.censored.any(axis=0))
        ir = be.index(rows)
        censored_means = be.to_numpy(mean[ir]) * unit
        sign, bound = (
            np.repeat(_chain_rows(data, a, C)[:, rows].T, J, axis=1)
            for a in (data.censored, data.bounds)
        )
        t = _tail_arguments(sign, bound, censored_means, np.sqrt(state.noise_var))
        tail = state.log_weights + special.log_ndtr(t)
        logp[ir] = be.asarray(np.where(sign != 0, tail, be.to_numpy(logp[ir])))
    logp = xp.reshape(logp, (n, C, J))
    if bool(xp.any(xp.isnan(logp))):
        raise FloatingPointError(
            "a row's likelihood under a component is NaN: its noise variance or coefficients "
            "overflowed (are the priors' noise_shape and noise_scale very small?)"
        )
    top = xp.max(logp, axis=2, keepdims=True)
    lse = top + xp.log(xp.sum(xp.exp(logp - top), axis=2, keepdims=True))
    cum = xp.cumulative_sum(xp.exp(logp - lse), axis=2)
    u = be.uniform(gen, (n, C, 1))
    local = xp.sum(xp.astype(u > cum, xp.int64), axis=2)
    local = np.minimum(be.to_numpy(local).astype(np.int64), J - 1)  # (n, C)
    labels = (local.T + J * np.arange(C)[:, None]).reshape(-1)
    loglik = be.to_numpy(lse)[:, :, 0].sum(axis=0)  # per chain, summed in float64
    return labels, loglik, censored_means


def _chain_rows(data, values, n_chains):
    """(C, n): ``values`` (R, n) of each chain's response."""
    return data.per_chain(values, n_chains).reshape(n_chains, -1)


def _tail_arguments(sign, bound, means, sd):
    """t with P(censored y | component) = Phi(t): (L - mu) / sd below (sign -1), (mu - U) / sd
    above (sign +1)."""
    return -sign * (bound - means) / sd


def _draw_censored(rng, data, state, labels, censored_means):
    """Latent responses of the censored rows given their components: normals truncated to
    beyond their bounds, drawn by the inverse of log Phi (exact far into the tails).
    ``censored_means``: (rows censored for some response, C J)."""
    C, n = state.n_chains, data.n_rows
    sign = data.per_chain(data.censored, C)
    virtual = np.flatnonzero(sign)
    sign = sign[virtual]
    position = np.cumsum(data.censored.any(axis=0)) - 1  # row -> row of censored_means
    z = labels[virtual]
    mu = censored_means[position[virtual % n], z]
    sd = np.sqrt(state.noise_var[z])
    t = _tail_arguments(sign, data.per_chain(data.bounds, C)[virtual], mu, sd)
    w = special.ndtri_exp(np.log(rng.random(virtual.size)) + special.log_ndtr(t))  # w <= t
    y = data.per_chain(data.y_np, C)
    y[virtual] = mu - sign * sd * w
    return y


def _draw_weights(rng, counts, alpha, pri):
    """Sticks v_j ~ Beta(1 + n_j, alpha + n_{>j}); alpha ~ Gamma(J - 1 + e, f - sum log(1 - v)),
    for each chain (``counts`` (C J,), ``alpha`` (C,))."""
    C = alpha.size
    counts = counts.reshape(C, -1)
    J = counts.shape[1]
    if J == 1:  # no sticks: alpha's conditional is its prior
        return np.zeros(C), rng.gamma(pri.concentration_shape, 1.0 / pri.concentration_rate, C)
    tail = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1][:, 1:]
    la = log_gamma_variates(rng, 1.0 + counts[:, :-1])
    lb = log_gamma_variates(rng, alpha[:, None] + tail)
    lsum = np.logaddexp(la, lb)
    log_v, log_1mv = la - lsum, np.maximum(lb - lsum, -700.0)
    prefix = np.hstack([np.zeros((C, 1)), np.cumsum(log_1mv, axis=1)])
    log_weights = np.hstack([log_v, np.zeros((C, 1))]) + prefix
    rate = pri.concentration_rate - log_1mv.sum(axis=1)
    alpha = rng.gamma(J - 1 + pri.concentration_shape, 1.0 / rate)
    return log_weights.reshape(-1), alpha


def _prior_precisions(data, pri, nets, lam2, scales):
    """D_j: diagonal prior precision (in units of 1 / s2_j) of every coefficient."""
    limit = _MAX_PRECISION[str(data.backend.dtype).rpartition(".")[2]]  # numpy's, torch's
    l2 = lam2[nets][:, None]
    with np.errstate(over="ignore"):  # a lam2 below limit / 1.8e308: no cap, rightly
        pen = l2 * (1.0 + np.minimum(scales, limit / l2))
    if data.has_intercept:
        return np.hstack([np.full((nets.size, 1), pri.intercept_precision), pen])
    return pen


# components with at most this many rows (and no Gram matrix) are factored together, their
# rows zero-padded to the largest: a zero row adds an identity block to I + X D^-1 X', which
# changes neither S_j, nor log |.|, nor the coefficient draw, and one batched call replaces
# a dozen per-component ones (sweeps hold several such components, of 1-30 rows). On the
# torch backend larger components share batches too, by size class (rows in (2^(k-1), 2^k]
# times _BATCH_ROWS): a GPU pays per call and per synchronisation, not per flop (on an
# H200, an explainer's 10-chain kernels of MNIST pixels: 80 s, then 73 s; docs/benchmarks.md)
_BATCH_ROWS = 32


@dataclass(frozen=True)
class _RowFactors:
    """Components factored from their rows (n_j < P): the Cholesky factor ``low`` of
    M = I + X D^-1 X' for each, with the rows ``X``, ``y`` zero-padded to a common length."""

    comps: np.ndarray  # (B,) component indices
    X: object  # (B, m, P)
    y: object  # (B, m)
    dinv: object  # (B, P) D^-1 over the columns of X
    low: object  # (B, m, m)

    def choose(self, other, take_other, backend):
        """``other``'s factors (same rows, other D) for the components where ``take_other``."""
        sel = np.flatnonzero(take_other[self.comps])
        if sel.size == 0:
            return self
        i = backend.index(sel)
        self.dinv[i] = other.dinv[i]
        self.low[i] = other.low[i]
        return self


@dataclass(frozen=True)
class _Factors:
    """Every occupied component's posterior precision, factored, in units of 1 / s2_j.

    Components with many rows: the Cholesky factor ``low`` of Q = X'X + D and w = low^-1 X'y
    (one batch, rows ``chol``). With few rows: batches of ``_RowFactors`` (``wood``).
    Both give S_j = y'(I + X D^-1 X')^-1 y and log_det_j = log |I + X D^-1 X'|, so that
    log p(y_j | s2_j, D_j) = -log_det_j / 2 - S_j / (2 s2_j) + a constant.
    """

    chol: np.ndarray
    low: object
    w: object
    wood: dict
    S: np.ndarray
    log_det: np.ndarray

    def log_evidence(self, noise_var):
        """log p(y_j | s2_j, D_j) up to a constant, per component (0 for empty ones)."""
        return -0.5 * self.log_det - 0.5 * self.S / noise_var

    def choose(self, other, take_other, backend):
        """Per component: ``other``'s factors where ``take_other``, else these. Reuses (and
        overwrites) this object's arrays: the caller keeps only the result. Both must come
        from the same statistics (the same components in the same batches)."""
        sel = np.flatnonzero(take_other[self.chol])
        if sel.size:
            i = backend.index(sel)
            self.low[i] = other.low[i]
            self.w[i] = other.w[i]
        pairs = zip(self.wood, other.wood, strict=True)
        wood = [f.choose(g, take_other, backend) for f, g in pairs]
        return _Factors(
            self.chol,
            self.low,
            self.w,
            wood,
            np.where(take_other, other.S, self.S),
            np.where(take_other, other.log_det, self.log_det),
        )


def _factorize(data, stats, D):
    """Factor the posterior precision of every occupied component given prior precisions D:
    through its Gram matrix where ``stats`` keeps one, else through its rows."""
    be, J = data.backend, stats.n_components
    cols = data.columns
    chol = np.flatnonzero(stats.has_gram)
    S, log_det = np.zeros(J), np.zeros(J)
    low = w = None
    if chol.size:
        ib = be.index(chol)
        Q = stats.gram[ib]
        diag = be.index(np.arange(data.n_cols))
        Q[:, diag, diag] += be.asarray(D[chol][:, cols])
        low, added = be.cholesky(Q)  # added: a matrix singular to rounding (backends.py)
        w = be.solve_lower(low, stats.xty[ib][..., None])[..., 0]
        S[chol] = stats.yy[chol] - (be.to_numpy(w) ** 2).sum(axis=1)
        log_diag = np.log(be.to_numpy(be.xp.linalg.diagonal(low)))
        # |G + D + added| / |D + added|: the evidence of that sweep's prior precisions
        log_det[chol] = 2.0 * log_diag.sum(axis=1) - np.log(D[chol][:, cols] + added).sum(axis=1)
    wood = []
    for comps in _row_batches(stats, by_size=be.name == "torch"):
        f = _factor_rows(data, stats, comps, D)
        z = be.solve_lower(f.low, f.y[..., None])[..., 0]
        S[comps] = (be.to_numpy(z) ** 2).sum(axis=1)
        log_det[comps] = 2.0 * np.log(be.to_numpy(be.xp.linalg.diagonal(f.low))).sum(axis=1)
        wood.append(f)
    return _Factors(chol, low, w, wood, np.maximum(S, 0.0), log_det)


def _row_batches(stats, by_size=False):
    """The occupied components without a Gram matrix, grouped: all those of at most
    ``_BATCH_ROWS`` rows together, each larger one alone (padding it would cost arithmetic),
    or with ``by_size`` the larger ones by size class (padded to at most twice their rows)."""
    comps = np.flatnonzero((stats.counts > 0) & ~stats.has_gram)
    n = stats.counts[comps]
    size_class = np.ceil(np.log2(np.maximum(n, _BATCH_ROWS) / _BATCH_ROWS)).astype(int)
    if not by_size:
        size_class = np.where(n <= _BATCH_ROWS, 0, 1 + np.arange(n.size))
    return [comps[size_class == k] for k in np.unique(size_class)]


def _factor_rows(data, stats, comps, D):
    """``_RowFactors`` of the components ``comps`` at prior precisions D."""
    be = data.backend
    rows = [stats.rows(j) for j in comps]
    m = max(r.size for r in rows)
    idx = np.zeros((comps.size, m), dtype=np.intp)
    mask = np.zeros((comps.size, m))
    for b, r in enumerate(rows):
        idx[b, : r.size], mask[b, : r.size] = r, 1.0
    mask = be.asarray(mask)
    X = data.X[be.index(idx % data.n_rows)] * mask[..., None]  # virtual rows -> rows
    y = stats.y[be.index(idx)] * mask
    dinv = be.asarray(1.0 / D[comps][:, data.columns])
    Xs = X * be.xp.sqrt(dinv)[:, None, :]
    # one component: a 2-D product of a matrix with its own transpose runs as a symmetric
    # rank-k update (half the flops); batched products do not
    M = (Xs[0] @ Xs[0].T)[None] if comps.size == 1 else Xs @ be.xp.matrix_transpose(Xs)
    M = M + be.xp.eye(m, dtype=be.dtype, device=be.device)
    # a jitter here (backends.py) raises the noise of those rows a little, within rounding
    low, _ = be.cholesky(M)
    return _RowFactors(comps, X, y, dinv, low)


def _moves_along_ray(pri):
    """The penalty move below needs lam2 sampled and lam1 sampled or fixed at 0 (ridge)."""
    return pri.lambda2 is None and (pri.lambda1 is None or pri.lambda1 == 0)


def _log_hyperprior(pri, lam1, lam2):
    """log density of (log lam1, log lam2) under the Gamma hyperpriors, per net; only the
    sampled penalties count."""
    lp = np.zeros(np.shape(lam2))
    if pri.lambda1 is None:
        lp += pri.lambda1_shape * np.log(lam1) - pri.lambda1_rate * lam1
    if pri.lambda2 is None:
        lp += pri.lambda2_shape * np.log(lam2) - pri.lambda2_rate * lam2
    return lp


def _scale_penalties(rng, data, params, stats, nets, lam1, lam2, scales, noise_var, factors):
    """Metropolis move of each net's penalties along lam1 -> sqrt(c) lam1, lam2 -> c lam2,
    with the coefficients integrated out.

    Given the coefficients, the penalties are pinned by hundreds of them, and the
    coefficients' data-poor directions by the penalties: a funnel the conditional draws cross
    in tiny steps. Along this ray a = lam1^2 / (8 lam2 s2) stays fixed, so the latent scales'
    prior does not change, and with the coefficients integrated out the target is
        p(log c | z, u, s2, y) ~ prod_j p(y_j | s2_j, D_j(c)) * hyperprior(lam(c)),
    a line in (log lam1, log lam2), so a symmetric random walk in log c is exact. The
    coefficients are then drawn afresh given the new penalties (a partially collapsed
    sweep, van Dyk & Park 2008). The step is 2.4 times the conditional's expected spread,
    sqrt(2 / m) for m data-informed directions in the net's components.
    """
    pri = params.priors
    K = lam2.size
    occ = stats.counts > 0
    informed = np.minimum(stats.counts, data.n_cols)[occ].astype(float)
    m = np.bincount(nets[occ], weights=informed, minlength=K)
    log_c = 2.4 * np.sqrt(2.0 / np.maximum(m, 1.0)) * rng.standard_normal(K)
    new1, new2 = lam1 * np.exp(0.5 * log_c), lam2 * np.exp(log_c)
    proposed = _factorize(data, stats, _prior_precisions(data, pri, nets, new2, scales))
    gain = np.where(occ, proposed.log_evidence(noise_var) - factors.log_evidence(noise_var), 0.0)
    log_ratio = np.bincount(nets, weights=gain, minlength=K)
    log_ratio += _log_hyperprior(pri, new1, new2) - _log_hyperprior(pri, lam1, lam2)
    accept = np.log(rng.random(K)) < log_ratio
    lam1, lam2 = np.where(accept, new1, lam1), np.where(accept, new2, lam2)
    return lam1, lam2, factors.choose(proposed, accept[nets], data.backend)


def _draw_noise_and_coef(rng, gen, data, params, stats, nets, lam1, lam2, scales, factors):
    """The (s2_j, coefficients_j) block for every component; empty ones from the prior.

    Coefficients start as prior draws; those of the columns of X are then replaced by a
    posterior draw for every occupied component (all-zero columns decouple from the data).
    ``factors`` are those of the precisions at ``lam2`` and ``scales``.
    """
    pri, be = params.priors, data.backend
    counts = stats.counts
    J, p, cols = counts.size, data.n_penalized, data.columns
    scales = scales.copy()
    l1, l2 = lam1[nets], lam2[nets]
    elastic = _elastic(l1)
    empty = counts == 0
    noise_var = np.empty(J)
    if empty.any():  # s2 from its prior, then u given s2 from its prior
        t = rng.gamma(pri.noise_shape, 1.0 / pri.noise_scale, int(empty.sum()))
        t = np.maximum(t, _MIN_EMPTY_PRECISION)
        noise_var[empty] = 1.0 / t
        e_el = empty & elastic
        if e_el.any():
            a = (l1**2 / (8.0 * l2))[e_el][:, None] * t[elastic[empty]][:, None]
            v = truncated_gamma_excess(rng, np.broadcast_to(a, (a.shape[0], p)))
            with np.errstate(divide="ignore"):  # v = 0: u = inf, its 1 / u = 0 exactly
                scales[e_el] = 1.0 / v
    D = _prior_precisions(data, pri, nets, lam2, scales)
    occ = np.flatnonzero(~empty)
    if occ.size:  # s2 with the coefficients integrated out (exact; log-concave in 1 / s2)
        el = elastic[occ]
        c = np.where(el, l1[occ] ** 2 / (8.0 * l2[occ]), 0.0)
        inv_scale_sum = np.zeros(occ.size)
        inv_scale_sum[el] = (1.0 / scales[occ[el]]).sum(axis=1)
        shape = pri.noise_shape + 0.5 * counts[occ] + np.where(el, 0.5 * p, 0.0)
        rate = pri.noise_scale + 0.5 * factors.S[occ] + c * inv_scale_sum
        noise_var[occ] = 1.0 / noise_precision(rng, shape, rate, np.where(el, p, 0), c)
    sd = np.sqrt(noise_var)
    coef = rng.standard_normal(D.shape) * sd[:, None] / np.sqrt(D)
    chol = factors.chol
    if chol.size:
        w = factors.w
        rhs = w + be.normal(gen, tuple(w.shape)) * be.asarray(sd[chol])[:, None]
        draw = be.solve_lower(factors.low, rhs[..., None], transpose=True)[..., 0]
        coef[np.ix_(chol, cols)] = be.to_numpy(draw)
    n_wood = 0
    for f in factors.wood:  # Bhattacharya et al. (2016), batched; padded rows drop out
        B, m, P = f.X.shape
        s = be.asarray(sd[f.comps])[:, None]
        u0 = be.normal(gen, (B, P)) * (s * be.xp.sqrt(f.dinv))
        v = (f.X @ u0[..., None])[..., 0] / s + be.normal(gen, (B, m))
        rhs = (f.y / s - v)[..., None]
        wv = be.solve_lower(f.low, be.solve_lower(f.low, rhs), transpose=True)
        draw = u0 + s * f.dinv * (be.xp.matrix_transpose(f.X) @ wv)[..., 0]
        coef[np.ix_(f.comps, cols)] = be.to_numpy(draw)
        n_wood += B
    return noise_var, coef, scales, n_wood


def _penalized(data, coef):
    return coef[:, 1:] if data.has_intercept else coef


def _draw_nets_and_penalties(rng, data, pri, coef, noise_var, nets, log_net_weights, lam1, lam2):
    """c | beta, s2, lam, w; w | c; lam_k | c, beta, s2: u integrated out throughout."""
    beta = _penalized(data, coef)
    p = beta.shape[1]
    abs_sum, sq_sum = np.abs(beta).sum(axis=1), (beta**2).sum(axis=1)
    K, H = pri.n_nets, lam1.size  # nets per chain, in all
    fixed = pri.lambda1 is not None and pri.lambda2 is not None
    if K > 1:  # each component chooses among its own chain's nets
        chain = np.arange(nets.size) // pri.n_components
        logits = log_net_weights.reshape(-1, K)[chain] + elastic_net.log_density(
            abs_sum[:, None],
            sq_sum[:, None],
            p,
            noise_var[:, None],
            lam1.reshape(-1, K)[chain],
            lam2.reshape(-1, K)[chain],
        )
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        local = (rng.random((nets.size, 1)) > np.cumsum(prob, axis=1)).sum(axis=1)
        nets = chain * K + np.minimum(local, K - 1)
        counts = np.bincount(nets, minlength=H).reshape(-1, K)
        log_net_weights = log_dirichlet(rng, pri.alpha_e + counts).reshape(-1)
    if fixed:
        return nets, log_net_weights, lam1, lam2
    prior1, prior2 = _draw_penalties_from_prior(rng, pri, H)
    used = np.bincount(nets, minlength=H) > 0
    logpost = _penalty_log_posterior(pri, nets, abs_sum, sq_sum, p, noise_var)
    if pri.lambda1 is None:
        lam1 = lam1.copy()
        lam1[used] = np.exp(
            slice_sample(rng, _in_log(logpost, used, lam1, lam2, 0), np.log(lam1[used]))
        )
    if pri.lambda2 is None:
        lam2 = lam2.copy()
        lam2[used] = np.exp(
            slice_sample(rng, _in_log(logpost, used, lam1, lam2, 1), np.log(lam2[used]))
        )
    return nets, log_net_weights, np.where(used, lam1, prior1), np.where(used, lam2, prior2)


def _penalty_log_posterior(pri, nets, abs_sum, sq_sum, p, noise_var):
    """log p(log lam1_k, log lam2_k | coefficients, s2) of every net k, u integrated out:
    the elastic-net densities of its components, the Gamma hyperpriors and the log Jacobian
    (``_log_hyperprior``)."""

    def logpost(l1, l2):
        dens = elastic_net.log_density(abs_sum, sq_sum, p, noise_var, l1[nets], l2[nets])
        return np.bincount(nets, weights=dens, minlength=l1.size) + _log_hyperprior(pri, l1, l2)

    return logpost


def _in_log(logpost, used, lam1, lam2, axis):
    """logpost of the ``used`` nets as a function of their log lam1 (axis 0) or log lam2
    (axis 1), the other penalty held."""

    def f(s):
        lam = (lam1 if axis == 0 else lam2).copy()
        lam[used] = np.exp(s)
        return (logpost(lam, lam2) if axis == 0 else logpost(lam1, lam))[used]

    return f


def _draw_scales(rng, data, coef, noise_var, l1, l2):
    """u_jl | beta_jl, s2_j ~ InverseGaussian(l1 / (2 l2 |beta|), l1^2 / (4 l2 s2)); 0 for ridge."""
    beta = _penalized(data, coef)
    scales = np.zeros_like(beta)
    el = _elastic(l1)
    if el.any():
        l1e, l2e = l1[el][:, None], l2[el][:, None]
        mean = l1e / (2.0 * l2e * np.maximum(np.abs(beta[el]), _MIN_ABS_COEF))
        shape = l1e**2 / (4.0 * l2e * noise_var[el][:, None])
        scales[el] = inverse_gaussian(rng, mean, shape)
    return scales
