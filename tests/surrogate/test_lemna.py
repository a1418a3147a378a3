"""LEMNA's mixture of fused-lasso regressions: recovery of known regimes, seeding, and the
degenerate cases EM meets (one component, components that lose their rows, exact fits)."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from scrutiny.surrogate.fused_lasso import fused_lasso
from scrutiny.surrogate.lemna import LemnaMixture

N, P, NOISE = 600, 20, 0.05
COEF = np.array([np.r_[np.full(10, 0.5), np.zeros(10)], np.r_[np.zeros(10), np.full(10, -0.4)]])
INTERCEPT = np.array([0.1, 0.8])


def two_regimes(seed=0):
    rng = np.random.default_rng(seed)
    Z = (rng.uniform(size=(N, P)) < 0.5).astype(float)
    labels = rng.integers(2, size=N)
    y = INTERCEPT[labels] + (Z * COEF[labels]).sum(axis=1) + NOISE * rng.normal(size=N)
    return Z, y, labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_regimes_of_flat_blocks_are_recovered(seed):
    """At the authors' fusion sqrt(n log p), n ~ 300 rows a regime, a block's level is
    pulled towards its neighbour by at most fusion / (n var(z) * 10) = 0.041 (one jump),
    against a noise sd of 0.05 / sqrt(750) = 0.002."""
    Z, y, labels = two_regimes()
    m = LemnaMixture(n_components=2, random_state=seed).fit(Z, y)
    assert adjusted_rand_score(labels, m.labels_) > 0.95
    order = [np.bincount(m.labels_[labels == k], minlength=2).argmax() for k in range(2)]
    assert sorted(order) == [0, 1]
    n_k = np.bincount(m.labels_)[order]
    bias = np.sqrt(n_k * np.log(P)) / (n_k * 0.25 * 10)
    tolerance = (bias + 4 * NOISE / np.sqrt(n_k * 0.25 * 10))[:, None]
    assert (np.abs(m.coef_[order] - COEF) < tolerance).all()
    np.testing.assert_allclose(m.intercept_[order], INTERCEPT, atol=0.1)
    np.testing.assert_allclose(m.weights_[order], np.bincount(labels) / N, atol=0.02)
    # the noise variance is the residuals' (inflated by the shrinkage), far below var(y)
    assert (m.noise_var_ < 0.1 * y.var()).all()
    np.testing.assert_allclose(m.responsibilities(Z, y).argmax(axis=1), m.labels_)


def test_the_same_seed_gives_the_same_fit():
    Z, y, _ = two_regimes(1)
    a = LemnaMixture(n_components=3, random_state=7).fit(Z, y)
    b = LemnaMixture(n_components=3, random_state=7).fit(Z, y)
    for name in ("coef_", "intercept_", "weights_", "noise_var_", "labels_", "n_iter_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    c = LemnaMixture(n_components=3, random_state=8).fit(Z, y)
    assert not np.array_equal(a.coef_, c.coef_)  # the seed does reach the start


def test_one_component_is_the_fused_lasso_of_all_rows():
    Z, y, _ = two_regimes(2)
    m = LemnaMixture(n_components=1, fusion=3.0).fit(Z, y)
    a, b = fused_lasso(Z, y, 3.0)
    np.testing.assert_allclose(m.coef_[0], b)
    assert m.intercept_[0] == pytest.approx(a)
    np.testing.assert_allclose(m.noise_var_[0], np.mean((y - a - Z @ b) ** 2))
    assert m.weights_.tolist() == [1.0] and (m.labels_ == 0).all()
    assert m.n_iter_ == 4  # nothing changes: stops at the first check, after 3 values


def test_components_without_rows_keep_weight_zero_and_nothing_is_nan():
    """Three rows, five components: at least two start without rows, keep weight 0 and
    the start's regression (mean of y, no slope); the rows are fitted exactly, so the
    variances sit on their floor, and the densities stay finite."""
    Z = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    y = np.array([0.2, 0.9, 0.4])
    m = LemnaMixture(n_components=5, random_state=0).fit(Z, y)
    empty = m.weights_ == 0
    assert empty.sum() >= 2 and m.weights_.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(m.intercept_[empty], y.mean())
    assert (m.coef_[empty] == 0).all() and not np.isin(np.flatnonzero(empty), m.labels_).any()
    r = m.responsibilities(Z, y)
    assert np.isfinite(r).all() and (r[:, empty] == 0).all()
    assert np.isfinite(m.log_likelihood_)
    assert (m.noise_var_ >= 1e-6 * y.var()).all()


def test_exact_and_constant_responses_do_not_break_the_likelihood():
    rng = np.random.default_rng(3)
    Z = (rng.uniform(size=(50, 6)) < 0.5).astype(float)
    for y in (0.3 + Z @ np.full(6, 0.1), np.full(50, 0.7)):  # fits with zero residuals
        m = LemnaMixture(n_components=2, fusion=0.0).fit(Z, y)
        assert np.isfinite(m.log_likelihood_) and np.isfinite(m.responsibilities(Z, y)).all()
        assert (m.noise_var_ > 0).all()


def test_max_iter_caps_em_and_bad_shapes_are_named():
    Z, y, _ = two_regimes(4)
    assert LemnaMixture(n_components=2, max_iter=2).fit(Z, y).n_iter_ == 2
    with pytest.raises(ValueError, match=r"expected Z \(n, p\) and y \(n,\)"):
        LemnaMixture().fit(Z, y[:-1])
