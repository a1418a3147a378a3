"""Adapters from user models to one batched, validated function X -> class log-probabilities.

Every model scrutiny supports (a Python callable, a ``torch.nn.Module``, a scikit-learn
estimator, an ONNX or TorchScript file) becomes a ``ModelAdapter``: it calls the model in
batches of ``batch_size``, checks every output (finite; probabilities in [0, 1] whose rows
sum to 1), and counts its calls and queried rows so that costs can be reported.

It returns log-probabilities because the surrogate regresses the logit of a class: from
logits, ``log_softmax`` keeps the logit of a confident class exact where ``log(p)`` of a
rounded probability would be -inf.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

_SUM_TOLERANCE = 1e-3  # rows of float32 probabilities sum to 1 within a few 1e-7; allow slack


class ModelError(RuntimeError):
    """The model raised, or returned something that is not what it was declared to return."""


class ModelAdapter:
    """A model as a batched function ``log_proba(X) -> (n, C)`` log-probabilities.

    Parameters
    ----------
    model : callable, torch.nn.Module, scikit-learn estimator, or path to a .onnx / TorchScript
        file. A callable returns (n, C) probabilities (or logits, with ``outputs="logits"``),
        or (n,) probabilities of the positive class of a binary model.
    outputs : "probabilities" or "logits"
        What the model returns. Scikit-learn estimators are always asked for ``predict_proba``.
    batch_size : int
        Rows per model call.
    """

    def __init__(self, model, outputs="probabilities", batch_size=256):
        if outputs not in ("probabilities", "logits"):
            raise ValueError(f"outputs must be 'probabilities' or 'logits', got {outputs!r}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
        self.outputs = outputs
        self.batch_size = int(batch_size)
        self.kind, self._call = _wrap(model)
        if self.kind == "sklearn":
            self.outputs = "probabilities"
        self.n_calls = 0
        self.n_rows = 0
        self.n_classes = None

    def __repr__(self):
        return f"ModelAdapter(kind={self.kind!r}, outputs={self.outputs!r})"

    def log_proba(self, X):
        """(n, C) log-probabilities of the model on X, queried in batches."""
        X = np.asarray(X)
        if X.ndim < 1 or X.shape[0] == 0:
            raise ValueError(f"need a non-empty batch of inputs, got shape {X.shape}")
        parts = [
            self._batch(X[lo : lo + self.batch_size]) for lo in range(0, len(X), self.batch_size)
        ]
        return np.concatenate(parts)

    def proba(self, X):
        return np.exp(self.log_proba(X))

    def predict(self, X):
        return self.log_proba(X).argmax(axis=1)

    def _batch(self, xb):
        try:
            out = self._call(xb)
        except Exception as exc:
            raise ModelError(
                f"the model raised {type(exc).__name__} on a batch of shape {xb.shape}: {exc}"
            ) from exc
        self.n_calls += 1
        self.n_rows += len(xb)
        out = _numeric(out)
        expected = f"expected ({len(xb)}, n_classes) or ({len(xb)},)"
        if out.ndim not in (1, 2) or out.shape[0] != len(xb):
            raise ModelError(
                f"the model returned shape {out.shape} for {len(xb)} inputs; {expected}"
            )
        if out.ndim == 2 and out.shape[1] == 1:
            if self.kind == "sklearn":  # predict_proba's one column is its only class
                raise ModelError(
                    "the classifier knows one class only (predict_proba has one column): "
                    "there is no decision to explain"
                )
            out = out[:, 0]
        if out.ndim == 2 and out.shape[1] == 0:
            raise ModelError(f"the model returned no classes (shape {out.shape}); {expected}")
        bad = ~np.isfinite(out)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ModelError(
                f"the model returned {int(bad.sum())} non-finite values (NaN or inf), the "
                f"first in row {row} of a batch"
            )
        logp = self._to_log_proba(out)
        if self.n_classes is None:
            self.n_classes = logp.shape[1]
        elif logp.shape[1] != self.n_classes:
            raise ModelError(
                f"the model returned {logp.shape[1]} classes where it returned "
                f"{self.n_classes} before"
            )
        return logp

    def _to_log_proba(self, out):
        if self.outputs == "logits":
            if out.ndim == 1:
                out = np.stack([np.zeros_like(out), out], axis=1)  # binary logit
            shifted = out - out.max(axis=1, keepdims=True)
            return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if out.ndim == 1:
            out = np.stack([1.0 - out, out], axis=1)
        lo, hi = out.min(), out.max()
        if lo < 0 or hi > 1:
            raise ModelError(
                f"the model's outputs are not probabilities: values range over [{lo:.4g}, "
                f"{hi:.4g}], outside [0, 1]; if it returns logits or scores, pass "
                "outputs='logits'"
            )
        sums = out.sum(axis=1)
        off = np.abs(sums - 1.0)
        if out.shape[1] > 1 and off.max() > _SUM_TOLERANCE:
            row = int(off.argmax())
            raise ModelError(
                f"the model's outputs are not probabilities: row {row} of a batch sums to "
                f"{sums[row]:.6g}, not 1; if it returns logits or scores, pass outputs='logits'"
            )
        with np.errstate(divide="ignore"):
            return np.log(out / sums[:, None])


def _numeric(out):
    """The model's output as a float64 array, or a ModelError saying what it was."""
    if hasattr(out, "detach"):  # a torch tensor, perhaps one that requires grad
        out = out.detach().cpu()
    try:
        return np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"the model returned a {type(out).__name__} that is not an array of numbers: {exc}"
        ) from exc


def _wrap(model):
    """(kind, function of a numpy batch returning an array)."""
    if isinstance(model, str | Path):
        return _wrap_file(Path(model))
    if "torch" in sys.modules:
        import torch

        if isinstance(model, torch.nn.Module):
            return "torch", _torch_call(model)
    if hasattr(model, "predict_proba") and hasattr(model, "fit"):
        return "sklearn", model.predict_proba
    if callable(model):
        return "callable", model
    raise TypeError(
        f"cannot use a {type(model).__name__} as a model: pass a callable returning "
        "probabilities, a torch.nn.Module, a scikit-learn classifier with predict_proba, "
        "or the path of an ONNX or TorchScript file"
    )


def _torch_call(module):
    import torch

    try:
        module.eval()
    except NotImplementedError:  # an exported program: its mode was fixed when exported
        pass
    try:
        first = next(module.parameters())
        device, dtype = first.device, first.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.get_default_dtype()

    def call(xb):
        with torch.no_grad():
            out = module(torch.as_tensor(np.ascontiguousarray(xb), dtype=dtype, device=device))
        return out.detach().to("cpu", torch.float64).numpy()

    return call


def _wrap_file(path):
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
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        inp = session.get_inputs()[0]
        dtype = np.float64 if inp.type == "tensor(double)" else np.float32

        def call(xb):
            return session.run(None, {inp.name: np.ascontiguousarray(xb, dtype=dtype)})[0]

        return "onnx", call
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
                module = torch.export.load(str(path)).module()
            else:
                module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise ValueError(
            f"cannot read {path} as a model: it is not an .onnx file, and torch could not "
            f"load it as an exported program (.pt2) or TorchScript ({exc})"
        ) from exc
    return "torch-file", _torch_call(module)


def load_callable(spec):
    """The Python callable named by ``module:function`` (``module`` may be a .py file)."""
    import importlib
    import importlib.util

    if ":" not in spec:
        raise ValueError(f"expected module:function, got {spec!r}")
    mod_name, _, attr = spec.rpartition(":")
    if mod_name.endswith(".py"):
        path = Path(mod_name)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        if "" not in sys.path:
            sys.path.insert(0, "")
        module = importlib.import_module(mod_name)
    try:
        fn = getattr(module, attr)
    except AttributeError as exc:
        raise ValueError(f"module {mod_name!r} has no attribute {attr!r}") from exc
    if not callable(fn):
        raise TypeError(f"{spec} is a {type(fn).__name__}, not a callable")
    return fn
