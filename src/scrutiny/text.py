"""Texts as rows of word ids, so that the Explainer can switch words off.

A text is cut into pieces, one per word (a run of word characters, or of pictographs such
as emoji) with the characters that follow it up to the next word; characters before the
first word join the first piece.
Joining the pieces gives the text back exactly (a text with no word at all becomes an
empty row, read as ""), so the model sees the user's own string when nothing is switched
off, and a text with a word switched off is the text without that piece (LIME's text
explainer with ``bow=False`` also removes words by position). A row mixing texts (the
fidelity tests' augmentation) may put a text's last piece, which ends in its word, before
another word (or an emoji before another), and a word switched off may leave two pieces
with no space between them ("don'" and "like"): a space is put between them, so that they
stay two words.

Each row holds a piece's id per position and 0 (no piece) after the text's end: the
``"tokens"`` representation reads a position as present when it is not 0, and 0 is the
baseline, so switching a position off removes its piece.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from scrutiny._files import replaceable_json, temporary

_RUN = re.compile(r"\w+")
FORMAT = "scrutiny.text-encoder/1"


def _words(text):
    """(start, end) of each word of ``text``: a run of word characters (``_letter_runs``)
    or of pictographs (``_symbol_runs``: emoji, which a model may read as words of their
    own; joined to the word before, a smile's effect was its word's)."""
    return sorted(_letter_runs(text) + _symbol_runs(text))


def _letter_runs(text):
    r"""(start, end) of each run of word characters, through the combining marks within
    and after it (Python's ``\w`` has none: Devanagari and Thai vowel signs, a decomposed
    accent), which would cut one word into several."""
    spans = []
    for m in _RUN.finditer(text):
        a, b = m.span()
        while b < len(text) and unicodedata.category(text[b])[0] == "M":
            b += 1
        if spans and spans[-1][1] == a:  # joined by marks: one word
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


_JOINERS = {"\u200d"}  # the zero-width joiner of emoji sequences (a family: three in one)


def _symbol_runs(text):
    """(start, end) of each run of pictographs (Unicode's "other symbols": emoji, flags'
    letters), with the marks, joiners and skin-tone modifiers that make one emoji of
    several characters."""
    spans, i = [], 0
    while i < len(text):
        if unicodedata.category(text[i]) != "So":
            i += 1
            continue
        j = i + 1
        while j < len(text) and (
            unicodedata.category(text[j]) in ("So", "Mn", "Me")
            or text[j] in _JOINERS
            or "\U0001f3fb" <= text[j] <= "\U0001f3ff"  # skin tones
        ):
            j += 1
        spans.append((i, j))
        i = j
    return spans


def _wide(char):
    """Whether ``char`` is wide punctuation (of Chinese, Japanese or Korean text, written
    without spaces; not an emoji, which is wide too and is a word)."""
    return unicodedata.category(char)[0] == "P" and unicodedata.east_asian_width(char) in "WF"


def _is_piece(piece):
    """Whether ``piece`` is one piece of a text (or was one before emoji were words: its
    first word of letters, then the characters up to the next word of letters)."""
    return pieces(piece) == [piece] or len(_letter_runs(piece)) == 1


def pieces(text):
    """The pieces of ``text`` (a str), one per word, which join to ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"texts must be str, got {type(text).__name__}")
    starts = [a for a, _ in _words(text)]
    if not starts:
        return []
    starts[0] = 0
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


class TextEncoder:
    """Maps texts to (n, length) rows of piece ids and back.

    Parameters
    ----------
    length : int or None
        Positions per row: the most words a text may have. None: the word count of the
        longest text of the first ``encode``. A longer text is refused, not cut: the model
        must see the whole text.

    The vocabulary of pieces grows as texts are encoded; one encoder serves an explainer's
    fit data, the inputs it explains and the model it calls (``wrap``). Ids follow the order
    in which pieces were first seen, so keep the encoder (``save``) with rows or
    explanations made from it: another encoder reads them as other pieces.
    """

    def __init__(self, length=None):
        whole = isinstance(length, int | np.integer) and not isinstance(length, bool | np.bool_)
        if length is not None and not (whole and length >= 1):  # True was length 1
            raise ValueError(f"length must be a positive int or None, got {length!r}")
        self.length = None if length is None else int(length)
        self._pieces = [""]  # id 0: no piece
        self._ids = {}
        # per id: the piece ends in a word character, or in a pictograph
        self._joins = [False]
        self._pictured = [False]
        # per id: the piece starts with a word character, or with a pictograph
        self._opens = [False]
        self._pictures = [False]
        self._spaced = [True]  # per id: the piece ends in a space (or wide punctuation)
        self._cached = (0,)  # _tables, for a vocabulary of this many pieces

    def encode(self, texts):
        """(n, length) float64 rows of piece ids of a list of texts."""
        if isinstance(texts, str | bytes):  # bytes were read as ints, one per byte
            raise TypeError("encode takes a list of texts (str); wrap one text in a list")
        if isinstance(texts, Mapping):  # its keys were encoded
            raise TypeError("encode takes a list of texts, not a mapping: pass its values")
        split = []
        for i, text in enumerate(texts):  # which of 4,000 reviews is None (a pandas gap)
            if not isinstance(text, str):
                how = "decode it first" if isinstance(text, bytes) else "texts are str"
                raise TypeError(f"text {i} is a {type(text).__name__}, not a str: {how}")
            split.append(pieces(text))
        if not split:
            raise ValueError("no texts to encode")
        if self.length is None:  # a text with no words is a row of 0: nothing to explain
            self.length = max(1, *(len(p) for p in split))
        rows = np.zeros((len(split), self.length))
        for i, p in enumerate(split):
            if len(p) > self.length:
                raise ValueError(
                    f"text {i} has {len(p)} words, more than the {self.length} positions of "
                    "this encoder's rows: make it with a larger length"
                )
            rows[i, : len(p)] = [self._id(piece) for piece in p]
        return rows

    def _id(self, piece):
        if piece not in self._ids:
            self._ids[piece] = len(self._pieces)
            self._pieces.append(piece)
            letters = _letter_runs(piece)
            self._joins.append(bool(letters) and letters[-1][1] == len(piece))
            symbols = _symbol_runs(piece)
            self._pictured.append(bool(symbols) and symbols[-1][1] == len(piece))
            self._opens.append(_RUN.match(piece) is not None)
            self._pictures.append(unicodedata.category(piece[0]) == "So")
            # ends in a space, or in wide punctuation (a full-width comma): no space after it
            self._spaced.append(piece[-1].isspace() or _wide(piece[-1]))
        return self._ids[piece]

    def decode(self, rows):
        """The texts of rows of piece ids (switched-off positions left out): the kept
        pieces joined, with a space after one ending in a word character before one
        starting with one, or in an emoji before one starting with one (never so within a
        text; a row mixing texts made one word of a smile and a thumbs-up), and after one
        not ending in a space (nor in the wide punctuation of texts written without spaces)
        where pieces after it were left out, lest two words fuse into one: "i don't like
        it" without "t " was "i don'like it", one word to a model that splits on spaces.
        The model's queries pass through here, thousands per explanation: per-piece
        tables, no per-piece Python."""
        ids = self._checked(rows)
        plain, spaced, joins, opens, pictured, pictures, ends_spaced = self._tables()
        texts = []
        for row in ids:
            at = np.flatnonzero(row)
            kept = row[at]
            parts = plain[kept]
            gap = joins[kept[:-1]] & opens[kept[1:]]
            gap |= pictured[kept[:-1]] & pictures[kept[1:]]  # two emoji: one word joined
            gap |= (np.diff(at) > 1) & ~ends_spaced[kept[:-1]]
            if gap.any():
                parts[:-1][gap] = spaced[kept[:-1][gap]]
            texts.append("".join(parts))
        return texts

    def _tables(self):
        """The pieces, each with a space after it, and the two flags, as arrays, remade
        only when the vocabulary has grown."""
        if self._cached[0] != len(self._pieces):
            self._cached = (
                len(self._pieces),
                np.array(self._pieces, dtype=object),
                np.array([p + " " for p in self._pieces], dtype=object),
                np.array(self._joins),
                np.array(self._opens),
                np.array(self._pictured),
                np.array(self._pictures),
                np.array(self._spaced),
            )
        return self._cached[1:]

    def words(self, row):
        """The word at each position of one row ('' where there is none)."""
        ids = self._checked(np.asarray(row)[None])[0]
        return [self._word(self._pieces[j]) if j else "" for j in ids]

    @staticmethod
    def _word(piece):
        """A piece's word: its first, or for a piece of an encoder saved before emoji were
        words ("\U0001f600 great "), its first of letters, as it was shown then."""
        spans = _words(piece) if pieces(piece) == [piece] else _letter_runs(piece)
        a, b = spans[0]
        return piece[a:b]

    def wrap(self, model):
        """A model of rows of piece ids, calling ``model`` (a callable taking a list of
        texts, such as a scikit-learn text pipeline's ``predict_proba``) on their texts."""
        if not callable(model):
            what = type(model).__name__
            hint = ""
            if hasattr(model, "predict_proba") or hasattr(model, "predict"):  # a pipeline
                hint = ": wrap its predict_proba (a regressor's predict)"
            raise TypeError(f"model must be callable on a list of texts, got a {what}{hint}")

        def on_rows(rows):
            return model(self.decode(rows))

        on_rows.__name__ = f"texts of {getattr(model, '__name__', type(model).__name__)}"
        on_rows.text_encoder = self  # the Explainer's sign that its rows are word ids
        on_rows.text_model = model  # checked as the model it is (a regressor's predict)
        return on_rows

    def save(self, path):
        """Write the encoder as JSON (its length and pieces, in id order): the rows it made,
        and explanations of them, mean the same with the encoder ``load`` gives back."""
        path = Path(path).expanduser()
        replaceable_json(path, FORMAT)  # an earlier save, never a user's own file
        text = json.dumps({"format": FORMAT, "length": self.length, "pieces": self._pieces[1:]})
        tmp = temporary(path)
        try:  # under another name first: a failed write leaves the old file whole
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path):
        """The encoder ``save`` wrote, with the same ids."""
        try:
            meta = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a saved TextEncoder: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a saved TextEncoder ({FORMAT})")
        kept, length = meta.get("pieces"), meta.get("length")
        # each a piece: one word (or, saved before emoji were words, one with a smile after it)
        ok = isinstance(kept, list) and all(isinstance(p, str) and _is_piece(p) for p in kept)
        if not ok or len(set(kept)) != len(kept):
            raise ValueError(f"{path} is damaged: its pieces are not distinct pieces of words")
        if "length" not in meta or (
            length is not None
            and not (isinstance(length, int) and not isinstance(length, bool) and length >= 1)
        ):
            raise ValueError(f"{path} is damaged: its length is {length!r}")
        enc = cls(length)
        for piece in kept:
            enc._id(piece)
        return enc

    def _checked(self, rows):
        rows = np.asarray(rows)
        if rows.ndim != 2 or (self.length is not None and rows.shape[1] != self.length):
            raise ValueError(f"expected rows (n, {self.length}) of piece ids, got {rows.shape}")
        ids = np.rint(rows).astype(np.int64)
        if not (np.array_equal(ids, rows) and ((ids >= 0) & (ids < len(self._pieces))).all()):
            raise ValueError("rows hold values that are not ids of this encoder's pieces")
        return ids
