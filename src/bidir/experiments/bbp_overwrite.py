"""bbp-overwrite: Fig 3 of Kosko (2021), directional overwriting.

The 3-layer logistic BAM of Fig 1b (4-5-4, Table I permutation) is trained from the same
initial weights three ways: on the forward error alone, on the backward error alone, and
on their sum (bidirectional BP, eqs 57-58). We record both directional errors every
epoch whatever is trained, averaged over several initialisations. Then the undoing
itself: a network first trained backward-only is trained on forward-only, and its backward
error climbs back while the forward error falls.
"""

from __future__ import annotations

from typing import Literal

import torch

from ..bbp import MODES
from ..bbp.ensemble import Ensemble
from ..data.patterns import TABLE_I_PERMUTATION, permutation_pairs
from ..plotting import figure
from .claims import Claim
from .registry import experiment
from .settings import Positive, PositiveInt, settings


@settings
class Config:
    """Settings of the bbp-overwrite experiment (Fig 3's 4-h-4 network; training choices ours)."""

    hidden: PositiveInt = 5
    steepness: Positive = 1.0
    lr: Positive = 0.05
    epochs: PositiveInt = 1000
    optimizer: Literal["sgd", "adam", "adamw"] = "adam"
    engine: Literal["autograd", "explicit"] = "autograd"
    seeds: PositiveInt = 20


def run(cfg: Config, ctx) -> dict:
    """Fig 3: each training mode's errors in both directions, and undoing a backward training by a forward one."""
    X, Y = (v.float() for v in permutation_pairs(TABLE_I_PERMUTATION))
    first = ctx.stream_seed("networks")
    seeds = range(first, first + cfg.seeds)
    curves, metrics, params = {}, {}, {}
    for mode in ctx.progress(MODES, desc="training modes"):
        curves[mode], exact, params[mode] = _curves(cfg, X, Y, seeds, mode)
        final = curves[mode][-1].mean(-1)
        metrics[mode] = {
            "final_forward_error": float(final[0]),
            "final_backward_error": float(final[1]),
            "exact_forward_recall": exact["forward"],
            "exact_backward_recall": exact["backward"],
        }
        ctx.log(
            f"{mode:>13}-trained: E_f {final[0]:.4f}, E_b {final[1]:.4f} (mean of {cfg.seeds}); exact recall "
            "after threshold swap: "
            f"forward {exact['forward']:.0%}, backward {exact['backward']:.0%} of the networks"
        )
    # undoing: the backward-trained networks, now trained forward-only
    undo, exact, _ = _curves(cfg, X, Y, seeds, "forward", start=params["backward"])
    before, after = curves["backward"][-1].mean(-1), undo[-1].mean(-1)
    metrics["undo"] = {
        "backward_error_before": float(before[1]),
        "backward_error_after": float(after[1]),
        "forward_error_before": float(before[0]),
        "forward_error_after": float(after[0]),
        "exact_backward_recall_after": exact["backward"],
    }
    ctx.log(
        f"backward-trained then forward-only: E_b {before[1]:.4f} -> {after[1]:.4f} while E_f {before[0]:.4f} "
        f"-> {after[0]:.4f}"
    )
    draw_fig3(ctx, curves, undo)
    return {"paper": PAPER, **metrics}


def _curves(cfg: Config, X, Y, seeds, mode: str, start: dict | None = None):
    ens = Ensemble.bipolar(seeds, (4, cfg.hidden, 4), cfg.steepness)
    if start is not None:
        with torch.no_grad():
            for k, v in ens.params.items():
                v.copy_(start[k])

    def errors(model, epoch):  # both directions after each update, whatever the training mode
        return model.objective(X, Y, mode="bidirectional")[1]

    history = ens.fit(X, Y, cfg.epochs, cfg.lr, cfg.optimizer, evaluate=errors, mode=mode, engine_name=cfg.engine)
    curves = torch.stack([torch.stack([h["forward_error"], h["backward_error"]]) for h in history])  # (epochs, 2, S)
    exact = {d: float(ok.float().mean()) for d, ok in ens.exact_recall(X, Y).items()}
    return curves, exact, {k: v.detach().clone() for k, v in ens.params.items()}


def draw_fig3(ctx, curves, undo) -> None:
    """Fig 3: both directions' errors while one direction, or both, train."""
    titles = {
        "forward": "(a) forward-only BP",
        "backward": "(b) backward-only BP",
        "bidirectional": "(c) bidirectional BP",
    }
    fig, axes = figure(1, 4, size=(14, 3.4), sharey=True)
    panels = [(titles[m], curves[m]) for m in MODES] + [("(d) backward-trained, then forward-only", undo)]
    for ax, (title, c) in zip(axes, panels, strict=False):
        epochs = torch.arange(1, c.shape[0] + 1)
        for j, (name, color) in enumerate((("forward error E_f", "C0"), ("backward error E_b", "C3"))):
            mean, lo, hi = c[:, j].mean(-1), c[:, j].quantile(0.1, -1), c[:, j].quantile(0.9, -1)
            ax.plot(epochs, mean, color=color, label=name)
            ax.fill_between(epochs, lo, hi, color=color, alpha=0.2)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("double cross-entropy (mean, 10-90% band)")
    axes[0].legend(fontsize=8)
    ctx.save_figure(fig, "overwrite_curves")


# Fig 3 gives curves, no numbers: the paper's claims, kept beside ours in results.json
PAPER = {
    "forward": "trains well on the forward error but overwrites the inverse map",
    "backward": "trains well on the backward error but overwrites the forward map",
    "bidirectional": "no overwriting in either direction",
}


def _errors(metrics: dict, mode: str) -> list[float]:
    return [metrics[mode]["final_forward_error"], metrics[mode]["final_backward_error"]]


OVERWRITES = 10.0  # "overwrites": the untrained direction's error ends at least this many times the trained one's

CLAIMS = (
    Claim(
        id="kosko-fig3-overwrite",
        quote=(
            "(a) Unidirectional back- propagation trains well on the forward error but overwrites the learning of"
            " the inverse map on the backward pass."
        ),
        paper="kosko",
        source="Fig 3a-b",
        statement="forward-only training overwrites the inverse map, and backward-only training the forward map",
        paper_value=PAPER["forward"],
        measure=lambda m: {mode: _errors(m, mode) for mode in ("forward", "backward")},
        compare="holds",
        metric=f"final [E_f, E_b] per training mode: the untrained direction's error >= {OVERWRITES:g}x the trained",
        check=lambda v: (
            v["forward"][1] >= OVERWRITES * v["forward"][0] and v["backward"][0] >= OVERWRITES * v["backward"][1]
        ),
    ),
    Claim(
        id="kosko-fig3-bidirectional",
        quote=(
            "(c) Bidirectional BP trained the network with the summed double cross-entropies in (69). It produced"
            " no overwriting in either direction."
        ),
        paper="kosko",
        source="Fig 3c",
        statement="bidirectional training keeps both directions' errors low",
        paper_value=PAPER["bidirectional"],
        measure=lambda m: {mode: _errors(m, mode) for mode in ("forward", "backward", "bidirectional")},
        compare="holds",
        metric=f"final [E_f, E_b] per mode: both bidirectional errors below 1/{OVERWRITES:g} of the overwritten ones",
        check=lambda v: max(v["bidirectional"]) * OVERWRITES <= min(v["forward"][1], v["backward"][0]),
    ),
    Claim(
        id="kosko-fig3-undo",
        quote=(
            "Bidirectional backpropagation avoids the directional overwriting of ordinary unidirectional "
            "backpropagation."
        ),
        paper="kosko",
        source="Fig 3",
        statement="training forward-only after backward training undoes the backward map",
        paper_value="E_b climbs",
        measure=lambda m: [m["undo"]["backward_error_before"], m["undo"]["backward_error_after"]],
        compare="holds",
        metric=f"E_b [before, after] the forward-only training; climbs >= {OVERWRITES:g}x",
        check=lambda v: v[1] >= OVERWRITES * v[0],
    ),
)

experiment(
    "bbp-overwrite",
    "Fig 3: forward-only and backward-only training overwrite each other; bidirectional keeps both errors low",
    Config,
    run,
    quick={"epochs": 400, "seeds": 8},
    claims=CLAIMS,
    hours=0.02,
    figures={"overwrite_curves": "Kosko Fig 3"},
)
