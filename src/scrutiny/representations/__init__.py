"""Interpretable features of inputs, the baseline that means "absent", and the way back."""

from scrutiny.representations.base import Representation, make_representation
from scrutiny.representations.image import ImageRepresentation
from scrutiny.representations.tabular import TabularRepresentation
from scrutiny.representations.tokens import TokenRepresentation

__all__ = [
    "ImageRepresentation",
    "Representation",
    "TabularRepresentation",
    "TokenRepresentation",
    "make_representation",
]
