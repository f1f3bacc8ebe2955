"""Method 1's model at small signals: the network linearised about its fixed point, only its gains trained.

For small inputs every coupling path from a pixel to an output neuron has the same time course, so
the class scores are one constant c times :meth:`BSPNetwork.path_sum`, the sum over paths of the
product of the coefficients C and the gains g = B0 / B0_initial = exp(-log K3 shift) of the neurons
on the path (eqs 15, 19-20). Method 1 (eq 19) moves the log K3 shifts; fitted through autograd, this
model shows what a perfect method-1 step could reach (bsp-mnist's ceiling).
"""

from __future__ import annotations

import torch

from .network import BSPNetwork

__all__ = ["GainsOnlyModel"]


class GainsOnlyModel(torch.nn.Module):
    """scores = c * path_sum(x; log K3 shift * mask): the trained ``shift`` moves only the neurons in ``mask``
    (method 1's trained layers), ``scale`` is c."""

    def __init__(self, net: BSPNetwork, mask: torch.Tensor, scale: float):
        super().__init__()
        self.net, self.scale = net, scale
        self.register_buffer("mask", mask)
        self.shift = torch.nn.Parameter(torch.zeros_like(net.log_k3_shift))

    def forward(self, x) -> torch.Tensor:
        """The class scores of the linearised, gains-only network."""
        return self.scale * self.net.path_sum(x, self.shift * self.mask)
