"""bbp-regression: a regressor run in reverse (Kosko 2021, sec IV: B-BP "lets users run deep classifiers and
regressors in reverse").

A regression network N maps x to t = f(x) forward; its backward pass N^T runs the same synapses
from t back to x. Trained bidirectionally (E_f + E_b, Gaussian likelihoods both ways: squared
error), the backward pass minimises the backward squared error, so for each output value it
estimates the centroid of the pre-image {x : f(x) = t} (a centroid minimises squared error),
whereas a forward-only network's backward pass is arbitrary. Two functions:

- ``sine``: t = sin(2 x1) cos(2 x2) on [-1, 1]^2, a smooth surface whose level sets are curves;
- ``square``: t = x^2 on [-1, 1], many-to-one: the pre-image of t is {-sqrt(t), +sqrt(t)}, two
  branches whose centroid, 0, lies between them (the backward pass cannot be a point of the
  pre-image and fit both; a centroid is what squared error asks for).

For each function, hidden activation and training mode (forward, backward, bidirectional) an
ensemble of seeds trains full-batch. Measured on held-out points: the forward RMSE; and for the
output values split into equal-count bins, the distance from the backward pass at each bin's mean
output to the bin's pre-image centroid, and to the nearest pre-image point of the bin, beside the
trivial baseline (the centroid of all inputs).
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import model_validator

from ..bbp import MODES
from ..bbp.ensemble import Ensemble
from ..plotting import figure, legend_below, legend_outside
from .registry import RunSpec, experiment
from .settings import NonEmpty, Positive, PositiveInt, settings


@settings
class Config:
    """Settings of the bbp-regression experiment (the paper gives none: the network and training are ours)."""

    functions: Annotated[tuple[Literal["sine", "square"], ...], NonEmpty] = ("sine", "square")
    hidden_activations: Annotated[tuple[Literal["relu", "tanh"], ...], NonEmpty] = ("relu", "tanh")
    width: PositiveInt = 64  # two hidden layers of this many neurons
    train_size: PositiveInt = 2000
    test_size: PositiveInt = 2000
    seeds: PositiveInt = 5
    epochs: PositiveInt = 3000  # full-batch Adam steps
    lr: Positive = 3e-3
    bins: PositiveInt = 10  # equal-count bins of the output values

    @model_validator(mode="after")
    def _every_bin_has_samples(self):
        if self.bins > self.test_size:
            raise ValueError(
                f"bins ({self.bins}) must be at most test_size ({self.test_size}): every bin needs a test sample"
            )
        return self


def run(cfg: Config, ctx) -> dict:
    """For each function and hidden activation: forward, backward and bidirectional training over seeds."""
    results, recalls = {}, {}
    first = ctx.stream_seed("networks")
    seeds = range(first, first + cfg.seeds)
    for function in cfg.functions:
        g = ctx.generator("data", function)
        x, t = sample(function, cfg.train_size, g)
        xt, tt = sample(function, cfg.test_size, g)
        groups = preimage_bins(xt, tt, cfg.bins)
        data = {"x": x, "t": t, "xt": xt, "tt": tt, "groups": groups}
        trivial = float(torch.stack([(g["centroid"] - xt.mean(0)).norm() for g in groups]).mean())
        results[function] = {"trivial_backward_to_centroid": trivial, "bin_outputs": [g["t"] for g in groups]}
        for hidden in cfg.hidden_activations:
            for mode in ctx.progress(MODES, desc=f"{function} {hidden}"):
                r = train_and_measure(cfg, function, hidden, mode, data, seeds)
                recalls[(function, hidden, mode)] = r.pop("recall")
                results[function][f"{hidden}/{mode}"] = r
                ctx.log(
                    f"{function}, {hidden}, {mode}-trained ({cfg.seeds} seeds): forward RMSE "
                    f"{r['forward_rmse_mean']:.3f} +- {r['forward_rmse_std']:.3f}; backward pass to the pre-image "
                    f"centroid {r['backward_to_centroid_mean']:.3f} +- {r['backward_to_centroid_std']:.3f}, to the "
                    f"nearest pre-image point {r['backward_to_nearest_mean']:.3f} (trivial baseline {trivial:.3f})"
                )
        draw_backward_regression(ctx, cfg, function, data, recalls)
    return results


def sample(function: str, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n inputs uniform on [-1, 1]^d and their outputs t = f(x), as (n, d) and (n, 1)."""
    d, f = FUNCTIONS[function]
    x = 2 * torch.rand(n, d, generator=g) - 1
    return x, f(x).unsqueeze(1)


def preimage_bins(x: torch.Tensor, t: torch.Tensor, bins: int) -> list[dict]:
    """Equal-count bins of the outputs: each bin's mean output, its inputs (the pre-image) and their centroid."""
    order = t[:, 0].argsort()
    return [{"t": float(t[idx].mean()), "x": x[idx], "centroid": x[idx].mean(0)} for idx in order.tensor_split(bins)]


def backward_distances(recall: torch.Tensor, groups: list[dict]) -> dict:
    """Per copy (S,): mean over bins of ||N^T(t_b) - centroid_b|| and of the distance to the bin's nearest input."""
    centroid = torch.stack([(recall[:, b] - g["centroid"]).norm(dim=-1) for b, g in enumerate(groups)], 1).mean(1)
    nearest = torch.stack(
        [
            torch.cdist(recall[:, b : b + 1], g["x"].unsqueeze(0).expand(len(recall), -1, -1)).amin((1, 2))
            for b, g in enumerate(groups)
        ],
        1,
    ).mean(1)
    return {"to_centroid": centroid, "to_nearest_point": nearest}


def train_and_measure(cfg: Config, function: str, hidden: str, mode: str, data: dict, seeds) -> dict:
    """Train one ensemble of seeds in ``mode``; its forward RMSE and backward distances, per seed and in summary."""
    x, t, xt, tt, groups = data["x"], data["t"], data["xt"], data["tt"], data["groups"]
    ens = Ensemble(seeds, (x.shape[1], cfg.width, cfg.width, 1), hidden=hidden, output="identity", input="identity")
    ens.fit(x, t, cfg.epochs, cfg.lr, mode=mode)
    with torch.no_grad():
        rmse = (ens(xt) - tt).pow(2).mean((1, 2)).sqrt()  # (S,)
        recall = ens.backward_pass(torch.tensor([[g["t"]] for g in groups]))  # (S, bins, d)
    dist = backward_distances(recall, groups)
    per_seed = {
        "forward_rmse": rmse,
        "backward_to_centroid": dist["to_centroid"],
        "backward_to_nearest": dist["to_nearest_point"],
    }
    summary = {f"{k}_mean": float(v.mean()) for k, v in per_seed.items()}
    summary |= {f"{k}_std": float(v.std()) if len(v) > 1 else 0.0 for k, v in per_seed.items()}
    return {**summary, "per_seed": {k: v.tolist() for k, v in per_seed.items()}, "recall": recall.mean(0)}


def draw_backward_regression(ctx, cfg: Config, function: str, data: dict, recalls: dict) -> None:
    """A regressor run backward: each output group's preimage centroid beside N^T(y)."""
    groups, hidden = data["groups"], cfg.hidden_activations[0]
    centroids = torch.stack([g["centroid"] for g in groups])
    outputs = [g["t"] for g in groups]
    styles = {"forward": ("C3", "x"), "backward": ("C1", "^"), "bidirectional": ("C2", "o")}
    fig, ax = figure(size=(7.5, 5))
    if function == "square":
        ts = torch.linspace(0, 1, 200)
        ax.plot(-ts.sqrt(), ts, color="0.6", lw=4, alpha=0.5, label="pre-image of t: x = -sqrt(t), +sqrt(t)")
        ax.plot(ts.sqrt(), ts, color="0.6", lw=4, alpha=0.5)
        ax.plot(centroids[:, 0], outputs, "k*", ms=11, label="pre-image centroid per output bin")
        for mode, (color, marker) in styles.items():
            ax.plot(
                recalls[(function, hidden, mode)][:, 0],
                outputs,
                marker=marker,
                color=color,
                ls="-",
                label=f"backward pass N^T(t), {mode}-trained",
            )
        ax.set_xlabel("x")
        ax.set_ylabel("output t = x^2 (bin means)")
    else:
        xt, tt = data["xt"], data["tt"][:, 0]
        sc = ax.scatter(xt[:, 0], xt[:, 1], c=tt, s=4, cmap="coolwarm", alpha=0.5)
        fig.colorbar(sc, ax=ax, shrink=0.8, label="output t = sin(2 x1) cos(2 x2)")
        ax.plot(centroids[:, 0], centroids[:, 1], "k*", ms=11, label="pre-image centroid per output bin")
        for mode, (color, marker) in styles.items():
            r = recalls[(function, hidden, mode)]
            ax.plot(r[:, 0], r[:, 1], marker=marker, color=color, ls="", ms=7, label=f"N^T(t_bin), {mode}-trained")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_aspect("equal")
    ax.set_title(f"{function}: the backward pass of a {hidden} regressor ({cfg.seeds}-seed mean)")
    legend_below(ax) if function == "sine" else legend_outside(ax)
    ctx.save_figure(fig, f"backward_{function}")


FUNCTIONS = {
    "sine": (2, lambda x: torch.sin(2 * x[:, 0]) * torch.cos(2 * x[:, 1])),
    "square": (1, lambda x: x[:, 0] ** 2),
}

QUICK = {"seeds": 2, "epochs": 300, "train_size": 400, "test_size": 400, "width": 32, "hidden_activations": ("relu",)}

experiment(
    "bbp-regression",
    "B-BP regression run in reverse: the backward pass lands on each output's pre-image centroid (sine, x^2)",
    Config,
    run,
    quick=QUICK,
    hours=0.2,
    runs={"": RunSpec(tier="extended")},  # beyond the paper: no claim needs it
)
