"""A fitted ``DPMixtureRegression`` as plain files: ``.npz`` of its arrays (loaded with
``allow_pickle=False``, so loading runs no code) beside ``.json`` of its parameters and
scalars."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from scrutiny._files import array_digest, paired, plain, to_json, write_pair
from scrutiny.surrogate.estimator import DPMixtureRegression
from scrutiny.surrogate.mirror import MirroredRegression

FORMAT = "scrutiny.dp-mixture-regression/1"


def regression_parts(reg):
    """(arrays, description) of a fitted regression: its array attributes by name and a
    JSON-ready dict of its parameters and other fitted values (what ``save_regression``
    writes, and what a saved explainer holds of each surrogate). A ``MirroredRegression``
    (class 0 of a binary model) is described as the fit it reads, marked mirrored."""
    mirrored = isinstance(reg, MirroredRegression)
    if mirrored:  # it has no fitted attributes of its own: they are its regression's
        reg = reg.regression
    reg._check_fitted()
    arrays, scalars, diagnostics = {}, {}, {}
    for name, value in vars(reg).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        if name == "diagnostics_":
            for key, v in value.items():
                if isinstance(v, np.ndarray):
                    arrays[f"diagnostics/{key}"] = v
                else:
                    diagnostics[key] = v
        elif name == "feature_names_in_":  # strings: JSON, not an array of objects
            scalars[name] = value.tolist()
        elif isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            scalars[name] = value
    params = reg.get_params()
    spent = np.random.Generator | np.random.RandomState | np.random.SeedSequence
    if isinstance(params["random_state"], spent):
        params["random_state"] = None  # its state is spent: the fit is what is saved
    description = {"format": FORMAT, "mirrored": mirrored, "params": params, "fitted": scalars}
    return arrays, plain({**description, "diagnostics": diagnostics})


def regression_from_parts(description, arrays):
    """The fitted ``DPMixtureRegression`` (or ``MirroredRegression``) of
    ``regression_parts``."""
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise ValueError(f"not a saved {FORMAT} surrogate")
    reg = DPMixtureRegression(**description["params"])
    for name, value in description["fitted"].items():
        if name == "feature_names_in_":
            value = np.array(value, dtype=object)
        elif isinstance(value, list):
            value = tuple(value)
        setattr(reg, name, value)
    diagnostics = dict(description["diagnostics"])
    for key, value in arrays.items():
        if key.startswith("diagnostics/"):
            diagnostics[key.removeprefix("diagnostics/")] = value
        else:
            setattr(reg, key, value)
    reg.diagnostics_ = diagnostics
    if not hasattr(reg, "mixture_coef_"):  # saved before scrutiny kept it
        _mixture_from_draws(reg)
    return MirroredRegression(reg) if description.get("mirrored") else reg


def _mixture_from_draws(reg):
    """``predict``'s ``mixture_coef_`` and ``mixture_intercept_``, which the fit sums over
    every kept draw, from the stored draws: the same where all were stored, else an
    estimate from the thinned ones."""
    held = reg.counts_draws_ > 0
    share = np.where(held, reg.weights_draws_, 0.0)
    share = share / share.sum(axis=1, keepdims=True) / len(share)
    reg.mixture_coef_ = sum(
        share[h, j] @ reg.coef_draws_[h, j].astype(np.float64) for j, h in enumerate(held.T)
    )
    reg.mixture_intercept_ = float((share * np.where(held, reg.intercept_draws_, 0.0)).sum())
    unseen = (np.nan_to_num(reg.coef_) == 0).all(axis=0)  # columns 0 in every fit row
    reg.mixture_coef_[unseen] = 0.0


def save_regression(reg, path):
    """Write ``path``.npz and ``path``.json over whatever is there (the fit cache's own
    entries, rewritten when unreadable), with checksums of the arrays and the description;
    returns the two paths."""
    arrays, description = regression_parts(reg)
    body = to_json(description)  # before any file is written: what JSON cannot hold
    sums = {name: array_digest(a) for name, a in arrays.items()}
    text = json.dumps({"description": body, "sha256": sums, "description_sha256": _sha(body)})
    return write_pair(path, arrays, text, fmt=None)  # leaves none


def load_regression(path):
    """The fitted ``DPMixtureRegression`` (or ``MirroredRegression``) written by
    ``save_regression``; a ValueError for files that do not match their checksums (another
    entry's arrays, an edited description: read, they gave another fit, or failed later)."""
    npz, meta_path = paired(path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    try:
        body = meta["description"]
        if _sha(body) != meta["description_sha256"]:
            raise ValueError("its description does not match its checksum")
        with np.load(npz, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        sums = meta["sha256"]
        if set(sums) != set(arrays) or any(array_digest(a) != sums[k] for k, a in arrays.items()):
            raise ValueError("its arrays do not match their checksums")
        return regression_from_parts(json.loads(body), arrays)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{meta_path}: {exc}") from exc


def _sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
