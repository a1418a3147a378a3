"""The reference tabular model: gradient-boosted trees (scikit-learn's
HistGradientBoostingClassifier) on the credit data's 3,039 training rows, telling "good"
payers from "bad". Nonlinear and full of interactions, as the models banks deploy, and
still exactly explainable: TreeSHAP gives the exact Shapley values of its log-odds, the
reference the benchmark holds every method to. Training takes under a second and is
deterministic, so it is not cached."""

from __future__ import annotations

from scrutiny.datasets.credit import CLASSES, load_credit


def credit_model():
    """(classifier, facts): the fitted classifier (``predict_proba`` takes a DataFrame of
    ``load_credit``'s columns) and facts including its ``test_accuracy`` on the 1,000 test
    rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = load_credit("train")
    X_test, y_test = load_credit("test")
    clf = HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=300, max_leaf_nodes=15, random_state=0
    ).fit(X, y)
    facts = {
        "model": "gradient-boosted-trees-300x15-leaves",
        "classes": list(CLASSES),
        "test_accuracy": float((clf.predict(X_test) == y_test).mean()),
    }
    return clf, facts
