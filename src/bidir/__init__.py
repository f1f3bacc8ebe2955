"""bidir: bidirectional neural networks (BAM, bidirectional backprop, BSP, style memory)."""
__version__ = "0.1.0"
