"""A bidirectional multilayer perceptron: one web of synapses run both ways (Kosko sec IV).

Layers n_0 (input field F_X) ... n_L (output field F_Y) are joined by matrices
W_1..W_L (W_l of shape (n_l, n_{l-1}), as in the note and nn.Linear). The forward sweep
is N(x): x -> W_1 -> ... -> W_L -> y. The backward sweep N^T(y) runs the same matrices
transposed, y -> W_L^T -> ... -> W_1^T -> x, with a bias of its own per layer. Each
direction ends in a layer whose activation fixes its likelihood (eqs 56-69):

    softmax  -> categorical (cross-entropy)      identity -> gaussian (squared error)
    logistic -> bernoulli (double cross-entropy)

Training modes (the error whose gradient is followed):

    forward        E_f  = -ln p_f(y | x)                   (ordinary backprop)
    backward       E_b  = -ln p_b(x | y)                   (backprop of the inverse map)
    bidirectional  E    = E_f + E_b                        (eqs 57 and 68)

The backward sweep starts from the *target* y (the label), as in eq 69. Gradients come
from autograd (default) or from the explicit engine of :mod:`bidir.backprop`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence

import torch
from torch import nn

from ..backprop import Pass, Step, check_likelihood, engine, get_activation
from ..backprop import likelihoods as lk
from ..backprop.activations import Activation, Softmax
from ..errors import InvalidInputError
from ..module import BidirModule
from ..validation import (
    as_batch,
    check_choice,
    check_finite_loss,
    check_memory,
    check_number,
    check_positive,
    check_sizes,
)
from .noise import target_noise
from .objective import MODES, directions, joint_error

__all__ = ["BidirectionalMLP", "MODES", "ENGINES"]

ENGINES = ("autograd", "explicit")


def _default_likelihood(act: Activation) -> str:
    if isinstance(act, Softmax):
        return "categorical"
    if act.logistic_family:
        return "bernoulli"
    return "gaussian"


class BidirectionalMLP(BidirModule):
    """Bidirectional MLP with shared weights.

    Args:
        sizes: (n_0, ..., n_L), at least two layers.
        hidden: activation of the hidden neurons (both directions unless ``hidden_backward``).
        output: activation of the output field F_Y on the forward sweep.
        input: activation of the input field F_X on the backward sweep.
        steepness: c of logistic neurons (Kosko eq 1).
        forward_likelihood / backward_likelihood: default from the terminal activation.
        init: 'xavier' (symmetric in fan-in and fan-out, as a matrix used both ways
            should be; gain from the hidden activation) or 'kaiming' (fan-in only).
        seed: draws the initial weights from its own generator; None draws them from torch's
            global one (``torch.manual_seed(s)`` then construction equals ``seed=s``).
        dtype, device: of every parameter.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        hidden="logistic",
        output="logistic",
        input="logistic",
        steepness: float = 1.0,
        hidden_backward=None,
        forward_likelihood: str | None = None,
        backward_likelihood: str | None = None,
        init: str = "xavier",
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
        device=None,
    ):
        super().__init__()
        sizes = check_sizes(sizes, "sizes", at_least=2)
        check_memory(sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)), f"sizes {list(sizes)}")
        check_choice(init, "init", ("xavier", "kaiming"))
        self.sizes = sizes
        self.steepness = check_positive(steepness, "steepness")
        self.output = get_activation(output, steepness, "output")
        self.input = get_activation(input, steepness, "input")
        backward = hidden if hidden_backward is None else hidden_backward
        self._hidden_names = (getattr(hidden, "name", hidden), getattr(backward, "name", backward))
        # the hidden neurons' c is state (set_hidden_steepness anneals it), so it lives in the state_dict
        self.register_buffer("hidden_steepness", torch.tensor(float(steepness), dtype=dtype))
        self.register_load_state_dict_post_hook(lambda module, keys: module._build_hidden())
        self._build_hidden()
        self.forward_likelihood = check_likelihood(forward_likelihood or _default_likelihood(self.output), self.output)
        self.backward_likelihood = check_likelihood(backward_likelihood or _default_likelihood(self.input), self.input)
        layers = range(len(sizes) - 1)
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.empty(sizes[i + 1], sizes[i], dtype=dtype)) for i in layers]
        )
        self.forward_bias = nn.ParameterList([nn.Parameter(torch.zeros(sizes[i + 1], dtype=dtype)) for i in layers])
        self.backward_bias = nn.ParameterList([nn.Parameter(torch.zeros(sizes[i], dtype=dtype)) for i in layers])
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        gain = nn.init.calculate_gain("relu") if self.hidden.name == "relu" else 1.0
        for W in self.weights:  # drawn on the CPU, so a seed gives the same weights on every device
            if init == "xavier":
                nn.init.xavier_uniform_(W, gain=gain, generator=generator)
            else:
                nn.init.kaiming_uniform_(W, a=math.sqrt(5), generator=generator)
        self.to(device)

    def _build_hidden(self) -> None:
        """The hidden activations at the current ``hidden_steepness`` (after construction and after loading)."""
        c = float(self.hidden_steepness)
        self.hidden = get_activation(self._hidden_names[0], c, "hidden")
        self.hidden_backward = get_activation(self._hidden_names[1], c, "hidden_backward")

    @classmethod
    def bipolar(cls, sizes: Sequence[int], steepness: float = 1.0, **kwargs) -> BidirectionalMLP:
        """Bipolar logistic neurons everywhere, Bernoulli likelihood both ways: the logistic BAM of Fig 1b."""
        return cls(
            sizes,
            hidden="bipolar-logistic",
            output="bipolar-logistic",
            input="bipolar-logistic",
            steepness=steepness,
            **kwargs,
        )

    # -- the two paths through the same synapses ------------------------------------
    def forward_path(self) -> list[Step]:
        """The forward sweep N: W_1 .. W_L, each with its forward bias and activation."""
        L = len(self.weights)
        return [
            Step(f"weights.{layer}", f"forward_bias.{layer}", self.output if layer == L - 1 else self.hidden)
            for layer in range(L)
        ]

    def backward_path(self) -> list[Step]:
        """The backward sweep N^T: W_L^T .. W_1^T, each with its backward bias and activation."""
        L = len(self.weights)
        return [
            Step(
                f"weights.{layer}",
                f"backward_bias.{layer}",
                self.input if layer == 0 else self.hidden_backward,
                transpose=True,
            )
            for layer in reversed(range(L))
        ]

    def _params(self) -> dict:
        return dict(self.named_parameters())

    def _check(self, value, name: str, dim: int) -> torch.Tensor:
        W = self.weights[0]
        return as_batch(value, name, dim, dtype=W.dtype, device=W.device)

    def _pair(self, x, t) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets, one row of each per sample (no broadcasting of a single target row)."""
        x, t = self._check(x, "x", self.sizes[0]), self._check(t, "t", self.sizes[-1])
        if x.shape[0] != t.shape[0]:
            raise InvalidInputError(f"x and t must hold the same number of samples, got {x.shape[0]} and {t.shape[0]}")
        return x, t

    def forward(self, x) -> torch.Tensor:
        """N(x): the forward sweep from F_X to F_Y."""
        x = self._check(x, "x", self.sizes[0])
        return engine.forward(self._params(), self.forward_path(), x)[-1].y

    def backward_pass(self, y) -> torch.Tensor:
        """N^T(y): the backward sweep from F_Y to F_X through the transposed weights."""
        y = self._check(y, "y", self.sizes[-1])
        return engine.forward(self._params(), self.backward_path(), y)[-1].y

    # -- errors and training objective -----------------------------------------------
    def passes(
        self, x: torch.Tensor, t: torch.Tensor, mode: str = "bidirectional", backward_weight: float = 1.0
    ) -> list[Pass]:
        """The directions ``mode`` trains: the forward pass x -> t and/or the backward pass t -> x (eq 69)."""
        trains_forward, trains_backward = directions(mode)
        out = []
        if trains_forward:
            lk.check_targets(self.forward_likelihood, self.output, t, "t", "output")
            out.append(Pass(self.forward_path(), x, t, self.forward_likelihood))
        if trains_backward:
            lk.check_targets(self.backward_likelihood, self.input, x, "x (the backward pass's target)", "input")
            out.append(Pass(self.backward_path(), t, x, self.backward_likelihood, backward_weight))
        return out

    def loss(
        self,
        x,
        t,
        mode: str = "bidirectional",
        engine_name: str = "autograd",
        backward_weight: float = 1.0,
        noise: tuple | None = None,
        rule=None,
    ):
        """(J, {error name: batch-mean error}) for the training mode; J.backward() gives dJ/dtheta.

        ``backward_weight`` scales E_b in the joint error (1 = eqs 57/68); ``noise`` as in :meth:`objective`;
        ``rule`` (:mod:`bidir.backprop.rules`: feedback alignment, sign symmetry, DFA, BFA, BDFA) replaces the
        transported weights in the backward recursion, so J.backward() writes the rule's updates (the explicit
        engine runs); a rule whose feedback learns (BFA, BDFA) adds its own error to J, ``feedback_error``, whose
        gradient reaches only the rule's weights (give the optimiser ``rule.parameters()`` too).
        """
        return self.objective(self._params(), x, t, mode, engine_name, backward_weight, noise, rule)

    def _noisy(self, params: dict, p: Pass, kind: str, scale: float, generator=None) -> Pass:
        """The pass with NEM or blind noise on its target, drawn against its current output (no gradient)."""
        with torch.no_grad():
            out = engine.forward(params, p.path, p.x)[-1].y
        act = p.path[-1].activation
        noise, _ = target_noise(kind, p.likelihood, out, p.target.expand_as(out), scale, generator, act)
        return dataclasses.replace(p, target=p.target + noise)

    def objective(
        self,
        params: dict,
        x,
        t,
        mode: str = "bidirectional",
        engine_name: str = "autograd",
        backward_weight: float = 1.0,
        noise: tuple | None = None,
        rule=None,
    ):
        """:meth:`loss` with the parameters given by name, possibly stacked (S, ...) for an
        ensemble; then the errors have shape (S,) and J is their (weighted) sum.

        ``noise=(kind, scale, generator)`` adds NEM ("nem") or blind ("blind") noise to each
        trained direction's targets (:mod:`bidir.bbp.noise`), drawn against the current outputs."""
        check_choice(engine_name, "engine", ENGINES)
        backward_weight = check_number(backward_weight, "backward_weight", low=0)
        x, t = self._pair(x, t)
        passes = self.passes(x, t, mode, backward_weight)
        if noise is not None:
            passes = [self._noisy(params, p, *noise) for p in passes]
        if engine_name == "explicit" or rule is not None:  # the note's matrix equations, with the rule's feedback
            names = [
                f"{p}_error" for p, trained in zip(("forward", "backward"), directions(mode), strict=True) if trained
            ]
            J, errors = engine.explicit_loss(params, passes, rule)
            errors = dict(zip(names, errors, strict=True))
            feedback = rule.feedback_loss() if rule is not None else None
            if feedback is not None:  # a plastic rule's own error (BFA, BDFA): its gradient reaches only its weights
                J, errors["feedback_error"] = J + feedback, feedback
        else:

            def error(p: Pass) -> torch.Tensor:
                out = engine.forward(params, p.path, p.x)[-1]
                return lk.error(p.likelihood, p.path[-1].activation, out.z, out.y, p.target).mean(-1)

            J, errors = joint_error(mode, backward_weight, lambda: error(passes[0]), lambda: error(passes[-1]))
        check_finite_loss(J, x, t)
        return J, {n: e.detach() for n, e in errors.items()}

    @torch.no_grad()
    def errors(self, x, t) -> dict:
        """Both directional errors (batch means), whatever the training mode."""
        _, errs = self.loss(x, t, "bidirectional")
        return {k: float(v) for k, v in errs.items()}

    def gradients(self, x, t, mode: str = "bidirectional", backward_weight: float = 1.0) -> dict:
        """dJ/dtheta by the explicit engine alone (no autograd), keyed by parameter name."""
        x, t = self._pair(x, t)
        _, grads, _ = engine.loss_and_gradients(self._params(), self.passes(x, t, mode, backward_weight))
        return grads

    def set_hidden_steepness(self, c: float) -> None:
        """Change c of the hidden (logistic) neurons, e.g. to anneal them towards thresholds; kept in the state_dict."""
        self.hidden_steepness.fill_(check_positive(c, "hidden steepness"))
        self._build_hidden()

    def thresholded(self) -> BidirectionalMLP:
        """A copy whose logistic neurons are threshold neurons (Fig 1b, zero thresholds on z)."""
        net = copy.deepcopy(self)
        net.hidden, net.hidden_backward = self.hidden.hard(), self.hidden_backward.hard()
        net.output, net.input = self.output.hard(), self.input.hard()
        return net
