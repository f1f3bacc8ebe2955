"""The style-memory network (Wiyatno & Orchard 2018, sec III): classify forward, reconstruct backward.

Encoder (Fig 1): x -> Conv(32, 5x5, stride 2) -> Conv(64, 5x5, stride 2) -> FC 256 -> FC 128
(all ReLU) -> top layer (y, m): K softmax class neurons y and S = 16 logistic style-memory
neurons m. Decoder (the "unrolled" network of Fig 2): (y, m) -> FC 128 -> FC 256 -> the
conv feature map -> ConvT(32) -> ConvT(1), ReLU inside, logistic pixels at the end.

Training minimises eq (3) on inputs with small additive Gaussian noise (as in stacked
denoising autoencoders, ref [14]); the reconstruction target is the clean image:

    L = L_y(y_t, y) + alpha * L_r(x_hat, x),  L_y = -sum y_t log y   (eq 1),
                                              L_r = ||x_hat - x||^2  (eq 2),  alpha = 0.05.

L_r is the squared Euclidean distance over all pixels of an image (a sum, as eq 2 writes
it, not a per-pixel mean: with a mean, alpha = 0.05 would make reconstruction negligible);
both terms are averaged over the batch.

Choices the paper leaves open (each a constructor argument): "same" padding (28 -> 14 -> 7,
so the decoder mirrors the encoder exactly), a logistic output layer (pixels lie in [0, 1]),
decoder biases of its own. ``tied=True`` makes the decoder run the encoder's weights
transposed (the B-BP way: FC layers use W^T, conv layers the adjoint convolution), with
only the biases its own; ``tied=False`` (the paper) learns separate decoder weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInputError
from ..layers import conv_adjoint, linear_adjoint
from ..module import BidirModule
from ..validation import (
    as_batch,
    as_images,
    as_labels,
    check_finite_loss,
    check_image_shape,
    check_layers_memory,
    check_number,
    check_positive_int,
    check_sizes,
)

__all__ = ["StyleMemoryNet", "Schedule", "SCHEDULES"]


@dataclass(frozen=True)
class Schedule:
    """An optimiser preset: Adam at ``lr`` for ``epochs`` epochs, cosine-annealed when ``cosine``."""

    lr: float
    epochs: int
    batch_size: int
    cosine: bool


SCHEDULES = {
    # Sec IV: Adam, lr 1e-5, 250 epochs. The batch size is not stated: 32, the Keras default.
    "paper": Schedule(lr=1e-5, epochs=250, batch_size=32, cosine=False),
    # Ours: a 100x larger step annealed to zero over 12 epochs (see benchmarks/style_epochs.py).
    "fast": Schedule(lr=2e-3, epochs=12, batch_size=128, cosine=True),
}


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class StyleMemoryNet(BidirModule):
    """Classifier with a style memory in its top layer, and the decoder that inverts it.

    Args:
        num_classes: K softmax neurons (10 MNIST, 26 EMNIST letters).
        style_dim: S logistic style-memory neurons (16 in the paper).
        image_shape: (C, H, W) of the input.
        channels, kernel, stride: the two conv layers (32, 64 filters, 5x5, stride 2).
        hidden: the fully connected ReLU layers (256, 128).
        tied: decoder = the encoder's weights transposed (own biases) instead of its own.
        seed: initialise from this seed (torch's global generator is left as it was); None draws
            from the global generator.
        dtype, device: of every parameter.

    ``forward(x)`` gives the class logits; ``backward_pass(code)`` the image from the top layer's
    state ``code = [y, m]`` (B, K + S): the two directions of the same network.
    """

    def __init__(
        self,
        num_classes: int = 10,
        style_dim: int = 16,
        image_shape=(1, 28, 28),
        channels=(32, 64),
        kernel: int = 5,
        stride: int = 2,
        hidden=(256, 128),
        tied: bool = False,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
        device=None,
    ):
        super().__init__()
        check_positive_int(num_classes, "num_classes")
        if num_classes < 2:
            raise InvalidInputError(f"num_classes must be at least 2, got {num_classes}")
        check_positive_int(style_dim, "style_dim")
        check_positive_int(kernel, "kernel")
        check_positive_int(stride, "stride")
        image_shape = check_image_shape(image_shape)
        channels, hidden = check_sizes(channels, "channels"), check_sizes(hidden, "hidden")
        self.num_classes, self.style_dim, self.tied = num_classes, style_dim, bool(tied)
        self.image_shape = tuple(image_shape)
        self.kernel, self.stride, self.padding = kernel, stride, (kernel - 1) // 2
        sizes = [image_shape[1:]]  # spatial size before each conv, then after the last
        for _ in channels:
            sizes.append(tuple(_conv_out(s, kernel, stride, self.padding) for s in sizes[-1]))
        if min(sizes[-1]) < 1:
            raise InvalidInputError(
                f"image {image_shape[1:]} is too small for {len(channels)} convs of stride {stride}"
            )
        self.spatial = sizes
        self.feature_shape = (channels[-1], *sizes[-1])
        flat = channels[-1] * sizes[-1][0] * sizes[-1][1]
        check_layers_memory((image_shape[0], *channels), kernel, (flat, *hidden, num_classes + style_dim), copies=2)
        if seed is None:
            self._build(image_shape[0], channels, hidden, flat)
        else:
            with torch.random.fork_rng(devices=[]):  # seeded without touching the global generator's state
                torch.manual_seed(seed)
                self._build(image_shape[0], channels, hidden, flat)
        self.to(dtype=dtype, device=device)

    def _build(self, in_channels: int, channels, hidden, flat: int) -> None:
        """The layers, initialised from torch's (global) generator."""
        kernel, stride, num_classes, style_dim = self.kernel, self.stride, self.num_classes, self.style_dim
        ins = (in_channels, *channels)
        self.convs = nn.ModuleList(
            nn.Conv2d(i, o, kernel, stride, self.padding) for i, o in zip(ins[:-1], ins[1:], strict=True)
        )
        widths = (flat, *hidden, num_classes + style_dim)
        self.fcs = nn.ModuleList(nn.Linear(i, o) for i, o in zip(widths[:-1], widths[1:], strict=True))
        if self.tied:  # only biases of its own: one per decoder layer, sized like the layer it feeds
            self.fc_biases = nn.ParameterList(nn.Parameter(torch.zeros(i)) for i in widths[:-1])
            self.conv_biases = nn.ParameterList(nn.Parameter(torch.zeros(i)) for i in ins[:-1])
        else:
            self.dfcs = nn.ModuleList(nn.Linear(o, i) for i, o in zip(widths[:-1], widths[1:], strict=True))
            self.dconvs = nn.ModuleList(
                nn.ConvTranspose2d(o, i, kernel, stride, self.padding) for i, o in zip(ins[:-1], ins[1:], strict=True)
            )

    # -- validation at the boundary ----------------------------------------------------
    def _images(self, x) -> torch.Tensor:
        return as_images(x, "images", self.image_shape, dtype=self.dtype, device=self.device)

    def _labels(self, labels, n: int) -> torch.Tensor:
        return as_labels(labels, "labels", self.num_classes, n, device=self.device)

    def one_hot(self, labels, n: int) -> torch.Tensor:
        """Class vectors y for ``n`` samples from integer labels (one label is used for all n)."""
        labels = torch.as_tensor(labels).reshape(-1)
        if labels.numel() == 1:
            labels = labels.expand(n)
        return F.one_hot(self._labels(labels, n), self.num_classes).to(self.dtype)

    # -- forward: recognise --------------------------------------------------------------
    def encode(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> (class logits (B, K), style memory m (B, S) in (0, 1))."""
        h = self._images(x)
        for conv in self.convs:
            h = F.relu(conv(h))
        h = h.flatten(1)
        for fc in self.fcs[:-1]:
            h = F.relu(fc(h))
        top = self.fcs[-1](h)
        return top[:, : self.num_classes], torch.sigmoid(top[:, self.num_classes :])

    def forward(self, x) -> torch.Tensor:
        """The classifier: class logits (softmax gives y)."""
        return self.encode(x)[0]

    # -- backward: reconstruct -----------------------------------------------------------
    def decode(self, y, m) -> torch.Tensor:
        """(y, m) -> x_hat (B, C, H, W) in (0, 1): the unrolled half of Fig 2.

        y: class probabilities or a one-hot vector (B, K); m: style memory (B, S).
        """
        y = as_batch(y, "y", self.num_classes, dtype=self.dtype, device=self.device)
        m = as_batch(m, "m", self.style_dim, dtype=self.dtype, device=self.device)
        if m.shape[0] != y.shape[0]:
            raise InvalidInputError(
                f"m must have shape ({y.shape[0]}, {self.style_dim}) to match y, got {tuple(m.shape)}"
            )
        h = torch.cat([y, m], 1)
        n = len(self.fcs)
        for i in reversed(range(n)):
            h = linear_adjoint(h, self.fcs[i].weight, self.fc_biases[i]) if self.tied else self.dfcs[i](h)
            h = F.relu(h)
        h = h.reshape(-1, *self.feature_shape)
        for i in reversed(range(len(self.convs))):
            target = self.spatial[i]
            if self.tied:  # the adjoint of the encoder's convolution, its own bias
                h = conv_adjoint(h, self.convs[i].weight, self.conv_biases[i], self.stride, self.padding, target)
            else:
                h = self.dconvs[i](h, output_size=target)
            h = torch.sigmoid(h) if i == 0 else F.relu(h)
        return h

    def backward_pass(self, code) -> torch.Tensor:
        """The image from the top layer's state ``code = [y, m]`` (B, K + S): :meth:`decode` of its two parts."""
        code = as_batch(code, "code", self.num_classes + self.style_dim, dtype=self.dtype, device=self.device)
        return self.decode(code[:, : self.num_classes], code[:, self.num_classes :])

    def reconstruct(self, x, labels=None) -> torch.Tensor:
        """x_hat from (predicted y, m), or from (one-hot ``labels``, m) when labels are given."""
        logits, m = self.encode(x)
        y = logits.softmax(1) if labels is None else self.one_hot(labels, logits.shape[0])
        return self.decode(y, m)

    # -- training objective ------------------------------------------------------------
    def loss(self, x, labels, alpha: float = 0.05, noise_std: float = 0.0) -> tuple[torch.Tensor, dict]:
        """Eq (3) on one batch: mean CE + alpha * mean ||x_hat - x||^2, the encoder fed x + noise."""
        alpha = check_number(alpha, "alpha", low=0)
        noise_std = check_number(noise_std, "noise_std", low=0)
        x = self._images(x)
        labels = self._labels(labels, x.shape[0])
        noisy = x + noise_std * torch.randn_like(x) if noise_std > 0 else x
        logits, m = self.encode(noisy)
        x_hat = self.decode(logits.softmax(1), m)
        ce = F.cross_entropy(logits, labels)
        recon = (x_hat - x).pow(2).flatten(1).sum(1).mean()
        accuracy = (logits.argmax(1) == labels).float().mean()
        loss = check_finite_loss(ce + alpha * recon, x)
        return loss, {"ce": ce.detach(), "recon": recon.detach(), "accuracy": accuracy}
