"""House prices: modeldata's ``ames`` (Debian's r-cran-modeldata, read by
``datasets.modeldata``), 2,930 houses sold in Ames, Iowa, 2006-2010 (De Cock 2011), with 14
of their attributes: 11 numbers (living and basement area, years built and remodelled,
garage and lot area, bathrooms, fireplaces, veneer area, longitude and latitude) and 3
factors (neighbourhood, building type, central air). The 2,909 houses of neighbourhoods
with at least 20 sales are kept (a neighbourhood of one sale cannot be both fitted and
explained), shuffled with a fixed seed and split into 2,209 training and 700 test houses.
The target is the sale price in thousands of dollars.
"""

from __future__ import annotations

import numpy as np

from scrutiny.datasets.modeldata import read_modeldata

NUMBERS = (
    "Gr_Liv_Area",
    "Total_Bsmt_SF",
    "Year_Built",
    "Year_Remod_Add",
    "Garage_Area",
    "Lot_Area",
    "Full_Bath",
    "Fireplaces",
    "Mas_Vnr_Area",
    "Longitude",
    "Latitude",
)
FACTORS = ("Neighborhood", "Bldg_Type", "Central_Air")
MIN_SALES = 20
N_TEST = 700


def load_ames(split="train", directory=None):
    """(X, y): a pandas DataFrame of the 14 columns (the factors as pandas categoricals, of
    the same levels in both splits) and (n,) sale prices in $1,000, for ``split`` "train"
    (2,209 houses) or "test" (700). ``directory`` (or ``$SCRUTINY_MODELDATA``) overrides
    where modeldata's files are looked for."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    frame = read_modeldata("ames", directory, "the Ames house prices")
    sales = frame["Neighborhood"].value_counts()
    frame = frame[frame["Neighborhood"].isin(sales.index[sales >= MIN_SALES])].copy()
    for name in FACTORS:  # the levels of the houses kept, in both splits
        frame[name] = frame[name].cat.remove_unused_categories()
    frame = frame.iloc[np.random.default_rng(0).permutation(len(frame))]
    frame = frame.iloc[-N_TEST:] if split == "test" else frame.iloc[:-N_TEST]
    X = frame[list(NUMBERS + FACTORS)].reset_index(drop=True)
    X.columns = [str(name) for name in X.columns]
    for name in NUMBERS:
        X[name] = X[name].to_numpy(dtype=np.float64)
    return X, frame["Sale_Price"].to_numpy(dtype=np.float64) / 1000.0
