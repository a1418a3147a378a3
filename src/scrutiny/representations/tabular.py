"""Tabular rows: one feature per column, measured from the training mean in standard
deviations (so one elastic-net prior suits columns of any units)."""

from __future__ import annotations

import numpy as np

from scrutiny.representations.base import Representation


class TabularRepresentation(Representation):
    kind = "tabular"

    def __init__(self, n_columns, baseline, scale):
        super().__init__((int(n_columns),), baseline, np.arange(int(n_columns)), scale)

    @classmethod
    def from_data(cls, X_fit, baseline=None):
        X = np.asarray(X_fit, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"tabular data must be 2-D (rows, columns), got shape {X.shape}")
        sd = X.std(axis=0)
        scale = np.where(sd > 0, sd, 1.0)  # a constant column: its feature is always 0
        return cls(X.shape[1], X.mean(axis=0) if baseline is None else baseline, scale)
