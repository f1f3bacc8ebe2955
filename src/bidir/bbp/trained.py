"""A network and the learning rule that trains it, as one module, and what a comparison of rules measures of it.

:class:`RuleTrained` holds a :class:`~bidir.bbp.BidirectionalMLP` and a rule (:mod:`bidir.backprop.rules`; None is
backprop) with the directions it trains (``mode``: "forward", or "bidirectional" for B-BP's E_f + E_b, Kosko eq 69),
so one ``state_dict`` (the rule's matrices included) and one optimiser serve a training and its checkpoints. Its
measures:

- :meth:`RuleTrained.update_angles`: for each layer l, the angle between the update the rule gives W_l and
  backprop's gradient dE_f/dW_l on the same batch, arccos(<U, G> / (|U| |G|)) in degrees (0: backprop's direction;
  under 90: a descent direction of E_f);
- :meth:`RuleTrained.backward_images`: the images of the class vectors e_k down the backward path the training
  trains, if any: N^T(e_k) through W^T for B-BP, the rule's own path for BFA and BDFA;
- :meth:`RuleTrained.step_flops`: the floating-point operations of one training step (loss and updates), counted
  by ``torch.utils.flop_counter`` (matrix products; element-wise work is not counted).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .objective import directions

__all__ = ["RuleTrained"]


class RuleTrained(nn.Module):
    """``net`` trained by ``rule`` (None: backprop) on the directions of ``mode``."""

    def __init__(self, net: nn.Module, rule: nn.Module | None = None, mode: str = "forward", backward_weight=1.0):
        super().__init__()
        directions(mode)  # refuses an unknown mode in one line
        self.net, self.rule, self.mode, self.backward_weight = net, rule, mode, backward_weight

    def forward(self, x) -> torch.Tensor:
        """The network's forward pass (eqs 1-2): the class probabilities."""
        return self.net(x)

    def loss(self, x, t):
        """(J, errors): the network's joint error for ``mode`` with the rule's feedback, plus the rule's own
        ``feedback_error`` if its feedback learns."""
        return self.net.loss(x, t, self.mode, backward_weight=self.backward_weight, rule=self.rule)

    def _weight_updates(self, x, t, mode: str, rule) -> list[torch.Tensor]:
        """The update each weight (every parameter of two or more dimensions) gets from one step, leaving every
        ``.grad`` as it was."""
        saved = {n: p.grad for n, p in self.named_parameters()}
        self.zero_grad(set_to_none=True)
        with torch.enable_grad():  # also from an evaluation under no_grad
            J, _ = self.net.loss(x, t, mode, backward_weight=self.backward_weight, rule=rule)
            J.backward()
        updates = [p.grad.detach().clone() for p in self.net.parameters() if p.dim() >= 2]
        for n, p in self.named_parameters():
            p.grad = saved[n]
        return updates

    def update_angles(self, x, t) -> list[float]:
        """Degrees between each weight's update and backprop's gradient of E_f on the batch (x, t)."""
        exact = self._weight_updates(x, t, "forward", None)
        ours = self._weight_updates(x, t, self.mode, self.rule)
        angles = []
        for u, g in zip(ours, exact, strict=True):
            u, g = u.flatten(), g.flatten()
            cos = float(u @ g) / max(float(u.norm() * g.norm()), torch.finfo(u.dtype).tiny)
            angles.append(math.degrees(math.acos(min(1.0, max(-1.0, cos)))))
        return angles

    @torch.no_grad()
    def backward_images(self) -> torch.Tensor | None:
        """The images (K, input shape) of the class vectors e_1..e_K down the trained backward path; None if none
        trains."""
        top = [p for p in self.net.parameters() if p.dim() >= 2][-1]  # the output layer's weight, (K, inputs)
        eye = torch.eye(top.shape[0], dtype=top.dtype, device=top.device)
        if directions(self.mode)[1]:
            return self.net.backward_pass(eye)
        return None if self.rule is None else self.rule.generate(eye, self.net)

    def step_flops(self, x, t) -> int:
        """The FLOPs of one training step on the batch (x, t): the loss and every update (gradients are zeroed)."""
        counter = FlopCounterMode(display=False)
        with counter:
            J, _ = self.loss(x, t)
            J.backward()
        self.zero_grad(set_to_none=True)
        return int(counter.get_total_flops())
