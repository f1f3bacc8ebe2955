"""Discrete BAM dynamics: threshold updates, energy, and the one convergence loop.

Kosko (2021), section II. Signals run forward X -> Y through M (eq 3) and backward
Y -> X through M^T. Each field is updated by the threshold rule (eq 5); a neuron whose
input equals its threshold keeps its state. Synchronous and asynchronous recall are the
same loop with two update masks: all neurons, or a random subset of k neurons per field
per step. The energy (eq 8, with the threshold terms of Kosko 1988) never increases.

States are batches of row vectors, x (..., B, n) and y (..., B, p); the memory M has
shape (n, p), shared by all B probes, or (..., n, p), one memory per leading index.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import off_value

__all__ = ["threshold_update", "masked_update", "energy", "energy_bound", "RecallResult", "bidirectional_recall"]


def threshold_update(o: torch.Tensor, prev: torch.Tensor, threshold: torch.Tensor, coding: str) -> torch.Tensor:
    """Eq (5): on if o > T, off if o < T, unchanged if o == T."""
    on = torch.ones((), dtype=o.dtype, device=o.device)
    off = torch.full((), off_value(coding), dtype=o.dtype, device=o.device)
    return torch.where(o > threshold, on, torch.where(o < threshold, off, prev))


def energy(x, y, M, threshold_x, threshold_y) -> torch.Tensor:
    """Eq (8): E = -x M y^T (+ x.T_x + y.T_y, zero for the paper's zero thresholds)."""
    return -((x @ M) * y).sum(-1) + x @ threshold_x + y @ threshold_y


def energy_bound(M, threshold_x, threshold_y) -> torch.Tensor:
    """Eq (9): E >= -sum |m_ij| (minus the threshold magnitudes) for states in [-1, 1]."""
    return -M.abs().sum((-2, -1)) - threshold_x.abs().sum() - threshold_y.abs().sum()


@dataclass
class RecallResult:
    """Outcome of bidirectional recall for a batch of probes.

    x, y: final states; converged: whether (x, y) is a bidirectional fixed point;
    steps: X->Y->X steps taken until convergence (or the step limit);
    energy: (..., steps + 1) energy trace, entry 0 at the start state, flat after convergence;
    states_x / states_y: (steps + 1, ..., n|p) snapshots when recorded.
    """

    x: torch.Tensor
    y: torch.Tensor
    converged: torch.Tensor
    steps: torch.Tensor
    energy: torch.Tensor
    states_x: torch.Tensor | None = None
    states_y: torch.Tensor | None = None


def _random_mask(shape, k: int, generator, device) -> torch.Tensor:
    """A mask with exactly k True entries per row, chosen uniformly at random.

    Drawn on the generator's device, then moved: the same seed gives the same masks on
    CPU and GPU.
    """
    scores = torch.rand(shape, generator=generator, device=generator.device if generator is not None else device).to(device)
    idx = scores.topk(k, dim=-1).indices
    return torch.zeros(shape, dtype=torch.bool, device=device).scatter_(-1, idx, True)


def masked_update(full: torch.Tensor, state: torch.Tensor, mode: str, k: int, generator) -> torch.Tensor:
    """Sync: every neuron takes its threshold update; async: only k random neurons per pattern."""
    if mode == "sync":
        return full
    return torch.where(_random_mask(state.shape, k, generator, state.device), full, state)


def bidirectional_recall(
    M: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    threshold_x: torch.Tensor,
    threshold_y: torch.Tensor,
    coding: str,
    mode: str = "sync",
    k: int | None = None,
    max_steps: int = 1000,
    generator: torch.Generator | None = None,
    record_states: bool = False,
) -> RecallResult:
    """Iterate X -> Y -> X until every probe sits at a bidirectional fixed point.

    One step updates Y from x M (eq 3, 5), then X from y M^T with the new y. A probe has
    converged when a full synchronous update of both fields would change nothing; its
    state then stays frozen. Inputs are trusted (validated by :class:`BAM`).
    """
    batch = x.shape[:-1]
    converged = torch.zeros(batch, dtype=torch.bool, device=x.device)
    steps = torch.zeros(batch, dtype=torch.long, device=x.device)
    energies, xs, ys = [], [x], [y]
    Mt = M.transpose(-2, -1)
    for t in range(max_steps + 1):
        o_y = x @ M  # eq (3): forward inner products
        if t == 0:
            energies.append(-(y * o_y).sum(-1) + x @ threshold_x + y @ threshold_y)
        y_full = threshold_update(o_y, y, threshold_y, coding)
        y_new = masked_update(y_full, y, mode, k, generator)
        o_x = y_new @ Mt  # backward pass through M^T
        x_full = threshold_update(o_x, x, threshold_x, coding)
        # Stable Y means y_new == y, so x_full came from y itself: (x, y) is a fixed point.
        converged |= (y_full == y).all(-1) & (x_full == x).all(-1)
        if t == max_steps or bool(converged.all()):
            break
        x_new = masked_update(x_full, x, mode, k, generator)
        keep = converged.unsqueeze(-1)
        x, y = torch.where(keep, x, x_new), torch.where(keep, y, y_new)
        steps += (~converged).long()
        # E(x_new, y_new) = -x_new . (y_new M^T) + thresholds: reuses o_x, no extra product.
        e_new = -(x_new * o_x).sum(-1) + x_new @ threshold_x + y_new @ threshold_y
        energies.append(torch.where(converged, energies[-1], e_new))
        if record_states:
            xs.append(x)
            ys.append(y)
    return RecallResult(
        x=x,
        y=y,
        converged=converged,
        steps=steps,
        energy=torch.stack(energies, dim=-1),
        states_x=torch.stack(xs) if record_states else None,
        states_y=torch.stack(ys) if record_states else None,
    )
