"""The key of a cached surrogate fit: whatever changes the fit changes the key."""

import numpy as np

from scrutiny._fit_cache import fit_key


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
