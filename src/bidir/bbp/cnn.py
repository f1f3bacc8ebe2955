"""A bidirectional convolutional classifier: conv layers then dense layers forward to the classes, the adjoint path
back to the image (Kosko 2021, sec I: bidirectional training "also tends to improve classification accuracy in deep
convolutional classifiers").

Forward, N(x): image -> strided convolutions (hidden activation) -> flatten -> dense layers (hidden activation) ->
softmax over the classes. Backward, N^T(y): the same synapses in reverse, dense W^T, unflatten, the adjoint
convolutions (:mod:`bidir.layers`), each with a bias of its own, ending in identity pixels. The likelihoods and
training modes are B-BP's (eqs 57, 68-69): E_f = -ln p_f(t | x) categorical (cross-entropy) forward, E_b =
-ln p_b(x | t) Gaussian (squared error) backward, E = E_f + w E_b bidirectionally. Gradients come from autograd.

Optional noise on the targets of each direction, ``noise=("nem" | "blind", scale, generator)``, adds NEM (or
blind) noise as :mod:`bidir.bbp.noise` describes: to the labels under the forward likelihood and to the images
under the backward one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..backprop import likelihoods as lk
from ..backprop.activations import Identity, Softmax
from ..errors import InvalidInputError
from ..layers import BidirectionalConv2d, BidirectionalLinear
from ..module import BidirModule
from ..validation import (
    as_batch,
    as_images,
    check_choice,
    check_finite_loss,
    check_image_shape,
    check_layers_memory,
    check_positive_int,
    check_sizes,
)
from .noise import target_noise
from .objective import joint_error

__all__ = ["BidirectionalCNN", "HIDDEN"]

HIDDEN = {"relu": F.relu, "tanh": torch.tanh}


class BidirectionalCNN(BidirModule):
    """Bidirectional CNN with shared synapses.

    Args:
        num_classes: K softmax outputs.
        image_shape: (C, H, W) of the input.
        channels, kernel, stride: the strided convolutions (no pooling: the backward rule is the adjoint).
        hidden: the dense hidden layers between the flattened features and the classes.
        activation: the hidden neurons' activation, both directions ('relu' or 'tanh').
        seed: draws the initial weights from its own generator (None: torch's global one).
        dtype, device: of every parameter.
    """

    def __init__(
        self,
        num_classes: int = 10,
        image_shape: Sequence[int] = (1, 28, 28),
        channels: Sequence[int] = (32, 64),
        kernel: int = 5,
        stride: int = 2,
        hidden: Sequence[int] = (256,),
        activation: str = "relu",
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
        device=None,
    ):
        super().__init__()
        check_positive_int(num_classes, "num_classes")
        if num_classes < 2:
            raise InvalidInputError("num_classes must be at least 2 (a softmax over one class learns nothing), got 1")
        check_positive_int(kernel, "kernel")
        check_positive_int(stride, "stride")
        image_shape = check_image_shape(image_shape)
        channels, hidden = check_sizes(channels, "channels", at_least=0), check_sizes(hidden, "hidden", at_least=0)
        self.activation = check_choice(activation, "activation", HIDDEN)
        self.num_classes, self.image_shape = num_classes, tuple(image_shape)
        g = None if seed is None else torch.Generator().manual_seed(seed)
        ins = (image_shape[0], *channels)
        check_layers_memory(ins, kernel, ())
        self.convs = nn.ModuleList(
            BidirectionalConv2d(i, o, kernel, stride, generator=g) for i, o in zip(ins[:-1], ins[1:], strict=True)
        )
        self.sizes = [tuple(image_shape[1:])]  # the spatial size into each convolution, then out of the last
        for conv in self.convs:
            self.sizes.append(conv.output_size(self.sizes[-1]))
        if min(self.sizes[-1]) < 1:
            raise InvalidInputError(f"image {tuple(image_shape[1:])} is too small for {len(channels)} convolutions")
        self.feature_shape = (ins[-1], *self.sizes[-1])
        widths = (ins[-1] * self.sizes[-1][0] * self.sizes[-1][1], *hidden, num_classes)
        check_layers_memory((), kernel, widths)
        self.dense = nn.ModuleList(
            BidirectionalLinear(i, o, generator=g) for i, o in zip(widths[:-1], widths[1:], strict=True)
        )
        self.to(dtype=dtype, device=device)

    @property
    def hidden_numels(self) -> list[int]:
        """The number of signals out of each hidden layer, the convolutions' then the dense ones'."""
        convs = [conv.weight.shape[0] * h * w for conv, (h, w) in zip(self.convs, self.sizes[1:], strict=True)]
        return convs + [layer.weight.shape[0] for layer in self.dense[:-1]]

    # -- the two paths through the same synapses ---------------------------------------
    def logits(self, x, rule=None) -> torch.Tensor:
        """The forward sweep's class inputs z (B, K), before the softmax; with a learning ``rule``
        (:mod:`bidir.backprop.rules`), each layer's backward signal is the rule's."""
        act = HIDDEN[self.activation]
        h = as_images(x, "x", self.image_shape, dtype=self.dtype, device=self.device)
        if rule is None:
            for conv in self.convs:
                h = act(conv(h))
            h = h.flatten(1)
            for layer in self.dense[:-1]:
                h = act(layer(h))
            return self.dense[-1](h)
        index = 0
        for i, conv in enumerate(self.convs):
            h = act(rule.layer(f"convs.{i}.weight", h, conv.weight, conv.forward_bias, conv.stride, conv.padding))
            h, index = rule.hidden(index, h), index + 1
        h = h.flatten(1)
        for i, layer in enumerate(self.dense):
            h = rule.layer(f"dense.{i}.weight", h, layer.weight, layer.forward_bias)
            if i < len(self.dense) - 1:
                h, index = rule.hidden(index, act(h)), index + 1
        return rule.output(h)

    def forward(self, x) -> torch.Tensor:
        """N(x): class probabilities (B, K)."""
        return self.logits(x).softmax(-1)

    def backward_pass(self, y) -> torch.Tensor:
        """N^T(y): images (B, C, H, W) from class vectors y (B, K), through the transposed synapses."""
        act = HIDDEN[self.activation]
        h = as_batch(y, "y", self.num_classes, dtype=self.dtype, device=self.device)
        for layer in reversed(self.dense):
            h = act(layer.backward_pass(h))  # into the hidden layers and the (post-activation) features
        h = h.reshape(-1, *self.feature_shape)
        for i in reversed(range(len(self.convs))):
            h = self.convs[i].backward_pass(h, self.sizes[i])
            h = act(h) if i > 0 else h  # identity pixels at the input field
        return h

    def _backward_batch(self, t: torch.Tensor) -> torch.Tensor:
        """N^T(t) for a training batch, computed once per distinct row of t and gathered: a batch of one-hot labels
        has at most K distinct rows, so the backward sweep costs K samples instead of B, with the same values and
        (autograd sums the gathered rows' gradients) the same gradients. ``index_select``, not ``[index]``: its
        gradient (index_add) sums in a fixed order, where advanced indexing's accumulates in a thread-dependent one
        on the CPU, so the same seed would not give the same weights."""
        rows, index = torch.unique(t, dim=0, return_inverse=True)
        return self.backward_pass(rows).index_select(0, index) if len(rows) < len(t) else self.backward_pass(t)

    # -- the training objective ---------------------------------------------------------
    def loss(
        self, x, t, mode: str = "bidirectional", backward_weight: float = 1.0, noise: tuple | None = None, rule=None
    ):
        """(J, {error name: batch-mean error}) for the training ``mode`` (eqs 57, 68-69); J.backward() gives the
        gradients. ``t`` holds one-hot (or probability) class rows; ``noise=(kind, scale, generator)`` adds NEM or
        blind noise to the targets of each trained direction; a learning ``rule`` (FA, sign symmetry, DFA) gives
        the forward sweep's updates in place of the gradients."""
        x = as_images(x, "x", self.image_shape, dtype=self.dtype, device=self.device)
        t = as_batch(t, "t", self.num_classes, dtype=self.dtype, device=self.device)
        if x.shape[0] != t.shape[0]:
            raise InvalidInputError(f"x and t must hold the same number of samples, got {x.shape[0]} and {t.shape[0]}")
        lk.check_targets("categorical", Softmax(), t, "t", "output")

        def forward_error():  # categorical likelihood of the labels (softmax outputs)
            z = self.logits(x, rule)
            target = t if noise is None else t + target_noise(noise[0], "categorical", z.softmax(-1), t, *noise[1:])[0]
            return lk.error("categorical", Softmax(), z, z.softmax(-1), target).mean()

        def backward_error():  # Gaussian likelihood of the image (identity pixels at the input field)
            x_hat = self._backward_batch(t).flatten(1)
            flat = x.flatten(1)
            target = flat if noise is None else flat + target_noise(noise[0], "gaussian", x_hat, flat, *noise[1:])[0]
            return lk.error("gaussian", Identity(), x_hat, x_hat, target).mean()

        J, errors = joint_error(mode, backward_weight, forward_error, backward_error)
        check_finite_loss(J, x, t)
        return J, {k: v.detach() for k, v in errors.items()}
