"""The exact variate generators and the elastic-net density, against closed forms.

Distribution checks use Kolmogorov-Smirnov tests at level 1e-4 (about a dozen of them run,
so a false alarm is about 1 in 1,000 runs; they are seeded, so a run is repeatable) and
moment checks use CLT z-scores below 4.5.
"""

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import erfc, erfcx

from scrutiny.surrogate import elastic_net
from scrutiny.surrogate.distributions import (
    inverse_gaussian,
    log_dirichlet,
    log_gamma_variates,
    noise_precision,
    slice_sample,
    truncated_gamma_excess,
)

KS_LEVEL = 1e-4


@pytest.mark.parametrize("mean,shape", [(1.0, 1.0), (0.01, 3.0), (50.0, 0.5)])
def test_inverse_gaussian_moments(mean, shape):
    rng = np.random.default_rng(1)
    x = inverse_gaussian(rng, np.full(400_000, mean), shape)
    assert (x > 0).all()
    assert stats.kstest(x, stats.invgauss(mean / shape, scale=shape).cdf).pvalue > KS_LEVEL


def test_inverse_gaussian_extreme_mean_is_finite_and_levy():
    # mean/shape = 1e12: numpy's wald cancels here; the limit is the Levy distribution.
    rng = np.random.default_rng(2)
    x = inverse_gaussian(rng, np.full(100_000, 1e12), 2.0)
    assert np.isfinite(x).all() and (x > 0).all()
    assert stats.kstest(x, stats.levy(scale=2.0).cdf).pvalue > KS_LEVEL
    # beyond mean/shape ~ 1e154, r (r + 2) overflows: the draws were 0
    x = inverse_gaussian(rng, np.full(100_000, 1e200), 1.0)
    assert (x > 0).all()
    assert stats.kstest(x, stats.levy(scale=1.0).cdf).pvalue > KS_LEVEL


@pytest.mark.parametrize("rate", [1e-3, 0.3, 1.0, 7.0, 400.0])
def test_truncated_gamma_excess_matches_cdf(rate):
    rng = np.random.default_rng(3)
    v = truncated_gamma_excess(rng, np.full(50_000, rate))
    assert (v > 0).all()

    def cdf(x):  # P(tau - 1 <= x) for tau ~ Gamma(1/2, rate) on (1, inf)
        x = np.asarray(x)
        tail = erfcx(np.sqrt(rate * (1 + x))) / erfcx(np.sqrt(rate)) * np.exp(-rate * x)
        return 1.0 - tail

    assert stats.kstest(v, cdf).pvalue > KS_LEVEL


def _numeric_cdf(logpdf, lo, hi, n=200_001):
    grid = np.linspace(lo, hi, n)
    lp = logpdf(grid)
    dens = np.exp(lp - lp.max())
    cum = integrate.cumulative_trapezoid(dens, grid, initial=0.0)
    return lambda x: np.interp(x, grid, cum / cum[-1])


@pytest.mark.parametrize(
    "shape,rate,n_coef,c",
    [(400.0, 300.0, 784, 0.5), (30.0, 5.0, 784, 1e-3), (3.0, 1.0, 50, 20.0), (1.6, 0.2, 1, 1e4)],
)
def test_noise_precision_matches_density(shape, rate, n_coef, c):
    rng = np.random.default_rng(4)
    t = noise_precision(rng, np.full(30_000, shape), rate, n_coef, c)

    def logpdf(x):
        x = np.maximum(x, 1e-300)
        return (shape - 1) * np.log(x) - rate * x - n_coef * elastic_net.log_erfcx(np.sqrt(c * x))

    hi = np.quantile(t, 0.9999) * 3
    assert stats.kstest(t, _numeric_cdf(logpdf, 0.0, hi)).pvalue > KS_LEVEL


def test_noise_precision_without_elastic_term_is_gamma():
    rng = np.random.default_rng(5)
    t = noise_precision(rng, np.full(50_000, 2.5), 4.0, 10, 0.0)
    assert stats.kstest(t, stats.gamma(2.5, scale=0.25).cdf).pvalue > KS_LEVEL


def test_log_gamma_variates_small_shape_do_not_underflow():
    rng = np.random.default_rng(6)
    lg = log_gamma_variates(rng, np.full(100_000, 0.01))
    assert np.isfinite(lg).all()
    # log of Gamma(a) draws: E[log G] = digamma(a)
    from scipy.special import digamma, polygamma

    se = np.sqrt(polygamma(1, 0.01) / lg.size)
    assert abs(lg.mean() - digamma(0.01)) / se < 4.5


def test_log_dirichlet_sums_to_one():
    rng = np.random.default_rng(7)
    lw = log_dirichlet(rng, np.array([1 / 3, 1 / 3, 40.0]))
    assert np.isclose(np.exp(lw).sum(), 1.0)


def test_slice_sampler_targets_its_density_in_every_coordinate():
    rng = np.random.default_rng(8)
    shapes = np.array([3.0, 0.7, 40.0])  # a wide, a skewed-to-zero and a narrow target

    def logf(x):  # log Gamma(shape_i) densities of log x_i, up to constants
        return shapes * x - np.exp(x)

    x, draws = np.zeros(3), []
    for _ in range(20_000):
        x = slice_sample(rng, logf, x)
        draws.append(np.exp(x))
    draws = np.array(draws[1000::5])  # thin: slice draws are mildly autocorrelated
    for i, a in enumerate(shapes):
        assert stats.kstest(draws[:, i], stats.gamma(a).cdf).pvalue > KS_LEVEL / shapes.size


def test_slice_sampling_from_a_point_of_no_density_is_an_error_not_a_hang():
    rng = np.random.default_rng(0)
    for bad in (np.nan, -np.inf, np.inf):
        with pytest.raises(FloatingPointError, match="log density"):
            slice_sample(rng, lambda x, bad=bad: np.where(x == 0.0, bad, -(x**2)), np.zeros(2))


@pytest.mark.parametrize(
    "s2,lam1,lam2", [(1.0, 1.0, 1.0), (0.01, 5.0, 0.1), (4.0, 1e-4, 8.0), (1e-4, 50.0, 50.0)]
)
def test_elastic_net_density_integrates_to_one(s2, lam1, lam2):
    def f(b):
        return np.exp(elastic_net.log_density(abs(b), b * b, 1, s2, lam1, lam2))

    # the density decays at least as fast as the faster of its Laplace and Gaussian parts
    scale = min(np.sqrt(s2 / lam2), 2 * s2 / lam1)
    total = 2 * integrate.quad(f, 0, 80 * scale, points=[scale, 5 * scale], limit=200)[0]
    assert total == pytest.approx(1.0, rel=1e-6)


def test_elastic_net_with_zero_lambda1_is_ridge():
    b = np.linspace(-3, 3, 7)
    got = elastic_net.log_density(np.abs(b), b * b, 1, 2.0, 0.0, 0.5)
    assert np.allclose(got, stats.norm(0, np.sqrt(2.0 / 0.5)).logpdf(b))


def test_tangent_ratio_is_the_derivative():
    c, n = 0.7, 3.0
    t = np.logspace(-6, 8, 200)
    h = 1e-6 * t

    def g(x):
        return -n * elastic_net.log_erfcx(np.sqrt(c * x))

    numeric = (g(t + h) - g(t - h)) / (2 * h)
    analytic = n * c * elastic_net.tangent_ratio(np.sqrt(c * t))
    assert np.allclose(analytic, numeric, rtol=1e-5)


def test_log_normalizer_matches_naive_form_where_that_is_finite():
    s2, lam1, lam2 = 0.8, 1.3, 2.1
    naive = np.log(
        2
        * np.sqrt(2 * np.pi * s2 / lam2)
        * np.exp(lam1**2 / (8 * lam2 * s2))
        * 0.5
        * erfc(lam1 / np.sqrt(8 * lam2 * s2))
    )
    assert elastic_net.log_normalizer(s2, lam1, lam2) == pytest.approx(naive, rel=1e-12)
