"""Censored responses (a Tobit likelihood with imputed latent values): slopes are recovered
where fitting the clipped responses as if they were observed is visibly biased."""

import numpy as np
import pytest

from scrutiny import DPMixtureRegression

BETA = np.array([1.5, -1.0, 0.5, 0.0, 0.0])


@pytest.fixture(scope="module")
def tobit():
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((1500, BETA.size))
    y = 1.0 + Z @ BETA + 0.5 * rng.standard_normal(1500)
    return Z, y, np.maximum(y, 1.0)  # about half the responses are censored at 1


def fit(Z, y, **kw):
    reg = DPMixtureRegression(
        1, n_sweeps=300, lambda1=0.0, lambda2=1e-3, progress=False, random_state=0
    )
    return reg.fit(Z, y, **kw)


def test_censored_fit_recovers_the_slopes(tobit):
    Z, _, clipped = tobit
    reg = fit(Z, clipped, lower=1.0)
    assert 600 < reg.n_censored_ < 900
    # posterior sd is about 0.02; 5 sd (a family of 5) plus Monte-Carlo error of the mean
    np.testing.assert_allclose(reg.coef_[0], BETA, atol=5 * reg.coef_std_[0].max() + 0.02)
    np.testing.assert_allclose(reg.intercept_[0], 1.0, atol=0.1)
    np.testing.assert_allclose(np.sqrt(reg.noise_var_[0]), 0.5, rtol=0.1)


def test_ignoring_the_censoring_is_biased(tobit):
    """The check above can fail: treating clipped values as observed shrinks the slopes."""
    Z, _, clipped = tobit
    naive = fit(Z, clipped)
    assert abs(naive.coef_[0, 0] - BETA[0]) > 0.3


def test_responsibilities_of_censored_rows_use_the_tail():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((800, 2))
    regime = rng.integers(2, size=800)
    y = np.where(regime == 0, 3 * Z[:, 0], -3 * Z[:, 0]) + 0.1 * rng.standard_normal(800)
    reg = DPMixtureRegression(2, n_sweeps=200, progress=False, random_state=0)
    reg.fit(Z, np.minimum(y, 2.0), upper=2.0)
    # a row far above the bound at z0 = 2 can only come from the slope +3 regime
    up = int(np.argmax(reg.coef_[:, 0]))
    r = reg.responsibilities(np.array([[2.0, 0.0], [-2.0, 0.0]]), np.array([2.0, 2.0]))
    assert r[0, up] > 0.99 and r[1, up] < 0.01


def test_bounds_are_checked():
    Z = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ValueError, match="lower must be below upper"):
        fit(Z, Z[:, 0], lower=1.0, upper=0.0)
    with pytest.raises(ValueError, match=r"lower must be one number.*shape \(20,\)"):
        fit(Z, Z[:, 0], lower=np.full(20, -1.0))  # numpy's 0-dimensional arrays error
    # "could not convert string to float: 'a'" named no argument; NaN read as lower >= upper
    with pytest.raises(ValueError, match="lower must be a number or None, got 'a'"):
        fit(Z, Z[:, 0], lower="a")
    with pytest.raises(ValueError, match="upper must be a number or None, got nan"):
        fit(Z, Z[:, 0], upper=float("nan"))
    with pytest.raises(ValueError, match="every response is censored"):
        fit(Z, np.zeros(20), lower=0.0)
    # of several columns, the one: it read as if every column were censored
    Y = np.c_[Z[:, 0], np.full(20, 2.0)]
    with pytest.raises(ValueError, match="every response of column 1 of Y is censored"):
        DPMixtureRegression(2, n_sweeps=5, progress=False).fit_responses(Z, Y, upper=1.5)


def test_infinite_responses_beyond_a_bound_are_censored(tobit):
    Z, y, _ = tobit
    y = np.where(y < 1.0, -np.inf, y)  # e.g. the logit of a probability that rounded to 0
    reg = fit(Z, y, lower=1.0)
    np.testing.assert_allclose(reg.coef_[0], BETA, atol=5 * reg.coef_std_[0].max() + 0.02)
    r = reg.responsibilities(Z[:3], np.array([-np.inf, 2.0, 3.0]))
    np.testing.assert_allclose(r.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="infinite value"):
        fit(Z, y)  # without a bound, -inf is an error
