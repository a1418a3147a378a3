"""A fitted ``DPMixtureRegression`` as plain files: ``.npz`` of its arrays (loaded with
``allow_pickle=False``, so loading runs no code) beside ``.json`` of its parameters and
scalars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from scrutiny.surrogate.estimator import DPMixtureRegression

FORMAT = "scrutiny.dp-mixture-regression/1"


def save_regression(reg, path):
    """Write ``path``.npz and ``path``.json; returns the two paths."""
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
                    diagnostics[key] = _plain(v)
        elif isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            scalars[name] = _plain(value)
    meta = {
        "format": FORMAT,
        "params": reg.get_params(),
        "fitted": scalars,
        "diagnostics": diagnostics,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path.with_suffix(".npz"), **arrays)
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path.with_suffix(".npz"), path.with_suffix(".json")


def load_regression(path):
    """The fitted ``DPMixtureRegression`` written by ``save_regression``."""
    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}.json is not a saved {FORMAT} surrogate")
    reg = DPMixtureRegression(**meta["params"])
    for name, value in meta["fitted"].items():
        setattr(reg, name, tuple(value) if isinstance(value, list) else value)
    diagnostics = dict(meta["diagnostics"])
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as data:
        for key in data.files:
            if key.startswith("diagnostics/"):
                diagnostics[key.removeprefix("diagnostics/")] = data[key]
            else:
                setattr(reg, key, data[key])
    reg.diagnostics_ = diagnostics
    return reg


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    return v
