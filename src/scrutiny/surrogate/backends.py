"""Array backends for the data-sized linear algebra of the Gibbs kernel.

The kernel keeps its small, per-component quantities in numpy float64 on the CPU and sends
only the heavy work (the design matrix, Gram matrices, Cholesky factors and triangular
solves) to a backend: numpy (default) or torch (``device="cuda"`` or ``"cpu"``). Both expose
the array-API namespace ``xp`` plus the few operations the standard lacks: batched
triangular solves and seeded random draws. torch is imported only when asked for.
"""

from __future__ import annotations

import numpy as np

_DTYPES = {"float64", "float32"}


class NumpyBackend:
    """CPU linear algebra through numpy / scipy (OpenBLAS)."""

    name = "numpy"

    def __init__(self, dtype="float64"):
        import array_api_compat.numpy as xp

        self.xp = xp
        self.dtype = np.dtype(dtype)
        self.device = "cpu"

    def __reduce__(self):  # to a chain's process: xp is a module, rebuilt rather than sent
        return (NumpyBackend, (self.dtype.name,))

    def generator(self, rng):
        """The generator for this sweep's array-sized draws: the kernel's own, here."""
        return rng

    def asarray(self, a, dtype=None):
        return np.asarray(a, dtype=self.dtype if dtype is None else dtype)

    def to_numpy(self, a):
        return np.asarray(a, dtype=np.float64) if a.dtype.kind == "f" else np.asarray(a)

    def index(self, idx):
        return np.asarray(idx, dtype=np.intp)

    def normal(self, gen, shape):
        return gen.standard_normal(shape).astype(self.dtype, copy=False)

    def uniform(self, gen, shape):
        return gen.random(shape).astype(self.dtype, copy=False)

    def cholesky(self, a):
        """Lower Cholesky factor(s), overwriting ``a`` (the upper triangle is left as is:
        only triangular solves read the factor), and what was added to each diagonal
        (``_jittered``; zeros for every matrix that factored as it was)."""
        from scipy.linalg import lapack

        potrf = lapack.get_lapack_funcs("potrf", (a,))
        n = a.shape[-1]
        mats = a.reshape(-1, n, n)
        added = np.zeros(mats.shape[:2])
        for m, add in zip(mats, added, strict=True):
            diag = m.diagonal().copy()  # potrf overwrites it; the strict upper half it keeps
            # LAPACK is column-major: the upper factor of a C-ordered m^T is the lower one of m
            _, info = potrf(m.T, lower=0, overwrite_a=1, clean=0)
            if info != 0:
                q = np.triu(m, 1)
                q += q.T
                q[np.diag_indices(n)] = diag
                low, add[:] = _jittered(q, self.dtype.name, _numpy_factor)
                m[np.tril_indices(n)] = low[np.tril_indices(n)]
        return a, added.reshape(a.shape[:-1])

    def solve_lower(self, low, b, transpose=False):
        """Solve L x = b (or L^T x = b), batched over leading axes; b has a trailing k axis.

        LAPACK's trtrs per matrix: scipy's batched ``solve_triangular`` spends 15-20 us of
        checks per call, as long as the solve itself at the sizes of small components.
        """
        from scipy.linalg import lapack

        trtrs = lapack.get_lapack_funcs("trtrs", (low,))
        n, k = low.shape[-1], b.shape[-1]
        lows, rhs = low.reshape(-1, n, n), b.reshape(-1, n, k)
        x = np.empty(rhs.shape, low.dtype)
        for i in range(len(lows)):
            # lows[i].T, column-major, is the upper factor L^T: trans=1 solves L x = b
            x[i], info = trtrs(lows[i].T, rhs[i], lower=0, trans=0 if transpose else 1)
            if info != 0:
                raise np.linalg.LinAlgError("singular triangular factor")
        return x.reshape(b.shape)


class TorchBackend:
    """The same operations on a torch device (CUDA on a GPU machine, or CPU for tests)."""

    name = "torch"

    def __init__(self, dtype="float64", device="cpu"):
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "device='torch' or 'cuda' needs PyTorch: pip install 'scrutiny[torch]'"
            ) from exc
        import array_api_compat.torch as xp

        self.torch = torch
        self.xp = xp
        self.device = torch.device(device)
        if self.device.type == "cuda":  # asked without making a CUDA context here
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if count == 0:
                raise RuntimeError(f"device={device!r} requested but torch sees no CUDA device")
            if (self.device.index or 0) >= count:
                raise RuntimeError(
                    f"device={device!r} requested but torch sees {count} CUDA devices"
                )
        elif self.device.type != "cpu":  # "torch:mps" where torch has no MPS failed mid-fit
            try:
                torch.Generator(device=self.device)
                torch.zeros(1, device=self.device).cpu()
            except (RuntimeError, AssertionError, NotImplementedError) as exc:
                raise RuntimeError(
                    f"device={device!r}: torch cannot compute there ({exc})"
                ) from exc
        self.dtype = getattr(torch, dtype)

    def __reduce__(self):  # to a chain's process: the modules are imported there
        return (TorchBackend, (str(self.dtype).removeprefix("torch."), str(self.device)))

    def generator(self, rng):
        """A device generator seeded from the kernel's numpy Generator (one per sweep)."""
        gen = self.torch.Generator(device=self.device)
        gen.manual_seed(int(rng.integers(2**62)))
        return gen

    def asarray(self, a, dtype=None):
        dtype = self.dtype if dtype is None else getattr(self.torch, np.dtype(dtype).name)
        if isinstance(a, self.torch.Tensor):
            return a.to(device=self.device, dtype=dtype)
        return self.torch.as_tensor(np.asarray(a), dtype=dtype, device=self.device)

    def to_numpy(self, a):
        a = a.detach().cpu()
        return a.double().numpy() if a.is_floating_point() else a.numpy()

    def index(self, idx):
        return self.torch.as_tensor(np.asarray(idx, dtype=np.int64), device=self.device)

    def normal(self, gen, shape):
        return self.torch.randn(shape, generator=gen, dtype=self.dtype, device=self.device)

    def uniform(self, gen, shape):
        return self.torch.rand(shape, generator=gen, dtype=self.dtype, device=self.device)

    def cholesky(self, a):
        """Lower Cholesky factor(s) and what was added to each diagonal (``_jittered``)."""
        low, info = self.torch.linalg.cholesky_ex(a)
        n = a.shape[-1]
        added = np.zeros((int(np.prod(a.shape[:-2], dtype=int)), n))
        failed = np.flatnonzero(info.reshape(-1).cpu().numpy())
        if failed.size:
            lows, mats = low.reshape(-1, n, n), a.reshape(-1, n, n)
            dtype = str(self.dtype).removeprefix("torch.")
            for i in failed:
                q = mats[i].cpu().numpy()
                fixed, added[i] = _jittered(q, dtype, _numpy_factor)
                lows[i] = self.torch.as_tensor(fixed, device=self.device)
        return low, added.reshape(*a.shape[:-1])

    def solve_lower(self, low, b, transpose=False):
        if transpose:
            return self.torch.linalg.solve_triangular(low.mT, b, upper=True)
        return self.torch.linalg.solve_triangular(low, b, upper=False)


# A precision matrix G + D whose factorization fails is positive definite only in exact
# arithmetic: its Gram matrix G is singular (collinear columns in a component's rows: two
# columns equal, a column constant beside the intercept) and the prior's D lies below G's
# rounding error (penalties drawn near 0, as slice-sampling from a stale point can: in
# float32 one local fit in about 320 of a 3-feature table, in CI). It is factored with each
# diagonal entry raised by t times itself, t = (n + 1) eps first, Cholesky's own backward
# error (Higham 2002, Theorem 10.3), then 10 and 100 times that: a change of the matrix that
# its dtype could not resolve. A matrix none of these pass (inf, a diagonal entry <= 0) is
# refused, as before.
_JITTER_STEPS = (1.0, 10.0, 100.0)


def _numpy_factor(q):
    """Lower factor of one matrix q, or None where it is not positive definite."""
    from scipy.linalg import lapack

    potrf = lapack.get_lapack_funcs("potrf", (q,))
    low, info = potrf(q, lower=1, clean=1)
    return low if info == 0 else None


def _jittered(q, dtype, factor):
    """(lower factor of q + diag(added), added) for a symmetric q that failed as it was."""
    diag = np.diagonal(q).astype(np.float64)
    base = (q.shape[-1] + 1) * np.finfo(dtype).eps
    with np.errstate(all="ignore"):
        for step in _JITTER_STEPS:
            added = base * step * diag
            shifted = q.copy()
            shifted[np.diag_indices_from(shifted)] += added.astype(q.dtype)
            low = factor(shifted) if np.all(np.isfinite(shifted)) else None
            if low is not None:
                return low, added
    raise np.linalg.LinAlgError(_not_positive_definite(dtype))


def _not_positive_definite(dtype):
    advice = "fit in dtype='float64', or " if "32" in dtype else ""
    return f"a precision matrix is not positive definite ({advice}centre and scale the features)"


def backend_name(device):
    """ "numpy" or "torch", the backend that runs ``device`` (without importing torch)."""
    if device in (None, "cpu", "numpy"):
        return "numpy"
    if device == "torch" or (
        isinstance(device, str) and (device == "cuda" or device.startswith(("cuda:", "torch:")))
    ):
        return "torch"
    raise ValueError(
        f"device must be 'cpu', 'torch', 'cuda', 'cuda:N' or 'torch:DEVICE', got {device!r}"
    )


def make_backend(device="cpu", dtype="float64"):
    """Backend for ``device``: "cpu" runs numpy; "cuda", "cuda:N" or "torch" run torch."""
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
    if backend_name(device) == "numpy":
        return NumpyBackend(dtype)
    return TorchBackend(dtype, "cpu" if device == "torch" else device.removeprefix("torch:"))
