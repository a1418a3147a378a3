"""Plain-file pairs (``name.npz`` of arrays beside ``name.json`` of metadata) as
explanations and fitted surrogates are saved: the names, and JSON for numpy values."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np


def paired(path):
    """(name.npz, name.json) for ``path`` with or without either suffix; any other dot in
    the name is part of it (``run.v1`` -> ``run.v1.npz``); ``~`` is the home folder."""
    path = Path(path).expanduser()
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")


def plain(v, null_nan=False):
    """``v`` with numpy scalars and arrays as Python numbers and lists, for JSON, as any
    other array (a pandas Series of initial labels, a tensor); with ``null_nan``, NaN and
    infinities as None (null), which strict parsers require."""
    if isinstance(v, np.generic | np.ndarray):
        v = v.tolist()
    elif hasattr(v, "__array__") and not isinstance(v, str | bytes | dict | list | tuple):
        v = np.asarray(v).tolist()  # str() of a Series elides its middle rows
    if isinstance(v, dict):
        return {str(k): plain(x, null_nan) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [plain(x, null_nan) for x in v]
    if null_nan and isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def to_json(obj, null_nan=False, **kw):
    """JSON text of ``obj`` with numpy values converted; a TypeError names anything else.
    ``null_nan``: NaN and infinities written as null (JavaScript's JSON.parse refuses the
    NaN and Infinity that Python writes)."""
    return json.dumps(plain(obj, null_nan), allow_nan=not null_nan, **kw)


def array_digest(a):
    """SHA-256 of an array's dtype, shape and bytes: checksums that make a modified file
    refused, not read."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def json_digest(obj):
    """SHA-256 of JSON-ready metadata, independent of key order."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def temporary(path):
    """A new name beside ``path`` to write it under before renaming it: hidden, unique, and
    recognisable to ``clear_temporaries``. The name is cut to fit a file name's 255 bytes:
    a long one that fitted (74 three-byte characters) failed on its temporary's."""
    name, unique = path.name, uuid.uuid4().hex
    while len(f".{name}.{unique}.tmp".encode()) > 255 and len(name) > 1:
        name = name[:-1]
    return path.with_name(f".{name}.{unique}.tmp")


_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{32}\.tmp")
STALE_SECONDS = 3600  # a write under way keeps its temporary's time newer than this


def clear_temporaries(folder):
    """Remove the temporaries (``temporary``) in ``folder`` older than ``STALE_SECONDS``,
    which a killed write left behind, and return the bytes of the others (writes under way,
    which must survive). A file removed meanwhile by its writer is skipped."""
    fresh = 0
    for p in Path(folder).glob(".*.tmp"):
        if not _TEMPORARY.fullmatch(p.name):
            continue
        with contextlib.suppress(OSError):
            stat = p.stat()
            if time.time() - stat.st_mtime > STALE_SECONDS:
                p.unlink()
            else:
                fresh += stat.st_size
    return fresh


def write_pair(path, arrays, text, *, fmt):
    """Write ``path``'s .npz of ``arrays`` and .json of ``text``; returns (npz, json).

    ``fmt`` ("family/version") is the format of ``text``: files already there are replaced
    only if they are an earlier save of its family (re-saving), never a user's own files of
    the same names; None replaces anything (the fit cache's own folder, whose unreadable
    entries are written again).

    Each is written under a temporary name beside it and then renamed over it, so a write
    that fails (a full disk) leaves the files that were there whole, and two writers at once
    never mix their bytes in one file. The arrays go first: new arrays beside the old
    metadata fail its checksums (refused when read, replaceable when saved again), where
    old arrays beside new metadata could match it by chance. Once they are in, the new
    metadata follows even if the write is interrupted (Ctrl-C) between the two."""
    npz, meta_path = paired(path)
    if fmt is not None:
        _check_replaceable(npz, meta_path, fmt)
    npz.parent.mkdir(parents=True, exist_ok=True)
    tmp = [temporary(p) for p in (npz, meta_path)]
    try:
        with open(tmp[0], "xb") as f:  # a file, not a name: savez would add ".npz"
            np.savez(f, **arrays)
        tmp[1].write_text(text, encoding="utf-8")
        try:
            tmp[0].replace(npz)
        finally:
            if not tmp[0].exists():  # the arrays are in: their metadata must follow
                tmp[1].replace(meta_path)
    finally:
        for t in tmp:
            t.unlink(missing_ok=True)
    return npz, meta_path


_ADVICE = "choose another name or remove it"


def replaceable_json(path, fmt):
    """The JSON at ``path`` if it was saved in ``fmt``'s family ("family/version"), None if
    there is no file; anything else there is a user's own, and refused (FileExistsError)."""
    if not path.exists():
        return None
    family = fmt.rsplit("/", 1)[0]
    meta = None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    if not isinstance(meta, dict) or not str(meta.get("format")).startswith(family + "/"):
        raise FileExistsError(f"{path} exists and is not a saved {family} file: {_ADVICE}")
    return meta


def _check_replaceable(npz, meta_path, fmt):
    """Refuse (FileExistsError) to write over ``npz`` or ``meta_path`` unless they are
    absent or a pair saved in ``fmt``'s family: a JSON of that format beside the arrays its
    checksums name. An .npz without its JSON is refused: nothing says it is ours."""
    family = fmt.rsplit("/", 1)[0]
    meta = replaceable_json(meta_path, fmt)
    if npz.exists():
        if meta is None:
            raise FileExistsError(
                f"{npz} exists without the {meta_path.name} of a saved {family} beside it: "
                f"{_ADVICE}"
            )
        try:
            with zipfile.ZipFile(npz) as z:
                names = {n.removesuffix(".npy") for n in z.namelist()}
        except (OSError, zipfile.BadZipFile):
            names = None
        if names != set(meta.get("sha256") or {}):
            raise FileExistsError(
                f"{npz} exists and does not hold the arrays {meta_path.name} records: {_ADVICE}"
            )


def read_pair(path, formats, what):
    """(metadata, arrays) of a pair written with the arrays' checksums (``sha256`` in the
    JSON) in one of ``formats`` ("family/version"), read without unpickling anything. A
    missing file, invalid JSON, a file of another kind or of a newer version, and arrays
    that are unreadable or do not match their checksums are refused by name; the caller
    checks the metadata's own checksum, which differs between kinds."""
    npz, meta_path = paired(path)
    for p in (npz, meta_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p} does not exist")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{meta_path} is not valid JSON: {exc}") from exc
    family = formats[-1].rsplit("/", 1)[0] + "/"
    if not isinstance(meta, dict) or not str(meta.get("format")).startswith(family):
        raise ValueError(f"{meta_path} is not {what} ({formats[-1]})")
    if meta["format"] not in formats:
        raise ValueError(
            f"{meta_path} is a {meta['format']} file, which this version of scrutiny cannot "
            f"read (it reads {' and '.join(formats)}): a newer one wrote it"
        )
    if not zipfile.is_zipfile(npz):  # numpy would offer to unpickle it
        raise ValueError(f"{npz} is corrupted: not a .npz archive")
    try:
        with np.load(npz, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except Exception as exc:
        raise ValueError(f"{npz} is corrupted: {exc}") from exc
    expected = meta.get("sha256") or {}
    if set(arrays) != set(expected):
        raise ValueError(f"{npz} does not hold the arrays recorded in {meta_path.name}")
    for name, a in arrays.items():
        if array_digest(a) != expected[name]:
            raise ValueError(
                f"{npz} was modified or corrupted: array {name!r} does not match the "
                f"checksum recorded in {meta_path.name}"
            )
    return meta, arrays
