"""LIME and KernelSHAP through the real packages, on a model whose pixels are known."""

import numpy as np
import pytest

pytest.importorskip("lime")
pytest.importorskip("shap")

from scrutiny.baselines import kernel_shap, lime_image, random_explanation
from scrutiny.models import ModelAdapter

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
