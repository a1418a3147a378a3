"""Temporaries as writes leave them (``scrutiny._files.temporary``): one a killed write left
an hour ago and more, one a write under way made ten minutes ago."""

import os
import time


def plant_temporaries(folder, name, content=b"half an npz"):
    """(stale, fresh) temporaries of ``folder/name``, aged 3,700 s and 600 s."""
    now = time.time()
    planted = []
    for digit, age in (("0", 3700), ("1", 600)):
        path = folder / f".{name}.{digit * 32}.tmp"
        path.write_bytes(content)
        os.utime(path, (now - age, now - age))
        planted.append(path)
    return tuple(planted)


def age(path, seconds=3700):
    """Make ``path`` look ``seconds`` old."""
    now = time.time()
    os.utime(path, (now - seconds, now - seconds))
