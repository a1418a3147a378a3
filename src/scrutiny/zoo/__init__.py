"""Reference models, trained reproducibly with torch on the CPU and cached."""

from scrutiny.zoo.mnist_mlp import mnist_mlp

__all__ = ["mnist_mlp"]
