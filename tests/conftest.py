"""``make test`` installs every ``[dev]`` dependency; with ``SCRUTINY_REQUIRE_DEV_DEPS``
set (the Makefile sets it) a missing one stops the run, where the tests that
``pytest.importorskip`` it would otherwise skip, and the run stay green without them."""

import importlib.util
import os

import pytest

# the import names of pyproject.toml's [dev] packages that tests skip without
DEV_IMPORTS = (
    "elftools",
    "lime",
    "mlxtend",
    "onnx",
    "onnxruntime",
    "pandas",
    "rdata",
    "shap",
    "sklearn",
    "torch",
)


def pytest_configure(config):
    """Found, not imported (torch, shap and the rest take seconds), and once, not again in
    each xdist worker. A worker computes on one thread, unless told otherwise: ``make
    test`` runs one worker per core, and a worker's BLAS and torch threads (one per core
    each) spun against the other worker's (torch's exactness tests took 73 s in the suite
    and 4 s alone)."""
    if hasattr(config, "workerinput"):
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")  # read when numpy and torch load, after this
        return
    if not os.environ.get("SCRUTINY_REQUIRE_DEV_DEPS"):
        return
    missing = [name for name in DEV_IMPORTS if importlib.util.find_spec(name) is None]
    if missing:
        raise pytest.UsageError(
            f"SCRUTINY_REQUIRE_DEV_DEPS is set but {missing} are not installed: install the "
            "[dev] extra (make test does)"
        )
