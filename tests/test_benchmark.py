"""The benchmark's choice of augmentation donors."""

import numpy as np

from scrutiny.benchmark import donor_pool


def test_donors_are_test_inputs_not_explained_whatever_the_number_explained():
    """200 explained of 10,000 (the default): test inputs 200-999, as published. 1,000 or
    more explained (Fashion-MNIST's --n-test 2000) left no donor at all, and 999 only one."""
    X_fit, X_test = np.arange(4000) + 0.5, np.arange(10000)
    np.testing.assert_array_equal(donor_pool(X_fit, X_test, 200), np.arange(200, 1000))
    np.testing.assert_array_equal(donor_pool(X_fit, X_test, 2000), np.arange(2000, 2800))
    np.testing.assert_array_equal(donor_pool(X_fit, X_test[:1000], 999), X_fit[-1000:])
    np.testing.assert_array_equal(donor_pool(X_fit, X_test[:1000], 1000), X_fit[-1000:])
