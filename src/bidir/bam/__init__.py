"""Bidirectional associative memories (Kosko 2021, sections I-III)."""

from .adaptive import ABAMTrajectory, ContinuousABAM, DiscreteABAMResult, hebbian_abam
from .dynamics import RecallResult, energy, energy_bound, threshold_update
from .memory import BAM, hebbian_matrix, to_binary, to_bipolar

__all__ = [
    "BAM",
    "RecallResult",
    "hebbian_matrix",
    "to_bipolar",
    "to_binary",
    "energy",
    "energy_bound",
    "threshold_update",
    "hebbian_abam",
    "DiscreteABAMResult",
    "ContinuousABAM",
    "ABAMTrajectory",
]
