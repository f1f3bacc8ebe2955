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

Two rules make the feedback plastic (Luo, Fu & Glass 2017, "Adaptive bidirectional backpropagation:
towards biologically plausible error signal transmission in neural networks", arXiv 1702.07097):
their feedback matrices are trained "to approximate the forward activations", so the feedback path
is itself a network run backward, the meeting point of this family and Kosko's B-BP:

    BFA   dy_{l-1} = dz_l B_l,   B_l trained to carry h_l back to h_{l-1}:
          E_B = sum_l 1/2 mean_batch || h_{l-1} - h_l B_l ||^2
    BDFA  dy_{l-1} = e D_{l-1},  D_{l-1} trained to carry the output y_L to h_{l-1}:
          E_D = sum_l 1/2 mean_batch || h_{l-1} - y_L D_{l-1} ||^2

(h_l: layer l's output, h_0 = x; the activations enter E_B and E_D as constants, so their
gradients reach only B and D, and every update stays local.) The paper's full text is not in
``../shared/papers``: the linear, layer-local reconstruction above is our reading of its abstract.
Both train the input layer's matrix too (B_1, D_0), which no forward update uses: it completes the
backward path down to the input, so N^T(e_k) has a counterpart, e_k B_L ... B_1 and e_k D_0.

Networks whose gradients come from autograd (the CNN) take the same rules layer by layer: a rule
routes each layer's forward operation (``linear``, ``conv2d``) through an autograd function whose
backward sends dJ/dx through the rule's matrix in place of W (for a convolution, the transposed
convolution with that kernel, :func:`torch.nn.grad.conv2d_input`) and gives W its usual local
update; DFA instead replaces the signal reaching each hidden layer's output (``hidden``) by
e D_l, with e = dJ/dz_L caught at the output (``output``). BFA and BDFA are dense-only here.

A rule holds its matrices keyed by the weight's name (fixed ones as buffers, plastic ones as
parameters), so they are in the state_dict (saved, checkpointed, resumed). A step that uses its
weight transposed (a backward pass through the same synapses, Kosko's N^T) gets the transposed
feedback of the same matrix.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInputError
from .engine import Step

__all__ = [
    "LearningRule",
    "Backprop",
    "FeedbackAlignment",
    "SignSymmetry",
    "DirectFeedbackAlignment",
    "BidirectionalFeedbackAlignment",
    "BidirectionalDirectFeedbackAlignment",
    "RULES",
]


def _key(name: str) -> str:
    return name.replace(".", "__")  # buffer names may not hold dots


class _Transport(torch.autograd.Function):
    """A dense or convolutional layer whose backward sends dJ/dx through ``feedback`` in place of the weight."""

    @staticmethod
    def forward(ctx, x, weight, bias, feedback, stride, padding):
        ctx.save_for_backward(x, weight, feedback)
        ctx.stride, ctx.padding = stride, padding
        if weight.dim() == 2:
            return F.linear(x, weight, bias)
        return F.conv2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, g):
        x, weight, feedback = ctx.saved_tensors
        if weight.dim() == 2:  # eq 9's dW = dz^T x, and dx through the feedback
            gx, gw, gb = g @ feedback, g.flatten(0, -2).mT @ x.flatten(0, -2), g.flatten(0, -2).sum(0)
        else:
            gx = torch.nn.grad.conv2d_input(x.shape, feedback, g, ctx.stride, ctx.padding)
            gw = torch.nn.grad.conv2d_weight(x, weight.shape, g, ctx.stride, ctx.padding)
            gb = g.sum((0, 2, 3))
        return gx, gw, gb, None, None, None


class _Direct(torch.autograd.Function):
    """Identity forward; backward: the output error e (caught by the rule) through D, whatever arrives."""

    @staticmethod
    def forward(ctx, h, matrix, rule):
        ctx.save_for_backward(matrix)
        ctx.rule, ctx.shape = rule, h.shape
        return h.view_as(h)

    @staticmethod
    def backward(ctx, g):
        (matrix,) = ctx.saved_tensors
        return (ctx.rule._error @ matrix).reshape(ctx.shape), None, None


class LearningRule(nn.Module):
    """What reaches the layer below in the backward recursion; subclasses override :meth:`feedback` (the explicit
    engine) and, for networks trained by autograd, :meth:`transport` (or :meth:`hidden` and :meth:`output`)."""

    name = "rule"

    # -- the autograd route, layer by layer (the CNN) --------------------------------------------
    def transport(self, name: str, weight: torch.Tensor) -> torch.Tensor | None:
        """The matrix that carries dJ/dx back through layer ``name`` in place of its weight (None: the weight)."""
        return None

    def layer(self, name: str, x, weight, bias, stride: int = 1, padding: int = 0) -> torch.Tensor:
        """The layer's forward operation (x W^T + b, or conv(x, W) + b), with this rule's feedback behind it."""
        feedback = self.transport(name, weight)
        if feedback is None:
            if weight.dim() == 2:
                return F.linear(x, weight, bias)
            return F.conv2d(x, weight, bias, stride, padding)
        return _Transport.apply(x, weight, bias, feedback, stride, padding)

    def hidden(self, index: int, h: torch.Tensor) -> torch.Tensor:
        """Hidden layer ``index``'s output, as the backward pass should see it (identity but for DFA)."""
        return h

    def output(self, z: torch.Tensor) -> torch.Tensor:
        """The output layer's net input z, as the backward pass should see it (identity but for DFA)."""
        return z

    def feedback(self, index: int, step: Step, weight: torch.Tensor, dz: torch.Tensor, error: torch.Tensor):
        """dJ/dy of the layer below step ``index`` (its input), from the step's dz (B, n_out) and the path's
        output error ``error`` = dz_L (B, n_L)."""
        raise NotImplementedError

    def observe(self, sweeps) -> None:
        """The engine shows the rule the sweeps of its last loss, [(path, layers)], each layer's input x and
        output y: a rule whose feedback learns keeps them for :meth:`feedback_loss`; the others ignore them."""

    def feedback_loss(self) -> torch.Tensor | None:
        """The error that trains the rule's own feedback weights on the sweeps last observed (None for a rule
        whose feedback does not learn)."""
        return None

    def generate(self, y: torch.Tensor, net: nn.Module) -> torch.Tensor | None:
        """The rule's own backward path from output signals y (B, n_L) to the input layer, if it trains one (BFA,
        BDFA); None otherwise."""
        return None

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
            self._keep(_key(name), self._draw(shape, gen).to(dtype=dtype, device=device))

    def _keep(self, key: str, matrix: torch.Tensor) -> None:
        self.register_buffer(key, matrix)  # fixed: in the state_dict, never trained

    @staticmethod
    def _draw(shape, gen) -> torch.Tensor:
        """U(-1/sqrt(fan), 1/sqrt(fan)), fan = the product of all dimensions but the first: a dense matrix's inputs,
        a kernel's inputs times its area (as nn.Linear and nn.Conv2d initialise)."""
        bound = 1 / math.sqrt(math.prod(shape[1:]))
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
        """One B_l per weight of ``net`` (each parameter of two or more dimensions: dense matrices and convolution
        kernels), of its shape, in its dtype and device."""
        weights = {n: p for n, p in net.named_parameters() if p.dim() >= 2}
        first = next(iter(weights.values()))
        return cls({n: tuple(p.shape) for n, p in weights.items()}, seed, first.dtype, first.device)

    def feedback(self, index, step, weight, dz, error):
        """dz B_l (Lillicrap et al. 2016, eq 1)."""
        return self._through(self.matrix(step.weight), step, dz)

    def transport(self, name, weight):
        """B_l for the layer whose weight is ``name``."""
        return self.matrix(name)


class SignSymmetry(LearningRule):
    """SS: only the signs of the forward weights go back, sign(W_l) (Liao, Leibo & Poggio 2016)."""

    name = "sign-symmetry"

    def feedback(self, index, step, weight, dz, error):
        """dz sign(W_l)."""
        return self._through(torch.sign(weight), step, dz)

    def transport(self, name, weight):
        """sign(W_l), taken afresh at every step."""
        return torch.sign(weight.detach())


class DirectFeedbackAlignment(_FixedFeedback):
    """DFA: the output error e reaches every hidden layer straight through its own fixed D (Nokland 2016).

    ``shapes`` maps each step's weight to (n_L, n_in): D carries e (B, n_L) to the step's input."""

    name = "dfa"

    @classmethod
    def for_network(cls, net: nn.Module, seed: int = 0) -> DirectFeedbackAlignment:
        """One D per hidden layer of ``net``'s forward path: for the MLP (sizes n_0 .. n_L) D_l of shape (n_L, n_l)
        keyed by the weight the layer feeds; for a network that lists its hidden outputs' sizes
        (``hidden_numels``: the CNN) one (K, numel) per hidden output, keyed ``hidden.i``."""
        first = next(p for p in net.parameters() if p.dim() >= 2)
        if hasattr(net, "hidden_numels"):
            K = net.num_classes
            shapes = {f"hidden.{i}": (K, n) for i, n in enumerate(net.hidden_numels)}
        else:
            sizes = net.sizes
            shapes = {f"weights.{i}": (sizes[-1], sizes[i]) for i in range(1, len(sizes) - 1)}
        return cls(shapes, seed, first.dtype, first.device)

    def feedback(self, index, step, weight, dz, error):
        """e D_l (Nokland 2016, eq 3): the layer's own dz is not used."""
        return error @ self.matrix(step.weight)

    def output(self, z):
        """z, whose gradient e = dJ/dz_L the rule keeps for the hidden layers below."""
        if z.requires_grad:
            z.register_hook(self._catch)
        return z

    def _catch(self, e):
        self._error = e.flatten(1)

    def hidden(self, index, h):
        """h_l, whose gradient becomes e D_l (Nokland 2016, eq 3) whatever the layers above send."""
        return _Direct.apply(h, self.matrix(f"hidden.{index}"), self) if h.requires_grad else h


class _Plastic:
    """Feedback matrices as parameters, trained by a reconstruction error of the observed forward activations."""

    def _keep(self, key: str, matrix: torch.Tensor) -> None:
        self.register_parameter(key, nn.Parameter(matrix))

    def transport(self, name, weight):
        raise InvalidInputError(f"{self.name} learns its feedback on the dense MLP only (the explicit engine)")

    def hidden(self, index, h):
        raise InvalidInputError(f"{self.name} learns its feedback on the dense MLP only (the explicit engine)")

    def observe(self, sweeps) -> None:
        self._seen = [(path, [(layer.x.detach(), layer.y.detach()) for layer in layers]) for path, layers in sweeps]

    def feedback_loss(self) -> torch.Tensor | None:
        terms = [self._reconstruction(path, layers) for path, layers in getattr(self, "_seen", [])]
        terms = [t for t in terms if t is not None]
        return torch.stack(terms).sum() if terms else None

    @staticmethod
    def _squared_error(target: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
        return 0.5 * (target - estimate).pow(2).sum(-1).mean()


class BidirectionalFeedbackAlignment(_Plastic, FeedbackAlignment):
    """BFA: FA whose B_l learn to carry h_l back to h_{l-1} (Luo, Fu & Glass 2017; E_B in the module docstring)."""

    name = "bfa"

    def _reconstruction(self, path, layers) -> torch.Tensor:
        """E_B over one sweep: each step's input from its output, through its B as the feedback runs it."""
        return sum(
            self._squared_error(x, self._through(self.matrix(step.weight), step, y))
            for step, (x, y) in zip(path, layers, strict=True)
        )

    def generate(self, y: torch.Tensor, net: nn.Module) -> torch.Tensor:
        """The backward path of B: y (B, n_L) through B_L, ..., B_1 of ``net``'s weights to the input."""
        for i in reversed(range(len(net.weights))):
            y = y @ self.matrix(f"weights.{i}")
        return y


class BidirectionalDirectFeedbackAlignment(_Plastic, DirectFeedbackAlignment):
    """BDFA: DFA whose D_l learn to carry the output y_L to h_l (Luo, Fu & Glass 2017; E_D in the module
    docstring), with a D_0 for the input as well."""

    name = "bdfa"

    @classmethod
    def for_network(cls, net: nn.Module, seed: int = 0) -> BidirectionalDirectFeedbackAlignment:
        """One D_l (n_L, n_l) per layer of ``net``'s forward path below the output, the input's D_0 included."""
        sizes, first = net.sizes, net.weights[0]
        shapes = {f"weights.{i}": (sizes[-1], sizes[i]) for i in range(len(sizes) - 1)}
        return cls(shapes, seed, first.dtype, first.device)

    def _reconstruction(self, path, layers) -> torch.Tensor | None:
        """E_D over one forward sweep: each step's input from the output (a transposed sweep has no D)."""
        if any(step.transpose for step in path):
            return None
        out = layers[-1][1]
        return sum(
            self._squared_error(x, out @ self.matrix(step.weight)) for step, (x, _) in zip(path, layers, strict=True)
        )

    def generate(self, y: torch.Tensor, net: nn.Module) -> torch.Tensor:
        """The backward path of D: y (B, n_L) straight to the input through D_0."""
        return y @ self.matrix("weights.0")


RULES = {
    rule.name: rule
    for rule in (
        Backprop,
        FeedbackAlignment,
        SignSymmetry,
        DirectFeedbackAlignment,
        BidirectionalFeedbackAlignment,
        BidirectionalDirectFeedbackAlignment,
    )
}
