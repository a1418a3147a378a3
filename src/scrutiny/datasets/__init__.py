"""Real data sets that install from package registries (nothing is downloaded at run time)."""

from scrutiny.datasets.ames import load_ames
from scrutiny.datasets.credit import load_credit
from scrutiny.datasets.fashion import load_fashion_mnist
from scrutiny.datasets.mnist import load_mnist, split
from scrutiny.datasets.reviews import load_food_reviews

__all__ = [
    "load_ames",
    "load_credit",
    "load_fashion_mnist",
    "load_food_reviews",
    "load_mnist",
    "split",
]
