"""Explainer end to end: torch, scikit-learn and plain callables; global and local modes."""

import warnings

import numpy as np
import pytest

from scrutiny import Explainer
from scrutiny.explainer import GUIDED_LOGIT_LIMIT, class_logit, guided_logit, logit_bound
from scrutiny.models import ModelError
from scrutiny.scrutinize import scrutinize

torch = pytest.importorskip("torch")

FAST = {"n_sweeps": 150, "n_components": 3}
rng = np.random.default_rng(0)

# a binary model that is logistic in three known columns of twelve
TRUE = {2: 3.0, 5: -2.0, 9: 2.5}
X_TAB = rng.normal(size=(600, 12))


def logistic(X):
    z = sum(w * X[:, j] for j, w in TRUE.items())
    p = 1 / (1 + np.exp(-z))
    return np.stack([1 - p, p], axis=1)


class Counting:
    def __init__(self, fn):
        self.fn, self.calls, self.rows = fn, 0, 0

    def __call__(self, X):
        self.calls += 1
        self.rows += len(X)
        return self.fn(X)


def test_known_features_rank_first_and_coefficients_are_recovered():
    ex = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False)
    exp = ex.explain(X_TAB[:40])
    assert exp.values.shape == exp.coefficients.shape == (40, 12)
    np.testing.assert_array_equal(exp.target, logistic(X_TAB[:40]).argmax(axis=1))
    strength = np.abs(exp.coefficients).mean(axis=0)
    assert set(np.argsort(-strength)[:3]) == set(TRUE)
    # the logit is exactly linear, so each explained class's coefficients are the truth
    sign = np.where(exp.target == 1, 1.0, -1.0)[:, None]
    for j, w in TRUE.items():
        np.testing.assert_allclose(sign[:, 0] * exp.coefficients[:, j], w, rtol=0.05)
    np.testing.assert_allclose(exp.values, exp.coefficients * (X_TAB[:40] - X_TAB.mean(axis=0)))
    np.testing.assert_allclose(exp.surrogate_logit, exp.model_logit, atol=0.1)
    assert (exp.lower <= exp.values + 1e-12).all() and (exp.values <= exp.upper + 1e-12).all()
    # and they are the 95% intervals of the input's component's coefficients, per element,
    # times its departure from the baseline (the ends ordered: a departure may be negative)
    rep, d = ex.representation, X_TAB[:40] - ex.representation.baseline
    ends = {c: reg.coef_interval(0.95) for c, reg in ex.surrogates_.items()}
    for i in range(40):
        c, j = int(exp.target[i]), exp.component[i]
        reg = ex.surrogates_[c]
        lo, hi = (rep.element_coefficients(end[j])[0] * d[i] for end in ends[c])
        np.testing.assert_allclose(rep.element_coefficients(reg.coef_[j])[0], exp.coefficients[i])
        np.testing.assert_allclose(exp.lower[i], np.minimum(lo, hi))
        np.testing.assert_allclose(exp.upper[i], np.maximum(lo, hi))


def test_global_mode_queries_the_model_once_per_explained_batch():
    model = Counting(logistic)
    ex = Explainer(model, X_TAB, surrogate=FAST, batch_size=1000, random_state=0, progress=False)
    ex.fit()  # the fit data, then 8 of its rows again (_warn_nondeterministic)
    assert (model.calls, model.rows) == (2, 608)
    np.testing.assert_array_equal(ex(X_TAB[:5]).values, ex.explain(X_TAB[:5]).values)  # shap's way
    for m in (1, 50, 200):
        before = model.calls
        exp = ex.explain(X_TAB[:m])
        assert model.calls - before == 1
        assert exp.meta["model_queries"] == m and exp.meta["model_calls"] == 1
        assert exp.meta["max_off"] is None  # perturbing nothing (max_off=3 is refused)


def test_explanation_costs_leave_out_the_fit_the_first_call_makes():
    model = Counting(logistic)
    ex = Explainer(model, X_TAB, surrogate=FAST, batch_size=1000, random_state=0, progress=False)
    exp = ex.explain(X_TAB[:50])  # fits first: 600 fit rows in one call, 8 again, then 50
    assert (model.calls, model.rows) == (3, 658)
    assert exp.meta["model_queries"] == 50 and exp.meta["model_calls"] == 1
    assert exp.meta["fit_queries"] == 608
    assert 0 < exp.meta["seconds"] < exp.meta["fit_seconds"]


def test_same_seed_same_explanations_in_worker_processes_or_not():
    kw = {"surrogate": FAST, "random_state": 3, "progress": False}
    a = Explainer(logistic, X_TAB, n_jobs=1, **kw).fit().explain(X_TAB[:20])
    b = Explainer(logistic, X_TAB, n_jobs=2, **kw).fit().explain(X_TAB[:20])
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.lower, b.lower)
    c = Explainer(logistic, X_TAB, n_jobs=1, **{**kw, "random_state": 4}).explain(X_TAB[:20])
    assert not np.array_equal(a.values, c.values)


W7 = np.random.default_rng(1).normal(size=(12, 7))


def softmax(X):
    """A linear classifier of seven classes, each row's outputs whatever rows are beside
    it (BLAS's X @ W7 rounds a row by the batch: component probabilities moved 1e-16)."""
    z = np.einsum("np,pk->nk", X, W7, optimize=False)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_two_classes_of_a_binary_model_share_one_fit_mirrored():
    """Class 0's logit is minus class 1's: one fit, and explanations of either class that
    are exact mirror images, intervals included; in guided mode too (its perturbations
    were seeded and its candidates ranked per class: effects 1 nat apart)."""
    ex = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False)
    glob = ex.explain(X_TAB[:20], target=0)
    for kw in ({}, {"mode": "guided", "n_samples": 20, "candidates": 2}):
        zero = ex.explain(X_TAB[:20], target=0, **kw)
        one = ex.explain(X_TAB[:20], target=1, **kw)
        np.testing.assert_array_equal(zero.values, -one.values)
        np.testing.assert_array_equal(zero.lower, -one.upper)
        np.testing.assert_array_equal(zero.surrogate_logit, -one.surrogate_logit)
        np.testing.assert_array_equal(zero.component, one.component)
        np.testing.assert_array_equal(zero.model_logit, glob.model_logit)
        assert (zero.target == 0).all() and (zero.lower <= zero.values).all()
        both = ex.explain(X_TAB[:20], target=np.arange(20) % 2, **kw)  # by row, as alone
        np.testing.assert_array_equal(both.values[::2], zero.values[::2])
        np.testing.assert_array_equal(both.values[1::2], one.values[1::2])
    assert ex.surrogates_[0].regression is ex.surrogates_[1]
    reg = ex.surrogates_[1]
    np.testing.assert_array_equal(ex.surrogates_[0].predict(X_TAB[:5]), -reg.predict(X_TAB[:5]))


def test_guided_rounds_of_a_binary_model_switch_off_what_the_predicted_class_rests_on():
    """Both classes are explained through class 1, and its rounds were designed to switch
    off class 1's top effects: for an input of class 0, the features against it (its top
    10 then took 10.8 nats off its logit, against 13.4 designed for its own). The designed
    queries of a class-0 input must now lower its class-0 logit more than random ones."""
    w = np.random.default_rng(5).normal(size=30)

    def linear(X):
        p = 1 / (1 + np.exp(-(X @ w)))
        return np.stack([1 - p, p], axis=1)

    seen = []
    ex = Explainer(
        lambda X: seen.append(np.array(X)) or linear(X),
        rng.normal(size=(400, 30)),
        surrogate=FAST,
        random_state=0,
        progress=False,
    ).fit()
    inputs = rng.normal(size=(200, 30))
    for target in (0, 1):  # inputs of that class, explained as it and as the other
        of_class = inputs[linear(inputs).argmax(axis=1) == target][:4]
        gaps = []
        for x in of_class:
            for asked in (0, 1):
                del seen[:]
                ex.explain(x[None], target=asked, mode="guided", n_samples=40)
                logit = [np.log(linear(r)[:, target] / linear(r)[:, 1 - target]) for r in seen]
                random, designed = logit[1][1:], np.concatenate(logit[2:])  # 16, then 6 x 4
                assert len(seen) == 8 and designed.size == 24
                gaps.append(designed.mean() - random.mean())
        assert max(gaps) < 0, (target, gaps)  # 4 inputs x 2 classes asked


def test_guided_mode_queries_a_column_the_fit_never_saw_move():
    """Column 7, constant at fit, set in an input and worth 6 nats: its global coefficient
    is 0, so it ranked last among 120 present columns, was never a candidate, and guided
    mode gave it no effect while its intercept made the surrogate's logit the model's. The
    model's logit is linear: measured, the effect is 6 to the regression's precision."""
    X = rng.normal(size=(300, 120))
    X[:, 7] = 0.0

    def model(rows):
        p = 1 / (1 + np.exp(-(0.5 * rows[:, :5].sum(axis=1) + 3.0 * rows[:, 7])))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(model, X, surrogate={"n_sweeps": 40}, random_state=0, progress=False)
    x = X[:2].copy()
    x[:, 7] = 2.0
    exp = ex.explain(x, target=1, mode="guided")
    assert exp.meta["candidates"] < 120
    np.testing.assert_allclose(exp.values[:, 7], 6.0, atol=0.1)


def test_explanations_made_at_once_from_threads_count_their_own_queries():
    """An explainer serving requests from threads: each explanation's costs counted every
    query made meanwhile (three at once: 2,605 to 3,015 queries for 1,005 alone), and a
    fit another thread made counted against this one's."""
    import threading
    import time as clock

    def slow(X):  # a model behind a network: threads take turns on it
        clock.sleep(0.002)
        return logistic(X)

    for mode, kw in (("local", {"n_samples": 40}), ("global", {})):
        fast = {"n_sweeps": 20, "n_components": 2}
        ex = Explainer(slow, X_TAB, mode=mode, surrogate=fast, batch_size=16, progress=False, **kw)
        start, costs = threading.Barrier(3), {}

        def run(i, ex=ex, start=start, costs=costs):
            start.wait()
            exp = ex.explain(X_TAB[i * 4 : i * 4 + 4])
            costs[i] = exp.meta["model_queries"], exp.meta["model_calls"]

        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        alone = ex.explain(X_TAB[:4]).meta
        assert set(costs.values()) == {(alone["model_queries"], alone["model_calls"])}, mode


def test_threads_explaining_at_once_fit_each_class_once(monkeypatch):
    """Threads explaining at once with a fresh explainer each fitted every class they
    asked for (8 on digits: each block 6 times, 25x the fit's seconds counted). They take
    turns: one fits, the others find the fit done, and count none of it."""
    import threading
    import time as clock

    import scrutiny.explainer as module

    fitted, fit_many = [], module.fit_many

    def slow(jobs, *args, **kwargs):  # long enough for every thread to reach its fit
        fitted.extend(job[0] for job in jobs)
        clock.sleep(0.3)
        return fit_many(jobs, *args, **kwargs)

    monkeypatch.setattr(module, "fit_many", slow)
    ex = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False, n_jobs=1)
    start, exps = threading.Barrier(3), {}

    def run(i):
        start.wait()
        exps[i] = ex.explain(X_TAB[:4], target=1)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fitted) == len(set(fitted)) == 1
    assert ex.fit_queries_ == len(X_TAB) + module.REPEATED_ROWS  # the fit data, queried once
    for i in (1, 2):
        np.testing.assert_array_equal(exps[i].values, exps[0].values)


def test_inputs_on_another_scale_than_the_fit_data_are_flagged_where_extrapolated():
    """Images of 0 to 255 beside fit data of 0 to 1 were explained without a word (surrogate
    logits of 500, the model's infinite). Global and guided mode extrapolate the global
    fit there and say so; local mode reads the model around each input and does not."""
    X = np.random.default_rng(0).uniform(size=(300, 4, 4))
    X[:, 0, 0] *= 0.3  # a rarely lit edge pixel (MNIST's): lit in an input, no other scale
    lit = X[:3].copy()
    lit[:, 0, 0] = 1.0

    def model(R):  # graded at either scale: a logit of -1 to 1, or of 5.6
        p = 1 / (1 + np.exp(2 - np.log1p(R.reshape(len(R), -1).sum(axis=1))))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(model, X, surrogate={"n_sweeps": 20}, random_state=0, progress=False)
    local = Explainer(model, X, mode="local", n_samples=20, random_state=0, progress=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*far outside")
        ex.explain(lit)
        ex.explain(np.clip(X[:3] * 1.5, 0, 1.9))  # past the range by less than its span
        local.explain(X[:3] * 255)
    far = r"2 of 3 inputs hold values far outside the fit data's \(the first: input 1"
    with pytest.warns(UserWarning, match=far):
        ex.explain(X[:3] * [[[1.0]], [[255.0]], [[255.0]]])
    with pytest.warns(UserWarning, match=far):
        ex.explain(X[:3] * [[[1.0]], [[255.0]], [[255.0]]], mode="guided", n_samples=20)


def test_an_input_explained_by_a_thin_regime_is_flagged():
    """A regime of under 1% of the fit data is mostly prior draws: global explanations
    that rest on one say so; guided ones, which correct it, do not."""
    ex = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.explain(X_TAB[:5])
    for reg in ex.surrogates_.values():
        reg.weights_ = np.full_like(reg.weights_, 0.005)
    with pytest.warns(UserWarning, match="5 of 5 inputs fit best in a regime of under 1%"):
        ex.explain(X_TAB[:5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.explain(X_TAB[:5], mode="guided", n_samples=20)
        # scrutinize's global regimes are the prior of guided transplants: no warning
        scrutinize(ex, X_TAB[:100], 1, ks=(1, 2), max_inputs=3, n_samples=20)


def test_classes_of_small_fits_share_kernels_in_blocks():
    """Seven classes of small fits run as two batched blocks (4 + 3), large fits one class
    at a time; worker processes change nothing."""
    kw = {"surrogate": {"n_sweeps": 30, "n_components": 3}, "random_state": 0, "progress": False}
    a = Explainer(softmax, X_TAB, n_jobs=1, **kw)
    assert a._class_blocks(list(range(7)), X_TAB) == [(0, 1, 2, 3), (4, 5, 6)]
    a.fit()
    b = Explainer(softmax, X_TAB, n_jobs=2, **kw).fit()
    for c in range(7):
        np.testing.assert_array_equal(a.surrogates_[c].coef_draws_, b.surrogates_[c].coef_draws_)
    # 600 rows x 13 columns^2 x sweeps from 2e10 up: each chain runs on its own
    large = Explainer(softmax, X_TAB, **{**kw, "surrogate": {"n_sweeps": 200_000}})
    assert large._class_blocks([0, 1, 2], X_TAB) == [(0,), (1,), (2,)]


def test_a_new_block_does_not_read_every_class_again(monkeypatch):
    """Which classes have something to learn was found anew for every block fitted: each
    class's logit costs n x C, so a new block of a 400-class model spent 7 s there."""
    from scrutiny import explainer as module

    seen = []
    graded = module._graded
    monkeypatch.setattr(module, "_graded", lambda y, limit: seen.append(1) or graded(y, limit))
    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "random_state": 0, "progress": False}
    ex = Explainer(softmax, X_TAB, n_jobs=1, **kw)
    ex.fit([0])
    ex.fit([5])
    # 7 classes read once, then each fitted class's responses checked: 4 + 3 of two blocks
    assert len(seen) == 7 + 4 + 3


def test_an_explanation_does_not_depend_on_the_inputs_explained_before_or_with_it():
    """Classes are fitted lazily, in fixed blocks fitted whole: explaining one input alone,
    among others, or after inputs of other classes gives it the same explanation."""
    kw = {"surrogate": {"n_sweeps": 30, "n_components": 3}, "random_state": 0, "progress": False}
    pred = softmax(X_TAB).argmax(axis=1)
    one = np.flatnonzero(pred == pred[0])[:1]
    other = np.flatnonzero(pred != pred[0])[:5]
    first = Explainer(softmax, X_TAB, **kw)
    alone = first.explain(X_TAB[one])
    (block,) = [b for b in first._class_blocks(list(range(7)), X_TAB) if pred[0] in b]
    assert sorted(first.surrogates_) == list(block)  # its block of classes, fitted whole
    late = Explainer(softmax, X_TAB, **kw)
    late.explain(X_TAB[other])
    after = late.explain(X_TAB[one])
    among = Explainer(softmax, X_TAB, **kw).explain(X_TAB[np.r_[other, one]])[-1:]
    whole = Explainer(softmax, X_TAB, **kw).fit().explain(X_TAB[one])
    for exp in (after, among, whole):
        np.testing.assert_array_equal(exp.values, alone.values)
        np.testing.assert_array_equal(exp.lower, alone.lower)
        np.testing.assert_array_equal(exp.component_probability, alone.component_probability)


def test_equal_numbers_are_explained_alike_whatever_their_bits():
    """A row holding -0.0 (np.round of a small negative) was keyed by its bytes and got
    other perturbations than the same row with 0.0 (local values 0.2 apart); X_fit in
    Fortran order (a DataFrame's to_numpy()) had other column means, the baseline."""
    kw = {"surrogate": {"n_sweeps": 30, "n_components": 3}, "random_state": 0, "progress": False}
    rows = X_TAB[:2].copy()
    rows[:, 4] = 0.0
    negative = rows.copy()
    negative[:, 4] = -0.0
    local = Explainer(softmax, X_TAB, mode="local", n_samples=60, **kw)
    np.testing.assert_array_equal(local.explain(negative).values, local.explain(rows).values)
    c_order = Explainer(softmax, X_TAB, **kw).explain(X_TAB[:5])
    fortran = Explainer(softmax, np.asfortranarray(X_TAB), **kw).explain(X_TAB[:5])
    np.testing.assert_array_equal(fortran.baseline, c_order.baseline)
    np.testing.assert_array_equal(fortran.values, c_order.values)


def pixel_model():
    """A torch classifier of 8x8 images, logistic in three pixels per class."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))
    with torch.no_grad():
        net[0 + 1].weight.zero_()
        net[1].bias.zero_()
        for c, pixels in enumerate([(9, 10, 11), (27, 28, 29), (50, 51, 52)]):
            net[1].weight[c, list(pixels)] = 4.0
    return net


def test_torch_image_model_global_and_local():
    images = rng.uniform(0.5, 1.0, size=(300, 8, 8))  # bright: every pixel contributes
    net = pixel_model()
    for mode, extra in [("global", {}), ("local", {"n_samples": 150})]:
        ex = Explainer(
            net,
            images,
            mode=mode,
            outputs="logits",
            surrogate={**FAST, "n_sweeps": 100} if mode == "local" else FAST,
            random_state=0,
            progress=False,
            **extra,
        )
        exp = ex.explain(images[:6])
        assert exp.values.shape == (6, 8, 8)
        with torch.no_grad():
            pred = net(torch.as_tensor(images[:6], dtype=torch.float32)).argmax(1).numpy()
        np.testing.assert_array_equal(exp.target, pred)
        own = [(9, 10, 11), (27, 28, 29), (50, 51, 52)]
        strongest = np.argsort(-exp.coefficients.reshape(6, -1), axis=1)[:, :3]
        for i in range(6):
            assert set(strongest[i]) == set(own[exp.target[i]]), (mode, i)
            assert set(exp.top(3)[i]) == set(own[exp.target[i]]), (mode, i)
        assert exp.method == f"dmm-men-{mode}"


def test_local_mode_costs_n_samples_queries_per_input_and_finds_the_effects():
    model = Counting(logistic)
    ex = Explainer(
        model, X_TAB, mode="local", n_samples=100, surrogate=FAST, random_state=0, progress=False
    )
    exp = ex.explain(X_TAB[:3])
    assert exp.meta["model_queries"] == 3 + 3 * 100
    # the logit is linear, so switching column j to its mean moves it by w_j (x_j - mean_j)
    sign = np.where(exp.target == 1, 1.0, -1.0)
    for j, w in TRUE.items():
        effect = sign * w * (X_TAB[:3, j] - X_TAB[:, j].mean())
        np.testing.assert_allclose(exp.values[:, j], effect, atol=0.1)


def test_sklearn_classifier_end_to_end():
    from sklearn.linear_model import LogisticRegression

    labels = logistic(X_TAB).argmax(axis=1)
    clf = LogisticRegression().fit(X_TAB, labels)
    exp = Explainer(clf, X_TAB, surrogate=FAST, random_state=0, progress=False).explain(X_TAB[:10])
    np.testing.assert_array_equal(exp.target, clf.predict(X_TAB[:10]))
    assert set(np.argsort(-np.abs(exp.coefficients).mean(axis=0))[:3]) == set(TRUE)


def test_a_dataframe_and_a_model_fitted_on_one_keep_their_column_names():
    """A pipeline that picks its columns by name gets DataFrames; explanations carry the
    names (to_frame, to_dict, the report's bars); columns are matched by name."""
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    names = [f"c{j}" for j in range(12)]
    frame = pd.DataFrame(X_TAB, columns=names)
    labels = logistic(X_TAB).argmax(axis=1)
    picked = ColumnTransformer([("own", "passthrough", [names[j] for j in TRUE])])
    clf = make_pipeline(picked, LogisticRegression()).fit(frame, labels)
    ex = Explainer(clf, frame, surrogate=FAST, random_state=0, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        exp = ex.explain(frame[:10])
    np.testing.assert_array_equal(exp.target, clf.predict(frame[:10]))
    assert exp.feature_names == names
    assert set(np.argsort(-np.abs(exp.coefficients).mean(axis=0))[:3]) == set(TRUE)
    assert exp.to_frame(k=3)["name"].tolist()[:3] == [names[j] for j in exp.top(3)[0]]
    assert exp.to_dict(k=3)["samples"][0]["top_names"] == [names[j] for j in exp.top(3)[0]]
    shuffled = ex.explain(frame[names[::-1]][:10])
    np.testing.assert_array_equal(shuffled.values, exp.values)
    # as scrutinize and the command line take their inputs
    np.testing.assert_array_equal(ex.check_inputs(frame[names[::-1]][:10]), X_TAB[:10])
    with pytest.raises(ValueError, match=r"missing \['c0'\], unknown \['x'\]"):
        ex.explain(frame.rename(columns={"c0": "x"})[:10])
    with pytest.raises(ValueError, match=r"^--data's columns are not the fit data's"):
        ex.check_inputs(frame.rename(columns={"c0": "x"}), "--data")  # as the CLI names it
    import matplotlib

    matplotlib.use("Agg")
    from scrutiny import plots

    ax = plots.explanation_bars(exp, 0, k=3)
    top = exp.top(3, by="magnitude")[0]
    shown = [f"{names[j]} = {exp.inputs[0, j]:.4g}" for j in top]  # each with its value
    assert [t.get_text() for t in ax.get_yticklabels()] == shown[::-1]


def test_a_dataframe_explained_by_a_fit_on_arrays_goes_to_the_models_columns_by_name():
    """Fit data without names are in the model's column order; a DataFrame of the model's
    columns in another order was read by position: each column met another's coefficient."""
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    names = [f"c{j}" for j in range(12)]
    labels = logistic(X_TAB).argmax(axis=1)
    clf = LogisticRegression().fit(pd.DataFrame(X_TAB, columns=names), labels)
    ex = Explainer(clf, X_TAB, surrogate=FAST, random_state=0, progress=False)
    in_order = ex.explain(X_TAB[:5])
    reordered = ex.explain(pd.DataFrame(X_TAB[:5], columns=names)[names[::-1]])
    np.testing.assert_array_equal(reordered.values, in_order.values)
    assert reordered.feature_names == names  # shown in the order they are in, by name
    assert reordered.column_names is None  # the model is still given arrays by position
    # and the fidelity tests take a frame of donors by those names too, not by position
    from scrutiny.fidelity import augmentation

    donors = pd.DataFrame(X_TAB[100:200], columns=names)
    by_array = augmentation(clf, in_order, donors.to_numpy(), ks=[1, 2])
    np.testing.assert_array_equal(
        augmentation(clf, in_order, donors[names[::-1]], ks=[1, 2]), by_array
    )
    # columns that are not the model's stay by position, as rows of an array do
    other = pd.DataFrame(X_TAB[:5], columns=[f"x{j}" for j in range(12)])
    np.testing.assert_array_equal(ex.explain(other).values, in_order.values)


def test_bad_input_is_named():
    ex = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False)
    with pytest.raises(ValueError, match=r"samples of shape \(11,\)"):
        ex.explain(X_TAB[:5, :11])
    with pytest.raises(ValueError, match=r"X has shape \(12,\), no batch .* X\[None\]"):
        ex.explain(X_TAB[0])  # one row: "X must be a non-empty batch"
    bad = X_TAB[:5].copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf values, the first at \(2, 3\)"):
        ex.explain(bad)
    # a DataFrame's by its own column and row label: found after its columns were put in
    # the fit data's order, the first was named "(1, 3)" for column 'c0' (its first) of 'u2'
    pd = pytest.importorskip("pandas")
    names = [f"c{j}" for j in range(12)]
    framed = Explainer(logistic, pd.DataFrame(X_TAB, columns=names), surrogate=FAST, progress=False)
    rows = pd.DataFrame(X_TAB[:3], columns=names, index=["u1", "u2", "u3"])[names[::-1]]
    rows.loc["u2", "c0"] = np.nan
    with pytest.raises(
        ValueError, match=r"1 missing or infinite values, the first in column 'c0' of row 'u2'"
    ):
        framed.explain(rows)
    rows.loc["u2", "c0"], rows.loc["u3", "c5"] = 0.0, np.inf  # an inf too, by name
    with pytest.raises(
        ValueError, match=r"1 missing or infinite values, the first in column 'c5' of row 'u3'"
    ):
        framed.explain(rows)
    with pytest.raises(ValueError, match=r"the first in column 'c5' of row 'u3'"):
        framed.explain(rows.astype(object))  # numbers held as objects (pd.concat of rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused, not first cast with numpy's warning
        with pytest.raises(TypeError, match="hold complex numbers"):
            framed.explain(rows.replace(np.inf, 0.0).astype(complex))
    with pytest.raises(ValueError, match="X_fit holds 600 NaN"):
        Explainer(logistic, np.where(np.arange(12) == 0, np.nan, X_TAB))
    # X_fit and the fidelity tests' donors as X: by name and label ("(5, 1)" was X_fit's,
    # a pd.NA in an Int64 column of donors "must be numbers")
    fit = pd.DataFrame(X_TAB, columns=names, index=[f"f{i}" for i in range(len(X_TAB))])
    fit.loc["f7", "c4"] = np.nan
    with pytest.raises(ValueError, match=r"X_fit holds 1 missing .* column 'c4' of row 'f7'"):
        Explainer(logistic, fit, surrogate=FAST, progress=False)
    from scrutiny.fidelity import augmentation

    exp = framed.explain(pd.DataFrame(X_TAB[:2], columns=names))
    donors = pd.DataFrame(X_TAB[:5], columns=names, index=list("abcde"))
    donors["c9"] = pd.array([1, 2, None, 4, 5], dtype="Int64")
    with pytest.raises(ValueError, match=r"donors holds 1 missing .* column 'c9' of row 'c'"):
        augmentation(logistic, exp, donors)
    with pytest.raises(ValueError, match=r"target classes must be in 0\.\.1"):
        ex.explain(X_TAB[:5], target=2)
    with pytest.raises(ValueError, match=r"target has shape \(3,\); expected one class"):
        ex.explain(X_TAB[:5], target=[0, 1, 1])
    with pytest.raises(TypeError, match="target must be class numbers"):
        ex.explain(X_TAB[:5], target=0.9)
    with pytest.raises(ValueError, match=r"baseline has shape \(3,\); expected a number"):
        Explainer(logistic, X_TAB, baseline=np.zeros(3))
    with pytest.raises(ValueError, match="baseline holds NaN"):
        Explainer(logistic, X_TAB, baseline=np.nan)
    with pytest.raises(ValueError, match="random_state must be a non-negative int"):
        Explainer(logistic, X_TAB, random_state=-1)
    with pytest.raises(TypeError, match="random_state must be None, an int"):
        Explainer(logistic, X_TAB, random_state=1.5)
    with pytest.raises(ValueError, match="mode must be"):
        Explainer(logistic, X_TAB, mode="lemna")
    with pytest.raises(ValueError, match=r"unknown surrogate setting\(s\) \['n_comps'\]"):
        Explainer(logistic, X_TAB, surrogate={"n_comps": 3})
    with pytest.raises(ValueError, match=r"'random_state': ...\} is the explainer's own"):
        Explainer(logistic, X_TAB, surrogate={"random_state": 1})  # was silently replaced
    with pytest.raises(ValueError, match=r"set \['lambda1'\] as arguments"):
        Explainer(logistic, X_TAB, surrogate={"priors": {"lambda1": 0.0}})
    with pytest.raises(ModelError, match="not probabilities"):
        Explainer(lambda x: 5 * logistic(x), X_TAB, progress=False).fit()

    def broken(x):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(ModelError, match="CUDA out of memory"):
        Explainer(broken, X_TAB, progress=False).fit()
    local = Explainer(logistic, X_TAB, mode="local", progress=False)
    with pytest.raises(ValueError, match="equals the baseline everywhere"):
        local.explain(np.tile(X_TAB.mean(axis=0), (1, 1)))


def test_a_representation_given_is_checked_against_x_fit_and_takes_no_other_settings():
    """One made for other inputs failed deep in numpy at the fit; a baseline, superpixel or
    categorical columns given with it were silently ignored."""
    from scrutiny.representations import TabularRepresentation

    narrow = TabularRepresentation(5, np.zeros(5), 1.0)
    with pytest.raises(ValueError, match=r"X_fit has samples of shape \(12,\), expected \(5,\)"):
        Explainer(logistic, X_TAB, representation=narrow, progress=False)
    rep = TabularRepresentation(12, np.zeros(12), 1.0)
    for name, value in [("baseline", 1.0), ("superpixel", 2), ("categorical", [3])]:
        with pytest.raises(ValueError, match=f"^{name} cannot be given with a Representation"):
            Explainer(logistic, X_TAB, representation=rep, progress=False, **{name: value})


def test_counts_that_are_not_whole_numbers_are_refused_before_any_query():
    """max_off=1.5 used to run at rates of 1.5 / n while the metadata said 1; a string or
    inf failed deep inside with an unrelated message. Each is named before the model runs."""
    model = Counting(logistic)
    ex = Explainer(model, X_TAB, mode="guided", progress=False)
    for name, bad in [
        ("max_off", 1.5),
        ("max_off", "3"),
        ("max_off", float("inf")),
        ("candidates", 2.7),
        ("n_samples", 20.5),
        ("n_samples", float("nan")),
    ]:
        with pytest.raises(ValueError, match=f"{name} must be a positive number of"):
            mode = "guided" if name == "candidates" else "local"
            ex.explain(X_TAB[:1], mode=mode, **{name: bad})
    assert model.calls == 0
    with pytest.raises(ValueError, match="n_samples must be a positive number of pert"):
        Explainer(logistic, X_TAB, n_samples=10)
    # in the constructor too: 2.7 copies ran as 2, -0.5 and True as 0 and 1, class 1.9 as 1
    for bad in (2.7, -0.5, True):
        with pytest.raises(ValueError, match="fit_perturbations must be a positive number"):
            Explainer(logistic, X_TAB, fit_perturbations=bad)
    for bad in ([1.9], [True], [-1]):
        with pytest.raises(ValueError, match="classes must be output columns"):
            Explainer(logistic, X_TAB, classes=bad)
    assert Explainer(logistic, X_TAB, classes=[1.0, np.int64(0), 1]).classes == [0, 1]
    # an infinite limit let certain classes' infinite logits into the fit, which failed
    for bad in (float("inf"), float("nan"), 0.0):
        with pytest.raises(ValueError, match="logit_limit must be finite and positive"):
            Explainer(logistic, X_TAB, logit_limit=bad)
    assert model.calls == 0


def test_inputs_are_not_modified():
    X = X_TAB.copy()
    ex = Explainer(logistic, X, surrogate=FAST, random_state=0, progress=False)
    exp = ex.explain(X[:5])
    np.testing.assert_array_equal(X, X_TAB)
    # nor shared: writing into the caller's arrays later changes neither the explainer,
    # whose fit runs on first use, nor the explanation
    X[:] = 0.0
    assert not np.shares_memory(exp.inputs, X)
    np.testing.assert_array_equal(exp.inputs, X_TAB[:5])
    again = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False)
    np.testing.assert_array_equal(again.explain(X_TAB[:5]).values, exp.values)


def test_hard_outputs_are_named():
    """Probabilities of exactly 0 or 1 everywhere give a regression nothing to learn."""

    def hard(X):
        return np.eye(2)[(X[:, 2] > 0).astype(int)]

    with pytest.raises(ValueError, match="probability of class 1 on every fit input is 0 or 1"):
        Explainer(hard, X_TAB, surrogate=FAST, progress=False).fit()
    local = Explainer(hard, X_TAB, mode="local", n_samples=20, progress=False)
    with pytest.raises(ValueError, match="every perturbation of input 0 is 0 or 1"):
        local.explain(X_TAB[:1])


def test_a_model_that_answers_the_same_input_differently_is_warned_of():
    """A torch net with dropout left in training mode, inside a function: every surrogate
    was fitted to its noise, and explanations changed from call to call, seed and all, with
    no word said. A warning, not a refusal: a model may sample on purpose."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(12, 32), torch.nn.Dropout(0.3), torch.nn.Linear(32, 2)
    )

    def model(x):
        with torch.no_grad():
            return torch.softmax(net(torch.as_tensor(x, dtype=torch.float32)), 1).numpy()

    ex = Explainer(model, X_TAB, surrogate=FAST, random_state=0, progress=False)
    with pytest.warns(UserWarning, match=r"answers the same inputs differently.*model\.eval"):
        ex.explain(X_TAB[:3])
    net.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a model that answers alike passes in silence
        fresh = Explainer(model, X_TAB, surrogate=FAST, random_state=0, progress=False)
        assert fresh.explain(X_TAB[:3]).values.shape == (3, 12)
    # a regression model that adds noise to its values, with an offset too (in kelvin, not
    # Celsius): judged against its largest value, the same noise went unseen
    for offset in (0.0, 290.0):
        noise = np.random.default_rng(1)

        def values(x, offset=offset, noise=noise):
            return (
                offset + x @ np.array([3.0, -2.0, 1.0, *[0.0] * 9]) + noise.normal(0, 0.3, len(x))
            )

        noisy = Explainer(values, X_TAB, outputs="values", surrogate=FAST, progress=False)
        with pytest.warns(UserWarning, match="outputs, relative to each one's range over the"):
            noisy.fit()
    # a float32 model at a large offset: its rounding, not a change
    quiet = Explainer(
        lambda x: (1e6 + x[:, 0]).astype(np.float32),
        X_TAB,
        outputs="values",
        surrogate=FAST,
        progress=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet.fit()


def test_features_the_fit_never_saw_vary_get_no_effect():
    """A column constant in X_fit: the fit knows nothing of its effect, so an input that
    differs there must not have it ranked (its coefficient would be a prior draw)."""
    X = X_TAB.copy()
    X[:, 0] = 5.0
    x = X[:3].copy()
    x[:, 0] = 15.0
    for seed in range(3):
        exp = Explainer(logistic, X, surrogate=FAST, random_state=seed, progress=False).explain(x)
        assert (exp.values[:, 0] == 0).all() and (exp.coefficients[:, 0] == 0).all()
        assert set(np.argsort(-np.abs(exp.coefficients).mean(axis=0))[:3]) == set(TRUE)


def test_legacy_random_state_is_accepted():
    """And used: the same state twice gives the same values, another state others."""
    settings = {"surrogate": {"n_sweeps": 30, "n_components": 2}, "n_jobs": 1}
    a, b, c = (
        Explainer(logistic, X_TAB[:200], random_state=rs, progress=False, **settings)
        for rs in (np.random.RandomState(3), np.random.RandomState(3), np.random.RandomState(4))
    )
    np.testing.assert_array_equal(a.explain(X_TAB[:4]).values, b.explain(X_TAB[:4]).values)
    assert not np.array_equal(a.explain(X_TAB[:4]).values, c.explain(X_TAB[:4]).values)


def test_children_of_one_seed_sequence_draw_apart_and_each_alike():
    """Children of SeedSequence(0).spawn(n) share their entropy: only it was kept, and they
    gave identical explanations."""
    kids = np.random.SeedSequence(0).spawn(2)

    def values(seed):
        settings = {"surrogate": {"n_sweeps": 30, "n_components": 2}, "n_jobs": 1}
        ex = Explainer(logistic, X_TAB[:200], random_state=seed, progress=False, **settings)
        return ex.explain(X_TAB[:5]).values

    a = values(kids[0])
    assert not np.array_equal(a, values(kids[1]))
    np.testing.assert_array_equal(a, values(kids[0]))
    np.testing.assert_array_equal(values(0), values(np.random.SeedSequence(0)))


def test_saturated_probabilities_are_censored_not_fatal():
    """A model so confident that most probabilities round to exactly 0 or 1."""

    def saturated(X):
        return logistic(40 * X)

    p = saturated(X_TAB)
    assert (p == 0).any(axis=1).mean() > 0.3  # the logits of those rows are infinite
    exp = Explainer(saturated, X_TAB, surrogate=FAST, random_state=0, progress=False).explain(
        X_TAB[:30]
    )
    assert np.isfinite(exp.values).all()
    assert set(np.argsort(-np.abs(exp.coefficients).mean(axis=0))[:3]) == set(TRUE)


def test_fit_perturbations_add_switched_off_copies_to_the_fit_data():
    model = Counting(logistic)
    ex = Explainer(
        model, X_TAB[:100], fit_perturbations=2, surrogate=FAST, random_state=0, progress=False
    )
    ex.fit(classes=[1])
    assert model.rows == 308 and ex.fit_queries_ == 308  # 8 of them asked twice
    fit_X = ex._fit_X
    np.testing.assert_array_equal(fit_X[:100], X_TAB[:100])
    mean = X_TAB[:100].mean(axis=0)
    for copy in (fit_X[100:200], fit_X[200:]):
        same = np.isclose(copy, X_TAB[:100])
        off = np.isclose(copy, mean)
        assert (same | off).all() and 0.3 < off.mean() < 0.7  # deletion rates ~ U(0, 1)
    with pytest.raises(ValueError, match="fit_perturbations"):
        Explainer(logistic, X_TAB, fit_perturbations=-1)


def test_guided_mode_corrects_the_global_effects_with_few_queries():
    model = Counting(logistic)
    ex = Explainer(
        model, X_TAB, mode="guided", n_samples=40, surrogate=FAST, random_state=0, progress=False
    )
    ex.fit()
    before = model.rows
    exp = ex.explain(X_TAB[:5])
    assert model.rows - before == 5 + 5 * 40 and exp.method == "dmm-men-guided"
    sign = np.where(exp.target == 1, 1.0, -1.0)
    for j, w in TRUE.items():
        effect = sign * w * (X_TAB[:5, j] - X_TAB[:, j].mean())
        np.testing.assert_allclose(exp.values[:, j], effect, atol=0.1)
    assert (exp.lower <= exp.values + 1e-12).all() and (exp.values <= exp.upper + 1e-12).all()
    # a global explainer's fits serve a guided explanation; a local explainer has none
    glob = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False).fit()
    again = glob.explain(X_TAB[:5], mode="guided", n_samples=40)
    assert again.method == "dmm-men-guided" and again.meta["model_queries"] == 5 + 5 * 40
    with pytest.raises(ValueError, match="no global surrogates"):
        Explainer(logistic, X_TAB, mode="local").explain(X_TAB[:2], mode="guided")


def test_guided_fits_see_logits_beyond_the_censoring_limit():
    """Global fits censor logits at +-logit_limit; a guided fit around one input is
    Gaussian, so it takes the exact logit: with a limit of 1, inputs of logit 3-10 still get
    the true effects, which clipped responses would flatten."""
    z = sum(w * X_TAB[:, j] for j, w in TRUE.items())
    confident = np.flatnonzero((np.abs(z) > 3) & (np.abs(z) < 10))[:5]
    ex = Explainer(logistic, X_TAB, surrogate=FAST, logit_limit=1.0, random_state=0, progress=False)
    exp = ex.fit().explain(X_TAB[confident], mode="guided", n_samples=40)
    sign = np.where(exp.target == 1, 1.0, -1.0)
    for j, w in TRUE.items():
        effect = sign * w * (X_TAB[confident, j] - X_TAB[:, j].mean())
        np.testing.assert_allclose(exp.values[:, j], effect, atol=0.1)
    # a probability output that underflowed to 0 still gives a finite response, just beyond
    # every finite one of the same outputs (at least 100); a finite one is taken as it is
    certain = np.array([[0.0, np.log(1e-30)], [0.0, -np.inf], [-np.inf, 0.0], [0.0, -300.0]])
    np.testing.assert_allclose(guided_logit(certain, 0), [30 * np.log(10), 301, -301, 300])
    np.testing.assert_allclose(guided_logit(certain[:3], 0), [30 * np.log(10), 100, -100])
    assert guided_logit(certain, 0, 745.0)[1] == 745.0


def test_guided_mode_takes_a_confident_models_logits_as_they_are():
    """Logits beyond +-100 were clipped there: a linear logit model's contributions came
    out tens off (35 for inputs whose perturbations crossed 100, 135 beyond it)."""
    scale = 40.0

    def logits(X):
        z = scale * sum(w * X[:, j] for j, w in TRUE.items())
        return np.stack([np.zeros_like(z), z], axis=1)

    ex = Explainer(logits, X_TAB, outputs="logits", surrogate=FAST, random_state=0, progress=False)
    z = logits(X_TAB)[:, 1]
    rows = np.flatnonzero(np.abs(z) > 150)[:4]
    exp = ex.fit().explain(X_TAB[rows], target=1, mode="guided", n_samples=40)
    for j, w in TRUE.items():
        effect = scale * w * (X_TAB[rows, j] - X_TAB[:, j].mean())
        # exactly linear: the fit's spread is rounding and its prior, far below 1 in 100s
        np.testing.assert_allclose(exp.values[:, j], effect, atol=0.5)
    votes = np.log([[0.0, 1.0], [0.99, 0.01]])  # a forest of 100 trees: infinite at 100
    assert logit_bound(votes) == GUIDED_LOGIT_LIMIT


@pytest.mark.filterwarnings("ignore:.*far outside the fit data")  # z = -17: meant so
def test_a_guided_explanation_depends_on_no_other_query_of_the_model():
    """A probability that rounds to 1 stands just beyond the finite logits of the input's
    own queries: the bound kept over every output the model had given made an input's
    explanation change with the inputs explained before it, beside it, and across a save
    and load (x: 27.6 alone, 195.9 after z)."""

    def steep(R):  # p rounds to exactly 1 past s = 37; log p of z's class is -680
        s = 10 * R.sum(axis=1)
        with np.errstate(over="ignore"):
            p = 1 / (1 + np.exp(-s))
        return np.column_stack([1 - p, p])

    X = np.random.default_rng(0).normal(size=(200, 4))
    x, z = np.full((1, 4), 1.5), np.full((1, 4), -17.0)

    def explainer():
        return Explainer(steep, X, surrogate=FAST, random_state=0, progress=False).fit()

    ex = explainer()
    alone = ex.explain(x, target=1, mode="guided", n_samples=40).values
    ex.explain(z, target=0, mode="guided", n_samples=40)
    after = ex.explain(x, target=1, mode="guided", n_samples=40).values
    beside = explainer().explain(np.vstack([x, z]), [1, 0], mode="guided", n_samples=40)
    np.testing.assert_array_equal(after, alone)
    np.testing.assert_array_equal(beside.values[:1], alone)


def test_class_logit_of_a_class_per_row_is_that_of_each_class_on_its_rows():
    """Guided rounds take the logits of a chunk of inputs, each of its own class, in one
    call: bit for bit what one call per class gives."""
    rng = np.random.default_rng(0)
    log_p = rng.normal(scale=20.0, size=(60, 7))
    log_p -= np.logaddexp.reduce(log_p, axis=1, keepdims=True)
    log_p[rng.uniform(size=log_p.shape) < 0.1] = -np.inf
    c = rng.integers(0, 7, size=60)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = class_logit(log_p, c)
        for k in range(7):
            assert class_logit(log_p[c == k], k).tobytes() == per_row[c == k].tobytes()


def test_guided_mode_perturbs_only_the_top_candidates():
    """With candidates=3, every perturbation switches off only the three present features
    that contribute most in the input's global regime (for or against the class: the
    model is binary, whose classes share them); the others keep their global
    coefficients."""
    seen = []

    def recording(X):
        seen.append(np.array(X))
        return logistic(X)

    glob = Explainer(recording, X_TAB, surrogate=FAST, random_state=0, progress=False).fit()
    base = glob.explain(X_TAB[:4])
    alone = []
    for i in range(4):  # one input per call, so that every query after the first is its own
        seen.clear()
        exp = glob.explain(X_TAB[i : i + 1], mode="guided", n_samples=40, candidates=3)
        assert exp.meta["candidates"] == 3
        queried = np.concatenate(seen)[1:]  # after the query for the target
        assert queried.shape == (40, 12)
        top = np.argsort(-np.abs(base.values[i]), kind="stable")[:3]
        switched = np.flatnonzero((~np.isclose(queried, X_TAB[i])).any(axis=0))
        assert switched.size and set(switched) <= set(top)
        others = np.setdiff1d(np.arange(12), top)
        np.testing.assert_allclose(exp.coefficients[0, others], base.coefficients[i, others])
        alone.append(exp.values[0])
    # inputs explained together query the model in shared rounds, with the same draws
    together = glob.explain(X_TAB[:4], mode="guided", n_samples=40, candidates=3)
    np.testing.assert_array_equal(together.values, np.array(alone))
    with pytest.raises(ValueError, match="candidates must be"):
        glob.explain(X_TAB[:2], mode="guided", candidates=0)


def test_cached_fits_are_loaded_and_give_the_same_explanations(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    kw = {"surrogate": FAST, "random_state": 0, "progress": False, "cache_fits": True}
    first = Explainer(logistic, X_TAB, **kw).fit()
    # a binary model: one fit, of class 1 (class 0 reads it mirrored)
    assert first.cached_fits_ == [] and len(list((tmp_path / "fits").glob("*.npz"))) == 1
    again = Explainer(logistic, X_TAB, **kw).fit()
    assert again.cached_fits_ == [1]
    a, b = first.explain(X_TAB[:30]), again.explain(X_TAB[:30])
    for name in ("values", "lower", "upper", "component", "component_probability"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    reg, back = first.surrogates_[1], again.surrogates_[1]
    assert back.diagnostics_["log_likelihood_rhat"] == reg.diagnostics_["log_likelihood_rhat"]
    np.testing.assert_array_equal(back.predict(X_TAB), reg.predict(X_TAB))
    assert back.censoring_ == reg.censoring_ and back.get_params() == reg.get_params()
    # anything that changes the fit misses the cache: another seed, other data
    other = Explainer(logistic, X_TAB, **{**kw, "random_state": 1}).fit()
    assert other.cached_fits_ == []
    assert Explainer(logistic, X_TAB[:500], **kw).fit().cached_fits_ == []
    # a damaged entry is a miss, refitted and written again: a broken zip, an empty file
    # (as a power cut leaves one), metadata that is not an object
    for damage in (b"not a zip", b""):
        for f in (tmp_path / "fits").glob("*.npz"):
            f.write_bytes(damage)
        refit = Explainer(logistic, X_TAB, **kw).fit()
        assert refit.cached_fits_ == []
        np.testing.assert_array_equal(refit.explain(X_TAB[:30]).values, a.values)
    for f in (tmp_path / "fits").glob("*.json"):
        f.write_text("null")
    assert Explainer(logistic, X_TAB, **kw).fit().cached_fits_ == []
    assert Explainer(logistic, X_TAB, **kw).fit().cached_fits_ == [1]
    # settings given as numpy numbers are kept too
    numpy_kw = {**kw, "surrogate": {k: np.int64(v) for k, v in FAST.items()}}
    Explainer(logistic, X_TAB, **numpy_kw).fit()
    assert Explainer(logistic, X_TAB, **numpy_kw).fit().cached_fits_ == [1]


def test_max_off_sets_the_scale_of_the_perturbations():
    seen = []

    def recording(X):
        seen.append(np.array(X))
        return logistic(X)

    kw = {"mode": "local", "n_samples": 400, "surrogate": FAST, "progress": False}
    x = X_TAB[:1]  # 12 present columns (none equals the training mean)
    off = {}
    for max_off in (None, 2):
        seen.clear()
        Explainer(recording, X_TAB, random_state=0, **kw).explain(x, max_off=max_off)
        perturbed = np.concatenate(seen)[1:]  # the query of x itself first
        off[max_off] = (perturbed == X_TAB.mean(axis=0)).sum(axis=1)
    # rates ~ U(0, 1) switch 12 / 2 = 6 of 12 off on average; rates ~ U(0, 2/12), 1 of 12
    # (the standard error of either mean over 400 perturbations is below 0.2)
    assert abs(off[None].mean() - 6.0) < 0.8
    assert abs(off[2].mean() - 1.0) < 0.3
    with pytest.raises(ValueError, match="max_off must be a positive number"):
        Explainer(recording, X_TAB, **kw).explain(x, max_off=0)


def test_guided_perturbations_switch_off_at_most_a_few_tens_of_features(monkeypatch):
    """Rates ~ U(0, min(40%, GUIDED_MAX_OFF / candidates)): with many candidates the cap,
    not the 40%, sets the scale (here the cap is lowered to 2 of the 12 columns)."""
    import scrutiny.explainer as explainer_module

    seen = []

    def recording(X):
        seen.append(np.array(X))
        return logistic(X)

    glob = Explainer(recording, X_TAB, surrogate=FAST, random_state=0, progress=False).fit()
    n_first = round(explainer_module.GUIDED_FIRST * 400)
    off = {}
    for cap in (40, 2):
        monkeypatch.setattr(explainer_module, "GUIDED_MAX_OFF", cap)
        seen.clear()
        glob.explain(X_TAB[:1], mode="guided", n_samples=400, candidates=12)
        first = np.concatenate(seen)[1 : 1 + n_first]  # the random perturbations
        off[cap] = (~np.isclose(first, X_TAB[0])).sum(axis=1).mean()
    # 12 x E[U(0, 0.4)] = 2.4 and 12 x E[U(0, 2/12)] = 1.0 features off on average; the
    # standard error of either mean over 160 perturbations is about 0.1
    assert abs(off[40] - 2.4) < 0.4
    assert abs(off[2] - 1.0) < 0.3


def test_images_of_0_255_are_explained_as_the_same_images_of_0_1(tmp_path):
    """The surrogate's priors are in the features' units: images of 0-255 given as pixels
    met a prior 255 times weaker and were fitted, and explained, differently (values
    correlated 0.04-0.96 with the [0, 1] images' on a small MLP). They are measured in
    255s now, as the same images of [0, 1] in 1s."""
    gen = np.random.default_rng(1)
    W = gen.normal(size=(64, 3)) * 2.0
    on = gen.uniform(size=(300, 8, 8)) > 0.5
    X255 = np.round(255 * gen.uniform(size=(300, 8, 8)) * on).astype(np.uint8)
    X01 = X255 / 255.0

    def model(x):  # of pixels in [0, 1]
        z = np.tanh(np.asarray(x, dtype=np.float64).reshape(len(x), -1) @ W) * 3.0
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    kw = {"surrogate": {"n_sweeps": 40, "n_components": 3}, "random_state": 0}
    kw |= {"progress": False, "n_jobs": 1}
    ones = Explainer(model, X01, **kw).explain(X01[:5])
    ex = Explainer(lambda x: model(np.asarray(x) / 255.0), X255, **kw)
    assert ex.representation.scale[0] == 255.0
    exp = ex.explain(X255[:5])
    np.testing.assert_array_equal(exp.component, ones.component)
    np.testing.assert_allclose(exp.values, ones.values, rtol=1e-6, atol=1e-9)
    ex.save(tmp_path / "ex")  # the unit is kept
    back = Explainer.load(tmp_path / "ex", lambda x: model(np.asarray(x) / 255.0))
    np.testing.assert_array_equal(back.explain(X255[:5]).values, exp.values)
    # dark images (none brighter than 180), and a grey baseline: their unit was the largest
    # departure from the baseline, 180 or 127.5, not 255, and their explanations differed
    dark, grey = np.minimum(X255, 180), {"baseline": 127.5}
    dark_ones = Explainer(model, dark / 255.0, **kw).explain(dark[:5] / 255.0)
    dark_exp = Explainer(lambda x: model(np.asarray(x) / 255.0), dark, **kw).explain(dark[:5])
    np.testing.assert_allclose(dark_exp.values, dark_ones.values, rtol=1e-6, atol=1e-9)
    half = Explainer(model, X01, **kw, baseline=0.5).explain(X01[:5])
    on_grey = Explainer(lambda x: model(np.asarray(x) / 255.0), X255, **kw, **grey)
    assert on_grey.representation.to_json()["unit"] == 255.0  # for the fidelity protocol
    digits = np.round(X01 * 16)  # scikit-learn's digits: whole numbers of 0-16, not 8-bit
    assert Explainer(model, digits, **kw).representation.scale[0] == 16.0
    darker = (X255 // 3).astype(np.uint8)  # uint8 up to 85: 8-bit pixels still (it was 85)
    assert Explainer(model, darker, **kw).representation.scale[0] == 255.0
    np.testing.assert_allclose(on_grey.explain(X255[:5]).values, half.values, atol=1e-9)
    # guided and local mode seed an image's perturbations by its pixels in [0, 1], channels
    # last: the same image of 0-255, or channels first, was keyed apart (values a third off)
    for own, asked in (({}, {"mode": "guided", "n_samples": 30}), ({"mode": "local"}, {})):
        own = own and {**own, "n_samples": 30}
        a = Explainer(model, X01, **own, **kw).explain(X01[:3], **asked)
        b = Explainer(lambda x: model(np.asarray(x) / 255.0), X255, **own, **kw)
        np.testing.assert_allclose(b.explain(X255[:3], **asked).values, a.values, atol=1e-9)
    rgb = np.repeat(X01[..., None], 3, axis=-1)  # (8, 8, 3), and the same channels first

    def grey_of(x):
        x = np.asarray(x)
        return model(x.mean(axis=-1) if x.shape[-1] == 3 else x.mean(axis=1))

    last = Explainer(grey_of, rgb, **kw).explain(rgb[:3], mode="guided", n_samples=30)
    first_rgb = rgb.transpose(0, 3, 1, 2)
    first = Explainer(grey_of, first_rgb, **kw).explain(first_rgb[:3], mode="guided", n_samples=30)
    np.testing.assert_allclose(first.values.transpose(0, 2, 3, 1), last.values, atol=1e-9)


def test_an_adapter_set_up_for_other_columns_or_levels_is_refused():
    """A ModelAdapter given to two explainers of the same table in other column orders: the
    second queried the model with the first's names, silently (P 0.93 for 0.37), and one of
    other levels re-pointed the first's queries. The same columns share it (and its counts
    of queries, which the benchmarks read)."""
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    from scrutiny.models import ModelAdapter

    frame = pd.DataFrame(X_TAB[:, :3], columns=["a", "b", "c"])
    clf = LogisticRegression().fit(frame, (3 * frame.a - frame.c > 0).astype(int))
    adapter = ModelAdapter(clf)
    Explainer(adapter, frame, surrogate=FAST, progress=False)
    Explainer(adapter, frame[:100], surrogate=FAST, progress=False)  # the same columns
    with pytest.raises(ValueError, match=r"takes columns \['a', 'b', 'c'\], X_fit has \['c'"):
        Explainer(adapter, frame[["c", "b", "a"]], surrogate=FAST, progress=False)
    town = frame.assign(town=np.where(frame.a > 0, "x", "y"))
    shared = ModelAdapter(lambda R: clf.predict_proba(R[["a", "b", "c"]]))
    Explainer(shared, town, surrogate=FAST, progress=False)
    other = town.assign(town=pd.Categorical(town.town, categories=["y", "x"]))
    with pytest.raises(ValueError, match="reads other levels of X_fit's columns of names"):
        Explainer(shared, other, surrogate=FAST, progress=False)


def test_fit_takes_a_class_or_classes_as_the_constructor_does():
    ex = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False)
    for bad in ([1.9], [True], ["1"]):  # 1.9 and True fitted class 1
        with pytest.raises(ValueError, match="classes must be output columns, whole numbers"):
            ex.fit(bad)
    # a class, as explain's target takes one: the fit of [1] (it raised 'int' not iterable)
    alike = Explainer(logistic, X_TAB, surrogate=FAST, random_state=0, progress=False)
    expected = alike.fit([1]).surrogates_[1].coef_
    np.testing.assert_array_equal(ex.fit(1).surrogates_[1].coef_, expected)


def test_a_local_fit_whose_chains_split_the_perturbations_otherwise_still_fits_the_input():
    """The input's component was one label pooled across chains: where one chain kept every
    perturbation in one regime and the other split them by a feature's presence, the
    input's coefficients averaged its own regime with another's, and the surrogate missed
    an exactly linear model's logit at the input by up to 0.88. Draw by draw it is the
    regime holding the input (``row_posterior``)."""
    rng = np.random.default_rng(1)
    X_fit, w = rng.normal(size=(300, 2)), np.array([1.2, 0.3])

    def linear(X):
        p = 1 / (1 + np.exp(-(np.asarray(X) @ w + 0.1)))
        return np.column_stack([1 - p, p])

    xs = rng.normal(size=(20, 2)) * 1.5
    ex = Explainer(linear, X_fit, mode="local", n_jobs=1, progress=False, random_state=1)
    exp = ex.explain(xs, target=1, n_samples=60)
    # 60 perturbations of 2 features, sampled at 200 sweeps: a few hundredths (0.03 here)
    assert np.abs(exp.surrogate_logit - exp.model_logit).max() < 0.1
    truth = (xs - ex.representation.baseline) * w
    assert ((exp.lower <= truth + 1e-3) & (truth - 1e-3 <= exp.upper)).mean() > 0.9


def test_settings_for_the_explainers_own_mode_say_when_another_mode_does_not_take_them():
    """A global explainer's surrogate= and n_samples= were silently not used by
    explain(mode="local") (a ridge asked for, the default mixture fitted) or "guided"."""
    kw = {"random_state": 0, "progress": False, "n_jobs": 1}
    ex = Explainer(logistic, X_TAB, surrogate=FAST, n_samples=30, **kw)
    with pytest.warns(UserWarning, match=r"n_samples=30 \(mode=.guided. takes 100: pass"):
        ex.explain(X_TAB[:1], mode="guided")
    with pytest.warns(UserWarning, match=r"surrogate= \(local fits take LOCAL_SURROGATE: make"):
        ex.explain(X_TAB[:1], mode="local", n_samples=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.explain(X_TAB[:1], mode="guided", n_samples=30)  # given for the call: no warning
        Explainer(logistic, X_TAB, surrogate=FAST, **kw).explain(X_TAB[:1], mode="guided")
        # global mode takes no perturbations (scrutinize asks a guided explainer for it)
        guided = Explainer(logistic, X_TAB, mode="guided", surrogate=FAST, n_samples=30, **kw)
        guided.explain(X_TAB[:1], mode="global")
    # settings of the call that its mode does not take were ignored (candidates=2 in local
    # mode gave the default's explanation)
    local = Explainer(logistic, X_TAB, mode="local", surrogate=FAST, n_samples=20, **kw)
    with pytest.raises(ValueError, match="mode='local' takes no candidates: candidates are gu"):
        local.explain(X_TAB[:1], candidates=2)
    with pytest.raises(ValueError, match="mode='global' takes no n_samples or max_off: it pe"):
        ex.explain(X_TAB[:1], n_samples=20, max_off=3)
    with pytest.raises(ValueError, match="mode='global' takes no candidates"):
        ex.explain(X_TAB[:1], mode="global", candidates=5)


def test_settings_of_the_wrong_kind_are_named(tmp_path):
    """logit_limit="16" met numpy's ufunc error, surrogate="x" Python's 'not a mapping',
    and save(fit_data="no") saved the fit data."""
    with pytest.raises(TypeError, match="logit_limit must be a number, got '16'"):
        Explainer(logistic, X_TAB, logit_limit="16")
    with pytest.raises(TypeError, match="surrogate must be a dict of settings or None"):
        Explainer(logistic, X_TAB, surrogate="x")
    with pytest.raises(TypeError, match="fit_data must be True or False"):
        Explainer(logistic, X_TAB, surrogate=FAST, progress=False).save(tmp_path / "e", "no")


def test_a_label_given_as_target_is_told_from_a_column():
    """classes_ [3, 7]: target=7 was 'class 7 does not exist: the model has 2'."""
    from sklearn.linear_model import LogisticRegression

    from scrutiny.baselines import kernel_shap

    clf = LogisticRegression().fit(X_TAB, np.where(X_TAB[:, 2] > 0, 7, 3))
    ex = Explainer(clf, X_TAB, surrogate=FAST, random_state=0, progress=False)
    hint = r"got \[7\] \(a class is the number of its output column; .* classes_, are \[3, 7\]"
    with pytest.raises(ValueError, match=hint):
        ex.explain(X_TAB[:2], target=7)
    with pytest.raises(TypeError, match=r"got 'seven' \(a class is the number of its output"):
        ex.explain(X_TAB[:2], target="seven")
    # labels as predicted, one per input (clf.predict(X)): with classes_ [1, 2, 3], labels
    # 1 and 2 were read as columns 1 and 2, the labels 2 and 3, silently
    three = LogisticRegression().fit(X_TAB, np.digitize(X_TAB[:, 2], [-0.5, 0.5]) + 1)
    by_labels = Explainer(three, X_TAB, surrogate=FAST, random_state=0, progress=False)
    rows = X_TAB[np.isin(three.predict(X_TAB), [1, 2])][:6]
    with pytest.warns(UserWarning, match=r"target is the model's predicted labels, not their"):
        by_labels.explain(rows, target=three.predict(rows))
    with warnings.catch_warnings():  # one class for all is no sign of labels
        warnings.simplefilter("error")
        by_labels.explain(rows[three.predict(rows) == 2], target=2)
    with pytest.raises(ValueError, match=hint):
        kernel_shap(clf, X_TAB[:2], target=7, nsamples=50, progress=False)
    with pytest.raises(ValueError, match=r"class 7 does not exist: .* classes_, are \[3, 7\]"):
        scrutinize(ex, X_TAB[:50], target=7)
    with pytest.raises(ValueError, match=r"must be in 0\.\.6, got \[7\]$"):  # no labels: no hint
        Explainer(softmax, X_TAB, surrogate=FAST, progress=False).explain(X_TAB[:2], target=7)


def test_local_mode_makes_an_inputs_perturbations_a_batch_at_a_time(monkeypatch):
    """They were made all at once, in float64: 1,000 perturbations of a 224 x 224 colour
    image took 1.1 GB before the first model call (peak 1.7 GB; 4.0 GB with 3,000)."""
    ex = Explainer(
        logistic, X_TAB, mode="local", n_samples=300, surrogate=FAST, batch_size=64, progress=False
    )
    made = []
    switch_off = type(ex.representation).switch_off

    def noted(rep, x, keep):
        made.append(len(keep))
        return switch_off(rep, x, keep)

    monkeypatch.setattr(type(ex.representation), "switch_off", noted)
    ex.explain(X_TAB[:2])
    assert sum(made) == 2 * 300 and max(made) <= 64


def test_a_fit_beyond_the_machines_memory_is_refused_before_any_query(monkeypatch):
    """224 x 224 x 3 pixels as features failed deep inside numpy ("Unable to allocate 93.8
    GiB"), after the model had been queried on the fit data. Here a machine of 16 MB, and
    28 x 28 pixels (2 chains x 10 components x 785^2 x 4 bytes, float32: 49 MB); a local
    explainer, whose fits are of each input's present pixels, is not refused for all."""
    import os

    from scrutiny import DPMixtureRegression

    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 16 * 2**20 // 4096}
    real = os.sysconf
    monkeypatch.setattr(os, "sysconf", lambda name: pages.get(name) or real(name))
    images = np.random.default_rng(0).uniform(size=(20, 28, 28))
    asked = []

    def model(X):
        asked.append(len(X))
        return np.full((len(X), 2), 0.5)

    with pytest.raises(
        ValueError, match=r"a fit on 785 columns needs at least [\d.]+ GiB .* superpixel="
    ):
        Explainer(model, images).fit()
    assert asked == []
    Explainer(model, images, superpixel=2)  # 196 features: 3 MB
    Explainer(model, images, mode="local")
    y = np.arange(20.0)
    with pytest.raises(ValueError, match=r"in each of 2 chains at once, more than this machine's"):
        DPMixtureRegression(n_components=2, batch_chains=True).fit(images.reshape(20, -1), y)
    # one chain after the other holds one chain's matrices (2 x 785^2 x 8 bytes: 9.4 MB)
    DPMixtureRegression(2, n_sweeps=4, n_jobs=1, batch_chains=False, progress=False).fit(
        images.reshape(20, -1), y
    )


def test_every_class_logit_is_read_in_one_pass_over_the_outputs(monkeypatch):
    """A class at a time, each over all n x C outputs, was O(n C^2): a 1,000-class model
    spent 88 s on its fit data's logits before its first fit (0.6 s now); the same
    values, to rounding, for every class and tie, certain classes included."""
    from scipy.special import log_softmax

    from scrutiny import explainer as module

    gen = np.random.default_rng(3)
    for C, spread in ((2, 1.0), (7, 30.0), (300, 5.0)):
        lp = log_softmax(gen.normal(size=(40, C)) * spread, axis=1)
        lp[0] = -np.log(C)  # every class tied
        each = np.stack([module.class_logit(lp, c) for c in range(C)], axis=1)
        np.testing.assert_allclose(module.class_logits(lp), each, rtol=1e-13, atol=1e-13)
    with np.errstate(divide="ignore"):
        certain = np.log([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
        np.testing.assert_array_equal(
            module.class_logits(certain), [[np.inf, -np.inf, -np.inf], [0.0, 0.0, -np.inf]]
        )
    W = gen.normal(size=(12, 300))
    calls = []
    one_class = module.class_logit
    monkeypatch.setattr(module, "class_logit", lambda *a: calls.append(1) or one_class(*a))
    ex = Explainer(
        lambda X: log_softmax(X @ W, axis=1),
        X_TAB,
        outputs="logits",
        surrogate=FAST,
        progress=False,
        random_state=0,
    )
    ex.fit([0])
    assert calls == []  # read in one pass (each class's fit and the repeat check took 300)


def test_a_model_trained_again_after_the_fit_is_warned_of(tmp_path):
    """Fitted again in place (a scikit-learn model's fit, a torch optimizer's step), the
    model was explained as it had been, with no word: its new logits beside surrogates
    of the old ones (3.09 for 4.45), and guided fits mixing the two."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = (X_TAB[:, 0] > 0).astype(int)
    settings = {"surrogate": FAST, "progress": False, "random_state": 0}
    trained = "the model was trained again after this explainer read its outputs"
    for clf in (LogisticRegression(), make_pipeline(StandardScaler(), LogisticRegression())):
        clf.fit(X_TAB, y)
        ex = Explainer(clf, X_TAB, **settings)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ex.explain(X_TAB[:3])
            ex.explain(X_TAB[3:5], mode="guided", n_samples=30)  # unchanged: nothing said
        ex.save(tmp_path / f"ex{len(clf.get_params())}")
        loaded = Explainer.load(tmp_path / f"ex{len(clf.get_params())}", clf)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded.explain(X_TAB[:3])
        clf.fit(X_TAB, (X_TAB[:, 3] > 0).astype(int))
        for explainer in (ex, loaded):
            with warnings.catch_warnings(record=True) as said:  # its regimes fit none too
                warnings.simplefilter("always")
                explainer.explain(X_TAB[:3])
            assert any(trained in str(w.message) for w in said)
    net = torch.nn.Linear(12, 3).double()
    ex = Explainer(net, X_TAB, outputs="logits", **settings)
    ex.explain(X_TAB[:3])
    import copy
    import pickle

    for other in (pickle.loads(pickle.dumps(ex)), copy.deepcopy(ex)):  # new tensors, same
        with warnings.catch_warnings():  # model: nothing to say
            warnings.simplefilter("error")
            other.explain(X_TAB[:3])
    torch.optim.SGD(net.parameters(), lr=0.1).zero_grad()
    net(torch.tensor(X_TAB)).sum().backward()
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    with pytest.warns(UserWarning, match=trained):
        ex.explain(X_TAB[:3])


def test_a_copy_of_an_explainer_whose_model_was_trained_again_warns_as_it_does():
    """Pickled or deep-copied after its model was fitted anew, the copy took the new
    model's state as the fitted one's and explained it with the old surrogates, silently."""
    import copy
    import pickle

    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(X_TAB, (X_TAB[:, 0] > 0).astype(int))
    ex = Explainer(clf, X_TAB, surrogate=FAST, progress=False, random_state=0)
    ex.explain(X_TAB[:2])
    clf.fit(X_TAB, (X_TAB[:, 3] > 0).astype(int))
    for other in (pickle.loads(pickle.dumps(ex)), copy.deepcopy(ex)):
        with pytest.warns(UserWarning, match="the model was trained again"):
            other.explain(X_TAB[:2])


def test_a_torch_module_trained_by_a_fused_step_or_through_data_is_warned_of():
    """A fused optimizer's step and a change through ``.data`` leave every tensor's
    version count as it was: the module was trained, and explained with no word."""
    settings = {"outputs": "logits", "surrogate": FAST, "progress": False, "random_state": 0}
    steps = {
        "fused": lambda net: torch.optim.Adam(net.parameters(), lr=0.1, fused=True).step(),
        "data": lambda net: [p.data.sub_(0.1 * p.grad) for p in net.parameters()],
    }
    for step in steps.values():
        torch.manual_seed(0)
        net = torch.nn.Linear(12, 3).double()
        ex = Explainer(net, X_TAB, **settings)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ex.explain(X_TAB[:2])
        net(torch.tensor(X_TAB)).sum().backward()
        step(net)
        with pytest.warns(UserWarning, match="the model was trained again"):
            ex.explain(X_TAB[:2])


def test_a_local_explanation_of_a_model_trained_again_is_not_warned_of():
    """A local fit reads the model as it is now: its explanations are a new explainer's,
    which the warning told the user to make."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(X_TAB, (X_TAB[:, 0] > 0).astype(int))
    ex = Explainer(clf, X_TAB, surrogate=FAST, progress=False, random_state=0)
    ex.explain(X_TAB[:2])
    clf.fit(X_TAB, (X_TAB[:, 3] > 0).astype(int))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        ex.explain(X_TAB[:2], mode="local", n_samples=40)
    assert not [w for w in said if "trained again" in str(w.message)]
    with pytest.warns(UserWarning, match="the model was trained again"):
        ex.explain(X_TAB[:2], mode="guided", n_samples=30)  # its prior is the old model's


def test_an_explainer_pickled_before_model_states_were_taken_still_explains():
    """One pickled by an earlier scrutiny has no ``_model_state``: its explain raised
    AttributeError where it had explained before."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(X_TAB, (X_TAB[:, 0] > 0).astype(int))
    ex = Explainer(clf, X_TAB, surrogate=FAST, progress=False, random_state=0)
    before = ex.explain(X_TAB[:2]).values
    state = ex.__dict__.copy()
    del state["_model_state"]
    old = Explainer.__new__(Explainer)
    old.__setstate__(state)  # as pickle.loads does
    np.testing.assert_array_equal(old.explain(X_TAB[:2]).values, before)
