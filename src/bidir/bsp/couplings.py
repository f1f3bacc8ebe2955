"""The connection coefficients C between two layers of BSP neurons (Jiang & Fu, eq 20), one module per wiring.

A coupling carries the deviation signal of the upstream neurons' output elements into the downstream
neurons' input elements, ``forward``: sum_x C_xy s_x; the reverse network (eq 21) sends the error
back through the same coefficients, ``adjoint``: sum_y C_xy s_y, C used as C^T. BSP's update for a
coefficient is G1 = mean over the batch of (int D_x dt)(int D^_y dt) (eq 22), the product of the
upstream neuron's forward integral and the downstream neuron's reverse one: ``g1``.

- :class:`DenseCoupling`: every upstream neuron to every downstream one, C a (n_in, n_out) matrix
  (the paper's multi-connection networks);
- :class:`OneToOneCoupling`: each upstream neuron to one downstream neuron (a seeded wiring, ``src``
  -> ``dst``), one coefficient per connection (the paper's one-to-one networks).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["Coupling", "DenseCoupling", "OneToOneCoupling", "one_to_one"]


def one_to_one(n_in: int, n_out: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(src, dst) of the sparse scheme: every upstream neuron feeds one downstream neuron, loads even."""
    perm = torch.randperm(max(n_in, n_out), generator=generator)
    if n_in >= n_out:  # each upstream once; downstream j gets the upstream neurons perm[k] with k % n_out == j
        return perm, torch.arange(n_in) % n_out
    return torch.arange(n_out) % n_in, perm  # each downstream once; upstream i feeds one or two


class Coupling(nn.Module):
    """Coefficients C from ``n_in`` upstream to ``n_out`` downstream neurons, drawn U(-s, s) / sqrt(fan in)."""

    def __init__(self, n_in: int, n_out: int, weight: torch.Tensor):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.weight = nn.Parameter(weight)

    @staticmethod
    def draw(shape, fan_in: int, init_scale: float, generator: torch.Generator, dtype) -> torch.Tensor:
        """U(-s, s) / sqrt(fan_in) in float64 (the same numbers on every device and dtype), then cast."""
        bound = init_scale / math.sqrt(fan_in)
        return (2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1).mul(bound).to(dtype)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:  # pragma: no cover (abstract)
        """sum_x C_xy signal_x: (B, n_in) -> (B, n_out)."""
        raise NotImplementedError

    def adjoint(self, signal: torch.Tensor) -> torch.Tensor:  # pragma: no cover (abstract)
        """sum_y C_xy signal_y: (B, n_out) -> (B, n_in), the reverse network's coupling."""
        raise NotImplementedError

    def incoming_norms(self) -> torch.Tensor:  # pragma: no cover (abstract)
        """|C_{:,y}|, the norm of each downstream neuron's incoming coefficients: (n_out,)."""
        raise NotImplementedError

    def g1(self, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:  # pragma: no cover (abstract)
        """Eq (22) per coefficient: the batch mean of pre_x post_y, shaped like the weight."""
        raise NotImplementedError

    @torch.no_grad()
    def limit_norms_(self, max_norm: float) -> None:
        """Rescale each downstream neuron's incoming coefficients whose norm exceeds ``max_norm`` onto it."""
        self.weight.mul_(self._per_weight((max_norm / self.incoming_norms().clamp_min(1e-30)).clamp(max=1.0)))

    def _per_weight(self, per_neuron: torch.Tensor) -> torch.Tensor:  # pragma: no cover (abstract)
        raise NotImplementedError


class DenseCoupling(Coupling):
    """C a (n_in, n_out) matrix: forward s C, adjoint s C^T."""

    def __init__(self, n_in: int, n_out: int, init_scale: float, generator: torch.Generator, dtype=torch.float32):
        super().__init__(n_in, n_out, self.draw((n_in, n_out), n_in, init_scale, generator, dtype))

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        """s C."""
        return signal @ self.weight

    def adjoint(self, signal: torch.Tensor) -> torch.Tensor:
        """s C^T."""
        return signal @ self.weight.T

    def incoming_norms(self) -> torch.Tensor:
        """The column norms of C."""
        return self.weight.norm(dim=0)

    def _per_weight(self, per_neuron: torch.Tensor) -> torch.Tensor:
        return per_neuron

    def g1(self, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
        """pre^T post / B: every x -> y."""
        return pre.T @ post / pre.shape[0]


class OneToOneCoupling(Coupling):
    """One coefficient per connection src[i] -> dst[i] (buffers, so they move and save with the network)."""

    def __init__(self, n_in: int, n_out: int, init_scale: float, generator: torch.Generator, dtype=torch.float32):
        src, dst = one_to_one(n_in, n_out, generator)
        fan_in = max(1, math.ceil(n_in / n_out))
        super().__init__(n_in, n_out, self.draw((len(src),), fan_in, init_scale, generator, dtype))
        self.register_buffer("src", src)
        self.register_buffer("dst", dst)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        """Each connection's signal, summed into its downstream neuron."""
        return signal.new_zeros(signal.shape[0], self.n_out).index_add(1, self.dst, signal[:, self.src] * self.weight)

    def adjoint(self, signal: torch.Tensor) -> torch.Tensor:
        """Each connection's signal, carried back into its upstream neuron."""
        return signal.new_zeros(signal.shape[0], self.n_in).index_add(1, self.src, signal[:, self.dst] * self.weight)

    def incoming_norms(self) -> torch.Tensor:
        """sqrt of the summed squares of each downstream neuron's coefficients."""
        w = self.weight
        return w.new_zeros(self.n_out).index_add(0, self.dst, w * w).sqrt()

    def _per_weight(self, per_neuron: torch.Tensor) -> torch.Tensor:
        return per_neuron[self.dst]

    def g1(self, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
        """The batch mean of pre at each connection's source times post at its destination."""
        return (pre[:, self.src] * post[:, self.dst]).mean(0)
