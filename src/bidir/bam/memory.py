"""The discrete bidirectional associative memory (Kosko 2021, sections I-III.A).

>>> bam = BAM.from_pairs(X, Y)                 # eq (16): M = sum_k X_k^T Y_k
>>> out = bam.recall(x=noisy_key, mode="async", k=6, seed=0)
>>> out.x, out.y, out.converged, out.energy    # eq (8) trace, never increasing
"""

from __future__ import annotations

import warnings

import torch

from ..errors import InvalidInputError
from ..module import BidirModule
from ..validation import as_patterns, check_choice, check_coding, check_finite_tensor, check_memory, check_positive_int
from .dynamics import (
    MODES,
    RecallResult,
    bidirectional_recall,
    energy,
    energy_bound,
    fixed_point_mask,
    off_value,
    threshold_update,
)

__all__ = ["BAM", "to_bipolar", "to_binary", "hebbian_matrix"]


def to_bipolar(a: torch.Tensor) -> torch.Tensor:
    """X = 2A - 1: binary {0, 1} to bipolar {-1, 1} (section III.A)."""
    return 2 * a - 1


def to_binary(x: torch.Tensor) -> torch.Tensor:
    """A = (X + 1) / 2: bipolar {-1, 1} to binary {0, 1}."""
    return (x + 1) / 2


def hebbian_matrix(X: torch.Tensor, Y: torch.Tensor, coding: str = "bipolar") -> torch.Tensor:
    """Eq (16): M = sum_k X_k^T Y_k over the rows of X (m, n) and Y (m, p).

    Binary pairs are encoded through their bipolar forms, X = 2A - 1 (section III.A).
    Leading batch dimensions give one memory per batch entry: (..., m, n) -> (..., n, p).
    """
    if coding == "binary":
        X, Y = to_bipolar(X), to_bipolar(Y)
    return X.transpose(-2, -1) @ Y


class BAM(BidirModule):
    """Two fields of threshold neurons, X (n) and Y (p), joined by one n-by-p matrix M.

    Signals run forward through M and backward through M^T. States are bipolar
    ({-1, 1}) or binary ({0, 1}) row vectors; per-neuron thresholds default to zero.
    """

    def __init__(
        self,
        n: int,
        p: int,
        coding: str = "bipolar",
        threshold_x=None,
        threshold_y=None,
        dtype: torch.dtype = torch.float32,
        device=None,
    ):
        super().__init__()
        check_positive_int(n, "n")
        check_positive_int(p, "p")
        check_memory(n * p, f"a BAM of n={n} by p={p}")
        self.coding = check_coding(coding)
        self.n, self.p = n, p
        self.register_buffer("M", torch.zeros(n, p, dtype=dtype, device=device))
        tx = torch.zeros(n) if threshold_x is None else threshold_x
        ty = torch.zeros(p) if threshold_y is None else threshold_y
        self.register_buffer(
            "threshold_x", check_finite_tensor(tx, "threshold_x", shape=(n,), dtype=dtype, device=device)
        )
        self.register_buffer(
            "threshold_y", check_finite_tensor(ty, "threshold_y", shape=(p,), dtype=dtype, device=device)
        )

    # ----------------------------------------------------------------- encoding
    @classmethod
    def from_pairs(cls, X, Y, coding: str = "bipolar", **kwargs) -> BAM:
        """Encode m pairs (rows of X and Y) by Hebbian correlation, eq (16)."""
        check_coding(coding)
        dtype = kwargs.get("dtype", torch.float32)
        X = as_patterns(X, "X", coding=coding, dtype=dtype, device=kwargs.get("device"))
        Y = as_patterns(Y, "Y", coding=coding, dtype=dtype, device=kwargs.get("device"))
        if X.shape[0] != Y.shape[0]:
            raise InvalidInputError(f"X and Y must hold the same number of patterns, got {X.shape[0]} and {Y.shape[0]}")
        bam = cls(X.shape[1], Y.shape[1], coding=coding, **kwargs)
        bam.M.copy_(hebbian_matrix(X, Y, coding))
        return bam

    def _pairs(self, x, y):
        x = self.states(x, "x", self.n)
        y = self.states(y, "y", self.p)
        if x.shape[0] != y.shape[0]:
            raise InvalidInputError(f"x and y must hold the same number of patterns, got {x.shape[0]} and {y.shape[0]}")
        return x, y

    @torch.no_grad()
    def add_pair(self, x, y) -> BAM:
        """M <- M + X^T Y: store one pair (or a batch of pairs)."""
        self.M += hebbian_matrix(*self._pairs(x, y), self.coding)
        return self

    @torch.no_grad()
    def erase_pair(self, x, y) -> BAM:
        """M <- M - X^T Y: forget a pair; -M_k stores (X_k, Y_k^c) (section III.A)."""
        self.M -= hebbian_matrix(*self._pairs(x, y), self.coding)
        return self

    # ----------------------------------------------------------------- one pass
    def states(self, value, name: str, dim: int) -> torch.Tensor:
        """Validated states of one field (batch, dim) in the BAM's coding, dtype and device; 1-D is one state."""
        return as_patterns(value, name, dim=dim, coding=self.coding, dtype=self.M.dtype, device=self.M.device)

    def start_states(self, value, name: str, dim: int, like: torch.Tensor) -> torch.Tensor:
        """Like :meth:`states`, one per row of ``like``; None gives every neuron 'off'."""
        if value is None:
            return torch.full((like.shape[0], dim), off_value(self.coding), dtype=self.M.dtype, device=self.M.device)
        out = self.states(value, name, dim)
        if out.shape[0] != like.shape[0]:
            raise InvalidInputError(
                f"{name} must hold {like.shape[0]} patterns to match the probes, got {out.shape[0]}"
            )
        return out

    @torch.no_grad()
    def forward(self, x, y_prev=None) -> torch.Tensor:
        """One forward pass X -> Y: threshold of x M (eqs 3, 5); ties keep y_prev (default off)."""
        x = self.states(x, "x", self.n)
        y_prev = self.start_states(y_prev, "y_prev", self.p, x)
        return threshold_update(x @ self.M, y_prev, self.threshold_y, self.coding)

    @torch.no_grad()
    def backward_pass(self, y, x_prev=None) -> torch.Tensor:
        """One backward pass Y -> X: threshold of y M^T through the same synapses."""
        y = self.states(y, "y", self.p)
        x_prev = self.start_states(x_prev, "x_prev", self.n, y)
        return threshold_update(y @ self.M.T, x_prev, self.threshold_x, self.coding)

    # ----------------------------------------------------------------- energy
    def energy(self, x, y) -> torch.Tensor:
        """Eq (8): E(x, y) = -x M y^T (plus threshold terms when thresholds are set)."""
        x, y = self._pairs(x, y)
        return energy(x, y, self.M, self.threshold_x, self.threshold_y)

    def energy_bound(self) -> float:
        """Eq (9): the lower bound -sum |m_ij| of the energy."""
        return float(energy_bound(self.M, self.threshold_x, self.threshold_y))

    @torch.no_grad()
    def is_fixed_point(self, x, y, strict: bool = True) -> torch.Tensor:
        """Whether each (x, y) is a bidirectional fixed point.

        strict=True demands every neuron's input lie strictly on its state's side of the
        threshold (no ties); strict=False applies eq (5) literally, where a tie keeps the
        state, so e.g. M = 0 makes every pair a fixed point.
        """
        x, y = self._pairs(x, y)
        return fixed_point_mask(x, y, self.M, self.threshold_x, self.threshold_y, "strict" if strict else "keep")

    # ----------------------------------------------------------------- recall
    @torch.no_grad()
    def recall(
        self,
        x=None,
        y=None,
        mode: str = "sync",
        k: int = 1,
        max_steps: int = 1000,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        record_states: bool = False,
    ) -> RecallResult:
        """Bidirectional recall to a fixed point, batched over probes.

        Give a key on the X side (x), the Y side (y) or both. Recall from X iterates
        X -> Y -> X (section II); recall from Y alone iterates Y -> X -> Y. A field not
        given starts from one synchronous pass of the key through M (or M^T), "the input
        state A passes forward through the memory matrix M" (ties there resolve to off).
        mode="sync" updates whole fields; mode="async" updates k random neurons per field
        per step, drawn from ``generator`` (or a fresh one seeded with ``seed``).
        """
        check_choice(mode, "mode", MODES)
        check_positive_int(max_steps, "max_steps")
        if mode == "async":
            check_positive_int(k, "k", maximum=min(self.n, self.p))
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        if x is None and y is None:
            raise InvalidInputError("recall needs a probe: give x (X side), y (Y side) or both")
        args = dict(
            coding=self.coding, mode=mode, k=k, max_steps=max_steps, generator=generator, record_states=record_states
        )
        if x is None:  # from the Y side: run the same loop on the transposed memory
            y = self.states(y, "y", self.p)
            r = bidirectional_recall(self.M.T, y, None, self.threshold_y, self.threshold_x, **args)
            r = RecallResult(r.y, r.x, r.converged, r.steps, r.energy, r.states_y, r.states_x)
        else:
            x = self.states(x, "x", self.n)
            y = None if y is None else self.start_states(y, "y", self.p, x)
            r = bidirectional_recall(self.M, x, y, self.threshold_x, self.threshold_y, **args)
        if not bool(r.converged.all()):
            left, total = int((~r.converged).sum()), r.converged.numel()
            warnings.warn(
                f"{mode} recall stopped at max_steps={max_steps} with {left} of {total} probe(s) not at a fixed point "
                "(RecallResult.converged is False for them); raise max_steps",
                stacklevel=3,  # the caller, past torch.no_grad's wrapper
            )
        return r
