"""``Explanation``: what every explainer in scrutiny returns, and what fidelity tests consume.

Saved as a ``.npz`` of plain arrays beside a ``.json`` of metadata holding each array's
SHA-256, never as a pickle: loading runs no code, and a corrupted or edited file is refused.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from dataclasses import dataclass, field, fields

import numpy as np

from scrutiny._files import (
    array_digest,
    json_digest,
    paired,
    plain,
    read_pair,
    to_json,
    write_pair,
)
from scrutiny.categories import exact_text

FORMAT = "scrutiny.explanation/3"
_FORMAT_1 = "scrutiny.explanation/1"  # before the metadata had a checksum: still read
_FORMAT_2 = "scrutiny.explanation/2"  # before surrogate_output: read, derived as before
_ARRAYS = (
    "inputs",
    "values",
    "coefficients",
    "lower",
    "upper",
    "target",
    "component",
    "component_probability",
    "model_logit",
    "surrogate_logit",
    "surrogate_output",
)
_INT_ARRAYS = ("target", "component")
# meta that ``concatenate`` adds up, takes the largest of (an explainer's totals so far), and
# works out again for all the inputs
_COSTS = {"seconds", "model_queries", "model_calls"}
_FIT_COSTS = {"fit_seconds", "fit_queries"}
_PER_EXPLANATION = {
    "seconds_per_explanation": "seconds",
    "queries_per_explanation": "model_queries",
}


@dataclass(eq=False)
class Explanation:
    """Explanations of m inputs of one shape.

    values : (m, *shape)
        Contribution of every input element to the logit of the explained class (to its
        probability for LIME and KernelSHAP: ``meta["scale"]``), or to a regression
        model's output (``meta["outputs"] == "values"``), relative to the baseline:
        ``coefficients * (inputs - baseline)``. Positive supports the class (raises the
        output); ``top(k)`` ranks by it.
    coefficients : (m, *shape)
        The surrogate's coefficient of every element (per unit of the input).
    lower, upper : (m, *shape)
        Equal-tailed 95% posterior credible interval of ``values`` (NaN where none exists).
    target : (m,) int
        The class explained (a regression model's output column).
    component : (m,) int
        The surrogate component (regime) of each input; -1 where there is none.
    component_probability : (m,)
        Posterior probability of that component given the input and the model's output.
    model_logit, surrogate_logit : (m,)
        log p / (1 - p) of the target class (a regression model's output), by the model
        and by the surrogate.
    surrogate_output : (m,)
        The surrogate's output at the input on the values' scale, the one they add up to:
        a logit, or LIME's and KernelSHAP's probability as they predict it (LIME's linear
        fit says 1.09 where the model is sure; its logit would be cut to p = 1). Default:
        surrogate_logit on that scale.
    baseline : (*shape,)
        The value meaning "absent".
    method : str
        Which explainer made it.
    meta : dict
        JSON-serialisable settings and costs (seconds, model queries, ...).
    """

    inputs: np.ndarray
    values: np.ndarray
    coefficients: np.ndarray
    target: np.ndarray
    baseline: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    component: np.ndarray | None = None
    component_probability: np.ndarray | None = None
    model_logit: np.ndarray | None = None
    surrogate_logit: np.ndarray | None = None
    surrogate_output: np.ndarray | None = None
    method: str = "dmm-men"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.values = np.asarray(self.values, dtype=np.float64)
        if not np.isfinite(self.values).all():  # top(k) would rank a NaN last, unsaid
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(self.values))[0])
            raise ValueError(
                f"values hold {self.values[where]} at {where}: every value is a number"
            )
        m, shape = self.values.shape[0], self.values.shape[1:]
        self.inputs = np.asarray(self.inputs, dtype=np.float64)
        self.coefficients = np.asarray(self.coefficients, dtype=np.float64)
        self.baseline = np.broadcast_to(np.asarray(self.baseline, dtype=np.float64), shape).copy()
        for name in ("inputs", "baseline"):  # the fidelity tests would ask the model of NaN
            if not np.isfinite(getattr(self, name)).all():
                raise ValueError(f"{name} hold NaN or inf: the explained inputs are numbers")
        for name in ("lower", "upper"):
            v = getattr(self, name)
            v = np.full(self.values.shape, np.nan) if v is None else v
            setattr(self, name, np.asarray(v, dtype=np.float64))
        for name in ("inputs", "coefficients", "lower", "upper"):
            if getattr(self, name).shape != self.values.shape:
                raise ValueError(
                    f"{name} has shape {getattr(self, name).shape}, values {self.values.shape}"
                )
        defaults = {"component": -1, "component_probability": np.nan}
        surrogate_output_missing = self.surrogate_output is None
        for name in ("target", *_ARRAYS[6:]):
            v = getattr(self, name)
            dtype = np.int64 if name in _INT_ARRAYS else np.float64
            v = np.full(m, defaults.get(name, np.nan)) if v is None else np.asarray(v)
            if v.shape != (m,):
                raise ValueError(f"{name} has shape {v.shape}, expected ({m},)")
            with np.errstate(invalid="ignore"):
                cast = v.astype(dtype)
            if dtype is np.int64 and not np.array_equal(cast, v):  # a class is not cut to one
                raise ValueError(f"{name} must hold whole numbers, got {v[cast != v][:3]}")
            setattr(self, name, cast)
        if surrogate_output_missing:
            out = self.surrogate_logit
            if self.meta.get("scale") == "probability":
                out = 0.5 * (1.0 + np.tanh(0.5 * out))  # the logistic, without overflow
            self.surrogate_output = out.copy()

    @classmethod
    def concatenate(cls, explanations):
        """One Explanation of the inputs of several, in their order (made in batches, as
        shap's users stack theirs): of one method, input shape, baseline and settings
        (``meta`` alike but for costs), refused otherwise; their costs added up."""
        parts = list(explanations)
        if not parts or not all(isinstance(e, Explanation) for e in parts):
            raise TypeError("concatenate takes a non-empty list of Explanations")
        first = parts[0]
        for e in parts[1:]:
            if e.method != first.method or e.shape != first.shape:
                raise ValueError(
                    f"explanations of other methods or shapes: {first.method} {first.shape} "
                    f"and {e.method} {e.shape}"
                )
            if not np.array_equal(e.baseline, first.baseline):
                raise ValueError("explanations against other baselines cannot be one")
            keys = (set(e.meta) | set(first.meta)) - _COSTS - _FIT_COSTS - set(_PER_EXPLANATION)
            other = sorted(k for k in keys if e.meta.get(k) != first.meta.get(k))
            if other:
                where, a, b = _first_difference(first.meta, e.meta, other[0])
                raise ValueError(f"explanations of other settings: {where} is {a!r} and {b!r}")
        kw = {f.name: getattr(first, f.name) for f in fields(first)}
        for name in _ARRAYS:
            kw[name] = np.concatenate([getattr(e, name) for e in parts])
        kw["baseline"] = np.array(first.baseline)
        meta = copy.deepcopy(first.meta)
        for key in set(meta) & (_COSTS | _FIT_COSTS | set(_PER_EXPLANATION)):
            if not all(key in e.meta for e in parts):  # a cost some did not record: none
                del meta[key]
        for key in _COSTS & set(meta):
            meta[key] = sum(e.meta[key] for e in parts)
        for key in _FIT_COSTS & set(meta):  # an explainer's totals so far
            meta[key] = max(e.meta[key] for e in parts)
        m = sum(len(e) for e in parts)
        for key, total in _PER_EXPLANATION.items():
            if key in meta and total in meta and m:
                meta[key] = meta[total] / m
        kw["meta"] = meta
        return cls(**kw)

    # -- reading --------------------------------------------------------------------------

    def __len__(self):
        return self.values.shape[0]

    @property
    def shape(self):
        """Shape of one input."""
        return self.values.shape[1:]

    def __repr__(self):
        return (
            f"Explanation(method={self.method!r}, n={len(self)}, input_shape={self.shape}, "
            f"targets={np.unique(self.target).tolist()})"
        )

    def __getitem__(self, index):
        """Explanations of a subset of the inputs (an int keeps the leading axis), charged
        their share of the batch's costs: with the whole batch's, the parts of a split
        joined again (``concatenate``) counted it once per part."""
        if isinstance(index, bool | np.bool_):  # True is 1 to Python, a mask to numpy
            raise TypeError("index the inputs with an int, a slice, a list or a mask, not a bool")
        if isinstance(index, tuple):  # numpy's "too many indices", or elements of inputs
            raise TypeError(
                "index the inputs with an int, a slice, a list or a mask, not a tuple: an "
                "explanation's elements are read from its arrays (exp.values[i, j])"
            )
        if index is None:  # it added an axis: "target has shape (1, 5)"
            raise TypeError("index the inputs with an int, a slice, a list or a mask")
        if isinstance(index, np.ndarray) and index.ndim == 0:
            index = index.item()
        if isinstance(index, int | np.integer):
            index = [int(index)]
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _ARRAYS:
            kw[name] = np.array(kw[name][index])  # a copy, whatever the index
        kw["baseline"] = np.array(self.baseline)
        meta = copy.deepcopy(self.meta)
        if len(kw["values"]) != len(self):
            for key in _COSTS & set(meta):
                meta[key] = meta[key] * len(kw["values"]) / len(self)
        kw["meta"] = meta
        return Explanation(**kw)

    def __array__(self, dtype=None, copy=None):
        """Refused by name: numpy read an explanation as a sequence of explanations, and
        failed past 64 dimensions (np.asarray(exp), np.zeros(4) == exp); held as it is in
        an array of objects (np.array([a, b], dtype=object))."""
        if dtype is not None and np.dtype(dtype) == object:
            held = np.empty((), dtype=object)
            held[()] = self
            return held
        raise TypeError(
            "an Explanation is not an array: take its exp.values (contributions), "
            "exp.coefficients or exp.inputs"
        )

    def top(self, k, by="value"):
        """(m, k) flat indices of the k elements with the largest contributions (``by=
        "value"``: those for the class, which the fidelity tests take) or the largest
        |contributions| (``by="magnitude"``: for or against it, as the report's bars show),
        most important first; ties broken by index, so the order is reproducible. Elements
        of no feature (``feature_elements``) come last."""
        size = int(np.prod(self.shape))
        whole = isinstance(k, numbers.Real) and float(k).is_integer()  # None, NaN: int() raised
        if isinstance(k, bool | np.bool_) or not whole:  # 2.7 was 2, True was 1
            raise ValueError(f"k must be a whole number of elements, got {k!r}")
        k = int(k)
        if not 1 <= k <= size:
            raise ValueError(f"k must be between 1 and {size}, got {k}")
        if by not in ("value", "magnitude"):
            raise ValueError(f"by must be 'value' or 'magnitude', got {by!r}")
        flat = self._rows(self.values)
        return ranked(flat if by == "value" else np.abs(flat), self.feature_elements, k)

    def _rows(self, a):
        """``a`` (n, *shape) as rows of elements, of no input too (a selection of none)."""
        return a.reshape(len(self), int(np.prod(self.shape)))

    @property
    def feature_elements(self):
        """(size,) bool: the flat elements that belong to a feature of the representation,
        all of them but the context outside a token window (``meta["representation"]
        ["window"]``), which explanations give no value and fidelity tests leave alone."""
        size = int(np.prod(self.shape))
        window = (self.meta.get("representation") or {}).get("window")
        inside = np.full(size, window is None)
        if window is not None:
            inside[window[0] : window[1]] = True
        return inside

    @property
    def feature_names(self):
        """Names of the flat elements (the columns of a DataFrame explained), or None.
        Rows given as arrays have none, and may be given some to show (``exp.feature_names
        = data.feature_names``, as LIME and shap take them; None takes them away), for
        plots, ``to_frame`` and ``to_shap``; a DataFrame's (``column_names``) are kept: a
        copy is returned (the list itself, edited in place, renamed the columns the model
        is given)."""
        names = self.column_names or self.meta.get("display_names")
        return None if names is None else list(names)

    @property
    def column_names(self):
        """The columns of the DataFrame explained, by which the fidelity tests give a model
        fitted on one its columns; None for rows given as arrays."""
        return self.meta.get("feature_names")

    @feature_names.setter
    def feature_names(self, names):
        if self.column_names is not None:
            raise ValueError(
                "these explanations keep their DataFrame's column names, by which the model "
                "is given its columns"
            )
        if names is None:  # as it reads without names: it raised "not iterable"
            self.meta.pop("display_names", None)
            return
        if isinstance(names, str | bytes):  # "abc" named 3 elements a, b and c
            raise TypeError(f"feature_names must be a list of names, got the text {names!r}")
        names = [str(n) for n in names]
        size = int(np.prod(self.shape))
        if len(names) != size or len(set(names)) != size:
            raise ValueError(
                f"feature_names must be {size} different names, one per element, got "
                f"{len(names)} ({len(set(names))} different)"
            )
        self.meta["display_names"] = names  # shown only: the model is given arrays

    def level(self, i, j):
        """The level input ``i`` holds in categorical column ``j``, as text (a name, or a
        number that names a thing, written out in full), or None where column ``j`` holds
        quantities (``meta["categories"]``: the columns of names and their levels,
        ``scrutiny.categories``; ``meta["representation"]["categorical"]``: every
        categorical column)."""
        x = self._rows(self.inputs)[i, j]
        levels = (self.meta.get("categories") or {}).get("levels", {})
        names = self.feature_names
        if names is not None and names[j] in levels:
            return str(levels[names[j]][int(x)])
        if j in self.categorical_columns:
            return exact_text(x)
        return None

    @property
    def categorical_columns(self):
        """Column numbers that hold names: those the representation switches as levels, and
        a DataFrame's columns of names (``meta["categories"]``), which an explanation made
        without the explainer's representation knows only from the model."""
        named = set((self.meta.get("representation") or {}).get("categorical") or [])
        levels = (self.meta.get("categories") or {}).get("levels", {})
        names = self.feature_names or []
        return sorted(named | {j for j, n in enumerate(names) if n in levels})

    def to_frame(self, k=None, by="value"):
        """A long pandas DataFrame: one row per (sample, element) in element order, or per
        top-k element in rank order (every element, where k is more; of a token window,
        the window's, not its context's); ``rank`` is the
        element's place in ``top(k, by)`` either way (``by="magnitude"`` ranks evidence
        against the class too). ``input`` is the element's value (a categorical column's
        code), ``level`` a categorical column's level by name."""
        import pandas as pd

        m = len(self)
        flat = {n: self._rows(getattr(self, n)) for n in ("values", "coefficients")}
        lo, hi, x = (self._rows(getattr(self, n)) for n in ("lower", "upper", "inputs"))
        own = np.flatnonzero(self.feature_elements)  # a token window's context is none
        order = self.top(own.size if k is None else min(k, own.size), by)
        rank = np.tile(np.arange(order.shape[1]), (m, 1))
        if k is None:  # every element, in element order: each one's place in the ranking
            idx = np.tile(own, (m, 1))
            places = np.zeros((m, flat["values"].shape[1]), dtype=rank.dtype)
            np.put_along_axis(places, order, rank, axis=1)
            rank = places[:, own]
        else:
            idx = order
        rows = np.repeat(np.arange(m), idx.shape[1])
        cols = idx.reshape(-1)
        names = {} if self.feature_names is None else {"name": np.array(self.feature_names)[cols]}
        named = set(self.categorical_columns)  # once: level() per cell of quantities was slow
        return pd.DataFrame(
            {
                "sample": rows,
                "feature": cols,
                **names,
                "rank": rank.reshape(-1),
                "target": self.target[rows],
                "value": flat["values"][rows, cols],
                "lower": lo[rows, cols],
                "upper": hi[rows, cols],
                "coefficient": flat["coefficients"][rows, cols],
                "input": x[rows, cols],
                **(
                    {
                        "level": [
                            self.level(i, j) if j in named else None
                            for i, j in zip(rows, cols, strict=True)
                        ]
                    }
                    if named
                    else {}
                ),
            }
        )

    def to_shap(self):
        """These explanations as a ``shap.Explanation``, for shap's own plots (waterfall,
        bar, beeswarm, ...): the values as they are, ``base_values`` the surrogate's output
        less them (its output at the baseline, where the surrogate is additive, on the
        values' scale: logit, probability or value), the inputs as ``data`` (a column of
        names shown by its level, as ``display_data``), the 95% intervals as bounds, the
        feature names (a row's elements unnamed are ``Feature j``, as shap's explainers name
        them: its plots that pick a feature by name need them). shap
        takes every row as explaining one output: rows explained for several classes (each
        input's predicted class, the default) are warned of; take one class's rows,
        ``exp[exp.target == c].to_shap()``, or explain them all for c."""
        import shap

        classes = np.unique(self.target)
        if classes.size > 1:  # shap's beeswarm turned a feature's direction round
            what = "outputs" if self.meta.get("outputs") == "values" else "classes"
            warnings.warn(
                f"these inputs are explained for {what} {classes.tolist()[:10]}: shap's plots "
                "would mix them as one output; pass exp[exp.target == c].to_shap(), or "
                "explain(X, target=c)",
                UserWarning,
                stacklevel=2,
            )
        m = len(self)
        out = self.surrogate_output
        if np.isnan(out).any():
            raise ValueError(
                f"{self.method} explanations have no surrogate output, which shap's base "
                "value is taken from"
            )
        named = self.categorical_columns
        display = None
        if named:
            display = self._rows(self.inputs).astype(object)
            for i in range(m):
                for j in named:
                    display[i, j] = self.level(i, j)
        bounded = not np.isnan(self.lower).all()
        names = self.feature_names
        if names is None and len(self.shape) == 1:  # shap's heatmap, scatter, cohorts raised
            names = [f"Feature {j}" for j in range(self.shape[0])]
        return shap.Explanation(
            values=self.values.copy(),
            base_values=out - self._rows(self.values).sum(axis=1),
            data=self.inputs.copy(),
            display_data=display,
            feature_names=names,
            lower_bounds=self.lower.copy() if bounded else None,
            upper_bounds=self.upper.copy() if bounded else None,
        )

    def to_dict(self, k=20, by="value"):
        """A JSON-ready summary: per sample, the target, component and top-k elements
        (ranked as ``top(k, by)`` ranks them; every element of a feature where k is None
        or more: a token window's context is none)."""
        size = int(self.feature_elements.sum())
        top = self.top(size if k is None else min(k, size), by)
        flat, names = self._rows(self.values), self.feature_names
        return {
            "method": self.method,
            "input_shape": list(self.shape),
            "meta": plain(self.meta),  # a copy, numpy numbers as Python ones
            "samples": [
                {
                    "target": int(self.target[i]),
                    "component": int(self.component[i]),
                    "component_probability": _num(self.component_probability[i]),
                    "model_logit": _num(self.model_logit[i]),
                    "surrogate_logit": _num(self.surrogate_logit[i]),
                    "top_features": top[i].tolist(),
                    **({} if names is None else {"top_names": [names[j] for j in top[i]]}),
                    "top_values": flat[i, top[i]].tolist(),
                }
                for i in range(len(self))
            ],
        }

    # -- saving -----------------------------------------------------------------------------

    def save(self, path):
        """Write ``path.npz`` (arrays) and ``path.json`` (metadata and checksums of both);
        the JSON is made first, so metadata that cannot be written leaves no file, and a
        save that fails leaves an explanation saved there before whole."""
        arrays = {name: getattr(self, name) for name in (*_ARRAYS, "baseline")}
        described = {"method": self.method, "meta": plain(self.meta)}
        text = to_json(
            {
                "format": FORMAT,
                **described,
                "sha256": {name: array_digest(a) for name, a in arrays.items()},
                "meta_sha256": json_digest(described),
            },
            indent=2,
        )
        return write_pair(path, arrays, text, fmt=FORMAT)[0]  # not over a user's files

    @classmethod
    def load(cls, path):
        """Read an explanation written by ``save``; refuse a file whose arrays or metadata
        do not match their recorded checksums (files of format /1 checked only arrays)."""
        meta, arrays = read_pair(path, (_FORMAT_1, _FORMAT_2, FORMAT), "a scrutiny explanation")
        expected = set(_ARRAYS) | {"baseline"}
        if meta["format"] != FORMAT:
            expected.discard("surrogate_output")
        if set(arrays) != expected:
            raise ValueError(f"{paired(path)[0]} does not hold the arrays of an explanation")
        described = {"method": meta.get("method"), "meta": meta.get("meta")}
        if meta["format"] != _FORMAT_1 and meta.get("meta_sha256") != json_digest(described):
            raise ValueError(
                f"{paired(path)[1]} was modified or corrupted: its metadata do not match "
                "their recorded checksum"
            )
        return cls(**arrays, method=str(meta.get("method")), meta=meta.get("meta") or {})


def ranked(score, features, k=None):
    """(m, k) flat indices per row by ``score``, highest first, ties by index (all n with
    k None); elements of no feature (``~features``: a token window's context) last,
    whatever their score: removing them is no test."""
    n = score.shape[1]
    if k is not None and k < n // 8 and features.all() and np.isfinite(score).all():
        return _first_k(score, k)
    order = np.argsort(-score, axis=1, kind="stable")
    if not features.all():
        order = np.take_along_axis(order, np.argsort(~features[order], axis=1, kind="stable"), 1)
    return order if k is None else order[:, :k]


def _first_k(score, k):
    """``ranked``'s first k of finite scores without sorting all n: those above each row's
    k-th largest, then its ties by index, sorted (the fidelity tests' 80 of a colour
    image's 150,528 elements: a full sort of each row was most of their time)."""
    m = len(score)
    kth = -np.partition(-score, k - 1, axis=1)[:, k - 1 : k]  # each row's k-th largest
    above = score > kth
    tied = score == kth
    room = k - above.sum(axis=1, keepdims=True)  # tied elements that make the k, by index
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= room))
    cols = np.nonzero(chosen)[1].reshape(m, k)  # by index within each row
    order = np.argsort(-np.take_along_axis(score, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1)


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else None


def _first_difference(a, b, key, where="meta"):
    """(where, a's value, b's) of the first setting under ``key`` that two metas differ in,
    within nested dicts: meta['settings']['logit_limit'], not both whole dicts."""
    where, a, b = f"{where}[{key!r}]", a.get(key), b.get(key)
    if isinstance(a, dict) and isinstance(b, dict):
        inner = sorted((set(a) | set(b)), key=str)
        return _first_difference(a, b, next(k for k in inner if a.get(k) != b.get(k)), where)
    return where, a, b
