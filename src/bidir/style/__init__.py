"""Style memory (Wiyatno & Orchard 2018): a classifier whose top layer adds style neurons, trained as an autoencoder."""

from .analysis import (
    LAMBDAS,
    Codes,
    encode_dataset,
    interpolate,
    interpolation_smoothness,
    nearest_neighbours,
    transfer,
    transfer_classes,
)
from .attacks import auroc, detection_scores, fgsm, pgd
from .model import SCHEDULES, Schedule, StyleMemoryNet
from .training import train_style_memory

__all__ = [
    "StyleMemoryNet",
    "Schedule",
    "SCHEDULES",
    "Codes",
    "encode_dataset",
    "nearest_neighbours",
    "interpolate",
    "transfer",
    "interpolation_smoothness",
    "transfer_classes",
    "LAMBDAS",
    "fgsm",
    "pgd",
    "auroc",
    "detection_scores",
    "train_style_memory",
]
