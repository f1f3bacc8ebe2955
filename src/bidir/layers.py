"""Layers that run both ways through the same synapses: the one place where W^T and the adjoint convolution live.

- :class:`BidirectionalLinear`: forward y = x W^T + b_f (as ``nn.Linear``), backward x = y W + b_b.
- :class:`BidirectionalConv2d`: forward a convolution with kernel K and bias b_f; backward its adjoint,
  the transposed convolution with the same K (``conv_transpose2d``), and a bias b_b of its own. Without
  biases the two are adjoint maps, <conv(x), z> = <x, conv^T(z)> (the tests check it), as W and W^T are.

Each layer has a bias per direction, as B-BP's backward sweep has (Kosko 2021, sec IV). Strided
convolutions take the place of pooling, so the backward rule is the adjoint and nothing else;
:func:`conv_adjoint` sizes its output to the forward layer's input.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["linear_adjoint", "conv_adjoint", "BidirectionalLinear", "BidirectionalConv2d"]


def linear_adjoint(y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """y W (+ bias): the transpose of x W^T, for a weight of shape (out, in)."""
    return F.linear(y, weight.t(), bias)


def conv_adjoint(y, weight, bias, stride: int, padding: int, size) -> torch.Tensor:
    """The adjoint of ``conv2d(., weight, stride, padding)`` applied to y (+ bias), sized to the spatial ``size``
    (H, W) of the convolution's input (a strided convolution maps several input sizes to one output size)."""
    kernel = weight.shape[2:]
    output_padding = tuple(
        t - ((s - 1) * stride - 2 * padding + k) for s, t, k in zip(y.shape[2:], size, kernel, strict=True)
    )
    return F.conv_transpose2d(y, weight, bias, stride, padding, output_padding=output_padding)


class BidirectionalLinear(nn.Module):
    """A dense web of synapses W (out, in) run forward (x W^T + b_f) and backward (y W + b_b)."""

    def __init__(self, inputs: int, outputs: int, generator: torch.Generator | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(outputs, inputs))
        self.forward_bias = nn.Parameter(torch.zeros(outputs))
        self.backward_bias = nn.Parameter(torch.zeros(inputs))
        nn.init.xavier_uniform_(self.weight, generator=generator)  # symmetric in fan-in and fan-out: used both ways

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x W^T + b_f."""
        return F.linear(x, self.weight, self.forward_bias)

    def backward_pass(self, y: torch.Tensor) -> torch.Tensor:
        """y W + b_b, through the same synapses."""
        return linear_adjoint(y, self.weight, self.backward_bias)


class BidirectionalConv2d(nn.Module):
    """A convolution (kernel K, forward bias b_f) and its adjoint (the same K transposed, backward bias b_b)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 5,
        stride: int = 2,
        padding: int | None = None,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.stride, self.padding = stride, (kernel - 1) // 2 if padding is None else padding
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel, kernel))
        self.forward_bias = nn.Parameter(torch.zeros(out_channels))
        self.backward_bias = nn.Parameter(torch.zeros(in_channels))
        fan = math.sqrt(2.0 / ((in_channels + out_channels) * kernel * kernel))  # xavier: used both ways
        with torch.no_grad():
            self.weight.uniform_(-math.sqrt(3) * fan, math.sqrt(3) * fan, generator=generator)

    def output_size(self, size) -> tuple[int, int]:
        """The spatial size of the forward output for an input of spatial ``size`` (H, W)."""
        k = self.weight.shape[-1]
        return tuple((s + 2 * self.padding - k) // self.stride + 1 for s in size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv(x, K) + b_f."""
        return F.conv2d(x, self.weight, self.forward_bias, self.stride, self.padding)

    def backward_pass(self, y: torch.Tensor, size) -> torch.Tensor:
        """conv^T(y, K) + b_b, sized to the forward input's spatial ``size``."""
        return conv_adjoint(y, self.weight, self.backward_bias, self.stride, self.padding, size)
