"""Regression models (``outputs="values"``): their values explained as they are, uncensored,
tested by the drop of the output (``fidelity.deletion``), against baselines in LIME's
regression mode, KernelSHAP, exact Shapley values and TreeSHAP, on a linear model whose
exact contributions are known and on the real Ames house prices."""

import os

import numpy as np
import pytest

from scrutiny import Explainer, ModelAdapter, fidelity
from scrutiny.baselines import exact_shapley, kernel_shap, lime_tabular, random_explanation
from scrutiny.datasets.modeldata import DEFAULT_DIR
from scrutiny.models import ModelError

COEF = np.array([3.0, -2.0, 0.5, 0.0, 1.5])
OFFSET = 250.0  # far beyond the +-16 at which class logits are censored


def linear(X):
    """A regression model whose exact contributions are coef * (x - baseline)."""
    return np.asarray(X, dtype=np.float64) @ COEF + OFFSET


def table(n=500, seed=0):
    return np.random.default_rng(seed).normal(size=(n, COEF.size))


def test_a_regression_model_gives_its_values_and_no_classes():
    adapter = ModelAdapter(linear, outputs="values", batch_size=64)
    X = table(100)
    out = adapter.responses(X)
    assert out.shape == (100, 1)
    np.testing.assert_array_equal(out[:, 0], linear(X))
    assert adapter.n_calls == 2 and adapter.n_rows == 100
    with pytest.raises(ValueError, match="no class probabilities"):
        adapter.log_proba(X)
    with pytest.raises(ValueError, match=r"predicts no class.*fidelity\.deletion"):
        adapter.predict(X)
    with pytest.raises(ValueError, match="'probabilities', 'logits' or 'values'"):
        ModelAdapter(linear, outputs="value")


def test_a_regression_model_that_returns_nan_or_changes_its_outputs_is_refused():
    def bad(X):
        out = linear(X)
        out[3] = np.nan
        return out

    with pytest.raises(ModelError, match=r"non-finite values.*row 3 it was asked about"):
        ModelAdapter(bad, outputs="values").responses(table(10))
    calls = iter([np.zeros((4, 2)), np.zeros((4, 3))])
    adapter = ModelAdapter(lambda X: next(calls), outputs="values", batch_size=4)
    with pytest.raises(ModelError, match="3 outputs where it returned 2"):
        adapter.responses(table(8))


def test_a_scikit_learn_regressor_is_queried_through_predict():
    from sklearn.linear_model import LinearRegression

    X = table()
    reg = LinearRegression().fit(X, linear(X))
    adapter = ModelAdapter(reg, outputs="values")
    assert adapter.kind == "sklearn"
    np.testing.assert_allclose(adapter.responses(X[:5])[:, 0], linear(X[:5]))
    with pytest.raises(TypeError, match="outputs='values'"):
        ModelAdapter(reg)  # a regressor as a classifier: no predict_proba
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(X, linear(X) > OFFSET)
    with pytest.raises(ValueError, match=r"is a classifier: explain its classes with outputs='p"):
        ModelAdapter(clf, outputs="values")


@pytest.mark.parametrize("mode", ["global", "guided", "local"])
def test_each_mode_recovers_a_linear_models_exact_contributions(mode):
    """The output of a linear model is explained as it is: no censoring at +-16 (the
    output is 250), each column's contribution coef * (x - mean) to within 5% of the
    largest, and the surrogate's output to within 2% of the output's spread (the posterior's
    spread on 500 noise-free rows, and the prior's pull; censored at +-16, it would be off
    by over 200)."""
    X = table()
    ex = Explainer(
        linear,
        X,
        mode=mode,
        outputs="values",
        surrogate=None if mode == "local" else {"n_sweeps": 200},
        n_samples=200 if mode == "local" else None,
        progress=False,
        random_state=0,
    )
    exp = ex.explain(X[:5])
    assert exp.meta["outputs"] == "values"
    assert (exp.target == 0).all()
    np.testing.assert_allclose(exp.model_logit, linear(X[:5]))
    exact = COEF * (X[:5] - X.mean(axis=0))
    assert np.abs(exp.values - exact).max() < 0.05 * np.abs(exact).max()
    assert np.abs(exp.surrogate_logit - linear(X[:5])).max() < 0.02 * linear(X).std()


def test_a_regression_with_several_outputs_explains_the_one_asked_for():
    def two(X):
        return np.column_stack([linear(X), -linear(X)])

    X = table()
    ex = Explainer(two, X, outputs="values", surrogate={"n_sweeps": 100}, progress=False)
    second = ex.explain(X[:3], target=1)
    assert (second.target == 1).all()
    np.testing.assert_allclose(second.model_logit, -linear(X[:3]))
    exact = -COEF * (X[:3] - X.mean(axis=0))
    assert np.abs(second.values - exact).max() < 0.05 * np.abs(exact).max()


def test_an_image_regression_is_explained_pixel_by_pixel():
    """Images too: a brightness meter that weighs a 2x4 patch (weight 5) and the rest (0.1)
    gets each pixel's contribution, weight x value against the black baseline, and removing
    the top 8 pixels lowers its output more than removing 8 random ones."""
    rng = np.random.default_rng(2)
    images = rng.uniform(size=(400, 8, 8))
    weight = np.full((8, 8), 0.1)
    weight[3:5, 2:6] = 5.0

    def meter(X):
        return 100.0 + np.einsum("nij,ij->n", np.asarray(X), weight)

    ex = Explainer(meter, images, outputs="values", surrogate={"n_sweeps": 100}, progress=False)
    exp = ex.explain(images[:5])
    exact = weight * images[:5]
    assert np.abs(exp.values - exact).max() < 0.05 * exact.max()
    drop = fidelity.deletion(meter, exp, ks=(8,)).mean()
    chance = fidelity.deletion(meter, random_explanation(exp, 0), ks=(8,)).mean()
    assert drop > chance + 10.0  # the patch: about 8 x 5 x 0.5 = 20; 8 random pixels: ~3


def test_a_constant_output_is_refused_by_name():
    X = table(100)
    ex = Explainer(lambda X: np.full(len(X), 7.0), X, outputs="values", progress=False)
    with pytest.raises(ValueError, match="output 0 on every fit input is 7, the same"):
        ex.fit()


def test_deletion_measures_the_drop_of_the_explained_output():
    """On a linear model, switching off the top k columns lowers the output by exactly the
    sum of their contributions; the exact explanation's drop beats random columns'."""
    X = table()
    exp = exact_shapley(ModelAdapter(linear, outputs="values"), X[:20], _rep(X))
    np.testing.assert_allclose(exp.values, COEF * (X[:20] - X.mean(axis=0)), atol=1e-9)
    drop = fidelity.deletion(linear, exp, ks=(1, 2))  # a plain model: meta says values
    top = exp.top(2)
    rows = np.arange(20)
    np.testing.assert_allclose(drop[0], exp.values[rows, top[:, 0]], atol=1e-9)
    np.testing.assert_allclose(drop[1], exp.values[rows[:, None], top].sum(axis=1), atol=1e-9)
    chance = fidelity.deletion(linear, random_explanation(exp, 0), ks=(1, 2))
    assert (drop.mean(axis=1) > chance.mean(axis=1) + 1.0).all()
    with pytest.raises(ValueError, match="predicts no class"):
        fidelity.deduction(linear, exp)


def test_deletion_of_a_classifier_is_the_drop_of_its_class_logit():
    from scipy.special import log_softmax

    W = np.random.default_rng(1).normal(size=(COEF.size, 3))

    def logits(X):
        return np.asarray(X) @ W

    X = table(200)
    ex = Explainer(logits, X, outputs="logits", surrogate={"n_sweeps": 50}, progress=False)
    exp = ex.explain(X[:10])
    drop = fidelity.deletion(logits, exp, ks=(1,))[0]  # read as logits: the explanation's
    off = X[:10].copy()
    rows = np.arange(10)
    off[rows, exp.top(1)[:, 0]] = exp.baseline[exp.top(1)[:, 0]]

    def class_logit(Z, c):
        log_p = log_softmax(logits(Z), axis=1)[rows, c]
        others = np.log(1 - np.exp(log_p))
        return log_p - others

    expected = class_logit(X[:10], exp.target) - class_logit(off, exp.target)
    np.testing.assert_allclose(drop, expected, rtol=1e-6, atol=1e-8)


def test_deletion_stays_finite_where_a_probability_is_rounded_to_one():
    """A model certain of its class (p = 1.0 exactly: log(1 - p) = -inf) until its top
    column is removed: the logit is taken within +-100, so the drop is finite."""

    def certain(X):
        p = np.where(np.asarray(X)[:, 0] > 0, 1.0, 0.5)
        return np.column_stack([1.0 - p, p])

    from scrutiny.representations import TabularRepresentation

    X = np.abs(table(3)) + 0.1  # column 0 on: certain; at the baseline 0: p = 0.5
    exp = exact_shapley(certain, X, TabularRepresentation(COEF.size, np.zeros(COEF.size), 1.0))
    assert (exp.top(1)[:, 0] == 0).all() and np.isfinite(exp.values).all()
    drop = fidelity.deletion(certain, exp, ks=(1,))[0]
    assert np.isfinite(drop).all() and (drop == 100.0).all()  # from +100 to logit(0.5) = 0


def test_baselines_explain_a_regression_in_its_own_units():
    """KernelSHAP finds the exact contributions of a linear model; LIME, in its regression
    mode, gives the positive columns positive weights (LIME files them under label 1 and
    their negatives under 0: reading label 0 flips every sign)."""
    pytest.importorskip("shap")
    pytest.importorskip("lime")
    X = table()
    adapter = ModelAdapter(linear, outputs="values")
    rep = _rep(X)
    ks = kernel_shap(adapter, X[:3], representation=rep, l1_reg=False, progress=False)
    assert ks.meta["scale"] == "value" and ks.meta["outputs"] == "values"
    np.testing.assert_allclose(ks.values, COEF * (X[:3] - X.mean(axis=0)), atol=1e-6)
    np.testing.assert_allclose(ks.surrogate_logit, linear(X[:3]), atol=1e-6)
    plain = kernel_shap(linear, X[:3], representation=rep, outputs="values", progress=False)
    np.testing.assert_allclose(plain.values, ks.values, atol=1e-6)  # a plain model, told
    assert fidelity.approximation_error(ks) < 1e-6  # in the output's units: it is exact
    assert fidelity.heldout_error(linear, ks) < 1e-6  # and additive, as the model is
    with pytest.raises(ValueError, match="lime_image explains classifiers"):
        from scrutiny.baselines import lime_image

        lime_image(adapter, np.zeros((1, 4, 4)))
    lime = lime_tabular(linear, X[:3], X, num_samples=500, progress=False, outputs="values")
    strong = [0, 1, 4]  # coefficients 3, -2 and 1.5: each bin's weight has the same sign
    assert (np.sign(lime.coefficients[:, strong]) == np.sign(COEF[strong])).all()


def test_lime_without_bins_gives_effects_not_weights_per_standard_deviation():
    """Undiscretized, LIME regresses on columns standardised around the training mean:
    its weight times the input's standardised value is the column's effect. The weight
    alone has the coefficient's sign whichever side of the mean the input lies."""
    pytest.importorskip("lime")
    X = table()
    rows = X[:6]
    lime = lime_tabular(
        linear,
        rows,
        X,
        num_samples=2000,
        discretize_continuous=False,
        progress=False,
        outputs="values",
    )
    exact = COEF * (rows - X.mean(axis=0))
    np.testing.assert_allclose(lime.values, exact, atol=0.05 * np.abs(exact).max())
    np.testing.assert_allclose(lime.surrogate_logit, linear(rows), atol=0.05)


def test_tree_shap_of_a_regressor_is_the_exact_shapley_value():
    pytest.importorskip("shap")
    from sklearn.ensemble import GradientBoostingRegressor

    from scrutiny.baselines import tree_shap

    X = table(400)
    y = X[:, 0] * X[:, 1] + X[:, 2] + 100.0
    reg = GradientBoostingRegressor(n_estimators=50, random_state=0).fit(X, y)
    baseline = X.mean(axis=0)
    tree = tree_shap(reg, X[:4], baseline)
    assert tree.meta["scale"] == "value"
    exact = exact_shapley(ModelAdapter(reg, outputs="values"), X[:4], _rep(X))
    np.testing.assert_allclose(tree.values, exact.values, rtol=1e-6, atol=1e-8)


def test_tree_shap_takes_an_array_baseline_in_xs_order_and_a_series_by_name():
    """An array baseline follows X's columns as given, a Series its names, whatever the
    order of X's columns and of the model's."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("shap")
    from sklearn.ensemble import GradientBoostingRegressor

    from scrutiny.baselines import tree_shap

    X = table(400)[:, :3]
    frame = pd.DataFrame(X, columns=["area", "rooms", "age"])
    target = X[:, 0] * 3 + X[:, 1] * X[:, 2]
    reg = GradientBoostingRegressor(n_estimators=50, random_state=0).fit(frame, target)
    mean = frame.mean()
    in_order = tree_shap(reg, frame[:4], mean.to_numpy())
    flipped = frame[["age", "area", "rooms"]][:4]
    for baseline in (mean, mean[["age", "area", "rooms"]].to_numpy()):
        values = tree_shap(reg, flipped, baseline).values
        np.testing.assert_allclose(values[:, [1, 2, 0]], in_order.values, rtol=1e-12)


def test_a_saved_regression_explainer_loads_and_refuses_another_model(tmp_path):
    X = table(200)
    ex = Explainer(linear, X, outputs="values", surrogate={"n_sweeps": 50}, progress=False)
    ex.fit()
    path = ex.save(tmp_path / "reg")
    back = Explainer.load(path, linear)
    assert back.model.regression
    np.testing.assert_array_equal(back.explain(X[:3]).values, ex.explain(X[:3]).values)
    with pytest.raises(ValueError, match=r"not the one.*outputs"):
        Explainer.load(path, lambda X: linear(X) + 1.0)


def test_a_regression_explainer_loads_only_as_one_and_is_checked_without_fit_queries(tmp_path):
    """outputs= at load switched a saved regression to class logits (two outputs: loaded,
    with no word) and a classifier to values (refused as 'not the one'); a regression
    fitted in local mode, which never queries the fit data, kept no range to judge its
    probe by and loaded with any model (values 16 apart)."""
    X = table(200)
    two = Explainer(
        lambda R: np.stack([linear(R), -linear(R)], axis=1),
        X,
        outputs="values",
        surrogate={"n_sweeps": 20},
        progress=False,
    ).fit()
    path = two.save(tmp_path / "two")
    for outputs in ("logits", "probabilities"):
        with pytest.raises(
            ValueError, match=r"fitted to a regression's values \(outputs='values'\)"
        ):
            Explainer.load(path, two.model._call, outputs=outputs)
    clf = Explainer(
        lambda R: np.stack([1 - 1 / (1 + np.exp(-R[:, 0])), 1 / (1 + np.exp(-R[:, 0]))], 1),
        X,
        surrogate={"n_sweeps": 20},
        progress=False,
    ).fit()
    path = clf.save(tmp_path / "clf")
    adapter = ModelAdapter(clf.model._call, outputs="values")
    with pytest.raises(ValueError, match=r"fitted to a classifier's class logits.*it cannot"):
        Explainer.load(path, adapter)
    local = Explainer(linear, X, outputs="values", mode="local", progress=False)
    local.explain(X[:2], n_samples=30)
    for fit_data in (True, False):
        path = local.save(tmp_path / f"local{fit_data}", fit_data=fit_data)
        Explainer.load(path, linear)
        with pytest.raises(ValueError, match=r"not the one.*range over the fit data"):
            Explainer.load(path, lambda R: linear(R) + 1.0)  # 1 in a range of about 20
    # one fit row: a range of 0, by which rounding read 1e293 times the tolerance
    one = Explainer(linear, X[:1], outputs="values", mode="local", progress=False)
    path = one.save(tmp_path / "one")
    Explainer.load(path, lambda R: linear(R) * (1 + 4e-16))  # the same model, rounded apart


def _rep(X):
    from scrutiny.representations import TabularRepresentation

    return TabularRepresentation(X.shape[1], X.mean(axis=0), 1.0)


needs_modeldata = pytest.mark.skipif(
    not (DEFAULT_DIR / "Rdata.rdx").is_file() and not os.environ.get("SCRUTINY_MODELDATA"),
    reason="Debian's r-cran-modeldata is not installed (.ci/run installs it)",
)


@needs_modeldata
def test_real_house_prices_are_explained_in_dollars():
    """The Ames houses and the zoo's price model behind a one-hot encoder: guided
    explanations, in $1,000, lower the predicted price as much as the exact Shapley values'
    ranking does (within $5k at k = 3, a seventh of its $35k; the benchmark's 200 houses put
    guided mode $0.9k above it), and far more than random ($4k)."""
    pytest.importorskip("rdata")
    from scrutiny.datasets import load_ames
    from scrutiny.zoo import house_price_model

    X_fit, _ = load_ames("train")
    X_test, _ = load_ames("test")
    assert X_fit.shape == (2209, 14) and X_test.shape == (700, 14)
    assert X_fit["Neighborhood"].cat.categories.equals(X_test["Neighborhood"].cat.categories)
    model, facts = house_price_model()
    assert facts["test_r2"] > 0.8
    ex = Explainer(model, X_fit, outputs="values", progress=False, random_state=0)
    exp = ex.explain(X_test[:20], mode="guided")
    assert exp.meta["feature_names"] == list(X_fit.columns)
    exact = exact_shapley(ex.model, X_test[:20], ex.representation)
    ours, theirs = (fidelity.deletion(model, e, ks=(3,)).mean() for e in (exp, exact))
    chance = fidelity.deletion(model, random_explanation(exp, 0), ks=(3,)).mean()
    assert ours > theirs - 5.0 and ours > chance + 20.0


def test_plots_and_to_shap_name_a_regressions_targets_outputs():
    """A regression model has outputs, not classes: the plots' and to_shap's words for
    its targets said "class 5" and "classes [0, 1]"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scrutiny import plots

    X = table(200)
    two = Explainer(
        lambda Z: np.stack([linear(Z), -linear(Z)], axis=1), X, outputs="values", random_state=0
    )
    exp = two.explain(X[:4], target=np.array([0, 1, 0, 1]))
    _, ax = plt.subplots()
    with pytest.warns(UserWarning, match=r"explained for outputs \[0, 1\], drawn together"):
        plots.beeswarm(exp, ax=ax)
    with pytest.raises(ValueError, match="no input is explained for output 5"):
        plots.importance_bars(exp, target=5, ax=ax)
    with pytest.raises(ValueError, match="target must be an output, a whole number"):
        plots.beeswarm(exp, target=0.5, ax=ax)
    plt.close("all")
    with pytest.warns(UserWarning, match=r"explained for outputs \[0, 1\]: shap's plots"):
        exp.to_shap()
