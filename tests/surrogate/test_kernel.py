"""The kernel's contract: init/step are pure in the state's values, and options hold."""

import numpy as np
import pytest

from scrutiny.surrogate import kernel
from scrutiny.surrogate.backends import make_backend
from tests.surrogate.synthetic import sparse_mixture


def small_data(dtype="float64"):
    Z, y, z, *_ = sparse_mixture(seed=4, n=300, p=8, n_active=3)
    return kernel.GibbsData.build(Z, (y - y.mean()) / y.std(), make_backend("cpu", dtype)), z


def test_step_leaves_the_old_state_untouched_and_is_reproducible():
    data, _ = small_data()
    params = kernel.SamplerParams(kernel.Priors(n_components=4))
    state = kernel.init(np.random.default_rng(0), data, params)
    frozen = {k: np.copy(v) for k, v in vars(state).items() if isinstance(v, np.ndarray)}
    a, info_a = kernel.step(np.random.default_rng(1), state, data)
    for key, value in frozen.items():
        assert np.array_equal(getattr(state, key), value), key
    # the same state and seed give the same next state (the statistics cache moves itself)
    b, info_b = kernel.step(np.random.default_rng(1), state, data)
    assert np.array_equal(a.coef, b.coef) and np.array_equal(a.labels, b.labels)
    assert info_a.log_likelihood == info_b.log_likelihood


def test_fixed_labels_keep_the_partition():
    data, z = small_data()
    params = kernel.SamplerParams(kernel.Priors(n_components=3), init=z, fixed_labels=True)
    rng = np.random.default_rng(2)
    state = kernel.init(rng, data, params)
    for _ in range(20):
        state, info = kernel.step(rng, state, data)
    assert np.array_equal(state.labels, z)
    assert np.array_equal(info.counts, np.bincount(z, minlength=3))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_vague_noise_prior_keeps_every_draw_finite(dtype):
    """Gamma(0.001) noise precisions of empty components underflow to 0 about half the
    time: their s2 must stay finite, or NaN reaches the penalties' slice sampler (which
    hung) and the labels (which all went to component 0). Such a component's s2 (1e300)
    and coefficients (1e150) overflow float32: its likelihood must not be NaN there."""
    data, _ = small_data(dtype)
    priors = kernel.Priors(n_components=6, noise_shape=0.001, noise_scale=0.001)
    rng = np.random.default_rng(3)
    state = kernel.init(rng, data, kernel.SamplerParams(priors))
    for _ in range(60):
        state, info = kernel.step(rng, state, data)
        assert np.isfinite(info.log_likelihood).all()
        assert np.isfinite(state.noise_var).all() and np.isfinite(state.coef).all()
    assert (info.counts > 0).sum() > 1


def test_one_component_still_draws_the_concentration():
    """With no sticks, alpha's conditional is its prior Gamma(e, f): it moves every sweep."""
    data, _ = small_data()
    rng = np.random.default_rng(4)
    state = kernel.init(rng, data, kernel.SamplerParams(kernel.Priors(n_components=1)))
    alphas = []
    for _ in range(200):
        state, _ = kernel.step(rng, state, data)
        alphas.append(state.concentration[0])
    pri = state.params.priors
    mean = pri.concentration_shape / pri.concentration_rate
    assert len(set(alphas)) == 200
    # 200 independent prior draws: their mean is within 4 standard errors of the prior's
    assert abs(np.mean(alphas) - mean) < 4 * np.sqrt(
        pri.concentration_shape
    ) / pri.concentration_rate / np.sqrt(200)
