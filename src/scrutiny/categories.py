"""Categorical table columns (strings, pandas categoricals, bools) as level codes and back.

The explainer works on float rows; a column of names ("rent", "owner") is carried as the
code of each name among the column's levels in the fit data, and turned back into the names
whenever the model is queried, so a scikit-learn pipeline with its own encoder gets the
table it was fitted on. A code is a name, not a quantity: ``TabularRepresentation`` makes a
categorical column's feature its departure from the baseline level (1 or 0), and switching
it off puts back the baseline level (by default the most frequent).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

# dtypes a column of names is given back in (pandas' nullable "boolean" and "string",
# numpy's bool); others as objects
_KEPT = ("bool", "boolean", "string")
_LEVEL_KINDS = {"string", "bool", "integer", "real number"}
MANY_LEVELS = 50  # more levels than this, and than a tenth of the rows: warned about


def is_categorical(column):
    """Whether a DataFrame column holds names rather than quantities: strings, pandas
    categoricals (of numbers too: the dtype says they name things) and bools (a bool
    switched off to its mean, 0.55, is a value it never takes, and a one-hot encoder of
    the model's refuses it)."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if isinstance(column.dtype, pd.CategoricalDtype) or is_bool_dtype(column.dtype):
        return True
    # times (with a time zone too), periods, intervals and complex numbers are refused as
    # numbers they are not: as names, every time would be a level of its own
    timely = (pd.DatetimeTZDtype, pd.PeriodDtype, pd.IntervalDtype)
    if isinstance(column.dtype, timely):
        return False
    kind = np.asarray(column).dtype.kind
    return not is_numeric_dtype(column.dtype) and kind not in "biufcmM"


def holds_names(column):
    """Whether a categorical column's values are names (strings), which no model reads as
    numbers; bools and pandas categoricals of numbers pass as the numbers they are."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_bool_dtype(column.dtype):
        return False
    if isinstance(column.dtype, pd.CategoricalDtype):
        return not is_numeric_dtype(column.cat.categories.dtype)
    return is_categorical(column)


def exact_text(value):
    """A number that names a thing, written out in full (zip 94110, not 9.411e+04)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def many_levels(n_levels, n_rows, what):
    """Warns of a categorical column with more levels than MANY_LEVELS and than a tenth of
    the rows: each level is a column of the global fits, and most are seen a few times."""
    if n_levels > max(MANY_LEVELS, n_rows // 10):
        warnings.warn(
            f"{what} has {n_levels} distinct values in {n_rows} rows, each a level of its own "
            "(an identifier, or numbers stored as text?): make it numbers, or leave it out",
            stacklevel=3,
        )


class Categories:
    """The categorical columns of a table: their positions, and each one's levels in
    order (a pandas categorical's own order, else sorted as in the fit data)."""

    def __init__(self, names, levels, dtypes, categories=None):
        self.names = [str(n) for n in names]
        self.levels = {str(k): list(v) for k, v in levels.items()}
        self.dtypes = {str(k): str(v) for k, v in dtypes.items()}
        # a pandas categorical's own categories, unused ones too: the dtype the model gets
        self.categories = {str(k): list(v) for k, v in (categories or {}).items()}
        unknown = sorted(set(self.levels) - set(self.names))
        if unknown:
            raise ValueError(f"categorical columns {unknown[:5]} are not among the columns")
        self.columns = np.array(
            [j for j, n in enumerate(self.names) if n in self.levels], dtype=np.int64
        )
        self.n_levels = np.array([len(self.levels[self.names[j]]) for j in self.columns])
        self._codes = {n: {level: i for i, level in enumerate(v)} for n, v in self.levels.items()}

    @classmethod
    def from_frame(cls, frame, name="X_fit"):
        """The categorical columns of DataFrame ``frame``, or None when it has none."""
        import pandas as pd

        levels, dtypes, categories = {}, {}, {}
        for col_name, col in frame.items():
            if not is_categorical(col):
                continue
            key = str(col_name)
            _refuse_gaps(col, col_name, name)
            values = col.tolist()
            kinds = {_kind(v) for v in values}
            odd = sorted(kinds - _LEVEL_KINDS)  # before a set of them: a list is unhashable
            if odd:  # dates, times, decimals: levels are written to JSON as they are
                raise TypeError(
                    f"{name}'s column {col_name!r} holds values of type {odd}: make them "
                    "numbers (a date as days since some day) or text"
                )
            if len(kinds) > 1:  # True, 1 and 1.0 would be one level, and 1.5 beside 1 a code
                raise TypeError(
                    f"{name}'s column {col_name!r} mixes values of kinds {sorted(kinds)}: "
                    "make it all names (strings), all whole numbers or all real numbers"
                )
            values = set(values)
            if isinstance(col.dtype, pd.CategoricalDtype):  # its order; levels X_fit holds
                categories[key] = col.cat.categories.tolist()
                levels[key] = [v for v in categories[key] if v in values]
                dtypes[key] = "ordered category" if col.cat.ordered else "category"
            else:  # a bool has both levels, held or not: a True to explain is no surprise
                levels[key] = [False, True] if kinds == {"bool"} else sorted(values)
                dtypes[key] = str(col.dtype) if str(col.dtype) in _KEPT else "object"
            many_levels(len(levels[key]), len(frame), f"{name}'s column {col_name!r}")
        if not levels:
            return None
        return cls([str(c) for c in frame.columns], levels, dtypes, categories)

    def encode(self, frame, name="X"):
        """A copy of DataFrame ``frame`` (columns in this table's order) with each
        categorical column's names replaced by their codes; a name the fit data never held,
        or a gap, is refused by column."""
        out = frame.copy()
        for j, (col_name, col) in enumerate(frame.items()):
            codes = self._codes.get(str(col_name))
            if codes is None:
                continue
            _refuse_gaps(col, col_name, name)
            values = col.tolist()
            unseen = {v for v in values if v not in codes}
            if unseen:
                # text quoted, other kinds as they print: the text 'False' is not False
                known = ", ".join(map(_shown, self.levels[str(col_name)][:10]))
                codes_given = all(isinstance(v, int | float | np.number) for v in unseen)
                raise ValueError(
                    f"{name}'s column {col_name!r} holds levels the fit data never held: "
                    f"{', '.join(sorted(map(_shown, unseen))[:5])} (known: {known}): a level is "
                    "explained only if the fit data hold it"
                    + (
                        "; a table of the levels' codes goes in as an array "
                        "(explainer.check_inputs gives one)"
                        if codes_given
                        else ""
                    )
                )
            out.isetitem(j, np.array([codes[v] for v in values], dtype=np.float64))
        return out

    def decode(self, rows):
        """A DataFrame of float rows (n, p): each categorical column's codes back as its
        names, in the column's original kind (object, string or categorical)."""
        import pandas as pd

        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.names):
            raise ValueError(
                f"rows of {len(self.names)} columns expected, got shape {rows.shape[1:]}"
            )
        columns = {}
        for j, col_name in enumerate(self.names):
            levels = self.levels.get(col_name)
            if levels is None:
                columns[col_name] = rows[:, j]
                continue
            codes = self._checked_codes(rows[:, j], col_name)
            values = np.empty(len(levels), dtype=object)
            values[:] = levels
            values = values[codes]
            dtype = self.dtypes[col_name]
            if dtype.endswith("category"):
                cats = self.categories.get(col_name, levels)
                ordered = dtype == "ordered category"
                columns[col_name] = pd.Categorical(values, categories=cats, ordered=ordered)
            else:
                columns[col_name] = pd.array(values, dtype=dtype)
        return pd.DataFrame(columns)

    @property
    def has_names(self):
        """Whether a level is a name (a string): then the model must be given the table;
        bools and categoricals of numbers it may read as the numbers they are."""
        return any(_kind(v) == "string" for levels in self.levels.values() for v in levels)

    def as_numbers(self, rows):
        """Float rows (n, p) with each categorical column's codes as its levels' values
        (a bool 0 or 1, a grade 3): for a model not fitted on a DataFrame, which reads
        an array of numbers, as these columns were before they became levels."""
        out = np.array(rows, dtype=np.float64)
        for j in self.columns:
            values = np.array([float(v) for v in self.levels[self.names[j]]])
            out[:, j] = values[self._checked_codes(out[:, j], self.names[j])]
        return out

    def _checked_codes(self, codes, col_name):
        n = len(self.levels[col_name])
        bad = (codes != np.round(codes)) | (codes < 0) | (codes >= n)
        if bad.any():
            raise ValueError(
                f"column {col_name!r} holds {codes[bad][0]:g}, which is no level code "
                f"(0..{n - 1}): a categorical column takes only its levels"
            )
        return codes.astype(np.int64)

    def code(self, column, level, what="the level"):
        """The code of ``level`` in categorical column ``column``; a level it never held is
        refused by name."""
        codes = self._codes[str(column)]
        if level not in codes:
            known = ", ".join(map(_shown, self.levels[str(column)][:10]))
            raise ValueError(  # as they are: 'True' is no level of a column of bools, True is
                f"{what} of {column!r} is {_shown(level)}, not one of its levels ({known})"
            )
        return codes[level]

    def level_names(self):
        """{column: [level as text, ...]}: what explanations and reports name codes by."""
        return {n: [str(v) for v in levels] for n, levels in self.levels.items()}

    def to_json(self):
        return {
            "names": self.names,
            "levels": self.levels,
            "dtypes": self.dtypes,
            "categories": self.categories,
        }

    @classmethod
    def from_json(cls, spec):
        return cls(spec["names"], spec["levels"], spec["dtypes"], spec.get("categories"))


def _kind(value):
    """A level's broad kind: a numpy scalar is of its Python value's (pd.concat of frames
    built from numpy choices and from literals holds both str and numpy.str_)."""
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, str):  # numpy.str_ too
        return "string"
    if isinstance(value, numbers.Integral):  # numpy's too
        return "integer"
    if isinstance(value, numbers.Real):
        return "real number"
    return type(value).__name__


def _refuse_gaps(col, col_name, name):
    gaps = int(col.isna().sum())
    if gaps:
        raise ValueError(
            f"{name}'s categorical column {col_name!r} has {gaps} gaps (missing values): "
            "fill them with a level of their own, or drop those rows"
        )


def _shown(level):
    """A level as an error names it: text in quotes, a number or bool as it prints."""
    return repr(str(level)) if isinstance(level, str) else str(level)  # np.str_ as text
