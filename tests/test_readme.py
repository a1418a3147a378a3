"""The README's Python examples, run as written: each block in order, its placeholders
(``model``, ``X_fit``, ``pipe``, ``rnn``, ...) bound to small real models and data first.
An example that no longer runs (a renamed argument, an attribute gone) fails here, not in
a user's hands. Slow (the examples use default settings): ``make test-slow``, which CI runs."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

import scrutiny
from scrutiny.datasets.reviews import DEFAULT_DIR

README = Path(__file__).resolve().parents[1] / "README.md"
MODELDATA = (DEFAULT_DIR / "Rdata.rdx").is_file() or bool(os.environ.get("SCRUTINY_MODELDATA"))


def blocks():
    """The README's ```python blocks, in order."""
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def block_with(text):
    (found,) = [b for b in blocks() if text in b]
    return found


def test_the_readme_has_the_examples_these_tests_run():
    """Each test below finds its block by a line of it: one renamed away fails here."""
    assert len(blocks()) == 7
    for line in ("scrutiny.Explainer(model, X_fit", "applicants.csv", "load_ames", "TextEncoder()"):
        block_with(line)
    for line in ("at_position(rnn", "scrutinize(explainer", "DPMixtureRegression(n_components"):
        block_with(line)


@pytest.fixture(scope="module")
def digits():
    """(model, images, labels): a logistic regression on scikit-learn's 8 x 8 digits, as a
    callable of images (grey, 0-16)."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    images, labels = load_digits(return_X_y=True)
    images = images.reshape(-1, 8, 8)
    clf = LogisticRegression(max_iter=2000).fit(images[:1000].reshape(1000, -1), labels[:1000])

    def model(X):
        return clf.predict_proba(np.asarray(X).reshape(len(X), -1))

    return model, images, labels


@pytest.mark.slow
def test_the_five_lines_and_scrutinize(digits):
    model, images, labels = digits
    X_fit, X, y = images[:600], images[1000:1200], labels[1000:1200]
    space = {"scrutiny": scrutiny, "model": model, "X_fit": X_fit, "X": X, "y": y}
    exec(block_with("scrutiny.Explainer(model, X_fit"), space)
    exp = space["exp"]
    assert exp.values.shape == X.shape and exp.lower.shape == X.shape
    assert (exp.lower <= exp.values).all() and (exp.values <= exp.upper).all()
    exec(block_with("scrutinize(explainer"), space)
    s = space["s"]
    assert s.adversarial.success.shape[1] == ((model(X).argmax(1) == 3) & (y == 3)).sum()
    assert s.adversarial.samples(20).shape[1:] == (8, 8)


@pytest.mark.slow
def test_the_table_of_words_and_numbers(tmp_path, monkeypatch):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "age": rng.integers(20, 70, n),
            "income": rng.normal(45000, 12000, n).round(),
            "home": rng.choice(["rent", "own", "mortgage"], n),
        }
    )
    approved = (frame["income"] > 45000) & (frame["home"] != "rent")
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["home"]), (StandardScaler(), ["age", "income"])),
        LogisticRegression(),
    ).fit(frame, approved)
    frame.to_csv(tmp_path / "applicants.csv", index=False)
    monkeypatch.chdir(tmp_path)
    space = {"scrutiny": scrutiny, "pipe": pipe}
    exec(block_with("applicants.csv"), space)
    table = space["exp"].to_frame(k=3)
    assert set(table.columns) >= {"name", "level", "value"}
    assert set(table["name"]) <= {"age", "income", "home"}


@pytest.mark.slow
@pytest.mark.skipif(not MODELDATA, reason="Debian's r-cran-modeldata is not installed")
def test_the_house_prices_and_the_reviews():
    pytest.importorskip("rdata")
    space = {"scrutiny": scrutiny}
    exec(block_with("load_ames"), space)
    fall = eval("fidelity.deletion(model, exp, ks=(1, 3)).mean(axis=1)", space)
    assert fall.shape == (2,) and (fall > 0).all()
    exec(block_with("TextEncoder()"), space)
    words, values = zip(*eval(block_with("TextEncoder()").splitlines()[-1], space), strict=True)
    assert any(words) and len(values) == space["X"].shape[1]


@pytest.mark.slow
def test_the_byte_window_and_the_sampler():
    torch = pytest.importorskip("torch")
    from scrutiny.zoo.function_start_rnn import build

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    space = {"rnn": build(0), "X": rng.integers(1, 257, size=(4, 200))}
    exec(block_with("at_position(rnn"), space)
    exp = space["exp"]
    outside = np.r_[0:80, 121:200]
    assert (exp.values[:, outside] == 0).all() and exp.top(5).shape == (4, 5)
    Z = rng.normal(size=(400, 3))
    y = np.where(Z[:, 0] > 0, 2 * Z[:, 1], -2 * Z[:, 2])
    space = {"scrutiny": scrutiny, "Z": Z, "y": y}
    exec(block_with("DPMixtureRegression(n_components"), space)
    assert set(space["reg"].diagnostics_) >= {"log_likelihood_rhat"}
    assert space["lo"].shape == space["coef"].shape == (3,)
