"""Representations: features, the map back to inputs, baselines."""

import re
import warnings

import numpy as np
import pytest

from scrutiny.representations import (
    ImageRepresentation,
    TabularRepresentation,
    TokenRepresentation,
    make_representation,
)

rng = np.random.default_rng(0)


def test_pixels_are_the_features_of_a_grey_image():
    rep = ImageRepresentation((4, 5))
    X = rng.uniform(size=(3, 4, 5))
    np.testing.assert_allclose(rep.features(X), X.reshape(3, -1))
    assert rep.n_features == 20


def test_superpixels_average_blocks_and_contributions_add_up():
    rep = ImageRepresentation((5, 6), baseline=0.2, superpixel=2)
    assert rep.n_features == 3 * 3  # ragged last row of blocks
    X = rng.uniform(size=(2, 5, 6))
    Z = rep.features(X)
    np.testing.assert_allclose(Z[:, 0], (X[:, :2, :2] - 0.2).mean(axis=(1, 2)))
    np.testing.assert_allclose(Z[:, 8], X[:, 4, 4:].mean(axis=1) - 0.2)
    beta = rng.normal(size=(2, 9))
    values = rep.element_coefficients(beta) * (X - rep.baseline)
    per_feature = np.zeros((2, 9))
    np.add.at(per_feature.T, rep.groups, values.reshape(2, -1).T)
    np.testing.assert_allclose(per_feature, beta * Z)


@pytest.mark.parametrize("shape, n", [((3, 4, 4), 16), ((4, 4, 3), 16), ((1, 4, 4), 16)])
def test_channels_share_a_pixel_feature(shape, n):
    rep = ImageRepresentation(shape)
    assert rep.n_features == n
    x = np.zeros(shape)
    idx = (0, 1, 2) if shape[0] in (1, 3) else (1, 2, 0)
    x[idx] = 1.0
    present = rep.present(x)
    assert present.sum() == 1 and present[1 * 4 + 2]
    off = rep.switch_off(np.ones(shape), ~np.eye(n, dtype=bool)[[6]])
    assert off.sum() == np.prod(shape) - shape[0 if shape[0] in (1, 3) else 2]


@pytest.mark.parametrize("shape", [(3, 5, 3), (3, 5, 6), (5, 6, 3)])
def test_a_baseline_of_one_value_per_channel_lies_along_the_channels(shape):
    """(3,) is one value per channel in either layout, also where the width is 3 too (numpy
    alone would lay it along the width); a shape that fits neither says which would."""
    axis = 0 if shape[0] == 3 else 2
    rep = ImageRepresentation(shape, baseline=[0.1, 0.2, 0.3])
    np.testing.assert_allclose(np.moveaxis(rep.baseline, axis, -1)[2, 1], [0.1, 0.2, 0.3])
    along = "(3, 1, 1)" if axis == 0 else "(1, 1, 3)"
    with pytest.raises(
        ValueError, match=rf"one value per channel, shaped \(3,\) or {re.escape(along)}"
    ):
        ImageRepresentation(shape, baseline=[0.1, 0.2])


def test_effects_are_shared_by_departure_even_where_channels_cancel():
    """Channels on either side of a grey baseline: the pixel is present though its mean
    departure is 0 (or 1e-17), and its effect is shared by |departure|, bounded, adding
    up to the effect; where departures share a sign the shares are the linear ones."""
    rep = ImageRepresentation((2, 2, 3), baseline=0.5)
    x = np.full((2, 2, 3), 0.5)
    x[0, 0] = (0.25, 0.75, 0.5)  # mean departure exactly 0
    x[0, 1] = (0.2, 0.8, 0.5)  # 1.85e-17 after rounding
    x[1, 0] = (0.7, 0.9, 0.6)  # all above the baseline
    assert rep.present(x).tolist() == [True, True, True, False]
    effects = np.array([[2.0, -1.0, 0.6, 0.0]])
    coef = rep.effect_coefficients(x[None], effects)
    assert np.abs(coef).max() < 10
    values = coef * (x - rep.baseline)
    np.testing.assert_allclose(values[0].sum(axis=-1).reshape(-1), effects[0])
    np.testing.assert_allclose(values[0, 0, 0], [1.0, 1.0, 0.0])
    z = rep.features(x[None])[0, 2]  # one sign: the linear coefficients of effect / z
    np.testing.assert_allclose(coef[0, 1, 0], rep.element_coefficients(effects / z)[0, 1, 0])


def test_image_shape_errors():
    with pytest.raises(ValueError, match="channel axis"):
        ImageRepresentation((5, 6, 7))
    with pytest.raises(ValueError, match="2 or 3 dimensions"):
        ImageRepresentation((2, 3, 4, 5))
    with pytest.raises(ValueError, match="covers the whole 6x6 image"):
        ImageRepresentation((6, 6), superpixel=6)
    assert ImageRepresentation((6, 6), superpixel=5).n_features == 4


def test_one_input_without_its_batch_axis_is_named():
    """LIME explains one instance at a time; an image passed that way is not read as a
    batch of rows of the wrong shape."""
    rep = ImageRepresentation((3, 4, 5))
    with pytest.raises(ValueError, match=r"X is one input of shape \(3, 4, 5\).*X\[None\]"):
        rep.check(np.zeros((3, 4, 5)))
    assert rep.check(np.zeros((1, 3, 4, 5))).shape == (1, 3, 4, 5)


def test_superpixel_is_recorded_as_the_whole_size_used():
    """An explanation's metadata says which block size ran, as a plain int (JSON-ready);
    a size that is not a whole number of pixels is refused rather than truncated."""
    rep = ImageRepresentation((8, 8), superpixel=np.int64(3))
    assert type(rep.to_json()["superpixel"]) is int and rep.n_features == 9
    assert ImageRepresentation((8, 8), superpixel=3.0).superpixel == 3
    for bad in (2.5, 0, True, float("nan"), "two"):
        with pytest.raises(ValueError, match="positive whole block size"):
            ImageRepresentation((8, 8), superpixel=bad)


def test_tabular_features_are_standardised_from_the_mean():
    X = rng.normal(loc=[1.0, 10.0, 5.0], scale=[1.0, 100.0, 0.0], size=(50, 3))
    rep = TabularRepresentation.from_data(X)
    Z = rep.features(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1.0)
    assert (Z[:, 2] == 0).all()  # a constant column never moves


def test_a_column_constant_to_rounding_is_constant():
    """0.1 stored as 0.1 and 0.1 + 1 ulp (a column computed, not typed): its sd, 3e-17,
    once scaled its rounding into a feature of unit variance, with an effect of its own."""
    X = rng.normal(size=(300, 2))
    X[:, 1] = 0.1 * (1 + rng.integers(-1, 2, 300) * np.finfo(float).eps)
    Z = TabularRepresentation.from_data(X).features(X)
    np.testing.assert_allclose(Z[:, 0].std(), 1.0)
    assert np.abs(Z[:, 1]).max() < 1e-15


def test_default_representation_follows_the_sample_shape():
    assert make_representation(None, np.zeros((2, 8, 8)), None).kind == "image"
    tab = make_representation(None, np.arange(6.0).reshape(3, 2), None)
    assert tab.kind == "tabular" and tab.baseline.tolist() == [2.0, 3.0]
    assert make_representation(None, np.zeros((2, 8, 8)), 0.5).baseline[0, 0] == 0.5
    with pytest.raises(ValueError, match="superpixel applies to images"):
        make_representation("tabular", np.zeros((3, 2)), None, superpixel=2)
    with pytest.raises(ValueError, match="samples of shape"):
        ImageRepresentation((8, 8)).check(np.zeros((2, 8, 7)))


def test_a_token_window_makes_features_of_its_positions_only():
    rep = TokenRepresentation(10, window=(3, 7))
    X = np.array([[5, 6, 0, 7, 0, 8, 9, 1, 2, 3], [0] * 10])
    assert rep.n_features == 4 and rep.window == (3, 7)
    np.testing.assert_array_equal(rep.features(X), [[1, 0, 1, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(rep.present(X[0]), [True, False, True, True])
    # switching every feature off leaves the context untouched
    off = rep.switch_off(X[0], np.zeros((1, 4), dtype=bool))[0]
    np.testing.assert_array_equal(off, [5, 6, 0, 0, 0, 0, 0, 1, 2, 3])
    # coefficients and effects reach the window's elements only
    coef = rep.element_coefficients(np.array([1.0, 2.0, 3.0, 4.0]))[0]
    np.testing.assert_array_equal(coef, [0, 0, 0, 1, 2, 3, 4, 0, 0, 0])
    effects = rep.effect_coefficients(X[:1], np.array([[1.0, 2.0, 3.0, 4.0]]))[0]
    np.testing.assert_array_equal(effects * (X[0] != 0), [0, 0, 0, 1 / 7, 0, 3 / 8, 4 / 9, 0, 0, 0])
    assert rep.to_json()["window"] == [3, 7]


@pytest.mark.parametrize("window", [(0, 0), (5, 3), (-1, 4), (2, 11)])
def test_a_window_outside_the_sequence_is_refused(window):
    with pytest.raises(ValueError, match="window must be positions"):
        TokenRepresentation(10, window=window)


def test_a_layout_in_doubt_is_said_and_more_axes_are_refused_as_images():
    """(3, 8, 3) RGB channels-last was read channels-first, its effects spread over rows,
    unsaid; a batch with an axis too many was refused as 'tabular data must be 2-D'."""
    with pytest.warns(UserWarning, match=r"shape \(3, 8, 3\) could have their channels first"):
        rep = make_representation(None, np.zeros((2, 3, 8, 3)), None)
    assert rep.channel_axis == 0
    with pytest.warns(UserWarning, match=r"channels-first \(C, H, W\), pass X.transpose\(0, 2"):
        assert make_representation(None, np.zeros((2, 1, 8, 3)), None).channel_axis == 2
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no doubt: said nothing
        make_representation(None, np.zeros((2, 3, 8, 8)), None)
    with pytest.raises(ValueError, match=r"shape \(1, 3, 8, 8\) have 4 dimensions: images"):
        make_representation(None, np.zeros((2, 1, 3, 8, 8)), None)


def test_tensors_are_read_as_their_values_whatever_they_carry():
    """A tensor that requires grad, or of bfloat16, failed inside numpy; a float32 one
    left a function's batches in float64 (a float32 torch model then refused them)."""
    torch = pytest.importorskip("torch")
    from scrutiny._validation import as_input_batch
    from scrutiny.models import ModelAdapter

    pytest.importorskip("ml_dtypes")  # which numpy then knows bfloat16 by (onnx imports it)
    X = torch.arange(6.0).reshape(2, 3)
    for t in (X.requires_grad_(), X.detach().bfloat16()):
        np.testing.assert_array_equal(as_input_batch(t, "X"), np.arange(6.0).reshape(2, 3))
    adapter = ModelAdapter(lambda x: x).take_dtype(X.detach().float())
    assert adapter.input_dtype == np.float32


def test_a_baseline_within_float32_rounding_of_the_datas_value_is_that_value():
    """Digits standardised in float32 hold black as -0.42421296; the baseline given as the
    float64 (0 - 0.1307) / 0.3081 = -0.42421292 made every background pixel present."""
    rng = np.random.default_rng(0)
    digits = np.where(rng.uniform(size=(50, 8, 8)) < 0.7, 0.0, rng.uniform(size=(50, 8, 8)))
    X32 = ((digits.astype(np.float32) - np.float32(0.1307)) / np.float32(0.3081)).astype(np.float32)
    black = (0 - 0.1307) / 0.3081
    assert float(X32.min()) != black  # the case itself
    rep = make_representation(None, X32.astype(np.float64), black, dtype=np.float32)
    assert (rep.baseline == X32.min()).all()
    present = rep.present(X32[0].astype(np.float64))
    assert present.sum() == (digits[0] != 0).sum()
    # by value: one fit image whose every pixel is inked still gives black its value
    inked = X32.copy()
    inked[1:, 0, 0] = X32.max()
    one = make_representation(None, inked[:, :1, :1].astype(np.float64), black, dtype=np.float32)
    assert (one.baseline == X32.min()).all()
    # float64 data, and a value the dtype holds (grey 0.5 in float16), keep the baseline
    assert (make_representation(None, X32.astype(np.float64), black).baseline == black).all()
    grey = (0.5 + np.spacing(np.float16(0.5)) * np.arange(4)).astype(np.float16)
    kept = make_representation(
        None, np.tile(grey, (3, 2, 1)).astype(np.float64), 0.5, dtype=np.float16
    )
    assert (kept.baseline == 0.5).all()


def test_standardised_images_are_warned_of_the_default_baseline():
    rng = np.random.default_rng(0)
    digits = np.where(rng.uniform(size=(20, 6, 6)) < 0.7, 0.0, rng.uniform(size=(20, 6, 6)))
    X = (digits - 0.13) / 0.31  # black, the most frequent value, at -0.42
    with pytest.warns(UserWarning, match=r"most frequent value is negative .* is then their mean"):
        make_representation(None, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_representation(None, X, baseline=0.0)  # said: no warning
        make_representation(None, digits)
        ringing = np.where(digits > 0.9, -0.05, digits)  # bicubic resizing rings below 0
        assert ringing.min() < 0
        make_representation(None, ringing)  # black still 0, the most frequent


def test_the_level_most_for_the_class_may_be_the_baseline_level():
    """Every other level below the baseline's (whose effect is 0): the least negative of
    them was taken as the level most for the class, in the patterns scrutinize lists."""
    X = np.array([[0, 1.0], [0, 2.0], [0, -1.0], [1, 0.5], [2, 0.3], [0, 0.1]])
    rep = TabularRepresentation.from_data(X, categorical=[0])
    assert rep.baseline[0] == 0.0
    coef = np.array([[0.4, -1.0, -2.0], [0.4, -1.0, 0.5]])  # the numeric column, levels 1, 2
    np.testing.assert_array_equal(rep.from_design(coef)[:, 0], [0.0, 0.5])
    np.testing.assert_array_equal(rep.best_levels(coef)[:, 0], [0.0, 2.0])


def _peak_bytes(fn, *args):
    """Bytes allocated at the peak of fn(*args) beyond what was held before (numpy reports
    its buffers to tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fn(*args)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_features_read_images_a_chunk_at_a_time_to_the_same_bits(monkeypatch):
    """A float64 copy of every image, then another of its owned elements: 300 colour images
    of 224 x 224 (172 MB in float32) peaked 690 MB above them, in 7.1 s of np.add.at. A
    chunk holds its elements in float64 twice (the rows, their difference from the
    baseline) and their bin numbers: here 2^16 elements, 1.5 MB, where all were 50 MB."""
    from scrutiny.representations import base

    monkeypatch.setattr(base, "GROUPED_ELEMENTS", 2**16)
    rep = ImageRepresentation((3, 128, 128), superpixel=4)
    X = rng.uniform(size=(64, 3, 128, 128)).astype(np.float32)  # 12.6 MB
    expected = np.zeros((len(X), rep.n_features))  # np.add.at, element by element
    np.add.at(expected.T, rep.groups, (X.astype(np.float64) - rep.baseline).reshape(64, -1).T)
    expected *= rep._weight
    assert np.array_equal(rep.features(X), expected)  # the same sums, in the same order
    chunk = base.GROUPED_ELEMENTS * 8 * 3  # its float64 rows, their difference, bin numbers
    assert _peak_bytes(rep.features, X) < chunk + 8 * len(X) * rep.n_features + 2**20


def test_an_images_unit_is_read_without_a_copy_of_the_images():
    """|X| and then X - baseline in float64 were each a copy of all the images, for one
    number (1.8 GB more for 1,500 colour images of 224 x 224)."""
    from scrutiny.representations.image import pixel_unit

    X = rng.uniform(0, 16, size=(64, 3, 64, 64)).astype(np.float32)  # 3.1 MB
    baseline = rng.uniform(0, 1, size=(3, 64, 64))
    assert pixel_unit(X, baseline) == float(np.abs(X.astype(np.float64) - baseline).max())
    assert pixel_unit(X * 255 / 16, 0.0) == 255.0
    assert _peak_bytes(pixel_unit, X, baseline) < 8 * 8 * X[0].size  # a few images' worth
