"""Per-component sufficient statistics, kept up to date at the least cost.

The Gram matrix X_j' X_j of component j costs n_j P^2 to form, and on real data many rows
change component every sweep. Two exact savings:
- each component is updated by its moved rows, or recomputed from its rows, whichever
  touches fewer rows;
- the component that would cost the most is not updated at all: its statistics are the
  fixed totals minus the other occupied components'. Being the costliest, it holds at least
  as many rows as that update would touch (hundreds in practice), so the subtraction loses
  little precision.
Everything is recomputed every ``refresh`` sweeps to bound floating-point drift.
"""

from __future__ import annotations

import numpy as np


class ComponentStats:
    """Gram matrices, X'y, y'y, sizes and row lists of every component.

    A cache derived from (data, labels): it records the labels it describes and moves from
    them to any new labelling, so it stays correct however the kernel's states are reused.
    """

    def __init__(self, data, labels, n_components, refresh=50):
        be = data.backend
        J, P = n_components, data.n_cols
        self.n_components = J
        self.refresh = refresh
        self.gram = be.xp.zeros((J, P, P), dtype=be.dtype, device=be.device)
        self.xty = be.xp.zeros((J, P), dtype=be.dtype, device=be.device)
        self.y, self.y_np = data.y, data.y_np  # the responses (latent ones when censored)
        self.gram_total = data.X.T @ data.X
        self.xty_total = data.X.T @ data.y
        self._set_labels(data, np.asarray(labels))
        self._rebuild(data, np.ones(J, dtype=bool), derived=int(np.argmax(self.counts)))
        self._age = 0

    def rows(self, j):
        """Indices of the rows in component j (sorted)."""
        return self.order[self.offsets[j] : self.offsets[j + 1]]

    def _set_labels(self, data, labels):
        self.labels = labels
        self.counts = np.bincount(labels, minlength=self.n_components)
        self.order = np.argsort(labels, kind="stable")
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
        self.yy = np.bincount(labels, weights=self.y_np**2, minlength=self.n_components)

    def _rebuild(self, data, which, derived):
        """Recompute the flagged components from their rows, then derive ``derived``."""
        be = data.backend
        for j in np.flatnonzero(which):
            if j != derived:
                r = be.index(self.rows(j))
                Xj = data.X[r]
                self.gram[j] = Xj.T @ Xj
                self.xty[j] = Xj.T @ self.y[r]
        gram, xty = self.gram_total, self.xty_total
        for j in np.flatnonzero(self.counts):
            if j != derived:
                gram = gram - self.gram[j]
                xty = xty - self.xty[j]
        self.gram[derived] = gram
        self.xty[derived] = xty

    def update(self, data, labels):
        """Move the statistics to ``labels``; returns the number of rows that moved."""
        labels = np.asarray(labels)
        moved = np.flatnonzero(labels != self.labels)
        if moved.size == 0 and self._age + 1 < self.refresh:
            self._age += 1
            return 0
        old, new = self.labels[moved], labels[moved]
        self._set_labels(data, labels)
        if self._age + 1 >= self.refresh:
            self._rebuild(data, np.ones(self.n_components, dtype=bool), int(np.argmax(self.counts)))
            self._age = 0
            return moved.size
        be = data.backend
        J = self.n_components
        touched = np.bincount(old, minlength=J) + np.bincount(new, minlength=J)
        recompute = touched > self.counts
        cost = np.minimum(touched, self.counts)
        derived = int(np.argmax(np.where(self.counts > 0, cost, -1)))
        for j in np.flatnonzero((touched > 0) & ~recompute):
            if j == derived:
                continue
            for rows, sign in ((moved[new == j], 1.0), (moved[old == j], -1.0)):
                if rows.size:
                    r = be.index(rows)
                    Xr = data.X[r]
                    self.gram[j] += sign * (Xr.T @ Xr)  # A'A runs as a symmetric rank-k update
                    self.xty[j] += sign * (Xr.T @ self.y[r])
        self._rebuild(data, recompute, derived)
        self._age += 1
        return moved.size

    def set_response(self, data, y_np):
        """Use new responses (fresh latent values of censored rows): X'y and y'y are
        recomputed from scratch, one (J, n) x (n, P) product; the Gram matrices stand."""
        be = data.backend
        self.y_np = y_np
        self.y = be.asarray(y_np)
        spread = np.zeros((y_np.size, self.n_components))
        spread[np.arange(y_np.size), self.labels] = y_np
        self.xty = be.asarray(spread).T @ data.X
        self.xty_total = data.X.T @ self.y
        self.yy = np.bincount(self.labels, weights=y_np**2, minlength=self.n_components)
