"""Credit scoring: modeldata's ``credit_data`` (Debian's r-cran-modeldata, read by
``datasets.modeldata``), 4,454 loan applicants, each a "good" or "bad" payer, with 13
attributes. The 4,039 rows with no missing value are kept, shuffled with a fixed seed and
split into 3,039 training and 1,000 test rows. Factors become 0/1 columns, one per level
(one for a factor of two levels), named ``factor=level``, or stay factors.
"""

from __future__ import annotations

import numpy as np

from scrutiny.datasets.modeldata import read_modeldata

CLASSES = ("bad", "good")
N_TEST = 1000


def load_credit(split="train", directory=None, factors=False):
    """(X, y): a pandas DataFrame of float columns and (n,) int labels, 1 for a "good"
    payer, for ``split`` "train" (3,039 rows) or "test" (1,000). ``directory`` (or
    ``$SCRUTINY_MODELDATA``) overrides where modeldata's files are looked for.
    ``factors``: the 4 factors as pandas categoricals (13 columns) instead of 0/1 columns
    (25), for a model with its own encoder and explanations by factor."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    import pandas as pd

    frame = read_modeldata("credit_data", directory, "the credit data").dropna()
    for name in frame.columns[frame.dtypes == "category"]:  # both splits: the same levels
        frame[name] = frame[name].cat.remove_unused_categories()
    frame = frame.iloc[np.random.default_rng(0).permutation(len(frame))]
    frame = frame.iloc[-N_TEST:] if split == "test" else frame.iloc[:-N_TEST]
    columns = {}
    for name, column in frame.drop(columns="Status").items():
        if factors and isinstance(column.dtype, pd.CategoricalDtype):
            columns[str(name)] = column.array
        elif isinstance(column.dtype, pd.CategoricalDtype):
            levels = list(column.cat.categories)
            for level in levels[1:] if len(levels) == 2 else levels:
                columns[f"{name}={level}"] = (column == level).to_numpy(dtype=np.float64)
        else:
            columns[str(name)] = column.to_numpy(dtype=np.float64)
    y = (np.asarray(frame["Status"].astype(str)) == "good").astype(np.int64)
    return pd.DataFrame(columns), y
