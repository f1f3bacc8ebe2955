"""bbp-cifar: Fig 4 of Kosko (2021), a deep classifier run in reverse.

3072 identity inputs, seven hidden layers of 512 ReLU, 10 softmax outputs. Trained
unidirectionally (cross-entropy only) and bidirectionally (cross-entropy forward plus
squared error backward, eq 69), each with the shared trainer (metrics, checkpoints,
resume). Then the backward sweep of each class's unit vector, N^T(e_k), is compared
with the class centroids of the training images: the claim "noise vs centroid" is
measured as distances, the nearest centroid, and the relative error to its own centroid.
``--set dataset=mnist|fashion-mnist`` runs the same network shape on 784 inputs.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from ..bbp import BidirectionalMLP
from ..bbp.centroids import centroid_measure, class_centroids
from ..bbp.noise import NoiseSchedule
from ..data.datasets import train_test
from ..plotting import figure, image_grid
from ..train import make_optimizer
from ..validation import check_choice
from .claims import KOSKO_ACCURACY, KOSKO_FIG4, Claim
from .registry import RunSpec, experiment
from .settings import NonNegative, NonNegativeInt, Positive, PositiveInt, Sizes, settings

Training = Literal["unidirectional", "bidirectional", "bidirectional-nem", "bidirectional-blind"]


@settings
class Config:
    """Settings of the bbp-cifar experiment: Fig 4's network; the training choices are ours (the paper gives none)."""

    dataset: Literal["cifar10", "mnist", "fashion-mnist", "mnist-subset"] = (
        "cifar10"  # cifar10 | mnist | fashion-mnist | mnist-subset
    )
    hidden: Sizes = (512,) * 7
    epochs: PositiveInt = 30
    batch_size: PositiveInt = 128
    optimizer: Literal["sgd", "adam", "adamw"] = "adam"
    lr: Positive = 1e-4
    backward_weight: NonNegative = 1.0  # weight of E_b in eq 69 (1 = the paper)
    engine: Literal["autograd", "explicit"] = "autograd"  # or 'explicit'
    trainings: tuple[Training, ...] = ("unidirectional", "bidirectional")  # add bidirectional-nem, -blind for NEM
    noise_scale: NonNegative = 0.1  # the NEM / blind target noise's std in epoch 1 ...
    noise_decay: NonNegative = 1.0  # ... annealed as scale / epoch^decay
    train_size: NonNegativeInt = 0  # 0 = the whole split
    test_size: NonNegativeInt = 0


def run(cfg: Config, ctx) -> dict:
    """Fig 4: train the deep classifier both ways and compare N^T(e_k) with the class centroids."""
    check_choice(cfg.dataset, "dataset", ("cifar10", "mnist", "fashion-mnist", "mnist-subset"))
    train, test = train_test(
        cfg.dataset, ctx.data_dir, cfg.train_size, cfg.test_size, seed=ctx.seed, progress=ctx.show_progress
    )
    shape, K = tuple(train.images.shape[1:]), len(train.classes)
    x, xt = train.features().to(ctx.device), test.features().to(ctx.device)
    y, yt = train.labels.to(ctx.device), test.labels.to(ctx.device)
    ctx.log(
        f"{cfg.dataset}: {len(train)} train / {len(test)} test, {x.shape[1]} inputs -> {list(cfg.hidden)} "
        f"ReLU -> {K} softmax"
    )
    centroids = class_centroids(x, y, K, f"train_size={cfg.train_size}")
    data = ((x, F.one_hot(y, K).float()), (xt, yt))
    results, recalls = {}, {}
    for name in dict.fromkeys(("unidirectional", "bidirectional", *cfg.trainings)):  # Fig 4 needs the first two
        model, history = _train(cfg, ctx, name, data)
        results[name], recalls[name] = _fig4(model, history, centroids, name, ctx)
    draw_fig4(ctx, centroids.cpu(), recalls, shape, train.classes, cfg.dataset)
    return {"paper": PAPER, "dataset": cfg.dataset, "classes": list(train.classes), **results}


def _train(cfg: Config, ctx, name: str, data) -> tuple[BidirectionalMLP, list[dict]]:
    """One training of Fig 4 (its mode, and its noise if any), from the run's initial weights: (network, history)."""
    (x, t), (xt, yt) = data
    K = t.shape[1]
    mode, kind = TRAININGS[name]
    noise = NoiseSchedule(kind, cfg.noise_scale, cfg.noise_decay, ctx.generator("noise", name))
    model = BidirectionalMLP(  # the same initial weights for every training
        (x.shape[1], *cfg.hidden, K),
        hidden="relu",
        output="softmax",
        input="identity",
        seed=ctx.stream_seed("weights"),
        device=ctx.device,
    )
    opt = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)

    def loss_fn(m, xb, tb):
        return m.loss(xb, tb, mode, cfg.engine, cfg.backward_weight, noise=noise.noise)

    def evaluate(m, epoch):
        return {
            "test_accuracy": float((m(xt).argmax(1) == yt).float().mean()),
            **{f"test_{k}": v for k, v in m.errors(xt, F.one_hot(yt, K).float()).items()},
        }

    trainer = ctx.trainer(
        model,
        loss_fn,
        opt,
        name,
        name,
        batch_size=cfg.batch_size,
        before_epoch=noise.before_epoch,
        generators={"noise": noise.generator},
    )
    return model, trainer.fit((x, t), cfg.epochs, evaluate=evaluate)


def _fig4(model: BidirectionalMLP, history: list[dict], centroids, name: str, ctx) -> tuple[dict, torch.Tensor]:
    """A training's accuracy and Fig 4's measure (N^T(e_k) against the class centroids); (its results, N^T(e_k))."""
    measure = centroid_measure(model, centroids)
    result = {
        "test_accuracy": history[-1]["test_accuracy"],
        "best_test_accuracy": max(row["test_accuracy"] for row in history),
        "test_forward_error": history[-1]["test_forward_error"],
        "test_backward_error": history[-1]["test_backward_error"],
        **{k: measure[k] for k in ("own_centroid_nearest", "relative_error_to_own_centroid")},
        "distance_to_centroids": measure["distance_to_centroids"],
        "history": history,
    }
    ctx.log(
        f"{name}: test accuracy {result['test_accuracy']:.2%}; N^T(e_k) nearest to its own class centroid for "
        f"{result['own_centroid_nearest']}/{len(centroids)} classes; median ||N^T(e_k) - c_k|| / ||c_k|| = "
        f"{measure['median_relative_error']:.3f}"
    )
    return result, measure["recall"]


def draw_fig4(ctx, centroids, recalls, shape, classes, dataset) -> None:
    """Fig 4: the class centroids beside N^T(e_k) after unidirectional and bidirectional training."""
    rows = [
        ("(a) class centroids", centroids),
        ("(b) N^T(e_k), unidirectional BP", recalls["unidirectional"]),
        ("(c) N^T(e_k), bidirectional BP", recalls["bidirectional"]),
    ]
    fig, ax = figure(size=(1.1 * len(classes) + 2.5, 4.2))
    image_grid(
        ax,
        [[m.clamp(0, 1) for m in mats] for _, mats in rows],
        shape=shape,
        row_labels=[title for title, _ in rows],
        col_labels=classes,
    )
    ax.set_title(f"{dataset}: backward-pass recall of the class vectors (clipped to [0, 1])", fontsize=9, pad=14)
    ctx.save_figure(fig, "backward_recall")

    fig, axes = figure(1, 2, size=(10, 4))
    K = len(classes)
    for ax, name in zip(axes, ("unidirectional", "bidirectional"), strict=True):
        d = torch.cdist(recalls[name], centroids)
        im = ax.imshow(d.numpy(), cmap="viridis")
        ax.set_title(f"{name} training: a dark diagonal = N^T(e_k) at its own centroid", fontsize=9)
        ax.set_xticks(range(K), classes, rotation=90 if max(map(len, classes)) > 2 else 0, fontsize=7)
        ax.set_yticks(range(K), classes, fontsize=7)
        ax.set_xlabel("class centroid j")
        ax.set_ylabel("backward pass of class k, N^T(e_k)")
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.8, label="distance ||N^T(e_k) - centroid_j||")
    fig.tight_layout()
    ctx.save_figure(fig, "centroid_distances")


# training -> (mode, target noise): NEM / blind noise on both directions' targets (bidir.bbp.noise)
TRAININGS = {
    "unidirectional": ("forward", None),
    "bidirectional": ("bidirectional", None),
    "bidirectional-nem": ("bidirectional", "nem"),
    "bidirectional-blind": ("bidirectional", "blind"),
}

# Fig 4 gives pictures, no numbers: the paper's claims, kept beside ours in results.json
PAPER = {
    "unidirectional": "N^T(e_k) only noise-like",
    "bidirectional": "N^T(e_k) closely matched the class centroids",
    "accuracy": "the bidirectionally trained network also had higher classification accuracy",
}

NEM_TRAININGS = ("unidirectional", "bidirectional", "bidirectional-nem", "bidirectional-blind")

CIFAR = {"dataset": "cifar10"}


def _median(values: list[float]) -> float:
    return float(torch.tensor(values).median())


def _gain(
    name: str, source: str, quote: str, statement: str, training: str, baseline: str, words: str, variant: str = ""
):
    """A paired accuracy claim: ``training``'s test accuracy minus ``baseline``'s, from the same initial weights."""
    return Claim(
        id=name,
        paper="kosko",
        source=source,
        quote=quote,
        statement=statement,
        paper_value=0.0,
        measure=lambda m: m[training]["test_accuracy"] - m[baseline]["test_accuracy"],
        compare="at_least",
        metric=f"test accuracy, {words} (same initial weights)",
        trained=True,
        paired=True,
        when=CIFAR,
        variant=variant,
        ignores=("trainings",),
    )


CLAIMS = (
    Claim(
        id="kosko-fig4-bidirectional",
        quote=KOSKO_FIG4,
        paper="kosko",
        source="Fig 4c",
        statement=PAPER["bidirectional"],
        paper_value=10,
        measure="bidirectional.own_centroid_nearest",
        compare="equal",
        metric="classes whose N^T(e_k) is nearest its own class centroid, after B-BP",
        trained=True,
        when=CIFAR,
        ignores=("trainings",),
    ),
    Claim(
        id="kosko-fig4-unidirectional",
        quote="The network produced only noise-like backward-pass feedback signals NT(ek).",
        paper="kosko",
        source="Fig 4b",
        statement=PAPER["unidirectional"],
        paper_value="noise-like",
        measure=lambda m: _median(m["unidirectional"]["relative_error_to_own_centroid"]),
        compare="holds",
        metric="median ||N^T(e_k) - c_k|| / ||c_k|| after ordinary BP (noise-like: above 0.5)",
        check=lambda v: v > 0.5,
        trained=True,
        when=CIFAR,
        ignores=("trainings",),
    ),
    _gain(
        "kosko-fig4-accuracy",
        "sec IV, Fig 4",
        KOSKO_ACCURACY,
        PAPER["accuracy"],
        "bidirectional",
        "unidirectional",
        "bidirectional minus unidirectional",
    ),
    _gain(
        "kosko-fig4-nem",
        "sec IV",
        "The accuracy increased further by carefully injecting EM-based (not blind) noise during its training [3].",
        "carefully injected EM-based (NEM, not blind) noise raises B-BP's accuracy further",
        "bidirectional-nem",
        "bidirectional",
        "B-BP + NEM minus B-BP",
        variant="nem",
    ),
    _gain(
        "kosko-fig4-nem-not-blind",
        "sec IV",
        "The accuracy increased further by carefully injecting EM-based (not blind) noise during its training [3].",
        "the EM-based (NEM) noise is what helps: it raises B-BP's accuracy more than blind noise of the same schedule",
        "bidirectional-nem",
        "bidirectional-blind",
        "B-BP + NEM minus B-BP + blind",
        variant="nem",
    ),
)


def table(metrics: dict) -> dict:
    """Each training's final test accuracy and Fig 4's measure (the report's side-by-side table of the runs)."""
    cells = {}
    for training in TRAININGS:
        if training in metrics:
            m = metrics[training]
            cells[f"{training}: test accuracy"] = f"{100 * m['test_accuracy']:.2f}%"
            cells[f"{training}: own centroid nearest"] = m["own_centroid_nearest"]
    return {metrics["dataset"]: cells}


experiment(
    "bbp-cifar",
    "Fig 4: deep ReLU classifier run backward; N^T(e_k) vs class centroids, unidirectional vs bidirectional",
    Config,
    run,
    quick={"dataset": "mnist-subset", "epochs": 2, "lr": 1e-3, "train_size": 3000, "test_size": 500},
    claims=CLAIMS,
    hours=0.5,
    paper={
        "dataset": ("cifar10", "Fig 4: CIFAR-10"),
        "hidden": ((512,) * 7, "Fig 4: seven hidden layers of 512 ReLU units"),
        "backward_weight": (1.0, "eq 69: the plain sum of both directions' errors"),
        "train_size": (0, "Fig 4: the CIFAR-10 training set"),
        "test_size": (0, "Fig 4: the CIFAR-10 test set"),
    },
    seeded=True,
    runs={  # the NEM run trains all four, so it alone measures every claim
        "": RunSpec(tier="extended"),
        "nem": RunSpec({"trainings": NEM_TRAININGS}, hours=1.7),  # seed 0's one invocation beside other runs
    },
    table=table,
    figures={"backward_recall": "Kosko Fig 4", "centroid_distances": "Kosko Fig 4 (in numbers)"},
)
