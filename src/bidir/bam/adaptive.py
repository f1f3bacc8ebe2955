"""Adaptive BAMs: synapses learn while the neurons settle (Kosko 2021, section III.C-D).

* :func:`hebbian_abam`: the discrete Hebbian ABAM, eqs (29)-(33). Threshold neurons
  update as in recall, then every synapse moves by c_t a_i^x a_j^y.
* :class:`ContinuousABAM`: additive neuron dynamics, eqs (37)-(38), coupled with the
  Hebbian law (34) or the competitive law (43), integrated by torchdiffeq, with the
  ABAM energy (39) and its time derivative (40).

Every system carries its own matrix: M has shape (batch, n, p).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torchdiffeq import odeint

from ..errors import InvalidInputError, as_patterns, check_finite_tensor, check_positive_int
from .dynamics import masked_update, threshold_update
from .memory import BAM

__all__ = ["hebbian_abam", "DiscreteABAMResult", "ContinuousABAM", "ABAMTrajectory", "LAWS"]

LAWS = ("hebbian", "competitive")


@dataclass
class DiscreteABAMResult:
    x: torch.Tensor  # (B, n) final X states
    y: torch.Tensor  # (B, p) final Y states
    M: torch.Tensor  # (B, n, p) learned matrices
    energy: torch.Tensor  # (B, steps + 1): E = -x M y^T after each step (neurons, then synapses)


@torch.no_grad()
def hebbian_abam(
    bam: BAM,
    x,
    y=None,
    steps: int = 20,
    rate: float = 1.0,
    rate_decay: float = 1.0,
    mode: str = "sync",
    k: int = 1,
    seed: int = 0,
) -> DiscreteABAMResult:
    """Discrete Hebbian ABAM, eqs (29)-(33), batched over probes.

    Each step updates Y from x M, X from y M^T (eq 5), then every synapse by the local
    Hebbian law dM = c_t x^T y (eq 32) with the decreasing rate c_t = rate / (1 + t)^rate_decay.
    Both moves lower E = -x M y^T: the neuron moves as in recall, the synapse move by
    -c_t |x|^2 |y|^2 (eq 33 with c_t = 1 and bipolar states). The starting matrix is the BAM's.
    """
    check_positive_int(steps, "steps")
    if not (isinstance(rate, (int, float)) and rate > 0 and math.isfinite(rate)):
        raise InvalidInputError(f"rate must be a positive number, got {rate!r}")
    if mode not in ("sync", "async"):
        raise InvalidInputError(f"mode must be 'sync' or 'async', got {mode!r}")
    x = bam._patterns(x, "x", bam.n)
    y = bam._start(y, "y", bam.p, x)
    if mode == "async":
        check_positive_int(k, "k", maximum=min(bam.n, bam.p))
    g = torch.Generator().manual_seed(seed)
    M = bam.M.expand(x.shape[0], bam.n, bam.p).clone()
    tx, ty = bam.threshold_x, bam.threshold_y

    def E(x, y, M):
        return -((x.unsqueeze(1) @ M).squeeze(1) * y).sum(-1) + x @ tx + y @ ty

    energies = [E(x, y, M)]
    for t in range(steps):
        y_full = threshold_update((x.unsqueeze(1) @ M).squeeze(1), y, ty, bam.coding)
        y = masked_update(y_full, y, mode, k, g)
        x_full = threshold_update((y.unsqueeze(1) @ M.transpose(1, 2)).squeeze(1), x, tx, bam.coding)
        x = masked_update(x_full, x, mode, k, g)
        M = M + rate / (1 + t) ** rate_decay * x.unsqueeze(2) * y.unsqueeze(1)  # eqs (29), (32)
        energies.append(E(x, y, M))
    return DiscreteABAMResult(x, y, M, torch.stack(energies, dim=-1))


@dataclass
class ABAMTrajectory:
    t: torch.Tensor  # (T,)
    o_x: torch.Tensor  # (T, B, n) neuron inputs (activation arguments) of field X
    o_y: torch.Tensor  # (T, B, p)
    M: torch.Tensor  # (T, B, n, p)
    energy: torch.Tensor  # (T, B): eq (39) along the trajectory


def _logistic_integral(o: torch.Tensor, c: float) -> torch.Tensor:
    """int_0^o a'(u) u du for a(u) = 1 / (1 + exp(-c u)): o a(o) - (softplus(c o) - ln 2) / c."""
    return o * torch.sigmoid(c * o) - (nn.functional.softplus(c * o) - math.log(2.0)) / c


class ContinuousABAM(nn.Module):
    """Additive ABAM: eqs (37)-(38) for the neurons, (34) or (43) for the synapses.

        do_x/dt = -o_x + a_y(o_y) M^T + I_x            (37)
        do_y/dt = -o_y + a_x(o_x) M + I_y              (38)
        dM/dt   = -M + a_x^T a_y                         (34, Hebbian)
        dM/dt   = a_y (a_x^T - M), column j by a_y[j]   (43, competitive)

    Activations are binary logistics a(o) = 1 / (1 + exp(-c o)) (eq 1), bounded in [0, 1]
    and nondecreasing as the theorem needs. The competitive law keeps Edot <= 0 exactly
    only for a win-loss (0/1) a_y (eqs 44-45); use a steep ``steepness_y`` for it:
    measured here, c_y = 1..30 lets E rise by up to ~1e-2 while a Y neuron switches,
    c_y = 100 keeps every rise at round-off level.
    """

    def __init__(self, n: int, p: int, law: str = "hebbian", steepness_x: float = 1.0, steepness_y: float = 1.0, input_x=None, input_y=None, dtype=torch.float64):
        super().__init__()
        if law not in LAWS:
            raise InvalidInputError(f"law must be one of {LAWS}, got {law!r}")
        for name, c in (("steepness_x", steepness_x), ("steepness_y", steepness_y)):
            if not (isinstance(c, (int, float)) and c > 0 and math.isfinite(c)):
                raise InvalidInputError(f"{name} must be a positive number, got {c!r}")
        self.n, self.p, self.law = check_positive_int(n, "n"), check_positive_int(p, "p"), law
        self.c_x, self.c_y = float(steepness_x), float(steepness_y)
        self.register_buffer("input_x", check_finite_tensor(torch.zeros(n) if input_x is None else input_x, "input_x", shape=(n,), dtype=dtype))
        self.register_buffer("input_y", check_finite_tensor(torch.zeros(p) if input_y is None else input_y, "input_y", shape=(p,), dtype=dtype))

    def activations(self, o_x, o_y):
        return torch.sigmoid(self.c_x * o_x), torch.sigmoid(self.c_y * o_y)  # eq (1)

    def forward(self, t, state):
        """The vector field (d o_x, d o_y, dM) for torchdiffeq."""
        o_x, o_y, M = state
        a_x, a_y = self.activations(o_x, o_y)
        do_x = -o_x + (a_y.unsqueeze(-2) @ M.transpose(-2, -1)).squeeze(-2) + self.input_x  # (37)
        do_y = -o_y + (a_x.unsqueeze(-2) @ M).squeeze(-2) + self.input_y  # (38)
        if self.law == "hebbian":
            dM = -M + a_x.unsqueeze(-1) * a_y.unsqueeze(-2)  # (34)
        else:
            dM = a_y.unsqueeze(-2) * (a_x.unsqueeze(-1) - M)  # (43)
        return do_x, do_y, dM

    def energy(self, o_x, o_y, M) -> torch.Tensor:
        """Eq (39), batched over the leading dimensions."""
        a_x, a_y = self.activations(o_x, o_y)
        return (
            -((a_x.unsqueeze(-2) @ M).squeeze(-2) * a_y).sum(-1)
            + _logistic_integral(o_x, self.c_x).sum(-1)
            - (a_x * self.input_x).sum(-1)
            + _logistic_integral(o_y, self.c_y).sum(-1)
            - (a_y * self.input_y).sum(-1)
            + 0.5 * (M**2).sum((-2, -1))
        )

    def energy_rate(self, o_x, o_y, M) -> torch.Tensor:
        """Eq (40): dE/dt = -sum a_x' do_x^2 - sum a_y' do_y^2 - sum dM (a_x a_y - M).

        (Eq 41 prints a_x where the derivative a_x' belongs; this is the correct form.)
        """
        a_x, a_y = self.activations(o_x, o_y)
        do_x, do_y, dM = self.forward(None, (o_x, o_y, M))
        da_x, da_y = self.c_x * a_x * (1 - a_x), self.c_y * a_y * (1 - a_y)  # eq (4)
        return (
            -(da_x * do_x**2).sum(-1)
            - (da_y * do_y**2).sum(-1)
            - (dM * (a_x.unsqueeze(-1) * a_y.unsqueeze(-2) - M)).sum((-2, -1))
        )

    @torch.no_grad()
    def integrate(self, o_x, o_y, M, t, method: str = "dopri5", rtol: float = 1e-8, atol: float = 1e-10) -> ABAMTrajectory:
        """Integrate from (o_x, o_y, M) over the time grid t with a torchdiffeq solver."""
        dtype = self.input_x.dtype
        o_x = as_patterns(o_x, "o_x", dim=self.n, coding=None, dtype=dtype)
        o_y = as_patterns(o_y, "o_y", dim=self.p, coding=None, dtype=dtype)
        if o_x.shape[0] != o_y.shape[0]:
            raise InvalidInputError(f"o_x and o_y must have the same batch size, got {o_x.shape[0]} and {o_y.shape[0]}")
        M = check_finite_tensor(M, "M", dtype=dtype)
        if M.shape == (self.n, self.p):
            M = M.expand(o_x.shape[0], self.n, self.p).clone()
        if M.shape != (o_x.shape[0], self.n, self.p):
            raise InvalidInputError(f"M must have shape ({self.n}, {self.p}) or ({o_x.shape[0]}, {self.n}, {self.p}), got {tuple(M.shape)}")
        t = check_finite_tensor(t, "t", dtype=dtype)
        if t.dim() != 1 or t.numel() < 2 or not (t[1:] > t[:-1]).all():
            raise InvalidInputError("t must be a strictly increasing 1-D time grid with at least two points")
        o_xs, o_ys, Ms = odeint(self, (o_x, o_y, M), t, method=method, rtol=rtol, atol=atol)
        return ABAMTrajectory(t, o_xs, o_ys, Ms, self.energy(o_xs, o_ys, Ms))
