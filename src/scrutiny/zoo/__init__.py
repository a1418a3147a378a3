"""Reference models, trained reproducibly on the CPU (the torch ones cached)."""

from scrutiny.zoo.credit_model import credit_model
from scrutiny.zoo.fashion_cnn import fashion_cnn
from scrutiny.zoo.house_price_model import house_price_model
from scrutiny.zoo.mnist_mlp import mnist_mlp
from scrutiny.zoo.review_classifier import review_classifier
from scrutiny.zoo.review_cnn import review_cnn

__all__ = [
    "credit_model",
    "fashion_cnn",
    "house_price_model",
    "mnist_mlp",
    "review_classifier",
    "review_cnn",
]
