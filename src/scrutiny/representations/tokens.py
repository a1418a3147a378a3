"""Sequences of tokens (``scrutiny.text.TextEncoder`` rows of word ids): one feature per
position, present when its id is not the baseline's (0, no token). A token id is a name,
not a quantity, so a feature's value is its presence, 1 or 0, and its effect is that of
removing the token. Positions hold different words in different texts, so these features
serve local explanations (LIME-style, per input), not global surrogates."""

from __future__ import annotations

import numpy as np

from scrutiny.representations.base import Representation


class TokenRepresentation(Representation):
    kind = "tokens"

    def __init__(self, length, baseline=0.0):
        super().__init__((int(length),), baseline, np.arange(int(length)), 1.0)
        if (self.baseline != 0).any():
            raise ValueError(
                "a token's baseline is 0, no token: switching a position off removes its "
                "word (add a mask piece to the text instead, if the model needs one)"
            )

    def features(self, X):
        """(n, length) presence of each position's token."""
        return (np.asarray(X, dtype=np.float64) != self.baseline).astype(np.float64)
