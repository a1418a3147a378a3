"""The guided local update: a Bayesian regression shrunk toward the global guess."""

import numpy as np

from scrutiny.guided import refine

rng = np.random.default_rng(0)
Q = 40
TRUE = rng.normal(size=Q)


def data(n, noise=0.1):
    K = (rng.uniform(size=(n, Q)) > rng.uniform(size=(n, 1))).astype(float)
    return K, 2.0 + K @ TRUE + noise * rng.standard_normal(n)


def test_plenty_of_data_recovers_the_effects_whatever_the_prior():
    K, y = data(2000)
    mean, sd, intercept, _ = refine(K, y, prior_mean=np.zeros(Q))
    np.testing.assert_allclose(mean, TRUE, atol=5 * sd.max())
    assert sd.max() < 0.02 and abs(intercept - 2.0) < 0.05


def test_a_right_prior_beats_the_data_alone_when_data_are_few():
    K, y = data(30, noise=0.5)  # fewer perturbations than features
    guided, *_ = refine(K, y, prior_mean=TRUE + 0.05 * rng.normal(size=Q))
    alone, *_ = refine(K, y, prior_mean=np.zeros(Q))
    err = lambda m: np.sqrt(np.mean((m - TRUE) ** 2))  # noqa: E731
    assert err(guided) < 0.1 < err(alone)


def test_a_wrong_prior_is_overruled_by_enough_data():
    K, y = data(400, noise=0.1)
    mean, _, _, lam = refine(K, y, prior_mean=TRUE + 3.0)
    np.testing.assert_allclose(mean, TRUE, atol=0.1)
    assert lam < 1.0  # the evidence says: trust the data, not the prior


def test_posterior_sd_is_calibrated():
    """Effects drawn from the prior (mu0 + N(0, s2 / lam), lam = 1): then (mean - truth) / sd
    is Student-t with n - 2 dof, standard deviation about 1.02; over 200 replications its
    sample sd has a standard error of about 0.05, so [0.85, 1.2] is about +-3 of them."""
    mu0, noise = rng.normal(size=Q), 0.3
    z = []
    for _ in range(200):
        truth = mu0 + noise * rng.standard_normal(Q)
        K = (rng.uniform(size=(60, Q)) > rng.uniform(size=(60, 1))).astype(float)
        y = 2.0 + K @ truth + noise * rng.standard_normal(60)
        mean, sd, _, _ = refine(K, y, prior_mean=mu0, lambdas=[1.0])
        z.append((mean[0] - truth[0]) / sd[0])
    assert 0.85 < np.std(z) < 1.2
