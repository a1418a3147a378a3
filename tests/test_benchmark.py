"""The benchmark's choice of augmentation donors and its refusal of sizes it cannot run."""

import numpy as np
import pytest

from scrutiny import benchmark
from scrutiny.benchmark import donor_pool
from scrutiny.cli import main


def test_donors_are_test_inputs_not_explained_whatever_the_number_explained():
    """200 explained of 10,000 (the default): test inputs 200-999, as published. 1,000 or
    more explained (Fashion-MNIST's --n-test 2000) left no donor at all, and 999 only one."""
    X_fit, X_test = np.arange(4000) + 0.5, np.arange(10000)
    np.testing.assert_array_equal(donor_pool(X_fit, X_test, 200, 1000), np.arange(200, 1000))
    np.testing.assert_array_equal(donor_pool(X_fit, X_test, 2000, 1000), np.arange(2000, 2800))
    # too few test inputs left: training inputs past those fitted on (the last 1,000 of
    # them were the fit's own with --n-fit above 3,000)
    np.testing.assert_array_equal(donor_pool(X_fit, X_test[:1000], 999, 1000), X_fit[1000:2000])
    np.testing.assert_array_equal(donor_pool(X_fit, X_test[:1000], 1000, 3500), X_fit[3500:])
    with pytest.raises(ValueError, match="at least 100 are needed"):
        donor_pool(X_fit, X_test[:1000], 1000, 3950)


@pytest.mark.parametrize(
    "task, n_fit, n_test, message",
    [
        ("mnist", 4001, 200, "--n-fit 4001: mnist has 4000 training"),
        ("mnist", 1000, 1001, "--n-test 1001: mnist has 1000 test"),
        ("fashion", 60001, 200, "--n-fit 60001: fashion has 60000 training"),
        ("fashion", 1000, 10001, "--n-test 10001: fashion has 10000 test"),
        ("mnist", 1000, 200, "--paper-k 785: mnist's images have 784 pixels"),
        ("mnist", 3950, 950, "--n-test 950 with --n-fit 3950 leave 50 test inputs and 50"),
    ],
)
def test_more_inputs_than_the_task_has_are_refused_before_any_work(
    monkeypatch, capsys, tmp_path, task, n_fit, n_test, message
):
    """Cut short to the data, they ran on fewer inputs than results.json's n_test said
    (and the authors' protocol on fewer pixels than its column's k)."""

    def load_task(*args, **kwargs):
        raise AssertionError("the model and data were loaded")

    monkeypatch.setattr(benchmark, "load_task", load_task)
    argv = ["benchmark", task, "--n-fit", str(n_fit), "--n-test", str(n_test), "--quiet"]
    argv += ["--paper-k", "20", "785"]  # cut to 784 under a column saying 785
    assert main([*argv, "--out", str(tmp_path / "bench")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "command, hidden, message",
    [
        (["benchmark", "mnist", "--methods", "DMM-MEN global", "LIME"], {"lime"}, "lime, "),
        (["benchmark", "fashion"], {"shap", "lime"}, "lime, shap, not installed here: pip "),
        (["demo"], {"torch"}, "torch, not installed here: pip install 'scrutiny[torch]'"),
    ],
)
def test_a_package_the_work_needs_is_named_before_any_work(
    monkeypatch, capsys, tmp_path, command, hidden, message
):
    """Without lime, the benchmark stopped at LIME's row, after minutes of DMM-MEN rows,
    and wrote nothing; the demo named mlxtend, then, once installed, torch."""
    import importlib.util

    from scrutiny import demo

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in hidden else find_spec(name, *a),
    )

    def loaded(*args, **kwargs):
        raise AssertionError("the model and data were loaded")

    monkeypatch.setattr(benchmark, "load_task", loaded)
    monkeypatch.setattr(demo, "mnist_mlp", loaded)
    assert main([*command, "--quiet", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "scrutiny[" in err
    assert not (tmp_path / "out").exists()


def test_each_row_is_scored_on_its_own_explanations_and_stability_on_another_seed(
    monkeypatch, tmp_path
):
    """Nothing checked that the random row is scored on random explanations, nor that the
    stability column compares two seeds: the random row scored on LIME's explanations, or
    a run compared with itself (stability 1.0 where LIME's is 0.625), passed the tests."""
    rng = np.random.default_rng(0)
    W = rng.normal(size=(784, 10)) / 10

    def logits(X):
        return (np.asarray(X, dtype=np.float64).reshape(len(X), -1) - 0.5) @ W

    X = rng.uniform(size=(400, 28, 28))
    labels = logits(X).argmax(axis=1)
    facts = {"model": "a linear model", "test_accuracy": 1.0}
    monkeypatch.setattr(benchmark, "load_task", lambda *a: (logits, facts, X, X, labels))
    scored, seeds = [], []
    score, lime_image = benchmark._score, benchmark.lime_image

    def noted_score(adapter, exp, *args):
        scored.append((exp.method, exp.inputs.copy()))
        return score(adapter, exp, *args)

    def noted_lime(*args, random_state=None, **kwargs):
        seeds.append(random_state)
        return lime_image(*args, random_state=random_state, **kwargs)

    monkeypatch.setattr(benchmark, "_score", noted_score)
    monkeypatch.setattr(benchmark, "lime_image", noted_lime)
    argv = ["benchmark", "mnist", "--methods", "LIME", "--n-test", "3", "--n-fit", "50"]
    argv += ["--samples", "40", "--n-stability", "2", "--superpixel", "7", "--seed", "5"]
    argv += ["--quiet", "--paper-k", "5", "--classes", "--out", str(tmp_path / "b")]
    assert main(argv) == 0
    assert seeds == [5, 6]  # the inputs' explanations, then the stability run's, seed + 1
    assert [method for method, _ in scored] == ["lime", "random"]
    np.testing.assert_array_equal(scored[1][1], scored[0][1])  # of the same inputs
