"""bbp-cost: bidirectional backpropagation costs O(n) for n training samples, like ordinary backprop (Kosko sec IV).

"The bidirectional forward and backward sweeps give a total complexity of O(n) = O(n) + O(n)."
Wall time on a shared machine is noise (``benchmarks/`` measures it); the arithmetic is not.
This experiment counts the floating-point operations of the matrix products and convolutions
(torch's ``FlopCounterMode``, deterministic) of one training epoch, every batch's error and
its gradient, for ordinary BP and for B-BP, over growing training sets, for the MLP of Fig 4's
kind and for the convolutional network of ``bbp-conv``. (The CNN's backward sweep runs once per distinct
label of a batch, so its B-BP epoch costs barely more than BP's; the MLP's runs on every sample: two
sweeps of the same size, a factor near 2.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import model_validator
from torch.utils.flop_counter import FlopCounterMode

from ..bbp import BidirectionalMLP
from ..bbp.cnn import BidirectionalCNN
from ..plotting import figure
from .claims import Claim
from .registry import experiment
from .settings import PositiveInt, Sizes, settings


@settings
class Config:
    """Settings of the bbp-cost experiment: training-set sizes, batch, and the two networks' shapes."""

    samples: Sizes = (256, 512, 1024, 2048, 4096)
    batch_size: PositiveInt = 128
    mlp: Sizes = (784, 512, 512, 512, 10)
    channels: Sizes = (32, 64)
    hidden: Sizes = (256,)

    @model_validator(mode="after")
    def _mnist_shaped(self):
        if self.mlp[0] != 784 or self.mlp[-1] != 10 or len(self.mlp) < 2:
            raise ValueError(
                f"mlp ({list(self.mlp)}) must run from MNIST's 784 pixels to its 10 classes: [784, ..., 10]"
            )
        return self


def run(cfg: Config, ctx) -> dict:
    """Count one epoch's FLOPs for BP and B-BP at every training-set size, for the MLP and the CNN."""
    seed = ctx.stream_seed("weights")
    models = {
        "mlp": BidirectionalMLP(cfg.mlp, hidden="relu", output="softmax", input="identity", seed=seed),
        "cnn": BidirectionalCNN(10, (1, 28, 28), cfg.channels, hidden=cfg.hidden, seed=seed),
    }
    g = ctx.generator("data")
    n = max(cfg.samples)
    x = torch.rand(n, 1, 28, 28, generator=g)
    t = F.one_hot(torch.randint(10, (n,), generator=g), 10).float()
    out = {}
    for name, net in ctx.progress(models.items(), desc="networks"):
        inputs = x.flatten(1) if name == "mlp" else x
        flops = {
            mode: [epoch_flops(net, inputs[:k], t[:k], mode, cfg.batch_size) for k in cfg.samples] for mode in MODES
        }
        out[name] = {
            mode: {"flops": f, "flops_per_sample": [v / k for v, k in zip(f, cfg.samples, strict=True)]}
            for mode, f in flops.items()
        }
        out[name]["ratio"] = [b / f for b, f in zip(flops["bidirectional"], flops["forward"], strict=True)]
        ctx.log(
            f"{name}: epoch FLOPs per sample, BP {out[name]['forward']['flops_per_sample'][0]:.4g}, B-BP "
            f"{out[name]['bidirectional']['flops_per_sample'][0]:.4g}; B-BP / BP "
            + ", ".join(f"n={k}: {r:.3f}" for k, r in zip(cfg.samples, out[name]["ratio"], strict=True))
        )
    draw_cost(ctx, cfg, out)
    return {"samples": list(cfg.samples), "batch_size": cfg.batch_size, **out}


def _per_sample(metrics: dict, model: str, mode: str) -> list[float]:
    return metrics[model][mode]["flops_per_sample"]


def _spread(values: list[float]) -> float:
    return max(values) / min(values)


def epoch_flops(net, x: torch.Tensor, t: torch.Tensor, mode: str, batch_size: int) -> int:
    """FLOPs of one epoch: every batch's error (eq 69 for B-BP) and its gradient, counted by torch."""
    counter = FlopCounterMode(display=False)
    with counter:
        for xb, tb in zip(x.split(batch_size), t.split(batch_size), strict=True):
            net.zero_grad()
            net.loss(xb, tb, mode)[0].backward()
    return int(counter.get_total_flops())


def draw_cost(ctx, cfg: Config, out: dict) -> None:
    """The cost of a bidirectional step against a forward one, by network size."""
    fig, axes = figure(1, 2, size=(10, 3.8))
    for i, (name, r) in enumerate(out.items()):
        for mode, style in zip(MODES, ("--", "-"), strict=True):
            label = f"{name}, {'BP' if mode == 'forward' else 'B-BP'}"
            axes[0].loglog(cfg.samples, r[mode]["flops"], style, marker="o", color=f"C{i}", label=label)
        axes[1].plot(cfg.samples, r["ratio"], marker="o", color=f"C{i}", label=name)
    axes[0].set(xlabel="training samples n", ylabel="FLOPs of one epoch", title="both grow linearly in n")
    axes[1].set(xlabel="training samples n", ylabel="B-BP / BP FLOPs", title="a constant factor: O(n) + O(n)")
    axes[1].set_ylim(0, 3)
    axes[1].set_xscale("log")
    for ax in axes:
        ax.set_xticks(list(cfg.samples), [str(k) for k in cfg.samples])
        ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
        ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.save_figure(fig, "cost")


MODES = ("forward", "bidirectional")  # ordinary BP, B-BP (eq 69)


def _linear(metrics: dict) -> dict:
    return {model: _spread(_per_sample(metrics, model, "bidirectional")) for model in ("mlp", "cnn")}


def _ratios(metrics: dict) -> dict:
    return {model: [min(metrics[model]["ratio"]), max(metrics[model]["ratio"])] for model in ("mlp", "cnn")}


CLAIMS = (
    Claim(
        id="kosko-bbp-linear",
        quote=(
            "Bidirectional backpropagation’s time complexity is O(n) for n training samples because "
            "unidirectional backpropagation has O(n) complexity."
        ),
        paper="kosko",
        source="sec IV",
        statement="bidirectional backpropagation's time complexity is O(n) for n training samples (an accounting "
        "check: the FLOPs of one epoch are counted, and per sample they are constant by construction of a "
        "minibatch loop; not a timing)",
        paper_value="O(n)",
        measure=_linear,
        compare="holds",
        metric="B-BP epoch FLOPs per sample, largest / smallest over the training-set sizes (1 = linear in n)",
        check=lambda v: all(s <= 1.01 for s in v.values()),
    ),
    Claim(
        id="kosko-bbp-like-bp",
        quote="So bidirectional backpropagation scales like ordinary backpropagation.",
        paper="kosko",
        source="sec IV",
        statement="B-BP scales like ordinary backpropagation: O(n) = O(n) + O(n)",
        paper_value="a constant factor (two sweeps)",
        measure=_ratios,
        compare="holds",
        metric="[smallest, largest] B-BP / BP epoch FLOPs over the training-set sizes",
        check=lambda v: all(1 < lo and hi <= 3 and hi / lo <= 1.01 for lo, hi in v.values()),
    ),
)

experiment(
    "bbp-cost",
    "B-BP costs O(n) like BP: counted FLOPs of a training epoch, BP vs B-BP, MLP and CNN, growing training sets",
    Config,
    run,
    quick={"samples": (64, 128, 256), "batch_size": 32, "mlp": (784, 64, 10), "channels": (8, 16), "hidden": (32,)},
    claims=CLAIMS,
    hours=0.01,
)
