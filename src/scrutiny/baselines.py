"""Explanations to compare against, with the same ``Explanation`` interface."""

from __future__ import annotations

import numpy as np

from scrutiny.explanation import Explanation


def random_explanation(explanation, random_state=None):
    """The same inputs and targets with uniformly random contributions: the chance level
    of every fidelity test."""
    rng = np.random.default_rng(random_state)
    values = rng.uniform(size=explanation.values.shape)
    return Explanation(
        inputs=explanation.inputs,
        values=values,
        coefficients=np.full(values.shape, np.nan),
        target=explanation.target,
        baseline=explanation.baseline,
        model_logit=explanation.model_logit,
        method="random",
        meta={"seconds": 0.0, "model_queries": 0},
    )
