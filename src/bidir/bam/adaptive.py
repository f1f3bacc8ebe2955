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

from ..errors import InvalidInputError
from ..module import BidirModule
from ..validation import (
    as_patterns,
    check_choice,
    check_finite_tensor,
    check_memory,
    check_number,
    check_positive,
    check_positive_int,
)
from .dynamics import MODES, bidirectional_recall
from .memory import BAM, hebbian_matrix

__all__ = ["hebbian_abam", "DiscreteABAMResult", "ContinuousABAM", "ABAMTrajectory", "LAWS"]

LAWS = ("hebbian", "competitive")


@dataclass
class DiscreteABAMResult:
    """Outcome of :func:`hebbian_abam`: final states, the learned matrices and the energy after every step."""

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
    check_positive(rate, "rate")
    check_number(rate_decay, "rate_decay", low=0)
    check_choice(mode, "mode", MODES)
    x = bam.states(x, "x", bam.n)
    y = bam.start_states(y, "y", bam.p, x)
    if mode == "async":
        check_positive_int(k, "k", maximum=min(bam.n, bam.p))

    def hebbian_step(t, x, y, M):  # eqs (29), (32): dM = c_t x^T y, c_t = rate / (1 + t)^rate_decay
        return M + learning_rate(t, rate, rate_decay) * hebbian_matrix(x, y)

    # one memory per probe: states (B, 1, n) against M (B, n, p) in the one recall loop
    M = bam.M.expand(x.shape[0], bam.n, bam.p).clone()
    r = bidirectional_recall(
        M,
        x.unsqueeze(1),
        y.unsqueeze(1),
        bam.threshold_x,
        bam.threshold_y,
        bam.coding,
        mode=mode,
        k=k,
        max_steps=steps,
        generator=torch.Generator().manual_seed(seed),
        learn=hebbian_step,
    )
    return DiscreteABAMResult(r.x.squeeze(1), r.y.squeeze(1), r.M, r.energy.squeeze(1))


def learning_rate(t: int, rate: float = 1.0, rate_decay: float = 1.0) -> float:
    """The discrete ABAM's decreasing learning rate c_t = rate / (1 + t)^rate_decay at step t = 0, 1, ..."""
    return rate / (1 + t) ** rate_decay


@dataclass
class ABAMTrajectory:
    """A continuous ABAM's solution on the time grid, with the energy (39) along it."""

    t: torch.Tensor  # (T,)
    o_x: torch.Tensor  # (T, B, n) neuron inputs (activation arguments) of field X
    o_y: torch.Tensor  # (T, B, p)
    M: torch.Tensor  # (T, B, n, p)
    energy: torch.Tensor  # (T, B): eq (39) along the trajectory


def _logistic_integral(o: torch.Tensor, c: float) -> torch.Tensor:
    """int_0^o a'(u) u du for a(u) = 1 / (1 + exp(-c u)): o a(o) - (softplus(c o) - ln 2) / c."""
    return o * torch.sigmoid(c * o) - (nn.functional.softplus(c * o) - math.log(2.0)) / c


class ContinuousABAM(BidirModule):
    """Additive ABAM: eqs (37)-(38) for the neurons, (34) or (43) for the synapses.

        do_x/dt = -o_x + a_y(o_y) M^T + I_x            (37)
        do_y/dt = -o_y + a_x(o_x) M + I_y              (38)
        dM/dt   = -M + a_x^T a_y                         (34, Hebbian)
        dM/dt   = a_y (a_x^T - M), column j by a_y[j]   (43, competitive)

    Activations are binary logistics a(o) = 1 / (1 + exp(-c o)) (eq 1), bounded in [0, 1]
    and nondecreasing as the theorem needs. The competitive law keeps Edot <= 0 exactly
    only for a win-loss (0/1) a_y (eqs 44-45); use a steep ``steepness_y`` for it: with a
    shallow logistic E can rise while a Y neuron switches (the ``abam`` experiment measures
    how much). The ABAM experiment integrates in float64 (``dtype=torch.float64``), since its
    tolerances are below float32's resolution.
    """

    def __init__(
        self,
        n: int,
        p: int,
        law: str = "hebbian",
        steepness_x: float = 1.0,
        steepness_y: float = 1.0,
        input_x=None,
        input_y=None,
        dtype=torch.float32,
        device=None,
    ):
        super().__init__()
        check_choice(law, "law", LAWS)
        for name, c in (("steepness_x", steepness_x), ("steepness_y", steepness_y)):
            check_positive(c, name)
        self.n, self.p, self.law = check_positive_int(n, "n"), check_positive_int(p, "p"), law
        check_memory(n * p, f"an ABAM of n={n} by p={p}")  # its synapses M, integrated with the fields
        self.c_x, self.c_y = float(steepness_x), float(steepness_y)
        for name, value, size in (("input_x", input_x, n), ("input_y", input_y, p)):
            value = torch.zeros(size) if value is None else value
            self.register_buffer(name, check_finite_tensor(value, name, shape=(size,), dtype=dtype, device=device))

    def activations(self, o_x, o_y):
        """(a_x, a_y): the logistic signals of both fields (eq 1) at activations (o_x, o_y)."""
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
    def integrate(
        self, o_x, o_y, M, t, method: str = "dopri5", rtol: float = 1e-8, atol: float = 1e-10
    ) -> ABAMTrajectory:
        """Integrate from (o_x, o_y, M) over the time grid t with a torchdiffeq solver (inputs move to the
        model's device and dtype; one state may be 1-D)."""
        dtype, device = self.input_x.dtype, self.input_x.device
        check_positive(rtol, "rtol")
        check_positive(atol, "atol")
        o_x = as_patterns(o_x, "o_x", dim=self.n, coding=None, dtype=dtype, device=device)
        o_y = as_patterns(o_y, "o_y", dim=self.p, coding=None, dtype=dtype, device=device)
        if o_x.shape[0] != o_y.shape[0]:
            raise InvalidInputError(f"o_x and o_y must have the same batch size, got {o_x.shape[0]} and {o_y.shape[0]}")
        M = check_finite_tensor(M, "M", dtype=dtype, device=device)
        if M.shape == (self.n, self.p):
            M = M.expand(o_x.shape[0], self.n, self.p).clone()
        if M.shape != (o_x.shape[0], self.n, self.p):
            raise InvalidInputError(
                f"M must have shape ({self.n}, {self.p}) or ({o_x.shape[0]}, {self.n}, {self.p}), got {tuple(M.shape)}"
            )
        t = check_finite_tensor(t, "t", dtype=dtype, device=device)
        if t.dim() != 1 or t.numel() < 2 or not (t[1:] > t[:-1]).all():
            raise InvalidInputError("t must be a strictly increasing 1-D time grid with at least two points")
        o_xs, o_ys, Ms = odeint(self, (o_x, o_y, M), t, method=method, rtol=rtol, atol=atol)
        return ABAMTrajectory(t, o_xs, o_ys, Ms, self.energy(o_xs, o_ys, Ms))
