"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

Draw every parameter of a small DMM-MEN (one component, one elastic net with sampled
penalties, six features and an intercept, ten rows: so the prior weighs as much as the data)
from its prior, simulate data, run the kernel, and record the rank of each true value among
thinned posterior draws. If every conditional is right, each rank is uniform. The
replications share one design Z (a covariate, conditioned on) and differ in everything
drawn from the prior, so their chains run as one batched kernel, one chain per replication
(1,000 replications in 12-17 s on one core, where 120 of one kernel each took 49-58 s on
two): 1,000 by default, 10,000 with ``-m slow``. Half of them draw the coefficients by the
n < P algorithm, half through the Cholesky factor of the precision: both are exact, so the
ranks stay uniform either way. Test: chi-square on 10 bins per quantity, family-wise level
0.01 over the 6 quantities (Bonferroni). At 1,000 replications the test fails when the
n < P draw's auxiliary noise has half its sd, which 120 replications (the earlier default)
did not see.

The censored variant has no intercept and censors every response below 0 (even seeds) or
above 0 (odd seeds): a bound that does not depend on the data or the parameters, so the
Tobit likelihood is the right one, and about half the responses are censored whatever the
scale the prior draws.
"""

import numpy as np
import pytest
from scipy import stats

from scrutiny.surrogate import kernel
from scrutiny.surrogate.backends import make_backend
from scrutiny.surrogate.distributions import truncated_gamma_excess

PRIORS = kernel.Priors(n_components=1, n_nets=1)
N_ROWS, N_FEATURES = 10, 6
N_POST, THIN, BURN = 49, 4, 100
NAMES = ["intercept", "beta1", "beta2", "noise_var", "lambda1", "lambda2"]
KEEP = [0, 1, 2, N_FEATURES + 1, N_FEATURES + 2, N_FEATURES + 3]  # positions in draw_prior
FAMILY_LEVEL = 0.01


def draw_prior(rng):
    pri = PRIORS
    lam1 = rng.gamma(pri.lambda1_shape, 1 / pri.lambda1_rate)
    lam2 = rng.gamma(pri.lambda2_shape, 1 / pri.lambda2_rate)
    s2 = 1 / rng.gamma(pri.noise_shape, 1 / pri.noise_scale)
    a = lam1**2 / (8 * lam2 * s2)
    u = 1 / truncated_gamma_excess(rng, np.full(N_FEATURES, a))
    beta = rng.standard_normal(N_FEATURES) * np.sqrt(s2 / (lam2 * (1 + u)))
    b0 = rng.standard_normal() * np.sqrt(s2 / pri.intercept_precision)
    return np.array([b0, *beta, s2, lam1, lam2])


def replications(seeds, kernel_seed, Z, censored, woodbury_ratio):
    """Ranks (len(seeds), 6) of one replication per seed, their chains run as one kernel:
    each replication draws its parameters and responses with its own seed; all share the
    design Z (a fixed covariate, so the ranks are uniform all the same) and one chain each;
    the kernel draws from ``kernel_seed``, a seed of no replication."""
    truths, ys = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        truth = draw_prior(rng)
        if censored:
            truth[0] = 0.0
        b0, beta, s2 = truth[0], truth[1 : N_FEATURES + 1], truth[N_FEATURES + 1]
        ys.append(b0 + Z @ beta + np.sqrt(s2) * rng.standard_normal(N_ROWS))
        truths.append(truth)
    truths, R = np.array(truths), len(seeds)
    bounds = {}
    if censored:  # below 0 (even seeds) or above 0 (odd seeds)
        odd = np.asarray(seeds) % 2 == 1
        bounds = {"lower": np.where(odd, -np.inf, 0.0), "upper": np.where(odd, 0.0, np.inf)}
    data = kernel.GibbsData.build(Z, np.array(ys), make_backend(), not censored, **bounds)
    params = kernel.SamplerParams(priors=PRIORS, woodbury_ratio=woodbury_ratio)
    rng = np.random.default_rng(kernel_seed)
    state = kernel.init(rng, data, params, n_chains=R)
    post = []
    for t in range(BURN + N_POST * THIN):
        state, _ = kernel.step(rng, state, data)
        if t >= BURN and (t - BURN) % THIN == THIN - 1:
            # the first three coefficients: (intercept, beta1, beta2), or beta1-3 without one
            post.append(
                np.column_stack([state.coef[:, :3], state.noise_var, state.lam1, state.lam2])
            )
    keep = KEEP if not censored else [1, 2, 3, *KEEP[3:]]
    return (np.array(post) < truths[:, keep]).sum(axis=0)


def sbc_ranks(n_reps, seed, censored=False):
    """Half the replications draw the coefficients through the Cholesky factor of the
    precision, half by the n < P algorithm (10 rows < 2 x 7 columns)."""
    seeds = np.random.SeedSequence(seed).generate_state(n_reps + 3).tolist()
    first, second = seeds.pop(), seeds.pop()  # the two kernels'
    Z = np.random.default_rng(seeds.pop()).standard_normal((N_ROWS, N_FEATURES))
    half = n_reps // 2
    return np.concatenate(
        [
            replications(seeds[:half], first, Z, censored, woodbury_ratio=0.55),
            replications(seeds[half:], second, Z, censored, woodbury_ratio=2.0),
        ]
    )


def assert_uniform(ranks, names=NAMES):
    n_bins = 10
    bins = ranks * n_bins // (N_POST + 1)
    per_quantity = FAMILY_LEVEL / ranks.shape[1]
    for q, name in enumerate(names):
        counts = np.bincount(bins[:, q], minlength=n_bins)
        p = stats.chisquare(counts).pvalue
        assert p > per_quantity, f"{name}: ranks not uniform (p = {p:.2g}), counts {counts}"


def test_simulation_based_calibration():
    assert_uniform(sbc_ranks(1000, seed=20))


def test_simulation_based_calibration_with_censored_responses():
    names = ["beta1", "beta2", "beta3", "noise_var", "lambda1", "lambda2"]
    assert_uniform(sbc_ranks(1000, seed=22, censored=True), names)


@pytest.mark.slow
def test_simulation_based_calibration_large():
    assert_uniform(sbc_ranks(10_000, seed=21))
