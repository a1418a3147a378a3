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

For chains run as one (see ``kernel``), rows are virtual rows v = c n + i (row i of chain c)
and each chain has its own derived component.
"""

from __future__ import annotations

import numpy as np


class ComponentStats:
    """Gram matrices and X'y (current where ``has_gram``), y'y, sizes and row lists of
    every component.

    A cache derived from (data, labels): it records the labels it describes and moves from
    them to any new labelling, so it stays correct however the kernel's states are reused.
    """

    def __init__(self, data, labels, n_components, refresh=50, min_rows=0, n_chains=1):
        be = data.backend
        J, P = n_components, data.n_cols
        self.n_components = J  # of all chains
        self.n_chains = n_chains
        self.n_rows = data.n_rows
        self.refresh = refresh
        self.min_rows = min_rows
        self.gram = be.xp.zeros((J, P, P), dtype=be.dtype, device=be.device)
        self.xty = be.xp.zeros((J, P), dtype=be.dtype, device=be.device)
        self.has_gram = np.zeros(J, dtype=bool)
        # the responses of the virtual rows (latent ones when censored)
        self.y_np = data.per_chain(data.y_np, n_chains)
        self.y = be.asarray(self.y_np)
        self.gram_total = data.X.T @ data.X
        self.xty_total = [data.X.T @ self._chain_y(c) for c in range(n_chains)]
        self._move(data, np.asarray(labels))
        self._age = 0

    def rows(self, j):
        """Indices of the (virtual) rows in component j (sorted)."""
        return self.order[self.offsets[j] : self.offsets[j + 1]]

    def _chain_y(self, c):
        n = self.n_rows
        return self.y[c * n : (c + 1) * n]

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
        be, J, n = data.backend, self.n_components, self.n_rows
        current, touched = np.zeros(J, dtype=bool), np.zeros(J, dtype=np.int64)
        if moved is not None:
            current = self.has_gram
            old, new = self.labels[moved], labels[moved]
            touched = np.bincount(old, minlength=J) + np.bincount(new, minlength=J)
        self._set_labels(labels)
        need = (self.counts > 0) & (self.counts >= self.min_rows)
        incremental = current & need & (touched <= self.counts)
        cost = np.where(incremental, touched, self.counts)
        chain = np.arange(J) // (J // self.n_chains)
        derived = []  # per chain: (component, its chain, the rows summed in one product)
        for c in range(self.n_chains):
            without = np.flatnonzero((self.counts > 0) & ~need & (chain == c))
            rest = np.concatenate([self.rows(j) for j in without]) if without.size else None
            mine = need & (chain == c)
            d = int(np.argmax(np.where(mine, cost, -1))) if mine.any() else -1
            if d >= 0 and cost[d] > (0 if rest is None else rest.size):
                derived.append((d, c, rest))  # else deriving would touch more rows
        skip = {d for d, _, _ in derived}
        for j in np.flatnonzero(need):
            if j in skip:
                continue
            if incremental[j]:
                for rows, sign in ((moved[new == j], 1.0), (moved[old == j], -1.0)):
                    if rows.size:
                        Xr = data.X[be.index(rows % n)]
                        self.gram[j] += sign * (Xr.T @ Xr)  # a symmetric rank-k update
                        self.xty[j] += sign * (Xr.T @ self.y[be.index(rows)])
            else:
                r = self.rows(j)
                Xj = data.X[be.index(r % n)]
                self.gram[j] = Xj.T @ Xj
                self.xty[j] = Xj.T @ self.y[be.index(r)]
        for d, c, rest in derived:  # in place: no P x P temporaries
            gram, xty = self.gram[d], self.xty[d]
            gram[...], xty[...] = self.gram_total, self.xty_total[c]
            for j in np.flatnonzero(need & (chain == c)):
                if j != d:
                    gram -= self.gram[j]
                    xty -= self.xty[j]
            if rest is not None:
                Xr = data.X[be.index(rest % n)]
                gram -= Xr.T @ Xr
                xty -= Xr.T @ self.y[be.index(rest)]
        self.has_gram = need

    def set_response(self, data, y_np):
        """Use new responses (fresh latent values of censored rows): X'y and y'y are
        recomputed from scratch, one (J, n) x (n, P) product; the Gram matrices stand."""
        be, n, C = data.backend, self.n_rows, self.n_chains
        per = self.n_components // C
        self.y_np = y_np
        self.y = be.asarray(y_np)
        xty = []
        for c in range(C):  # every component's, current or not
            mine = slice(c * n, (c + 1) * n)
            spread = np.zeros((n, per))
            spread[np.arange(n), self.labels[mine] - c * per] = y_np[mine]
            xty.append(be.asarray(spread).T @ data.X)
        self.xty = be.xp.concat(xty)
        self.xty_total = [data.X.T @ self._chain_y(c) for c in range(C)]
        self.yy = np.bincount(self.labels, weights=y_np**2, minlength=self.n_components)
