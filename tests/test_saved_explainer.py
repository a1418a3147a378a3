"""Explainer.save and Explainer.load: a loaded explainer explains exactly as the saved one,
fits any class it had not fitted as the saved one would, and reads plain files only."""

import json
import re

import numpy as np
import pytest

from scrutiny import Explainer
from scrutiny.representations import Representation
from scrutiny.surrogate.mirror import MirroredRegression

FAST = {"n_sweeps": 60, "n_components": 3}
KW = {"surrogate": FAST, "random_state": 5, "progress": False}
X = np.random.default_rng(0).normal(size=(400, 12))
W7 = np.random.default_rng(1).normal(size=(12, 7))
EXPLAINED = ("values", "lower", "upper", "component", "component_probability", "surrogate_logit")


def softmax(X):
    """A linear classifier of seven classes (fitted in two blocks: 0-3 and 4-6)."""
    z = np.asarray(X) @ W7
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logistic(X):
    z = 3.0 * np.asarray(X)[:, 2] - 2.0 * np.asarray(X)[:, 5]
    p = 1 / (1 + np.exp(-z))
    return np.stack([1 - p, p], axis=1)


class Counting:
    def __init__(self, fn):
        self.fn, self.rows = fn, 0

    def __call__(self, X):
        self.rows += len(X)
        return self.fn(X)


def same(a, b):
    for name in EXPLAINED:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_a_loaded_explainer_explains_identically_and_fits_the_rest_as_the_saved_one(tmp_path):
    ex = Explainer(softmax, X, **KW).fit([0])  # the block of classes 0-3
    npz = ex.save(tmp_path / "ex")
    assert npz == tmp_path / "ex.npz" and (tmp_path / "ex.json").is_file()
    model = Counting(softmax)
    back = Explainer.load(tmp_path / "ex", model)
    assert model.rows == 16  # only the check that this is the model it was fitted to
    assert sorted(back.surrogates_) == [0, 1, 2, 3] and back.n_classes_ == 7
    assert (back.fit_seconds_, back.fit_queries_) == (ex.fit_seconds_, ex.fit_queries_)
    low = X[:40][softmax(X[:40]).argmax(axis=1) < 4]
    same(ex.explain(low), back.explain(low))
    # guided mode draws its perturbations from the explainer's seed
    guided = {"mode": "guided", "n_samples": 30, "candidates": 4}
    same(ex.explain(low[:5], **guided), back.explain(low[:5], **guided))
    # classes 4-6 were not fitted: both fit them from the same data and seeds, and the
    # loaded one does not query the fit data again
    high = X[:60][softmax(X[:60]).argmax(axis=1) >= 4]
    before = model.rows
    b = back.explain(high)
    assert model.rows - before == len(high)
    same(ex.explain(high), b)
    for c in range(7):
        np.testing.assert_array_equal(
            ex.surrogates_[c].coef_draws_, back.surrogates_[c].coef_draws_
        )


def test_a_binary_model_keeps_one_fit_read_mirrored(tmp_path):
    ex = Explainer(logistic, X, **KW).fit()
    ex.save(tmp_path / "bin.npz")
    back = Explainer.load(tmp_path / "bin.npz", logistic)
    assert isinstance(back.surrogates_[0], MirroredRegression)
    assert back.surrogates_[0].regression is back.surrogates_[1]
    for target in (0, 1):
        same(ex.explain(X[:20], target=target), back.explain(X[:20], target=target))


def test_without_its_fit_data_only_the_fitted_classes_can_be_explained(tmp_path):
    ex = Explainer(softmax, X, **KW).fit([5])  # the block of classes 4-6
    ex.save(tmp_path / "small", fit_data=False)
    with np.load(tmp_path / "small.npz") as f:
        assert not any(name.startswith("fit/") for name in f.files)
    # no fit data to check the model on, but the baseline: another model was taken, even
    # one of another class count, and explained with this one's surrogates (logits 466 off)
    with pytest.raises(ValueError, match=r"gives 3 classes; the explainer .* model of 7"):
        Explainer.load(
            tmp_path / "small",
            lambda Z: softmax(Z)[:, :3] / softmax(Z)[:, :3].sum(1, keepdims=True),
        )
    with pytest.raises(ValueError, match=r"not the one .* on the baseline input \(1\) differ"):
        Explainer.load(tmp_path / "small", lambda Z: softmax(2 * Z + 0.1))
    back = Explainer.load(tmp_path / "small", softmax)
    assert back._X_fit is None
    same(ex.explain(X[:30], target=6), back.explain(X[:30], target=6))
    back.fit([4, 5, 6])
    with pytest.raises(ValueError, match=r"class\(es\) \[0, 1, 2, 3\] were not fitted"):
        back.fit()
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] were not fitted"):
        back.explain(X[:3], target=2)


def test_without_its_fit_data_a_regression_is_judged_on_its_range(tmp_path):
    """A centred regression is about 0 at the baseline (the fit data's mean): against that
    one value, its float32 copy was refused ('differ by up to 5.4e8'); against the range of
    its values over the fit data, kept in the file, it loads, and a shifted one does not."""
    w = np.arange(1.0, 13.0)
    shift = (X @ w).mean()

    def centred(Z):
        return np.asarray(Z) @ w - shift

    ex = Explainer(centred, X, outputs="values", **KW).fit()
    ex.save(tmp_path / "reg", fit_data=False)
    copy = Explainer.load(
        tmp_path / "reg",
        lambda Z: (Z.astype(np.float32) @ w.astype(np.float32)) - np.float32(shift),
    )
    copy.save(tmp_path / "again", fit_data=False)  # its range kept through a second save
    Explainer.load(tmp_path / "again", centred)
    with pytest.raises(ValueError, match="relative to each one's range over the fit data"):
        Explainer.load(tmp_path / "again", lambda Z: centred(Z) + 5.0)


def test_a_regression_saved_without_its_range_is_judged_on_its_surrogates_scale(
    tmp_path, monkeypatch
):
    """A file without the outputs' range (written before it was kept) checked only the
    number of outputs: a negated model loaded and was explained with the saved one's
    coefficients. The surrogates' scale of the responses stands in for the range."""
    import scrutiny.saved_explainer as saved

    w = np.arange(1.0, 13.0)

    def linear(Z):
        return np.asarray(Z) @ w + 3.0

    ex = Explainer(linear, X, outputs="values", **KW).fit()
    with monkeypatch.context() as m:
        m.setattr(saved, "_output_spread", lambda ex: (None, None))  # as such a file was
        m.setattr(ex, "_X_fit", None)  # written, with no range to take from its fit data
        ex.save(tmp_path / "old", fit_data=False)
    with np.load(tmp_path / "old.npz") as f:
        assert "probe/spread" not in f.files
    Explainer.load(tmp_path / "old", linear)
    scale = "spread as its surrogate was fitted (no range was saved)"  # not "range over"
    with pytest.raises(ValueError, match=rf"not the one .*{re.escape(scale)}.* the baseline"):
        Explainer.load(tmp_path / "old", lambda Z: 6.0 - linear(Z))


def test_unstandardised_surrogates_give_no_scale_for_a_file_without_the_range(
    tmp_path, monkeypatch
):
    """Surrogates fitted with standardize=False keep a scale of 1 whatever the outputs'
    range: taken as the range, a model whose outputs span about 1e5 was refused as another
    for a difference of 0.01 (a copy summing in another order). Without a measure only the
    number of outputs is checked."""
    import scrutiny.saved_explainer as saved

    w = np.arange(1.0, 13.0) * 1000.0

    def linear(Z):
        return np.asarray(Z) @ w + 3.0e4

    ex = Explainer(
        linear, X, outputs="values", **{**KW, "surrogate": {**FAST, "standardize": False}}
    )
    ex.fit()
    with monkeypatch.context() as m:
        m.setattr(saved, "_output_spread", lambda ex: (None, None))
        m.setattr(ex, "_X_fit", None)
        ex.save(tmp_path / "old", fit_data=False)
    back = Explainer.load(tmp_path / "old", lambda Z: linear(Z) + 0.01)
    assert back.surrogates_.keys() == ex.surrogates_.keys()


def test_saved_before_any_fit_without_its_fit_data_fit_says_nothing_can_be_fitted(tmp_path):
    """fit() returned as if it had fitted every class, though it fitted none and none could
    then be explained."""
    Explainer(softmax, X, **KW).save(tmp_path / "bare", fit_data=False)
    back = Explainer.load(tmp_path / "bare", softmax)
    with pytest.raises(ValueError, match="no class was fitted when this explainer was saved"):
        back.fit()


def test_local_mode_and_its_seed_are_kept(tmp_path):
    ex = Explainer(logistic, X, mode="local", n_samples=60, **KW)
    ex.save(tmp_path / "local")
    back = Explainer.load(tmp_path / "local", logistic)
    assert back.mode == "local" and back.n_samples == 60
    same(ex.explain(X[:2]), back.explain(X[:2]))


def test_a_file_whose_surrogate_settings_hold_the_explainers_own_still_loads(tmp_path):
    """Saved before surrogate={"random_state": ...} was refused, such a file holds a seed
    that no fit used: loading it raised, telling the user to change a call never made."""
    ex = Explainer(logistic, X, **KW).fit()
    ex.surrogate = {**ex.surrogate, "random_state": 1, "progress": True}  # as one saved then
    ex.save(tmp_path / "old")
    back = Explainer.load(tmp_path / "old", logistic)
    assert "random_state" not in back.surrogate and "progress" not in back.surrogate
    same(ex.explain(X[:5]), back.explain(X[:5]))


def test_a_child_of_a_seed_sequence_is_kept_whole(tmp_path):
    """Only its entropy was saved, which it shares with its siblings and its parent."""
    child = np.random.SeedSequence(5).spawn(2)[1]
    ex = Explainer(logistic, X, **{**KW, "random_state": child})
    ex.save(tmp_path / "child")  # before any fit: the loaded one fits with the child's seeds
    back = Explainer.load(tmp_path / "child", logistic)
    same(ex.explain(X[:20]), back.explain(X[:20]))


def test_images_and_their_superpixels_come_back(tmp_path):
    images = np.random.default_rng(2).uniform(size=(300, 8, 8))

    def model(batch):
        z = 4 * (batch[:, 1, 1:3].sum(axis=1) - batch[:, 6, 5:7].sum(axis=1))
        p = 1 / (1 + np.exp(-z))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(model, images, superpixel=2, baseline=0.25, **KW)
    ex.save(tmp_path / "img")
    back = Explainer.load(tmp_path / "img", model)
    assert back.representation.superpixel == 2 and back.representation.n_features == 16
    np.testing.assert_array_equal(back.representation.groups, ex.representation.groups)
    np.testing.assert_array_equal(back.representation.baseline, ex.representation.baseline)
    same(ex.explain(images[:10]), back.explain(images[:10]))


def test_a_dataframe_explainer_keeps_its_column_names(tmp_path):
    pd = pytest.importorskip("pandas")
    names = [f"col {j} é" for j in range(12)]
    frame = pd.DataFrame(X, columns=names)
    ex = Explainer(logistic, frame, **KW)
    a = ex.explain(frame[:10])
    ex.save(tmp_path / "frame")
    back = Explainer.load(tmp_path / "frame", logistic)
    b = back.explain(frame[names[::-1]][:10])  # columns matched by name, as before
    assert back.feature_names_ == names and b.feature_names == names
    same(a, b)


def test_another_model_is_refused(tmp_path):
    Explainer(softmax, X, **KW).fit([0]).save(tmp_path / "ex")
    with pytest.raises(ValueError, match="not the one the explainer saved"):
        Explainer.load(tmp_path / "ex", lambda X: softmax(1.01 * X))
    with pytest.raises(ValueError, match=r"the model gives 2 classes.*a model of 7"):
        Explainer.load(tmp_path / "ex", logistic)


def test_a_model_trained_again_is_not_saved_as_the_fitted_one(tmp_path):
    """Saved without its fit data, the file probed the model as it was at the save: one
    trained again after the fit was loaded with the old model's surrogates, with no word,
    and the old model refused."""
    linear = pytest.importorskip("sklearn.linear_model")
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    model = linear.LogisticRegression().fit(X, y)
    ex = Explainer(model, X, **KW).fit()
    model.fit(X, (y + 1) % 3)  # trained again: three classes still, other decisions
    with pytest.raises(ValueError, match="trained again after this explainer read"):
        ex.save(tmp_path / "ex", fit_data=False)
    assert not (tmp_path / "ex.npz").exists()
    ex.save(tmp_path / "ex")  # the fit outputs, kept, tell the new model from the old
    with pytest.raises(ValueError, match="not the one the explainer saved"):
        Explainer.load(tmp_path / "ex", model)


def confident(slope):
    """Class 0 at p ~ 1 - 1e-7: a slope of 2 or 3 in class 2's logit moves its probability
    by ~1e-6 and its logit, which the surrogates fit, by nats."""
    return lambda X: softmax_of(
        np.column_stack([np.full(len(X), 18.0), 2 * X[:, 1], slope * X[:, 2]])
    )


def softmax_of(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_a_model_that_moves_only_confident_probabilities_is_refused(tmp_path):
    Explainer(confident(2.0), X, **KW).fit([2]).save(tmp_path / "ex")
    assert np.abs(confident(3.0)(X[:16]) - confident(2.0)(X[:16])).max() < 1e-4  # hid it
    with pytest.raises(ValueError, match=r"class logits \(within \+-16, as fitted\)"):
        Explainer.load(tmp_path / "ex", confident(3.0))
    Explainer.load(tmp_path / "ex", lambda X: confident(2.0)(X).astype(np.float32))  # rounding


def test_a_float32_model_rounded_otherwise_near_certainty_is_the_same_model(tmp_path):
    """A sigmoid in float32 at logits 8-12 gives 1 - p to ~1e-7 absolute: the same model
    rounding p one step lower (another BLAS, another thread count) moved the class logits
    by up to 1e-2 nats, and was refused at 1e-3."""

    def sigmoid32(step=False, slope=1.0):
        def model(X):
            z = (10.0 + slope * X[:, 0]).astype(np.float32)
            p = np.float32(1) / (np.float32(1) + np.exp(-z))
            p = np.nextafter(p, np.float32(0)) if step else p
            return np.stack([np.float32(1) - p, p], axis=1)

        return model

    Explainer(sigmoid32(), X, **KW).fit([1]).save(tmp_path / "ex")
    a, b = sigmoid32()(X[:16]), sigmoid32(step=True)(X[:16])
    assert np.abs(np.log(a[:, 0] / a[:, 1]) - np.log(b[:, 0] / b[:, 1])).max() > 1e-3
    Explainer.load(tmp_path / "ex", sigmoid32(step=True))
    with pytest.raises(ValueError, match="not the one"):  # a change past rounding still is
        Explainer.load(tmp_path / "ex", sigmoid32(slope=1.05))


def test_a_regression_output_is_checked_on_its_own_scale(tmp_path):
    def values(small):  # output 0 in thousands, output 1 in hundredths
        return lambda X: np.column_stack([1000 + 100 * X[:, 0], small * X[:, 1]])

    Explainer(values(0.01), X, outputs="values", **KW).fit([1]).save(tmp_path / "ex")
    with pytest.raises(ValueError, match="relative to each one's range over the fit data"):
        Explainer.load(tmp_path / "ex", values(0.02), outputs="values")
    # an output at 0 on every probe is measured against a thousandth of the largest: its
    # rounding (1e-12) passes, where against its own 0 any difference was refused
    Explainer(values(0.0), X, outputs="values", **KW).fit([0]).save(tmp_path / "zero")
    Explainer.load(tmp_path / "zero", values(1e-12), outputs="values")
    with pytest.raises(ValueError, match="relative to each one's range over the fit data"):
        Explainer.load(tmp_path / "zero", values(0.5), outputs="values")


def test_a_modified_or_foreign_file_is_refused(tmp_path):
    Explainer(softmax, X, **KW).fit([0]).save(tmp_path / "ex")
    meta_path, npz = tmp_path / "ex.json", tmp_path / "ex.npz"
    meta = json.loads(meta_path.read_text())
    with np.load(npz) as f:
        arrays = dict(f)
    arrays["surrogate/2/coef_"] = arrays["surrogate/2/coef_"] * 1.5
    np.savez(tmp_path / "edited.npz", **arrays)
    (tmp_path / "edited.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="'surrogate/2/coef_' does not match"):
        Explainer.load(tmp_path / "edited", softmax)
    meta["settings"]["logit_limit"] = 30.0
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="settings do not match their recorded checksum"):
        Explainer.load(tmp_path / "ex", softmax)
    exp = Explainer(logistic, X, **KW).explain(X[:3])
    exp.save(tmp_path / "explanation")
    with pytest.raises(ValueError, match="is not a saved scrutiny explainer"):
        Explainer.load(tmp_path / "explanation", logistic)
    with pytest.raises(FileNotFoundError, match=r"nothing\.npz does not exist"):
        Explainer.load(tmp_path / "nothing", logistic)


def test_save_never_replaces_a_users_files_or_an_explanation(tmp_path):
    """save("iris.json") meant the settings as iris.json: the user's iris.npz (a data set)
    and iris.json stay; an explanation of that name is another kind, also kept; an earlier
    explainer there is replaced."""
    np.savez(tmp_path / "iris.npz", X=X, y=np.zeros(len(X)))
    (tmp_path / "iris.json").write_text(json.dumps({"source": "UCI", "rows": 150}))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    ex = Explainer(logistic, X, **KW)
    with pytest.raises(FileExistsError, match=r"iris\.json exists and is not a saved scrutiny"):
        ex.save(tmp_path / "iris.json")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    ex.save(tmp_path / "ex")  # before any fit
    ex.explain(X[:3]).save(tmp_path / "exp")
    with pytest.raises(FileExistsError, match=r"exp\.json .* not a saved scrutiny\.explainer"):
        ex.save(tmp_path / "exp")
    ex.save(tmp_path / "ex")  # re-saved with its fits
    assert sorted(Explainer.load(tmp_path / "ex", logistic).surrogates_) == [0, 1]


def test_a_file_of_a_newer_format_is_named_as_such(tmp_path):
    """Not called 'not a saved scrutiny explainer', which is false and does not say that
    upgrading reads it (as Explanation.load)."""
    Explainer(logistic, X, **KW).save(tmp_path / "ex")
    meta = json.loads((tmp_path / "ex.json").read_text())
    (tmp_path / "ex.json").write_text(json.dumps({**meta, "format": "scrutiny.explainer/2"}))
    with pytest.raises(ValueError, match=r"is a scrutiny\.explainer/2 file.*a newer one wrote"):
        Explainer.load(tmp_path / "ex", logistic)


def test_a_custom_representation_is_refused_before_any_file_is_written(tmp_path):
    rep = Representation((12,), np.zeros(12), np.arange(12) // 2, 1.0)
    ex = Explainer(logistic, X, representation=rep, **KW)
    with pytest.raises(TypeError, match="custom representation"):
        ex.save(tmp_path / "custom")
    assert list(tmp_path.iterdir()) == []


def test_an_explainer_fitted_on_a_gpu_loads_on_a_machine_without_one(tmp_path):
    """Loading checked the saved device as a new explainer does, and nothing could change
    it: a fit made on a GPU could not be loaded anywhere else."""
    torch = pytest.importorskip("torch")
    ex = Explainer(logistic, X, **KW).fit()
    ex.surrogate["device"] = "cuda"  # as a GPU machine's fit records it
    path = ex.save(tmp_path / "ex")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match=r"Explainer.load\(\.\.\., device='cpu'\)"):
            Explainer.load(path, logistic)
        with pytest.raises(RuntimeError) as asked:  # the caller's device, not the file's
            Explainer.load(path, logistic, device="cuda:0")
        assert "saved to fit" not in str(asked.value)
    back = Explainer.load(path, logistic, device="cpu")
    assert back.surrogate["device"] == "cpu"
    same(ex.explain(X[:20]), back.explain(X[:20]))


def test_a_loaded_explainer_does_not_warn_of_settings_it_was_saved_with(tmp_path):
    """Loading rebuilt the explainer with its saved n_samples and surrogate, which then read
    as a caller's for its mode: explain(mode="guided") warned of n_samples=1000."""
    import warnings

    Explainer(logistic, X, **KW).fit().save(tmp_path / "ex")
    back = Explainer.load(tmp_path / "ex", logistic)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back.explain(X[:2], mode="guided", n_samples=None)
