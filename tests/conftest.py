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
    each xdist worker."""
    if not os.environ.get("SCRUTINY_REQUIRE_DEV_DEPS") or hasattr(config, "workerinput"):
        return
    missing = [name for name in DEV_IMPORTS if importlib.util.find_spec(name) is None]
    if missing:
        raise pytest.UsageError(
            f"SCRUTINY_REQUIRE_DEV_DEPS is set but {missing} are not installed: install the "
            "[dev] extra (make test does)"
        )
