"""Bidirectional backpropagation (B-BP): deep networks run forward through W and back through W^T."""

from .cnn import BidirectionalCNN
from .network import ENGINES, MODES, BidirectionalMLP
from .trained import RuleTrained

__all__ = ["BidirectionalMLP", "BidirectionalCNN", "RuleTrained", "MODES", "ENGINES"]
