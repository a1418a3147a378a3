"""DPMixtureRegression end to end: recovery of a known mixture, convergence, determinism,
the fitted API, and clear errors on bad input."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from scrutiny import DPMixtureRegression
from scrutiny.surrogate import kernel
from scrutiny.surrogate.backends import make_backend
from scrutiny.surrogate.estimator import check_settings
from tests.surrogate.synthetic import sparse_mixture


@pytest.fixture(scope="module")
def recovery():
    Z, y, z, coef, support = sparse_mixture()
    model = DPMixtureRegression(10, n_sweeps=400, n_chains=2, random_state=0, progress=False)
    return model.fit(Z, y), Z, y, z, coef, support


def test_recovers_the_partition(recovery):
    model, _, _, z, _, _ = recovery
    assert adjusted_rand_score(z, model.labels_) >= 0.9


def test_recovers_each_regimes_features(recovery):
    model, _, _, z, _, support = recovery
    for k, true_features in enumerate(support):
        comp = np.bincount(model.labels_[z == k]).argmax()
        top = np.argsort(-np.abs(model.coef_[comp]))[:10]
        assert len(set(top) & set(true_features)) >= 9


def test_chains_converge(recovery):
    model = recovery[0]
    d = model.diagnostics_
    assert d["log_likelihood_rhat"] < 1.1
    assert d["coef_rhat_max"] < 1.1  # over the coefficients of occupied components
    assert d["log_likelihood_ess"] > 20


def test_fitted_attributes_have_the_contract_shapes(recovery):
    model, Z, _y, z, _, _ = recovery
    J, p = 10, Z.shape[1]
    assert model.coef_.shape == (J, p)
    assert model.intercept_.shape == model.weights_.shape == model.noise_var_.shape == (J,)
    assert model.labels_.shape == (Z.shape[0],)
    assert np.isclose(model.weights_.sum(), 1.0)
    # each regime's weight is the posterior mean of its share of the 3000 rows: the share's
    # posterior sd is sqrt(s (1 - s) / 3000) <= 0.0091, and the mean lies within 3 of them
    share = np.bincount(z) / len(z)
    sd = np.sqrt(share * (1 - share) / len(z))
    for k in range(3):
        comp = np.bincount(model.labels_[z == k]).argmax()
        assert abs(model.weights_[comp] - share[k]) < 3 * sd[k]
    assert model.predict(Z[:7]).shape == (7,)
    lo, hi = model.coef_interval(0.9)
    assert lo.shape == hi.shape == (J, p)
    held = model.occupancy_ > 0  # never-occupied components have no posterior summary
    assert np.isnan(model.coef_[~held]).all() and np.isfinite(model.coef_[held]).all()
    main = model.occupancy_ == 1  # intervals come from the stored draws that held rows
    assert main.sum() == 3 and np.all(lo[main] <= hi[main])
    j = np.flatnonzero(main)[0]
    draws = model.coef_draws_[model.counts_draws_[:, j] > 0, j].astype(np.float64)
    np.testing.assert_allclose(lo[j], np.quantile(draws, 0.05, axis=0))
    never = model.counts_draws_.max(axis=0) == 0
    assert np.isnan(lo[never]).all() and np.isnan(hi[never]).all()


def test_assign_matches_training_labels_and_regimes(recovery):
    model, Z, y, _z, _, _ = recovery
    assigned = model.assign(Z[:500], y[:500])
    assert np.mean(assigned == model.labels_[:500]) > 0.95
    resp = model.responsibilities(Z[:50], y[:50])
    assert resp.shape == (50, 10) and np.allclose(resp.sum(axis=1), 1.0)


def test_a_rows_posterior_is_its_components_where_its_regime_is_clear(recovery):
    """Draw by draw, a row's full conditional weights the components; where every draw puts
    nearly all of it in one component, that is the component's posterior: its mean and its
    intervals within the bounds the other components' share allows."""
    model, Z, y, _, _, _ = recovery
    lo, hi = model.coef_interval(0.95)
    # the premise, checked rather than assumed: rows whose label's component holds them in
    # every stored draw. Where a seed's chains split a regime over two components, its rows
    # are not such rows, and the test takes others.
    n = 100
    prob = model._draw_responsibilities(Z[:n], y[:n], held_only=True)  # (n, D, J)
    own = prob[np.arange(n), :, model.labels_[:n]]  # (n, D)
    clear = np.flatnonzero((own > 1 - 1e-3).all(axis=1))
    assert len(clear) >= 4, f"only rows {clear} sit in one component in every draw"
    for i in clear[:4]:
        j = model.labels_[i]
        coef, intercept, lower, upper = model.row_posterior(Z[i], y[i])
        tol = _others_share_bound(model, model.coef_draws_, j, own[i])
        np.testing.assert_allclose(coef, model.coef_[j], rtol=0, atol=tol)
        tol = _others_share_bound(model, model.intercept_draws_, j, own[i])
        assert intercept == pytest.approx(model.intercept_[j], abs=tol)
        for q, ends, got in ((0.025, lo[j], lower), (0.975, hi[j], upper)):
            low, high = _quantile_bracket(model, j, q, own[i])
            assert ((low <= ends) & (ends <= high)).all()
            assert ((low <= got) & (got <= high)).all()
    with pytest.raises(ValueError, match="level must be in"):
        model.row_posterior(Z[0], y[0], level=1.0)
    with pytest.raises(ValueError, match=r"one row z of shape \(p,\), got \(2, "):
        model.row_posterior(Z[:2], y[:2])  # read as one row of twice the features


def _others_share_bound(model, draws, j, own):
    """How far a row's posterior mean of a quantity may lie from component j's: it is the
    mean over draws of sum_k prob_k (x_k - x_j), at most the other components' share
    (1 - own, per draw) times their farthest draw, plus float32's storage rounding."""
    draws = draws.astype(np.float64)
    far = np.abs(draws - draws[:, j : j + 1]).reshape(*draws.shape[:2], -1).max(axis=2)
    far[model.counts_draws_ == 0] = 0
    return np.mean((1 - own) * far.max(axis=1)) + 1e-5


def _quantile_bracket(model, j, q, own):
    """Where the q-quantile of component j's draws may lie, numpy's interpolated one and
    the row's weighted one alike: between the order statistics m ranks either side of
    q (D - 1), m one more than the other components' weight in draws (at most D (1 - own)),
    which is all they can move the weighted distribution function by."""
    draws = np.sort(model.coef_draws_[model.counts_draws_[:, j] > 0, j].astype(np.float64), 0)
    D = len(draws)
    m = int(np.ceil(D * (1 - own).max())) + 1
    rank = q * (D - 1)
    return draws[max(0, int(np.floor(rank)) - m)], draws[min(D - 1, int(np.ceil(rank)) + m)]


def test_component_predictions_fit_their_rows(recovery):
    model, Z, y, _, _, _ = recovery
    pred = model.predict_components(Z)[np.arange(len(y)), model.labels_]
    # noise sd is 0.1 against a y spread of about 5: the own-component fit must be tight
    assert np.sqrt(np.mean((pred - y) ** 2)) < 0.3


def test_credible_intervals_cover_the_truth(recovery):
    model, _, _, z, coef, _ = recovery
    lo, hi = model.coef_interval(0.95)
    covered = []
    for k in range(3):
        comp = np.bincount(model.labels_[z == k]).argmax()
        covered.append((lo[comp] <= coef[k]) & (coef[k] <= hi[comp]))
    # 150 coefficients at 95%: expect about 142; far fewer means the intervals are wrong.
    assert np.mean(covered) > 0.85


def test_same_seed_same_result():
    Z, y, *_ = sparse_mixture(seed=1, n=400, p=8)
    kw = dict(n_components=4, n_sweeps=60, random_state=3, progress=False)
    a = DPMixtureRegression(**kw).fit(Z, y)
    b = DPMixtureRegression(**kw).fit(Z, y)
    c = DPMixtureRegression(**kw, n_jobs=1).fit(Z, y)
    for other in (b, c):
        assert np.array_equal(a.coef_, other.coef_, equal_nan=True)
        assert np.array_equal(a.labels_, other.labels_)
    d = DPMixtureRegression(**{**kw, "random_state": 4}).fit(Z, y)
    assert not np.array_equal(a.coef_, d.coef_, equal_nan=True)


@pytest.mark.parametrize("init", ["random", "quantile", "kmeans", "labels"])
def test_every_initialisation_fits(init):
    Z, y, z, *_ = sparse_mixture(seed=2, n=600, p=6, n_active=3)
    start = z if init == "labels" else init
    m = DPMixtureRegression(4, n_sweeps=40, init=start, progress=False, random_state=0)
    labels = m.fit(Z, y).labels_
    assert labels.shape == (600,) and labels.min() >= 0 and labels.max() < 4
    if init == "quantile":  # the starting labels: 4 equal bins of y, in y's order
        start = initial_labels(Z, y, "quantile", 4)
        assert (np.diff(start[np.argsort(y)]) >= 0).all()
        assert np.ptp(np.bincount(start, minlength=4)) <= 1
    if init == "kmeans":  # on 3 clusters 30 sd apart, the clusters themselves
        rng = np.random.default_rng(5)
        truth = rng.integers(3, size=300)
        Zc = 30.0 * np.eye(6)[truth] + rng.standard_normal((300, 6))
        yc = 30.0 * truth + rng.standard_normal(300)
        # no row is nearer another cluster's centre, so seeds in the 3 clusters give
        # ARI 1; k-means++ seeds two in one (ARI ~ 0.5) with probability ~ (within-cluster
        # over between-cluster squared distance) < 1%; random labels give ARI ~ 0
        start = initial_labels(Zc, yc, "kmeans", 3)
        assert adjusted_rand_score(truth, start) > 0.9
    if init == "random":  # uniform over the 4: each holds 150 +- 11 of 600 (binomial sd)
        counts = np.bincount(initial_labels(Z, y, "random", 4), minlength=4)
        assert (np.abs(counts - 150) < 5 * 11).all()
    if init == "labels":  # the labels given, as they are
        np.testing.assert_array_equal(initial_labels(Z, y, z, 4), z)


def initial_labels(Z, y, init, J):
    """The labels a kernel chain starts from."""
    data = kernel.GibbsData.build(Z, y, make_backend("cpu", "float64"))
    params = kernel.SamplerParams(kernel.Priors(n_components=J), init=init)
    return kernel.init(np.random.default_rng(0), data, params).labels


def test_initial_labels_out_of_range_are_explained():
    Z, y, z, *_ = sparse_mixture(seed=2, n=600, p=6, n_active=3)
    with pytest.raises(ValueError, match="init labels must be 600 integers in"):
        DPMixtureRegression(4, n_sweeps=5, init=z + 4, progress=False).fit(Z, y)


def test_generator_random_state_is_accepted():
    Z, y, *_ = sparse_mixture(seed=1, n=200, p=5)
    a, b, c = (
        DPMixtureRegression(3, n_sweeps=20, progress=False, random_state=rng).fit(Z, y)
        for rng in (np.random.default_rng(0), np.random.default_rng(0), np.random.default_rng(1))
    )
    assert a.coef_.shape == (3, 5)
    np.testing.assert_array_equal(a.predict(Z), b.predict(Z))  # and used: same state, same fit
    assert not np.array_equal(a.predict(Z), c.predict(Z))


def test_a_random_state_is_taken_as_scikit_learn_takes_it(small, tmp_path):
    from scrutiny.surrogate.persist import load_regression, save_regression

    Z, y = small

    def seeded(random_state):
        return DPMixtureRegression(3, n_sweeps=10, progress=False, random_state=random_state)

    a, b = (seeded(np.random.RandomState(7)).fit(Z, y) for _ in range(2))
    np.testing.assert_array_equal(a.predict(Z), b.predict(Z))  # same state, same fit
    other = seeded(np.random.RandomState(8)).fit(Z, y)
    assert not np.array_equal(a.predict(Z), other.predict(Z))  # another state, another fit
    save_regression(a, tmp_path / "fit")  # its state is spent: the fit is what is saved
    assert load_regression(tmp_path / "fit").random_state is None
    with pytest.raises(ValueError, match="random_state must be a non-negative int, got -1"):
        seeded(-1).fit(Z, y)
    with pytest.raises(TypeError, match="random_state must be None, an int or a numpy"):
        seeded(True).fit(Z, y)


def test_get_set_params_round_trip():
    m = DPMixtureRegression(5, n_sweeps=50)
    params = m.get_params()
    assert params["n_components"] == 5 and params["n_sweeps"] == 50
    m2 = DPMixtureRegression().set_params(**params)
    assert m2.get_params() == params
    with pytest.raises(ValueError, match="unknown parameter"):
        m.set_params(n_componnets=3)
    assert "n_components=5" in repr(m)


def test_scikit_learn_model_selection_takes_it(small):
    from sklearn.base import is_regressor
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GridSearchCV, cross_val_score

    from scrutiny.surrogate.mirror import MirroredRegression

    Z, y = small
    model = quick()
    assert is_regressor(model)
    assert np.isfinite(cross_val_score(model, Z, y, cv=2)).all()  # scored by score()
    search = GridSearchCV(model, {"n_components": [2, 3]}, cv=2).fit(Z, y)
    assert search.best_estimator_.n_components in (2, 3)
    fit = model.fit(Z, y)
    assert fit.score(Z, y) == pytest.approx(r2_score(y, fit.predict(Z)), rel=1e-12)
    assert MirroredRegression(fit).score(Z, -y) == pytest.approx(fit.score(Z, y), rel=1e-12)
    assert fit.score(Z, np.full(40, 2.0)) == 0.0  # a constant y, missed: r2_score's 0


def test_a_mirrored_fit_reports_the_centre_and_bounds_of_minus_y(small):
    # the centring and censoring of a fit are functions of the data alone: the mirrored
    # fit of y must report what the fit of -y has
    from scrutiny.surrogate.mirror import MirroredRegression

    Z, y = small
    mirrored = MirroredRegression(quick().fit(Z, y + 3.0, lower=2.0))
    direct = quick().fit(Z, -(y + 3.0), upper=-2.0)
    for name in ("y_center_", "y_scale_", "censoring_", "n_censored_"):
        assert getattr(mirrored, name) == pytest.approx(getattr(direct, name), rel=1e-12)


def test_a_mirrored_fit_gives_a_rows_posterior_of_minus_y(small):
    """row_posterior passed through to the fit of y: weighted against +y and not negated,
    class 0's coefficients of a binary model read 1.19 where -0.0008 is right."""
    from scrutiny.surrogate.mirror import MirroredRegression

    Z, y = small
    fit = quick().fit(Z, y)
    coef, intercept, lower, upper = fit.row_posterior(Z[0], y[0])
    m_coef, m_intercept, m_lower, m_upper = MirroredRegression(fit).row_posterior(Z[0], -y[0])
    np.testing.assert_array_equal(m_coef, -coef)
    assert m_intercept == -intercept
    np.testing.assert_array_equal(m_lower, -upper)
    np.testing.assert_array_equal(m_upper, -lower)


def test_equal_weights_give_numpys_inverted_cdf_quantiles():
    """5 of 200 equal weights summed to just below 0.025: the lower end moved up a draw."""
    from scrutiny.surrogate.summaries import weighted_quantiles

    for n in (200, 1000, 37):
        v = np.random.default_rng(n).normal(size=(n, 3))
        got = weighted_quantiles(v, np.full(n, 1.0 / n), [0.025, 0.5, 0.975])
        for level, q in zip((0.025, 0.5, 0.975), got, strict=True):
            np.testing.assert_array_equal(q, np.quantile(v, level, axis=0, method="inverted_cdf"))


def test_bad_priors_are_named_before_sampling(small):
    Z, y = small
    with pytest.raises(ValueError, match=r"set \['n_components'\] as arguments"):
        DPMixtureRegression(3, n_sweeps=5, priors={"n_components": 4}, progress=False).fit(Z, y)
    with pytest.raises(ValueError, match=r"unknown prior\(s\) \['alpha'\]; valid ones are"):
        DPMixtureRegression(3, n_sweeps=5, priors={"alpha": 2.0}, progress=False).fit(Z, y)
    with pytest.raises(TypeError, match="priors must be a dict or None, got list"):
        DPMixtureRegression(3, n_sweeps=5, priors=[2.0], progress=False).fit(Z, y)
    fit = DPMixtureRegression(
        3, n_sweeps=5, priors={"concentration_shape": 2.0}, progress=False
    ).fit(Z, y)
    assert fit.coef_.shape == (3, 3)


# -- bad input ------------------------------------------------------------------------


@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 3)), rng.standard_normal(40)


def quick(**kw):
    return DPMixtureRegression(3, n_sweeps=10, progress=False, random_state=0, **kw)


@pytest.mark.parametrize(
    "mutate,match",
    [
        (
            lambda Z, y: (np.where(np.arange(Z.size).reshape(Z.shape) == 7, np.nan, Z), y),
            "Z contains NaN at index \\(2, 1\\)",
        ),
        (
            lambda Z, y: (Z, np.where(np.arange(40) == 5, np.inf, y)),
            "y contains an infinite value at index 5",
        ),
        (lambda Z, y: (Z[:, 0], y), "Z must be 2-D"),
        (lambda Z, y: (Z, y[:-1]), "y has 39 rows but the feature matrix has 40"),
        (lambda Z, y: (Z[:1], y[:1]), "at least 2 samples"),
        (lambda Z, y: (Z.astype(str).astype(object) + "x", y), "Z must be numeric"),
        (lambda Z, y: (Z, np.stack([y, y], axis=1)), "y must be 1-D"),
        # a pipeline fitted without y: "y must be 1-D (n_samples,); got shape ()"
        (lambda Z, y: (Z, None), "requires y to be passed, but the target y is None"),
    ],
)
def test_bad_input_gives_a_clear_error(small, mutate, match):
    Z, y = mutate(*small)
    with pytest.raises((ValueError, TypeError), match=match):
        quick().fit(Z, y)


def test_the_progress_bar_shows_only_when_asked(small, capfd):
    Z, y = small
    quick().fit(Z, y)  # progress=False
    assert capfd.readouterr().err == ""
    DPMixtureRegression(3, n_sweeps=10, random_state=0, progress=True).fit(Z, y)
    assert "DMM-MEN Gibbs" in capfd.readouterr().err


def test_input_arrays_are_not_modified(small):
    Z, y = small
    Z0, y0 = Z.copy(), y.copy()
    quick().fit(Z, y)
    assert np.array_equal(Z, Z0) and np.array_equal(y, y0)


def test_a_failed_refit_leaves_the_last_fit_whole(small):
    Z, y = small
    model = quick().fit(Z, y)
    before = {k: v for k, v in vars(model).items() if k.endswith("_")}
    with pytest.raises(ValueError, match="noise_shape must be positive"):
        model.set_params(priors={"noise_shape": 0.0}).fit(10 * Z, 100 * y + 5, lower=0.0)
    after = {k: v for k, v in vars(model).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    for name, value in before.items():  # the same objects: nothing was rewritten
        assert after[name] is value, name


def test_more_features_than_rows_fits():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((30, 200))
    y = Z[:, 0] * 2 + 0.1 * rng.standard_normal(30)
    m = DPMixtureRegression(2, n_sweeps=200, progress=False, random_state=0).fit(Z, y)
    assert np.isfinite(m.coef_[m.occupancy_ > 0]).all()
    assert np.argmax(np.abs(m.coef_[m.weights_.argmax()])) == 0


def test_constant_and_zero_columns_fit():
    rng = np.random.default_rng(2)
    Z = np.hstack([rng.standard_normal((60, 2)), np.zeros((60, 1)), np.full((60, 1), 3.0)])
    y = Z[:, 0] + 0.1 * rng.standard_normal(60)
    m = DPMixtureRegression(3, n_sweeps=20, progress=False, random_state=0).fit(Z, y)
    held = m.occupancy_ > 0
    assert np.isfinite(m.coef_[held]).all() and np.isfinite(m.intercept_[held]).all()
    # an all-zero feature never meets the data: its posterior mean is the prior's, exactly 0
    # (a Monte-Carlo mean of its prior draws would rank it at random), and its intervals
    # are the prior's: around 0, and in the main regime (about 60 rows, noise 0.1) several
    # times wider than the interval of the feature the data pin down
    assert (m.coef_[held, 2] == 0).all()
    # and predict's mixture too: a new row with that feature set moved it by prior noise
    assert m.mixture_coef_[2] == 0.0
    e2 = np.eye(4)[2:3]
    assert m.predict(e2)[0] == m.predict(np.zeros((1, 4)))[0]
    lo, hi = m.coef_interval(0.95)
    main = m.weights_.argmax()
    # each draw's sign is a fair coin, so an interval of m draws misses 0 with chance
    # 2^(1 - m): checked where a component held rows in 15 draws or more (6e-5 each); one
    # holding rows in 2 draws missed it in 12 of 40 seeds
    steady = (m.counts_draws_ > 0).sum(axis=0) >= 15
    assert steady[main]
    assert (lo[steady, 2] < 0).all() and (hi[steady, 2] > 0).all()
    assert hi[main, 2] - lo[main, 2] > 3 * (hi[main, 0] - lo[main, 0])
    # the intervals of some components only (what an explanation asks): the same numbers
    some = [main, int(np.flatnonzero(~held)[0]) if (~held).any() else main]
    part = m.coef_interval(0.95, components=some)
    for full, ends in zip((lo, hi), part, strict=True):
        np.testing.assert_array_equal(ends[some], full[some])
        assert np.isnan(np.delete(ends, some, axis=0)).all()


@pytest.mark.parametrize(
    "components,match",
    [
        (np.zeros(3, dtype=bool), "components selects no component"),
        ([], "components selects no component"),
        (np.ones(2, dtype=bool), r"one entry per component \(3\), got shape \(2,\)"),
        ([0, 3], "component index 3 is out of range for 3 components"),
        ([-4], "component index -4 is out of range for 3 components"),
        ([0.5], "components must be component indices or a boolean mask"),
    ],
)
def test_interval_components_take_a_mask_and_refuse_a_bad_selection(small, components, match):
    """A boolean mask (occupancy_ > 0, say) failed inside numpy, an all-False one gave NaN
    silently, an index past J a bare IndexError."""
    Z, y = small
    m = quick().fit(Z, y)
    main = m.weights_ == m.weights_.max()
    full = m.coef_interval()
    for ends, full_ends in zip(m.coef_interval(components=main), full, strict=True):
        np.testing.assert_array_equal(ends[main], full_ends[main])
        assert np.isnan(ends[~main]).all()
    with pytest.raises(ValueError, match=match):
        m.coef_interval(components=components)


def test_predict_is_the_posterior_mean_of_each_draws_mixture(small):
    """In each draw, the components holding rows weighted by their share of the weight
    among them; averaged over the draws (all of them stored here, in float32)."""
    Z, y = small
    m = DPMixtureRegression(3, n_sweeps=60, progress=False, random_state=0).fit(Z, 5 * y + 3)
    assert m.diagnostics_["n_kept_draws"] == len(m.counts_draws_)
    held = m.counts_draws_ > 0
    share = np.where(held, m.weights_draws_, 0.0)
    share /= share.sum(axis=1, keepdims=True)
    coef = np.where(held[..., None], m.coef_draws_.astype(np.float64), 0.0)
    per_draw = Z @ np.einsum("dj,djp->pd", share, coef) + (share * m.intercept_draws_).sum(1)
    np.testing.assert_allclose(m.predict(Z), per_draw.mean(axis=1), rtol=0, atol=1e-5)
    assert (m.occupancy_ < 1).any()  # a component held rows in some draws only
    from scrutiny.surrogate.mirror import MirroredRegression

    mirrored = MirroredRegression(m)  # the fit of -y: each part of the prediction negated
    assert mirrored.mixture_intercept_ == -m.mixture_intercept_
    np.testing.assert_array_equal(mirrored.mixture_coef_, -m.mixture_coef_)


def test_constant_response_fits():
    """The mixture predicts the constant, to its posterior mean's Monte-Carlo error (seeds
    0-99: 0.011 on average, sd 0.005, at most 0.032). ``predict`` as the product of the
    mean weights and the mean coefficients was off by more than 0.05 in 22 of them (up to
    0.41): a component holding a row or two in a few draws, its coefficients near their
    prior's, weighed in with a mean weight that counted its prior's where it was empty."""
    Z = np.random.default_rng(3).standard_normal((50, 4))
    m = DPMixtureRegression(3, n_sweeps=40, progress=False, random_state=0).fit(Z, np.full(50, 2.5))
    assert m.weights_.max() > 0.9  # seeds 0-99: at least 0.945
    np.testing.assert_allclose(m.predict(Z), 2.5, atol=0.05)


@pytest.mark.parametrize("scale", [1e-100, 1e-43, 1e40, 1e100])
def test_responses_of_any_float64_scale_keep_their_draws(scale):
    """The fit is on standardised y, so it is the same fit at every scale: only the units
    of its outputs change. Draws kept in float32 once overflowed to inf (1e40: intervals
    and responsibilities NaN) or rounded to 0 (1e-100: intervals [0, 0] around coef_)."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((100, 3))
    y = Z @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(100)
    ref = quick().fit(Z, y)
    m = quick().fit(Z, scale * y)
    held = m.occupancy_ > 0
    np.testing.assert_allclose(m.coef_[held], scale * ref.coef_[held], rtol=1e-5)
    lo, hi = m.coef_interval()
    ref_lo, ref_hi = ref.coef_interval()
    np.testing.assert_allclose(lo[held], scale * ref_lo[held], rtol=1e-5)
    np.testing.assert_allclose(hi[held], scale * ref_hi[held], rtol=1e-5)
    resp = m.responsibilities(Z, scale * y)
    np.testing.assert_allclose(resp, ref.responsibilities(Z, y), atol=1e-6)


@pytest.mark.parametrize("scale", [1e40, 1e100])
def test_features_of_any_float64_scale_keep_their_draws(scale):
    """Columns of 1e100 have coefficients of 1e-100, which the draws kept in float32 rounded
    to 0: intervals [0, 0] beside coef_. Columns past float32's 3.4e38 were inf in the
    responsibilities' product, where every row's density was 0 ("rescale y"). At 1e10 the
    priors of the coefficients are as flat as there: the same fit, in other units."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((100, 3))
    y = Z @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(100)

    def fit(s):
        return DPMixtureRegression(3, n_sweeps=40, progress=False, random_state=0).fit(s * Z, y)

    ref, m = fit(1e10), fit(scale)
    np.testing.assert_allclose(scale * m.coef_, 1e10 * ref.coef_, rtol=1e-6)
    for ends, ref_ends in zip(m.coef_interval(), ref.coef_interval(), strict=True):
        np.testing.assert_allclose(scale * ends, 1e10 * ref_ends, rtol=1e-6)
    np.testing.assert_allclose(
        m.responsibilities(scale * Z, y), ref.responsibilities(1e10 * Z, y), atol=1e-6
    )
    coef, _, lo, hi = m.row_posterior(scale * Z[0], y[0])
    ref_coef, _, ref_lo, ref_hi = ref.row_posterior(1e10 * Z[0], y[0])
    for a, b in ((coef, ref_coef), (lo, ref_lo), (hi, ref_hi)):
        np.testing.assert_allclose(scale * a, 1e10 * b, rtol=1e-6)


def test_draws_within_float32_keep_it_when_the_scale_of_y_is_beyond_it():
    """y spread over 1e39 (float32 ends at 3.4e38), its coefficients' draws about 2e37: they
    were multiplied by float32(1e39) = inf, and their intervals were NaN."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 2))
    y = 0.02 * (Z @ [1.0, -1.0]) + rng.standard_normal(200)
    ref = DPMixtureRegression(1, n_sweeps=30, progress=False, random_state=0).fit(Z, y)
    m = DPMixtureRegression(1, n_sweeps=30, progress=False, random_state=0).fit(Z, 1e39 * y)
    assert m.coef_draws_.dtype == np.float32 and np.isfinite(m.coef_draws_).all()
    # the same fit of standardised y (to its rounding), its outputs 1e39 times larger
    for ends, ref_ends in zip(m.coef_interval(), ref.coef_interval(), strict=True):
        np.testing.assert_allclose(ends, 1e39 * ref_ends, rtol=1e-5)


def test_responsibilities_survive_prior_draws_beyond_float64():
    """y at 1e152 fits (its variance is within float64), but an empty component's prior
    draw of the noise variance, and of its intercept's squared residual, overflow to inf:
    inf / inf made every row's responsibilities NaN and ``assign`` say 0. A variance beyond
    float64 now counts as infinite (density 0), which moves no row's component."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((100, 3))
    y = Z @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(100)

    # an overflowing draw is rare (in 10 sweeps, 13 of seeds 0-39 had one): over 200 sweeps,
    # 9.5 of 600 draws on average, at least 3, so the case is all but certain (e^-9.5)
    def fit(y):
        return DPMixtureRegression(3, n_sweeps=200, progress=False, random_state=0).fit(Z, y)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # quietly: inf is the draw's value in y's units
        m = fit(1e152 * y)
    assert np.isinf(m.noise_var_draws_).any()  # the case this test is about
    resp = m.responsibilities(Z, 1e152 * y)
    assert np.isfinite(resp).all() and np.allclose(resp.sum(axis=1), 1.0)
    np.testing.assert_array_equal(m.assign(Z, 1e152 * y), fit(y).assign(Z, y))


def test_responsibilities_survive_prior_draws_beyond_float32():
    """Under a vague noise prior, IG(0.001, 0.001), an empty component's prior draws reach
    coefficients of 1e150, which the draws keep in float32: inf. Its mean of a row was
    inf - inf = NaN, which made every row's responsibilities NaN and ``assign`` say 0.
    Such a draw explains no response (density 0): assign gives the fit's labels."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((80, 3))
    regime = rng.integers(2, size=80)
    y = np.where(regime == 0, Z @ [2.0, 0.0, -1.0], Z @ [-2.0, 1.0, 0.0])
    y = y + 0.1 * rng.standard_normal(80)
    vague = {"noise_shape": 0.001, "noise_scale": 0.001}
    with warnings.catch_warnings():
        # quietly: such draws are kept as inf, their R-hat and ESS by rank (a vague prior
        # is no error; the fit once gave a hundred overflow warnings)
        warnings.simplefilter("error")
        m = DPMixtureRegression(6, n_sweeps=40, progress=False, random_state=0, priors=vague)
        m = m.fit(Z, y)
        resp = m.responsibilities(Z, y)
    assert np.isinf(m.coef_draws_).any()  # the case this test is about
    assert np.isfinite(resp).all() and np.allclose(resp.sum(axis=1), 1.0)
    assert np.bincount(m.assign(Z, y)).max() < 80  # both regimes, not all in component 0
    assert (m.assign(Z, y) == m.labels_).mean() > 0.9
    with pytest.raises(ValueError, match="batch_size must be a whole number"):
        m.responsibilities(Z, y, batch_size=-1)


def test_nothing_to_regress_on_is_refused():
    """All-zero columns are dropped; with no intercept either, the sampler factorised 0 x 0
    matrices and failed inside numpy. With the intercept, it fits a constant."""
    y = np.random.default_rng(0).normal(size=20)
    with pytest.raises(ValueError, match="Z has no non-zero column and fit_intercept=False"):
        quick(fit_intercept=False).fit(np.zeros((20, 3)), y)
    assert np.isfinite(quick().fit(np.zeros((20, 3)), y).predict(np.zeros((2, 3)))).all()


def test_a_constant_y_is_constant_to_its_means_rounding_at_any_scale():
    """Ten times 1e-151 has a mean off by 1.7e-167, whose square is 0: refused as varying
    too little. 0.1 ten times has one off by 1e-17: its rounding was y's scale, and the
    fit's units 1e-17. A constant is fitted in units of 1 or of its own size, the smaller:
    in units of 1, a constant 1e-6 was predicted as -0.006 to 0.009 (the Monte-Carlo error
    of test_constant_response_fits, 0.01 of the unit)."""
    Z = np.random.default_rng(0).standard_normal((10, 2))
    least = np.sqrt(np.finfo(np.float64).tiny)  # a constant of 1e-200: variances not 0
    for value in (0.1 * 1e-150, 0.1 * 3, 0.7 * 3, 1e-6, 1e-200):
        y = np.full(10, value)
        reg = quick().fit(Z, y)
        assert reg.y_scale_ == min(1.0, max(abs(y.mean()), least))
        assert reg.y_center_ == y.mean()
        # 10 rows, 10 draws (seeds 0-59, of 1e-6: 0.063 of the unit on average, at most
        # 0.27); in units of 1, 1e-6 was off by 9,000 times itself
        assert np.abs(reg.predict(Z) - value).max() <= 0.5 * reg.y_scale_
    # varying by 24 ulps of its mean is no constant: fitted on its own scale, recovered
    Z = np.random.default_rng(1).standard_normal((40, 2))
    reg = DPMixtureRegression(1, n_sweeps=40, progress=False, random_state=0)
    reg.fit(Z, 1.7e9 + 3e-6 * Z[:, 0])
    assert reg.y_scale_ == pytest.approx(3e-6, rel=0.5)
    assert np.corrcoef(reg.predict(Z), Z[:, 0])[0, 1] > 0.99


@pytest.mark.parametrize("scale", [1e-160, 1e-170, 1e160])  # 1e-170: squares of exactly 0
def test_responses_whose_variance_leaves_float64_are_refused(scale):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((50, 2))
    with pytest.raises(ValueError, match="variance is beyond float64's range; rescale y"):
        quick().fit(Z, scale * (1.0 + Z[:, 0]))


@pytest.mark.parametrize("dtype,scale", [("float32", 1e19), ("float64", 1e154)])
def test_features_whose_squares_overflow_are_refused(small, dtype, scale):
    """Their Gram matrix is inf: the sampler failed deep inside ("noise-precision
    rejection sampler did not finish"). A hundredth of that (sums of squares of 40 rows at
    1e-4 of the range) still fits."""
    Z, y = small
    with pytest.raises(ValueError, match=f"Z is too large for dtype='{dtype}'.*column 1"):
        quick(dtype=dtype).fit(Z * [1.0, scale, 1.0], y)
    inside = Z * [1.0, scale / 100, 1.0]
    if dtype == "float32":  # no sum overflows, but its 7 digits are lost (test below)
        with pytest.raises(ValueError, match="beyond float32's 7 digits"):
            quick(dtype=dtype).fit(inside, y)
        return
    m = quick(dtype=dtype).fit(inside, y)
    assert np.isfinite(m.coef_[m.occupancy_ > 0]).all() and np.isfinite(m.predict(inside)).all()


def test_columns_far_from_zero_are_warned_of():
    """A column of mean 100 and sd 1 (300 rows): the intercept's N(0, 100 s2) prior cannot
    absorb 100 x its coefficient, which the fit shrinks by about a quarter (0.01 * 100^2 /
    (300 + 100)), its 95% interval missing the truth: said, not silent. Centred: no
    warning, and the truth."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((300, 3))
    y = Z @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(300)
    one = DPMixtureRegression(1, n_sweeps=60, progress=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        centred = one.fit(Z, y).coef_[0, 0]
    assert abs(centred - 1.0) < 0.02
    with pytest.warns(UserWarning, match=r"column\(s\) \[0\] of Z lie far from 0.*\(by 2[4-6]%"):
        m = one.fit(Z + np.array([100.0, 0.0, 0.0]), y)
    assert 0.6 < m.coef_[0, 0] < 0.85 and m.coef_interval()[1][0, 0] < 1.0
    # columns of noise, of 5 rows: some lie sqrt(5) sd from 0 by chance, none 10 sd
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quick().fit(rng.standard_normal((5, 400)), rng.standard_normal(5))


def test_a_column_constant_to_its_rounding_is_not_warned_of():
    """100.3 in every row has a standard deviation of rounding, 3e-14: its |mean| / sd of
    3.5e15 was warned of ("centre them"), though a constant column adds nothing to a fit
    with an intercept. A column off 0 for its spread still is."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((30, 2))
    y = Z @ [1.0, 2.0] + 0.1 * rng.standard_normal(30)
    constant = np.c_[Z, np.full(30, 100.3)]
    assert constant[:, 2].std() > 0  # the case this test is about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quick().fit(constant, y)
    with pytest.warns(UserWarning, match=r"column\(s\) \[2\] of Z lie far from 0"):
        quick().fit(np.c_[Z, 100.3 + rng.standard_normal(30)], y)


def test_unfitted_and_mismatched_use_is_explained(small):
    Z, y = small
    with pytest.raises(RuntimeError, match="not fitted"):
        quick().predict(Z)
    with pytest.raises((ValueError, AttributeError), match="not fitted"):  # scikit-learn's
        quick().predict(Z)
    from sklearn.exceptions import NotFittedError  # as a scikit-learn user catches it

    from scrutiny.surrogate.estimator import NotFittedError as Own

    for kind in (NotFittedError, Own):
        with pytest.raises(kind, match="not fitted") as raised:
            quick().coef_interval()
    again = pickle.loads(pickle.dumps(raised.value))  # as from a worker process
    assert isinstance(again, NotFittedError) and str(again) == str(raised.value)
    m = quick().fit(Z, y)
    with pytest.raises(ValueError, match="Z has 2 features but the model was fitted with 3"):
        m.predict(Z[:, :2])
    with pytest.raises(ValueError, match="level must be in"):
        m.coef_interval(1.5)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(n_components=0), "n_components"),
        (dict(burn_in=20), "burn_in < n_sweeps"),
        (dict(device="gpu"), "device must be"),
        (dict(dtype="float16"), "dtype must be"),
        (dict(init="spectral"), "init must be"),
        (dict(lambda1=-1.0), "lambda1 must be >= 0"),
        (dict(priors={"noise_shape": 0.0}), "noise_shape must be positive"),
        (dict(priors={"net_concentration": 0.0}), "net_concentration must be positive"),
        (dict(priors={"net_concentration": -0.5}), "net_concentration must be positive"),
        (dict(max_stored_draws=101), "max_stored_draws must be an even number >= 2, got 101"),
        # infinite ones failed deep inside the sampler: a FloatingPointError (lambda2), the
        # noise's rejection sampler (lambda1), numpy's "Probabilities contain NaN"
        (dict(lambda2=np.inf), "lambda2 must be > 0 and finite, got inf"),
        (dict(lambda1=np.inf), "lambda1 must be >= 0 and finite, got inf"),
        (dict(priors={"net_concentration": np.inf}), "net_concentration must be positive and"),
        (dict(priors={"lambda2_shape": np.inf}), "lambda2_shape must be positive and finite"),
        (dict(priors={"noise_scale": np.nan}), "noise_scale must be positive and finite"),
    ],
)
def test_bad_settings_give_a_clear_error(small, kw, match):
    settings = dict(n_components=3, n_sweeps=10, progress=False)
    settings.update(kw)
    with pytest.raises(ValueError, match=match):
        DPMixtureRegression(**settings).fit(*small)


@pytest.mark.parametrize(
    "kw", [dict(lambda2=np.inf), dict(lambda1=np.inf), dict(priors={"noise_shape": np.inf})]
)
def test_infinite_hyperparameters_are_refused_before_workers_start(kw):
    """check_settings, which callers run before they start fits in worker processes, named
    only unknown priors, not bad values."""
    with pytest.raises(ValueError, match=r"must be .* and finite, got inf"):
        check_settings(dict(n_components=3, **kw))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(n_sweeps=10, burn_in=20), "0 <= burn_in < n_sweeps"),
        (dict(thin=0), "thin >= 1"),
        (dict(n_chains=0), "n_chains >= 1"),
        (dict(max_stored_draws=3), "max_stored_draws must be an even number"),
        (dict(fit_intercept="no"), "fit_intercept must be True or False"),  # int("no")
        (dict(fit_intercept=0.5), "fit_intercept must be True or False"),  # ran, then broke
        (dict(standardize="no"), "standardize must be True or False"),  # read as True
        (dict(batch_chains="yes"), "batch_chains must be None, True or False"),
        (dict(init="foo"), "init must be 'kmeans', 'quantile', 'random'"),
        (dict(random_state=-1), "random_state must be a non-negative int"),
        (dict(lambda1=True), "lambda1 must be a number, got True"),  # was 1.0
        (dict(lambda2="1"), "lambda2 must be a number"),  # failed in a comparison
    ],
)
def test_settings_a_fit_would_refuse_are_refused_before_any_model_is_queried(kw, match):
    """The explainer checks its surrogate's settings when it is made: these passed, and
    failed only in a fit, after the model's queries (2,002 rows of a local explain)."""
    with pytest.raises(ValueError, match=match):
        check_settings(kw)


def test_an_uncentred_y_far_from_0_is_warned_of(small):
    """standardize=False leaves y's mean to the intercept, whose N(0, s2 / 0.01) prior then
    inflates the noise variance: y + 1000 over two regimes of noise sd 0.01 lost them."""
    Z, y = small
    fit = DPMixtureRegression(2, n_sweeps=10, standardize=False, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit.fit(Z, (y - y.mean()) / y.std())
    with pytest.warns(UserWarning, match=r"y lies far from 0 for its spread .*standardize=True"):
        fit.fit(Z, (y - y.mean()) / y.std() + 1000.0)


def test_a_saved_fit_loads_whole(small, tmp_path):
    """Plain files, names kept whole (dots included), settings given as numpy numbers or a
    Generator, predictions identical after loading."""
    from scrutiny.surrogate.persist import load_regression, save_regression

    Z, y = small
    fits = {
        "fit.v1": DPMixtureRegression(
            3, n_sweeps=10, progress=False, random_state=np.random.default_rng(0)
        ).fit(Z, y),
        "fit.v2": DPMixtureRegression(np.int64(3), n_sweeps=10, progress=False).fit(Z, y),
    }
    for name, reg in fits.items():
        npz, meta = save_regression(reg, tmp_path / name)
        assert (npz.name, meta.name) == (f"{name}.npz", f"{name}.json")
    for name, reg in fits.items():
        back = load_regression(tmp_path / name)
        np.testing.assert_array_equal(back.predict(Z), reg.predict(Z))
        assert back.n_components == 3


def test_a_fit_saved_before_predict_kept_its_mixture_loads_it_from_the_draws(small, tmp_path):
    """Files from before ``mixture_coef_``: the mean of each stored draw's mixture, which
    is the fit's own where every kept draw was stored (float32 draws: 1e-5)."""
    import copy

    from scrutiny.surrogate.persist import load_regression, save_regression

    Z, y = small
    reg = DPMixtureRegression(3, n_sweeps=40, progress=False, random_state=0).fit(Z, 5 * y + 3)
    assert reg.diagnostics_["n_kept_draws"] == len(reg.counts_draws_)
    old = copy.deepcopy(reg)
    del old.mixture_coef_, old.mixture_intercept_
    save_regression(old, tmp_path / "old")
    np.testing.assert_allclose(
        load_regression(tmp_path / "old").predict(Z), reg.predict(Z), atol=1e-5
    )


def test_a_mirrored_fit_is_saved_and_loads_mirrored(small, tmp_path):
    """Class 0 of a binary model reads class 1's fit mirrored: saving it wrote no arrays,
    and the file loaded as an estimator that was not fitted."""
    from scrutiny.surrogate.mirror import MirroredRegression
    from scrutiny.surrogate.persist import load_regression, save_regression

    Z, y = small
    reg = DPMixtureRegression(3, n_sweeps=10, progress=False, random_state=0).fit(Z, y, -1, 1)
    mirror = MirroredRegression(reg)
    save_regression(mirror, tmp_path / "class0")
    back = load_regression(tmp_path / "class0")
    assert isinstance(back, MirroredRegression) and back.censoring_ == mirror.censoring_
    np.testing.assert_array_equal(back.predict(Z), -reg.predict(Z))
    np.testing.assert_array_equal(back.responsibilities(Z, -y), reg.responsibilities(Z, y))
    np.testing.assert_array_equal(back.coef_interval()[0], mirror.coef_interval()[0])
    assert isinstance(load_regression(save_regression(reg, tmp_path / "c1")[0]), type(reg))


@pytest.mark.parametrize("setting", [{"n_sweeps": 2.5}, {"n_components": True}, {"thin": "2"}])
def test_counts_must_be_whole_numbers_not_cut_to_one(setting):
    Z, y = np.random.default_rng(0).normal(size=(30, 2)), np.zeros(30)
    name = next(iter(setting))
    with pytest.raises(ValueError, match=f"{name} must be a whole number"):
        DPMixtureRegression(**setting).fit(Z, y)


def test_a_dataframe_fit_is_predicted_only_with_its_columns_in_their_order(tmp_path):
    """Columns reordered were predicted as if in the fitted order (R^2 0.997 -> -3.0),
    silently; scikit-learn's estimators refuse them, as this one does now."""
    pd = pytest.importorskip("pandas")
    from scrutiny.surrogate.persist import load_regression, save_regression

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.standard_normal((80, 3)), columns=["a", "b", "c"])
    y = frame["a"] * 2.0 - frame["c"]
    m = quick().fit(frame, y)
    assert list(m.feature_names_in_) == ["a", "b", "c"]
    with pytest.warns(UserWarning, match="Z does not have valid feature names, but"):
        bare = m.predict(frame.to_numpy())  # read by position, as scikit-learn's warn
    np.testing.assert_array_equal(m.predict(frame), bare)
    for other in (frame[["c", "b", "a"]], frame.rename(columns={"a": "x"})):
        with pytest.raises(ValueError, match="are not those fitted, in their order"):
            m.predict(other)
    save_regression(m, tmp_path / "m")
    with pytest.raises(ValueError, match="are not those fitted"):
        load_regression(tmp_path / "m").predict(frame[["c", "b", "a"]])
    assert not hasattr(m.fit(frame.to_numpy(), y), "feature_names_in_")  # refitted on an array


def test_a_seed_sequence_seeds_every_fit_alike_and_is_left_as_it_was(tmp_path):
    """Its spawn() changed it: each fit, and each clone, drew other seeds; and a fit seeded
    so could not be saved."""
    from scrutiny.surrogate.persist import load_regression, save_regression

    Z, y = np.random.default_rng(4).standard_normal((40, 3)), np.arange(40.0) % 3
    seed = np.random.SeedSequence(7)
    a = DPMixtureRegression(3, n_sweeps=10, progress=False, random_state=seed).fit(Z, y)
    b = DPMixtureRegression(3, n_sweeps=10, progress=False, random_state=seed).fit(Z, y)
    np.testing.assert_array_equal(a.coef_draws_, b.coef_draws_)
    assert seed.n_children_spawned == 0
    save_regression(a, tmp_path / "a")
    np.testing.assert_array_equal(load_regression(tmp_path / "a").predict(Z), a.predict(Z))


def test_complex_numbers_are_refused_not_cast():
    Z, y = np.ones((5, 2)) * (1 + 2j), np.arange(5.0)
    with pytest.raises(TypeError, match="Z must be real numbers, got dtype complex128"):
        quick().fit(Z, y)
    with pytest.raises(TypeError, match="y must be real numbers"):
        quick().fit(Z.real, y + 1j)
    from scipy import sparse  # numpy said "setting an array element with a sequence"

    with pytest.raises(TypeError, match=r"Z is a sparse matrix: pass a dense one \(Z.toarray"):
        quick().fit(sparse.csr_matrix(Z.real), y)


def test_a_response_beyond_every_components_reach_is_refused_not_nan(small):
    """1e160: every component's log density -inf, responsibilities NaN, assign component
    0 silently, row_posterior an IndexError."""
    Z, y = small
    fit = quick().fit(Z, y)
    for call in (
        lambda: fit.responsibilities(Z[:2], [1e160, 0.0]),
        lambda: fit.assign(Z[:2], [1e160, 0.0]),
        lambda: fit.row_posterior(Z[0], 1e160),
    ):
        with pytest.raises(ValueError, match=r"row 0's response 1e\+160 has density 0"):
            call()


def test_a_rows_responsibilities_do_not_depend_on_the_rows_beside_it(recovery):
    """BLAS sums a row's products in an order that depends on the rows computed with it:
    an explanation's component probability moved (1e-8) with the inputs explained beside
    it, and with their order."""
    model, Z, y = recovery[:3]
    rows = slice(0, 37)  # an odd count: a tail that BLAS blocks apart from the rest
    together = model.responsibilities(Z[rows], y[rows])
    alone = np.vstack([model.responsibilities(Z[i : i + 1], y[i : i + 1]) for i in range(37)])
    np.testing.assert_array_equal(together, alone)
    reversed_ = model.responsibilities(Z[rows][::-1], y[rows][::-1])[::-1]
    np.testing.assert_array_equal(together, reversed_)


def test_float32_refuses_columns_beyond_its_digits():
    """Columns of mean 3,000 and sd 1 gave float32 coefficients [3.9, -6.9, 3.0] for
    [1, -2, 0.5], reported converged; columns of scale 1e8 gave a small component's draws
    residuals 66 times the noise. float64, or centred and scaled columns, fit them."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 3))
    y = Z @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(200)
    fit32 = DPMixtureRegression(2, n_sweeps=20, dtype="float32", progress=False, random_state=0)
    with pytest.raises(ValueError, match=r"float32's 7 digits: column\(s\) \[0, 1, 2\] lie far"):
        fit32.fit(Z + 3000, y)
    with pytest.raises(ValueError, match=r"7 digits: its columns reach a scale of 1.02e\+08"):
        fit32.fit(Z * 1e8, y)
    fit32.fit(Z + 30, y)  # within its digits
    DPMixtureRegression(2, n_sweeps=20, progress=False, random_state=0).fit(Z + 3000, y)
    # a column constant to rounding (a grey border: sd 1e-17) holds no spread to lose; it
    # was refused, and so was every explainer of images with one
    grey = np.c_[Z, np.full(200, 0.3)]
    assert 0 < grey[:, 3].std() < 1e-15  # the case: rounding's spread, not none
    fit32.fit(grey, y)


def test_a_residual_past_float32s_range_is_density_0_without_a_warning():
    """y ~ 1e20 left unstandardised in float32: a residual's square passing float32's range
    under a component it lies 4e9 sd from warned of an overflow in a correct fit."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((100, 3))
    y = (Z @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(100)) * 1e20
    fit = DPMixtureRegression(
        2, n_sweeps=60, n_chains=2, standardize=False, dtype="float32", progress=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit.set_params(random_state=0).fit(Z, y)


def test_a_component_seen_in_one_draw_has_no_spread_and_the_counts_and_trace_have_units():
    """A component that held rows in one kept draw had coef_std_ exactly 0 and an interval
    [v, v], read as certainty about a single draw; n_stored_draws counted one chain where
    n_kept_draws counted all (none thinned read as half dropped); the log-likelihood trace
    was in standardised units, the same for y and 1000 y."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(40, 3))
    y = Z @ [1.0, 5.0, 0.5] + 0.1 * rng.normal(size=40)
    m = DPMixtureRegression(6, n_sweeps=30, progress=False, random_state=0).fit(Z, y)
    held = (m.counts_draws_ > 0).sum(axis=0)
    assert (held == 1).any() and (held >= 2).any()  # this seed has both
    assert np.isnan(m.coef_std_[held == 1]).all() and np.isfinite(m.coef_std_[held >= 2]).all()
    lo, hi = m.coef_interval()
    assert np.isnan(lo[held == 1]).all() and (hi[held >= 2] > lo[held >= 2]).all()
    d = m.diagnostics_
    assert d["n_stored_draws"] == d["n_kept_draws"] == len(m.coef_draws_) == 30
    from scrutiny.explainer import _intervals

    lo, hi = _intervals(m, np.arange(6))  # an explanation's: NaN, not [0, 0] around coef_
    assert np.isnan(lo[held == 1]).all() and (lo[held == 0] == 0).all()
    big = DPMixtureRegression(6, n_sweeps=30, progress=False, random_state=0).fit(Z, 1000 * y)
    shift = big.diagnostics_["log_likelihood_trace"] - d["log_likelihood_trace"]
    np.testing.assert_allclose(shift, -40 * np.log(1000.0), rtol=1e-9)  # a density's units


def test_a_row_is_explained_only_with_its_columns_in_their_order():
    """row_posterior read a reordered row (a Series, or a frame of one row) by position,
    where predict refuses it: another regime's coefficients, with no error. A frame given
    where an array was fitted, or the other way round, is read by position with
    scikit-learn's warning."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.standard_normal((80, 3)), columns=["a", "b", "c"])
    y = frame["a"] * 2.0 - frame["c"]
    m = quick().fit(frame, y)
    reordered = frame[["c", "b", "a"]]
    for row in (reordered.iloc[0], reordered.iloc[[0]]):
        with pytest.raises(ValueError, match="are not those fitted, in their order"):
            m.row_posterior(row, y[0])
    with pytest.warns(UserWarning, match="Z does not have valid feature names"):
        by_position = m.row_posterior(frame.to_numpy()[0], y[0])[0]
    for row in (frame.iloc[0], frame.iloc[[0]]):
        np.testing.assert_array_equal(m.row_posterior(row, y[0])[0], by_position)
    bare = quick().fit(frame.to_numpy(), y)
    with pytest.warns(UserWarning, match="Z has feature names, but DPMixtureRegression was") as w:
        bare.predict(frame)
    assert w[0].filename == __file__  # the caller's line, not the library's
    with warnings.catch_warnings():  # integer labels (a frame of an array) name nothing
        warnings.simplefilter("error")
        bare.predict(pd.DataFrame(frame.to_numpy()))
        quick().fit(pd.DataFrame(frame.to_numpy()), y).predict(frame.to_numpy())


def test_a_spread_set_by_a_few_rows_is_warned_of():
    """Three outputs of 1e6 among 300 of sd ~3.5 made y's unit 1e5: every regime's noise
    sd was thousands (8,663 for 0.1), silently. A decisive minority (5% of rows 20 away,
    as a local fit's perturbations that remove one word) is no such case: its regimes' noise
    is not swamped (spread / sqrt(n) 0.14 against their sd of 0.1)."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(300, 3))
    y = Z @ [1.0, 2.0, 3.0] + 0.1 * rng.normal(size=300)
    spiked = y.copy()
    spiked[:3] = 1e6
    with pytest.warns(UserWarning, match=r"set by 3 of 300 rows far from them") as w:
        quick().fit(Z, spiked)
    assert w[0].filename == __file__
    spiked[3:163] = 0.0  # most rows tied: their median distance is 0, the others' is not
    with pytest.warns(UserWarning, match=r"set by 3 of 300 rows far from them"):
        quick().fit(Z, spiked)
    decisive = np.where(rng.random(1000) < 0.05, -10.0, 10.0) + 0.1 * rng.normal(size=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quick().fit(Z, y)
        quick().fit(rng.normal(size=(1000, 3)), decisive)
