"""Where trained reference models are kept between runs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(create=True):
    """``$SCRUTINY_CACHE``, else ``$XDG_CACHE_HOME/scrutiny``, else ``~/.cache/scrutiny``;
    ``create=False`` for a reader that must not fail where the folder cannot be made (a
    read-only home): it then finds nothing there, and its writer warns."""
    if os.environ.get("SCRUTINY_CACHE"):
        path = Path(os.environ["SCRUTINY_CACHE"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "scrutiny"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
