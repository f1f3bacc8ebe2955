"""bsp-mnist: symmetric-ODE networks trained by BSP, Figs 6-7 of Jiang & Fu (2025).

The paper's three settings, a backprop baseline on the same topology, and beyond the paper:

    method1             method 1 (K3 <- K3 exp(-G2)), one-to-one {784,839,283,96,32,10}    paper ~50% (MNIST and Fashion)
    method2-one-to-one  method 2 (C <- C + G2), one-to-one {784,1048,353,119,40,10}        paper ~70%
    method2-multi       method 2, multi-connection {784,300,300,10}                         paper 82%
    bp                  backprop through the solver (autograd), 784-300-300-10, same loss and lr
    softmax             method 2 on 784-300-300-10 with a cross-entropy error injection (ours)

Each setting trains with the shared trainer (run folder per setting: metrics.csv, checkpoint,
resume) and records test accuracy and the cosine between BSP's G1 and the true gradient per
layer after every epoch. Linear classifiers fitted on the same pixels (least squares, and
softmax regression) give the ceiling a network that acts linearly cannot pass.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..bsp.learning import BSPLearner, BSPRule, backprop_loss, gradient_agreement
from ..bsp.network import BSPNetwork
from ..data.datasets import train_test
from ..errors import InvalidInputError
from ..plotting import figure
from ..runner import experiment
from ..train import Trainer

SETTINGS = {
    "method1": dict(sizes=(784, 839, 283, 96, 32, 10), connection="one-to-one", method="fixed-points", coupling_gain="fixed-point", paper=0.50),
    "method2-one-to-one": dict(sizes=(784, 1048, 353, 119, 40, 10), connection="one-to-one", method="connections", paper=0.70),
    "method2-multi": dict(sizes=(784, 300, 300, 10), connection="dense", method="connections", paper=0.82),
    "bp": dict(sizes=(784, 300, 300, 10), connection="dense", method="backprop", paper=None),
    "softmax": dict(sizes=(784, 300, 300, 10), connection="dense", method="connections", error="softmax", paper=None),
}
PAPER = {"method1": "~50% MNIST, ~50% Fashion-MNIST (Fig 6)", "method2-one-to-one": "~70% MNIST (Fig 7, red)",
         "method2-multi": "82% MNIST (Fig 7, yellow)", "method2 on the method-1 network": "~50% (Fig 7, blue)"}


@dataclass
class Config:
    dataset: str = "mnist"
    settings: str = "method1,method2-one-to-one,method2-multi,bp,softmax"
    train_size: int = 60000
    test_size: int = 10000
    epochs: int = 3
    batch_size: int = 100
    width: float = 1.0  # multiplies every hidden layer size (quick runs shrink the networks)
    horizon: float = 20.0
    dt: float = 0.2
    lr_connections: float = 3.0
    lr_fixed_points: float = 1000.0
    lr_softmax: float = 3.0
    kt: float = 1.0
    input_connection: str = "dense"  # pixels -> first layer in the one-to-one settings too
    cosine_batch: int = 20
    init_scale: float = 1.0  # C ~ U(-s, s) / sqrt(fan_in)


def _sizes(sizes, width):
    return (sizes[0],) + tuple(max(2, round(s * width)) for s in sizes[1:-1]) + (sizes[-1],)


def _linear_baselines(x, y, xt, yt, ctx) -> dict:
    """Least squares on one-hot targets, and softmax regression (Adam, 20 epochs): the linear ceilings."""
    X = torch.cat([x, torch.ones(len(x), 1)], 1).double()
    W = torch.linalg.lstsq(X.T @ X + 1e-3 * torch.eye(X.shape[1], dtype=X.dtype), X.T @ F.one_hot(y, 10).double()).solution
    lsq = float(((torch.cat([xt, torch.ones(len(xt), 1)], 1).double() @ W).argmax(1) == yt).float().mean())
    lin = torch.nn.Linear(x.shape[1], 10)
    opt = torch.optim.Adam(lin.parameters(), lr=1e-3)
    gen = ctx.generator(7)
    for _ in range(20):
        for idx in torch.randperm(len(x), generator=gen).split(100):
            opt.zero_grad()
            F.cross_entropy(lin(x[idx]), y[idx]).backward()
            opt.step()
    with torch.no_grad():
        soft = float((lin(xt).argmax(1) == yt).float().mean())
    return {"least_squares": lsq, "softmax_regression": soft}


@experiment("bsp-mnist", "BSP on MNIST / Fashion-MNIST: method 1, method 2 one-to-one and multi-connection (Figs 6-7), backprop baseline, gradient cosines", Config,
            quick={"dataset": "mnist-subset", "train_size": 1000, "test_size": 500, "epochs": 2, "width": 0.1, "dt": 0.5, "cosine_batch": 10})
def run(cfg: Config, ctx) -> dict:
    names = [s.strip() for s in cfg.settings.split(",") if s.strip()]
    unknown = [n for n in names if n not in SETTINGS]
    if unknown or not names:
        raise InvalidInputError(f"settings must be a comma-separated subset of {list(SETTINGS)}, got {cfg.settings!r}")
    train, test = train_test(cfg.dataset, ctx.data_dir, cfg.train_size, cfg.test_size, ctx.seed, ctx.show_progress)
    x, y, xt, yt = train.features(), train.labels, test.features(), test.labels
    linear = _linear_baselines(x, y, xt, yt, ctx)
    ctx.log(f"{cfg.dataset}: {len(x)} train / {len(xt)} test; linear classifiers: least squares {linear['least_squares']:.2%}, "
            f"softmax regression {linear['softmax_regression']:.2%}")
    probe = (x[: cfg.cosine_batch], y[: cfg.cosine_batch])
    results, curves = {}, {}
    for name in names:
        s = SETTINGS[name]
        net = BSPNetwork(_sizes(s["sizes"], cfg.width), connection=s["connection"], input_connection=cfg.input_connection,
                         coupling_gain=s.get("coupling_gain", "none"), horizon=cfg.horizon, dt=cfg.dt, init_scale=cfg.init_scale, seed=ctx.seed)
        if s["method"] == "backprop":
            rule = BSPRule(method="connections", lr=cfg.lr_connections, kt=cfg.kt)
            model = net
            loss_fn = lambda m, a, b, rule=rule: (backprop_loss(m, a, b, rule), {})  # noqa: E731
            optimizer = torch.optim.SGD(net.weights.parameters(), lr=rule.lr)
        else:
            lr = {"fixed-points": cfg.lr_fixed_points, "connections": cfg.lr_softmax if s.get("error") == "softmax" else cfg.lr_connections}[s["method"]]
            rule = BSPRule(method=s["method"], lr=lr, kt=cfg.kt, error=s.get("error", "mse"))
            model = BSPLearner(net, rule)
            loss_fn = lambda m, a, b: m.loss(a, b)  # noqa: E731
            optimizer = torch.optim.SGD(model.trainable(), lr=1.0)

        def evaluate(m, epoch, net=net, rule=rule):
            row = {"test_accuracy": float((net.predict(xt) == yt).float().mean())}
            with torch.enable_grad():
                row.update(gradient_agreement(net, *probe, rule))
            return row

        trainer = Trainer(model, loss_fn, optimizer, out=ctx.out / name if ctx.main else None, seed=ctx.seed,
                          batch_size=cfg.batch_size, progress=ctx.show_progress, log=ctx.log, name=name)
        start = evaluate(model, 0)
        history = trainer.fit((x, y), cfg.epochs, evaluate=evaluate)
        acc = [start["test_accuracy"]] + [h["test_accuracy"] for h in history]
        cos = {k: [h[k] for h in history] for k in history[-1] if k.startswith("cos_")}
        curves[name] = acc
        results[name] = {"sizes": list(net.sizes), "connection": s["connection"], "rule": "backprop (autograd)" if s["method"] == "backprop" else s["method"],
                         "error": rule.error, "lr": rule.lr, "test_accuracy": acc[-1], "best_test_accuracy": max(acc),
                         "test_accuracy_by_epoch": acc, "gradient_cosine_by_epoch": cos,
                         "train_accuracy_last_epoch": history[-1].get("accuracy"), "paper_accuracy": s["paper"]}
        paper = "" if s["paper"] is None else f"; paper {s['paper']:.0%}"
        ctx.log(f"{name}: test accuracy {acc[-1]:.2%} (best {max(acc):.2%}{paper}); "
                "cos(G1, true gradient) last epoch " + ", ".join(f"{v[-1]:.4f}" for v in cos.values()))
    _plot(ctx, cfg, curves, results, linear)
    return {"dataset": cfg.dataset, "train_size": len(x), "test_size": len(xt), "linear_classifiers": linear,
            "settings": results, "paper": PAPER}


def _plot(ctx, cfg, curves, results, linear) -> None:
    fig, axes = figure(1, 2, size=(12, 4))
    for i, (name, acc) in enumerate(curves.items()):
        axes[0].plot(range(len(acc)), acc, "o-", color=f"C{i}", label=name)
        if results[name]["paper_accuracy"] is not None:
            axes[0].axhline(results[name]["paper_accuracy"], color=f"C{i}", ls=":", lw=1)
    for label, value, ls in (("least squares", linear["least_squares"], "--"), ("softmax regression", linear["softmax_regression"], "-.")):
        axes[0].axhline(value, color="k", ls=ls, lw=0.8, label=f"linear: {label}")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel(f"{cfg.dataset} test accuracy")
    axes[0].set_title("accuracy per epoch (dotted: the paper's)", fontsize=9)
    axes[0].legend(fontsize=7)
    for i, (name, r) in enumerate(results.items()):
        for j, (layer, values) in enumerate(r["gradient_cosine_by_epoch"].items()):
            axes[1].plot(range(1, len(values) + 1), values, marker="os^dv"[j % 5], color=f"C{i}", label=f"{name} {layer[4:]}")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("cos(BSP G1, -dLoss/dparameter)")
    axes[1].set_title("BSP update vs the true gradient, per layer", fontsize=9)
    axes[1].legend(fontsize=6, ncol=2)
    ctx.save_figure(fig, "accuracy_curves")
