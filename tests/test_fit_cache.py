"""The key of a cached surrogate fit: whatever changes the fit changes the key."""

import numpy as np
import pytest

from scrutiny._fit_cache import _sampler_digest, fit_key


def test_settings_arrays_count_in_full():
    # str() of a 2,000-label array shows only its ends: two initial partitions that differ
    # in the middle must not share a key (the other's fit would be loaded)
    Z, Y = np.zeros((2000, 2)), np.zeros((2000, 1))
    init = np.zeros(2000, dtype=np.int64)
    other = init.copy()
    other[1000] = 1
    key = fit_key(Z, Y, {"init": init}, (None, None))
    assert fit_key(Z, Y, {"init": other}, (None, None)) != key
    assert fit_key(Z, Y, {"init": init.copy()}, (None, None)) == key


def test_library_versions_and_input_code_count(monkeypatch):
    # an upgrade of numpy may change every draw: a fit from before it must not be loaded
    Z, Y = np.zeros((4, 2)), np.zeros((4, 1))
    key = fit_key(Z, Y, {}, (None, None))
    _sampler_digest.cache_clear()
    monkeypatch.setattr(np, "__version__", "0.0.0")
    assert fit_key(Z, Y, {}, (None, None)) != key
    monkeypatch.undo()
    _sampler_digest.cache_clear()
    assert fit_key(Z, Y, {}, (None, None)) == key


def test_torch_fits_are_keyed_by_torch_version(monkeypatch):
    torch = pytest.importorskip("torch")
    Z, Y = np.zeros((4, 2)), np.zeros((4, 1))
    key = fit_key(Z, Y, {"device": "torch"}, (None, None))
    assert fit_key(Z, Y, {"device": "cpu"}, (None, None)) != key
    monkeypatch.setattr(torch, "__version__", "0.0.0")
    assert fit_key(Z, Y, {"device": "torch"}, (None, None)) != key
