"""Images: one feature per pixel (all channels together), or square superpixels."""

from __future__ import annotations

import warnings

import numpy as np

from scrutiny.representations.base import Representation


def channel_axis(shape):
    """None for a grey (H, W) image; for 3 axes, the end axis holding the channels: the one
    of length 3, else 1, else 4 (RGB, grey, RGBA), the first if both ends tie."""
    if len(shape) == 2:
        return None
    rank = {3: 0, 1: 1, 4: 2}
    first, last = rank.get(shape[0], 9), rank.get(shape[-1], 9)
    if min(first, last) == 9:
        raise ValueError(
            f"cannot tell the channel axis of images of shape {tuple(shape)}: the first or "
            "last axis must have length 1, 3 or 4"
        )
    return 0 if first <= last else 2


class ImageRepresentation(Representation):
    """Pixels or ``superpixel`` x ``superpixel`` blocks of an image of shape (H, W),
    (C, H, W) or (H, W, C) (see ``channel_axis``).
    The baseline defaults to 0, a black image; a scalar, an array of the image's shape or
    one value per channel, (C,) or C along the channel axis, overrides it.

    ``unit``: the pixels' unit, which features are measured in (``pixel_unit``: 255 for
    images of 0-255, 1 for images of [0, 1]), so that the surrogate's priors, which are in
    the features' units, mean the same whatever units the images come in."""

    kind = "image"

    def __init__(self, input_shape, baseline=0.0, superpixel=None, unit=1.0):
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (2, 3):
            raise ValueError(f"images have 2 or 3 dimensions per sample, got shape {shape}")
        axis = channel_axis(shape)
        if axis is not None and {shape[0], shape[-1]} <= {1, 3, 4}:
            other, move = (
                ("last (H, W, C)", "(0, 3, 1, 2)")
                if axis == 0
                else ("first (C, H, W)", "(0, 2, 3, 1)")
            )
            warnings.warn(
                f"images of shape {shape} could have their channels first or last: read "
                f"with {shape[axis]} channels on axis {axis}; if they are channels-{other}, "
                f"pass X.transpose{move} and X_fit alike, whose layout is not in doubt",
                stacklevel=3,
            )
        height, width = [n for d, n in enumerate(shape) if d != axis]
        s = 1 if superpixel is None else _block_size(superpixel)
        if s > 1 and s >= max(height, width):
            raise ValueError(
                f"superpixel {s} covers the whole {height}x{width} image in one block: "
                "nothing left to rank"
            )
        rows, cols = np.arange(height) // s, np.arange(width) // s
        pixel = rows[:, None] * (-(-width // s)) + cols[None, :]  # (H, W) block index
        if axis == 0:
            groups = np.broadcast_to(pixel, (shape[0], height, width))
        elif axis == 2:
            groups = np.broadcast_to(pixel[:, :, None], (height, width, shape[2]))
        else:
            groups = pixel
        self.superpixel = None if superpixel is None else s  # what ran, a plain int
        self.channel_axis = axis
        baseline = _per_channel(baseline, shape, axis)
        unit = float(unit)
        if not (np.isfinite(unit) and unit > 0):
            raise ValueError(f"an image's pixel unit must be finite and positive, got {unit!r}")
        super().__init__(shape, baseline, np.ascontiguousarray(groups).reshape(-1), unit)

    def _baseline_hint(self):
        if self.channel_axis is None:
            return ""
        c = self.input_shape[self.channel_axis]
        along = tuple(c if d == self.channel_axis else 1 for d in range(3))
        return f", or one value per channel, shaped ({c},) or {along}"

    def to_json(self):
        unit = float(self.scale.reshape(-1)[0])  # the fidelity protocol's values are in it
        return {**super().to_json(), "superpixel": self.superpixel, "unit": unit}


def pixel_unit(X, baseline, dtype=None):
    """The unit of images X (given in ``dtype``, X's own by default): 1 for pixels within
    [-1, 1]; 255 for 8-bit pixels (uint8, or values beyond 127 up to 255), however dark the
    images and whatever the baseline (their largest departure from a grey baseline, 127.5,
    put them at twice the scale of the same images in [0, 1]); else their largest departure
    from the baseline (scikit-learn's digits of 0-16: 16)."""
    A = np.asarray(X)
    if A.size == 0:
        return 1.0
    with np.errstate(invalid="ignore"):  # NaN is refused by the explainer, by name
        # each position's extremes over the images: no copy of them all (1,500 colour
        # images of 224 x 224 held 1.8 GB more in float64 copies for one number)
        high = np.nanmax(A, axis=0).astype(np.float64)
        low = np.nanmin(A, axis=0).astype(np.float64)
        largest = float(np.nanmax(np.maximum(np.abs(high), np.abs(low))))
        if not np.isfinite(largest) or largest <= 1.0:
            return 1.0
        if np.dtype(dtype or A.dtype) == np.uint8 or 127 < largest <= 255:
            return 255.0
        departure = float(np.nanmax(np.maximum(np.abs(high - baseline), np.abs(low - baseline))))
    return departure if np.isfinite(departure) and departure > 1.0 else 1.0


def _per_channel(baseline, shape, axis):
    """A baseline of one value per channel, (C,), laid along the channel axis: numpy would
    lay it along the last axis, the width of a (C, H, W) image (refused, or silently wrong
    where the width is C)."""
    try:
        b = np.asarray(baseline, dtype=np.float64)
    except (TypeError, ValueError):
        return baseline  # refused, with its reason, by Representation
    if axis is None or b.shape != (shape[axis],):
        return baseline
    return b.reshape([-1 if d == axis else 1 for d in range(3)])


def _block_size(superpixel):
    """A superpixel's side as a plain int: a whole number of pixels, at least 1."""
    try:
        s = int(superpixel)
        whole = s == superpixel or str(s) == superpixel
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or isinstance(superpixel, bool) or s < 1:
        raise ValueError(f"superpixel must be a positive whole block size, got {superpixel!r}")
    return s
