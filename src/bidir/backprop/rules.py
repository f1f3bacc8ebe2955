"""Learning rules: which error signal reaches each layer's weights.

The engine's backward recursion (:func:`bidir.backprop.engine.backward`; the note's eqs 6-9) runs
down a path of layers l = L .. 1, with e = dJ/dz_L the output layer's error:

    dz_l     = f'(z_l) .* dy_l                 (eq 7)
    dW_l     = dz_l^T x_l                      (eq 9: every rule's update has this local form)
    dy_{l-1} = feedback_l(dz_l, e)             (what reaches the layer below)

Backpropagation's feedback is the forward weights themselves, dy_{l-1} = dz_l W_l (W^T as a column
operator, eq 6): "weight transport". A learning rule replaces it; the network, the data, the loop
and the checkpoint stay the same:

    BP    dy_{l-1} = dz_l W_l                                  (the reference)
    FA    dy_{l-1} = dz_l B_l,        B_l ~ fixed random, the shape of W_l
          (Lillicrap, Cownden, Tweed & Akerman 2016, "Random synaptic feedback weights support
          error backpropagation for deep learning", Nature Communications 7:13276, eq 1: B in place
          of W^T)
    SS    dy_{l-1} = dz_l sign(W_l)   (sign symmetry: Liao, Leibo & Poggio 2016, "How important is
          weight symmetry in backpropagation?", AAAI: only the signs of W are transported)
    DFA   dy_{l-1} = e D_{l-1},       D_{l-1} ~ fixed random (n_L x n_{l-1})
          (Nokland 2016, "Direct feedback alignment provides learning in deep neural networks",
          NeurIPS, eq 3: the output error straight to every hidden layer)

A rule holds its fixed matrices as buffers keyed by the weight's name, so they are in the
state_dict (saved, checkpointed, resumed). A step that uses its weight transposed (a backward
pass through the same synapses, Kosko's N^T) gets the transposed feedback of the same matrix.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InvalidInputError
from .engine import Step

__all__ = ["LearningRule", "Backprop", "FeedbackAlignment", "SignSymmetry", "DirectFeedbackAlignment", "RULES"]


def _key(name: str) -> str:
    return name.replace(".", "__")  # buffer names may not hold dots


class LearningRule(nn.Module):
    """What reaches the layer below in the backward recursion; subclasses override :meth:`feedback`."""

    name = "rule"

    def feedback(self, index: int, step: Step, weight: torch.Tensor, dz: torch.Tensor, error: torch.Tensor):
        """dJ/dy of the layer below step ``index`` (its input), from the step's dz (B, n_out) and the path's
        output error ``error`` = dz_L (B, n_L)."""
        raise NotImplementedError

    @staticmethod
    def _through(matrix: torch.Tensor, step: Step, dz: torch.Tensor) -> torch.Tensor:
        """dz through a matrix of the weight's shape, as the step uses its weight (W, or W^T)."""
        return dz @ matrix.mT if step.transpose else dz @ matrix


class Backprop(LearningRule):
    """BP: the forward weights carry the error back (the reference every rule is compared with)."""

    name = "bp"

    def feedback(self, index, step, weight, dz, error):
        """dz W_l (the note's eq 6)."""
        return self._through(weight, step, dz)


class _FixedFeedback(LearningRule):
    """A rule with one fixed random matrix per weight, drawn once from its own generator."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], seed: int = 0, dtype=torch.float32, device=None):
        super().__init__()
        if not shapes:
            raise InvalidInputError(f"{type(self).__name__} needs the shapes of the weights it replaces")
        gen = torch.Generator().manual_seed(seed)
        for name, shape in shapes.items():
            self.register_buffer(_key(name), self._draw(shape, gen).to(dtype=dtype, device=device))

    @staticmethod
    def _draw(shape, gen) -> torch.Tensor:
        """U(-1/sqrt(fan), 1/sqrt(fan)), fan the matrix's last dimension (as nn.Linear initialises)."""
        bound = 1 / math.sqrt(shape[-1])
        return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    def matrix(self, name: str) -> torch.Tensor:
        """The fixed matrix that stands for weight ``name``."""
        try:
            return getattr(self, _key(name))
        except AttributeError:
            raise InvalidInputError(f"{self.name}: no feedback matrix for weight {name!r}") from None


class FeedbackAlignment(_FixedFeedback):
    """FA: a fixed random B_l of W_l's shape carries the error back (Lillicrap et al. 2016)."""

    name = "fa"

    @classmethod
    def for_network(cls, net: nn.Module, seed: int = 0) -> FeedbackAlignment:
        """One B_l per weight matrix of ``net`` (its parameters named ``weights.*``), in its dtype and device."""
        weights = {n: p for n, p in net.named_parameters() if n.startswith("weights.")}
        first = next(iter(weights.values()))
        return cls({n: tuple(p.shape) for n, p in weights.items()}, seed, first.dtype, first.device)

    def feedback(self, index, step, weight, dz, error):
        """dz B_l (Lillicrap et al. 2016, eq 1)."""
        return self._through(self.matrix(step.weight), step, dz)


class SignSymmetry(LearningRule):
    """SS: only the signs of the forward weights go back, sign(W_l) (Liao, Leibo & Poggio 2016)."""

    name = "sign-symmetry"

    def feedback(self, index, step, weight, dz, error):
        """dz sign(W_l)."""
        return self._through(torch.sign(weight), step, dz)


class DirectFeedbackAlignment(_FixedFeedback):
    """DFA: the output error e reaches every hidden layer straight through its own fixed D (Nokland 2016).

    ``shapes`` maps each step's weight to (n_L, n_in): D carries e (B, n_L) to the step's input."""

    name = "dfa"

    @classmethod
    def for_network(cls, net: nn.Module, seed: int = 0) -> DirectFeedbackAlignment:
        """One D per hidden layer of ``net``'s forward path (sizes n_0 .. n_L): D_l of shape (n_L, n_l)."""
        sizes, first = net.sizes, net.weights[0]
        shapes = {f"weights.{i}": (sizes[-1], sizes[i]) for i in range(1, len(sizes) - 1)}
        return cls(shapes, seed, first.dtype, first.device)

    def feedback(self, index, step, weight, dz, error):
        """e D_l (Nokland 2016, eq 3): the layer's own dz is not used."""
        return error @ self.matrix(step.weight)


RULES = {rule.name: rule for rule in (Backprop, FeedbackAlignment, SignSymmetry, DirectFeedbackAlignment)}
