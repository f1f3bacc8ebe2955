"""Neuron activations f(z) and their vector-Jacobian products, for the explicit engine.

Each activation is a small object: ``act(z)`` gives the signal y = f(z) (note eq 2/4)
and ``act.vjp(z, y, g)`` gives dJ/dz from g = dJ/dy, the ``dJ/dy .* dy/dz`` line of the
note's appendix (softmax is the one non-pointwise case: Kosko eq 47). ``act(z)`` is made
of torch ops, so the same objects serve the autograd path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import InvalidInputError
from ..validation import check_positive

__all__ = [
    "Activation",
    "Identity",
    "Logistic",
    "BipolarLogistic",
    "Tanh",
    "ReLU",
    "Softmax",
    "Threshold",
    "get_activation",
    "ACTIVATIONS",
]


class Activation:
    """A neuron activation a = f(z), its vector-Jacobian product (the note's f'(z) * grad) and threshold limit."""

    name = "activation"
    logistic_family = False  # Bernoulli-likelihood neurons with logits c*z

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """a = f(z)."""
        raise NotImplementedError

    def vjp(self, z: torch.Tensor, y: torch.Tensor, grad_y: torch.Tensor) -> torch.Tensor:
        """dJ/dz given dJ/dy (z the net input, y = f(z))."""
        raise NotImplementedError

    def hard(self) -> Activation:
        """The threshold neuron this one approximates (Fig 1b swap); itself if none."""
        return self

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, repr=False)
class Identity(Activation):
    """a = z (linear neurons; with a Gaussian likelihood, squared error)."""

    name = "identity"

    def __call__(self, z):
        """a = z."""
        return z

    def vjp(self, z, y, grad_y):
        """grad_z = grad_y (f' = 1)."""
        return grad_y


@dataclass(frozen=True, repr=False)
class Logistic(Activation):
    """Binary logistic y = 1 / (1 + exp(-c z)), Kosko eq 1; dy/dz = c y (1 - y), eq 4."""

    c: float = 1.0
    name = "logistic"
    logistic_family = True

    def __call__(self, z):
        """a = 1 / (1 + exp(-c z)) (Kosko eq 1)."""
        return torch.sigmoid(self.c * z)

    def vjp(self, z, y, grad_y):
        """grad_z = c a (1 - a) grad_y (Kosko eq 4)."""
        return grad_y * self.c * y * (1 - y)

    def hard(self):
        """The c -> infinity limit: a binary threshold neuron at zero."""
        return Threshold("binary")


@dataclass(frozen=True, repr=False)
class BipolarLogistic(Activation):
    """Bipolar logistic y = 2 / (1 + exp(-c z)) - 1 = tanh(c z / 2); dy/dz = c (1 - y^2) / 2."""

    c: float = 1.0
    name = "bipolar-logistic"
    logistic_family = True

    def __call__(self, z):
        """a = 2 / (1 + exp(-c z)) - 1 = tanh(c z / 2), bipolar."""
        return 2 * torch.sigmoid(self.c * z) - 1

    def vjp(self, z, y, grad_y):
        """grad_z = c (1 - a^2) / 2 grad_y."""
        return grad_y * (0.5 * self.c) * (1 - y * y)

    def hard(self):
        """The c -> infinity limit: a bipolar threshold neuron at zero."""
        return Threshold("bipolar")


@dataclass(frozen=True, repr=False)
class Tanh(BipolarLogistic):
    """tanh(z) = 2 / (1 + exp(-2 z)) - 1: the bipolar logistic with c = 2 (same derivative)."""

    c: float = 2.0
    name = "tanh"

    def __call__(self, z):
        """a = tanh(z)."""
        return torch.tanh(z)


@dataclass(frozen=True, repr=False)
class ReLU(Activation):
    """a = max(z, 0)."""

    name = "relu"

    def __call__(self, z):
        """a = max(z, 0)."""
        return torch.relu(z)

    def vjp(self, z, y, grad_y):
        """grad_z = [z > 0] grad_y."""
        return grad_y * (z > 0).to(grad_y.dtype)


@dataclass(frozen=True, repr=False)
class Softmax(Activation):
    """Softmax over the units (Kosko eq 46); its Jacobian (eq 47) gives y .* (g - <g, y>)."""

    name = "softmax"

    def __call__(self, z):
        """a = softmax(z) over the last axis."""
        return torch.softmax(z, dim=-1)

    def vjp(self, z, y, grad_y):
        """grad_z = a * (grad_y - <a, grad_y>) (the softmax Jacobian, never built)."""
        return y * (grad_y - (grad_y * y).sum(-1, keepdim=True))

    def hard(self):
        """The zero-temperature limit: one-hot at the largest input."""
        return Threshold("one-hot")


@dataclass(frozen=True, repr=False)
class Threshold(Activation):
    """Threshold neurons for inference: sign (bipolar), step (binary) or argmax (one-hot).

    A zero net input gives the 'on' value (the note's sgn: 1 if z >= 0). It has no useful
    derivative, so training through it raises an error.
    """

    coding: str = "bipolar"
    name = "threshold"

    def __call__(self, z):
        """The threshold neuron's output: on above zero, off below, on at a tie."""
        if self.coding == "one-hot":
            return torch.nn.functional.one_hot(z.argmax(-1), z.shape[-1]).to(z.dtype)
        on = z >= 0
        return on.to(z.dtype) * 2 - 1 if self.coding == "bipolar" else on.to(z.dtype)

    def vjp(self, z, y, grad_y):
        """Threshold neurons have no useful derivative: they are for inference only."""
        raise InvalidInputError("threshold neurons have no gradient: train with logistic neurons, then swap (hard())")


ACTIVATIONS = {
    "identity": Identity,
    "logistic": Logistic,
    "bipolar-logistic": BipolarLogistic,
    "tanh": Tanh,
    "relu": ReLU,
    "softmax": Softmax,
    "threshold": Threshold,
}


def get_activation(spec, steepness: float = 1.0, name: str = "activation") -> Activation:
    """An Activation from a name ('logistic', ...) or an Activation; steepness c for logistics. ``name``: the
    argument the caller took it as, for the error message."""
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str) or spec not in ACTIVATIONS:
        raise InvalidInputError(f"{name}: unknown activation {spec!r:.60}; choose from {', '.join(ACTIVATIONS)}")
    check_positive(steepness, "steepness c")
    return ACTIVATIONS[spec](float(steepness)) if spec in ("logistic", "bipolar-logistic") else ACTIVATIONS[spec]()
