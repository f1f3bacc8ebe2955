"""The bidirectional objective (Kosko 2021, eqs 57, 68-69), written once for every B-BP network.

A training ``mode`` chooses the directions it trains: ``forward`` follows E_f = -ln p_f(y | x)
(ordinary backpropagation), ``backward`` follows E_b = -ln p_b(x | y) (the inverse map through the
transposed synapses), ``bidirectional`` their sum, with E_b weighted by ``backward_weight`` (1 in
the paper):

    J = E_f + w E_b
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..validation import check_choice, check_number

__all__ = ["MODES", "directions", "joint_error"]

MODES = ("forward", "backward", "bidirectional")


def directions(mode: str) -> tuple[bool, bool]:
    """(trains forward, trains backward) for a training ``mode``."""
    check_choice(mode, "mode", MODES)
    return mode in ("forward", "bidirectional"), mode in ("backward", "bidirectional")


def joint_error(
    mode: str, backward_weight: float, forward: Callable[[], torch.Tensor], backward: Callable[[], torch.Tensor]
) -> tuple[torch.Tensor, dict]:
    """(J, {"forward_error": E_f, "backward_error": E_b}) over the directions ``mode`` trains: each error from its
    function (a batch mean, or one per ensemble copy, summed into J), J = E_f + w E_b."""
    w = check_number(backward_weight, "backward_weight", low=0)
    trains_forward, trains_backward = directions(mode)
    errors = {}
    if trains_forward:
        errors["forward_error"] = forward()
    if trains_backward:
        errors["backward_error"] = backward()
    J = 0
    if trains_forward:
        J = J + errors["forward_error"].sum()
    if trains_backward:
        J = J + w * errors["backward_error"].sum()
    return J, errors
