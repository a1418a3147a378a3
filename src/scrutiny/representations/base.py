"""A representation maps inputs to interpretable features and feature effects back to inputs.

Every feature is a group of input elements (a pixel, a superpixel, a table column). Elements
of group -1 belong to no feature: they are context that is never switched off (the bytes
around a window). A feature's value is its group's mean departure from the baseline, in
units of ``scale``:

    z_f = mean_{e in f} (x_e - b_e) / scale_f

so a surrogate ``logit ~ b + sum_f beta_f z_f`` gives each input element the coefficient
``beta_f / (|f| scale_f)`` and the contribution ``coefficient_e * (x_e - b_e)``; the
contributions of a feature's elements add up to ``beta_f z_f``.
"""

from __future__ import annotations

import warnings

import numpy as np

from scrutiny._validation import refuse_background

GROUPED_ELEMENTS = 1 << 21  # elements a chunk of group sums reads at once: 16 MB of float64


class Representation:
    """Features as groups of input elements, relative to a baseline.

    Parameters
    ----------
    input_shape : tuple
        Shape of one input.
    baseline : array of ``input_shape``
        The value of every element when its feature is absent.
    groups : (prod(input_shape),) int array
        Feature of each (flattened) input element; features are 0 .. n_features - 1, and
        -1 marks context, in no feature.
    scale : (n_features,) array
        Units of each feature.
    """

    kind = "generic"

    def __init__(self, input_shape, baseline, groups, scale):
        self.input_shape = tuple(int(s) for s in input_shape)
        size = int(np.prod(self.input_shape))
        try:
            b = np.asarray(baseline, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"baseline must be a number or an array of numbers: {exc}") from None
        if b.ndim == len(self.input_shape) + 1 and b.shape[1:] == self.input_shape:
            if b.shape[0] != 1:  # shap's background set
                refuse_background(b.shape[0])
            b = b[0]  # one row of a batch, a one-row DataFrame
        try:
            self.baseline = np.broadcast_to(b, self.input_shape).copy()
        except ValueError:
            raise ValueError(
                f"baseline has shape {b.shape}; expected a number or an input's shape "
                f"{self.input_shape}{self._baseline_hint()}"
            ) from None
        if not np.isfinite(self.baseline).all():
            raise ValueError("baseline holds NaN or inf: it must be a value an input can take")
        self.groups = np.asarray(groups, dtype=np.int64).reshape(-1)
        if self.groups.size != size:
            raise ValueError(f"groups has {self.groups.size} entries for inputs of {size}")
        if self.groups.min(initial=0) < -1:
            raise ValueError("groups are feature numbers from 0, or -1 for context")
        self._owned = self.groups >= 0
        self.n_features = int(self.groups.max(initial=-1)) + 1
        if self.n_features == 0:
            raise ValueError("a representation needs at least one feature")
        sizes = np.bincount(self.groups[self._owned], minlength=self.n_features)
        self.group_sizes = sizes.astype(float)
        if (self.group_sizes == 0).any():
            raise ValueError("every feature must own at least one input element")
        self.scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (self.n_features,))
        if not (np.isfinite(self.scale).all() and (self.scale > 0).all()):
            raise ValueError("feature scales must be finite and positive")
        self._weight = 1.0 / (self.group_sizes * self.scale)

    def _baseline_hint(self):
        """More shapes a baseline may have, for the error that refuses one."""
        return ""

    def check(self, X, name="X"):
        X = np.asarray(X)
        if X.shape == self.input_shape:  # one input, as LIME's explain_instance takes it
            raise ValueError(
                f"{name} is one input of shape {X.shape}; pass a batch of inputs, shaped "
                f"(n, *{self.input_shape}): {name}[None] for this one"
            )
        if X.shape[1:] != self.input_shape:
            raise ValueError(
                f"{name} has samples of shape {X.shape[1:]}, expected {self.input_shape}"
            )
        return X

    def features(self, X):
        """(n, n_features) interpretable features of inputs X (n, *input_shape)."""
        return self._grouped(X, self.baseline) * self._weight

    def group_sum(self, E):
        """(n, F): the sum of per-element values E (n, *input_shape) over each feature's
        elements, context left out."""
        return self._grouped(E)

    def _grouped(self, E, minus=None):
        """``group_sum`` of E - ``minus``, in float64, a chunk of rows at a time: each
        feature's elements added in their order, as ``np.add.at`` adds them, to the same
        bits, 12x faster, and with no float64 copy of all of E (300 colour images of
        224 x 224: 7.1 s and 690 MB before)."""
        E = np.asarray(E)
        n, F = len(E), self.n_features
        E = E.reshape(n, -1)
        owned = None if self._owned.all() else self._owned
        keys = self.groups if owned is None else self.groups[owned]
        total = np.zeros((n, F))
        step = max(1, GROUPED_ELEMENTS // max(1, keys.size))
        for a in range(0, n, step):
            part = np.asarray(E[a : a + step], dtype=np.float64)
            if minus is not None:
                part = part - np.reshape(minus, -1)
            if owned is not None:
                part = part[:, owned]
            m = len(part)
            bins = (np.arange(m)[:, None] * F + keys).reshape(-1)
            total[a : a + m] = np.bincount(bins, part.reshape(-1), m * F).reshape(m, F)
        return total

    def spread(self, per_feature, context=0):
        """(m, *input_shape): each element takes its feature's entry of ``per_feature``
        (m, F); context elements take ``context``."""
        per_feature = np.asarray(per_feature)
        padded = np.concatenate(  # the last column, which group -1 picks, is the context's
            [per_feature, np.full((len(per_feature), 1), context, dtype=per_feature.dtype)],
            axis=1,
        )
        return padded[:, self.groups].reshape(-1, *self.input_shape)

    def element_coefficients(self, coef):
        """(m, *input_shape) per-element coefficients of per-feature coefficients (m, F)."""
        return self.spread(np.atleast_2d(coef) * self._weight)

    def design(self, X):
        """(n, D) columns a global surrogate regresses inputs X on: their features, unless
        a feature takes values that are names (a categorical column: one column per level)."""
        return self.features(X)

    def from_design(self, coef, X=None):
        """(m, F) per-feature coefficients of design coefficients (m, D): of inputs X (each
        categorical column's coefficient is that of the input's level), or with X None of
        no input in particular (the level most for the class)."""
        return np.atleast_2d(coef)

    def coefficients_at(self, X, coef):
        """(m, *input_shape) per-element coefficients of inputs X (m, ...) for their
        per-feature coefficients (m, F): ``element_coefficients``, except where a feature's
        value is not linear in its elements (a categorical column)."""
        return self.element_coefficients(coef)

    def effect_coefficients(self, X, effects):
        """(m, *input_shape) per-element coefficients for per-feature effects (m, F), each
        the change of the surrogate's logit from switching the feature off: shared among
        its elements in proportion to |x_e - b_e|, so that the contributions
        coefficient_e * (x_e - b_e) add up to the effect. Where departures all have one
        sign this is ``element_coefficients(effects / features(X))``; where they cancel
        (the channels of a pixel on either side of a grey baseline) the shares stay
        bounded, where dividing by the feature's value would not."""
        D = np.asarray(X, dtype=np.float64) - self.baseline
        total = self.group_sum(np.abs(D))
        per = np.divide(effects, total, out=np.zeros_like(total), where=total > 0)
        return self.spread(per) * np.sign(D)

    def effect_values(self, X, effects):
        """(m, *input_shape) per-element contributions of per-feature effects (m, F), shared
        as ``effect_coefficients`` shares them: a feature of one element keeps its effect to
        the last bit (through its coefficient, effect / x * x moved with x: a word's with
        the id the encoder happened to give it)."""
        share = np.abs(np.asarray(X, dtype=np.float64) - self.baseline)
        total = self.spread(self.group_sum(share))
        np.divide(share, total, out=share, where=total > 0)  # where 0, |x - b| is 0 too
        return np.multiply(share, self.spread(effects), out=share)

    def present(self, x):
        """(n_features,) bool: features of one input with an element off the baseline."""
        off = np.asarray(x, dtype=np.float64) != self.baseline
        return self.group_sum(off[None])[0] > 0

    def switch_off(self, x, keep):
        """Copies of one input x with the features where ``keep`` (m, F) is False set to the
        baseline: (m, *input_shape)."""
        x = np.asarray(x, dtype=np.float64)
        return np.where(self.spread(np.asarray(keep, dtype=bool), context=True), x, self.baseline)

    def to_json(self):
        return {"kind": self.kind, "input_shape": list(self.input_shape)}


def _standardised(X_fit):
    """Whether images look standardised around 0: their most frequent value (a background)
    negative. Small negative values alone are no sign (bicubic resizing rings below 0)."""
    if np.min(X_fit) >= 0:
        return False
    values, counts = np.unique(np.asarray(X_fit), return_counts=True)
    return bool(values[counts.argmax()] < 0)


def _snap_baseline(rep, X_fit, dtype):
    """A baseline value that images in a low-precision dtype cannot hold, moved onto the
    value the data hold within 4 of its units in the last place (the most frequent such):
    digits standardised in float32 hold black as -0.42421296, and the baseline given as the
    float64 -0.42421292 made every background pixel present (784 of 784), the random chance
    levels a no-op (0.4 -> 0). A value the dtype holds (0.5, 1.0) stays as it is."""
    if dtype is None or np.dtype(dtype).kind != "f" or np.dtype(dtype).itemsize >= 8:
        return
    b = rep.baseline.reshape(-1)
    snapped = b.copy()
    flat = np.asarray(X_fit, dtype=np.float64).reshape(-1)
    for v in np.unique(b):
        held = np.asarray(v, dtype=dtype)
        if held == v or not np.isfinite(held):
            continue
        near = flat[np.abs(flat - v) <= 4 * float(np.spacing(np.abs(held)))]
        if near.size:
            values, counts = np.unique(near, return_counts=True)
            snapped[b == v] = values[counts.argmax()]
    rep.baseline = snapped.reshape(rep.input_shape)


def make_representation(
    representation,
    X_fit,
    baseline=None,
    superpixel=None,
    categorical=(),
    levels=None,
    names=None,
    dtype=None,
):
    """The representation for samples shaped like ``X_fit``'s: images when a sample has 2 or
    3 dimensions, tabular columns when it is flat; ``representation`` forces one ("tokens":
    rows of ``scrutiny.text.TextEncoder``). ``categorical``: the table's columns of
    names, with their ``levels`` (default: those X_fit holds); ``names``: its columns';
    ``dtype``: the one X_fit was given in (uint8 images: pixels of 0-255)."""
    from scrutiny.representations.image import ImageRepresentation, pixel_unit
    from scrutiny.representations.tabular import TabularRepresentation
    from scrutiny.representations.tokens import TokenRepresentation

    if isinstance(representation, Representation):
        representation.check(X_fit, "X_fit")  # made for other inputs, it would fail deep inside
        return representation
    shape = X_fit.shape[1:]
    if representation is None and len(shape) > 3:  # read as a table, refused as one
        raise ValueError(
            f"samples of shape {tuple(shape)} have {len(shape)} dimensions: images are (H, W), "
            "(C, H, W) or (H, W, C), table rows and token rows 1-D"
        )
    if representation is None:
        representation = "image" if len(shape) in (2, 3) else "tabular"
    if len(categorical) and representation != "tabular":
        raise ValueError(
            f"categorical columns are table columns; representation={representation!r} has none"
        )
    if representation == "image":
        if baseline is None and _standardised(X_fit):
            warnings.warn(  # the stacklevel of the Explainer's caller
                "the images' most frequent value is negative (standardised, a black "
                "background?): the default baseline 0, an absent pixel, is then their mean, "
                "not black: pass baseline= an absent pixel as the data hold it (black "
                "standardised: (0 - mean) / sd, per channel, or an image of them), or "
                "baseline=0 to keep 0 and silence this",
                UserWarning,
                stacklevel=3,
            )
        rep = ImageRepresentation(
            shape, baseline=0.0 if baseline is None else baseline, superpixel=superpixel
        )
        if baseline is not None:
            _snap_baseline(rep, X_fit, dtype)
        unit = pixel_unit(X_fit, rep.baseline, dtype)
        if unit == 1.0:
            return rep
        with warnings.catch_warnings():  # of its layout, said once above
            warnings.simplefilter("ignore")
            return ImageRepresentation(shape, rep.baseline, superpixel, unit)
    if representation == "tabular":
        if superpixel is not None:
            raise ValueError("superpixel applies to images, not tabular data")
        return TabularRepresentation.from_data(X_fit, baseline, categorical, levels, names)
    if representation == "tokens":
        if superpixel is not None or len(shape) != 1:
            raise ValueError(
                f"tokens are rows of word ids (n, length), with no superpixels; got samples "
                f"of shape {shape}" + (" and a superpixel" if superpixel is not None else "")
            )
        return TokenRepresentation(shape[0], 0.0 if baseline is None else baseline)
    raise ValueError(
        "representation must be 'image', 'tabular', 'tokens' or a Representation, got "
        f"{representation!r}"
    )
