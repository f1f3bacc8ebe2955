"""Train many copies of one network at once (different initial weights), vectorised.

Every parameter is stacked along a new leading dimension of S copies and the engine's
products broadcast over it (:func:`bidir.backprop.loss_and_gradients`), so S seeds cost
about as much as one network on an S-times larger batch, with either engine. Adam and SGD
update every element on its own, and the summed loss carries each copy's gradient only to
its own slice, so each copy follows its own full-batch training run. (Rounding differs
from a one-network run, and Adam turns tiny gradient differences into full-size steps,
so copy s is not bit-identical to training seed s alone; it is seeded and deterministic.)

Training goes through the one training loop, :class:`bidir.train.Trainer`, with the whole
data set as one batch in its own order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..backprop import engine
from ..errors import InvalidInputError
from ..module import BidirModule
from ..train import Trainer, make_optimizer
from ..validation import check_choice, check_memory, check_seed
from .network import BidirectionalMLP

__all__ = ["Ensemble"]


class Ensemble(BidirModule):
    """S networks ``BidirectionalMLP(sizes, **network, seed=s)``, one per seed, held as stacked parameters.

    ``forward(x)`` and ``backward_pass(y)`` run every copy: (S, batch, n).
    """

    def __init__(
        self, seeds: Sequence[int], sizes: Sequence[int], dtype: torch.dtype = torch.float32, device=None, **network
    ):
        super().__init__()
        if not isinstance(seeds, list | tuple | range) or not seeds:
            raise InvalidInputError(f"seeds must be a non-empty list of seeds, got {seeds!r:.60}")
        self.seeds = [check_seed(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
        first = BidirectionalMLP(sizes, seed=self.seeds[0], dtype=dtype, **network)
        check_memory(len(self.seeds) * sum(p.numel() for p in first.parameters()), f"{len(self.seeds)} copies")
        models = [first, *(BidirectionalMLP(sizes, seed=s, dtype=dtype, **network) for s in self.seeds[1:])]
        self.template = models[0]  # structure, activations and hidden steepness; its own weights are unused
        self.template.requires_grad_(False)
        self.names = [name for name, _ in models[0].named_parameters()]
        self.stacked = nn.ParameterList(
            nn.Parameter(torch.stack([dict(m.named_parameters())[k].detach() for m in models])) for k in self.names
        )
        self.to(device)

    @classmethod
    def bipolar(cls, seeds: Sequence[int], sizes: Sequence[int], steepness: float = 1.0, **kwargs) -> Ensemble:
        """Copies of :meth:`BidirectionalMLP.bipolar`: the logistic BAMs of Fig 1b."""
        kind = "bipolar-logistic"
        return cls(seeds, sizes, hidden=kind, output=kind, input=kind, steepness=steepness, **kwargs)

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """Every stacked parameter by the network's parameter name: (S, ...)."""
        return dict(zip(self.names, self.stacked, strict=True))

    def objective(self, x, t, **loss_kwargs):
        """(sum of the copies' losses, {error name: (S,) errors})."""
        return self.template.objective(self.params, x, t, **loss_kwargs)

    def fit(
        self,
        x,
        t,
        epochs: int,
        lr: float,
        optimizer: str = "adam",
        progress: bool = False,
        hidden_steepness: Callable[[int], float] | None = None,
        evaluate: Callable | None = None,
        **loss_kwargs,
    ) -> list[dict]:
        """Full-batch training of every copy through the Trainer (one epoch = one step); returns its history.

        ``hidden_steepness(epoch)`` (0-based) sets the hidden neurons' c before each epoch;
        ``evaluate(ensemble, epoch)`` adds its metrics after each (to record curves, say).
        """
        x, t = self.template._pair(x, t)
        opt = make_optimizer(optimizer, self.stacked.parameters(), lr)
        anneal = (
            None if hidden_steepness is None else (lambda epoch: self.set_hidden_steepness(hidden_steepness(epoch - 1)))
        )
        trainer = Trainer(
            self,
            lambda m, xb, tb: (m.objective(xb, tb, **loss_kwargs)[0], {}),
            opt,
            batch_size=x.shape[0],
            shuffle=False,
            progress=progress,
            log=lambda line: None,
            name="ensemble",
            before_epoch=anneal,
        )
        return trainer.fit((x, t), epochs, evaluate=evaluate)

    def set_hidden_steepness(self, c: float) -> None:
        """Set every copy's hidden c (they share the template's activations)."""
        self.template.set_hidden_steepness(c)

    @torch.no_grad()
    def sweep(self, path_name: str, inputs, hard: bool = False) -> torch.Tensor:
        """Every copy's forward ('forward') or backward ('backward') sweep: (S, B, n)."""
        check_choice(path_name, "path", ("forward", "backward"))
        net = self.template.thresholded() if hard else self.template
        inputs = net._check(
            inputs, "x" if path_name == "forward" else "y", net.sizes[0 if path_name == "forward" else -1]
        )
        path = net.forward_path() if path_name == "forward" else net.backward_path()
        return engine.forward(self.params, path, inputs)[-1].y

    def forward(self, x) -> torch.Tensor:
        """N_s(x) for every copy s: (S, B, n_L)."""
        return self.sweep("forward", x)

    def backward_pass(self, y) -> torch.Tensor:
        """N_s^T(y) for every copy s: (S, B, n_0)."""
        return self.sweep("backward", y)

    @torch.no_grad()
    def exact_recall(self, x, y) -> dict:
        """Per copy, after the threshold swap: does N(x) equal y and N^T(y) equal x for every pair?"""
        return {
            "forward": (self.sweep("forward", x, hard=True) == y).all(-1).all(-1),
            "backward": (self.sweep("backward", y, hard=True) == x).all(-1).all(-1),
        }

    def model(self, i: int) -> BidirectionalMLP:
        """Copy i as an ordinary module with its trained weights."""
        m = copy.deepcopy(self.template).requires_grad_(True)
        with torch.no_grad():
            for name, p in m.named_parameters():
                p.copy_(self.params[name][i])
        return m
