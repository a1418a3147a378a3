"""The model is called only from the calling process (DESIGN.md): worker processes fit
surrogates to outputs already queried, so a model holding a GPU, a session or a lock is never
pickled into a worker nor called from one, in every mode."""

import os
import pickle
import threading

import numpy as np
import pytest

from scrutiny import Explainer

X = np.random.default_rng(0).normal(size=(300, 6))


class Recorded:
    """A softmax of three classes that notes the process of every call, and holds a lock,
    as a model holding a session would: it cannot be pickled, so sent to a worker it fails."""

    def __init__(self):
        self.pids, self.lock = set(), threading.Lock()

    def __call__(self, rows):
        self.pids.add(os.getpid())
        z = rows[:, :3] * np.array([2.0, -1.0, 1.5])
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def test_every_mode_calls_the_model_from_the_calling_process_only():
    model = Recorded()
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(model)
    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "progress": False, "n_jobs": 2}
    ex = Explainer(model, X, random_state=0, **kw)
    for mode in ("global", "local", "guided"):  # three class fits, four local ones
        ex.explain(X[:4], mode=mode, n_samples=40)
    assert model.pids == {os.getpid()}


def test_no_fit_to_run_draws_no_progress_bar(capsys):
    """Every fit loaded from the cache: an empty bar, "0it [00:00, ?it/s]", was left on
    stderr without a newline."""
    from scrutiny._parallel import fit_many

    assert fit_many(iter(()), total=0, progress=True) == {}
    assert fit_many([], progress=True) == {}
    assert capsys.readouterr().err == ""
