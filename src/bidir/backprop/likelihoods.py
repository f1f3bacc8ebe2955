"""Layer likelihoods: the error E = -ln p(t | layer) of a terminal layer (Kosko sec IV).

Three cases, each the negative log likelihood of the layer's probability structure:

- ``categorical``: one roll of a K-sided die, E = -sum_k t_k ln a_k (cross-entropy, eq 69
  first term), matched by softmax neurons.
- ``gaussian``: vector normal with identity covariance, E = 1/2 sum_i (t_i - a_i)^2 (eq 69
  second term), matched by identity neurons.
- ``bernoulli``: independent coin flips, the double cross-entropy of eq 58, matched by
  logistic neurons. For bipolar logistic neurons the coin is p = (a + 1) / 2 and the
  target (t + 1) / 2.

``error`` returns E per sample (summed over units). ``grad_z`` returns dE/dz; with the
matched activation it is the error-times-signal form of eqs 61-67, c (a - t) (c/2 (a - t)
for bipolar logistics), which is exact and never divides by a saturated a (1 - a).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import InvalidInputError
from .activations import Activation, BipolarLogistic, Identity, Logistic, Softmax

__all__ = ["LIKELIHOODS", "error", "grad_z", "check_likelihood", "check_targets"]

LIKELIHOODS = ("categorical", "gaussian", "bernoulli")
_EPS = 1e-12


def check_likelihood(name: str, act: Activation) -> str:
    """``name`` if it is a likelihood that fits the terminal activation ``act`` (its output range); else an error."""
    if name not in LIKELIHOODS:
        raise InvalidInputError(f"unknown likelihood {name!r}; choose from {', '.join(LIKELIHOODS)}")
    if name == "categorical" and not isinstance(act, Softmax):
        raise InvalidInputError(f"the categorical likelihood needs softmax neurons, got {act}")
    if name == "bernoulli" and not act.logistic_family:
        raise InvalidInputError(f"the bernoulli likelihood needs (bipolar) logistic neurons, got {act}")
    return name


def _coin(act: Activation, v: torch.Tensor) -> torch.Tensor:
    return (v + 1) / 2 if isinstance(act, BipolarLogistic) else v


def check_targets(name: str, act: Activation, target: torch.Tensor, what: str, field: str) -> None:
    """Refuse targets the likelihood cannot score: a Bernoulli coin needs t in its neurons' range ([0, 1], or
    [-1, 1] for bipolar logistics); a categorical die needs probability rows (one-hot labels). A Gaussian takes any
    real target. ``what`` names the targets ("t", or "x" for the backward pass), ``field`` the layer's argument."""
    if name == "bernoulli":
        low = -1.0 if isinstance(act, BipolarLogistic) else 0.0
        t_min, t_max = float(target.min()), float(target.max())
        if t_min < low or t_max > 1.0:
            raise InvalidInputError(
                f"{what} has values in [{t_min:.3g}, {t_max:.3g}], but the bernoulli likelihood of {act} neurons needs "
                f"[{low:g}, 1]: for real values use {field}='identity' (gaussian), or rescale {what}"
            )
    elif name == "categorical":
        sums = target.sum(-1)
        if bool((target < 0).any()) or not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            raise InvalidInputError(
                f"{what} must be one-hot (or probability) rows for the categorical likelihood of softmax neurons; "
                f"its rows sum to {float(sums.min()):.3g}..{float(sums.max()):.3g}, its least value is "
                f"{float(target.min()):.3g}"
            )


def error(name: str, act: Activation, z: torch.Tensor, a: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """E per sample, shape (B,). Computed from the net input z where that is more stable."""
    if name == "categorical":
        return -(t * F.log_softmax(z, dim=-1)).sum(-1)
    if name == "gaussian":
        return 0.5 * ((t - a) ** 2).sum(-1)
    # bernoulli: -[t ln p + (1 - t) ln(1 - p)] with p = sigmoid(c z), via logits
    logits = act.c * z
    return F.binary_cross_entropy_with_logits(logits, _coin(act, t).expand_as(logits), reduction="none").sum(-1)


def grad_z(name: str, act: Activation, z: torch.Tensor, a: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """dE/dz per sample (B, K): eqs 61-67 for matched pairs, else the chain rule."""
    if name == "categorical":  # softmax + cross-entropy (and only that pair)
        return a - t
    if name == "gaussian":
        g = a - t
        return g if isinstance(act, Identity) else act.vjp(z, a, g)
    if isinstance(act, Logistic):
        return act.c * (a - t)
    return (0.5 * act.c) * (a - t)  # bipolar logistic: c (p - t01) with p - t01 = (a - t) / 2
