"""Data sets of the R package modeldata, read from Debian's r-cran-modeldata without R.

Its lazy-load database is two files: ``Rdata.rdx`` indexes ``Rdata.rdb``, whose entries are
a 4-byte length, a type byte ``Z`` and raw LZMA2 data holding one serialised R object
(parsed with ``rdata``).
"""

from __future__ import annotations

import lzma
import warnings
from pathlib import Path

from scrutiny._cache import env_path

DEFAULT_DIR = Path("/usr/lib/R/site-library/modeldata/data")


def read_modeldata(name, directory=None, what="the data"):
    """The R object ``name`` of modeldata as rdata converts it (a data frame: pandas).
    ``directory`` (or ``$SCRUTINY_MODELDATA``) overrides where ``Rdata.rdx`` and
    ``Rdata.rdb`` are looked for; ``what`` names the data in errors."""
    folder = Path(directory or env_path("SCRUTINY_MODELDATA") or DEFAULT_DIR).expanduser()
    index, db = folder / "Rdata.rdx", folder / "Rdata.rdb"
    if not index.is_file() or not db.is_file():
        raise FileNotFoundError(
            f"{what} are not in {folder}: they come from Debian's r-cran-modeldata "
            "package (apt-get install r-cran-modeldata, or apt-get download it and dpkg-deb "
            "-x it, then set SCRUTINY_MODELDATA to its usr/lib/R/site-library/modeldata/data)"
        )
    try:
        import rdata
    except ImportError:
        raise ImportError(
            f"reading {what} needs rdata: pip install rdata (or 'scrutiny[text]' or "
            "'scrutiny[tabular]')"
        ) from None
    with warnings.catch_warnings():  # rdata names the R classes it reads as data frames
        warnings.simplefilter("ignore", UserWarning)
        try:
            where = rdata.conversion.convert(rdata.parser.parse_file(index))["variables"]
        except Exception as exc:  # rdata's parser fails as whatever a foreign file makes it
            raise ValueError(f"{index} is damaged or not an R lazy-load index: {exc}") from None
        if name not in where:
            raise ValueError(f"{index} is damaged or not modeldata's: it has no {name!r}")
        offset, length = (int(v) for v in where[name])
        with open(db, "rb") as f:
            f.seek(offset)
            entry = f.read(length)
        if len(entry) != length or entry[4:5] != b"Z":
            raise ValueError(f"{db} is damaged or not an LZMA-compressed R database")
        try:
            raw = lzma.decompress(
                entry[5:],
                format=lzma.FORMAT_RAW,
                filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 26}],
            )
        except lzma.LZMAError as exc:
            raise ValueError(
                f"{db} is damaged or not an LZMA-compressed R database: {exc}"
            ) from None
        return rdata.conversion.convert(rdata.parser.parse_data(raw))
