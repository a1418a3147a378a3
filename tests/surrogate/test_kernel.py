"""The kernel's contract: init/step are pure in the state's values, and options hold."""

import numpy as np

from scrutiny.surrogate import kernel
from scrutiny.surrogate.backends import make_backend
from tests.surrogate.synthetic import sparse_mixture


def small_data():
    Z, y, z, *_ = sparse_mixture(seed=4, n=300, p=8, n_active=3)
    return kernel.GibbsData.build(Z, (y - y.mean()) / y.std(), make_backend()), z


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
