"""bbp-conv: does bidirectional training raise a convolutional classifier's accuracy, and does NEM noise raise it
further? (Kosko 2021: "The bidirectionally trained BAM network also had higher classification accuracy. The accuracy
increased further by carefully injecting EM-based (not blind) noise during its training"; sec I: bidirectional
training "also tends to improve classification accuracy in deep convolutional classifiers".)

Every method trains the same :class:`BidirectionalCNN` from the same initial weights per seed, for the same epochs,
batches and optimiser, so the comparisons are paired:

    bp          ordinary backpropagation, E_f only
    bbp         bidirectional backpropagation, E_f + E_b (eq 69)
    bbp-nem     B-BP with NEM noise on the targets of both directions (bidir.bbp.noise)
    bbp-blind   B-BP with blind noise of the same (annealed) scale: the control
    bp-nem      backpropagation with NEM noise on the labels
    bp-blind    backpropagation with blind noise on the labels (is a gain from noise on B-BP a gain from B-BP?)

Measured per dataset: test accuracy (mean +- std over seeds, and each method minus bp per seed with a paired t-test)
and Fig 4's measure for the CNN, N^T(e_k) against the class centroids.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
import torch.nn.functional as F

from .. import seeds
from ..bbp.centroids import centroid_measure, class_centroids
from ..bbp.cnn import BidirectionalCNN
from ..bbp.noise import NoiseSchedule
from ..data.datasets import train_test
from ..plotting import figure, image_grid, legend_outside
from ..stats import paired
from ..train import make_optimizer
from .claims import Claim, centroid_claim
from .registry import experiment
from .settings import NonEmpty, NonNegative, NonNegativeInt, Positive, PositiveInt, Sizes, settings

Method = Literal["bp", "bbp", "bbp-nem", "bbp-blind", "bp-nem", "bp-blind"]

Dataset = Literal["mnist", "fashion-mnist", "cifar10", "mnist-subset"]


@settings
class Config:
    """Settings of the bbp-conv experiment (the paper gives none: the network, budget and noise are ours)."""

    datasets: Annotated[tuple[Dataset, ...], NonEmpty] = ("mnist", "fashion-mnist", "cifar10")
    methods: Annotated[tuple[Method, ...], NonEmpty] = ("bp", "bbp", "bbp-nem", "bbp-blind", "bp-nem")
    seeds: PositiveInt = 3
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 128
    lr: Positive = 1e-3
    channels: Sizes = (32, 64)
    hidden: Sizes = (256,)
    backward_weight: NonNegative = 1.0  # w in E_f + w E_b
    noise_scale: NonNegative = 0.1  # std of the target noise in epoch 1
    noise_decay: NonNegative = 1.0  # scale_k = noise_scale / k^decay
    train_size: NonNegativeInt = 0  # 0 = the whole split
    test_size: NonNegativeInt = 0


def run(cfg: Config, ctx) -> dict:
    """Every method, every seed, every dataset at one budget; accuracies, paired differences, Fig 4's measure."""
    results, recalls = {}, {}
    for dataset in cfg.datasets:
        train, test = train_test(dataset, ctx.data_dir, cfg.train_size, cfg.test_size, ctx.seed, ctx.show_progress)
        x, xt = train.features(flatten=False).to(ctx.device), test.features(flatten=False).to(ctx.device)
        K = len(train.classes)
        t, yt = F.one_hot(train.labels, K).float().to(ctx.device), test.labels.to(ctx.device)
        centroids = class_centroids(x, train.labels, K, f"train_size={cfg.train_size}")
        ctx.log(
            f"{dataset}: {len(train)} train / {len(test)} test; methods {', '.join(cfg.methods)}; {cfg.seeds} seeds"
        )
        per = {m: {"test_accuracy": [], "own_centroid_nearest": [], "median_relative_error": []} for m in cfg.methods}
        for s in range(cfg.seeds):
            seed = ctx.stream_seed("weights", dataset, s)  # the same initial weights for every method
            for method in cfg.methods:
                folder = f"{dataset}/{method}/seed{s}"
                net, history = train_one(cfg, method, ((x, t), (xt, yt)), seed, ctx, folder, f"{dataset} seed {s}")
                measure = centroid_measure(net, centroids)
                if s == 0:
                    recalls[(dataset, method)] = measure["recall"]
                per[method]["test_accuracy"].append(history[-1]["test_accuracy"])
                per[method]["own_centroid_nearest"].append(measure["own_centroid_nearest"])
                per[method]["median_relative_error"].append(measure["median_relative_error"])
        summary = {}
        for method, values in per.items():
            acc = torch.tensor(values["test_accuracy"])
            summary[method] = {**values, "mean": float(acc.mean()), "std": float(acc.std()) if len(acc) > 1 else 0.0}
            if method != "bp" and "bp" in per:
                summary[method]["minus_bp"] = paired(values["test_accuracy"], per["bp"]["test_accuracy"])
            ctx.log(
                f"{dataset} {method}: test accuracy {summary[method]['mean']:.2%} +- {summary[method]['std']:.2%}"
                + (f", minus bp {summary[method]['minus_bp']['mean']:+.2%}" if "minus_bp" in summary[method] else "")
                + f"; N^T(e_k) nearest its own centroid: {values['own_centroid_nearest']} (per seed, of {K} classes)"
            )
        results[dataset] = {"classes": list(train.classes), "methods": summary}
        draw_fig4_cnn(ctx, dataset, centroids.cpu(), recalls, cfg.methods, tuple(x.shape[1:]), train.classes)
    draw_accuracy(ctx, results, cfg)
    return {"budget": {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr}, "datasets": results}


def _differences(metrics: dict, dataset: str, method: str, baseline: str) -> list[float]:
    """The per-seed paired test-accuracy differences method - baseline on one dataset (same initial weights)."""
    methods = metrics["datasets"][dataset]["methods"]
    a, b = methods[method]["test_accuracy"], methods[baseline]["test_accuracy"]
    return [x - y for x, y in zip(a, b, strict=True)]


def train_one(cfg: Config, method: str, data, seed: int, ctx, folder, label: str = "") -> tuple:
    """One training of ``method`` from the seed's initial weights; returns (the network, its history)."""
    (x, t), (xt, yt) = data
    mode, kind = METHODS[method]
    net = BidirectionalCNN(t.shape[1], tuple(x.shape[1:]), cfg.channels, hidden=cfg.hidden, seed=seed).to(ctx.device)
    noise = NoiseSchedule(kind, cfg.noise_scale, cfg.noise_decay, seeds.generator(seed, "noise"))

    def loss_fn(m, xb, tb):
        return m.loss(xb, tb, mode, cfg.backward_weight, noise=noise.noise)

    def evaluate(m, epoch):
        predicted = torch.cat([m(chunk).argmax(1) for chunk in xt.split(500)])
        return {"test_accuracy": float((predicted == yt).float().mean())}

    optimizer = make_optimizer("adam", net.parameters(), cfg.lr)
    name = f"{method} {label}".strip()
    trainer = ctx.trainer(
        net,
        loss_fn,
        optimizer,
        name,
        folder,
        seed=seed,
        batch_size=cfg.batch_size,
        before_epoch=noise.before_epoch,
        generators={"noise": noise.generator},
    )
    history = trainer.fit((x, t), cfg.epochs, evaluate=evaluate)
    return net, history


def draw_accuracy(ctx, results, cfg: Config) -> None:
    """Each method's test accuracy per dataset: the mean over seeds (bars) and each seed (dots)."""
    fig, axes = figure(1, len(results), size=(4.5 * len(results) + 2, 4.2), squeeze=False)
    train = f"{cfg.train_size} training images" if cfg.train_size else "whole training split"
    fig.suptitle(
        f"CNN {list(cfg.channels)} conv, {list(cfg.hidden)} dense; E_f + {cfg.backward_weight:g} E_b; noise std "
        f"{cfg.noise_scale:g} / epoch^{cfg.noise_decay:g}; {train}, {cfg.epochs} epochs, "
        f"{cfg.seeds} seed{'s' * (cfg.seeds > 1)}",
        fontsize=10,
    )
    for ax, (dataset, r) in zip(axes[0], results.items(), strict=True):
        methods = list(r["methods"])
        for i, method in enumerate(methods):
            acc = [100 * a for a in r["methods"][method]["test_accuracy"]]
            ax.bar(i, sum(acc) / len(acc), color=f"C{i}", alpha=0.6, label=method)
            ax.plot([i] * len(acc), acc, "k.", ms=5, label="one seed" if i == 0 else None)
        low = min(100 * min(m["test_accuracy"]) for m in r["methods"].values())
        high = max(100 * max(m["test_accuracy"]) for m in r["methods"].values())
        ax.set_ylim(max(0, low - 3), min(100, high + 1.5))
        ax.set_xticks(range(len(methods)), methods, rotation=30, fontsize=8)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{dataset}: mean over seeds (bars), each seed (dots)")
    legend_outside(axes[0, -1])
    fig.tight_layout()
    ctx.save_figure(fig, "accuracy")


def draw_fig4_cnn(ctx, dataset, centroids, recalls, methods, shape, classes) -> None:
    """Fig 4 for the CNN: the class centroids beside each method's N^T(e_k)."""
    rows = [list(centroids)] + [list(recalls[(dataset, m)]) for m in methods]
    fig, ax = figure(size=(1.0 * len(classes) + 2.5, 0.9 * len(rows) + 1))
    image_grid(
        ax,
        [[im.clamp(0, 1) for im in row] for row in rows],
        shape=shape,
        col_labels=classes,
        row_labels=["class centroid", *[f"N^T(e_k), {m}" for m in methods]],
    )
    ax.set_title(f"{dataset}: the CNN's backward pass of each class vector (seed 0, clipped to [0, 1])", pad=14)
    ctx.save_figure(fig, f"backward_recall_{dataset}")


METHODS = {  # name -> (training mode, noise kind or None)
    "bp": ("forward", None),
    "bbp": ("bidirectional", None),
    "bbp-nem": ("bidirectional", "nem"),
    "bbp-blind": ("bidirectional", "blind"),
    "bp-nem": ("forward", "nem"),
    "bp-blind": ("forward", "blind"),
}

NAMES = {
    "bp": "BP",
    "bbp": "B-BP",
    "bbp-nem": "B-BP + NEM",
    "bbp-blind": "B-BP + blind",
    "bp-nem": "BP + NEM",
    "bp-blind": "BP + blind",
}


def table(metrics: dict) -> dict:
    """Per dataset: each method's test accuracy over the seeds, and its paired difference from BP (the report's
    side-by-side table of the search's runs); then Fig 4's measure after B-BP."""
    rows = {}
    for dataset, r in metrics["datasets"].items():
        cells = {}
        for method in sorted(r["methods"], key=list(METHODS).index):
            m = r["methods"][method]
            text = f"{100 * m['mean']:.2f} ± {100 * m['std']:.2f}%"
            if "minus_bp" in m:
                d, p = m["minus_bp"]["mean"], m["minus_bp"]["p_value"]
                text += f" ({100 * d:+.2f}" + (f", p {p:.2g})" if p is not None else ")")
            cells[NAMES[method]] = text
        if "bbp" in r["methods"]:
            cells["N^T(e_k) nearest own centroid after B-BP"] = r["methods"]["bbp"]["own_centroid_nearest"]
        rows[dataset] = cells
    return rows


QUOTES = {  # the paper's sentences these claims carry to CNNs on datasets it names for no CNN
    "accuracy": (
        "This bidirectional training also tends to improve classification accuracy in deep convolutional"
        " classifiers and adversarial networks [3]."
    ),
    "nem": "The accuracy increased further by carefully injecting EM-based (not blind) noise during its training [3].",
}
QUOTES["nem-not-blind"] = QUOTES["nem"]  # the same sentence's "(not blind)": NEM against blind noise of its schedule

IGNORES = ("datasets", "methods")  # each dataset and method trains on its own, from the seed's initial weights

PAIRED = (  # (claim, source, statement, method, baseline, in words)
    ("accuracy", "sec I, sec IV", "bidirectional training tends to improve a deep convolutional classifier's accuracy",
     "bbp", "bp", "B-BP minus BP"),
    ("nem", "sec IV", "carefully injected NEM noise raises B-BP's accuracy further", "bbp-nem", "bbp",
     "B-BP + NEM minus B-BP"),
    ("nem-not-blind", "sec IV", "the EM-based (NEM) noise is what helps: it raises B-BP's accuracy more than blind "
     "noise of the same schedule", "bbp-nem", "bbp-blind", "B-BP + NEM minus B-BP + blind"),
)  # fmt: skip


def _claims(dataset: str, label: str) -> tuple:
    return (
        *(
            Claim(
                id=f"kosko-conv-{name}-{dataset}",
                paper="kosko",
                source=source,
                origin="extension",
                quote=QUOTES[name],
                statement=f"{statement} ({label}, CNN)",
                paper_value=0.0,
                measure=lambda m, method=method, baseline=baseline: _differences(m, dataset, method, baseline),
                compare="at_least",
                metric=f"{label} test accuracy, {words}, per seed (same initial weights)",
                trained=True,
                paired=True,
                per_seed=True,
                ignores=IGNORES,
            )
            for name, source, statement, method, baseline, words in PAIRED
        ),
        centroid_claim(
            f"kosko-conv-fig4-{dataset}",
            "Fig 4 (for a CNN)",
            f"after B-BP the backward pass N^T(e_k) closely matches the class centroids ({label}, CNN)",
            label,
            lambda m: m["datasets"][dataset]["methods"]["bbp"]["own_centroid_nearest"],
            ignores=IGNORES,
        ),
    )


CLAIMS = (*_claims("mnist", "MNIST"), *_claims("fashion-mnist", "Fashion-MNIST"), *_claims("cifar10", "CIFAR-10"))

QUICK = {  # each code path once: the forward-only mode, B-BP with NEM noise, and the blind control
    "datasets": ("mnist-subset",),
    "methods": ("bp", "bbp-nem", "bbp-blind"),
    "seeds": 1,
    "epochs": 2,
    "batch_size": 32,
    "train_size": 600,
    "test_size": 300,
    "channels": (8, 16),
    "hidden": (32,),
}

experiment(
    "bbp-conv",
    "Conv B-BP and NEM noise: does bidirectional training raise a CNN's accuracy? BP vs B-BP (+NEM, +blind) over seeds",
    Config,
    run,
    quick=QUICK,
    claims=CLAIMS,
    hours=4.6,  # its published run: three sittings on one thread, beside another run
    paper={
        "train_size": (0, "ours: the whole training split (the paper names no CNN and no budget)"),
        "test_size": (0, "ours: the whole test split"),
        "epochs": (10, "ours: the full budget"),
        "backward_weight": (1.0, "eq 69: the plain sum of both directions' errors"),
    },
    table=table,
    figures={"accuracy": "Kosko sec IV (accuracy claim)", "backward_recall_cifar10": "Kosko Fig 4 (CNN)"},
)
