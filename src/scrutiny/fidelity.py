"""Fidelity tests of explanations: does the model react to the features an explanation
ranks first? Every test works for any ``Explanation`` (scrutiny's, LIME's, SHAP's, random)
and returns per-input outcomes of shape (len(ks), m), so that rates (PCR, the positive
classification rate) and bootstrap intervals can be computed from them.

- deduction: x with its top-k elements set to the baseline; still x's class? (lower = better)
- augmentation: an input of another class with x's top-k elements copied in; now x's class?
- synthetic: the baseline with only x's top-k elements; x's class? (higher = better)
"""

from __future__ import annotations

import numpy as np

from scrutiny.models import ModelAdapter

K_GRID = (5, 10, 20, 40, 80)


def deduction(model, explanation, ks=K_GRID, batch_size=256):
    """(len(ks), m) bool: is each input still classified as its explained class after its
    top-k elements are set to the baseline? PCR = the mean (lower = more faithful)."""
    X, base, top = _flat(explanation, ks)
    return _classify(model, explanation, ks, batch_size, lambda k: _put(X, top[:, :k], base))


def augmentation(model, explanation, donors, ks=K_GRID, batch_size=256, random_state=0):
    """(len(ks), m) bool: does an input of another class (drawn from ``donors``, inputs of
    the same shape) become x's class once x's top-k elements are copied into it? PCR =
    the mean (higher = more faithful)."""
    adapter = _adapter(model, batch_size)
    X, _, top = _flat(explanation, ks)
    D = np.asarray(donors, dtype=np.float64).reshape(len(donors), -1)
    if D.shape[1] != X.shape[1]:
        raise ValueError(f"donors have {D.shape[1]} elements per input, explanations {X.shape[1]}")
    donor_class = adapter.predict(D.reshape(-1, *explanation.shape))
    rng = np.random.default_rng(random_state)
    picks = np.empty(len(X), dtype=np.int64)
    for i, t in enumerate(explanation.target):
        other = np.flatnonzero(donor_class != t)
        if other.size == 0:
            raise ValueError(f"no donor is classified as anything but class {t}")
        picks[i] = rng.choice(other)
    host = D[picks]
    return _classify(adapter, explanation, ks, batch_size, lambda k: _put(host, top[:, :k], X))


def synthetic(model, explanation, ks=K_GRID, batch_size=256):
    """(len(ks), m) bool: is the baseline carrying only x's top-k elements classified as x's
    class? PCR = the mean (higher = more faithful)."""
    X, base, top = _flat(explanation, ks)
    empty = np.broadcast_to(base, X.shape)
    return _classify(model, explanation, ks, batch_size, lambda k: _put(empty, top[:, :k], X))


def pcr(outcomes):
    """Positive classification rate of each row of outcomes (len(ks), m)."""
    return np.asarray(outcomes, dtype=float).mean(axis=-1)


def bootstrap_interval(outcomes, level=0.95, n_boot=2000, random_state=0):
    """Percentile bootstrap interval of each PCR over the inputs: (lower, upper), each
    (len(ks),). Inputs are resampled jointly across k, so the curve's intervals agree."""
    out = np.atleast_2d(np.asarray(outcomes, dtype=float))
    rng = np.random.default_rng(random_state)
    idx = rng.integers(out.shape[1], size=(n_boot, out.shape[1]))
    rates = out[:, idx].mean(axis=2)  # (len(ks), n_boot)
    q = [(1 - level) / 2, (1 + level) / 2]
    lo, hi = np.quantile(rates, q, axis=1)
    return lo, hi


def approximation_error(explanation):
    """RMSE on the probability scale between the model and the explanation's surrogate at
    the explained inputs: sigmoid(surrogate_logit) against sigmoid(model_logit)."""
    p_model = _sigmoid(explanation.model_logit)
    p_surrogate = _sigmoid(explanation.surrogate_logit)
    return float(np.sqrt(np.mean((p_model - p_surrogate) ** 2)))


def stability(a, b, k=20):
    """Mean share of top-k elements two explanations of the same inputs agree on (1 = the
    same sets, e.g. across two seeds)."""
    if a.values.shape != b.values.shape:
        raise ValueError(f"explanations of different inputs: {a.values.shape}, {b.values.shape}")
    ta, tb = a.top(k), b.top(k)
    return float(np.mean([np.intersect1d(x, y).size / k for x, y in zip(ta, tb, strict=True)]))


def _adapter(model, batch_size):
    return model if isinstance(model, ModelAdapter) else ModelAdapter(model, batch_size=batch_size)


def _flat(explanation, ks):
    m = len(explanation)
    X = explanation.inputs.reshape(m, -1)
    base = explanation.baseline.reshape(-1)
    top = explanation.top(min(int(np.prod(explanation.shape)), max(ks)))
    return X, base, top


def _put(host, cols, source):
    """Copies of ``host`` rows (m, n) or (n,) with ``cols`` (m, k) taken from ``source``."""
    out = np.array(np.broadcast_to(host, (len(cols), host.shape[-1])))
    rows = np.arange(len(cols))[:, None]
    src = np.broadcast_to(source, out.shape)
    out[rows, cols] = src[rows, cols]
    return out


def _classify(model, explanation, ks, batch_size, craft):
    adapter = _adapter(model, batch_size)
    size = int(np.prod(explanation.shape))
    out = np.zeros((len(ks), len(explanation)), dtype=bool)
    for i, k in enumerate(ks):
        if not 1 <= k <= size:
            raise ValueError(f"k must be between 1 and {size}, got {k}")
        crafted = craft(k).reshape(-1, *explanation.shape)
        out[i] = adapter.predict(crafted) == explanation.target
    return out


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))
