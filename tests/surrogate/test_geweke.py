"""The whole Gibbs kernel by successive conditionals (Geweke 2004, "Getting it right").

Many independent chains start at exact draws from the prior. Each then alternates a fresh
response y ~ p(y | state) with one kernel step given y. If every move of the step leaves its
conditional invariant, the pair (state, y) keeps the joint distribution of the model, so
after any number of rounds every chain's state is still an exact prior draw and y a draw
given it. A wrong conditional makes the states drift away from the prior round by round.

The check maps each variable through its prior distribution function given the variables
it depends on (probability integral transforms), which makes it uniform under the model, and
tests the values of all chains with Kolmogorov-Smirnov. The prior draw is written from the
model's definition (``kernel``'s module docstring), not with the kernel's own code.

It has power: it fails when the noise variance's conditional leaves out the coefficients'
prior (the released code's defect), when the sticks count a component's own rows twice, or
when the latent scales' inverse-Gaussian shape is doubled.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import special, stats

from scrutiny.surrogate import kernel
from scrutiny.surrogate.backends import make_backend

# Each KS test at level 1e-3; the settings check m = 18 + 15 = 33 statistics, so for a random
# seed the chance of any false alarm is at most 33e-3 (Bonferroni). The seeds are fixed, so
# the test is deterministic. About 4 s per setting on one core.
LEVEL = 1e-3


@dataclass(frozen=True)
class Setting:
    priors: kernel.Priors
    intercept: bool
    lower: float | None = None
    upper: float | None = None
    n_chains: int = 2000
    n_rows: int = 6
    n_features: int = 3
    n_rounds: int = 10
    seed: int = 0


SETTINGS = {
    # every move: labels, sticks and concentration, the ray move, the noise and coefficient
    # block (rows factored both ways: components of >= 3 rows through their Gram matrix,
    # smaller ones through their rows), net choices and weights, both penalties, latent scales
    "default priors": Setting(kernel.Priors(n_components=3, n_nets=2), intercept=True),
    # the censored likelihood of the labels and the imputed responses, at both bounds
    "censored, no intercept": Setting(
        kernel.Priors(n_components=3, n_nets=2), intercept=False, lower=-1.0, upper=1.0
    ),
}


def log_stick_breaking(rng, concentration, J):
    """(C, J) log weights of truncated stick-breaking, sticks ~ Beta(1, concentration) of each
    chain; the last weight takes what is left."""
    C = concentration.size
    v = rng.beta(1.0, np.repeat(concentration[:, None], J - 1, axis=1))
    left = np.hstack([np.zeros((C, 1)), np.cumsum(np.log1p(-v), axis=1)])
    return left + np.hstack([np.log(v), np.zeros((C, 1))])


def draw_latent_scales(rng, a):
    """u with tau = 1 + 1 / u ~ Gamma(1/2, rate a) truncated to (1, inf), the latent scales'
    prior. Gamma(1/2, rate a) is the law of z^2 / (2 a), z standard normal, so tau is drawn
    as z^2 / (2 a) with |z| a normal truncated beyond sqrt(2 a), exact far into its tail."""
    s = np.sqrt(2.0 * a)
    z = stats.truncnorm.rvs(s, np.inf, random_state=rng)
    return 2.0 * a / ((z - s) * (z + s))


def draw_prior(rng, setting):
    """C independent draws of the whole state from the model, in the kernel's layout
    (component g = c J + j, net h = c K + k, virtual row v = c n + i)."""
    pri, C, n, p = setting.priors, setting.n_chains, setting.n_rows, setting.n_features
    J, K = pri.n_components, pri.n_nets
    alpha = rng.gamma(pri.concentration_shape, 1.0 / pri.concentration_rate, C)
    log_pi = log_stick_breaking(rng, alpha, J)
    w = rng.dirichlet(np.full(K, pri.alpha_e), C)
    nets = (np.arange(C)[:, None] * K + categorical(rng, w[:, None, :].repeat(J, 1))).ravel()
    lam1 = draw_penalty(rng, pri.lambda1, pri.lambda1_shape, pri.lambda1_rate, C * K)
    lam2 = draw_penalty(rng, pri.lambda2, pri.lambda2_shape, pri.lambda2_rate, C * K)
    s2 = 1.0 / rng.gamma(pri.noise_shape, 1.0 / pri.noise_scale, C * J)
    l1, l2 = lam1[nets], lam2[nets]
    scales = np.zeros((C * J, p))
    el = l1 > 0
    a = np.broadcast_to((l1**2 / (8.0 * l2 * s2))[:, None], (C * J, p))
    scales[el] = draw_latent_scales(rng, a[el])
    coef = rng.standard_normal((C * J, p)) * np.sqrt(s2[:, None] / (l2[:, None] * (1 + scales)))
    if setting.intercept:
        b = rng.standard_normal(C * J) * np.sqrt(s2 / pri.intercept_precision)
        coef = np.hstack([b[:, None], coef])
    labels = np.arange(C)[:, None] * J + categorical(rng, np.exp(log_pi)[:, None, :].repeat(n, 1))
    return dict(
        labels=labels.ravel(),
        log_weights=log_pi.ravel(),
        concentration=alpha,
        nets=nets,
        log_net_weights=np.log(w).ravel(),
        lam1=lam1,
        lam2=lam2,
        noise_var=s2,
        coef=coef,
        scales=scales,
    )


def draw_penalty(rng, fixed, shape, rate, size):
    """A net's penalty: fixed if the priors fix it, else from its Gamma(shape, rate)."""
    if fixed is not None:
        return np.full(size, float(fixed))
    return rng.gamma(shape, 1.0 / rate, size)


def categorical(rng, probs):
    """One category per row of ``probs`` (..., k), by inverse CDF."""
    cum = np.cumsum(probs, axis=-1)
    u = rng.random((*probs.shape[:-1], 1)) * cum[..., -1:]
    return np.minimum((u > cum).sum(axis=-1), probs.shape[-1] - 1)


def response_means(state, X):
    """(C, n): each virtual row's mean under its component, with the sds."""
    C = state["concentration"].size
    g = state["labels"]
    rows = np.arange(g.size) % X.shape[0]
    mean = (X[rows] * state["coef"][g]).sum(axis=1)
    return mean.reshape(C, -1), np.sqrt(state["noise_var"][g]).reshape(C, -1)


def successive_conditionals(setting):
    """Run every chain for ``n_rounds`` of y ~ p(y | state), state ~ step(state | y); return
    the last state and the (uncensored) response it was stepped on."""
    rng = np.random.default_rng(setting.seed)
    params = kernel.SamplerParams(priors=setting.priors)
    backend = make_backend("cpu", "float64")
    Z = rng.standard_normal((setting.n_rows, setting.n_features))
    X = np.hstack([np.ones((setting.n_rows, 1)), Z]) if setting.intercept else Z
    state = draw_prior(rng, setting)
    for _ in range(setting.n_rounds):
        mean, sd = response_means(state, X)
        y = mean + sd * rng.standard_normal(mean.shape)
        data = kernel.GibbsData.build(
            Z, y, backend, setting.intercept, lower=setting.lower, upper=setting.upper
        )
        stats_ = kernel.component_stats(data, state["labels"], params)
        new, _ = kernel.step(rng, kernel.GibbsState(params, stats=stats_, **state), data)
        state = {key: getattr(new, key) for key in state}
    return state, y, X


def tail_logsumexp(log_w):
    """R[:, k] = log sum_{l >= k} w_l: the stick left before k, in the stick-breaking view of
    weights w (also of Dirichlet weights, whose sticks are independent Betas)."""
    return np.logaddexp.accumulate(log_w[:, ::-1], axis=1)[:, ::-1]


def categorical_pit(rng, log_w, chosen):
    """Randomized PIT of draws ``chosen`` (C, m) from Cat(w) of each row of ``log_w`` (C, k):
    P(X < x) + V P(X = x), V uniform, is U(0,1) for a discrete X too."""
    w = np.exp(log_w - tail_logsumexp(log_w)[:, :1])
    p_equal = np.take_along_axis(w, chosen, 1)
    p_below = np.take_along_axis(np.cumsum(w, axis=1), chosen, 1) - p_equal
    return p_below + rng.random(chosen.shape) * p_equal


def pits(setting, state, y, X):
    """Every statistic's values, each i.i.d. U(0,1) across its entries if the state (and y
    given it) is a draw from the model: the variable through its prior CDF given its parents."""
    pri, C, n = setting.priors, setting.n_chains, setting.n_rows
    J, K = pri.n_components, pri.n_nets
    rng = np.random.default_rng(setting.seed + 1)  # for the randomized PITs
    alpha, s2 = state["concentration"], state["noise_var"]
    lam1, lam2, nets = state["lam1"], state["lam2"], state["nets"]
    gamma = stats.gamma.cdf
    out = {"concentration": gamma(alpha, pri.concentration_shape, scale=1 / pri.concentration_rate)}
    if pri.lambda1 is None:
        out["lambda1"] = gamma(lam1, pri.lambda1_shape, scale=1 / pri.lambda1_rate)
    if pri.lambda2 is None:
        out["lambda2"] = gamma(lam2, pri.lambda2_shape, scale=1 / pri.lambda2_rate)
    # standardised coefficients b sqrt(lam0 / s2) and beta sqrt(lam2 (1 + u) / s2) are N(0, 1)
    per_component = {
        "noise precision": gamma(1 / s2, pri.noise_shape, scale=1 / pri.noise_scale)[:, None],
        "coefficients": stats.norm.cdf(
            state["coef"][:, int(setting.intercept) :]
            * np.sqrt(lam2[nets][:, None] * (1 + state["scales"]) / s2[:, None])
        ),
    }
    if setting.intercept:
        per_component["intercept"] = stats.norm.cdf(
            state["coef"][:, :1] * np.sqrt(pri.intercept_precision / s2[:, None])
        )
    for name, u in per_component.items():  # a component's defect shows apart from the others
        for j in range(J):
            out[f"{name} {j}"] = u.reshape(C, J, -1)[:, j]
    log_pi = state["log_weights"].reshape(C, J)
    if J > 1:  # sticks v_j = pi_j / sum_{l >= j} pi_l ~ Beta(1, alpha): CDF 1 - (1 - v)^alpha
        tail = tail_logsumexp(log_pi)
        out["sticks"] = -np.expm1(alpha[:, None] * (tail[:, 1:] - tail[:, :-1]))
    out["labels"] = categorical_pit(rng, log_pi, state["labels"].reshape(C, n) % J)
    if K > 1:  # Dirichlet weights as sticks: w_k / sum_{l >= k} w_l ~ Beta(a, (K - 1 - k) a)
        log_w = state["log_net_weights"].reshape(C, K)
        v = np.exp(log_w - tail_logsumexp(log_w))[:, :-1]
        b = (K - 1 - np.arange(K - 1)) * pri.alpha_e
        out["net weights"] = stats.beta.cdf(v, pri.alpha_e, b)
        out["nets"] = categorical_pit(rng, log_w, nets.reshape(C, J) % K)
    el = lam1[nets] > 0
    if el.any():  # u <= x iff tau >= 1 + 1/x, and P(tau > t) = erfc(sqrt(a t)) / erfc(sqrt(a))
        a = (lam1[nets] ** 2 / (8 * lam2[nets] * s2))[el][:, None]
        u = state["scales"][el]
        tau = 1 + 1 / u
        out["latent scales"] = (
            special.erfcx(np.sqrt(a * tau)) / special.erfcx(np.sqrt(a)) * np.exp(-a / u)
        )
    # y was drawn given the state before the step, the state after it given y: the pair is
    # still a draw from the joint, so y given the new state is a draw from the likelihood
    mean, sd = response_means(state, X)
    lo = -np.inf if setting.lower is None else setting.lower
    hi = np.inf if setting.upper is None else setting.upper
    F = stats.norm.cdf((np.clip(y, lo, hi) - mean) / sd)
    V = rng.random(y.shape)  # a censored response is only known to lie beyond its bound
    out["response"] = np.where(y <= lo, V * F, np.where(y >= hi, F + V * (1 - F), F))
    return out


@pytest.mark.parametrize("name", SETTINGS)
def test_the_kernel_keeps_the_prior(name):
    setting = SETTINGS[name]
    state, y, X = successive_conditionals(setting)
    p = {
        key: stats.kstest(np.ravel(u), "uniform").pvalue
        for key, u in pits(setting, state, y, X).items()
    }
    failed = {key: f"{value:.2g}" for key, value in p.items() if value < LEVEL}
    assert not failed, f"drifted from the prior (KS p-values): {failed}"
