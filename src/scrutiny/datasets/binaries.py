"""Function starts in x86-64 ELF programs: the task of ByteWeight (Bao et al. 2014) and of
LEMNA's bidirectional RNN. Each byte of a program's ``.text`` is labelled 1 where a
function begins.

The ground truth is the FUNC symbols of an unstripped build that fall inside ``.text``.
gcc at -O2 also names two kinds of fragments as FUNC symbols:
- ``.part.N``, ``.isra.N``, ``.constprop.N`` clones are functions in their own right, entered
  by ``call``: they count;
- ``.cold`` fragments are the unlikely branches of a function moved out of line, entered by a
  jump from its body, never called: they do not count (their bytes are labelled 0).

Bytes become ids as the RNN reads them: byte b is b + 1, and 0 means "no byte" (padding
beyond the ends of ``.text``, and a byte removed by an explanation's perturbation).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scrutiny._cache import env_path
from scrutiny._validation import whole_number

ENV = "SCRUTINY_BINARIES"


@dataclass
class Program:
    """One program's ``.text``: ``code`` (n,) uint8 (or bytes, or values 0-255, taken as
    uint8; anything else is refused) and ``starts`` (n,) bool (0/1 are taken as bools;
    anything else, or another length than the code's, is refused)."""

    name: str
    code: np.ndarray
    starts: np.ndarray

    def __post_init__(self):
        try:  # b"..." was a 0-d array, "code ()"; 300 and -1 were kept, refused at chunks
            self.code = _code(self.code)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from None
        starts = np.asarray(self.starts)
        if starts.dtype != bool and not np.isin(starts, (0, 1)).all():
            raise ValueError(f"{self.name}: starts must be bools (or 0 and 1)")
        if starts.shape != self.code.shape or self.code.ndim != 1:
            raise ValueError(
                f"{self.name}: starts {starts.shape} must mark each byte of code {self.code.shape}"
            )
        self.starts = starts.astype(bool)  # ~ of 0/1 integers is -1/-2: every byte "other"


def read_program(path):
    """The ``.text`` bytes of an unstripped x86-64 ELF file and its function starts."""
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError:
        raise ImportError(
            "reading ELF programs needs pyelftools: pip install pyelftools (or "
            "'scrutiny[security]')"
        ) from None
    path = Path(path)
    with open(path, "rb") as f:
        try:
            elf = ELFFile(f)
        except ELFError as exc:  # a cut ELF header is still an ELF file's
            kind = "is damaged" if _is_elf(path) else "is not an ELF file"
            raise ValueError(f"{path} {kind}: {exc}") from None
        if elf["e_machine"] != "EM_X86_64":
            raise ValueError(f"{path} is {elf['e_machine']}, not x86-64")
        try:  # sections and symbols are read lazily: a truncated file fails here
            text = elf.get_section_by_name(".text")
            symtab = elf.get_section_by_name(".symtab")
            if text is None:
                raise ProgramError(f"{path} has no .text section")
            if text["sh_type"] == "SHT_NOBITS":  # its bytes would read as zeros
                raise ProgramError(
                    f"{path} holds debug information only (its .text has no bytes): read "
                    "the program it was split from"
                )
            if text["sh_size"] == 0:  # a data-only object: no byte to label, nor to train on
                raise ProgramError(f"{path} has an empty .text: no code to label")
            if symtab is None:
                raise ProgramError(
                    f"{path} is stripped (no .symtab): function starts need an unstripped build"
                )
            # a header placing a section past the file's end asked for its size in memory
            # (2^62 bytes: MemoryError) or failed in a seek, naming no file
            end = path.stat().st_size
            for section in (text, symtab):
                if section["sh_offset"] + section["sh_size"] > end:
                    raise ProgramError(
                        f"{path} is damaged: its {section.name} ends past the end of the file"
                    )
            if symtab["sh_type"] != "SHT_SYMTAB":
                raise ProgramError(f"{path} is damaged: its .symtab is a {symtab['sh_type']}")
            code = np.frombuffer(text.data(), dtype=np.uint8).copy()
            start, size = text["sh_addr"], text["sh_size"]
            # a symbol's section, not only its address: in a relocatable file (.o) every
            # section starts at 0, so main in .text.startup has the address of a .text byte
            index = elf.get_section_index(".text")
            offsets = {
                s["st_value"] - start
                for s in symtab.iter_symbols()
                if s["st_info"]["type"] == "STT_FUNC"
                and s["st_shndx"] == index
                and start <= s["st_value"] < start + size
                and not _is_cold(s.name)
            }
        except ProgramError:
            raise
        # elftools' own reading of damaged headers: its error, or a seek's or a slice's
        except (ELFError, OSError, OverflowError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path} is damaged: {exc}") from None
    starts = np.zeros(code.size, dtype=bool)
    starts[sorted(offsets)] = True
    return Program(path.name, code, starts)


class ProgramError(ValueError):
    """A program refused for what it is (stripped, no code), said as such."""


def _is_cold(name):
    """``f.cold`` and ``f.cold.N``: an out-of-line part of f, not a function."""
    return ".cold" in name


def load_programs(paths=None):
    """Programs from a list of ELF files, or from every unstripped x86-64 ELF file in the
    folder ``$SCRUTINY_BINARIES`` (the one ``benchmarks/build_binaries.sh`` fills), by
    name; there, any other ELF file (stripped, of another machine) is left out, warned."""
    if isinstance(paths, str | Path):  # a string was read as a list of one-letter paths
        raise TypeError(f"paths must be a list of ELF files; for one, pass [{str(paths)!r}]")
    if paths is not None:
        programs = [read_program(p) for p in paths]
    else:
        folder = env_path(ENV)
        if folder is None or not folder.is_dir():
            raise FileNotFoundError(
                f"no programs given and ${ENV} is not a folder: build some with "
                "benchmarks/build_binaries.sh (Debian's coreutils, grep, sed, hello "
                f"at -O2) and set {ENV} to its output"
            )
        programs = []
        for p in sorted(p for p in folder.iterdir() if _is_elf(p)):
            try:
                programs.append(read_program(p))
            except ValueError as exc:  # one stripped file stopped the whole load
                warnings.warn(f"left out: {exc}", stacklevel=2)
    if not programs:
        raise ValueError("no programs to read")
    return programs


def _is_elf(path):
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def byte_ids(code):
    """Ids of bytes as the RNN reads them: byte b is b + 1, 0 is no byte. ``code``: bytes,
    or an array of values 0-255 (int8 code, whose 0xff would be -1 and so "no byte", and
    anything not a byte are refused)."""
    return _code(code).astype(np.int64) + 1


def _code(code):
    """``code`` as a uint8 array, refused unless bytes or values 0-255."""
    if isinstance(code, bytes | bytearray | memoryview):
        code = np.frombuffer(code, dtype=np.uint8)
    a = np.asarray(code)
    if a.dtype != np.uint8 and not (
        a.dtype.kind in "iuf" and np.all((a >= 0) & (a <= 255) & (a == np.round(a)))
    ):
        raise ValueError(f"code must be bytes, values 0-255, got {a.dtype} values outside them")
    return a.astype(np.uint8, copy=False)  # read_program's code, not copied again


def chunks(programs, length=200):
    """(ids, labels): every program's ``.text`` cut into consecutive sequences of
    ``length`` bytes, the last padded with id 0 (label 0); (n, length) each. Training data
    for a sequence labeller."""
    length = whole_number(length, "length", 1)
    _some(programs)
    ids, labels = [], []
    for p in programs:
        n = -(-p.code.size // length) * length
        ids.append(np.pad(byte_ids(p.code), (0, n - p.code.size)).reshape(-1, length))
        labels.append(np.pad(p.starts, (0, n - p.code.size)).reshape(-1, length))
    return np.concatenate(ids), np.concatenate(labels).astype(np.int64)


def centred(programs, n_starts, n_other, length=200, random_state=0):
    """(ids, labels, where): sequences of ``length`` bytes with the byte in question at
    position ``length // 2``, padded with 0 past the ends of ``.text``; ``labels`` (n,) is 1
    for a function start. ``n_starts`` starts and ``n_other`` other bytes are drawn at
    random without replacement (all there are when fewer); ``where`` is (program index,
    offset) of each. The inputs to explain, one question each, as LEMNA explains them."""
    n_starts, n_other = whole_number(n_starts, "n_starts", 0), whole_number(n_other, "n_other", 0)
    length = whole_number(length, "length", 1)
    _some(programs)
    rng = np.random.default_rng(random_state)
    # memory by the starts and the rows drawn, not by the bytes (a (program, offset) pair
    # and a padded id per byte: 1 GB to draw 10 rows of a 24 MB .text)
    first = np.cumsum([0] + [p.code.size for p in programs])  # each program's first byte
    starts = np.flatnonzero(np.concatenate([p.starts for p in programs]))
    n_others = int(first[-1]) - starts.size
    chosen = rng.choice(starts, size=min(n_starts, starts.size), replace=False)
    k = rng.choice(n_others, size=min(n_other, n_others), replace=False)  # the k-th other
    # byte is k bytes past the starts before it: those with fewer than k others before them
    others = k + np.searchsorted(starts - np.arange(starts.size), k, side="right")
    flat = np.sort(np.concatenate([chosen, others]))
    program = np.searchsorted(first, flat, side="right") - 1
    where = np.column_stack([program, flat - first[program]])
    half = length // 2
    ids = np.zeros((len(where), length), dtype=np.int64)
    for row, (i, offset) in enumerate(where):
        code = programs[i].code
        lo, hi = max(offset - half, 0), min(offset - half + length, code.size)
        ids[row, lo - (offset - half) : hi - (offset - half)] = byte_ids(code[lo:hi])
    labels = np.array([programs[i].starts[o] for i, o in where], dtype=np.int64)
    return ids, labels, where


def _some(programs):
    if len(programs) == 0:  # numpy's "need at least one array to concatenate"
        raise ValueError("no programs given")
