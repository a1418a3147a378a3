"""Incremental sufficient statistics equal a fresh computation; every backend fits."""

import numpy as np
import pytest

from scrutiny import DPMixtureRegression
from scrutiny.surrogate.backends import make_backend
from scrutiny.surrogate.kernel import GibbsData
from scrutiny.surrogate.stats import ComponentStats


@pytest.mark.parametrize("backend_args", [("cpu", "float64"), ("torch", "float64")])
@pytest.mark.parametrize(
    "min_rows,refresh", [(0, 10_000), (55, 10_000), (55, 7)], ids=["all", "lazy", "refreshed"]
)
def test_incremental_statistics_equal_recomputed(backend_args, min_rows, refresh):
    if backend_args[0] == "torch":
        pytest.importorskip("torch")
    be = make_backend(*backend_args)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((300, 6))
    Z[:, 2] = 0.0  # an all-zero column is dropped from X
    data = GibbsData.build(Z, rng.standard_normal(300), be)
    assert data.n_cols == 6 and list(data.columns) == [0, 1, 2, 4, 5, 6]
    labels = rng.integers(5, size=300)
    stats = ComponentStats(data, labels, 5, refresh=refresh, min_rows=min_rows)
    p = np.array([0.5, 0.3, 0.1, 0.07, 0.03])  # sizes around min_rows: components cross it
    crossed = set()
    for sweep in range(30):  # few, many and no moves; the largest component changes
        labels = labels.copy()
        k = [3, 150, 0, 40][sweep % 4]
        idx = rng.choice(300, k, replace=False)
        labels[idx] = rng.choice(5, size=k, p=np.roll(p, sweep // 4))
        before = stats.has_gram.copy()
        stats.update(data, labels)
        crossed |= set(np.flatnonzero(before != stats.has_gram))
        X, y = be.to_numpy(data.X), data.y_np
        for j in range(5):
            rows = labels == j
            assert stats.counts[j] == rows.sum()
            assert np.array_equal(stats.rows(j), np.flatnonzero(rows))
            assert stats.has_gram[j] == (0 < rows.sum() >= min_rows)
            assert np.isclose(stats.yy[j], (y[rows] ** 2).sum())
            if stats.has_gram[j]:
                assert np.allclose(be.to_numpy(stats.gram[j]), X[rows].T @ X[rows], atol=1e-9)
                assert np.allclose(be.to_numpy(stats.xty[j]), X[rows].T @ y[rows], atol=1e-9)
    assert min_rows == 0 or len(crossed) >= 3  # Gram matrices were dropped and rebuilt


@pytest.mark.parametrize(
    "device,dtype", [("cpu", "float32"), ("torch", "float64"), ("torch", "float32")]
)
def test_other_backends_recover_a_mixture(device, dtype):
    if device == "torch":
        pytest.importorskip("torch")
    from sklearn.metrics import adjusted_rand_score

    from tests.surrogate.synthetic import sparse_mixture

    Z, y, z, _, _ = sparse_mixture(seed=5, n=1200, p=20, n_active=5)
    m = DPMixtureRegression(
        6, n_sweeps=200, n_chains=1, device=device, dtype=dtype, random_state=0, progress=False
    ).fit(Z, y)
    assert adjusted_rand_score(z, m.labels_) >= 0.9


def test_torch_backend_is_repeatable():
    pytest.importorskip("torch")
    from tests.surrogate.synthetic import sparse_mixture

    Z, y, *_ = sparse_mixture(seed=6, n=300, p=6, n_active=3)
    kw = dict(n_components=4, n_sweeps=40, device="torch", random_state=1, progress=False)
    a = DPMixtureRegression(**kw).fit(Z, y)
    b = DPMixtureRegression(**kw).fit(Z, y)
    assert np.array_equal(a.coef_, b.coef_, equal_nan=True)


def test_cuda_request_is_honoured_or_explained():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        assert make_backend("cuda").device.type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="no CUDA device"):
            make_backend("cuda")
