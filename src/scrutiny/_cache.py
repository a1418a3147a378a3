"""Where trained reference models are kept between runs, and folders named by
environment variables."""

from __future__ import annotations

import os
from pathlib import Path


def env_path(name):
    """The folder ``$name`` names with ``~`` and ``$VARS`` expanded (a quoted "~/data" in
    a shell or a .env file reaches us unexpanded, and would be a folder named "~" in the
    working directory), or None where it is unset or empty; one that still holds a ``$``
    or a leading ``~`` (an unset variable, an unknown user, a shell's ``$(pwd)`` no shell
    ran) is refused by name, unless a folder of that very name exists (a share "c$")."""
    value = os.environ.get(name)
    if not value:
        return None
    path = os.path.expanduser(os.path.expandvars(value))
    unexpanded = "$" in path or path.startswith("~")  # $VAR, ${VAR}, a shell's $(pwd)
    if unexpanded and not os.path.exists(path):  # a variable not set, a user not known
        raise ValueError(
            f"${name} is {value!r}, which names no folder: {path!r} is left after "
            "expanding ~ and $VARS (is the variable exported, the user known?)"
        )
    return Path(path)


def cache_dir(create=True):
    """``$SCRUTINY_CACHE``, else ``$XDG_CACHE_HOME/scrutiny``, else ``~/.cache/scrutiny``;
    ``create=False`` for a reader that must not fail where the folder cannot be made (a
    read-only home): it then finds nothing there, and its writer warns."""
    path = env_path("SCRUTINY_CACHE")
    if path is None:
        base = env_path("XDG_CACHE_HOME")
        if base is None or not base.is_absolute():  # the XDG spec: a relative one is ignored
            base = Path.home() / ".cache"
        path = base / "scrutiny"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
