"""The tabular case: the real credit data, the reference gradient-boosted trees, LIME's
tabular explainer and the exact Shapley values of the fidelity tests' game (TreeSHAP),
checked against a brute-force sum over every coalition."""

import itertools
import math
import os

import numpy as np
import pytest

from scrutiny.datasets.modeldata import DEFAULT_DIR

pytest.importorskip("sklearn")

needs_modeldata = pytest.mark.skipif(
    not (DEFAULT_DIR / "Rdata.rdx").is_file() and not os.environ.get("SCRUTINY_MODELDATA"),
    reason="Debian's r-cran-modeldata is not installed (.ci/run installs it)",
)


def trees(seed=0):
    """Boosted trees on 4 columns with an interaction (x0 * x1) and an additive x2; x3 is
    noise the trees may still split on."""
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, 4))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    return GradientBoostingClassifier(n_estimators=50, random_state=0).fit(X, y), X


def brute_force_shapley(f, x, b):
    """Shapley values of v(S) = f(x on S, b elsewhere) by the sum over all coalitions."""
    p = len(x)
    phi = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for S in itertools.combinations(others, size):
                on = np.zeros(p, dtype=bool)
                on[list(S)] = True
                without = np.where(on, x, b)
                on[j] = True
                phi[j] += weight * (f(np.where(on, x, b)) - f(without))
    return phi


def test_tree_shap_is_the_exact_shapley_value_of_the_tests_game():
    pytest.importorskip("shap")
    from scrutiny.baselines import tree_shap

    clf, X = trees()
    baseline = X.mean(axis=0)
    exp = tree_shap(clf, X[:4], baseline)
    assert set(exp.target) == {0, 1}  # both signs of the log-odds

    def log_odds(row):
        return float(clf.decision_function(row[None, :])[0])

    for i in range(4):
        sign = 1.0 if exp.target[i] == 1 else -1.0  # the explained class's log-odds
        expected = sign * brute_force_shapley(log_odds, X[i], baseline)
        np.testing.assert_allclose(exp.values[i], expected, rtol=1e-6, atol=1e-9)
    assert exp.meta["model_queries"] == 0
    np.testing.assert_allclose(exp.surrogate_logit, exp.model_logit, rtol=1e-6)


def test_tree_shap_matches_a_dataframes_columns_to_the_models_by_name():
    """shap reads columns by position: X with its columns in another order than the model
    was fitted on must give each column its own value, not its neighbour's."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("shap")
    from scrutiny.baselines import tree_shap

    clf, X = trees()
    names = ["a", "b", "c", "d"]
    frame = pd.DataFrame(X, columns=names)
    clf.fit(frame, (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int))
    mean = frame.mean()
    exp = tree_shap(clf, frame[:4], mean)
    shuffled = tree_shap(clf, frame[names[::-1]][:4], mean)
    np.testing.assert_allclose(shuffled.values, exp.values[:, ::-1], rtol=1e-9)
    assert shuffled.feature_names == names[::-1]


def test_tree_shap_refuses_a_forest_of_probabilities_by_name():
    """A random forest's trees add up to probabilities, per class: not the log-odds game."""
    pytest.importorskip("shap")
    from sklearn.ensemble import RandomForestClassifier

    from scrutiny.baselines import tree_shap

    _, X = trees()
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, X[:, 0] > 0)
    with pytest.raises(ValueError, match="RandomForestClassifier values of shape"):
        tree_shap(forest, X[:3], X.mean(axis=0))


def test_lime_tabular_finds_the_decisive_column_and_is_seeded():
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_tabular
    from scrutiny.models import ModelAdapter

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    X[:, 4] = rng.integers(2, size=400)  # a 0/1 column, taken as a category

    def proba(X):  # column 2 decides, column 4 a little
        z = 4.0 * X[:, 2] + 0.5 * X[:, 4]
        p = 1 / (1 + np.exp(-z))
        return np.stack([1 - p, p], axis=1)

    rows = X[np.abs(X[:, 2]) > 1][:4]
    adapter = ModelAdapter(proba)
    exp = lime_tabular(adapter, rows, X, num_samples=300, progress=False)
    assert (exp.top(1)[:, 0] == 2).all()
    assert exp.meta["queries_per_explanation"] <= 300 + 1  # + the targets
    again = lime_tabular(ModelAdapter(proba), rows, X, num_samples=300, progress=False)
    np.testing.assert_array_equal(exp.values, again.values)
    # LIME reads columns by position: X's are matched to X_train's by name, and the model,
    # fitted on X_train, gets them in its order (X_train's were put in X's, and a model
    # reading by position got X's columns swapped)
    pd = pytest.importorskip("pandas")
    names = ["a", "b", "c", "d", "e"]
    train, table = pd.DataFrame(X, columns=names), pd.DataFrame(rows, columns=names)
    aligned = lime_tabular(proba, table, train, num_samples=300, progress=False)
    other = lime_tabular(proba, table[names[::-1]], train, num_samples=300, progress=False)
    assert other.feature_names == names
    np.testing.assert_array_equal(other.values, aligned.values)
    with pytest.raises(ValueError, match="table rows"):
        lime_tabular(proba, rows[:, :3], X, num_samples=50, progress=False)


def test_missing_credit_data_name_the_debian_package(tmp_path):
    from scrutiny.datasets import load_credit

    with pytest.raises(FileNotFoundError, match="r-cran-modeldata"):
        load_credit("train", directory=tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_credit("validation", directory=tmp_path)


@needs_modeldata
def test_real_credit_data_and_the_reference_model():
    pytest.importorskip("rdata")
    pytest.importorskip("pandas")
    from scrutiny.datasets import load_credit
    from scrutiny.zoo import credit_model

    X, y = load_credit("train")
    X_test, y_test = load_credit("test")
    assert X.shape == (3039, 25) and X_test.shape == (1000, 25)  # the 4,039 complete rows
    assert list(X.columns) == list(X_test.columns) and "Records=yes" in X.columns
    assert int(y.sum() + y_test.sum()) == 3013  # good payers among the complete rows
    for factor in ("Home", "Marital", "Job"):  # one-hot: one level per row
        levels = [c for c in X.columns if c.startswith(f"{factor}=")]
        np.testing.assert_array_equal(X[levels].sum(axis=1), 1.0)
    assert np.isfinite(X.to_numpy()).all()
    again, _ = load_credit("test")
    np.testing.assert_array_equal(again.to_numpy(), X_test.to_numpy())  # a fixed split
    _, facts = credit_model()
    assert facts["test_accuracy"] >= 0.78  # 0.803 measured; a majority vote gets 0.742


def test_exact_shapley_queries_every_coalition_of_any_model():
    """Exact by enumeration, for a model given only as probabilities: the values TreeSHAP
    computes from the trees themselves, and they add up to the logit's departure."""
    pytest.importorskip("shap")
    from scrutiny.baselines import exact_shapley, tree_shap
    from scrutiny.representations import TabularRepresentation

    clf, X = trees()
    baseline = X.mean(axis=0)
    rep = TabularRepresentation(4, baseline, 1.0)
    exp = exact_shapley(clf.predict_proba, X[:4], rep)
    reference = tree_shap(clf, X[:4], baseline)
    np.testing.assert_allclose(exp.values, reference.values, rtol=1e-6, atol=1e-9)
    assert exp.meta["model_queries"] == 4 * 2**4  # every coalition of 4 features, once
    with pytest.raises(ValueError, match="2\\^4 coalitions are too many"):
        exact_shapley(clf.predict_proba, X[:1], rep, max_features=3)


@needs_modeldata
def test_real_credit_factors_are_explained_by_factor():
    """The credit data's factors as categoricals, the same trees behind a one-hot encoder:
    the explainer takes each factor as one feature and queries the pipeline with names."""
    pytest.importorskip("rdata")
    pd = pytest.importorskip("pandas")
    from scrutiny import Explainer
    from scrutiny.datasets import load_credit
    from scrutiny.zoo import credit_model

    X, _ = load_credit("train", factors=True)
    onehot, _ = load_credit("train")
    assert X.shape == (3039, 13)
    assert X["Home"].cat.categories.tolist() == [
        "ignore",
        "other",
        "owner",
        "parents",
        "priv",
        "rent",
    ]
    np.testing.assert_array_equal(onehot["Home=owner"], X["Home"] == "owner")
    assert np.array_equal(onehot["Records=yes"], X["Records"] == "yes")
    clf, facts = credit_model(factors=True)
    assert facts["test_accuracy"] >= 0.78  # 0.804 measured
    ex = Explainer(clf, X, mode="local", n_samples=200, random_state=0, progress=False)
    rep = ex.representation
    assert [X.columns[j] for j in rep.categorical] == ["Home", "Marital", "Records", "Job"]
    modal = [X[c].cat.categories.get_loc(X[c].mode()[0]) for c in ("Home", "Marital")]
    assert rep.baseline[rep.categorical[:2]].tolist() == modal  # owner, married
    exp = ex.explain(X.iloc[:3])
    assert isinstance(exp.to_frame(), pd.DataFrame) and exp.level(0, 1) == X["Home"].iloc[0]
