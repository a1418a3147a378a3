"""Reference models, trained reproducibly with torch on the CPU and cached."""

from scrutiny.zoo.fashion_cnn import fashion_cnn
from scrutiny.zoo.mnist_mlp import mnist_mlp

__all__ = ["fashion_cnn", "mnist_mlp"]
