"""Adapters from user models to one batched, validated function X -> class log-probabilities
(or, for a regression model, its values).

Every model scrutiny supports (a Python callable, a ``torch.nn.Module``, a scikit-learn
estimator, an ONNX or TorchScript file) becomes a ``ModelAdapter``: it calls the model in
batches of ``batch_size``, checks every output (finite; probabilities in [0, 1] whose rows
sum to 1), and counts its calls and queried rows so that costs can be reported.

It returns log-probabilities because the surrogate regresses the logit of a class: from
logits, ``log_softmax`` keeps the logit of a confident class exact where ``log(p)`` of a
rounded probability would be -inf. A regression model (``outputs="values"``) gives its
values as they are, one column per output.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import threading
import warnings
import weakref
from pathlib import Path

import numpy as np

from scrutiny._validation import numpy_dtype, one_line, user_stacklevel

OUTPUTS = ("probabilities", "logits", "values")
_SUM_TOLERANCE = 1e-3  # rows of float32 probabilities sum to 1 within a few 1e-7; allow slack
_SIGMOID_ROWS = 20  # one column in [0, 1] for this many inputs: a sigmoid's, not logits


class ModelError(RuntimeError):
    """The model raised, or returned something that is not what it was declared to return."""


class ModelAdapter:
    """A model as a batched function ``log_proba(X) -> (n, C)`` log-probabilities, or for a
    regression model ``responses(X) -> (n, m)`` values.

    Parameters
    ----------
    model : callable, torch.nn.Module, scikit-learn estimator, or path to a .onnx,
        TorchScript or torch.export (.pt2) file. A callable returns (n, C) probabilities
        (or logits, with ``outputs="logits"``), or (n,) probabilities of the positive class
        of a binary model; a regression model (``outputs="values"``) (n,) or (n, m) values.
    outputs : "probabilities", "logits" or "values"
        What the model returns. Scikit-learn classifiers are always asked for
        ``predict_proba`` ("logits" is warned of and ignored: pass ``clf.decision_function``
        for its scores); with "values", a scikit-learn regressor for ``predict``.
    batch_size : int
        Rows per model call.
    """

    def __init__(self, model, outputs="probabilities", batch_size=256):
        if outputs not in OUTPUTS:
            raise ValueError(
                f"outputs must be 'probabilities', 'logits' or 'values', got {outputs!r}"
            )
        whole = isinstance(batch_size, int | np.integer) and not isinstance(batch_size, bool)
        if not whole or batch_size < 1:  # 2.5 is refused, not cut to 2
            raise ValueError(f"batch_size must be a whole number, at least 1, got {batch_size!r}")
        self.outputs = outputs
        self.batch_size = int(batch_size)
        self.kind, self._call = _wrap(model, outputs)
        self.classes_ = None  # a scikit-learn classifier's labels, one per output column
        self._fitted_names = None  # the columns a scikit-learn model was fitted on, by name
        self.input_names = None  # the names of the columns of the rows it is given, if known
        self.input_labels = None  # those names as the DataFrame had them (0, ("num", "x"))
        self.categories = None  # columns of names given as codes (scrutiny.categories)
        self.token_ids = False  # rows of token ids (tokens): a model of texts wants them wrapped
        # a plain function gets batches in the float dtype of the user's data (float32: a
        # torch module inside it refuses float64); None: float64
        self.input_dtype = None
        # a DataFrame's columns of whole numbers, {name: dtype}: a model fitted on one gets
        # them back as such (a zip code read as text is "10001", not "10001.0")
        self.column_dtypes = None
        # those of them whose baseline is whole (an explainer's, by name): whole in every
        # row it makes, they go as whole numbers beside rows where another is not
        self.whole_columns = None
        self._dtype_taken = False  # from the first data given (float64 too), for good
        self._probability_rows = 0  # rows of outputs='logits' that all looked like probabilities
        self._normalised = True  # and, with several columns, each summed to 1
        self._warned_unit_logits = False  # logits all in [0, 1] so far, said once
        if self.kind == "sklearn" and outputs == "values" and _is_classifier(model):
            # its predict gives labels, explained as numbers (LinearSVC, RidgeClassifier)
            how = (
                "explain its classes with outputs='probabilities'"
                if hasattr(model, "predict_proba")
                else f"pass {_probabilities_of(model)}"
            )
            raise ValueError(
                f"a {type(model).__name__} is a classifier: {how}; outputs='values' is for "
                "regressors"
            )
        if self.kind == "sklearn" and outputs == "logits":
            # said, not silently dropped: an SVC's Platt-scaled probabilities can order two
            # inputs otherwise than its decision function, which the user asked for
            warnings.warn(
                f"outputs='logits' does not apply to a {type(model).__name__}: it is asked "
                "for predict_proba, as probabilities; pass its decision_function with "
                "outputs='logits' to explain its scores",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        if self.kind == "sklearn" and outputs != "values":
            self.outputs = "probabilities"
        # an estimator, or its bound method (pipe.predict_proba, as LIME's and shap's users
        # pass one): it gets its columns by name whatever their kinds, and names its classes
        # (TextEncoder.wrap's function of word ids is checked as the model of texts it calls)
        inner = getattr(model, "text_model", model)
        fitted = inner.__self__ if inspect.ismethod(inner) else inner
        if inspect.ismethod(inner):
            _check_bound_method(inner, fitted, outputs)
        if self.kind == "sklearn" or fitted is not model:
            if outputs != "values":
                self.classes_ = getattr(fitted, "classes_", None)
            names = fitted_feature_names(fitted)
            self._fitted_names = None if names is None else [str(n) for n in names]
        self.n_calls = 0
        # [rows, calls] queried by each thread: the costs of one call of several made at
        # once from threads (an explainer serving requests) counted the others' queries too
        self._by_thread = {}
        self.output_eps = 0.0  # the relative precision of the model's outputs, as seen
        self.n_rows = 0
        self.n_classes = None

    def __repr__(self):
        return f"ModelAdapter(kind={self.kind!r}, outputs={self.outputs!r})"

    @property
    def fitted_names(self):
        """The columns a scikit-learn model was fitted on, by name, in its order (or None)."""
        return self._fitted_names

    def take_dtype(self, X):
        """Give a plain function its batches in the float dtype of the user's data ``X``
        (an array of float32, say), unless data were given before: an explainer's float64
        fit data keep their dtype when a baseline is given its model and float32 rows."""
        if self._dtype_taken:
            return self
        self._dtype_taken = True
        given = numpy_dtype(getattr(X, "dtype", None))  # an array's or a tensor's
        dtypes = getattr(X, "dtypes", None)  # a DataFrame's columns: float32 if all are
        if given is None and dtypes is not None and len(dtypes):
            kinds = {numpy_dtype(d) for d in dtypes}
            given = kinds.pop() if len(kinds) == 1 else None
        if given is not None and given.kind == "f" and given != np.float64:
            self.input_dtype = self.input_dtype or given
        if dtypes is not None and self.column_dtypes is None:
            whole = {str(n): str(d) for n, d in dtypes.items() if _whole_dtype(d)}
            self.column_dtypes = whole or None
        return self

    def queried(self):
        """(rows, calls) this thread has queried the model with so far: subtracted, the
        costs of what it did in between, whatever other threads asked meanwhile."""
        return tuple(self._by_thread.get(threading.get_ident(), (0, 0)))

    def integer_meta(self):
        """The columns of whole numbers, for an explanation's meta or a saved explainer:
        how the fidelity tests and a loaded explainer give them to the model again."""
        if self.column_dtypes is None:
            return {}
        return {"column_dtypes": dict(self.column_dtypes), "whole_columns": self.whole_columns}

    def take_integer_meta(self, meta):
        """Set the columns of whole numbers from ``integer_meta``'s keys in ``meta``."""
        if meta.get("column_dtypes") is not None:
            self.column_dtypes = dict(meta["column_dtypes"])
            self.whole_columns = meta.get("whole_columns")

    @property
    def regression(self):
        """Whether the model returns values (``outputs="values"``) rather than classes."""
        return self.outputs == "values"

    def log_proba(self, X):
        """(n, C) log-probabilities of the model on X, queried in batches."""
        if self.regression:
            raise ValueError(
                "a model of outputs='values' (a regression) has no class probabilities: "
                "use responses(X)"
            )
        return self.responses(X)

    def responses(self, X):
        """(n, C) what the explainer works on, queried in batches: a classifier's
        log-probabilities (``explainer.class_logit`` gives a class's logit from them), or
        a regression model's values, one column per output."""
        X = np.asarray(X)
        if X.ndim < 1 or X.shape[0] == 0:
            raise ValueError(f"need a non-empty batch of inputs, got shape {X.shape}")
        return self.responses_of([(len(X), lambda a, b: X[a:b])])

    def responses_of(self, blocks):
        """``responses`` of the rows of ``blocks``, [(n_k, rows_k)] one after another, where
        rows_k(a, b) makes rows a..b of block k: made one batch at a time, so that only a
        batch of crafted inputs is ever in memory (the perturbations of 32 colour images,
        made at once, took gigabytes)."""
        starts = np.cumsum([0, *(n for n, _ in blocks)])
        parts = []
        for lo in range(0, int(starts[-1]), self.batch_size):
            hi = min(lo + self.batch_size, int(starts[-1]))
            k = int(np.searchsorted(starts, lo, side="right")) - 1
            rows = []
            while k < len(blocks) and starts[k] < hi:
                a, b = max(lo, starts[k]) - starts[k], min(hi, starts[k + 1]) - starts[k]
                if b > a:
                    rows.append(blocks[k][1](int(a), int(b)))
                k += 1
            parts.append(self._batch(rows[0] if len(rows) == 1 else np.concatenate(rows), lo))
        return np.concatenate(parts)

    def proba(self, X):
        return np.exp(self.log_proba(X))

    def state(self):
        """What changes when the model is trained again, for a torch module (its tensors,
        each with the count of its in-place changes: an optimizer's step, a state dict
        loaded, and a few of its values, ``_sampled``) or a scikit-learn model (the objects
        its fit sets, there and in its steps); None for other models, which say nothing
        of it."""
        if self.kind == "torch":
            module = self._call.module
            tensors = (*module.parameters(), *module.buffers())
            try:
                return tuple((id(t), t._version) for t in tensors), _sampled(tensors)
            except RuntimeError:  # tensors made in inference mode count no changes
                return None
        inner = getattr(self._call, "text_model", self._call)
        owner = getattr(inner, "__self__", None)  # predict_proba of an estimator
        return None if owner is None or not hasattr(owner, "get_params") else _fitted(owner)

    def predict(self, X):
        """The predicted output column of each input (a class index, not a label)."""
        self.check_classifier()
        return self.log_proba(X).argmax(axis=1)

    def check_classifier(self):
        """Refuse a regression where a test counts classes, naming the test that applies."""
        if self.regression:
            raise ValueError(
                "a model of outputs='values' (a regression) predicts no class: the tests "
                "that count classes do not apply; fidelity.deletion measures its outputs"
            )

    def class_name(self, column):
        """How reports name an output column: ``"0 (bad)"`` for a scikit-learn classifier
        whose label there is not the column's number, else ``"0"``; a label's line breaks
        and tabs as escapes (``one_line``)."""
        column = int(column)
        if self.regression:
            return f"output {column}"
        if self.classes_ is None or str(self.classes_[column]) == str(column):
            return str(column)
        return f"{column} ({one_line(self.classes_[column])})"

    def label_columns(self, labels):
        """The output column of each true label: through ``classes_`` for a scikit-learn
        classifier, whose labels may be anything; otherwise labels must be column numbers
        (for a classifier's bound method, ``clf.predict_proba``, if none is among its
        classes: labels that are partly classes and partly not mean nothing certain)."""
        labels = np.asarray(labels)
        if labels.ndim != 1:
            raise ValueError(f"labels must be one per input, got shape {labels.shape}")
        if self.classes_ is not None:
            known = {label: j for j, label in enumerate(np.asarray(self.classes_).tolist())}
            unknown = sorted({str(v) for v in labels.tolist() if v not in known})
            named = [v for v in labels.tolist() if v in known]
            if unknown and not named and self.kind != "sklearn" and labels.dtype.kind in "iuf":
                return self._columns(labels)  # a callable's labels: its column numbers
            if unknown:
                raise ValueError(
                    f"labels {unknown[:5]} are not among the classifier's classes_ "
                    f"{np.asarray(self.classes_).tolist()}"
                )
            return np.array([known[v] for v in labels.tolist()], dtype=np.int64)
        return self._columns(labels)

    def _columns(self, labels):
        if labels.dtype.kind not in "iub" and not (
            labels.dtype.kind == "f" and np.all(labels == np.round(labels))
        ):
            raise ValueError(
                f"labels must be class numbers (output columns), got {labels.dtype} values"
            )
        cols = labels.astype(np.int64)
        if self.n_classes is not None and ((cols < 0) | (cols >= self.n_classes)).any():
            raise ValueError(
                f"labels must be output columns 0..{self.n_classes - 1}; got values from "
                f"{cols.min()} to {cols.max()}"
            )
        return cols

    def _as_frame(self, xb, whole=None):
        """Rows as the DataFrame a model fitted on one expects: its columns by name (from
        ``input_names``, else in the order it was fitted on), each categorical column's
        codes as its names, and the columns of whole numbers ``whole`` (default: all of
        ``column_dtypes``) in their dtype where all their values are whole."""
        import pandas as pd

        names = self._frame_names
        if xb.ndim != 2 or xb.shape[1] != len(names):
            raise ValueError(
                f"the model takes rows of {len(names)} named columns; got rows of shape "
                f"{xb.shape[1:]}"
            )
        if self.categories is not None:
            frame = self.categories.decode(xb)
        else:
            frame = pd.DataFrame(xb, columns=names)
        _whole_again(frame, (self.column_dtypes or {}) if whole is None else whole)
        if self._fitted_names is None:
            labels = self.input_labels
            if labels is not None and [str(c) for c in labels] == list(frame.columns):
                frame.columns = pd.Index(labels)  # 0, not "0"; a MultiIndex's tuples as such
            return frame
        # scikit-learn keeps names only when all were strings: the model's are the ones
        missing = sorted(set(self._fitted_names) - set(names))
        if missing:
            raise ValueError(f"the model needs columns {missing[:5]} that the data lacks")
        return frame[self._fitted_names]

    def model_inputs(self, X, whole=None):
        """Rows of scrutiny's float batch (a table's columns of names as codes) as the model
        takes them: the DataFrame of a model fitted on one, names for codes (``whole``: as
        ``_as_frame``); a table's bools and categoricals of numbers as their values;
        anything else a copy of X."""
        if self._framed:  # each a copy: a model that edits its input edits ours
            return self._as_frame(np.array(X), whole)
        cats = self.categories
        if cats is not None:  # bools, categoricals of numbers: a torch model reads numbers
            return cats.as_numbers(np.array(X))
        if self.kind == "callable" and self.input_dtype is not None:
            return np.array(X, dtype=self.input_dtype)  # no float64 copy on the way
        return np.array(X)

    @property
    def _framed(self):
        """Whether the model is given DataFrames."""
        cats = self.categories
        return self._fitted_names is not None or (cats is not None and cats.has_names)

    @property
    def _frame_names(self):
        """The columns of the DataFrames the model is given, in the rows' order."""
        cats = self.categories
        return self.input_names or self._fitted_names or (None if cats is None else cats.names)

    def _batch(self, xb, start):
        """Log-probabilities (or values) of rows ``start``, ``start + 1``, ... of the inputs.
        A model given DataFrames gets its columns of whole numbers as such: all of them in
        rows where all are whole (the inputs themselves), only ``whole_columns`` in the
        others, given apart (two calls at most): a row reaches the model alike whatever
        rows are beside it (beside a row of age 43.9, its mean, every age went as text
        "40.0": P 0.33 for 0.94)."""
        numbers = start + np.arange(len(xb))
        every = None if self.whole_columns is None else self._whole_rows(xb)
        if every is None or every.all():  # unknown (a baseline's rows): those whole here
            return self._answers(xb, numbers)
        static = {n: d for n, d in self.column_dtypes.items() if n in self.whole_columns}
        if not every.any():
            return self._answers(xb, numbers, static)
        parts = [(every, None), (~every, static)]
        parts = [(rows, self._answers(xb[rows], numbers[rows], whole)) for rows, whole in parts]
        out = np.empty((len(xb), *parts[0][1].shape[1:]), dtype=parts[0][1].dtype)
        for rows, part in parts:
            out[rows] = part
        return out

    def _whole_rows(self, xb):
        """(n,) whether every column of whole numbers (``column_dtypes``) is whole in each
        row, or None where the model is given no DataFrame of them."""
        names = self._frame_names
        if not (self._framed and self.column_dtypes and names) or xb.ndim != 2:
            return None
        cols = [j for j, n in enumerate(names) if n in self.column_dtypes and j < xb.shape[1]]
        if not cols:
            return None
        values = np.asarray(xb[:, cols], dtype=np.float64)
        return (values == np.round(values)).all(axis=1)

    def _answers(self, xb, numbers, whole=None):
        """``_batch`` of rows given together, ``numbers`` theirs among the inputs (``whole``:
        as ``_as_frame``)."""
        xb = self.model_inputs(xb, whole)
        try:
            out = self._call(xb)
        except Exception as exc:
            hint = ""
            if self.kind == "callable" and self.input_names and isinstance(xb, np.ndarray):
                names = self.input_names
                order = ", ".join(map(repr, names[:3])) + (", ..." if len(names) > 3 else "")
                hint = (
                    f" (it was given the rows as an array, its columns in the order {order}: "
                    "a model that takes a DataFrame wants the estimator, or its bound method "
                    "such as pipe.predict_proba, which get one)"
                )
            elif (  # not a torch model of byte or word ids, which refuses an id as such
                self.token_ids
                and self.kind in ("callable", "sklearn")
                and getattr(self._call, "text_encoder", None) is None
            ):
                hint = (  # a pipeline's predict_proba, given to lime_text as to LIME's own
                    " (it was given rows of token ids: a model that reads texts, such as a "
                    "text pipeline's predict_proba, is given them through encoder.wrap(model))"
                )
            hint = hint or self._batch_hint(xb, exc)
            raise ModelError(
                f"the model raised {type(exc).__name__} on a batch of shape {xb.shape}: {exc}{hint}"
            ) from exc
        self.n_calls += 1
        self.n_rows += len(xb)
        mine = self._by_thread.setdefault(threading.get_ident(), [0, 0])
        mine[0] += len(xb)
        mine[1] += 1
        out, eps, whole = _numeric(out)
        if len(xb) == 1 and out.ndim < 2:  # a forward that ends in squeeze(), on one row:
            out = out.reshape(1, -1) if out.size > 1 else out.reshape(1)  # its C outputs
        self.output_eps = max(self.output_eps, eps)
        what = "outputs" if self.regression else "classes"
        expected = f"expected ({len(xb)}, n_{what}) or ({len(xb)},)"
        if out.ndim not in (1, 2) or out.shape[0] != len(xb):
            raise ModelError(
                f"the model returned shape {out.shape} for {len(xb)} inputs; {expected}"
            )
        if self.regression and out.ndim == 1:
            out = out[:, None]
        if not self.regression and out.ndim == 2 and out.shape[1] == 1:
            known = self.classes_ is not None
            if (known and len(self.classes_) == 1) or (self.kind == "sklearn" and not known):
                # predict_proba's one column is its only class (a wrapper of a sigmoid that
                # names two classes gives P(class 1), as Keras' predict does)
                raise ModelError(
                    "the classifier knows one class only (predict_proba has one column): "
                    "there is no decision to explain"
                )
            out = out[:, 0]
        if out.ndim == 2 and out.shape[1] == 0:
            raise ModelError(f"the model returned no {what} (shape {out.shape}); {expected}")
        bad = ~np.isfinite(out)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ModelError(
                f"the model returned {int(bad.sum())} non-finite values (NaN or inf), the "
                f"first for row {numbers[row]} it was asked about{_ROWS}"
            )
        result = out if self.regression else self._to_log_proba(out, eps, whole, numbers)
        if self.n_classes is None:
            named = self.classes_ is not None and not self.regression
            if named and len(self.classes_) != result.shape[1]:
                # SVC(decision_function_shape="ovo"): a column per pair of classes, each
                # named (or past the end of) classes_ as if it were one class
                raise ModelError(
                    f"the model returned {result.shape[1]} columns for its "
                    f"{len(self.classes_)} classes (classes_): explain a function with one "
                    "column per class (predict_proba; an SVC's decision_function with "
                    "decision_function_shape='ovr')"
                )
            self.n_classes = result.shape[1]
        elif result.shape[1] != self.n_classes:
            raise ModelError(
                f"the model returned {result.shape[1]} {what} where it returned "
                f"{self.n_classes} before"
            )
        return result

    def _batch_hint(self, xb, exc):
        """What to do about a batch the model refused: torch's "expected input[1, 4, 8, 8]
        to have 1 channels" of (N, H, W) images given to a channels-first module, and
        a model that takes one input at a time (it answers one row of the batch alone)."""
        if self.kind in ("torch", "torch-file") and np.ndim(xb) == 3 and "channels" in str(exc):
            return (
                " (a module of channels-first images wants them as (N, 1, H, W): give "
                "X_fit and X as X[:, None])"
            )
        if len(xb) < 2:
            return ""
        try:
            self._call(xb[:1])
        except Exception:
            return ""
        return (
            " (it answered one input alone: pass a smaller batch_size, 1 for a model that "
            "takes one input at a time; --batch-size on the command line)"
        )

    def _to_log_proba(self, out, eps, whole, numbers):
        if whole and self.outputs == "probabilities":  # labels (clf.predict), or votes
            raise ModelError(
                f"the model returned whole numbers, not probabilities: class labels? {_HINT}"
            )
        if self.outputs == "logits":
            if whole and (out.ndim == 1 or out.shape[1] == 1) and out.min() >= 0:
                # clf.predict's labels 0, 1, 2 were one binary logit, 2 "surer" than 1
                raise ModelError(
                    "outputs='logits', but the model returned one column of whole numbers "
                    "from 0 up: class labels? a scikit-learn classifier's labels, pass "
                    "clf.predict_proba instead (a binary model's logit, as floats)"
                )
            self._refuse_probabilities_as_logits(out, eps)
            if out.ndim == 1:
                out = np.stack([np.zeros_like(out), out], axis=1)  # binary logit
            shifted = out - out.max(axis=1, keepdims=True)
            return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        lo, hi = out.min(), out.max()
        tolerance = _sum_tolerance(eps)
        # a probability computed as 1 - (the others) rounds a few 1e-8 below 0: within the
        # rows' rounding slack it is one (refused, it sent users to outputs='logits', which
        # then explained log-softmax(p))
        if lo < -tolerance or hi > 1 + tolerance:
            raise ModelError(
                f"the model's outputs are not probabilities: values range over [{lo:.4g}, "
                f"{hi:.4g}], outside [0, 1]; {_HINT}"
            )
        out = np.clip(out, 0.0, 1.0)
        if out.ndim == 1:
            out = np.stack([1.0 - out, out], axis=1)
        sums = out.sum(axis=1)
        off = np.abs(sums - 1.0)
        if out.shape[1] > 1 and off.max() > tolerance:
            row = int(off.argmax())
            raise ModelError(
                f"the model's outputs are not probabilities: its output for row {numbers[row]} "
                f"it was asked about{_ROWS} sums to {sums[row]:.6g}, not 1; {_UNNORMALISED}"
            )
        with np.errstate(divide="ignore"):
            return np.log(out / sums[:, None])

    def _refuse_probabilities_as_logits(self, out, eps):
        """Probabilities declared as logits were explained as log-softmax(p): every class
        squeezed to about [-1, 1]; a sigmoid's one column as a binary logit, class 1 for
        every input. Refused once every row so far, over all batches (a batch may hold one
        row), is a distribution: two rows in [0, 1] that sum to 1 (one could be a pair of
        logits by chance, several hardly). ``_SIGMOID_ROWS`` of values in [0, 1] that do
        not sum to 1 (a sigmoid's one column, independent labels' several) are warned of,
        not refused: an unsure model's logits lie there too (refused, with nothing to pass
        that reads them as logits). Values within the rows' rounding slack of [0, 1] count
        as in it."""
        if self._probability_rows < 0:
            return  # a row that is no probability was seen: logits
        tolerance = _sum_tolerance(eps)
        like = out.min() >= -tolerance and out.max() <= 1 + tolerance
        summing = like and out.ndim == 2 and np.abs(out.sum(axis=1) - 1.0).max() <= tolerance
        self._probability_rows = self._probability_rows + len(out) if like else -1
        self._normalised = self._normalised and summing
        if self._normalised and self._probability_rows >= 2:
            raise ModelError(
                "outputs='logits', but the model's outputs are probabilities (each row in "
                f"[0, 1], summing to 1, for {self._probability_rows} inputs): pass "
                "outputs='probabilities'"
            )
        if self._probability_rows >= _SIGMOID_ROWS and not self._warned_unit_logits:
            # a low-confidence model's logits may all lie in [0, 1] too (P 0.5 to 0.73):
            # refused, they had no way through, and outputs='probabilities' misread them
            self._warned_unit_logits = True
            then = (
                "if it returns a sigmoid's probabilities, pass outputs='probabilities'"
                if out.ndim == 1
                else f"rows not summing to 1: {_UNNORMALISED}"
            )
            warnings.warn(
                f"outputs='logits', but every output so far lies in [0, 1], for "
                f"{self._probability_rows} inputs: read as logits, as declared (a model "
                f"this unsure has such logits); {then}",
                stacklevel=4,
            )


# local and guided explanations ask about perturbed copies of the inputs, not the inputs
_ROWS = " (a perturbed copy of an input, where an explanation perturbs them)"
_HINT = (
    "if it returns logits or scores, pass outputs='logits' (--outputs logits); a regression's "
    "values, outputs='values' (--outputs values); a scikit-learn classifier's labels, pass "
    "clf.predict_proba instead"
)

# outputs in [0, 1] whose rows do not sum to 1 are no logits either
_UNNORMALISED = (
    "probabilities of independent labels (sigmoids, multi-label) or of some of the classes "
    "only? scrutiny explains one distribution over classes: pass each label as a binary "
    "model of its own (lambda X: f(X)[:, j]), or every class's probability"
)


def _sum_tolerance(eps):
    """How far from 1 a row of probabilities may sum: rounding in the model's own precision
    (bfloat16: 0.4%) moves each probability by a relative eps / 2, so their sum by eps / 2
    whatever the number of classes, and the normalisation's sum and division by as much
    again."""
    return max(_SUM_TOLERANCE, 2 * eps)


def fitted_feature_names(estimator):
    """The column names a scikit-learn estimator was fitted on: ``feature_names_in_``, or
    for a Pipeline whose first steps are "passthrough" (or None), which then has none of
    its own, those of its first real step (without them, its rows went in X_fit's order,
    not the model's)."""
    names = getattr(estimator, "feature_names_in_", None)
    steps = getattr(estimator, "steps", None)
    if names is None and isinstance(steps, list):
        real = [step for _, step in steps if step is not None and step != "passthrough"]
        names = fitted_feature_names(real[0]) if real else None
    return names


def _check_bound_method(method, fitted, outputs):
    """A scikit-learn estimator's method as LIME's and shap's users pass one: its hard
    labels (clf.predict) or a regressor's values taken as probabilities or logits were
    explained as a wrong model, and a classifier's labels as values, as its estimator is
    refused."""
    if "sklearn" not in sys.modules:
        return
    from sklearn.base import BaseEstimator, is_classifier, is_regressor

    if not isinstance(fitted, BaseEstimator):  # a wrapper's, Keras's: its own business
        return

    name, kind = getattr(method, "__name__", ""), type(fitted).__name__
    if is_classifier(fitted) and name == "predict":
        raise ValueError(
            f"{kind}.predict returns class labels, not probabilities: pass "
            f"{_probabilities_of(fitted)}"
        )
    pairs = getattr(fitted, "decision_function_shape", None) == "ovo"
    if name == "decision_function" and pairs and len(getattr(fitted, "classes_", ())) > 2:
        # a column per pair of classes: with 3 classes as many columns as classes, each
        # read as a class (19% of rows predicted as SVC.predict does)
        raise ValueError(
            f"{kind}(decision_function_shape='ovo').decision_function gives a column per "
            "pair of classes, not per class: fit it with decision_function_shape='ovr' (or "
            "probability=True, and pass predict_proba)"
        )
    if is_regressor(fitted) and outputs != "values":
        raise ValueError(
            f"a {kind} is a regressor: explain its values with outputs='values' "
            "(on the command line: --outputs values)"
        )


def _whole_dtype(dtype):
    """Whether a DataFrame column's dtype holds whole numbers (numpy's or pandas' Int64)."""
    import pandas as pd

    return pd.api.types.is_integer_dtype(dtype)


def _whole_again(frame, dtypes):
    """Give ``frame``'s columns of ``dtypes`` (whole numbers in the fit data) their dtype
    back where every value is whole and fits it; a baseline of 2.5 stays a float."""
    for name, dtype in dtypes.items():
        if name not in frame.columns:
            continue
        values = frame[name].to_numpy(dtype=np.float64)
        info = np.iinfo(np.dtype(dtype.lower()))  # pandas' Int64: numpy's int64
        whole = np.all(values == np.round(values))
        if whole and values.min() >= info.min and values.max() < info.max + 1:  # 2**63 exact
            frame[name] = frame[name].astype(dtype)


def _is_classifier(model):
    if hasattr(model, "predict_proba"):
        return True
    if "sklearn" not in sys.modules:
        return False
    from sklearn.base import is_classifier

    return is_classifier(model)


def _probabilities_of(clf):
    """What to pass for a scikit-learn classifier's classes: its probabilities, or, where it
    has none (LinearSVC, RidgeClassifier), its decision function as logits."""
    kind = type(clf).__name__
    if hasattr(clf, "predict_proba"):
        return f"{kind}.predict_proba (or the classifier itself)"
    refit = " (or fit it with probability=True)" if hasattr(clf, "probability") else ""
    if not hasattr(clf, "decision_function"):  # hard voting: labels only
        return f"a classifier that gives probabilities or scores: a {kind} gives neither"
    return (
        f"{kind}.decision_function with outputs='logits'{refit} (a {kind} gives no "
        "probabilities; its scores stand as logits)"
    )


def _numeric(out):
    """The model's output as a float64 array, the relative precision it came in, and
    whether it came as whole numbers (integers, bools), or a ModelError saying what it was."""
    eps = 0.0
    if isinstance(out, tuple | dict):  # (probabilities, extras), a Hugging Face output
        raise ModelError(
            f"the model returned a {type(out).__name__}, not an array: return the array "
            "itself (a module's out[0] or out.logits, in a function around it)"
        )
    if isinstance(out, list) and out and np.ndim(out[0]) >= 2:
        # an ONNX session's run() gives a list of its outputs: read as one array, [(n, C)]
        # was "shape (1, n, C) for n inputs", which named no list
        shapes = ", ".join(str(tuple(np.shape(o))) for o in out[:3])
        raise ModelError(
            f"the model returned a list of {len(out)} arrays (shapes {shapes}), not an "
            "array: return the array itself (an ONNX session's run(...)[0], a module's out[0])"
        )
    if hasattr(out, "detach"):  # a torch tensor, perhaps one that requires grad
        import torch

        out = out.detach().cpu()
        if out.is_floating_point():
            eps = torch.finfo(out.dtype).eps
            out = out.to(torch.float64)
    try:
        arr = np.asarray(out)
        if arr.dtype.kind == "f":
            eps = max(eps, float(np.finfo(arr.dtype).eps), _narrower_eps(arr))
        elif "ml_dtypes" in sys.modules:  # JAX's and TensorFlow's bfloat16 (numpy kind "V")
            import ml_dtypes

            try:
                eps = max(eps, float(ml_dtypes.finfo(arr.dtype).eps))
            except ValueError:  # not a floating-point type
                pass
        # a copy: a model writing every batch into one buffer (a TFLite tensor view)
        # overwrote the batches before, and 44 of 300 rows read another's output
        return np.array(arr, dtype=np.float64), eps, arr.dtype.kind in "biu"
    except (TypeError, ValueError, RuntimeError) as exc:  # a list of tensors needing grad
        raise ModelError(
            f"the model returned a {type(out).__name__} that is not an array of numbers: {exc}"
        ) from exc


def _narrower_eps(arr):
    """The precision float32 outputs were computed in, where every value holds no more
    digits than a bfloat16's or a float16's: numpy has no bfloat16, so a function around a
    bfloat16 model hands back float32, whose softmax rows (summing to 1 within 0.4%) were
    refused as 'not probabilities' at float32's tolerance."""
    if arr.dtype != np.float32 or not np.isfinite(arr).all():
        return 0.0
    if not (arr.view(np.uint32) & 0xFFFF).any():  # bfloat16: float32's top 16 bits
        return 2.0**-7
    with np.errstate(over="ignore"):
        if np.array_equal(arr.astype(np.float16).astype(np.float32), arr):
            return float(np.finfo(np.float16).eps)
    return 0.0


def _sampled(tensors, k=64):
    """The bytes of about ``k`` values spread over each tensor, read in one copy per
    device and type: a fused optimizer's step (``torch.optim.Adam(fused=True)``) and a
    change through ``.data`` (``p.data -= lr * p.grad``) count no change in a tensor's
    version; any step of training moves nearly every value of a layer it trains."""
    import torch

    parts = {}
    with torch.no_grad():  # 3 us a tensor: 1.3 ms for a model of 400
        for t in tensors:
            every = t.reshape(-1)[:: max(1, t.numel() // k)]
            parts.setdefault((t.device, t.dtype), []).append(every)
        return tuple(torch.cat(p).view(torch.uint8).cpu().numpy().tobytes() for p in parts.values())


def _fitted(estimator, depth=0):
    """The ids of what a scikit-learn estimator's fit sets (attributes ending in "_"), and
    of its steps' (a pipeline's, a search's best estimator): a fit makes new objects of
    them. A fitted list of an ensemble's members is new at each fit, and not walked: a
    forest's 500 trees took 8 ms, a third of the explanation of an input."""
    found = []
    for name, value in sorted(vars(estimator).items()):
        fitted = name.endswith("_") and not name.startswith("_")
        if fitted:
            found.append((name, id(value)))
        parts = value if isinstance(value, list | tuple) and not fitted else [value]
        for part in parts:
            step = part[-1] if isinstance(part, tuple) and part else part  # ("name", est)
            if depth < 3 and hasattr(step, "get_params") and not isinstance(step, type):
                found.append((name, _fitted(step, depth + 1)))
    return tuple(found)


def _wrap(model, outputs="probabilities"):
    """(kind, function of a numpy batch returning an array)."""
    if isinstance(model, str | Path):
        return _wrap_file(Path(model))
    if "torch" in sys.modules:
        import torch

        if isinstance(model, torch.nn.Module):
            return "torch", _TorchCall(model)
    if hasattr(model, "predict_proba") and hasattr(model, "fit"):
        return "sklearn", model.predict_proba
    if outputs == "values" and hasattr(model, "predict") and hasattr(model, "fit"):
        return "sklearn", model.predict  # a regressor
    if callable(model):
        return "callable", model
    if hasattr(model, "fit") and _is_classifier(model):
        raise TypeError(
            f"cannot use a {type(model).__name__} as it is: pass {_probabilities_of(model)}"
        )
    raise TypeError(
        f"cannot use a {type(model).__name__} as a model: pass a callable returning "
        "probabilities, a torch.nn.Module, a scikit-learn classifier with predict_proba "
        "(a regressor with outputs='values'), or the path of an ONNX or TorchScript file"
    )


class _TorchCall:
    """``module`` on numpy batches, as tensors of ``dtype`` (an exported program's input
    type), else of its first floating-point weight's, a parameter or else a buffer (frozen
    weights); a model that answers that it looks up indices (an embedding first) gets
    whole numbers from then on. An object, not a closure: an explainer of a torch module
    pickles, as one of a scikit-learn model does."""

    def __init__(self, module, dtype=None):
        import torch

        tensors = (*module.parameters(), *module.buffers())
        first = next((t for t in tensors if t.is_floating_point()), None)
        self.module = module
        self.device = torch.device("cpu") if first is None else first.device
        if dtype is None:
            dtype = torch.get_default_dtype() if first is None else first.dtype
        self.dtype = dtype

    def __call__(self, xb):
        import torch

        try:
            return self._run(xb, self.dtype)
        except RuntimeError as exc:
            if not self.dtype.is_floating_point or _LOOKS_UP_INDICES not in str(exc):
                raise
        self.dtype = torch.long  # word ids, byte values: whole numbers only
        return self._run(xb, torch.long)

    def _run(self, xb, dtype):
        import torch

        if not dtype.is_floating_point:
            what = "the model (it looks its inputs up as indices: an embedding)"
            xb = _whole_numbers(xb, torch.empty(0, dtype=dtype).numpy().dtype, what)
        # in eval mode (no dropout, BatchNorm's statistics left alone), then each submodule
        # back in the mode the user left it in: a model explained between training steps
        # trains on as before
        with _in_eval_mode(self.module), torch.no_grad():
            tensor = torch.as_tensor(np.ascontiguousarray(xb), dtype=dtype, device=self.device)
            out = self.module(tensor)
        # in the model's precision, which the checks allow for; a tuple or a dict (a Hugging
        # Face output) goes to the checks as it is, which say what it is
        return out.detach().cpu() if isinstance(out, torch.Tensor) else out


# torch's refusal of floats by an embedding (or embedding bag) given them as indices
_LOOKS_UP_INDICES = "'indices' to have one of the following scalar types"


def _whole_numbers(xb, dtype, what):
    """Rows as the integers ``dtype`` that a model takes (indices, counts, flags): a
    fraction, or a value beyond the type's range, is refused rather than cut."""
    values = np.asarray(xb, dtype=np.float64)
    if np.dtype(dtype) == np.bool_:
        lo, hi, kind = 0, 1, "0 or 1 (bool)"
    else:
        info = np.iinfo(dtype)
        lo, hi, kind = info.min, info.max, f"whole numbers ({np.dtype(dtype)})"
    bad = (values != np.round(values)) | (values < lo) | (values >= hi + 1)  # 2**63 exact
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{what} takes {kind}; got {values[where]:g} at {where}: give it such inputs, "
            "with a baseline of such values (word ids: representation='tokens')"
        )
    return np.asarray(xb).astype(dtype)


_MODE_LOCKS = weakref.WeakKeyDictionary()  # module -> the lock its queries take turns on
_LOCKS_LOCK = threading.Lock()


@contextlib.contextmanager
def _in_eval_mode(module):
    """The module in eval mode, then each submodule back in the mode it was in. Queries of
    one module from several threads take turns: one thread's restore would otherwise put
    the module back in train mode under another's forward pass."""
    with _LOCKS_LOCK:
        lock = _MODE_LOCKS.setdefault(module, threading.RLock())
    with lock:
        # a frozen TorchScript module (torch.jit.freeze) has no mode at all: reading it
        # raised AttributeError, and every query of such a model failed
        modes = [(m, m.training) for m in module.modules() if hasattr(m, "training")]
        try:
            module.eval()
        except NotImplementedError:  # an exported program: its mode was fixed when exported
            modes = []
        try:
            yield
        finally:
            for m, training in modes:
                m.training = training


def _wrap_file(path):
    if path.is_dir():
        raise IsADirectoryError(f"model file {path} is a folder: name the model's file in it")
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    if path.suffix.lower() == ".onnx":
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ImportError(
                "ONNX models need onnxruntime: pip install onnxruntime "
                "(or pip install 'scrutiny[onnx]')"
            ) from exc
        try:
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's errors (InvalidProtobuf, ...) are Exception's
            raise ValueError(f"cannot read {path} as an ONNX model: {exc}") from exc
        inp = session.get_inputs()[0]
        dtype = _ONNX_INPUTS.get(inp.type)
        if dtype is None:
            raise ValueError(
                f"the ONNX model's input {inp.name!r} is a {inp.type}; scrutiny gives models "
                f"numbers of one of the types {sorted(_ONNX_INPUTS)}"
            )
        names = [o.name for o in session.get_outputs()]
        whole = np.dtype(dtype).kind in "biu"

        def call(xb):
            if whole:
                xb = _whole_numbers(xb, dtype, f"the ONNX model's input {inp.name!r}")
            outs = session.run(None, {inp.name: np.ascontiguousarray(xb, dtype=dtype)})
            return _onnx_scores(outs, names)

        return "onnx", _in_batches_of(inp.shape[0], call)
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            f"{path.name} is not an .onnx file, so it is read as a torch model, which needs torch"
        ) from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is still common
            if path.suffix.lower() == ".pt2":
                program = torch.export.load(str(path))
                module, (fixed, dtype) = program.module(), _exported_input(program)
            else:
                module, fixed, dtype = torch.jit.load(str(path), map_location="cpu"), None, None
    except Exception as exc:
        hint = ""
        if path.suffix.lower() in (".pkl", ".pickle", ".joblib"):
            hint = (
                "; pickles are never loaded by path: load it in a .py file of yours "
                "(clf = joblib.load(...)) and pass file.py:clf"
            )
        raise ValueError(
            f"cannot read {path} as a model: it is not an .onnx file, and torch could not "
            f"load it as an exported program (.pt2) or TorchScript ({exc}){hint}"
        ) from exc
    return "torch-file", _in_batches_of(fixed, _TorchCall(module, dtype))


# the numpy type of each ONNX input type a model may take
_ONNX_INPUTS = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(bool)": np.bool_,
}


def _in_batches_of(fixed, call):
    """``call`` on any number of rows, for a model exported without a dynamic batch axis
    (the default of torch.onnx.export and torch.export) that takes exactly ``fixed`` rows:
    the last batch is padded with copies of its last row, their outputs dropped."""
    if not isinstance(fixed, int) or fixed < 1:  # a symbolic or unknown size: any
        return call

    def in_batches(xb):
        if len(xb) == fixed:
            return call(xb)
        parts = []
        for lo in range(0, len(xb), fixed):
            chunk = xb[lo : lo + fixed]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], fixed - len(chunk), 0)])
            parts.append(call(padded)[: len(chunk)])
        if hasattr(parts[0], "detach"):  # torch tensors, perhaps bfloat16, which numpy lacks
            import torch

            return torch.cat(parts)
        return np.concatenate(parts)

    return in_batches


def _exported_input(program):
    """The batch size an exported program was specialised to (an int, else None), and the
    type of its input (a torch dtype, else None)."""
    try:
        inputs = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
        val = inputs[program.graph_signature.user_inputs[0]].meta["val"]
    except (KeyError, IndexError, AttributeError):
        return None, None
    batch = val.shape[0] if len(val.shape) and isinstance(val.shape[0], int) else None
    return batch, val.dtype  # a SymInt batch is not a fixed one


def _onnx_scores(outs, names):
    """The output of an ONNX classifier that holds its scores: the first floating-point
    one. Converters such as skl2onnx put the predicted label (integers) first and the
    probabilities second, as a tensor or as one {class: probability} map per row."""
    for out in outs:
        if isinstance(out, list) and out and isinstance(out[0], dict):  # skl2onnx's ZipMap
            keys = sorted(out[0])
            out = np.array([[row[k] for k in keys] for row in out], dtype=np.float64)
        out = np.asarray(out)
        if out.dtype.kind == "f":
            return out
    kinds = ", ".join(f"{n} ({np.asarray(o).dtype})" for n, o in zip(names, outs, strict=True))
    raise ModelError(
        f"the ONNX model has no floating-point output to read scores from; its outputs: {kinds}"
    )


def load_callable(spec):
    """The model named by ``module:name`` (``module`` may be a .py file): a callable, a
    torch module or a scikit-learn classifier (or regressor), such as one the module loads
    with joblib."""
    import importlib
    import importlib.util

    if ":" not in spec:
        raise ValueError(f"expected module:function, got {spec!r}")
    mod_name, _, attr = spec.rpartition(":")
    if mod_name.endswith(".py"):
        path = Path(mod_name).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        folder = str(path.resolve().parent)
        added = folder not in sys.path
        if added:  # its own imports, as `python load.py` finds them
            sys.path.insert(0, folder)
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules.setdefault(path.stem, module)  # for pickles of its classes, by name
        try:
            try:
                loader_spec.loader.exec_module(module)
            except SyntaxError as exc:  # a line to fix, not a traceback of importlib's
                raise ImportError(f"{path}, line {exc.lineno}: {exc.msg}") from None
            except (Exception, SystemExit) as exc:
                raise _not_imported(path, exc) from exc
            return _model_of(module, attr, spec)
        except BaseException:  # of a model that did not load, its module and folder go
            if sys.modules.get(path.stem) is module:
                del sys.modules[path.stem]
            if added and folder in sys.path:
                sys.path.remove(folder)
            raise
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(mod_name)
    except ImportError:  # of the module itself, which names it
        raise
    except (Exception, SystemExit) as exc:
        raise _not_imported(mod_name, exc) from exc
    return _model_of(module, attr, spec)


def _not_imported(name, exc):
    """The ImportError of a model's module that raised as it was imported (a weights file
    it did not find), which read as scrutiny's own or came as a traceback, or that called
    sys.exit() (a training script's last line: the command ended with its status, 0, and
    no report)."""
    if isinstance(exc, SystemExit):
        return ImportError(
            f"importing {name} called sys.exit({exc.code!r}): guard the script's own run "
            "with if __name__ == '__main__'"
        )
    return ImportError(f"importing {name} raised {type(exc).__name__}: {exc}")


def _model_of(module, attr, spec):
    """``module``'s attribute ``attr``, refused unless a model can be made of it."""
    try:
        fn = getattr(module, attr)
    except AttributeError as exc:
        raise ValueError(f"module {spec.rpartition(':')[0]!r} has no attribute {attr!r}") from exc
    estimator = hasattr(fn, "fit") and (hasattr(fn, "predict_proba") or hasattr(fn, "predict"))
    if not callable(fn) and not estimator:
        raise TypeError(  # a scikit-learn classifier, or a regressor (outputs="values")
            f"{spec} is a {type(fn).__name__}, not a callable, a classifier with "
            "predict_proba or a regressor with predict"
        )
    return fn
