"""Fidelity tests of explanations: does the model react to the features an explanation
ranks first? Each works for any ``Explanation`` and returns per-sample outcomes, so that
rates (PCR, the positive classification rate) and their intervals can be computed."""

from __future__ import annotations

import numpy as np

from scrutiny.models import ModelAdapter

K_GRID = (5, 10, 20, 40, 80)


def deduction(model, explanation, ks=K_GRID, batch_size=256):
    """(len(ks), m) bool: is each input still classified as its explained class after its
    top-k elements are set to the baseline? PCR = the mean (lower = more faithful)."""
    model = model if isinstance(model, ModelAdapter) else ModelAdapter(model, batch_size=batch_size)
    X = explanation.inputs.reshape(len(explanation), -1)
    base = explanation.baseline.reshape(-1)
    rows = np.arange(len(explanation))[:, None]
    out = np.zeros((len(ks), len(explanation)), dtype=bool)
    for i, k in enumerate(ks):
        Xk = X.copy()
        top = explanation.top(k)
        Xk[rows, top] = base[top]
        pred = model.predict(Xk.reshape(explanation.inputs.shape))
        out[i] = pred == explanation.target
    return out


def pcr(outcomes):
    """Positive classification rate of each row of outcomes (len(ks), m)."""
    return np.asarray(outcomes, dtype=float).mean(axis=-1)
