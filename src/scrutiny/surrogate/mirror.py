"""The surrogate of -y from the fit of y, for the two classes of a binary model."""

from __future__ import annotations

import numpy as np


class MirroredRegression:
    """A fitted ``DPMixtureRegression`` of y, read as the fit of -y.

    The priors are symmetric about 0 (coefficients, intercepts, the censoring bounds
    +-limit), so the posterior of the regression on -y is the mirror image of the one on y,
    draw for draw. A binary model's class-0 logit is minus its class-1 logit: one fit
    serves both classes, and their explanations are exact mirror images (as SHAP's are on
    the log-odds) instead of two Monte-Carlo estimates that differ.
    """

    _NEGATED = frozenset(
        {
            "coef_",
            "intercept_",
            "coef_draws_",
            "intercept_draws_",
            "y_center_",
            "mixture_coef_",
            "mixture_intercept_",
        }
    )

    def __init__(self, regression):
        self.regression = regression

    def __getattr__(self, name):  # what does not change sign is the fit's own
        if name == "regression":  # not set yet (while unpickling)
            raise AttributeError(name)
        value = getattr(self.regression, name)
        if name == "censoring_":  # -y is censored below at -upper and above at -lower
            return -value[1], -value[0]
        return -value if name in self._NEGATED else value

    def __repr__(self):
        return f"MirroredRegression({self.regression!r})"

    def predict(self, Z):
        return -self.regression.predict(Z)

    def predict_components(self, Z):
        return -self.regression.predict_components(Z)

    def score(self, Z, y):
        return self.regression.score(Z, -np.asarray(y))

    def responsibilities(self, Z, y, batch_size=256):
        return self.regression.responsibilities(Z, -np.asarray(y), batch_size=batch_size)

    def assign(self, Z, y):
        return self.regression.assign(Z, -np.asarray(y))

    def coef_interval(self, level=0.95, components=None):
        lower, upper = self.regression.coef_interval(level, components)
        return -upper, -lower

    def row_posterior(self, z, y, level=0.95):
        coef, intercept, lower, upper = self.regression.row_posterior(z, -np.asarray(y), level)
        return -coef, -intercept, -upper, -lower
