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
        # a column constant to rounding (0.1 stored as 0.1 and 0.1 + 1 ulp) is constant:
        # scaled by its rounding it became noise of unit variance, with an effect of its own
        # (scikit-learn's StandardScaler uses the same bound on the variance's rounding)
        eps, n = np.finfo(np.float64).eps, X.shape[0]
        constant = sd**2 <= n * eps * sd**2 + (n * X.mean(axis=0) * eps) ** 2
        scale = np.where(constant, 1.0, sd)  # a constant column: its feature is (about) 0
        return cls(X.shape[1], X.mean(axis=0) if baseline is None else baseline, scale)
