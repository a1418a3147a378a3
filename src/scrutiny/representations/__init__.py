"""Interpretable features of inputs, the baseline that means "absent", and the way back."""

from scrutiny.representations.base import Representation, make_representation
from scrutiny.representations.image import ImageRepresentation
from scrutiny.representations.tabular import TabularRepresentation

__all__ = ["ImageRepresentation", "Representation", "TabularRepresentation", "make_representation"]
