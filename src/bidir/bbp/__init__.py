"""Bidirectional backpropagation (B-BP): deep networks run forward through W and back through W^T."""

from .network import ENGINES, MODES, BidirectionalMLP

__all__ = ["BidirectionalMLP", "MODES", "ENGINES"]
