"""The reference regression model: gradient-boosted trees (scikit-learn's
GradientBoostingRegressor, 300 trees of depth 4) behind a one-hot encoder of the 3 factors,
in a pipeline that takes ``load_ames``'s DataFrame as it is and predicts the sale price in
$1,000. Nonlinear, with interactions (size by neighbourhood, age by remodelling), as the
price models that valuers deploy. Training takes a few seconds and is deterministic, so it
is not cached."""

from __future__ import annotations

from scrutiny.datasets.ames import FACTORS, load_ames


def house_price_model():
    """(regressor, facts): the fitted pipeline (``predict`` takes a DataFrame of
    ``load_ames``'s columns) and facts including its R^2 and mean absolute error ($1,000)
    on the 700 test houses."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y = load_ames("train")
    X_test, y_test = load_ames("test")
    encoder = make_column_transformer((OneHotEncoder(), list(FACTORS)), remainder="passthrough")
    trees = GradientBoostingRegressor(
        n_estimators=300, learning_rate=0.05, max_depth=4, random_state=0
    )
    model = make_pipeline(encoder, trees).fit(X, y)
    predicted = model.predict(X_test)
    facts = {
        "model": "gradient-boosted-trees-300-depth-4 behind a one-hot encoder",
        "target": "sale price, $1,000",
        "test_r2": float(
            1 - ((y_test - predicted) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()
        ),
        "test_mae": float(abs(y_test - predicted).mean()),
    }
    return model, facts
