"""LIME and KernelSHAP through the real packages, and LEMNA, on models whose decisive pixels
and tokens are known."""

import warnings

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("lime")
pytest.importorskip("shap")

from scrutiny.baselines import kernel_shap, lemna, lime_image, random_explanation
from scrutiny.models import ModelAdapter
from scrutiny.representations import TokenRepresentation

OWN = [(9, 10, 11), (27, 28, 29), (50, 51, 52)]


def model(X):
    X = X.reshape(len(X), -1)
    z = np.stack([4 * X[:, list(p)].sum(axis=1) for p in OWN], axis=1)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


rng = np.random.default_rng(0)
X = rng.uniform(0.5, 1.0, size=(3, 8, 8)) * (rng.uniform(size=(3, 8, 8)) < 0.6)
for x in X:
    x.reshape(-1)[[p for own in OWN for p in own]] = rng.uniform(0.5, 1.0, 9)


@pytest.mark.parametrize(
    "explain, queries",
    [
        (lambda a: lime_image(a, X, num_samples=300, progress=False), 300),
        (lambda a: kernel_shap(a, X, nsamples=400, l1_reg=False, progress=False), 400),
    ],
)
def test_competitors_find_the_model_pixels_and_count_their_queries(explain, queries):
    adapter = ModelAdapter(model)
    exp = explain(adapter)
    target = model(X).argmax(axis=1)
    np.testing.assert_array_equal(exp.target, target)
    for i in range(3):
        assert set(exp.top(3)[i]) == set(OWN[target[i]])
    assert (exp.values[X == 0] == 0).all()  # absent pixels get no share
    assert exp.meta["queries_per_explanation"] <= queries + 3  # + target, shap: x, background
    np.testing.assert_array_equal(exp.values, explain(ModelAdapter(model)).values)  # seeded
    assert exp.meta["scale"] == "probability"  # their values add up to the probability


@pytest.mark.parametrize(
    "explain",
    [
        lambda seed: lime_image(model, X[:1], num_samples=100, random_state=seed, progress=False),
        lambda seed: kernel_shap(model, X[:1], nsamples=100, random_state=seed, progress=False),
    ],
)
def test_competitors_take_a_numpy_generator_as_their_seed(explain):
    """lime and shap take integers only: a Generator (as scrutiny's own functions take)
    gives them one of its draws, so that the same Generator state gives the same values."""
    a, b = (explain(np.random.default_rng(3)).values for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, explain(np.random.default_rng(4)).values)  # and its draw
    legacy = [explain(np.random.RandomState(3)).values for _ in range(2)]
    np.testing.assert_array_equal(*legacy)
    assert not np.array_equal(legacy[0], explain(np.random.RandomState(4)).values)
    with pytest.raises(TypeError, match="random_state must be an int"):
        explain("three")


def test_shap_default_l1_keeps_ten_features():
    exp = kernel_shap(model, X, nsamples=400, progress=False)
    assert ((exp.values != 0).reshape(3, -1).sum(axis=1) <= 10).all()


def test_shap_leaves_numpys_global_generator_alone():
    np.random.seed(5)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    kernel_shap(model, X[:1], nsamples=100, progress=False)
    assert np.random.random() == expected  # noqa: NPY002


def test_random_explanation_is_seeded_and_keeps_targets():
    exp = lime_image(model, X, num_samples=100, progress=False)
    a, b = random_explanation(exp, 1), random_explanation(exp, 1)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.target, exp.target)
    np.testing.assert_array_equal(random_explanation(exp).values, random_explanation(exp).values)
    # only elements off the baseline are ranked: switching the others off is no test
    moved = X != exp.baseline
    assert 0 < moved.mean() < 1
    assert (a.values[~moved] == 0).all() and (a.values[moved] > 0).all()
    # uniformly random: the moved elements' values are U(0, 1) draws; under that law the KS
    # p-value is itself uniform, so p < 1e-3 is a 1-in-1000 false alarm (seeded: it is fixed)
    assert stats.kstest(a.values[moved], "uniform").pvalue > 1e-3
    # and random with its seed: each seed ranks an image's moved elements in a new random
    # order. Each image has >= 30 of them, so the top-1 of 50 seeds lands on <= 9 distinct
    # elements with probability <= C(30, 9) (9/30)^50 < 1e-18; an order fixed by index or
    # by a seed ignored puts it on one element
    assert (moved.reshape(3, -1).sum(axis=1) >= 30).all()
    top1 = np.array([random_explanation(exp, s).top(1)[:, 0] for s in range(50)])  # (50, 3)
    assert all(len(set(top1[:, i])) >= 10 for i in range(3))
    assert not np.array_equal(a.values, random_explanation(exp, 2).values)
    # an input's values are its own: drawn input by input from one stream, exp[1]'s
    # chance level changed with the inputs tested beside it
    np.testing.assert_array_equal(random_explanation(exp[1:], 1).values, a.values[1:])
    np.testing.assert_array_equal(random_explanation(exp[[2, 0]], 1).values, a.values[[2, 0]])


def test_lime_explains_colour_images_in_either_layout_by_pixel():
    """The grey inputs in colour (channels adding up to them) for a model of the channels'
    sum: a pixel is one segment, all its channels, so LIME fits the grey weights again,
    each shared by the pixel's three channels; a grey (1, H, W) input is a grey one."""
    tint = np.array([0.2, 0.3, 0.5])
    first, last = X[:, None] * tint[:, None, None], X[..., None] * tint
    grey = lime_image(model, X, num_samples=200, progress=False)
    for C, model_c in ((first, lambda x: model(x.sum(axis=1))), (last, lambda x: model(x.sum(-1)))):
        exp = lime_image(model_c, C, num_samples=200, progress=False)
        assert exp.values.shape == C.shape
        axis = 1 if C is first else -1
        np.testing.assert_allclose(exp.values.sum(axis=axis), grey.values, atol=1e-12)
        np.testing.assert_allclose(exp.values, np.stack([grey.values / 3] * 3, axis=axis))
    one = lime_image(lambda x: model(x[:, 0]), X[:, None], num_samples=200, progress=False)
    np.testing.assert_allclose(one.values[:, 0], grey.values)


@pytest.mark.parametrize("explain", [lime_image, kernel_shap])
def test_bad_targets_are_named(explain):
    with pytest.raises(ValueError, match=r"target classes must be in 0\.\.2"):
        explain(model, X, target=-1, progress=False)
    with pytest.raises(ValueError, match=r"target has shape \(2,\)"):
        explain(model, X, target=[0, 1], progress=False)
    bad = X.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf values, the first at \(1, 2, 3\)"):
        explain(model, bad, progress=False)


def test_lime_refuses_table_rows_by_name():
    """Table rows are KernelSHAP's (by column), not lime_image's: a clear error, not an
    AttributeError from inside."""
    with pytest.raises(ValueError, match=r"explains images.*shape \(3, 8\).*kernel_shap"):
        lime_image(lambda R: np.full((len(R), 2), 0.5), X[:3, 0], progress=False)


def test_superpixels_of_table_rows_are_refused_by_name():
    """The error said 'expected ... or table rows (n, columns)' of table rows."""
    with pytest.raises(ValueError, match=r"superpixel groups the pixels of images"):
        kernel_shap(lambda R: np.full((len(R), 2), 0.5), X[:3, 0], superpixel=2, progress=False)


def test_lime_hides_pixels_with_the_baseline_given():
    """A baseline that varies from pixel to pixel: every query LIME makes holds each pixel
    either at the input's value or at the baseline's, never at another value."""
    base = np.linspace(0.2, 0.8, 64).reshape(8, 8)
    seen = []

    def recording(images):
        seen.append(np.array(images))
        return model(images)

    lime_image(recording, X[:1], num_samples=40, baseline=base, progress=False)
    queried = np.concatenate(seen[1:])  # the first call asks for the target
    at_input, at_base = np.isclose(queried, X[0]), np.isclose(queried, base)
    assert (at_input | at_base).all()
    assert at_base[~np.isclose(X[0], base)[None].repeat(len(queried), 0)].any()


def test_lime_explains_an_input_alike_whatever_comes_before_it():
    alone = lime_image(model, X[1:2], num_samples=100, progress=False)
    second = lime_image(model, X[:2], num_samples=100, progress=False)
    np.testing.assert_array_equal(second.values[1], alone.values[0])


def test_kernel_shap_explains_a_dataframe_by_column_name():
    """A pipeline that picks its columns by name gets DataFrames, and the explanation keeps
    the names; the baseline is the training mean, as the Explainer's."""
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    table = np.random.default_rng(1).normal(size=(300, 6))
    names = [f"f{j}" for j in range(6)]
    frame = pd.DataFrame(table, columns=names)
    labels = (2 * table[:, 1] - 3 * table[:, 4] > 0).astype(int)
    picked = ColumnTransformer([("own", "passthrough", ["f1", "f4"])])
    clf = make_pipeline(picked, LogisticRegression()).fit(frame, labels)
    exp = kernel_shap(
        clf, frame[:5], nsamples=200, l1_reg=False, baseline=frame.mean(), progress=False
    )
    assert exp.feature_names == names and exp.values.shape == (5, 6)
    assert all(set(top) == {1, 4} for top in exp.top(2, by="magnitude"))
    np.testing.assert_allclose(exp.baseline, table.mean(axis=0), rtol=1e-12)
    # columns in another order meet their own baseline values, matched by name
    shuffled = kernel_shap(
        clf,
        frame[names[::-1]][:5],
        nsamples=200,
        l1_reg=False,
        baseline=frame.mean(),
        progress=False,
    )
    np.testing.assert_allclose(shuffled.baseline, table.mean(axis=0)[::-1], rtol=1e-12)
    np.testing.assert_allclose(shuffled.values[:, ::-1], exp.values, atol=1e-9)
    with pytest.raises(ValueError, match=r"no value of X's columns \['f0'\]"):
        kernel_shap(clf, frame[:2], baseline=frame.mean().drop("f0"), progress=False)


def test_an_explainers_model_gets_a_reordered_dataframe_in_its_own_column_order():
    """explainer.model reads arrays in X_fit's column order: a DataFrame of the same columns
    in another order is put in that order by name, as Explainer.explain does, not sent as
    it is (the model would read column c as a)."""
    pd = pytest.importorskip("pandas")
    import scrutiny
    from scrutiny.baselines import exact_shapley

    table = np.random.default_rng(2).normal(size=(60, 3))
    frame = pd.DataFrame(table, columns=["a", "b", "c"])

    def positional(A):  # only column a matters
        p = 1 / (1 + np.exp(-2 * A[:, 0]))
        return np.stack([1 - p, p], axis=1)

    ex = scrutiny.Explainer(
        positional, frame, surrogate={"n_sweeps": 4, "n_components": 2}, progress=False
    )
    kw = {"representation": ex.representation, "target": 1}
    in_order = exact_shapley(ex.model, frame[:3], **kw)
    shuffled = exact_shapley(ex.model, frame[["c", "b", "a"]][:3], **kw)
    np.testing.assert_allclose(shuffled.model_logit, 2 * table[:3, 0], atol=1e-9)
    np.testing.assert_array_equal(shuffled.values, in_order.values)
    assert shuffled.feature_names == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"X's columns are not the fit data's: missing \['c'\]"):
        exact_shapley(ex.model, frame[["a", "b"]].assign(d=0.0)[:3], **kw)
    # the model itself, with the explainer's representation: its baseline meets its column
    raw = exact_shapley(positional, frame[["c", "b", "a"]][:3], **kw)
    np.testing.assert_array_equal(raw.values, in_order.values)
    assert ex.representation.to_json()["names"] == ["a", "b", "c"]


def test_table_baselines_are_matched_by_name_and_never_taken_from_the_rows_explained():
    """representation="tabular" takes a pandas baseline by column name, as no representation
    does; with none given the baseline is 0, not the mean of the rows explained (which
    made a row's values depend on the rows beside it); and a Representation brings its
    own baseline and features, so that giving others is refused, not ignored."""
    pd = pytest.importorskip("pandas")
    from scrutiny.baselines import exact_shapley
    from scrutiny.representations import ImageRepresentation

    table = np.random.default_rng(3).normal([5.0, -3.0, 0.0], 1.0, size=(40, 3))
    frame = pd.DataFrame(table, columns=["a", "b", "c"])

    def linear(A):
        A = np.asarray(A, dtype=np.float64)
        p = 1 / (1 + np.exp(-(A[:, 0] - 5 + A[:, 1] + 3)))
        return np.stack([1 - p, p], axis=1)

    swapped = frame[["c", "a", "b"]][:3]
    mean = frame.mean()
    kw = {"target": 1, "baseline": mean}
    by_name = exact_shapley(linear, frame[:3], **kw)
    named = exact_shapley(linear, frame[:3], representation="tabular", **kw)
    np.testing.assert_allclose(named.baseline, table.mean(axis=0))
    np.testing.assert_array_equal(named.values, by_name.values)
    swapped_named = exact_shapley(
        lambda A: linear(np.asarray(A)[:, [1, 2, 0]]), swapped, representation="tabular", **kw
    )
    np.testing.assert_allclose(swapped_named.baseline, table.mean(axis=0)[[2, 0, 1]])
    # a one-row DataFrame by name (its row index was read as column names); several rows,
    # shap's background set, told to give one
    row = exact_shapley(linear, frame[:3], target=1, baseline=frame[["b", "c", "a"]][:1])
    np.testing.assert_array_equal(row.baseline, table[0])
    with pytest.raises(ValueError, match=r"baseline has 5 rows: .*background.mean\(\)"):
        exact_shapley(linear, frame[:3], target=1, baseline=frame[:5])
    four = exact_shapley(linear, table[:4], representation="tabular", target=1)
    two = exact_shapley(linear, table[:2], representation="tabular", target=1)
    np.testing.assert_array_equal(four.baseline, np.zeros(3))
    np.testing.assert_array_equal(four.values[:2], two.values)
    pixels = ImageRepresentation((4, 4))
    with pytest.raises(ValueError, match="baseline, superpixel cannot be given with a Repr"):
        kernel_shap(model, X[:1, :4, :4], representation=pixels, baseline=0.5, superpixel=2)
    blocks = ImageRepresentation((8, 8), superpixel=2)  # the superpixels used are recorded
    exp = kernel_shap(model, X[:1], representation=blocks, nsamples=50, progress=False)
    assert exp.meta["superpixel"] == 2


@pytest.mark.parametrize("seed", [2**32, 2**40 + 7])
def test_seeds_past_32_bits_are_taken_as_scrutinys_functions_take_them(seed):
    """lime and numpy's global generator take 32-bit seeds; a larger one (an Explainer
    takes any) gives its SeedSequence's draw, the same each time; a negative one is named."""

    def run(s):
        return kernel_shap(model, X[:1], nsamples=50, random_state=s, progress=False).values

    np.testing.assert_array_equal(run(seed), run(seed))
    with pytest.raises(ValueError, match="non-negative integer, got -1"):
        run(-1)


LENGTH, DECISIVE = 16, [[5, 6, 7], [0, 1, 2], [12, 13, 14]]
WEIGHT = np.random.default_rng(0).uniform(-0.3, 0.3, size=21)
WEIGHT[0], WEIGHT[17:20] = 0.0, 2.0  # id 0 is no token; ids 17-19 decide
TOKENS = rng.integers(1, 17, size=(3, LENGTH)) * (rng.uniform(size=(3, LENGTH)) < 0.8)
for row, own in zip(TOKENS, DECISIVE, strict=True):
    row[own] = [17, 18, 19]


def token_model(T):
    """Additive in the presence of tokens: probability sigmoid(sum of present weights - 3)."""
    p = 1 / (1 + np.exp(3.0 - WEIGHT[np.asarray(T, dtype=int)].sum(axis=1)))
    return np.stack([1 - p, p], axis=1)


def explain_tokens(model, T=TOKENS, representation="tokens", **kw):
    kw = {"target": 1, "num_samples": 300, "fusion": 1.0, "progress": False, **kw}
    return lemna(model, T, representation, **kw)


def test_lemna_finds_the_decisive_tokens_and_counts_its_queries():
    """fusion 1: the authors' sqrt(n log p) fuses every presence coefficient of a
    probability into one block here (see the report of this baseline)."""
    adapter = ModelAdapter(token_model)
    exp = explain_tokens(adapter, representation=TokenRepresentation(LENGTH))
    for i, own in enumerate(DECISIVE):
        assert set(exp.top(3)[i]) == set(own)
    assert (exp.values[TOKENS == 0] == 0).all()  # absent tokens are no features
    assert exp.meta["queries_per_explanation"] == 301  # the perturbations and the input
    assert exp.method == "lemna" and exp.meta["scale"] == "probability"
    again = explain_tokens(token_model)  # seeded; a name serves as the instance
    np.testing.assert_array_equal(exp.values, again.values)
    alone = explain_tokens(token_model, TOKENS[2:])  # an input's own seed, whatever precedes
    np.testing.assert_array_equal(alone.values[0], exp.values[2])
    other = explain_tokens(token_model, random_state=1)
    assert not np.array_equal(other.values, exp.values)
    seeded = [  # a Generator: each input's stream starts alike too (it was shared)
        explain_tokens(token_model, T, random_state=np.random.default_rng(4)).values[-1]
        for T in (TOKENS, TOKENS[2:])
    ]
    np.testing.assert_array_equal(*seeded)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lemna_credits_the_few_present_tokens(seed):
    """With one or two tokens present, perturbations take two or three values: three
    components each fitted a constant, and the tokens that decide got no credit."""
    for on in ([5], [5, 9]):
        T = np.zeros((1, LENGTH), dtype=int)
        T[0, on] = [17, 18][: len(on)]
        exp = explain_tokens(token_model, T, num_samples=50, random_state=seed)
        assert (exp.values[0, on] > 0.05).all()
        assert (exp.values[0, np.setdiff1d(np.arange(LENGTH), on)] == 0).all()


def test_lemna_perturbs_as_the_authors_code():
    """Row 0 is the input; each other row switches off m ~ U{1..present} present tokens."""
    seen = []

    def recording(T):
        seen.append(np.array(T))
        return token_model(T)

    x = TOKENS[:1]
    explain_tokens(recording, x, num_samples=2000, n_components=1)
    queried = np.concatenate(seen[1:])  # the first call asks for the target
    np.testing.assert_array_equal(queried[0], x[0])
    present = x[0] != 0
    assert ((queried == x) | (queried == 0)).all() and (queried[:, ~present] == 0).all()
    off = (queried[1:, present] == 0).sum(axis=1)
    counts = np.bincount(off, minlength=present.sum() + 1)
    assert counts[0] == 0 and len(counts) == present.sum() + 1
    expected = 2000 / present.sum()  # 15 present: about 133 each, 6 sd about 67
    assert (np.abs(counts[1:] - expected) < 6 * np.sqrt(expected)).all()


def test_lemna_explains_by_the_component_holding_the_input():
    """The mixture refitted on the queries LEMNA made, from the generator it used: the
    values are the contributions of row 0's component, not of the heaviest one."""
    from scrutiny.baselines import _lemna_perturbations
    from scrutiny.surrogate.lemna import LemnaMixture

    seen = []

    def recording(T):
        seen.append(np.array(T))
        return token_model(T)

    x = TOKENS[1:2]
    exp = explain_tokens(recording, x, random_state=1)
    queried = np.concatenate(seen[1:])
    on = np.flatnonzero(x[0])
    rng = np.random.default_rng(1)
    keep = _lemna_perturbations(rng, on.size, 300)
    np.testing.assert_array_equal(keep, queried[:, on] != 0)
    Z = keep * x[0, on]  # the tokens' raw values (ids), as the authors regress bytes
    mix = LemnaMixture(3, 1.0, random_state=rng).fit(Z, token_model(queried)[:, 1])
    k = mix.labels_[0]
    assert k != np.argmax(mix.weights_)  # at this seed the input is in a lighter component
    np.testing.assert_allclose(exp.values[0, on], mix.coef_[k] * x[0, on], rtol=1e-12)
    p = mix.predict(Z[:1])[0, k]
    p = np.clip(p, 1e-12, 1 - 1e-12)  # a regression's prediction of a probability may pass 1
    np.testing.assert_allclose(exp.surrogate_logit[0], np.log(p / (1 - p)))


def test_lemna_explains_images_by_pixel():
    exp = lemna(model, X, "image", num_samples=300, fusion=1.0, progress=False)
    for i in range(3):
        assert set(exp.top(3)[i]) == set(OWN[exp.target[i]])


def test_lemna_refuses_an_input_with_no_present_feature_as_lime_text_does():
    T = TOKENS.copy()
    T[1] = 0
    with pytest.raises(ValueError, match="input 1 equals the baseline everywhere"):
        explain_tokens(token_model, T)


def test_lemna_at_the_authors_fusion_ranks_raw_values_as_their_code_does():
    """With the authors' sqrt(n log p) on 0/1 presence every coefficient fuses into one and
    nothing is ranked; on the raw values (token ids) the decisive tokens come first."""
    exp = explain_tokens(token_model, fusion=None)
    for i, own in enumerate(DECISIVE):
        assert set(exp.top(3)[i]) == set(own)


def test_exact_shapley_values_of_a_row_do_not_depend_on_the_rows_explained_with_it():
    """Given "tabular" it took the explained rows' mean for the baseline: a row explained
    alone was its own baseline, all values 0. The baseline is 0 now, as kernel_shap's."""
    from scrutiny.baselines import exact_shapley

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))

    def proba(R):
        p = 1 / (1 + np.exp(-(R @ [1.0, -2.0, 0.5])))
        return np.column_stack([1 - p, p])

    alone = exact_shapley(proba, X[:1], "tabular", target=1)
    together = exact_shapley(proba, X, "tabular", target=1)
    np.testing.assert_allclose(alone.values[0], together.values[0])
    np.testing.assert_allclose(alone.values[0], X[0] * [1.0, -2.0, 0.5])  # the logit is linear
    np.testing.assert_allclose(exact_shapley(proba, X[:1], None, target=1).values, alone.values)


def test_competitors_record_the_dtype_a_function_was_given_for_the_fidelity_tests():
    """A function of float32 rows (a torch module inside) is called with X's dtype; the
    fidelity tests call it so too for scrutiny's explanations, and now for LIME's, shap's
    and random ones, which did not say (float64 batches: 'got Double and Float')."""
    from scrutiny.fidelity import deduction

    def float32_only(R):
        assert R.dtype == np.float32, R.dtype
        return model(R.astype(np.float64))

    X32 = X.astype(np.float32)
    exp = kernel_shap(float32_only, X32, nsamples=100, progress=False)
    assert exp.meta["input_dtype"] == "float32"
    own = kernel_shap(ModelAdapter(float32_only), X32, nsamples=100, progress=False)
    assert own.meta["input_dtype"] == "float32"  # a user's own adapter, given no data yet
    for e in (exp, random_explanation(exp)):
        assert deduction(float32_only, e, ks=[3]).shape == (1, 3)


def test_a_baseline_leaves_the_dtype_of_an_explainers_model_as_it_was():
    """kernel_shap(explainer.model, float32 rows), as the README advises, made the explainer
    query its model in float32 from then on: its explanations and its saved file changed."""
    from scrutiny import Explainer

    seen = []

    def logged(R):
        seen.append(R.dtype)
        return model(R)

    ex = Explainer(logged, X, mode="guided", random_state=0, progress=False)
    kernel_shap(ex.model, X[:2].astype(np.float32), nsamples=50, progress=False)
    assert ex.model.input_dtype is None
    seen.clear()
    ex.explain(X[:2], n_samples=20)
    assert set(seen) == {np.dtype(np.float64)}


def test_the_chance_level_of_a_table_with_number_labels_asks_the_model_by_its_labels():
    """random_explanation left out the column labels: a model reading columns 0, 1, 2 was
    asked for "0", "1", "2" (KeyError) where the explanation it came from worked."""
    pd = pytest.importorskip("pandas")
    from scrutiny import Explainer
    from scrutiny.fidelity import deduction

    rng = np.random.default_rng(0)
    df = pd.DataFrame({0: rng.normal(size=100), 1: rng.normal(size=100)})
    df[2] = rng.choice(["a", "b"], 100)  # names: the function is given tables

    def by_label(frame):
        z = 2 * frame[0] - frame[1] + np.where(frame[2] == "a", 1.0, -1.0)
        p = 1 / (1 + np.exp(-np.asarray(z, float)))
        return np.stack([1 - p, p], 1)

    ex = Explainer(by_label, df, mode="local", n_samples=40, random_state=0, progress=False)
    exp = ex.explain(df.iloc[:2])
    chance = random_explanation(exp)
    assert chance.meta["feature_labels"] == [0, 1, 2]
    assert deduction(by_label, chance, ks=[1]).shape == (1, 2)


def test_counts_and_seeds_are_refused_by_name_before_any_query():
    """num_samples=0 gave LEMNA an all-zero explanation; -1, 2.5 and n_components=0 met
    numpy's own errors, as random_state=-1 did in the fidelity tests."""
    from scrutiny.fidelity import augmentation

    for call, message in (
        (lambda: lemna(model, X, "image", num_samples=0, progress=False), "num_samples must"),
        (lambda: lemna(model, X, "image", n_components=0, progress=False), "n_components must"),
        (lambda: kernel_shap(model, X, nsamples=2.5, progress=False), "nsamples must"),
        (lambda: lime_image(model, X, num_samples=-1, progress=False), "num_samples must"),
    ):
        with pytest.raises(ValueError, match=message):
            call()
    # l1_reg that shap does not take failed in scikit-learn's Lasso after an input's queries
    from tests.test_explainer import Counting

    queried = Counting(model)
    for bad in ("bogus", -1, "num_features(x)", True, float("nan")):
        with pytest.raises(ValueError, match=r"l1_reg must be False \(no selection\)"):
            kernel_shap(queried, X[:1], nsamples=50, l1_reg=bad, progress=False)
    assert queried.rows == 0
    # 0 is no L1 to shap: it ran without one under the with-L1 name
    for none in (0, 0.0, np.False_):
        exp = kernel_shap(model, X[:1], nsamples=50, l1_reg=none, progress=False)
        assert exp.method == "kernel-shap-no-l1"
    assert kernel_shap(model, X[:1], nsamples=50, l1_reg="aic", progress=False).method == (
        "kernel-shap"
    )
    exp = random_explanation(kernel_shap(model, X[:1], nsamples=50, progress=False))
    with pytest.raises(ValueError, match="random_state must be a non-negative int"):
        random_explanation(exp, random_state=-1)
    with pytest.raises(ValueError, match="random_state must be a non-negative int"):
        augmentation(model, exp, X, ks=[1], random_state=-1)


def test_competitors_record_the_unit_of_0_255_images():
    """LIME's and KernelSHAP's explanations of uint8 images recorded unit 1: the authors'
    protocol then read their chance levels as [0, 1] pixels on 0-255 images (a no-op)."""
    X8 = np.round(X * 255).astype(np.uint8)

    def model255(Z):
        return model(np.asarray(Z, dtype=np.float64) / 255)

    for exp in (
        lime_image(model255, X8, num_samples=50, progress=False),
        kernel_shap(model255, X8, nsamples=50, progress=False),
    ):
        assert exp.meta["representation"]["unit"] == 255.0
    assert kernel_shap(model, X, nsamples=50, progress=False).meta["representation"]["unit"] == 1


def test_competitors_take_images_as_torch_tensors():
    """The images' dtype, a torch one, was handed to numpy (TypeError)."""
    torch = pytest.importorskip("torch")
    images = torch.as_tensor(X, dtype=torch.float32)
    assert lime_image(model, images, num_samples=20, progress=False).values.shape == X.shape
    shap = kernel_shap(model, images, nsamples=20, l1_reg=False, progress=False)
    assert shap.values.shape == X.shape


def test_a_frame_explained_with_a_representation_of_unnamed_fit_data_goes_by_the_models_names():
    """Fit data without names are in the model's column order, and so is their
    representation's baseline: a DataFrame of the model's columns in another order met
    other columns' baselines (-16.4 where the value is -1.05)."""
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    from scrutiny import Explainer
    from scrutiny.baselines import exact_shapley

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) + np.array([0.0, 5.0, 10.0])
    names = ["age", "income", "debt"]
    y = (3 * X[:, 1] - X[:, 2] > 5).astype(int)
    clf = LogisticRegression().fit(pd.DataFrame(X, columns=names), y)
    ex = Explainer(clf, X, surrogate={"n_sweeps": 5}, random_state=0, progress=False)
    kw = dict(representation=ex.representation, target=1)
    ref = exact_shapley(ex.model, X[:3], **kw)
    got = exact_shapley(ex.model, pd.DataFrame(X[:3], columns=names)[names[::-1]], **kw)
    np.testing.assert_allclose(got.values, ref.values, rtol=1e-12)
    assert got.feature_names == names
    # a representation of the caller's own, without names, follows the frame as given
    from scrutiny.representations import TabularRepresentation

    frame = pd.DataFrame(X[:3], columns=names)[names[::-1]]
    own = TabularRepresentation(3, X.mean(axis=0)[::-1], 1.0)
    mine = exact_shapley(ex.model, frame, representation=own, target=1)
    np.testing.assert_allclose(mine.values[:, ::-1], ref.values, rtol=1e-12)


def test_rows_of_a_model_fitted_on_names_go_by_its_names_without_a_frame_of_names():
    """Rows explained as arrays are in the model's order, shown by its names: a frame of
    donors in another order was taken by position (augmentation PCR 0.975, not 0.95), and
    LIME read a reordered frame X by position against an array X_train's distributions."""
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    from scrutiny.baselines import kernel_shap, lime_tabular
    from scrutiny.fidelity import augmentation

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    names = ["a", "b", "c", "d"]
    frame = pd.DataFrame(X, columns=names)
    clf = LogisticRegression().fit(frame, (3 * X[:, 0] - 0.1 * X[:, 3] > 0).astype(int))
    exps = kernel_shap(clf, X[:40], nsamples=200, progress=False)
    assert exps.feature_names == names and exps.column_names is None
    in_order = augmentation(clf, exps, frame, ks=[1])
    np.testing.assert_array_equal(augmentation(clf, exps, frame[names[::-1]], ks=[1]), in_order)
    ref = lime_tabular(clf, frame.iloc[:3], X, num_samples=300, progress=False)
    got = lime_tabular(clf, frame[names[::-1]].iloc[:3], X, num_samples=300, progress=False)
    assert got.feature_names == names
    np.testing.assert_array_equal(got.values, ref.values)


def test_a_model_of_logits_is_explained_by_every_lime_and_lemna():
    """The refusal of logits advised outputs='logits', which lime_image, lime_text,
    lime_tokens and lemna did not take (kernel_shap and lime_tabular did)."""

    def logits(Z):
        return np.log(model(Z))

    with pytest.raises(Exception, match="outputs='logits'"):
        lime_image(logits, X[:1], num_samples=20, progress=False)
    for explain in (
        lambda f, **kw: lime_image(f, X[:1], num_samples=20, progress=False, **kw),
        lambda f, **kw: lemna(f, X[:1], "image", num_samples=20, progress=False, **kw),
    ):
        np.testing.assert_allclose(
            explain(logits, outputs="logits").values, explain(model).values, atol=1e-9
        )


def test_a_row_as_a_series_and_baselines_as_lists_or_names_are_read_as_meant():
    """kernel_shap, exact_shapley and tree_shap failed on df.iloc[i] deep inside (a
    Series' one dtype read as a frame's per-column ones); a list baseline with DataFrame
    rows failed on list.index, read as column names; a named baseline with array rows was
    read by position, its names ignored (values off by 2.7 with the columns reversed)."""
    pd = pytest.importorskip("pandas")
    from sklearn.ensemble import GradientBoostingClassifier

    from scrutiny.baselines import exact_shapley, tree_shap

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    y = (frame["a"] + 2 * frame["c"] > 0).astype(int)
    clf = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(frame, y)
    mean = frame.mean()
    for explain in (
        lambda X, b: exact_shapley(clf, X, baseline=b, target=1),
        lambda X, b: tree_shap(clf, X, b, target=1),
        lambda X, b: kernel_shap(clf, X, baseline=b, target=1, nsamples=100, progress=False),
    ):
        ref = explain(frame.iloc[[3]], mean).values
        np.testing.assert_array_equal(explain(frame.iloc[3], mean).values, ref)
        np.testing.assert_array_equal(explain(frame.iloc[[3]], list(mean)).values, ref)
    ref = exact_shapley(clf, frame.iloc[[3]], baseline=mean, target=1).values
    reversed_ = mean[["c", "b", "a"]]
    rows = frame.iloc[[3]].to_numpy()  # the model's order
    with warnings.catch_warnings():  # scikit-learn's: an array for a model of a frame
        warnings.simplefilter("ignore", UserWarning)
        got = exact_shapley(clf, rows, baseline=reversed_, target=1)
        np.testing.assert_allclose(got.values, ref, atol=1e-12)
        with pytest.raises(ValueError, match="a baseline by column name needs X as a DataFrame"):
            exact_shapley(lambda R: clf.predict_proba(R), rows, baseline=reversed_, target=1)
        numbered = pd.Series(mean.to_numpy(), index=[10, 20, 30])  # numbers: by position
        got = exact_shapley(clf, rows, baseline=numbered, target=1)
        np.testing.assert_allclose(got.values, ref, atol=1e-12)
        own = pd.DataFrame(frame.to_numpy()).mean().sort_values()  # an array's own: by them
        got = exact_shapley(clf, rows, baseline=own, target=1)
        np.testing.assert_allclose(got.values, ref, atol=1e-12)
    # an explainer's model lays out array rows in its fit data's order, not the model's
    from scrutiny import Explainer

    kw = {"surrogate": {"n_sweeps": 4, "n_components": 2}, "progress": False}
    ex = Explainer(clf, frame[["c", "b", "a"]], **kw)
    backwards = frame[["c", "b", "a"]].iloc[[3]]
    by_frame = exact_shapley(ex.model, backwards, baseline=mean, target=1).values
    got = exact_shapley(ex.model, backwards.to_numpy(), baseline=mean, target=1)
    np.testing.assert_allclose(got.values, by_frame, atol=1e-12)
    assert got.feature_names == ["c", "b", "a"]  # shown in the rows' order, not the model's
    # a frame of numbered columns in another order: its own numbers, as the rows are laid out
    numbered = pd.DataFrame(frame.to_numpy()[:, [2, 0, 1]], columns=[2, 0, 1])
    fn = lambda R: clf.predict_proba(np.asarray(R, dtype=float)[:, [1, 2, 0]])  # noqa: E731
    ex = Explainer(fn, numbered, **kw)
    by_frame = exact_shapley(ex.model, numbered.iloc[[3]], baseline=numbered.mean(), target=1)
    got = exact_shapley(ex.model, numbered.iloc[[3]].to_numpy(), baseline=numbered.mean(), target=1)
    np.testing.assert_allclose(got.values, by_frame.values, atol=1e-12)
