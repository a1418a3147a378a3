"""The DMM-MEN surrogate: estimator, Gibbs kernel, driver, diagnostics and backends."""

from scrutiny.surrogate.estimator import DPMixtureRegression

__all__ = ["DPMixtureRegression"]
