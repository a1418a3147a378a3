"""Sequences of tokens (``scrutiny.text.TextEncoder`` rows of word ids, or bytes as ids
1-256): one feature per position, present when its id is not the baseline's (0, no token).
A token id is a name, not a quantity, so a feature's value is its presence, 1 or 0, and its
contribution is what removing the token takes away. Positions hold different tokens in
different inputs, so these features serve local explanations (LIME-style, per input), not
global surrogates.

A ``window`` (start, stop) makes only those positions features, the rest context that is
never removed: LEMNA's 41 bytes around the byte whose label is explained."""

from __future__ import annotations

import numpy as np

from scrutiny._validation import numpy_dtype, whole_number
from scrutiny.representations.base import Representation


class TokenRepresentation(Representation):
    kind = "tokens"

    def __init__(self, length, baseline=0.0, window=None):
        # as the window's: 200.7 was cut to 200, True and "20" read as lengths, and 0 was
        # refused as a window "(0, 0)" the caller never gave
        length = whole_number(length, "length", 1)
        start, stop = (0, length) if window is None else _window(window)
        if not 0 <= start < stop <= length:
            raise ValueError(
                f"window must be positions (start, stop) with 0 <= start < stop <= {length}, "
                f"got {window!r}"
            )
        groups = np.full(length, -1)
        groups[start:stop] = np.arange(stop - start)
        super().__init__((length,), baseline, groups, 1.0)
        self.window = (start, stop)
        if (self.baseline != 0).any():
            raise ValueError(
                "a token's baseline is 0, no token: switching a position off removes its "
                "word (add a mask piece to the text instead, if the model needs one)"
            )

    def check(self, X, name="X"):
        """X, refused unless it holds token ids: whole numbers from 0 (word ids, or byte
        ids, where byte b is b + 1: ``scrutiny.datasets.binaries.byte_ids``)."""
        X = super().check(X, name)
        bad = (X < 0) | (X != np.round(X))
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name} holds {X[where]:g} at {where}: tokens are ids, whole numbers from 0 "
                "(0 is no token; bytes are byte_ids(code), where byte b is b + 1)"
            )
        return X

    def features(self, X):
        """(n, stop - start) presence of each window position's token."""
        return (self.group_sum(np.asarray(X, dtype=np.float64) != self.baseline) > 0) * 1.0

    @property
    def has_context(self):
        """Whether some positions are context, outside a window narrower than the row."""
        return self.window != (0, self.input_shape[0])

    def to_json(self):
        return {**super().to_json(), "window": list(self.window)}


def _window(window):
    """(start, stop) of ``window``, refused unless two whole numbers (80.7 was cut to 80,
    True read as 1, three numbers failed to unpack)."""
    parts = list(window) if isinstance(window, list | tuple | np.ndarray) else None
    if parts is None or len(parts) != 2:
        raise ValueError(f"window must be two whole numbers (start, stop), got {window!r}")
    return tuple(whole_number(w, "window's start and stop", -(2**63)) for w in parts)


def refuse_raw_bytes(dtype, name="X"):
    """Refuse rows given as 8-bit integers: raw bytes, whose 0x00 would read as no token
    and every other byte as its neighbour's id (byte b is id b + 1, up to 256, which 8
    bits cannot hold), explained without a word."""
    dtype = numpy_dtype(dtype)  # a tensor's too
    if dtype in (np.uint8, np.int8):
        raise TypeError(
            f"{name} holds {dtype} values, raw bytes? Tokens are ids from 1 (0 is "
            "no token): give byte_ids(code) (scrutiny.datasets.binaries), or ids in a wider "
            "integer type"
        )
