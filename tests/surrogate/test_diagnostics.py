"""R-hat, ESS, the bounded draw buffer and label matching, on chains with known answers."""

import warnings

import numpy as np
import pytest

from scrutiny.surrogate.diagnostics import average_ranks, effective_sample_size, split_rhat
from scrutiny.surrogate.driver import _pool_chains
from scrutiny.surrogate.kernel import ChainDraw
from scrutiny.surrogate.summaries import ChainSummary, ThinningBuffer, match_labels


def ar1(rng, rho, chains, n, shift=0.0):
    x = np.empty((chains, n))
    x[:, 0] = rng.standard_normal(chains)
    e = rng.standard_normal((chains, n)) * np.sqrt(1 - rho**2)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + e[:, t]
    return x + shift


def test_average_ranks_match_scipy_with_ties_and_nan():
    from scipy.stats import rankdata

    rng = np.random.default_rng(3)
    a = rng.integers(0, 6, size=(40, 3, 2)).astype(float)  # many ties
    a[:, 2, 1] = rng.standard_normal(40)  # none
    a[5, 1, 0] = np.nan
    np.testing.assert_array_equal(average_ranks(a), rankdata(a, axis=0))


def test_rhat_is_one_for_stationary_chains_and_flags_disagreement():
    rng = np.random.default_rng(0)
    good = ar1(rng, 0.5, 4, 2000)
    assert split_rhat(good) < 1.01
    # one chain off by 2 sd: R-hat about 1.4 (by 1 sd it sat at 1.10, the threshold itself,
    # failing at 125 of 300 seeds)
    apart = good + np.array([0.0, 0.0, 0.0, 2.0])[:, None]
    assert split_rhat(apart) > 1.1
    trend = good[:1] + np.linspace(0, 3, 2000)  # one chain that drifts: split catches it
    assert split_rhat(trend) > 1.1


def test_rhat_vectorises_over_parameters():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 500, 3, 4))
    x[1, :, 0, 0] += 2.0
    r = split_rhat(x)
    assert r.shape == (3, 4)
    assert r[0, 0] > 1.1 and np.delete(r.ravel(), 0).max() < 1.05


@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_ess_matches_ar1_theory(rho):
    rng = np.random.default_rng(2)
    x = ar1(rng, rho, 4, 5000)
    expected = x.size * (1 - rho) / (1 + rho)
    # the ESS estimate of 20,000 AR(1) draws has a relative error of sd 0.021 at rho 0 and
    # 0.062 at rho 0.8 (400 seeds): 0.25 is 4 sd of the worse (0.15 failed 2.2% of seeds);
    # an estimate blind to the autocorrelation would be 9 times too large at 0.8
    assert effective_sample_size(x) == pytest.approx(expected, rel=0.25)


def test_thinning_buffer_stays_bounded_and_evenly_spaced():
    buf = ThinningBuffer(8)
    for i in range(1000):
        buf.offer(i=i, v=np.full(3, i))
    kept = buf.get("i")
    assert len(kept) <= 8 and len(kept) >= 4
    assert np.all(np.diff(kept) == buf.stride)
    assert kept[0] == 0
    assert np.array_equal(buf.get("v")[:, 0], kept)
    with pytest.raises(ValueError):
        ThinningBuffer(5)
    # it thins only when another draw is due: exactly `capacity` draws are all kept, and
    # any number of them keeps more than half the capacity, evenly spaced from draw 0
    for n in (8, 9, 16, 17, 100):
        buf = ThinningBuffer(8)
        for i in range(n):
            buf.offer(i=i)
        kept = buf.get("i")
        assert kept[0] == 0 and np.all(np.diff(kept) == buf.stride) and 4 < len(kept) <= 8
        assert n != 8 or np.array_equal(kept, np.arange(8))


def test_thinning_buffer_memory_follows_the_draws_kept_not_its_capacity():
    """It allocated ``capacity`` rows up front: max_stored_draws=400000 took 494 MB for a
    tiny fit, 10**12 a MemoryError after burn-in. Rows now double as draws come."""
    buf = ThinningBuffer(10**6)
    for i in range(30):
        buf.offer(v=np.full((5, 5), i))
    assert len(buf.arrays["v"]) <= 2 * 30
    np.testing.assert_array_equal(buf.get("v")[:, 2, 3], np.arange(30))


def _draw(held, coef):
    """A ChainDraw of 4 rows, all in component ``held`` of 2, with coefficients ``coef``."""
    counts = np.bincount(np.full(4, held), minlength=2)
    return ChainDraw(
        labels=np.full(4, held),
        log_weights=np.log([0.5, 0.5]),
        coef=coef,
        noise_var=np.ones(2),
        concentration=1.0,
        counts=counts,
        log_likelihood=0.0,
        lam1=np.ones(1),
        lam2=np.ones(1),
        nets=np.zeros(2, dtype=int),
    )


def test_posterior_sd_of_a_coefficient_far_from_zero_for_its_spread():
    """Draws of mean 1e7 and sd 0.01: E[x^2] - E[x]^2 from running sums cancelled (sd 0.35,
    35 times too large). Two chains, the second naming the component 1 (pooling permutes
    it back) and with its mean 0.01 higher; the empty component's prior draws, 1e30, and
    the capacity, far above the 200 draws, must not matter."""
    rng = np.random.default_rng(0)
    xs = [1e7 + shift + 0.01 * rng.standard_normal((200, 3)) for shift in (0.0, 0.01)]
    chains = []
    for c, x in enumerate(xs):
        summary = ChainSummary(4, 2, 10**6)
        for row in x:
            coef = np.full((2, 3), 1e30)
            coef[c] = row
            summary.record(_draw(c, coef))
        chains.append((summary, {"lambda1": 0, "lambda2": 0, "nets": 0}, 0.0))
    post = _pool_chains(chains, 400)
    x = np.concatenate(xs)
    # float64 spaces numbers near 1e7 by 1.9e-9, 2e-7 of the sd: each draw's deviation is
    # good to that share, and the sd to about that
    np.testing.assert_allclose(np.sqrt(post.coef_var[0]), x.std(axis=0), rtol=1e-6)
    # the mean: a rounding of 1e7 per draw at most, 400 of them
    np.testing.assert_allclose(post.coef_mean[0], x.mean(axis=0), rtol=400 * 2.3e-16)
    assert np.isnan(post.coef_mean[1]).all() and np.isnan(post.coef_var[1]).all()
    np.testing.assert_array_equal(post.draws["coef"][:, :, 0], np.float32(xs))


def test_match_labels_undoes_a_permutation():
    rng = np.random.default_rng(3)
    labels = rng.integers(4, size=300)
    perm = np.array([2, 0, 3, 1])
    ref = np.eye(4)[labels]
    new = np.eye(4)[np.argsort(perm)[labels]]  # the same partition under other names
    back = match_labels(ref, new)
    assert np.array_equal(back[np.argsort(perm)[labels]], labels)


def _reference_rhat(x, folded=None):
    """Rank-normalised split R-hat of one parameter, written out from Vehtari et al. (2021):
    the tail's draws are folded about the median of all of them (or given), then split."""
    from scipy.stats import norm, rankdata

    def split(a):
        half = a.shape[1] // 2
        return np.concatenate([a[:, :half], a[:, a.shape[1] - half :]])

    def z(a):
        return norm.ppf((rankdata(a).reshape(a.shape) - 0.375) / (a.size + 0.25))

    def basic(a):
        n = a.shape[1]
        between, within = n * a.mean(axis=1).var(ddof=1), a.var(axis=1, ddof=1).mean()
        return np.sqrt((between / within + n - 1) / n)

    if folded is None:
        folded = np.abs(x - np.median(x))
    return max(basic(z(split(x))), basic(z(split(folded))))


@pytest.mark.parametrize("n", [9, 31, 200])
def test_rhat_matches_the_definition_for_odd_and_even_chains(n):
    # an odd chain's middle draw is left out of the split but not of the tail's median
    rng = np.random.default_rng(5)
    for _ in range(6):
        x = ar1(rng, 0.3, 3, n)
        assert split_rhat(x) == pytest.approx(_reference_rhat(x), rel=1e-12)


def test_rhat_and_ess_take_infinite_draws_as_the_largest_quietly():
    """They are rank-based: an infinite draw counts as larger than every finite one. Where
    over half the draws are infinite, so is the tail's median, and those at it fold to 0
    (inf - inf was NaN, and a RuntimeWarning)."""
    rng = np.random.default_rng(7)
    x = ar1(rng, 0.3, 2, 40)
    some, most = x.copy(), x.copy()
    some[x > 1.0] = np.inf  # the median stays finite
    most[x > -1.0] = np.inf  # the median is inf
    huge = np.where(np.isinf(some), 1e300, some)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert split_rhat(some) == pytest.approx(split_rhat(huge), rel=1e-12)
        assert effective_sample_size(some) == pytest.approx(effective_sample_size(huge))
        r = split_rhat(most)
    # with the median at inf: the finite draws fold to inf, all tied, the infinite to 0
    fold = np.where(np.isinf(most), 0.0, np.inf)
    assert r == pytest.approx(_reference_rhat(most, folded=fold), rel=1e-12)


def _reference_ess(x):
    """Bulk ESS of one parameter, written out with loops as arviz 0.17.1's ``_ess`` has it:
    Geyer's initial positive sequence over pairs of autocorrelations, looked at while
    t < n - 3; the even lag of the pair that ends it; then the monotone sequence."""
    from scipy.stats import norm, rankdata

    half = x.shape[1] // 2
    a = np.concatenate([x[:, :half], x[:, x.shape[1] - half :]])
    z = norm.ppf((rankdata(a).reshape(a.shape) - 0.375) / (a.size + 0.25))
    m, n = z.shape
    d = z - z.mean(axis=1, keepdims=True)
    acov = np.array([[d[j, : n - t] @ d[j, t:] / n for t in range(n)] for j in range(m)])
    within = acov[:, 0].mean() * n / (n - 1)
    var_plus = within * (n - 1) / n + z.mean(axis=1).var(ddof=1)
    rho = 1 - (within - acov.mean(axis=0)) / var_plus
    kept = np.zeros(n)
    kept[0], kept[1] = 1.0, rho[1]
    even, odd, t = 1.0, rho[1], 1
    while t < n - 3 and even + odd > 0:
        even, odd = rho[t + 1], rho[t + 2]
        if even + odd >= 0:
            kept[t + 1], kept[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0:
        kept[max_t + 1] = even
    for t in range(1, max_t - 1, 2):
        if kept[t + 1] + kept[t + 2] > kept[t - 1] + kept[t]:
            kept[t + 1] = kept[t + 2] = (kept[t - 1] + kept[t]) / 2
    tau = -1 + 2 * kept[: max_t + 1].sum() + kept[max_t + 1 : max_t + 2].sum()
    return m * n / max(tau, 1 / np.log10(m * n))


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 0.97])
def test_ess_matches_the_definition(rho):
    """Short chains, where the truncation of the autocorrelations matters most."""
    rng = np.random.default_rng(6)
    for n in (9, 20, 51, 300):
        x = ar1(rng, rho, 3, n)
        assert effective_sample_size(x) == pytest.approx(_reference_ess(x), rel=1e-10)


# arviz 0.17.1's ess(method="bulk") of ar1(np.random.default_rng(seed), rho, chains, draws)
ARVIZ_BULK_ESS = [
    (0, 0.9, 2, 20, 5.516599596563405),
    (11, 0.9, 2, 20, 11.736649324513184),  # its last pair is positive, its even lag not
    (0, 0.5, 4, 8, 48.16479930623699),  # 4 split draws: no pair looked at, tau floored
    (0, 0.3, 3, 11, 13.84455358325734),
]


@pytest.mark.parametrize("seed,rho,chains,draws,expected", ARVIZ_BULK_ESS)
def test_ess_matches_arviz_on_short_chains(seed, rho, chains, draws, expected):
    """Pairs of autocorrelations summed to lag n - 1 put these 9% to 75% below arviz's."""
    x = ar1(np.random.default_rng(seed), rho, chains, draws)
    assert effective_sample_size(x) == pytest.approx(expected, rel=1e-10)
    # and over parameters at once, each as on its own
    both = np.stack([x, x[::-1]], axis=-1)
    np.testing.assert_allclose(effective_sample_size(both), expected, rtol=1e-10)


def test_ess_of_a_constant_parameter_is_its_draw_count_as_in_arviz():
    x = np.ones((2, 21, 2))
    x[:, :, 1] = np.nan
    ess = effective_sample_size(x)
    assert ess[0] == 40  # 2 chains split in 4 halves of 10: the middle draws are left out
    assert np.isnan(ess[1])
    with pytest.raises(ValueError, match="ESS needs at least 4 draws per chain"):
        effective_sample_size(np.zeros((2, 3)))


def test_rhat_of_a_parameter_with_a_nan_draw_is_nan_not_converged():
    """A NaN made the within-chain variance NaN, and R-hat fell through to 1.0."""
    x = np.random.default_rng(0).normal(size=(2, 50, 2))
    x[1] += 5.0  # chains 5 sd apart: far from converged
    x[0, 7, 1] = np.nan
    rhat = split_rhat(x)
    assert rhat[0] > 1.5 and np.isnan(rhat[1])
