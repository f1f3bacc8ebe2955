"""style-mnist, style-emnist, style-fashion: the style-memory network of Wiyatno & Orchard (2018).

For each decoder (the paper's own weights, "untied", and the encoder's transposed, "tied")
a network is trained on eq (3) and measured: test accuracy and reconstruction error
(sec IV), reconstructions from (predicted y, m) (Figs 3-4), misclassified digits decoded
from the prediction and from the true one-hot label (Figs 5-6), the 97 nearest neighbours
of a query in image space and in style space with mean distances and class counts
(Figs 7-8), style interpolation within a class, eq (4), lambda = 0.1..1.0 (Figs 9-11),
style transfer to other classes, and the paper's "if the reconstruction does not closely match
the input, then it is likely that the input was misclassified" (sec IV.B) as a detector: its AUROC
beside max-softmax. Adversarial inputs are ``style-detection`` (:mod:`.style_detection`).
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from matplotlib.ticker import MaxNLocator
from pydantic import Field
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve

from ..data.datasets import dataset_identity, train_test
from ..plotting import figure, image_grid
from ..style import (
    LAMBDAS,
    StyleMemoryNet,
    auroc,
    detection_scores,
    encode_dataset,
    interpolate,
    interpolation_smoothness,
    nearest_neighbours,
    transfer,
    transfer_classes,
)
from ..style.training import resolve_schedule, train_style_memory
from ..validation import check_fits
from .claims import Claim
from .registry import RunSpec, experiment
from .settings import NonNegative, NonNegativeInt, PositiveInt, settings

DECODERS = ("untied", "tied")

StyleDataset = Literal["mnist", "emnist-letters", "fashion-mnist", "mnist-subset"]


@settings
class Config:
    """Settings of the style-memory experiments; the defaults are the paper's network with our fast schedule."""

    dataset: StyleDataset = "mnist"
    schedule: Literal["fast", "paper"] = "fast"  # fast (ours) | paper (Adam 1e-5, 250 epochs)
    epochs: NonNegativeInt = 0  # 0: the schedule's
    lr: NonNegative = 0.0  # 0: the schedule's
    batch_size: NonNegativeInt = 0  # 0: the schedule's
    alpha: NonNegative = 0.05  # weight of the reconstruction loss, eq (3)
    noise_std: NonNegative = 0.1  # additive Gaussian input noise in training (std, pixels in [0, 1])
    style_dim: PositiveInt = 16
    decoders: Annotated[tuple[Literal["untied", "tied"], ...], Field(min_length=1)] = DECODERS
    train_size: NonNegativeInt = 0  # 0: the whole split
    test_size: NonNegativeInt = 0
    neighbours: PositiveInt = 97


@settings
class EmnistConfig(Config):
    """style-emnist: EMNIST letters (26 classes), where the official files are present."""

    dataset: StyleDataset = "emnist-letters"


@settings
class FashionConfig(Config):
    """style-fashion: Fashion-MNIST."""

    dataset: StyleDataset = "fashion-mnist"


def run_mnist(cfg: Config, ctx) -> dict:
    """style-mnist: the style memory on MNIST (Figs 3-8)."""
    return run(cfg, ctx)


def run_emnist(cfg: Config, ctx) -> dict:
    """style-emnist: the style memory on EMNIST letters."""
    return _skipped(cfg, "EMNIST letters", ctx) or run(cfg, ctx)


def run_fashion(cfg: Config, ctx) -> dict:
    """style-fashion: the style memory on Fashion-MNIST."""
    return _skipped(cfg, "Fashion-MNIST", ctx) or run(cfg, ctx)


def _neighbour_pairs(metrics: dict, key: str) -> list:
    """[[image-space neighbours, style-space neighbours] per query] of one quantity (Figs 7-8)."""
    return [[nb["image"][key], nb["style"][key]] for nb in metrics["analysis"]["neighbours"]]


def _skipped(cfg: Config, name: str, ctx) -> dict | None:
    """A quick run on data that is not here is skipped, with a line saying why (a stand-in would only repeat
    style-mnist --quick on the same shipped images); a full run fetches its data."""
    if not ctx.quick or dataset_identity(cfg.dataset, ctx.data_dir)["files"] is not None:
        return None
    why = (
        f"skipped: {name} is not on this machine (only MNIST ships with bidir), and style-mnist --quick already runs "
        f"this pipeline on the shipped images; `bidir fetch {cfg.dataset}` or --data-dir runs it for real"
    )
    ctx.log(why)
    return {"skipped": why, "dataset": cfg.dataset}


def load(cfg: Config, ctx) -> tuple:
    """The run's split on its device, ((x, y), (xt, yt), classes), with the schedule logged."""
    lr, epochs, batch_size, _ = resolve_schedule(cfg.schedule, cfg.epochs, cfg.lr, cfg.batch_size)
    train, test = train_test(
        cfg.dataset, ctx.data_dir, cfg.train_size, cfg.test_size, seed=ctx.seed, progress=ctx.show_progress
    )
    x, y = train.features(flatten=False).to(ctx.device), train.labels.to(ctx.device)
    xt, yt = test.features(flatten=False).to(ctx.device), test.labels.to(ctx.device)
    check_fits(cfg.neighbours, "neighbours", len(test) - 1, "other test images")  # checked before any training
    ctx.log(
        f"{cfg.dataset}: {len(train)} train / {len(test)} test, {len(train.classes)} classes + {cfg.style_dim} style "
        f"neurons; schedule {cfg.schedule}: Adam lr {lr:g}, {epochs} epochs, batch {batch_size}"
    )
    return (x, y), (xt, yt), train.classes


def run(cfg: Config, ctx) -> dict:
    """Train the style-memory network(s) on eq (3), then measure classification, reconstruction and style."""
    (x, y), (xt, yt), classes = load(cfg, ctx)
    results, models, codes, scores = {}, {}, {}, {}
    for decoder in cfg.decoders:
        models[decoder], history = train(cfg, ctx, decoder, (x, y), (xt, yt), len(classes))
        codes[decoder] = encode_dataset(models[decoder], xt, all_classes=True)
        results[decoder], scores[decoder] = measure(codes[decoder], xt, yt)
        results[decoder]["parameters"] = sum(p.numel() for p in models[decoder].parameters())
        results[decoder]["history"] = history  # no timings: the Trainer's log has them (summary.txt)
        log_measures(ctx, decoder, results[decoder])
    main = cfg.decoders[0]
    analysis = _analyse(models[main], codes[main], xt, yt, classes, cfg, ctx)
    draw_curves(ctx, results, None if ctx.quick else PAPER.get(cfg.dataset, {}).get("test_accuracy"))
    draw_detection(ctx, results, scores, codes, yt)
    draw_figs3_4(ctx, models, codes, xt, yt, classes)
    return {
        "paper": PAPER.get(cfg.dataset, {}),
        "dataset": cfg.dataset,
        "classes": list(classes),
        "figures_from": main,
        **results,
        "analysis": analysis,
    }


def train(cfg: Config, ctx, decoder: str, train: tuple, test: tuple, classes: int) -> tuple[StyleMemoryNet, list]:
    """One network (its decoder tied or untied) trained on eq (3) from the run's seed: (the network, its history)."""
    x, y = train
    torch.manual_seed(ctx.seed)
    model = StyleMemoryNet(classes, cfg.style_dim, tuple(x.shape[1:]), tied=decoder == "tied").to(ctx.device)
    history = train_style_memory(
        model,
        (x, y),
        test,
        schedule=cfg.schedule,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        alpha=cfg.alpha,
        noise_std=cfg.noise_std,
        out=ctx.out / decoder,
        seed=ctx.seed,
        progress=ctx.show_progress,
        log=ctx.log,
        name=decoder,
    )
    model.eval()
    return model, history


def log_measures(ctx, decoder: str, r: dict) -> None:
    """A network's accuracy, reconstruction and detection AUROCs (attacks too, where measured), for summary.txt."""
    ctx.log(
        f"{decoder}: test accuracy {r['test_accuracy']:.2%}, recon error {r['recon_error']:.2f} per image "
        f"(correct {r['recon_error_correct']:.2f}, misclassified {_show(r['recon_error_misclassified'], '.2f')}; "
        "the true label's one-hot decodes closer than the predicted one for "
        f"{_show(r['misclassified_true_label_fits_better'], '.0%')} of the "
        f"{r['misclassified']} mistakes); "
        + ", ".join(
            f"{k} fools {v['success_rate']:.0%}" for k, v in r.get("attacks", {}).items() if isinstance(v, dict)
        )
    )
    for what, aucs in r["detection"].items():
        ctx.log(f"  AUROC {what:<16} " + ", ".join(f"{k} {_show(v, '.3f')}" for k, v in aucs.items()))


# -- measurements ------------------------------------------------------------------------
def measure(codes, xt, yt) -> tuple[dict, dict]:
    """Accuracy, reconstruction error, and detection of mistakes by each score (sec IV.B); the per-sample scores."""
    correct = codes.predicted == yt
    scores = detection_scores(codes)
    return {
        "test_accuracy": float(correct.float().mean()),
        "recon_error": float(codes.recon_error.mean()),  # ||x_hat - x||^2 per image, eq (2)
        "recon_mse_per_pixel": float(codes.recon_error.mean() / xt[0].numel()),
        "recon_error_correct": float(codes.recon_error[correct].mean()),
        "recon_error_misclassified": mean_or_none(codes.recon_error[~correct]),
        "misclassified": int((~correct).sum()),
        # Figs 5-6 in numbers: for misclassified inputs, does the true label's one-hot decode closer to the input?
        "misclassified_true_label_fits_better": _true_fits_better(codes, yt, ~correct),
        "detection": {"misclassified": {k: auroc(s[~correct], s[correct]) for k, s in scores.items()}},
    }, scores


def mean_or_none(values: torch.Tensor) -> float | None:
    """The mean, or None (undefined: "no mistakes", say) for no values."""
    return float(values.mean()) if values.numel() else None


def _show(value, spec: str) -> str:
    """A measured value for a log line; "undefined" for None."""
    return "undefined" if value is None else format(value, spec)


def _true_fits_better(codes, yt, wrong) -> float | None:
    if not wrong.any():
        return None
    e = codes.class_errors[wrong]
    return float((e.gather(1, yt[wrong, None]) < e.gather(1, codes.predicted[wrong, None])).float().mean())


def _analyse(model, codes, xt, yt, classes, cfg, ctx) -> dict:
    """Figs 5-11 for one network: neighbours (Figs 7-8), the style memory's class content, interpolation and
    transfer (Figs 9-11), and the misclassified inputs (Figs 5-6)."""
    correct = codes.predicted == yt
    neighbours = _fig7_neighbours(codes, xt, yt, classes, cfg, ctx)
    probe = _class_probe(codes.style, yt, ctx.seed)
    ctx.log(
        "class information in the style memory: a linear probe on m reads the class of "
        f"{_show(probe['accuracy'], '.1%')} of held-out test images (majority class {_show(probe['chance'], '.1%')})"
    )
    pairs, smoothness, transferred = _figs9_11_styles(model, codes, xt, yt, correct, classes, ctx)
    wrong = torch.nonzero(~correct).flatten()[:10]
    if len(wrong):  # Figs 5-6
        with torch.no_grad():
            from_true = model.reconstruct(xt[wrong], yt[wrong])
        shown = (codes.recon[wrong], from_true, codes.predicted[wrong], codes.confidence[wrong], yt[wrong])
        draw_figs5_6(ctx, xt[wrong], *shown, classes)
    return {
        "neighbours": neighbours,
        "style_class_probe": probe,
        "interpolation_pairs": pairs,
        "lambdas": list(LAMBDAS),
        "interpolation": smoothness,
        "transfer": transferred,
        "misclassified_shown": wrong.tolist(),
    }


def _fig7_neighbours(codes, xt, yt, classes, cfg, ctx) -> list[dict]:
    """Figs 7-8: the nearest neighbours of a query in image space and in style space, for queries of the paper's
    classes where the dataset has them (else its first two classes), each a correctly classified test image."""
    correct = codes.predicted == yt
    wanted = PAPER_QUERIES.get(cfg.dataset, (5, 3) if len(classes) == 10 else (0, 1))
    queries = [int(torch.nonzero((yt == k) & correct)[0]) if ((yt == k) & correct).any() else 0 for k in wanted]
    neighbours = [nearest_neighbours(q, xt, codes.style, yt, cfg.neighbours) for q in queries]
    for nb in neighbours:
        ctx.log(
            f"neighbours of a '{classes[nb['query_label']]}' (test #{nb['query']}): image space: mean image dist "
            f"{nb['image']['mean_image_distance']:.2f}, style dist {nb['image']['mean_style_distance']:.2f}, "
            f"{nb['image']['same_class']} of its class; style space: image dist "
            f"{nb['style']['mean_image_distance']:.2f}, "
            f"style dist {nb['style']['mean_style_distance']:.2f}, {nb['style']['same_class']} of its class"
        )
    draw_figs7_8(ctx, neighbours, xt, classes)
    return neighbours


def _figs9_11_styles(model, codes, xt, yt, correct, classes, ctx) -> tuple[list, dict, dict]:
    """Figs 9-11: two styles per class (a correct sample and the correct one of its class farthest from it in
    style space), the eq (4) ramp between them and the transfer of styles to every class, in numbers and drawn."""
    pairs = []
    for c in range(min(len(classes), 10)):
        idx = torch.nonzero((yt == c) & correct).flatten()[:200]
        if len(idx) < 2:
            continue
        a = idx[0]
        b = idx[(codes.style[idx] - codes.style[a]).norm(dim=1).argmax()]
        pairs.append((c, int(a), int(b)))
    if not pairs:
        return pairs, {}, {}
    cls, a, b = (torch.tensor(v) for v in zip(*pairs, strict=True))
    ramp = interpolate(model, codes.style[a], codes.style[b], cls.to(xt.device))  # (L, P, C, H, W)
    smoothness = interpolation_smoothness(model, ramp, cls.to(xt.device))
    draw_figs9_11(ctx, ramp, xt[a], xt[b], [classes[i] for i in cls.tolist()])
    sources = torch.tensor([p[1] for p in pairs[:6]])
    grid = transfer(model, codes.style[sources])
    transferred = transfer_classes(model, grid, cls[: len(sources)].to(xt.device))
    draw_transfer(ctx, grid, xt[sources], classes)
    ctx.log(
        f"interpolation (eq 4): largest step / mean step along a ramp {smoothness['largest_step_ratio']:.2f} (1 = "
        f"even steps), decoded images classified as their class {smoothness['kept_class']:.0%}; transfer to other "
        f"classes: read as the target class {transferred['read_as_target']:.0%}, as the source's "
        f"{transferred['read_as_source']:.0%}"
    )
    return pairs, smoothness, transferred


def _class_probe(style, labels, seed: int) -> dict:
    """How class-agnostic is m? Multinomial logistic regression from m to the class, half the test set each way."""
    m, y = style.cpu().numpy(), labels.cpu().numpy()
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)).numpy()
    fit, held = order[: len(y) // 2], order[len(y) // 2 :]
    if len(set(y[fit])) < 2:
        return {"accuracy": None, "chance": None}
    probe = LogisticRegression(max_iter=2000).fit(m[fit], y[fit])
    majority = max((y[held] == k).mean() for k in set(y[held]))
    return {"accuracy": float(probe.score(m[held], y[held])), "chance": float(majority), "held_out": len(held)}


# -- figures -----------------------------------------------------------------------------
def _undefined_as_nan(value) -> float:
    """A measured value for a plot: None (undefined) becomes NaN, which matplotlib leaves out."""
    return float("nan") if value is None else value


def draw_curves(ctx, results, paper_accuracy: float | None) -> None:
    """Test accuracy and reconstruction error per epoch, per decoder (the paper's accuracy on full runs)."""
    fig, axes = figure(1, 2, size=(9, 3.4))
    for name, r in results.items():
        ep = [row["epoch"] for row in r["history"]]
        axes[0].plot(ep, [100 * row["test_accuracy"] for row in r["history"]], marker=".", label=f"{name} decoder")
        axes[1].plot(ep, [row["test_recon"] for row in r["history"]], marker=".", label=f"{name} decoder")
    if paper_accuracy is not None:
        axes[0].axhline(100 * paper_accuracy, color="k", ls=":", lw=1, label=f"the paper: {100 * paper_accuracy:.2f}%")
    axes[0].set(xlabel="epoch", ylabel="test accuracy (%)", title="classification (forward)")
    axes[1].set(xlabel="epoch", ylabel="||x_hat - x||^2 per image", title="reconstruction from (predicted y, m)")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    ctx.save_figure(fig, "curves")


def draw_detection(ctx, results, scores, codes, yt) -> None:
    """ROC curves for flagging misclassified test images, and every AUROC as bars."""
    fig, axes = figure(1, 4, size=(16, 3.6))
    panels = ("reconstruction", "class_margin", "max_softmax")
    for name in results:
        wrong = (codes[name].predicted != yt).cpu().numpy()
        if wrong.all() or not wrong.any():
            continue
        for ax, k in zip(axes, panels, strict=False):
            fpr, tpr, _ = roc_curve(wrong, scores[name][k].cpu().numpy())
            ax.plot(fpr, tpr, label=f"{name} decoder, AUROC {results[name]['detection']['misclassified'][k]:.3f}")
    for ax, score_name in zip(axes, panels, strict=False):
        ax.plot([0, 1], [0, 1], "k:", lw=0.8)
        ax.set(
            xlabel="false positive rate",
            ylabel="true positive rate",
            title=f"misclassified by {score_name.replace('_', '-')}",
        )
        ax.legend(fontsize=7)
    ax, tasks = axes[3], list(next(iter(results.values()))["detection"])
    bars = [(n, k) for n in results for k in panels]
    width = 0.8 / len(bars)
    for j, (n, k) in enumerate(bars):
        ax.bar(
            [t + (j - (len(bars) - 1) / 2) * width for t in range(len(tasks))],
            [_undefined_as_nan(results[n]["detection"][t][k]) for t in tasks],  # no bar where undefined
            width,
            label=f"{n}: {k.replace('_', '-')}",
            color=f"C{panels.index(k)}",
            alpha=1.0 if n == next(iter(results)) else 0.5,
        )
    ax.axhline(0.5, color="k", lw=0.8, ls=":")
    ax.set_xticks(range(len(tasks)), [t.replace(" eps ", "\n") for t in tasks], fontsize=7)
    ax.set(
        ylim=(0, 1.25),
        yticks=[0, 0.25, 0.5, 0.75, 1.0],
        ylabel="AUROC",
        title="detection AUROC vs correct clean inputs",
    )
    ax.legend(fontsize=6, ncol=2, loc="upper center")
    ctx.save_figure(fig, "detection")


def draw_figs3_4(ctx, models, codes, xt, yt, classes, n: int = 20) -> None:
    """Figs 3-4: test images and their reconstructions from (predicted y, m), one row per decoder."""
    first = next(iter(codes.values()))
    ok = torch.nonzero(first.predicted == yt).flatten()
    # two of each class first (different styles), as in Figs 3-4
    pick = torch.cat([ok[yt[ok] == c][:2] for c in range(len(classes))])[:n].tolist()
    rows = [[xt[i] for i in pick]] + [[c.recon[i] for i in pick] for c in codes.values()]
    fig, ax = figure(size=(0.55 * len(pick) + 1, 0.6 * len(rows) + 0.8))
    image_grid(
        ax,
        rows,
        row_labels=["input", *[f"{name} decoder" for name in codes]],
        col_labels=[classes[int(yt[i])] for i in pick],
    )
    ax.set_title("test images and their reconstruction from (predicted y, m)", fontsize=9, pad=14)
    ctx.save_figure(fig, "reconstructions")


def draw_figs5_6(ctx, x, from_pred, from_true, pred, conf, truth, classes) -> None:
    """Figs 5-6: misclassified inputs decoded from the prediction and from the true one-hot label."""
    n = len(x)
    captions = {(1, j): f"{classes[int(pred[j])]} ({conf[j]:.0%})" for j in range(n)}
    captions |= {(2, j): f"{classes[int(truth[j])]}" for j in range(n)}
    fig, ax = figure(size=(0.6 * n + 1.5, 2.8))
    image_grid(
        ax,
        [list(x), list(from_pred), list(from_true)],
        captions=captions,
        pad=8,
        row_labels=["input", "from predicted y", "from true one-hot"],
    )
    ax.set_title(
        "misclassified test images: decoded from the prediction (class, confidence) and from the true label", fontsize=9
    )
    ctx.save_figure(fig, "misclassified")


def draw_figs7_8(ctx, neighbours, xt, classes, cols: int = 14) -> None:
    """Figs 7-8: the query (top left) and its nearest neighbours in image space (left) and style space (right)."""
    for name, nb in zip(("neighbours_1", "neighbours_2"), neighbours, strict=False):  # one figure per query
        fig, axes = figure(1, 2, size=(13, 0.45 * ((len(nb["image"]["indices"]) + cols) // cols) + 1.2))
        n = len(nb["image"]["indices"])
        for s, (ax, space) in enumerate(zip(axes, ("image", "style"), strict=True)):
            idx = [nb["query"]] + nb[space]["indices"]
            rows = [[xt[i] for i in idx[r : r + cols]] for r in range(0, len(idx), cols)]
            rows[-1] += [None] * (cols - len(rows[-1]))
            image_grid(ax, rows)
            info = nb[space]
            ax.set_title(
                f"({'ab'[s]}) nearest in {space} space (query top left): "
                f"image dist {info['mean_image_distance']:.2f}, style dist {info['mean_style_distance']:.2f}, "
                f"{info['same_class']}/{n} '{classes[nb['query_label']]}'",
                fontsize=8,
            )
        fig.tight_layout()
        ctx.save_figure(fig, name)


def draw_figs9_11(ctx, ramp, x1, x2, names) -> None:
    """Figs 9-11: decode with m(lambda) = lambda m1 + (1 - lambda) m2, lambda = 0.1 .. 1.0 top to bottom."""
    L, P = ramp.shape[:2]
    rows = [list(x2)] + [list(ramp[r]) for r in range(L)] + [list(x1)]
    fig, ax = figure(size=(0.6 * P + 1.2, 0.6 * (L + 2) + 0.8))
    image_grid(ax, rows, col_labels=names, row_labels=["x2", *[f"lambda {lam:.1f}" for lam in LAMBDAS[:L]], "x1"])
    ax.set_title("style interpolation within a class, eq (4): m = lambda m1 + (1 - lambda) m2", fontsize=9, pad=14)
    ctx.save_figure(fig, "interpolation")


def draw_transfer(ctx, grid, sources, classes) -> None:
    """Each row: one image's style memory decoded with every class's one-hot vector."""
    B, K = grid.shape[:2]
    rows = [[sources[b], *grid[b]] for b in range(B)]
    fig, ax = figure(size=(0.6 * (K + 1) + 1, 0.6 * B + 0.8))
    image_grid(ax, rows, col_labels=["source", *classes])
    ax.set_title("style transfer: each source's style memory decoded with every class", fontsize=9, pad=14)
    ctx.save_figure(fig, "transfer")


# Sec IV and Figs 7-8 of the paper, kept beside ours in results.json
PAPER = {
    "mnist": {
        "test_accuracy": 0.9848,
        "neighbours": [
            {
                "query_label": 5,
                "image": {"mean_image_distance": 8.6, "mean_style_distance": 1.2, "same_class": 18},
                "style": {"mean_image_distance": 9.3, "mean_style_distance": 0.98, "same_class": 13},
            },
            {
                "query_label": 3,
                "image": {"mean_image_distance": 8.5, "mean_style_distance": 1.2, "same_class": 76},
                "style": {"mean_image_distance": 9.5, "mean_style_distance": 1.0, "same_class": 46},
            },
        ],
    },
    "emnist-letters": {
        "test_accuracy": 0.9127,
        "neighbours": [
            {
                "query_label": "s",
                "image": {"mean_image_distance": 9.1, "mean_style_distance": 1.3, "same_class": 52},
                "style": {"mean_image_distance": 10.5, "mean_style_distance": 0.91, "same_class": 6},
            },
            {
                "query_label": "p",
                "image": {"mean_image_distance": 8.5, "mean_style_distance": 1.3, "same_class": 47},
                "style": {"mean_image_distance": 9.8, "mean_style_distance": 0.99, "same_class": 17},
            },
        ],
    },
}

PAPER_QUERIES = {
    "mnist": (5, 3),
    "emnist-letters": (18, 15),
}  # class of each neighbour query (a '5', a '3'; an 's', a 'p')

PAPER_SETTINGS = {  # sec IV; the batch size and input noise are not stated (ours)
    "schedule": ("paper", "sec IV: Adam, learning rate 0.00001, 250 epochs"),
    "epochs": (0, "sec IV: 250 (the paper schedule's)"),
    "lr": (0.0, "sec IV: 0.00001 (the paper schedule's)"),
    "alpha": (0.05, "sec IV: reconstruction loss weight 0.05"),
    "style_dim": (16, "sec IV: 16 logistic style neurons"),
    "train_size": (0, "sec IV: the training set"),
    "test_size": (0, "sec IV: the test set"),
    "neighbours": (97, "Figs 7-8: the 97 nearest neighbours"),
}


def style_runs(paper_hours: float) -> dict:
    """The paper's schedule with its own decoder (``paper_hours`` per seed on one core); ours beside it."""
    return {
        "": RunSpec(tier="extended"),
        "paper": RunSpec({"schedule": "paper", "decoders": ("untied",)}, hours=paper_hours),
    }


QUICK = {
    "dataset": "mnist-subset",
    "train_size": 2000,
    "test_size": 400,
    "epochs": 2,
    "batch_size": 32,
    "decoders": ("untied",),  # the paper's; the full run compares it with the tied decoder
    "neighbours": 20,
}

# EMNIST letters and Fashion-MNIST, quick: their own data if present (one decoder), else skipped
OTHER_DATA = {key: value for key, value in QUICK.items() if key != "dataset"}


def _accuracy_claim(dataset: str, label: str) -> Claim:
    value = PAPER[dataset]["test_accuracy"]
    return Claim(
        id=f"wiyatno-{dataset}-accuracy",
        paper="wiyatno",
        source="sec IV.A",
        quote="The network achieved 98.48% and 91.27% classification accuracy on the MNIST and EMNIST test sets, "
        "respectively.",
        statement=f"{value:.2%} test accuracy on {label}",
        paper_value=value,
        measure="untied.test_accuracy",
        compare="target",
        tolerance=0.005,
        trained=True,
        when={"dataset": dataset},
    )


NEIGHBOURS = (  # (quantity, its direction from image-space to style-space neighbours, in words)
    ("mean_image_distance", "up", "the image distance grows"),
    ("mean_style_distance", "down", "the style distance shrinks"),
    ("same_class", "down", "fewer neighbours share the query's class"),
)

NEIGHBOUR_QUOTES = {  # (dataset, quantity) -> the paper's sentence
    ("mnist", "mean_image_distance"): "We also observed that the image distance between Fig. 7a and Fig. 7b increased "
    "from 8.6 to 9.3, while the style distance decreased from 1.2 to 0.98.",
    ("mnist", "same_class"): "There are 18 digits of \N{LEFT SINGLE QUOTATION MARK}5\N{RIGHT SINGLE QUOTATION MARK} "
    "in Fig. 7a, while there are only 13 digits of \N{LEFT SINGLE QUOTATION MARK}5\N{RIGHT SINGLE QUOTATION MARK} in "
    "Fig. 7b.",
    ("emnist-letters", "mean_image_distance"): "The image distance between Fig. 8a and Fig. 8b increased from 9.1 to "
    "10.5, while the style distance decreased from 1.3 to 0.91.",
    ("emnist-letters", "same_class"): "Similarly, there are 52 letters of ‘S’ in Fig. 8a, while there are only 6 "
    "letters of ‘S’ in Fig. 8b.",
}

NEIGHBOUR_QUOTES |= {(d, "mean_style_distance"): NEIGHBOUR_QUOTES[d, "mean_image_distance"] for d in PAPER_QUERIES}


def _neighbour_claims(dataset: str, figure: str) -> tuple:
    paper = PAPER[dataset]["neighbours"]
    return tuple(
        Claim(
            id=f"wiyatno-{figure.lower().replace(' ', '')}-{key.replace('_', '-')}-{dataset}",
            paper="wiyatno",
            source=figure,
            quote=NEIGHBOUR_QUOTES[dataset, key],
            statement=f"from the 97 image-space to the 97 style-space neighbours of a query, {words} (our queries are "
            "other images of the paper's classes: only the direction is compared, not the numbers)",
            paper_value=f"{words} (the paper's queries: "
            + ", ".join(f"{q['image'][key]:g} -> {q['style'][key]:g}" for q in paper)
            + ")",
            measure=lambda m, key=key: _neighbour_pairs(m, key),
            compare="holds",
            metric=f"[image-space, style-space] {key.replace('_', ' ')}, per query",
            check=(lambda v: all(b > a for a, b in v)) if way == "up" else (lambda v: all(b < a for a, b in v)),
            trained=True,
            when={"dataset": dataset},
        )
        for key, way, words in NEIGHBOURS
    )


def _style_claims(dataset: str) -> tuple:
    return (
        Claim(
            id=f"wiyatno-interpolation-{dataset}",
            paper="wiyatno",
            source="Figs 9-11, eq 4",
            quote="Figure 11 shows the interpolated digits and letters, illustrating that the generated images "
            "transform smoothly when the style memory is interpolated.",
            statement="images decoded along m(lambda) transform smoothly within a class",
            paper_value="smooth",
            measure="analysis.interpolation",
            compare="holds",
            metric="[largest step / mean step along a ramp (1 = even, 9 = one jump), share read as the class]",
            check=lambda v: v["largest_step_ratio"] <= 3 and v["kept_class"] >= 0.9,
            trained=True,
            when={"dataset": dataset},
        ),
        Claim(
            id=f"wiyatno-transfer-{dataset}",
            paper="wiyatno",
            source="sec IV.C",
            quote="However, in general, the reconstructions did not look like characters.",
            statement="a style memory decoded with another class's label in general does not look like a character",
            paper_value="not character-like in general",
            measure=lambda m: m["analysis"]["transfer"]["read_as_target"] + m["analysis"]["transfer"]["read_as_source"],
            compare="holds",
            metric="share of transfers to another class that the network reads as the target or the source class (a "
            "character either way; not character-like in general: under 50%)",
            check=lambda v: v < 0.5,
            trained=True,
            when={"dataset": dataset},
        ),
    )


def _dominant_other(neighbour: dict) -> list[int]:
    """[image-space, style-space] count of the class that dominates the image-space neighbours other than the
    query's own (the paper's '0's around its '5')."""
    image, style = neighbour["image"]["class_counts"], neighbour["style"]["class_counts"]
    other = max((k for k in range(len(image)) if k != neighbour["query_label"]), key=lambda k: image[k])
    return [image[other], style[other]]


CORRECTED = {  # Figs 5-6: the true label corrects the reconstruction
    "mnist": "However, correcting the softmax neurons to the one-hot ground truth label for ‘3’ changed the "
    "reconstruction to look more like a ‘3’, as shown in the bottom row of Fig. 5.",
    "emnist-letters": "The network was able to correct the reconstruction of the letters simply by changing the "
    "predicted class to the corrected one-hot labels.",
}


def _reading_claims(dataset: str, figure: str, label: str) -> tuple:
    """Sec IV.B-C: what the style memory and the reconstruction say about the class (Figs 5-6 in numbers)."""
    return (
        Claim(
            id=f"wiyatno-true-label-decodes-closer-{dataset}",
            paper="wiyatno",
            source=f"sec IV.B, {figure}",
            quote=CORRECTED[dataset],
            statement=f"for a misclassified {label} image, decoding its style memory with the true one-hot label "
            "reconstructs it better than the predicted label does (in general, not only the paper's example)",
            paper_value=0.5,
            measure="untied.misclassified_true_label_fits_better",
            compare="at_least",
            metric="share of the misclassified test images whose true label decodes closer to the input (more than "
            "half: at least 0.5)",
            trained=True,
            when={"dataset": dataset},
        ),
        Claim(
            id=f"wiyatno-reconstruction-flags-mistakes-{dataset}",
            paper="wiyatno",
            source="sec IV.B",
            quote="Our results suggest that if the reconstruction does not closely match the input, then it is likely "
            "that the input was misclassified.",
            statement="the reconstruction distance ||x_hat - x||^2 tells misclassified inputs from correct ones better "
            "than chance (max-softmax, the usual baseline, is in the run's detection figure)",
            paper_value=0.5,
            measure="untied.detection.misclassified.reconstruction",
            compare="at_least",
            metric="AUROC of the reconstruction distance, misclassified vs correct test images",
            trained=True,
            when={"dataset": dataset},
        ),
        Claim(
            id=f"wiyatno-class-agnostic-{dataset}",
            paper="wiyatno",
            source="sec IV.C",
            quote="These results show that style memory successfully separates some of the class information from the "
            "data, while also being class-agnostic.",
            statement="the style memory m carries (almost) no class information: a linear probe reads the class from m "
            "no better than 10 points above the majority class",
            paper_value=0.1,
            measure=lambda m: (
                m["analysis"]["style_class_probe"]["accuracy"] - m["analysis"]["style_class_probe"]["chance"]
            ),
            compare="at_most",
            metric="linear-probe accuracy of the class from m minus the majority-class rate (held-out test images)",
            trained=True,
            when={"dataset": dataset},
        ),
    )


ZEROS = Claim(
    id="wiyatno-fig7-dominant-class-mnist",
    paper="wiyatno",
    source="Fig 7a-b",
    quote="There are 54 digits of ‘0’ in Fig. 7a, while there are only 25 digits of ‘0’ in Fig. 7b.",
    statement="the class that dominates a query's image-space neighbours (other than its own) is rarer among its "
    "style-space neighbours (our queries are other images of the paper's classes: the direction is compared)",
    paper_value="fewer (the paper's '5': 54 -> 25 '0's)",
    measure=lambda m: [_dominant_other(nb) for nb in m["analysis"]["neighbours"]],
    compare="holds",
    metric="[image-space, style-space] count of the image-space neighbours' dominant other class, per query",
    check=lambda v: all(style < image for image, style in v),
    trained=True,
    when={"dataset": "mnist"},
)

MNIST_CLAIMS = (
    _accuracy_claim("mnist", "MNIST"),
    *_neighbour_claims("mnist", "Fig 7"),
    ZEROS,
    *_style_claims("mnist"),
    *_reading_claims("mnist", "Fig 5", "digit"),
)

EMNIST_CLAIMS = (
    _accuracy_claim("emnist-letters", "EMNIST letters"),
    *_neighbour_claims("emnist-letters", "Fig 8"),
    *_style_claims("emnist-letters"),
    *_reading_claims("emnist-letters", "Fig 6", "letter"),
)

experiment(
    "style-mnist",
    "Style memory on MNIST: classify forward, reconstruct backward (Figs 3, 5, 7, 9, 11)",
    Config,
    run_mnist,
    quick=QUICK,
    claims=MNIST_CLAIMS,
    hours=0.6,
    seeded=True,
    paper=PAPER_SETTINGS,
    runs=style_runs(4.4),  # MNIST seed 0 at the paper's schedule: its epochs on one core
    figures={
        "curves": "Wiyatno sec IV.A (accuracy)",
        "reconstructions": "Wiyatno Fig 3",
        "misclassified": "Wiyatno Fig 5",
        "neighbours_1": "Wiyatno Fig 7a-b",
        "neighbours_2": "Wiyatno Fig 7c-d",
        "interpolation": "Wiyatno Figs 9, 11",
    },
)

experiment(
    "style-emnist",
    "Style memory on EMNIST letters (Figs 4, 6, 8, 10, 11)",
    EmnistConfig,
    run_emnist,
    quick=OTHER_DATA,
    claims=EMNIST_CLAIMS,
    hours=0.8,
    seeded=True,
    paper=PAPER_SETTINGS,
    runs=style_runs(9.2),  # MNIST's time per image over EMNIST letters' 124,800 training images
    figures={
        "curves": "Wiyatno sec IV.A (accuracy)",
        "reconstructions": "Wiyatno Fig 4",
        "misclassified": "Wiyatno Fig 6",
        "neighbours_1": "Wiyatno Fig 8a-b",
        "neighbours_2": "Wiyatno Fig 8c-d",
        "interpolation": "Wiyatno Figs 10, 11",
    },
)

experiment(
    "style-fashion",
    "Style memory on Fashion-MNIST (our second dataset)",
    FashionConfig,
    run_fashion,
    quick=OTHER_DATA,
    hours=0.6,
    paper=PAPER_SETTINGS,
    runs={"": RunSpec(tier="extended")},  # our second dataset: no claim needs it
)
