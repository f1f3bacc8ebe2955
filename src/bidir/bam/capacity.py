"""Capacity tooling: how many pairs a Hebbian BAM stores and recalls (section III.B).

The rule of thumb is m < min(n, p) (eq 20: signal n Y_k against m - 1 crosstalk terms).
These helpers measure it: recall rate against the number of stored pairs and the noise
in the key, for bipolar keys and for binary keys (eq 25: binary keys carry half the
signal). Every trial draws its own random memory; trials run as one batch.
"""

from __future__ import annotations

import itertools

import torch

from ..errors import InvalidInputError
from ..validation import as_patterns, check_coding, check_fraction, check_positive_int
from .dynamics import bidirectional_recall, fixed_point_mask, off_value, threshold_update
from .memory import hebbian_matrix, to_binary

__all__ = [
    "flip_noise",
    "recall_rate",
    "capacity_sweep",
    "stored_pairs",
    "largest_stored_subset",
    "greedy_stored_subset",
]


def flip_noise(
    patterns: torch.Tensor, fraction: float, generator: torch.Generator | None = None, coding: str = "bipolar"
) -> torch.Tensor:
    """Flip exactly round(fraction * size) randomly chosen components of every pattern."""
    check_fraction(fraction, "fraction")
    check_coding(coding)
    n_flip = int(round(fraction * patterns.shape[-1]))
    draw_on = generator.device if generator is not None else patterns.device
    ranks = torch.rand(patterns.shape, generator=generator, device=draw_on).to(patterns.device).argsort(-1).argsort(-1)
    flipped = -patterns if coding == "bipolar" else 1 - patterns
    return torch.where(ranks < n_flip, flipped, patterns)


def _check_sizes(n, p, m):
    check_positive_int(n, "n")
    check_positive_int(p, "p")
    check_positive_int(m, "m")


@torch.no_grad()
def recall_rate(
    n: int,
    p: int,
    m: int,
    noise: float = 0.0,
    trials: int = 100,
    coding: str = "bipolar",
    mode: str = "sync",
    k: int = 1,
    max_steps: int = 200,
    generator: torch.Generator | None = None,
    device=None,
) -> dict:
    """Recall m random pairs from keys with ``noise`` of their X bits flipped.

    Each of ``trials`` memories stores m uniformly random bipolar pairs by eq (16); every
    stored pair is probed once. Binary coding uses the binary forms A = (X + 1) / 2 as
    keys and states (threshold 0), with the memory still encoded from the bipolar forms.
    Returns the exact-recall rate (both fields right), the rate of pairs that are fixed
    points (stored at all), and the mean step count.
    """
    _check_sizes(n, p, m)
    check_positive_int(trials, "trials")
    check_coding(coding)
    X = torch.randint(0, 2, (trials, m, n), generator=generator).to(device=device, dtype=torch.float32) * 2 - 1
    Y = torch.randint(0, 2, (trials, m, p), generator=generator).to(device=device, dtype=torch.float32) * 2 - 1
    M = hebbian_matrix(X, Y)
    if coding == "binary":
        X, Y = to_binary(X), to_binary(Y)
    keys = flip_noise(X, noise, generator, coding)
    tx, ty = torch.zeros(n, device=device), torch.zeros(p, device=device)
    y0 = threshold_update(keys @ M, torch.full_like(Y, off_value(coding)), ty, coding)
    r = bidirectional_recall(M, keys, y0, tx, ty, coding, mode=mode, k=k, max_steps=max_steps, generator=generator)
    exact = (r.x == X).all(-1) & (r.y == Y).all(-1)
    fixed = fixed_point_mask(X, Y, M, tx, ty, ties="keep")  # eq (5) literally: a tie keeps the state
    return {
        "recall_rate": exact.float().mean().item(),
        "stored_rate": fixed.float().mean().item(),
        "mean_steps": r.steps.float().mean().item(),
        "converged_rate": r.converged.float().mean().item(),
    }


def capacity_sweep(
    n, p, ms, noises, trials=100, codings=("bipolar", "binary"), mode="sync", k=1, seed=0, progress=None, device=None
) -> list[dict]:
    """Recall rate over a grid of stored-pair counts, noise levels and codings (one row each)."""
    rows = []
    g = torch.Generator().manual_seed(seed)
    grid = list(itertools.product(codings, noises, ms))
    for coding, noise, m in grid if progress is None else progress(grid, desc="capacity"):
        rows.append(
            {
                "coding": coding,
                "noise": noise,
                "m": m,
                **recall_rate(n, p, m, noise, trials, coding, mode, k, generator=g, device=device),
            }
        )
    return rows


@torch.no_grad()
def stored_pairs(X, Y, M=None, ties: str = "strict") -> torch.Tensor:
    """Which pairs (X_k, Y_k) are bidirectional fixed points of M (default: their own eq 16 matrix).

    ``ties``: how a zero recall sum is read (:data:`~bidir.bam.dynamics.TIES`); "strict" requires every input
    strictly on the right side of zero.
    """
    X = as_patterns(X, "X", coding="bipolar", dtype=torch.float64)
    Y = as_patterns(Y, "Y", coding="bipolar", dtype=torch.float64)
    if X.shape[0] != Y.shape[0]:
        raise InvalidInputError(f"X and Y must hold the same number of pairs, got {X.shape[0]} and {Y.shape[0]}")
    M = hebbian_matrix(X, Y) if M is None else torch.as_tensor(M, dtype=torch.float64)
    return _fixed(X, Y, M, ties)


def _fixed(X, Y, M, ties):
    """Bipolar pairs stored as fixed points of M with zero thresholds (the paper's BAMs)."""
    return fixed_point_mask(X, Y, M, 0.0, 0.0, ties)


@torch.no_grad()
def largest_stored_subset(X, Y, ties: str = "strict", chunk: int = 8192) -> dict:
    """Exhaustive search: the largest subsets S whose Hebbian matrix stores every pair in S.

    Checks all 2^m subsets (m <= 20), vectorised in chunks. Returns the size, how many
    subsets reach it, and one of them (1-based pair numbers).
    """
    X = as_patterns(X, "X", coding="bipolar", dtype=torch.float64)
    Y = as_patterns(Y, "Y", coding="bipolar", dtype=torch.float64)
    m = X.shape[0]
    check_positive_int(m, "number of pairs", maximum=20)
    bits = 1 << torch.arange(m)
    best, count, example = 0, 0, []
    for start in range(0, 2**m, chunk):
        codes = torch.arange(start, min(start + chunk, 2**m))
        S = ((codes.unsqueeze(1) & bits) > 0).to(torch.float64)  # (c, m) subset indicators
        M = torch.einsum("ki,sk,kj->sij", X, S, Y)  # eq (16) per subset
        ok = _fixed(X.unsqueeze(0), Y.unsqueeze(0), M, ties)  # (c, m)
        valid = (ok | (S == 0)).all(1)
        sizes = torch.where(valid, S.sum(1), torch.zeros(()))
        top = int(sizes.max())
        if top > best:
            best, count = top, 0
            example = (S[sizes == top][0].nonzero().flatten() + 1).tolist()
        if top == best:
            count += int((sizes == top).sum())
    return {"size": best, "count": count, "example": example}


@torch.no_grad()
def greedy_stored_subset(X, Y, order=None, ties: str = "strict") -> list[int]:
    """Add pairs one by one (in ``order``), keeping each that leaves every kept pair stored.

    A lower bound on the largest storable subset where the exhaustive search is too big.
    Returns the kept 0-based pair indices.
    """
    X = as_patterns(X, "X", coding="bipolar", dtype=torch.float64)
    Y = as_patterns(Y, "Y", coding="bipolar", dtype=torch.float64)
    kept: list[int] = []
    M = torch.zeros(X.shape[1], Y.shape[1], dtype=torch.float64)
    for i in range(X.shape[0]) if order is None else order:
        i = int(i)
        trial = M + X[i : i + 1].T @ Y[i : i + 1]
        idx = kept + [i]
        if bool(_fixed(X[idx], Y[idx], trial, ties).all()):
            kept, M = idx, trial
    return kept
