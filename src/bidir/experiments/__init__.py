"""One module per paper figure or table; importing this package registers them all."""

from .registry import EXPERIMENTS, Experiment, experiment  # noqa: I001  (first: the modules below register)
from .untestable import UNTESTABLE, Untestable
from . import (
    abam,
    bam_capacity,
    bam_letters,
    bam_permutation,
    bbp_cifar,
    bbp_conv,
    bbp_cost,
    bbp_overwrite,
    bbp_permutation,
    bbp_regression,
    bsp_mnist,
    bsp_neuron,
    note_engine,
    rules,
    style_detection,
    style_memory,
)

__all__ = [
    "EXPERIMENTS",
    "UNTESTABLE",
    "Untestable",
    "Experiment",
    "experiment",
    "abam",
    "bam_capacity",
    "bam_letters",
    "bam_permutation",
    "bbp_cifar",
    "bbp_conv",
    "bbp_cost",
    "bbp_overwrite",
    "bbp_permutation",
    "bbp_regression",
    "bsp_mnist",
    "bsp_neuron",
    "note_engine",
    "rules",
    "style_detection",
    "style_memory",
]
