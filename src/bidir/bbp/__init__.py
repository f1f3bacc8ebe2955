"""Bidirectional backpropagation (B-BP): deep networks run forward through W and back through W^T."""

from .cnn import BidirectionalCNN
from .network import ENGINES, MODES, BidirectionalMLP

__all__ = ["BidirectionalMLP", "BidirectionalCNN", "MODES", "ENGINES"]
