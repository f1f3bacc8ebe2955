"""BSP learning rules (Jiang & Fu 2025, section 4.2) and the backprop-through-the-solver baseline.

One training step: run the forward system on a batch, inject the output error
e = -dLoss/dscore into the reverse system (eq 21), and combine the two running integrals:

    eq (17)/(22):  G1 = (int_0^T D dt) (int_0^T D^ dt)        (batch mean)
    eq (18):       G2 = atan(kt G1) / kt                       (a soft clip, slope 1 at 0)
    eq (23), method 2 ("connections"):  C <- C + lr G2,   G1 = I_{x,OUT} g_y I^_{y,IN} per connection x -> y
    eq (19), method 1 ("fixed-points"): K3 <- K3 exp(-lr G2), G1 = I_{n,IN} I^_{n,IN} per neuron

Choices (notes 2.6, 5.3-5.5), each an option:
- the paper's update has no learning rate (lr = 1); the reconstruction's defaults are lr 3
  for method 2 and 1000 for method 1 (G1 is about 1e-3 there), batch 100, kt 1;
- G1 is averaged over the batch and then clipped (``clip="batch"``; ``"none"`` skips eq 18);
- the error is e = target - score with one-hot targets times ``target`` (squared error,
  ``error="mse"``); ``error="softmax"`` injects target (onehot - softmax(score / temperature)),
  the gradient of a cross-entropy, beyond the paper;
- ``score_penalty`` lambda adds lambda/2 |score|^2 to either loss (beyond the paper): the
  cross-entropy ignores a common shift of the scores, which in the nonlinear regime can grow
  until the output neurons blow up;
- method 1's sign: exp(-G2) descends the loss (the paper prints exp(G2); its sign was lost).
  With the fixed-point coupling gain, cos(-G1, dL/dlogK3) is ~1 (tests check it by finite
  differences); method 1 updates the hidden layers only by default (``layers``);
- ``reverse_gain="trajectory"`` (beyond the paper): each reverse neuron's input is scaled by its
  forward neuron's slope along the forward trajectory relative to its slope at rest
  (:meth:`BSPNetwork.run`), the f'(a) that a reverse pass linearised at rest leaves out;
- the distributed PID variant (the Symmetry paper, whose details are not in our text) treats
  G2 as the error of a per-neuron PID controller: dlogK3 = -(kp G2 + ki sum G2 + kd dG2).

G1 equals the exact gradient of the integrated output only for small signals (the reverse
system is linearised at the fixed point, not along the forward trajectory; ``reverse_gain``
corrects each neuron's slope, not the timing), so
:func:`gradient_agreement` measures the cosine with autograd through the same solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInputError
from ..validation import as_labels, check_choice, check_number, check_positive
from .network import BSPNetwork

__all__ = [
    "BSPRule",
    "BSPLearner",
    "clip",
    "output_error",
    "bsp_g1",
    "true_gradients",
    "gradient_agreement",
    "METHODS",
    "ERRORS",
    "REVERSE_GAINS",
    "backprop_loss",
]

METHODS = ("connections", "fixed-points")  # method 2, method 1
ERRORS = ("mse", "softmax")
REVERSE_GAINS = ("rest", "trajectory")


@dataclass
class BSPRule:
    """A BSP learning rule: method 1 (fixed points, eq 19) or method 2 (connections, eq 23), with its options."""

    method: str = "connections"
    lr: float | None = None  # None: 3 for connections, 1000 for fixed-points
    kt: float = 1.0
    clip: str = "batch"
    error: str = "mse"
    target: float | None = None  # None: the network's amplitude (0.1 B0)
    temperature: float = 0.05
    layers: tuple[int, ...] | None = None  # None: every layer (connections), hidden layers (fixed-points)
    pid: tuple[float, float, float] = (1.0, 0.0, 0.0)
    k3_range: float = 3.0  # |log K3 - log K3_initial| is kept below this
    score_penalty: float = 0.0  # lambda: adds lambda/2 |score|^2 to the loss, so -lambda score to the injected error
    reverse_gain: str = "rest"  # "trajectory": reverse neurons take their forward neuron's slope (BSPNetwork.run)

    def __post_init__(self):
        """Check every field; fill in the method's default learning rate."""
        check_choice(self.method, "method", METHODS)
        check_choice(self.error, "error", ERRORS)
        check_choice(self.reverse_gain, "reverse_gain", REVERSE_GAINS)
        check_choice(self.clip, "clip", ("batch", "none"))
        if self.lr is None:
            self.lr = 3.0 if self.method == "connections" else 1000.0
        for name in ("lr", "kt", "temperature", "k3_range"):
            check_positive(getattr(self, name), name)
        check_number(self.score_penalty, "score_penalty", low=0)

    def layers_of(self, net: BSPNetwork) -> tuple[int, ...]:
        """The layers this rule trains on ``net``: every layer for method 2, the hidden layers for method 1."""
        layers = self.layers
        if layers is None:
            layers = tuple(range(net.layers)) if self.method == "connections" else tuple(range(net.layers - 1)) or (0,)
        if any(not 0 <= i < net.layers for i in layers):
            raise InvalidInputError(f"layers must be in 0..{net.layers - 1}, got {layers}")
        return tuple(layers)

    def neuron_mask(self, net: BSPNetwork) -> torch.Tensor:
        """1 on the neurons of the layers this rule trains, 0 elsewhere (method 1's per-neuron parameters)."""
        mask = torch.zeros_like(net.log_k3_shift.detach())
        for layer in self.layers_of(net):
            mask[net.layer_slice(layer)] = 1
        return mask


def clip(g1: torch.Tensor, kt: float) -> torch.Tensor:
    """Eq (18): G2 = atan(kt G1) / kt."""
    return torch.atan(kt * g1) / kt


def output_error(scores: torch.Tensor, labels: torch.Tensor, rule: BSPRule, target: float):
    """(e = -dLoss/dscores (B, K), per-sample loss (B,)) for the rule's error."""
    labels = as_labels(labels, "labels", scores.shape[1], scores.shape[0], device=scores.device)
    onehot = F.one_hot(labels, scores.shape[1]).to(scores.dtype)
    if rule.error == "mse":
        e = target * onehot - scores
        loss = 0.5 * e.pow(2).sum(1)
    else:
        logits = scores / rule.temperature
        e = target * (onehot - logits.softmax(1))
        loss = target * rule.temperature * F.cross_entropy(logits, labels, reduction="none")
    if rule.score_penalty:  # the softmax ignores a common shift of the scores; this pins them
        e = e - rule.score_penalty * scores
        loss = loss + 0.5 * rule.score_penalty * scores.pow(2).sum(1)
    return e, loss


def backprop_loss(net: BSPNetwork, x, labels, rule: BSPRule) -> torch.Tensor:
    """The batch-mean loss whose negative gradient BSP's error injection is, through the solver (autograd)."""
    return output_error(net(x), labels, rule, rule.target or net.amplitude)[1].mean()


@torch.no_grad()
def bsp_g1(net: BSPNetwork, x, labels, rule: BSPRule):
    """(loss, accuracy, G1): G1 is a list per layer (connections) or per neuron (fixed-points), batch means."""
    x = net.check_input(x)
    fwd = net.run(x, trajectory_gain=rule.reverse_gain == "trajectory")
    scores = fwd.at_out[:, net.layer_slice(net.layers - 1)]
    e, loss = output_error(scores, labels, rule, rule.target or net.amplitude)
    rev = net.backward_pass(e, fwd.gain)
    gain = net.gain()
    if rule.method == "fixed-points":
        g1 = (fwd.at_in * rev.at_in).mean(0)  # eq (17) at each neuron's input element
    else:
        g1 = []
        for layer in range(net.layers):
            pre = net.amplitude * net.pulse * x if layer == 0 else fwd.at_out[:, net.layer_slice(layer - 1)]
            post = rev.at_in[:, net.layer_slice(layer)] * gain[net.layer_slice(layer)]
            g1.append(net.couplings[layer].g1(pre, post))  # eq (22) for every coupled x -> y
    return loss.mean(), (scores.argmax(1) == labels).float().mean(), g1


class BSPLearner(nn.Module):
    """A network and its BSP rule; ``loss(x, labels)`` plugs into :class:`bidir.train.Trainer`.

    The returned loss has the batch loss as its value and minus the BSP update as its
    gradient, so ``torch.optim.SGD(learner.trainable(), lr=1)`` applies eq (19) or (23); the
    PID state lives in buffers, so checkpoints carry it.
    """

    def __init__(self, net: BSPNetwork, rule: BSPRule):
        super().__init__()
        self.net, self.rule = net, rule
        self.register_buffer("pid_sum", torch.zeros_like(net.log_k3_shift))
        self.register_buffer("pid_last", torch.zeros_like(net.log_k3_shift))

    def trainable(self) -> list[nn.Parameter]:
        """The parameters the rule updates: the trained layers' coefficients C, or every log K3 shift."""
        if self.rule.method == "fixed-points":
            return [self.net.log_k3_shift]
        return [self.net.weights[i] for i in self.rule.layers_of(self.net)]

    def updates(self, x, labels):
        """(loss, accuracy, {parameter: update}) for one batch."""
        rule, net = self.rule, self.net
        loss, acc, g1 = bsp_g1(net, x, labels, rule)
        g2 = (lambda g: clip(g, rule.kt)) if rule.clip == "batch" else (lambda g: g)
        if rule.method == "connections":
            return loss, acc, {net.weights[i]: rule.lr * g2(g1[i]) for i in rule.layers_of(net)}
        e = g2(g1) * rule.neuron_mask(net)
        kp, ki, kd = rule.pid
        with torch.no_grad():
            self.pid_sum += e
            step = kp * e + ki * self.pid_sum + kd * (e - self.pid_last)
            self.pid_last.copy_(e)
        return loss, acc, {net.log_k3_shift: -rule.lr * step}

    def loss(self, x, labels):
        """(batch loss whose gradient is minus the BSP update, {'accuracy': batch accuracy}) for the Trainer."""
        with torch.no_grad():  # keep K3 within its range (after the previous step)
            self.net.log_k3_shift.clamp_(-self.rule.k3_range, self.rule.k3_range)
        loss, acc, updates = self.updates(x, labels)
        surrogate = sum((-u * p).sum() for p, u in updates.items())
        return loss + surrogate - surrogate.detach(), {"accuracy": acc}


def true_gradients(net: BSPNetwork, x, labels, rule: BSPRule) -> dict[str, torch.Tensor]:
    """-dLoss/dparameter by autograd through the solver: per layer weights, and log K3 shifts."""
    params = list(net.weights) + [net.log_k3_shift]
    grads = torch.autograd.grad(backprop_loss(net, x, labels, rule), params, allow_unused=True)
    out = {f"layer{i}": -g for i, g in enumerate(grads[:-1])}
    out["log_k3_shift"] = -grads[-1]
    return out


def gradient_agreement(net: BSPNetwork, x, labels, rule: BSPRule) -> dict[str, float]:
    """Cosine between BSP's G1 and the true descent direction, per layer; with the norm ratio."""
    _, _, g1 = bsp_g1(net, x, labels, rule)
    true = true_gradients(net, x, labels, rule)
    out = {}
    if rule.method == "connections":
        pairs = [(f"layer{i}", g1[i], true[f"layer{i}"]) for i in range(net.layers)]
    else:  # method 1 descends with -G1, so compare -G1 with -dL/dlogK3
        pairs = [
            (f"layer{i}", -g1[net.layer_slice(i)], true["log_k3_shift"][net.layer_slice(i)]) for i in range(net.layers)
        ]
    for name, a, b in pairs:
        a, b = a.flatten().double(), b.flatten().double()
        out[f"cos_{name}"] = float(F.cosine_similarity(a, b, dim=0))
        out[f"norm_ratio_{name}"] = float(a.norm() / b.norm().clamp_min(1e-30))
    return out
