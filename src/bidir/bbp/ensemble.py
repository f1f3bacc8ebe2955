"""Train many copies of one network at once (different initial weights), vectorised.

Every parameter is stacked along a new leading dimension of S copies and the engine's
products broadcast over it (:func:`bidir.backprop.loss_and_gradients`), so S seeds cost
about as much as one network on an S-times larger batch, with either engine. Adam and SGD
update every element on its own, and the summed loss carries each copy's gradient only to
its own slice, so each copy follows its own full-batch training run. (Rounding differs
from a one-network run, and Adam turns tiny gradient differences into full-size steps,
so copy s is not bit-identical to training seed s alone; it is seeded and deterministic.)
"""
from __future__ import annotations

import copy
from typing import Callable, Sequence

import torch

from ..backprop import engine
from ..train import make_optimizer

__all__ = ["Ensemble"]


class Ensemble:
    """S networks ``make(seed)``, one per seed, held as stacked parameters."""

    def __init__(self, make: Callable[[int], torch.nn.Module], seeds: Sequence[int]):
        self.seeds = list(seeds)
        models = [make(s) for s in self.seeds]
        self.template = copy.deepcopy(models[0])
        self.params = {k: torch.stack([dict(m.named_parameters())[k].detach() for m in models]).requires_grad_() for k, _ in models[0].named_parameters()}

    def objective(self, x, t, **loss_kwargs):
        """(sum of the copies' losses, {error name: (S,) errors})."""
        return self.template.objective(self.params, x, t, **loss_kwargs)

    def fit(self, x, t, epochs: int, lr: float, optimizer: str = "adam", progress=None, hidden_steepness: Callable | None = None, callback: Callable | None = None, **loss_kwargs) -> dict:
        """Full-batch training of every copy; returns the final errors, each of shape (S,).

        ``hidden_steepness(epoch)``, if given, sets the hidden neurons' c before each epoch;
        ``callback(epoch)`` runs after each update (to record curves, say).
        """
        opt = make_optimizer(optimizer, self.params.values(), lr)
        steps = range(epochs) if progress is None else progress(range(epochs))
        for epoch in steps:
            if hidden_steepness is not None:
                self.template.set_hidden_steepness(hidden_steepness(epoch))
            J, _ = self.objective(x, t, **loss_kwargs)
            opt.zero_grad(set_to_none=True)
            J.backward()
            opt.step()
            if callback is not None:
                callback(epoch)
        with torch.no_grad():
            return self.objective(x, t, **loss_kwargs)[1]

    @torch.no_grad()
    def sweep(self, path_name: str, inputs, hard: bool = False) -> torch.Tensor:
        """Every copy's forward ('forward') or backward ('backward') sweep: (S, B, n)."""
        net = self.template.thresholded() if hard else self.template
        path = net.forward_path() if path_name == "forward" else net.backward_path()
        return engine.forward(self.params, path, inputs)[-1].y

    @torch.no_grad()
    def exact_recall(self, x, y) -> dict:
        """Per copy, after the threshold swap: does N(x) equal y and N^T(y) equal x for every pair?"""
        return {"forward": (self.sweep("forward", x, hard=True) == y).all(-1).all(-1),
                "backward": (self.sweep("backward", y, hard=True) == x).all(-1).all(-1)}

    def model(self, i: int) -> torch.nn.Module:
        """Copy i as an ordinary module with its trained weights."""
        m = copy.deepcopy(self.template)
        m.load_state_dict({k: v[i].detach().clone() for k, v in self.params.items()})
        return m
