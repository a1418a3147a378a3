"""Several responses to the same features fitted together (``fit_responses``): the chains
of all of them share one kernel, and each must still fit its own response, its own
censoring and its own scale."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from scrutiny import DPMixtureRegression


def two_mixtures(n=600, p=8, seed=3):
    """Two responses, each a mixture of two linear regimes, with independent memberships."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    coef = rng.uniform(1.0, 2.0, (2, 2, p)) * rng.choice([-1, 1], (2, 2, p))
    z = rng.integers(2, size=(2, n))
    Y = np.column_stack(
        [np.array([-3.0, 3.0])[z[r]] + (Z * coef[r, z[r]]).sum(axis=1) for r in range(2)]
    )
    Y[:, 1] = 10.0 * Y[:, 1] + 500.0  # another scale and centre
    return Z, Y + 0.1 * rng.standard_normal((n, 2)), z


def test_each_response_recovers_its_own_regimes():
    """The first response is censored below its 30% quantile, the second never."""
    Z, Y, z = two_mixtures()
    lower = np.quantile(Y[:, 0], 0.3)
    template = DPMixtureRegression(6, n_sweeps=200, progress=False, random_state=0)
    fits = template.fit_responses(Z, Y, lower=lower)
    assert len(fits) == 2 and not hasattr(template, "coef_")
    assert fits[1].n_censored_ == 0
    seen = [Y[:, 0] > lower, np.ones(len(Z), dtype=bool)]
    for r, reg in enumerate(fits):
        # memberships are independent across responses: labels drawn against the other
        # response's values, or the second's rows taken as censored where the first's are,
        # would score far lower
        assert adjusted_rand_score(z[r][seen[r]], reg.labels_[seen[r]]) >= 0.9
        fitted = reg.predict_components(Z)[np.arange(len(Z)), reg.labels_]
        rmse = np.sqrt(np.mean((Y[:, r] - fitted)[seen[r]] ** 2))
        assert rmse < 0.5 * (1 if r == 0 else 10)


def test_censoring_and_scale_are_each_responses_own():
    """One response half censored at 1, the other never: each recovers its slopes."""
    rng = np.random.default_rng(7)
    beta = np.array([[1.5, -1.0, 0.5], [-0.5, 2.0, 1.0]])
    Z = rng.standard_normal((1500, 3))
    y = np.array([1.0, 20.0])[:, None] + beta @ Z.T + 0.5 * rng.standard_normal((2, 1500))
    assert y[1].min() > 1.0
    Y = np.column_stack([np.maximum(y[0], 1.0), y[1]])
    settings = dict(n_sweeps=300, lambda1=0.0, lambda2=1e-3, progress=False, random_state=0)
    fits = DPMixtureRegression(1, **settings).fit_responses(Z, Y, lower=1.0)
    assert 600 < fits[0].n_censored_ < 900 and fits[1].n_censored_ == 0
    for reg, b in zip(fits, beta, strict=True):
        # posterior sd is about 0.02; 5 sd (a family of 3) plus Monte-Carlo error of the mean
        np.testing.assert_allclose(reg.coef_[0], b, atol=5 * reg.coef_std_[0].max() + 0.02)
        np.testing.assert_allclose(np.sqrt(reg.noise_var_[0]), 0.5, rtol=0.1)


def test_fit_responses_repeats_and_names_bad_columns():
    Z, Y, _ = two_mixtures(n=100)
    make = lambda: DPMixtureRegression(3, n_sweeps=20, progress=False, random_state=5)  # noqa: E731
    a, b = make().fit_responses(Z, Y), make().fit_responses(Z, Y)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.coef_draws_, y.coef_draws_)
    bad = Y.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match="column 1 of Y contains NaN at index 4"):
        make().fit_responses(Z, bad)
    with pytest.raises(ValueError, match="Y must be 2-D"):
        make().fit_responses(Z, Y[:, 0])
