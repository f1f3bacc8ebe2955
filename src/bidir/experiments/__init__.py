"""One module per paper figure or table; importing this package registers them all."""
from . import abam, bam_capacity, bam_letters, bam_permutation, bbp_cifar, bbp_overwrite, bbp_permutation, bsp_mnist, bsp_neuron, style_memory  # noqa: F401
