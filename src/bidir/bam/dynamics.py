"""Discrete BAM dynamics: threshold updates, energy, the fixed-point test, and the one convergence loop.

Kosko (2021), section II. Signals run forward X -> Y through M (eq 3) and backward
Y -> X through M^T. Each field is updated by the threshold rule (eq 5); a neuron whose
input equals its threshold keeps its state. Synchronous and asynchronous recall are the
same loop with two update masks: all neurons, or a random subset of k neurons per field
per step. The energy (eq 8, with the threshold terms of Kosko 1988) never increases. The
discrete adaptive BAM (eqs 29-33) is the same loop with a learning step after each update.

States are batches of row vectors, x (..., B, n) and y (..., B, p); the memory M has
shape (n, p), shared by all B probes, or (..., n, p), one memory per leading index (one
per probe: states (B, 1, n) against M (B, n, p)).

Conventions (each one a choice a reader meets at once):

- ``steps`` counts the X -> Y -> X steps that changed a state; the sweep that confirms
  a fixed point is not counted, so a probe that starts at a fixed point takes 0 steps.
- The energy trace starts with the energy of the initial state (entry 0) and then has one
  entry per counted step; it stays flat once a probe has converged.
- A field that recall starts without (only a key on the other side is given) begins as one
  threshold pass of the key, in which ties resolve to "off" (there is no previous state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..validation import CODINGS, check_choice

__all__ = [
    "MODES",
    "TIES",
    "off_value",
    "threshold_update",
    "masked_update",
    "energy",
    "energy_bound",
    "fixed_point_mask",
    "RecallResult",
    "bidirectional_recall",
]

MODES = ("sync", "async")  # update all neurons of a field per step, or k random ones


def off_value(coding: str) -> float:
    """The 'off' state of a threshold neuron: -1 (bipolar) or 0 (binary)."""
    return CODINGS[coding][0]


def threshold_update(o: torch.Tensor, prev: torch.Tensor, threshold: torch.Tensor, coding: str) -> torch.Tensor:
    """Eq (5): on if o > T, off if o < T, unchanged if o == T."""
    on = torch.ones((), dtype=o.dtype, device=o.device)
    off = torch.full((), off_value(coding), dtype=o.dtype, device=o.device)
    return torch.where(o > threshold, on, torch.where(o < threshold, off, prev))


def energy(x, y, M, threshold_x, threshold_y, *, x_input=None, y_input=None) -> torch.Tensor:
    """Eq (8): E = -x M y^T (+ x.T_x + y.T_y, zero for the paper's zero thresholds).

    ``x_input = y M^T`` or ``y_input = x M`` may be passed when it is already at hand (recall has it), which saves
    a product.
    """
    if x_input is not None:
        cross = (x * x_input).sum(-1)
    else:
        cross = ((x @ M if y_input is None else y_input) * y).sum(-1)
    return -cross + x @ threshold_x + y @ threshold_y


def energy_bound(M, threshold_x, threshold_y) -> torch.Tensor:
    """Eq (9): E >= -sum |m_ij| (minus the threshold magnitudes) for states in [-1, 1]."""
    return -M.abs().sum((-2, -1)) - threshold_x.abs().sum() - threshold_y.abs().sum()


TIES = {  # how a neuron whose input equals its threshold (a zero recall sum) is read when checking a fixed point
    "strict": "a zero sum fails: every input strictly on its state's side",
    "keep": "a zero sum keeps the neuron's state, as eq (5) says",
    "off": "a zero sum turns the neuron off (sign(0) = -1)",
}


def fixed_point_mask(x, y, M, threshold_x, threshold_y, ties: str = "strict") -> torch.Tensor:
    """Whether each (x, y) is a bidirectional fixed point of eq (5): every neuron's input on its state's side.

    ``ties`` (see ``TIES``): "strict" demands every input strictly on the right side of the threshold; "keep"
    applies eq (5) literally, where a tie keeps the state (so M = 0 makes every pair a fixed point); "off" reads a
    tie as off. Works for either coding ('on' is 1 in both).
    """
    check_choice(ties, "ties", tuple(TIES))
    o_y = x @ M - threshold_y
    o_x = y @ M.transpose(-2, -1) - threshold_x
    ok_y = torch.where(y == 1, o_y > 0, o_y < 0)
    ok_x = torch.where(x == 1, o_x > 0, o_x < 0)
    if ties != "strict":
        ok_y |= (o_y == 0) & ((y != 1) if ties == "off" else True)
        ok_x |= (o_x == 0) & ((x != 1) if ties == "off" else True)
    return ok_y.all(-1) & ok_x.all(-1)


@dataclass
class RecallResult:
    """Outcome of bidirectional recall for a batch of probes.

    x, y: final states; converged: whether (x, y) is a bidirectional fixed point;
    steps: X->Y->X steps taken until convergence (or the step limit);
    energy: (..., steps + 1) energy trace, entry 0 at the start state, flat after convergence;
    states_x / states_y: (steps + 1, ..., n|p) snapshots when recorded;
    M: the final memory (differs from the start only when the loop learned).
    """

    x: torch.Tensor
    y: torch.Tensor
    converged: torch.Tensor
    steps: torch.Tensor
    energy: torch.Tensor
    states_x: torch.Tensor | None = None
    states_y: torch.Tensor | None = None
    M: torch.Tensor | None = None


def _random_mask(shape, k: int, generator, device) -> torch.Tensor:
    """A mask with exactly k True entries per row, chosen uniformly at random.

    Drawn on the generator's device, then moved: the same seed gives the same masks on
    CPU and GPU.
    """
    scores = torch.rand(shape, generator=generator, device=generator.device if generator is not None else device)
    idx = scores.to(device).topk(k, dim=-1).indices
    return torch.zeros(shape, dtype=torch.bool, device=device).scatter_(-1, idx, True)


def masked_update(full: torch.Tensor, state: torch.Tensor, mode: str, k: int, generator) -> torch.Tensor:
    """Sync: every neuron takes its threshold update; async: only k random neurons per pattern."""
    if mode == "sync":
        return full
    return torch.where(_random_mask(state.shape, k, generator, state.device), full, state)


def bidirectional_recall(
    M: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor | None,
    threshold_x: torch.Tensor,
    threshold_y: torch.Tensor,
    coding: str,
    mode: str = "sync",
    k: int | None = None,
    max_steps: int = 1000,
    generator: torch.Generator | None = None,
    record_states: bool = False,
    learn: Callable | None = None,
) -> RecallResult:
    """Iterate X -> Y -> X until every probe sits at a bidirectional fixed point.

    One step updates Y from x M (eq 3, 5), then X from y M^T with the new y. A probe has
    converged when a full synchronous update of both fields would change nothing; its
    state then stays frozen. Inputs are trusted (validated by :class:`BAM`). ``y=None`` starts the Y field
    from one threshold pass of the key, ties off (the module's last convention).

    ``learn(t, x, y, M) -> M`` (the adaptive BAM, eqs 29-33) moves the synapses after every
    step; the loop then runs all ``max_steps`` steps (learning goes on at a fixed point of
    the neurons) and each energy is that of the new state under the new matrix.
    """
    if mode == "sync" and learn is None and not record_states and M.dim() == 2 and x.dim() == 2:
        return _sync_recall(M, x, y, threshold_x, threshold_y, coding, max_steps)
    if y is None:
        y = threshold_update(x @ M, torch.full_like(x[..., :1], off_value(coding)), threshold_y, coding)
    batch = x.shape[:-1]
    converged = torch.zeros(batch, dtype=torch.bool, device=x.device)
    steps = torch.zeros(batch, dtype=torch.long, device=x.device)
    energies, xs, ys = [energy(x, y, M, threshold_x, threshold_y)], [x], [y]
    for t in range(max_steps + 1):
        y_full = threshold_update(x @ M, y, threshold_y, coding)  # eq (3): forward inner products
        y_new = masked_update(y_full, y, mode, k, generator)
        o_x = y_new @ M.transpose(-2, -1)  # backward pass through M^T
        x_full = threshold_update(o_x, x, threshold_x, coding)
        # Stable Y means y_new == y, so x_full came from y itself: (x, y) is a fixed point.
        converged |= (y_full == y).all(-1) & (x_full == x).all(-1)
        if t == max_steps or (learn is None and bool(converged.all())):
            break
        x_new = masked_update(x_full, x, mode, k, generator)
        if learn is None:
            keep = converged.unsqueeze(-1)
            x, y = torch.where(keep, x, x_new), torch.where(keep, y, y_new)
            steps += (~converged).long()
            e_new = energy(x_new, y_new, M, threshold_x, threshold_y, x_input=o_x)  # o_x = y_new M^T: no product
            energies.append(torch.where(converged, energies[-1], e_new))
        else:
            x, y = x_new, y_new
            steps += 1
            M = learn(t, x, y, M)
            energies.append(energy(x, y, M, threshold_x, threshold_y))
        if record_states:
            xs.append(x)
            ys.append(y)
    states = (torch.stack(xs), torch.stack(ys)) if record_states else (None, None)
    return RecallResult(x, y, converged, steps, torch.stack(energies, dim=-1), *states, M=M)


def _sync_recall(M, x, y, threshold_x, threshold_y, coding: str, max_steps: int) -> RecallResult:
    """:func:`bidirectional_recall`'s synchronous case for one matrix and a (B, n) batch, the same numbers with
    less work: each step multiplies only the probes that have not converged (a converged probe's state is
    frozen, so its products would only confirm it), and the first product x M serves the start of Y, the
    start's energy and the first step."""
    converged = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    steps = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
    o_y = x @ M
    if y is None:
        y = threshold_update(o_y, torch.full_like(x[:, :1], off_value(coding)), threshold_y, coding)
    x, y = x.clone(), y.clone()
    energies = [energy(x, y, M, threshold_x, threshold_y, y_input=o_y)]
    active = torch.arange(x.shape[0], device=x.device)  # the probes still moving
    for t in range(max_steps + 1):
        xa, ya = (x, y) if t == 0 else (x[active], y[active])  # every probe moves at first: no copy
        y_full = threshold_update(o_y if t == 0 else xa @ M, ya, threshold_y, coding)
        o_x = y_full @ M.T
        x_full = threshold_update(o_x, xa, threshold_x, coding)
        done = (y_full == ya).all(-1) & (x_full == xa).all(-1)
        converged[active[done]] = True
        if t == max_steps or bool(done.all()):
            break
        moving, x_full, y_full = active[~done], x_full[~done], y_full[~done]
        x[moving], y[moving] = x_full, y_full
        steps[moving] += 1
        e = energies[-1].clone()
        e[moving] = energy(x_full, y_full, M, threshold_x, threshold_y, x_input=o_x[~done])
        energies.append(e)
        active = moving
    return RecallResult(x, y, converged, steps, torch.stack(energies, dim=-1), None, None, M=M)
