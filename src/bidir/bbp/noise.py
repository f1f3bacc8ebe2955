"""Noisy-EM (NEM) noise for the output targets of (bidirectional) backpropagation, and its blind control.

Kosko (2021, sec IV) notes that backpropagation is generalised EM for the layer likelihood, and that
the bidirectionally trained network's accuracy "increased further by carefully injecting EM-based (not
blind) noise during its training" (its ref [3]; the NEM theorem: Osoba, Mitaim & Kosko; for neural
networks Audhkhasi, Osoba & Kosko 2016 and Kosko, Audhkhasi & Osoba 2020; for B-BP Adigun & Kosko
2019). Noise n added to a target t helps EM on average when it makes the noisy target at least as
probable under the current output a as the clean one, the NEM positivity condition

    ln p(t + n | a) >= ln p(t | a),

which for each layer likelihood is a simple region of noise space (a, t per sample, sums over units):

    categorical (softmax, cross-entropy)  ln p(t | a) = t . ln a          ->  n . ln a >= 0           (a hyperplane)
    gaussian (identity, squared error)    ln p(t | a) = -|t - a|^2 / 2    ->  |t + n - a|^2 <= |t - a|^2  (a sphere
                                                                              of radius |a - t| around a - t)
    bernoulli (logistic coins p)          ln p(t | p) = t . logit p + ... ->  n . logit p >= 0        (a hyperplane)

NEM draws n ~ N(0, scale^2) per unit and keeps each sample's noise only where its condition holds
(elsewhere the target stays clean); blind noise keeps every draw, the control at the same scale. Either
way the noisy target stays a target its likelihood can score: a probability row for the categorical
(t + n clipped at 0 and renormalised), coins in [0, 1] for the Bernoulli (clipped); n is then that noisy
target minus t. (Without this a label row with a negative entry makes the cross-entropy -sum c ln a
unbounded below, and training chases it instead of the labels.) The
scale is annealed, scale_k = scale / k^decay for epoch k = 1, 2, ... (Audhkhasi et al.), so the noise
helps early and fades. In B-BP both directions get their own noise: the forward pass's targets (the
labels) under the forward likelihood, the backward pass's targets (the inputs) under the backward one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..backprop.activations import BipolarLogistic
from ..validation import check_choice, check_number

__all__ = ["NOISE_KINDS", "NoiseSchedule", "annealed_scale", "nem_condition", "target_noise"]

NOISE_KINDS = ("nem", "blind")
_EPS = 1e-12


def annealed_scale(scale: float, epoch: int, decay: float = 1.0) -> float:
    """scale / epoch^decay for epoch = 1, 2, ... (decay 0: a constant scale)."""
    check_number(scale, "noise scale", low=0)
    check_number(decay, "noise decay", low=0)
    try:
        return scale / max(int(epoch), 1) ** decay
    except OverflowError:  # epoch^decay beyond a float: the noise has faded to nothing
        return 0.0


@dataclass
class NoiseSchedule:
    """A training's target noise: ``kind`` ("nem", "blind", or None for none) at the annealed scale
    scale / epoch^decay, drawn from its own ``generator``.

    ``before_epoch(epoch)`` sets the epoch's scale (the Trainer's hook of that name); ``noise`` is the losses'
    ``noise=`` argument (None without noise); the generator belongs in the Trainer's ``generators``, so a
    checkpoint holds its state and a resumed training draws on where it stopped.
    """

    kind: str | None
    scale: float
    decay: float
    generator: torch.Generator
    current: float = field(init=False)

    def __post_init__(self):
        if self.kind is not None:
            check_choice(self.kind, "noise kind", NOISE_KINDS)
        self.current = annealed_scale(self.scale, 1, self.decay)

    def before_epoch(self, epoch: int) -> None:
        """Set the scale of epoch ``epoch`` (1, 2, ...)."""
        self.current = annealed_scale(self.scale, epoch, self.decay)

    @property
    def noise(self) -> tuple | None:
        """(kind, this epoch's scale, generator) for a loss's ``noise=``, or None."""
        return None if self.kind is None else (self.kind, self.current, self.generator)


def nem_condition(likelihood: str, output: torch.Tensor, target: torch.Tensor, noise: torch.Tensor, act=None):
    """Per sample (B,): whether ``noise`` satisfies the NEM positivity condition ln p(t + n | a) >= ln p(t | a).

    ``output`` is the layer's activation a (softmax probabilities, identity outputs, or logistic signals of
    the activation ``act``; bipolar logistics in [-1, 1] are turned into coins (a + 1) / 2, and their targets
    and noise into coin units too).
    """
    check_choice(likelihood, "likelihood", ("categorical", "gaussian", "bernoulli"))
    if likelihood == "categorical":
        return (noise * output.clamp_min(_EPS).log()).sum(-1) >= 0
    if likelihood == "gaussian":
        return ((target + noise - output) ** 2).sum(-1) <= ((target - output) ** 2).sum(-1)
    coin = (output + 1) / 2 if isinstance(act, BipolarLogistic) else output
    coin_noise = noise / 2 if isinstance(act, BipolarLogistic) else noise
    logit = coin.clamp(_EPS, 1 - _EPS).logit()
    return (coin_noise * logit).sum(-1) >= 0


def target_noise(
    kind: str,
    likelihood: str,
    output: torch.Tensor,
    target: torch.Tensor,
    scale: float,
    generator: torch.Generator | None = None,
    act=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(noise to add to ``target``, (B,) mask of the samples that received it) for one batch.

    ``kind="nem"`` keeps a sample's draw only where :func:`nem_condition` holds; ``"blind"`` keeps every draw.
    Draws come from ``generator`` on the CPU, so a seed gives the same noise on every device.
    """
    check_choice(kind, "noise", NOISE_KINDS)
    check_number(scale, "noise scale", low=0)
    draw = torch.randn(target.shape, generator=generator, dtype=target.dtype).to(target.device) * scale
    draw = _in_support(likelihood, target, draw, act)
    if kind == "blind":
        return draw, torch.ones(target.shape[:-1], dtype=torch.bool, device=target.device)
    keep = nem_condition(likelihood, output.detach(), target, draw, act)
    return draw * keep.unsqueeze(-1).to(draw.dtype), keep


def _in_support(likelihood: str, target: torch.Tensor, noise: torch.Tensor, act) -> torch.Tensor:
    """The noise that keeps t + n a valid target: probability rows (categorical), coins in range (bernoulli)."""
    if likelihood == "categorical":
        noisy = (target + noise).clamp_min(0)
        total = noisy.sum(-1, keepdim=True)
        return torch.where(total > _EPS, noisy / total.clamp_min(_EPS), target) - target  # an all-zero row: no noise
    if likelihood == "bernoulli":
        low = -1.0 if isinstance(act, BipolarLogistic) else 0.0
        return (target + noise).clamp(low, 1.0) - target
    return noise
