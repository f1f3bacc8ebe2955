"""Backpropagation in matrix form, without autograd (note eqs 1-9 and its appendix).

A network is a *path*: a list of :class:`Step` s, each one dense layer
``z = x W^T + b`` (eq 1, batch-first: the note's columns are our rows) and ``y = f(z)``
(eq 2). A step names its weight and bias by parameter name and may use the weight
transposed (``z = x W + b``), which is how a backward pass reuses the same synapses.

Backward through one step (appendix, with g = dJ/dy known):

    dJ/dz = g .* f'(z)          (eq 7; softmax: the eq 47 Jacobian product)
    dJ/dx = dJ/dz W             (eq 6-7; dJ/dz W^T for a transposed step)
    dJ/dW = dJ/dz^T x           (eq 9; x^T dJ/dz for a transposed step)
    dJ/db = dJ/dz^T 1           (eq 8)

(``.mT`` and sums over dim -2 let every weight carry a leading ensemble dimension.)

A weight used in several steps (tied weights, or one matrix in both directions)
accumulates dJ/dW over every use, as the note's last remark says. Errors of several
passes add, and so do their gradients (linearity of backprop).

Where the note's appendix is wrong, this code follows the calculus:

- Bias: the appendix has dJ/db = W^T dJ/dz 1/ndata, which is not even R^ny (it is
  R^nx: the input gradient summed over the batch). By eq 8, dJ/db = dJ/dz 1 / ndata.
- Shapes: the appendix writes y = f(z) in R^{ny x nx} and dJ/dx in R^{ny x ndata}; they
  are R^{ny x ndata} and R^{nx x ndata}.
- Scale: the appendix divides dJ/dW by ndata at every layer while not dividing dJ/dx.
  That equals one loss J = (1/ndata) sum of per-sample errors, which is how it is done
  here: the 1/ndata enters once, in dJ/dy of the output layer.
- Smaller slips in the text: eq 3 runs over "i = 1..m" (it is j), eq 8 writes
  dJ_j/dz_j (it is dJ/dz_j) and eq 9 drops a d in dz_j/dw_ji.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from . import likelihoods
from .activations import Activation

__all__ = ["Step", "Layer", "Pass", "forward", "backward", "loss_and_gradients", "explicit_loss"]


@dataclass(frozen=True)
class Step:
    """One dense layer on a path: parameter names, activation, and whether W is used as W^T."""

    weight: str
    bias: str | None
    activation: Activation
    transpose: bool = False


@dataclass
class Layer:
    """What the forward sweep keeps for the backward one: input x, net input z, signal y."""

    x: torch.Tensor
    z: torch.Tensor
    y: torch.Tensor


@dataclass
class Pass:
    """One directional sweep with its target and terminal-layer likelihood (one error term)."""

    path: Sequence[Step]
    x: torch.Tensor
    target: torch.Tensor
    likelihood: str
    weight: float = 1.0  # the term's weight in the joint error (1 in eqs 57 and 68)


def _linear(params, step: Step, x):
    W = params[step.weight]
    z = x @ W if step.transpose else x @ W.mT
    return z + params[step.bias].unsqueeze(-2) if step.bias is not None else z


def forward(params: Mapping[str, torch.Tensor], path: Sequence[Step], x: torch.Tensor) -> list[Layer]:
    """Eqs 1-2 layer by layer; returns every layer's (x, z, y). The output is [-1].y."""
    layers = []
    for step in path:
        z = _linear(params, step, x)
        y = step.activation(z)
        layers.append(Layer(x, z, y))
        x = y
    return layers


def backward(
    params,
    path: Sequence[Step],
    layers: list[Layer],
    grad_z_out: torch.Tensor,
    grads: dict,
    input_grad: bool = False,
    rule=None,
):
    """Propagate dJ/dz of the last layer down the path, adding dJ/dW and dJ/db into ``grads``.

    ``rule`` (:mod:`bidir.backprop.rules`) decides what reaches the layer below; None is backprop, dz W.
    Returns dJ/dx at the path's input if ``input_grad``, else None (saves one product).
    """
    dz, dy = grad_z_out, None  # dy: dJ/dy of the current layer, carried down from the step above
    for i in range(len(path) - 1, -1, -1):
        step, layer = path[i], layers[i]
        if i < len(path) - 1:
            dz = step.activation.vjp(layer.z, layer.y, dy)
        W = params[step.weight]
        dW = layer.x.mT @ dz if step.transpose else dz.mT @ layer.x
        grads[step.weight] = grads[step.weight] + dW if step.weight in grads else dW
        if step.bias is not None:
            db = dz.sum(-2)
            grads[step.bias] = grads[step.bias] + db if step.bias in grads else db
        if i == 0 and not input_grad:
            return None
        if rule is None:
            dy = dz @ W.mT if step.transpose else dz @ W
        else:
            dy = rule.feedback(i, step, W, dz, grad_z_out)
    return dy


def loss_and_gradients(
    params: Mapping[str, torch.Tensor], passes: Sequence[Pass], rule=None
) -> tuple[torch.Tensor, dict, list[torch.Tensor]]:
    """The joint error J = sum_p w_p mean_batch E_p and dJ/dtheta for every parameter used (with a learning
    ``rule``, the updates it gives in place of dJ/dtheta).

    Returns (J, grads, per-pass mean errors). Parameters that no pass uses get no entry.
    Parameters may carry a leading 'copies' dimension (S, ...) (an ensemble of networks
    trained together): the products broadcast, errors have shape (S,) and J is their sum.
    """
    grads: dict[str, torch.Tensor] = {}
    total, errors, sweeps = 0.0, [], []
    with torch.no_grad():
        for p in passes:
            layers = forward(params, p.path, p.x)
            sweeps.append((p.path, layers))
            out, act = layers[-1], p.path[-1].activation
            e = likelihoods.error(p.likelihood, act, out.z, out.y, p.target).mean(-1)
            errors.append(e)
            total = total + p.weight * e.sum()
            scale = p.weight / p.x.shape[-2]  # J is the batch mean: 1/ndata enters once, here
            grad_z = scale * likelihoods.grad_z(p.likelihood, act, out.z, out.y, p.target)
            backward(params, p.path, layers, grad_z, grads, rule=rule)
    if rule is not None:
        rule.observe(sweeps)
    return torch.as_tensor(total), grads, errors


class _ExplicitLoss(torch.autograd.Function):
    """Hands the engine's gradients to autograd's .grad slots (so optimisers and DDP see them).

    Autograd does no differentiation here: forward runs the engine, backward only scales
    the engine's dJ/dtheta by the incoming scalar.
    """

    @staticmethod
    def forward(ctx, passes, names, errors_out, rule, *tensors):
        loss, grads, errors = loss_and_gradients(dict(zip(names, tensors, strict=True)), passes, rule)
        errors_out.extend(errors)
        ctx.grads = [grads.get(n) for n in names]
        return loss

    @staticmethod
    def backward(ctx, g):
        return (None, None, None, None, *[None if d is None else g * d for d in ctx.grads])


def explicit_loss(
    params: Mapping[str, torch.Tensor], passes: Sequence[Pass], rule=None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The joint error as a tensor whose ``.backward()`` writes the engine's gradients (or ``rule``'s updates).

    Returns (J, per-pass mean errors).
    """
    names = list(params)
    errors: list[torch.Tensor] = []
    loss = _ExplicitLoss.apply(passes, names, errors, rule, *params.values())
    return loss, errors
