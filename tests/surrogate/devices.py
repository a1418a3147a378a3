"""The device of the torch-backend tests: CPU torch by default (CI has no GPU), a GPU when
``SCRUTINY_TEST_TORCH=cuda`` (``benchmarks/device_check.sh`` on a machine with one)."""

import os

TORCH = os.environ.get("SCRUTINY_TEST_TORCH", "torch")
