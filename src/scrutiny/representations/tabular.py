"""Tabular rows: one feature per column. A numeric column is measured from the training mean
in standard deviations (so one elastic-net prior suits columns of any units); a categorical
column (level codes, ``scrutiny.categories``) is 1 where its level is not the baseline's
(the most frequent in the training data) and 0 where it is, as a token's presence is: a
level is a name, not a quantity, and switching the column off puts back the baseline level.
Global surrogates regress on one 0/1 column per other level (``design``), so that each level
has an effect of its own; an input's explanation takes its level's."""

from __future__ import annotations

import numpy as np

from scrutiny.representations.base import Representation


class TabularRepresentation(Representation):
    """``categorical``: the columns whose values are names (level codes 0, 1, ... of a
    column of strings, or numbers that name something), with each one's ``levels``.
    ``names``: the columns' names (a DataFrame's), by which rows given to it as a DataFrame
    are put in its order."""

    kind = "tabular"

    def __init__(self, n_columns, baseline, scale, categorical=(), levels=None, names=None):
        super().__init__((int(n_columns),), baseline, np.arange(int(n_columns)), scale)
        self.names = None if names is None else [str(n) for n in names]
        if self.names is not None and len(self.names) != self.n_features:
            raise ValueError(f"{len(self.names)} names for {self.n_features} columns")
        self.categorical = np.asarray(categorical, dtype=np.int64).reshape(-1)
        c = self.categorical
        if (np.diff(c) <= 0).any() or (c.size and not 0 <= c[0] <= c[-1] < self.n_features):
            raise ValueError(
                f"categorical columns must be increasing column numbers 0..{self.n_features - 1}"
                f", got {c.tolist()}"
            )
        if levels is None and c.size:
            raise ValueError("categorical columns need their levels (from_data finds them)")
        self.levels = [
            np.unique(np.asarray(lv, dtype=np.float64)) for lv in ([] if levels is None else levels)
        ]
        if len(self.levels) != c.size:
            raise ValueError(f"levels has {len(self.levels)} lists for {c.size} columns")
        for j, lv in zip(c, self.levels, strict=True):
            if self.baseline[j] not in lv:
                raise ValueError(
                    f"column {j}'s baseline {self.baseline[j]:g} is none of its levels"
                )
        self._numeric = np.setdiff1d(np.arange(self.n_features), c)

    def check(self, X, name="X"):
        """Also refuses a categorical column's value that is none of its levels: a global
        surrogate knows no effect of it."""
        X = super().check(X, name)
        for j, lv in zip(self.categorical, self.levels, strict=True):
            new = np.setdiff1d(np.asarray(X, dtype=np.float64)[:, j], lv)
            if new.size:
                raise ValueError(
                    f"{name}'s categorical column {j} holds values the fit data never held "
                    f"there: {[format(v, 'g') for v in new[:5]]}"
                )
        return X

    @classmethod
    def from_data(cls, X_fit, baseline=None, categorical=(), levels=None, names=None):
        """``categorical``: columns whose values are names (level codes, or numbers that
        name something: a zip code), with their ``levels`` (default: those X_fit holds)."""
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
        categorical = np.asarray(categorical, dtype=np.int64).reshape(-1)
        scale[categorical] = 1.0
        if levels is None:
            levels = [np.unique(X[:, j]) for j in categorical]
        if baseline is None:
            baseline = X.mean(axis=0)
            for j in categorical:  # the most frequent level; a tie goes to the smallest
                values, counts = np.unique(X[:, j], return_counts=True)
                baseline[j] = values[np.argmax(counts)]
        return cls(X.shape[1], baseline, scale, categorical, levels, names)

    def features(self, X):
        Z = super().features(X)
        if self.categorical.size:
            X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
            c = self.categorical
            Z[:, c] = X[:, c] != self.baseline[c]
        return Z

    def design(self, X):
        """The numeric columns' features, then for each categorical column a 0/1 column per
        level but the baseline's, in code order."""
        Z = self.features(X)
        if not self.categorical.size:
            return Z
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        parts = [Z[:, self._numeric]]
        for j, others in zip(self.categorical, self._other_levels(), strict=True):
            parts.append((X[:, j, None] == others).astype(np.float64))
        return np.hstack(parts)

    def from_design(self, coef, X=None):
        coef = np.atleast_2d(coef)
        if not self.categorical.size:
            return coef
        out = np.zeros((len(coef), self.n_features))
        out[:, self._numeric] = coef[:, : self._numeric.size]
        start = self._numeric.size
        for j, others in zip(self.categorical, self._other_levels(), strict=True):
            block = coef[:, start : start + others.size]
            start += others.size
            if not others.size:
                continue
            if X is None:  # the level most for the class: the baseline's (0) if no other
                out[:, j] = np.maximum(block.max(axis=1), 0.0)
                continue
            codes = np.asarray(X, dtype=np.float64).reshape(len(X), -1)[:, j]
            pos = np.searchsorted(others, codes)  # the input's level among the others
            known = (pos < others.size) & (others[np.minimum(pos, others.size - 1)] == codes)
            picked = block[np.arange(len(block)), np.minimum(pos, others.size - 1)]
            out[:, j] = np.where(known, picked, 0.0)  # its baseline level: no effect
        return out

    def best_levels(self, coef):
        """(m, n_categorical) each categorical column's level (its value) with the largest
        design coefficient (m, D), the baseline's 0 among them (every other level's below
        it: the baseline level): the one ``from_design`` without inputs takes."""
        coef = np.atleast_2d(coef)
        out = np.zeros((len(coef), self.categorical.size))
        start = self._numeric.size
        for i, others in enumerate(self._other_levels()):
            block = coef[:, start : start + others.size]
            start += others.size
            j = self.categorical[i]
            if not others.size:
                out[:, i] = self.baseline[j]
                continue
            best = others[block.argmax(axis=1)]
            out[:, i] = np.where(block.max(axis=1) > 0, best, self.baseline[j])
        return out

    def _other_levels(self):
        """Per categorical column, its levels but the baseline's, in order."""
        return [
            lv[lv != self.baseline[j]] for j, lv in zip(self.categorical, self.levels, strict=True)
        ]

    def coefficients_at(self, X, coef):
        """A categorical column's coefficient is its feature's per unit of code: the
        contribution ``coefficient * (x - b)`` is then the feature's, the effect of
        leaving the baseline level (and 0 at it)."""
        out = self.element_coefficients(coef).reshape(len(coef), -1)
        if self.categorical.size:
            c = self.categorical
            D = np.asarray(X, dtype=np.float64).reshape(len(X), -1)[:, c] - self.baseline[c]
            out[:, c] = np.divide(coef[:, c], D, out=np.zeros_like(D), where=D != 0)
        return out

    def to_json(self):
        return {
            **super().to_json(),
            "categorical": self.categorical.tolist(),
            "levels": [lv.tolist() for lv in self.levels],
            **({} if self.names is None else {"names": self.names}),
        }
