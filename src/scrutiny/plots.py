"""Pictures of explanations. Every function draws on a matplotlib ``ax`` and returns it."""

from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3.2, 3))
    return ax


def coefficient_map(coef, shape=(28, 28), top=None, ax=None, title=None, colorbar=True):
    """Heat map of a coefficient vector laid out as an image, on a diverging colour map
    centred at 0; with ``top``, only the ``top`` largest |coef| are shown."""
    ax = _axes(ax)
    values = np.asarray(coef, dtype=float).copy()
    if top is not None and top < values.size:
        keep = np.argsort(-np.abs(np.nan_to_num(values)))[:top]
        mask = np.zeros(values.size, dtype=bool)
        mask[keep] = True
        values[~mask] = 0.0
    lim = float(np.nanmax(np.abs(values))) or 1.0
    im = ax.imshow(values.reshape(shape), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def trace(values, ax=None, ylabel="log-likelihood"):
    """Per-chain traces of a scalar, as stored by the sampler: values (chains, draws)."""
    ax = _axes(ax)
    for c, v in enumerate(np.atleast_2d(values)):
        ax.plot(v, lw=0.8, label=f"chain {c}")
    ax.set_xlabel("stored draw")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    return ax
