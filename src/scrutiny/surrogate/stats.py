"""Per-component sufficient statistics, kept up to date at the least cost.

The Gram matrix X_j' X_j of component j costs n_j P^2 to form, and on real data many rows
change component every sweep. Three exact savings:
- a component with fewer than ``min_rows`` rows has no Gram matrix at all: the kernel
  draws its coefficients from its rows (the n_j < P path), and a P x P matrix kept current
  for a handful of rows costs more memory traffic than that draw;
- each other component is updated by its moved rows, or recomputed from its rows,
  whichever touches fewer rows;
- the one that would cost the most is not updated at all: its statistics are the fixed
  totals minus the other components' (those without a Gram matrix in one product over
  their rows). Being the costliest, it holds at least as many rows as that update would
  touch (hundreds in practice), so the subtraction loses little precision.
Everything is recomputed every ``refresh`` sweeps to bound floating-point drift.
"""

from __future__ import annotations

import numpy as np


class ComponentStats:
    """Gram matrices and X'y (current where ``has_gram``), y'y, sizes and row lists of
    every component.

    A cache derived from (data, labels): it records the labels it describes and moves from
    them to any new labelling, so it stays correct however the kernel's states are reused.
    """

    def __init__(self, data, labels, n_components, refresh=50, min_rows=0):
        be = data.backend
        J, P = n_components, data.n_cols
        self.n_components = J
        self.refresh = refresh
        self.min_rows = min_rows
        self.gram = be.xp.zeros((J, P, P), dtype=be.dtype, device=be.device)
        self.xty = be.xp.zeros((J, P), dtype=be.dtype, device=be.device)
        self.has_gram = np.zeros(J, dtype=bool)
        self.y, self.y_np = data.y, data.y_np  # the responses (latent ones when censored)
        self.gram_total = data.X.T @ data.X
        self.xty_total = data.X.T @ data.y
        self._move(data, np.asarray(labels))
        self._age = 0

    def rows(self, j):
        """Indices of the rows in component j (sorted)."""
        return self.order[self.offsets[j] : self.offsets[j + 1]]

    def _set_labels(self, labels):
        self.labels = labels
        self.counts = np.bincount(labels, minlength=self.n_components)
        self.order = np.argsort(labels, kind="stable")
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
        self.yy = np.bincount(labels, weights=self.y_np**2, minlength=self.n_components)

    def update(self, data, labels):
        """Move the statistics to ``labels``; returns the number of rows that moved."""
        labels = np.asarray(labels)
        moved = np.flatnonzero(labels != self.labels)
        if moved.size == 0 and self._age + 1 < self.refresh:
            self._age += 1
            return 0
        refresh = self._age + 1 >= self.refresh
        self._move(data, labels, None if refresh else moved)
        self._age = 0 if refresh else self._age + 1
        return moved.size

    def _move(self, data, labels, moved=None):
        """Bring the Gram matrices of the components that need one to ``labels``, from the
        current ones where that is cheaper. ``moved``: the rows whose labels change; None:
        recompute everything."""
        be, J = data.backend, self.n_components
        current, touched = np.zeros(J, dtype=bool), np.zeros(J, dtype=np.int64)
        if moved is not None:
            current = self.has_gram
            old, new = self.labels[moved], labels[moved]
            touched = np.bincount(old, minlength=J) + np.bincount(new, minlength=J)
        self._set_labels(labels)
        need = (self.counts > 0) & (self.counts >= self.min_rows)
        incremental = current & need & (touched <= self.counts)
        cost = np.where(incremental, touched, self.counts)
        without = np.flatnonzero((self.counts > 0) & ~need)  # rows summed in one product
        rest = np.concatenate([self.rows(j) for j in without]) if without.size else None
        derived = int(np.argmax(np.where(need, cost, -1))) if need.any() else -1
        if derived >= 0 and cost[derived] <= (0 if rest is None else rest.size):
            derived = -1  # deriving would touch more rows than updating
        for j in np.flatnonzero(need):
            if j == derived:
                continue
            if incremental[j]:
                for rows, sign in ((moved[new == j], 1.0), (moved[old == j], -1.0)):
                    if rows.size:
                        r = be.index(rows)
                        Xr = data.X[r]
                        self.gram[j] += sign * (Xr.T @ Xr)  # a symmetric rank-k update
                        self.xty[j] += sign * (Xr.T @ self.y[r])
            else:
                r = be.index(self.rows(j))
                Xj = data.X[r]
                self.gram[j] = Xj.T @ Xj
                self.xty[j] = Xj.T @ self.y[r]
        if derived >= 0:  # in place: no P x P temporaries
            gram, xty = self.gram[derived], self.xty[derived]
            gram[...], xty[...] = self.gram_total, self.xty_total
            for j in np.flatnonzero(need):
                if j != derived:
                    gram -= self.gram[j]
                    xty -= self.xty[j]
            if rest is not None:
                r = be.index(rest)
                Xr = data.X[r]
                gram -= Xr.T @ Xr
                xty -= Xr.T @ self.y[r]
        self.has_gram = need

    def set_response(self, data, y_np):
        """Use new responses (fresh latent values of censored rows): X'y and y'y are
        recomputed from scratch, one (J, n) x (n, P) product; the Gram matrices stand."""
        be = data.backend
        self.y_np = y_np
        self.y = be.asarray(y_np)
        spread = np.zeros((y_np.size, self.n_components))
        spread[np.arange(y_np.size), self.labels] = y_np
        self.xty = be.asarray(spread).T @ data.X  # every component's, current or not
        self.xty_total = data.X.T @ self.y
        self.yy = np.bincount(self.labels, weights=y_np**2, minlength=self.n_components)
