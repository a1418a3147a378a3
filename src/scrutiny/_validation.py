"""Input checks that fail early with a message naming the problem."""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np


def _refuse_complex(a, name):
    """numpy casts complex to float with only a warning, dropping the imaginary parts."""
    if np.iscomplexobj(a):
        raise TypeError(f"{name} must be real numbers, got dtype {np.asarray(a).dtype}")


def as_float_matrix(a, name):
    """A finite 2-D float64 copy of ``a``; never modifies the caller's array."""
    if hasattr(a, "toarray") and hasattr(a, "nnz"):  # scipy's sparse: numpy fails obscurely
        raise TypeError(f"{name} is a sparse matrix: pass a dense one ({name}.toarray())")
    _refuse_complex(a, name)
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric; could not convert it to float: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty; got shape {arr.shape}")
    _check_finite(arr, name)
    return arr


def as_float_vector(a, name, n=None, lower=-np.inf, upper=np.inf):
    """A finite 1-D float64 copy of ``a`` (a column vector is accepted), of length ``n``;
    -inf is accepted when ``lower`` is finite and +inf when ``upper`` is (censored values).
    None is refused by name, in scikit-learn's words: as a float array it is NaN of shape
    (), which read as a shape error (a pipeline fitted without y passes y=None)."""
    if a is None:
        raise ValueError(f"this method requires {name} to be passed, but the target {name} is None")
    _refuse_complex(a, name)
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric; could not convert it to float: {exc}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,); got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows but the feature matrix has {n}")
    beyond = ((arr == -np.inf) & np.isfinite(lower)) | ((arr == np.inf) & np.isfinite(upper))
    _check_finite(np.where(beyond, 0.0, arr), name)
    return arr


def numpy_dtype(dtype):
    """numpy's dtype for an array's or a tensor's (torch.float32 is numpy's float32); None
    for none or one numpy has not (torch's bfloat16, which numpy knows as a type of its
    own once ml_dtypes is imported, as onnx does, though torch cannot give it one)."""
    for spelling in (dtype, str(dtype).removeprefix("torch.")):
        try:
            found = None if dtype is None else np.dtype(spelling)
        except TypeError:
            continue
        return None if found is not None and found.isbuiltin == 2 else found  # user-defined
    return None


def as_input_batch(X, name):
    """A checked float64 copy of a batch of inputs X (n, *input_shape): what keeps it (an
    explainer, an explanation) is safe from a caller who later writes into X. Bools are
    0/1, also in a DataFrame's columns (pandas.get_dummies), which ``np.asarray`` would
    turn into an object array next to float columns."""
    if column_names(X) is not None:
        from pandas.api.types import is_numeric_dtype

        complex_ = [str(c) for c, col in X.items() if getattr(col.dtype, "kind", "") == "c"]
        if complex_:  # cast to float, they lost their imaginary parts
            raise TypeError(f"{name}'s columns {complex_[:5]} hold complex numbers")

        text = [  # a categorical of numbers is numbers
            str(c)
            for c, col in X.items()
            if not is_numeric_dtype(col.dtype) and np.asarray(col).dtype.kind not in "biuf"
        ]
        if text:
            raise TypeError(f"{name}'s columns {text[:5]} are not numbers")
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    if hasattr(X, "detach") and hasattr(X, "cpu"):  # a tensor: one that requires grad or
        X = X.detach().cpu()  # lives on a GPU, which numpy cannot read as it is
        X = X.float() if numpy_dtype(X.dtype) is None else X  # bfloat16
    X = np.asarray(X)
    if X.dtype == bool or (  # an object array of numbers: df.to_numpy() of bool and floats
        X.dtype == object and all(isinstance(v, numbers.Real | np.bool_) for v in X.flat)
    ):
        X = X.astype(np.float64)
    if X.dtype.kind == "S" or (X.dtype == object and X.size and isinstance(X.flat[0], bytes)):
        raise TypeError(  # were "strings" to encode as texts: code is byte ids
            f"{name} holds bytes: give rows of byte ids, byte_ids(code) "
            "(scrutiny.datasets.binaries; byte b is b + 1, 0 no byte), or decode texts to "
            "str and encode them with scrutiny.TextEncoder"
        )
    if X.dtype.kind == "U" or (X.dtype == object and X.size and isinstance(X.flat[0], str)):
        raise TypeError(
            f"{name} holds strings: encode texts as rows of word ids with "
            "scrutiny.TextEncoder, and explain them with representation='tokens'"
        )
    if X.dtype == object or not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise TypeError(f"{name} must be real numbers, got dtype {X.dtype}")
    if X.ndim == 1 and X.size:  # one table row, as LIME's explain_instance takes it: "must
        # be a non-empty batch" of a row that was not empty
        raise ValueError(
            f"{name} has shape {X.shape}, no batch (n, *input_shape): one input? pass "
            f"{name}[None]; inputs of one element each? {name}[:, None]"
        )
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch (n, *input_shape), got {X.shape}")
    bad = ~np.isfinite(X)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} holds {int(bad.sum())} NaN or inf values, the first at {where}")
    # in C order: a DataFrame's to_numpy() is Fortran-ordered, and the column means of the
    # two layouts (a baseline) differed in their last bits
    return np.array(X, dtype=np.float64, order="C")


def class_targets(target, log_p, regression=False, classes=None):
    """(n,) int64 classes to explain for the n rows of ``log_p`` (n, C): the predicted ones
    for None, else one class for all or one per row, each in 0..C-1. A regression's rows
    are its values, and its target an output column: None = the first."""
    n, C = log_p.shape
    if target is None:
        return np.zeros(n, dtype=np.int64) if regression else log_p.argmax(axis=1)
    t = np.asarray(target)
    kind = "output" if regression else "class"
    numeric = np.issubdtype(t.dtype, np.integer) or np.issubdtype(t.dtype, np.floating)
    if t.dtype == bool or not numeric or (t != np.round(t)).any():
        raise TypeError(
            f"target must be {kind} numbers (integers), got {target!r:.60}{columns_hint(classes)}"
        )
    if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != n):
        raise ValueError(
            f"target has shape {t.shape}; expected one {kind}, or one per input ({n},)"
        )
    if t.ndim == 1:  # one per input, as clf.predict(X) gives them (one class alone is no sign)
        _warn_labels(t.astype(np.int64), log_p, classes)
    t = np.broadcast_to(t, (n,)).astype(np.int64)
    if ((t < 0) | (t >= C)).any():
        kinds = "outputs" if regression else "classes"
        raise ValueError(
            f"target {kinds} must be in 0..{C - 1}, got {np.unique(t).tolist()}"
            f"{columns_hint(classes)}"
        )
    return t


def _warn_labels(t, log_p, classes):
    """A target of one class per input that is the model's predicted labels (clf.predict(X)),
    not their columns: with classes_ [1, 2, 3], labels 1 and 2 were read as columns 1 and 2
    (labels 2 and 3), silently."""
    if classes is None or len(t) < 2:
        return
    labels = np.asarray(classes)
    if labels.dtype.kind not in "iuf" or np.array_equal(labels, np.arange(len(labels))):
        return
    predicted = log_p.argmax(axis=1)
    if np.array_equal(t, labels[predicted]) and not np.array_equal(t, predicted):
        warnings.warn(
            "target is the model's predicted labels, not their output columns"
            + columns_hint(classes),
            UserWarning,
            stacklevel=4,
        )


def columns_hint(classes):
    """Where a scikit-learn classifier names its classes, that a target is a column of
    them, not a label: with classes_ [3, 7], 'class 7 does not exist' read as a bug."""
    if classes is None:
        return ""
    shown = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in list(classes)[:10])
    return (
        f" (a class is the number of its output column; the model's labels, classes_, are "
        f"[{shown}{', ...' if len(classes) > 10 else ''}]: label b is column "
        "list(model.classes_).index(b))"
    )


def _check_finite(arr, name):
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i[0]) for i in np.nonzero(bad))
        kind = "NaN" if np.isnan(arr[where]) else "an infinite value"
        count = int(bad.sum())
        raise ValueError(
            f"{name} contains {kind} at index {where if len(where) > 1 else where[0]}"
            f" ({count} non-finite value{'s' if count > 1 else ''} in all)"
        )


def background_row(baseline):
    """A one-row DataFrame baseline as its row (a Series, matched by name, as the
    explainers match a baseline's columns); anything else as it is."""
    if column_names(baseline) is None:
        return baseline
    if len(baseline) != 1:
        refuse_background(len(baseline))
    return baseline.iloc[0]


def refuse_background(n):
    """shap's idiom, a background set of n rows, named: a feature is switched off to one
    value."""
    raise ValueError(
        f"baseline has {n} rows: a feature is switched off to one value, not to a background "
        "set's; pass one row, or their mean (an array's background.mean(axis=0), a "
        "DataFrame's background.mean()) or median"
    )


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel():
    """The ``stacklevel`` with which the function calling this one (to warn) names the
    first caller outside scrutiny: a fixed level named a line of the library when the user
    came through another of its functions, and the warning showed once for all of them."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text):
    """A user's name (a column, a level, a class label) as a report writes it: control
    characters as Python escapes. A line break in a column name split a report's line of
    a row's top columns in two, and a tab was a box in its pictures."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def column_names(X):
    """The column names of a 2-D DataFrame, as strings; None for anything else."""
    if getattr(X, "ndim", None) == 2 and hasattr(X, "columns") and hasattr(X, "iloc"):
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"column names must be distinct, got {names[:10]}")
        return names
    return None


def whole_number(value, name, least, most=None):
    """``value`` as an int (numpy's too), refused unless a whole number of at least
    ``least`` (and at most ``most``): 2.7 was cut to 2, "0" and True read as numbers."""
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if not whole or value < least or (most is not None and value > most):
        bounds = f"at least {least}" + ("" if most is None else f", at most {most}")
        raise ValueError(f"{name} must be a whole number, {bounds}, got {value!r}")
    return int(value)


TORCH_SEEDS = 2**64 - 1  # the largest seed torch.manual_seed takes


def labels_to_json(labels):
    """A DataFrame's column labels as JSON keeps them, where they are not all text (0, a
    MultiIndex's tuples, as lists); None where their names say them, or where JSON holds
    no such label (dates, periods: the model then gets the names, as before)."""
    if labels is None or all(isinstance(c, str) for c in labels):
        return None
    out = [_plain_label(c) for c in labels]
    try:
        json.dumps(out)
    except TypeError:
        return None
    return out


def _plain_label(c):
    if isinstance(c, tuple):
        return [_plain_label(part) for part in c]
    return c.item() if isinstance(c, np.generic) else c


def labels_from_json(labels):
    """``labels_to_json``'s labels back: lists as tuples."""
    return None if labels is None else [tuple(c) if isinstance(c, list) else c for c in labels]


def series_as_row(X):
    """A pandas Series (``df.iloc[i]``, as LIME's and shap's users pass one row) as a
    one-row DataFrame of its values' own kinds; anything else as it is."""
    if getattr(X, "ndim", None) == 1 and hasattr(X, "index") and hasattr(X, "to_frame"):
        return X.to_frame().T.infer_objects()
    return X


def numbers_inferred(X):
    """A DataFrame with its object columns that hold only numbers as numbers (df.T.T and
    pd.concat of rows give such columns): read as names, each value became a level of its
    own, and rows with a new value were refused. Anything else as it is."""
    if column_names(X) is None or not any(col.dtype == object for _, col in X.items()):
        return X
    return X.infer_objects()


def missing_cells(X, name="X"):
    """Refuse a DataFrame's missing (NaN, None, pd.NA) or infinite values by its own column
    name and row label: found after its columns were put in the fit data's order, the first
    was named by position there ("(1, 3)" for column 'd', the first, of row 'u2')."""
    if column_names(X) is None:
        return
    bad = X.isna().to_numpy(copy=True)
    numeric = X.select_dtypes("number", exclude="complex")  # complex: refused later
    if numeric.shape[1]:
        where = [X.columns.get_loc(c) for c in numeric.columns]
        bad[:, where] |= np.isinf(numeric.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} holds {int(bad.sum())} missing or infinite values, the first in column "
            f"{X.columns[col]!r} of row {X.index[row]!r}: impute them as the model's "
            "pipeline would (a column of names: a level of their own), first"
        )


def same_columns(X, names):
    """``names`` where they are a DataFrame X's columns in some order, else None: names a
    caller knows only as shown (the model's, for rows explained as arrays), by which X's
    columns go in their order, and X of other columns is taken by position as before."""
    given = column_names(X)
    return names if names and given and sorted(given) == sorted(names) else None


def in_column_order(X, names, name="X"):
    """X with a DataFrame's columns put in the order of ``names`` (X_fit's), matched by
    name: taken by position, reordered columns would meet other columns' coefficients,
    baseline values and model inputs. Anything but a DataFrame, or no names, as it is."""
    given = column_names(X)
    if given is None or names is None or given == list(names):
        return X
    if sorted(given) != sorted(names):
        missing = sorted(set(names) - set(given))
        extra = sorted(set(given) - set(names))
        raise ValueError(
            f"{name}'s columns are not the fit data's: missing {missing[:5]}, unknown {extra[:5]}"
        )
    position = {column: j for j, column in enumerate(given)}
    return X.iloc[:, [position[column] for column in names]]


def quota_cores(root="/sys/fs/cgroup"):
    """The cores a container's CPU quota grants (Docker's --cpus, Kubernetes' limits), or
    None without one: such a container sees every core of its host, and one process per
    core of a 64-core host on a quota of 2 would take turns on 2 cores' time."""
    root = Path(root)
    try:  # cgroup v2: "max 100000" or "<quota> <period>"
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:  # cgroup v1: a quota of -1 is none
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    try:
        quota, period = int(quota), int(period)
    except ValueError:  # "max"
        return None
    return max(1, math.ceil(quota / period)) if quota > 0 and period > 0 else None


def job_count(n_jobs):
    """Processes or threads to use for ``n_jobs``: None = one per core, -1 = all cores and
    -2 all but one (scikit-learn's and joblib's convention); 0, fractions and bools are
    refused, so that no setting silently runs everything in one process."""
    # the cores this process may run on (taskset, cgroups, SLURM), not the machine's
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = min(cores or 1, quota_cores() or 1 << 30)
    if n_jobs is None:
        return cores
    whole = isinstance(n_jobs, int | np.integer) and not isinstance(n_jobs, bool | np.bool_)
    if not whole or n_jobs == 0:
        raise ValueError(
            f"n_jobs must be a whole number other than 0 (or None: one per core), got {n_jobs!r}"
        )
    return int(n_jobs) if n_jobs > 0 else max(1, cores + 1 + int(n_jobs))


def require(packages, purpose):
    """Refuse at once work that needs packages not installed ({module: scrutiny's extra
    that installs it}), naming them and the extras: the benchmark found lime missing only
    after its DMM-MEN rows had run for minutes, and wrote nothing."""
    from importlib.util import find_spec

    missing = {m: extra for m, extra in packages.items() if find_spec(m) is None}
    if missing:
        extras = ",".join(dict.fromkeys(missing.values()))
        raise ImportError(
            f"{purpose} needs {', '.join(missing)}, not installed here: "
            f"pip install 'scrutiny[{extras}]'"
        )
