"""scrutiny: explain black-box models with a Bayesian non-parametric surrogate (DMM-MEN),
prove the explanations faithful, and use them to find the model's weaknesses."""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "DPMixtureRegression": "scrutiny.surrogate.estimator",
    "Explainer": "scrutiny.explainer",
    "Explanation": "scrutiny.explanation",
    "ModelAdapter": "scrutiny.models",
    "TextEncoder": "scrutiny.text",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'scrutiny' has no attribute {name!r}")
