"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

Draw every parameter of a small DMM-MEN (one component, one elastic net with sampled
penalties, six features and an intercept, ten rows: so the prior weighs as much as the data)
from its prior, simulate data, run the kernel, and record the rank of each true value among
thinned posterior draws. If every conditional is right, each rank is uniform. Every other
pair of replications draws the coefficients by the n < P algorithm, the others through the
Cholesky factor of the precision: both are exact, so the ranks stay uniform either way.
Test: chi-square on 10 bins per quantity, family-wise level 0.01 over the 6 quantities
(Bonferroni). The default run uses 120 replications; ``-m slow`` runs 1,000, which detects
much smaller miscalibration.

The censored variant has no intercept and censors every response below 0 (even seeds) or
above 0 (odd seeds): a bound that does not depend on the data or the parameters, so the
Tobit likelihood is the right one, and about half the responses are censored whatever the
scale the prior draws.
"""

from concurrent.futures import ProcessPoolExecutor

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


def one_replication(seed, censored=False):
    rng = np.random.default_rng(seed)
    truth = draw_prior(rng)
    if censored:
        truth[0] = 0.0
    Z = rng.standard_normal((N_ROWS, N_FEATURES))
    b0, beta, s2 = truth[0], truth[1 : N_FEATURES + 1], truth[N_FEATURES + 1]
    y = b0 + Z @ beta + np.sqrt(s2) * rng.standard_normal(N_ROWS)
    bound = {"lower": 0.0} if seed % 2 == 0 else {"upper": 0.0}
    data = kernel.GibbsData.build(
        Z, y, make_backend(), fit_intercept=not censored, **(bound if censored else {})
    )
    woodbury_ratio = 2.0 if (seed // 2) % 2 else 0.55  # 10 rows < 2 x 7 columns: n < P path
    params = kernel.SamplerParams(priors=PRIORS, woodbury_ratio=woodbury_ratio)
    state = kernel.init(rng, data, params)
    post = []
    for t in range(BURN + N_POST * THIN):
        state, _ = kernel.step(rng, state, data)
        if t >= BURN and (t - BURN) % THIN == THIN - 1:
            # the first three coefficients: (intercept, beta1, beta2), or beta1-3 without one
            post.append([*state.coef[0, :3], state.noise_var[0], state.lam1[0], state.lam2[0]])
    keep = KEEP if not censored else [1, 2, 3, *KEEP[3:]]
    return (np.array(post) < truth[keep]).sum(axis=0)


def one_censored_replication(seed):
    return one_replication(seed, censored=True)


def sbc_ranks(n_reps, seed, replication=one_replication):
    seeds = np.random.SeedSequence(seed).generate_state(n_reps)
    with ProcessPoolExecutor(2) as pool:
        return np.array(list(pool.map(replication, seeds.tolist(), chunksize=8)))


def assert_uniform(ranks, names=NAMES):
    n_bins = 10
    bins = ranks * n_bins // (N_POST + 1)
    per_quantity = FAMILY_LEVEL / ranks.shape[1]
    for q, name in enumerate(names):
        counts = np.bincount(bins[:, q], minlength=n_bins)
        p = stats.chisquare(counts).pvalue
        assert p > per_quantity, f"{name}: ranks not uniform (p = {p:.2g}), counts {counts}"


def test_simulation_based_calibration():
    assert_uniform(sbc_ranks(120, seed=20))


def test_simulation_based_calibration_with_censored_responses():
    names = ["beta1", "beta2", "beta3", "noise_var", "lambda1", "lambda2"]
    assert_uniform(sbc_ranks(120, seed=22, replication=one_censored_replication), names)


@pytest.mark.slow
def test_simulation_based_calibration_large():
    assert_uniform(sbc_ranks(1000, seed=21))
