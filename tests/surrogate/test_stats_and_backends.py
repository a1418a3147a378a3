"""Incremental sufficient statistics equal a fresh computation; every backend fits."""

import numpy as np
import pytest

from scrutiny import DPMixtureRegression
from scrutiny.surrogate.backends import make_backend
from scrutiny.surrogate.kernel import GibbsData
from scrutiny.surrogate.stats import ComponentStats
from tests.surrogate.devices import TORCH


@pytest.mark.parametrize("n_chains", [1, 2], ids=["one chain", "two chains as one"])
@pytest.mark.parametrize(
    "backend_args", [("cpu", "float64"), (TORCH, "float64")], ids=["numpy", "torch"]
)
@pytest.mark.parametrize(
    "min_rows,refresh", [(0, 10_000), (55, 10_000), (55, 7)], ids=["all", "lazy", "refreshed"]
)
def test_incremental_statistics_equal_recomputed(backend_args, min_rows, refresh, n_chains):
    """Also with chains run as one: virtual rows c n + i, components c J + j, a derived
    component and X'y totals per chain, each chain with a response of its own (and new
    responses later)."""
    if backend_args[0] != "cpu":
        pytest.importorskip("torch")
    be = make_backend(*backend_args)
    rng = np.random.default_rng(0)
    n, J, C = 300, 5, n_chains
    Z = rng.standard_normal((n, 6))
    Z[:, 2] = 0.0  # an all-zero column is dropped from X
    data = GibbsData.build(Z, rng.standard_normal((C, n)), be)  # one response per chain
    assert data.n_cols == 6 and list(data.columns) == [0, 1, 2, 4, 5, 6]
    offset = np.repeat(J * np.arange(C), n)  # chain c's components are c J .. c J + J - 1
    labels = rng.integers(J, size=C * n) + offset
    stats = ComponentStats(data, labels, C * J, refresh=refresh, min_rows=min_rows, n_chains=C)
    p = np.array([0.5, 0.3, 0.1, 0.07, 0.03])  # sizes around min_rows: components cross it
    X, y = be.to_numpy(data.X), data.y_np.reshape(-1)
    crossed = set()
    for sweep in range(34):  # few, many and no moves; the largest component changes
        labels = labels.copy()
        k = [3, 150, 0, 40][sweep % 4]
        idx = rng.choice(C * n, k, replace=False)
        labels[idx] = rng.choice(J, size=k, p=np.roll(p, sweep // 4)) + offset[idx]
        if sweep == 30:  # new responses: X'y is recomputed
            y = y + rng.standard_normal(C * n)
            stats.set_response(data, y)
        before = stats.has_gram.copy()
        stats.update(data, labels)
        crossed |= set(np.flatnonzero(before != stats.has_gram))
        for j in range(C * J):
            rows = np.flatnonzero(labels == j)
            assert stats.counts[j] == rows.size
            assert np.array_equal(stats.rows(j), rows)
            assert stats.has_gram[j] == (0 < rows.size >= min_rows)
            assert np.isclose(stats.yy[j], (y[rows] ** 2).sum())
            if stats.has_gram[j]:
                Xj = X[rows % n]
                assert np.allclose(be.to_numpy(stats.gram[j]), Xj.T @ Xj, atol=1e-9)
                assert np.allclose(be.to_numpy(stats.xty[j]), Xj.T @ y[rows], atol=1e-9)
    assert min_rows == 0 or len(crossed) >= 3  # Gram matrices were dropped and rebuilt


@pytest.mark.parametrize(
    "device,dtype", [("cpu", "float32"), (TORCH, "float64"), (TORCH, "float32")]
)
def test_other_backends_recover_a_mixture(device, dtype):
    if device != "cpu":
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
    kw = dict(n_components=4, n_sweeps=40, device=TORCH, random_state=1, progress=False)
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


def test_devices_are_named_before_any_work():
    """Settings are checked before worker processes start: a device or precision that does
    not exist is refused there, and every spelling of numpy's device is numpy."""
    from scrutiny.surrogate.backends import backend_name
    from scrutiny.surrogate.estimator import check_settings

    assert {backend_name(d) for d in (None, "cpu", "numpy")} == {"numpy"}
    assert {backend_name(d) for d in ("torch", "cuda", "cuda:1", "torch:cpu")} == {"torch"}
    for device in ("mps", "gpu", "cudafoo"):
        with pytest.raises(ValueError, match="device must be"):
            check_settings({"device": device})
    with pytest.raises(ValueError, match="dtype must be"):
        check_settings({"dtype": "float16"})


def test_a_torch_device_torch_cannot_compute_on_is_refused_before_any_work():
    """ "torch:mps" without MPS passed the settings check and failed after the queries."""
    pytest.importorskip("torch")
    from scrutiny.surrogate.estimator import check_settings

    with pytest.raises(RuntimeError, match="device='meta': torch cannot compute there"):
        check_settings({"device": "torch:meta"})


def test_a_float32_factor_that_fails_advises_float64():
    backend = make_backend("cpu", "float32")
    singular = np.zeros((1, 3, 3), dtype=np.float32)
    with pytest.raises(np.linalg.LinAlgError, match="dtype='float64'"):
        backend.cholesky(singular)


BACKENDS = [
    pytest.param(("cpu", "float32"), id="numpy-float32"),
    pytest.param(("cpu", "float64"), id="numpy-float64"),
    pytest.param((TORCH, "float32"), id="torch-float32"),
    pytest.param((TORCH, "float64"), id="torch-float64"),
]


def _backend(args):
    if args[0] != "cpu":
        pytest.importorskip("torch")
    return make_backend(*args)


@pytest.mark.parametrize("backend_args", BACKENDS)
def test_a_matrix_singular_to_rounding_is_factored_with_its_rounding_added(backend_args):
    """G + D with two equal columns in G and D far below G's rounding: positive definite
    only in exact arithmetic. Its diagonal is raised by (n + 1) eps times itself, at most 100
    times that, and only its own; a matrix beside it factors as it is."""
    be = _backend(backend_args)
    eps = np.finfo(backend_args[1]).eps
    # 4s: every step exact (2, then 4 - 2 * 2 = 0), so it fails on every machine; of 3s the
    # rounding of sqrt(3) left a float32 torch factor 3e-4 on one of ours
    singular = np.array([[4.0, 4.0], [4.0, 4.0]]) + 1e-30 * np.eye(2)
    fine = np.array([[4.0, 2.0], [2.0, 3.0]])
    a = be.asarray(np.stack([singular, fine]))
    low, added = be.cholesky(a)
    low = be.to_numpy(low)
    assert added.shape == (2, 2) and np.all(added[1] == 0.0)
    assert np.all(added[0] >= 3 * eps * np.diag(singular))
    assert np.all(added[0] <= 100 * 3 * eps * np.diag(singular))
    for k, (q, add) in enumerate([(singular, added[0]), (fine, added[1])]):
        L = np.tril(low[k])
        assert np.allclose(L @ L.T, q + np.diag(add), rtol=0, atol=50 * eps)
    assert np.allclose(np.tril(low[1]), np.linalg.cholesky(fine), rtol=0, atol=50 * eps)


@pytest.mark.parametrize("backend_args", BACKENDS)
def test_a_matrix_no_jitter_makes_positive_definite_is_refused(backend_args):
    be = _backend(backend_args)
    for bad in (np.zeros((3, 3)), np.diag([1.0, -1.0, 1.0]), np.diag([1.0, 1.0, -1e-30])):
        with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
            be.cholesky(be.asarray(bad[None]))


def test_a_float64_factor_that_fails_advises_centring():
    """In float64 it is the features (a column far from 0, say) that need fixing."""
    singular = np.zeros((1, 3, 3))
    with pytest.raises(np.linalg.LinAlgError, match=r"\(centre and scale the features\)"):
        make_backend("cpu", "float64").cholesky(singular)


def _singular_to_rounding(rows):
    """A table whose Gram matrix is singular (two equal columns) or, for ``rows``, whose
    rows repeat, fewer than the columns (the row path: I + X D^-1 X' singular)."""
    rng = np.random.default_rng(1)
    if rows:
        Z = np.repeat(rng.integers(0, 2, size=(4, 20)).astype(float), 3, axis=0)
        return Z, Z @ rng.normal(size=20) + 0.1 * rng.normal(size=12)
    z = rng.integers(0, 2, size=(200, 2)).astype(float)
    Z = np.hstack([z, z[:, 1:]])
    return Z, Z[:, 0] + 2 * Z[:, 1] - Z[:, 2] + 0.1 * rng.normal(size=200)


@pytest.mark.parametrize("rows", [False, True], ids=["gram", "rows"])
@pytest.mark.parametrize("device", ["cpu", TORCH], ids=["numpy", "torch"])
def test_float32_fits_a_component_singular_to_rounding(device, rows):
    """A component whose Gram matrix is singular, at a ridge penalty of 1e-9 (as a local
    fit's slice sampler drew once in CI, from a stale point: a 3-feature table of 8 distinct
    rows). float32 refused to factor G + D; it fits now, and what the data identify, the
    predictions at the fit's distinct rows, is float64's: to rounding on numpy, whose draws
    are the same in both dtypes; on torch, whose draws differ, within 4 noise sds (a fit
    row's posterior sd is at most one; the null direction, 1e4 and more, must not leak in)."""
    if device != "cpu":
        pytest.importorskip("torch")
    Z, y = _singular_to_rounding(rows)
    probe = np.unique(Z, axis=0)
    settings = dict(n_components=1, lambda1=0, lambda2=1e-9, n_sweeps=50, progress=False)
    fast = DPMixtureRegression(**settings, dtype="float32", device=device, random_state=0)
    exact = DPMixtureRegression(**settings, dtype="float64", random_state=0).fit(Z, y)
    got, want = fast.fit(Z, y).predict(probe), exact.predict(probe)
    tol = 1e-3 if device == "cpu" else 4 * np.sqrt(exact.noise_var_[0])
    assert np.all(np.abs(got - want) <= tol)
