"""note-engine: backpropagation in matrix form (the note), checked against autograd, and its appendix's slips.

The note derives backprop for one dense layer z = W x + b, y = f(z) (eqs 1-2) with the
batch as columns: x in R^{nx x ndata}, W in R^{ny x nx}. ``bidir.backprop.engine`` runs
those equations (eqs 6-9) without autograd; here its gradients meet autograd's on random
bidirectional networks of several shapes, activations and likelihoods, both directions
at once (Kosko eq 69). Then the three statements of the appendix that the calculus does
not bear out are computed on real tensors in the note's own column convention:
dJ/db = W^T dJ/dz 1/ndata (its shape is R^nx, the bias is R^ny), y = f(z) in
R^{ny x nx} (it is R^{ny x ndata}), dJ/dx in R^{ny x ndata} (it is R^{nx x ndata}).
"""

from __future__ import annotations

from typing import Literal

import torch

from ..bbp import BidirectionalMLP
from ..plotting import figure
from .claims import Claim
from .registry import experiment
from .settings import PositiveInt, settings


@settings
class Config:
    """Settings of the note-engine experiment: how many random networks, and the shapes of the slip check."""

    networks: PositiveInt = 24  # random shapes, cycled over NETWORKS' activations
    batch: PositiveInt = 16
    mode: Literal["forward", "backward", "bidirectional"] = "bidirectional"
    nx: PositiveInt = 7  # the slip check's layer: nx inputs, ny outputs, ndata samples (all different)
    ny: PositiveInt = 3
    ndata: PositiveInt = 5


def run(cfg: Config, ctx) -> dict:
    """The engine's gradients against autograd's on random networks, and the appendix's formulas on real tensors."""
    g = ctx.generator()
    rows = [compare(cfg, i, g) for i in ctx.progress(range(cfg.networks), desc="networks")]
    worst = max(r["relative_difference"] for r in rows)
    ctx.log(f"engine vs autograd on {len(rows)} random networks ({cfg.mode}): largest relative difference {worst:.2e}")
    draw_engine_vs_autograd(ctx, rows)
    slips = appendix_slips(cfg, g)
    for name, s in slips.items():
        if name == "eq1":
            ctx.log(f"eq (1) as printed: W^T x with W {s['W']} and x {s['x']} defined: {s['W^T x defined']}")
        else:
            ctx.log(f"appendix {name}: the note's shape {s['appendix_shape']}, the calculus {s['measured_shape']}")
    return {"networks": rows, "max_relative_difference": worst, "slips": slips}


def compare(cfg: Config, i: int, g: torch.Generator) -> dict:
    """One random network: the engine's dJ/dtheta (eqs 6-9) against autograd's, in float64."""
    hidden, output, inputs = NETWORKS[i % len(NETWORKS)]
    depth = 2 + i % 3
    sizes = [int(n) for n in torch.randint(2, 9, (depth + 1,), generator=g)]
    net = BidirectionalMLP(sizes, hidden, output, inputs, seed=int(torch.randint(2**31, (), generator=g)))
    net = net.double()
    x = _terminal_sample(net.input.name, (cfg.batch, sizes[0]), g)
    t = _terminal_sample(net.output.name, (cfg.batch, sizes[-1]), g)
    engine = net.gradients(x, t, cfg.mode)
    J, _ = net.loss(x, t, cfg.mode)
    names = [name for name, _ in net.named_parameters()]
    auto = dict(zip(names, torch.autograd.grad(J, list(net.parameters()), allow_unused=True), strict=True))
    used = [k for k, v in auto.items() if v is not None]
    if sorted(used) != sorted(engine):  # the engine must touch exactly the parameters autograd reaches
        raise RuntimeError(f"engine and autograd disagree on the parameters used: {sorted(engine)} vs {sorted(used)}")
    scale = max(float(auto[k].abs().max()) for k in used)
    diff = max(float((engine[k] - auto[k]).abs().max()) for k in used)
    return {"sizes": sizes, "activations": [hidden, output, inputs], "relative_difference": diff / scale}


def _terminal_sample(activation: str, shape, g) -> torch.Tensor:
    """Targets in the support of the activation's likelihood: one-hot, bits, bipolar or real values."""
    if activation == "softmax":
        return torch.eye(shape[1], dtype=torch.float64)[torch.randint(shape[1], (shape[0],), generator=g)]
    if activation == "logistic":
        return torch.randint(0, 2, shape, generator=g).double()
    if activation == "bipolar-logistic":
        return torch.randint(0, 2, shape, generator=g).double() * 2 - 1
    return torch.randn(shape, generator=g, dtype=torch.float64)


def appendix_slips(cfg: Config, g: torch.Generator) -> dict:
    """The appendix's three shape statements, evaluated on one tanh layer in the note's column convention."""
    nx, ny, ndata = cfg.nx, cfg.ny, cfg.ndata
    W = torch.randn(ny, nx, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(ny, generator=g, dtype=torch.float64, requires_grad=True)
    x = torch.randn(nx, ndata, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randn(ny, ndata, generator=g, dtype=torch.float64)
    z = W @ x + b[:, None]  # eq 1, z = W x + repmat(b, 1, ndata)
    y = torch.tanh(z)  # eq 2
    J = 0.5 * ((y - t) ** 2).sum() / ndata
    dz, db, dx = torch.autograd.grad(J, [z, b, x])
    note_db = W.T @ dz @ torch.ones(ndata, dtype=torch.float64) / ndata  # the appendix's formula
    return {
        "bias": {
            "appendix_shape": list(note_db.shape),
            "parameter_shape": list(b.shape),
            "measured_shape": list(db.shape),
            "eq8_matches_autograd": bool(torch.allclose(dz.sum(1), db)),
        },
        "y": {"appendix_shape": [ny, nx], "measured_shape": list(y.shape)},
        "dx": {"appendix_shape": [ny, ndata], "measured_shape": list(dx.shape)},
        "eq1": _eq1(W.detach(), x.detach()[:, 0]),
    }


def _eq1(W: torch.Tensor, x: torch.Tensor) -> dict:
    """Eq (1) as printed, z = W^T x + b with W in R^{m x n} and x in R^n: is the product defined (m != n)?"""
    m, n = W.shape
    try:
        z = W.T @ x
    except RuntimeError:
        z = None
    return {"W": [m, n], "x": [n], "W^T x defined": z is not None, "W x": list((W @ x).shape)}


def draw_engine_vs_autograd(ctx, rows: list[dict]) -> None:
    """The explicit engine's gradients against autograd's, per network."""
    fig, ax = figure(size=(8, 3.6))
    for i, acts in enumerate(NETWORKS):
        picked = [(k, r["relative_difference"]) for k, r in enumerate(rows) if tuple(r["activations"]) == acts]
        if picked:
            ks, diffs = zip(*picked, strict=True)
            ax.bar(ks, [max(d, 1e-18) for d in diffs], color=f"C{i}", label="hidden {}, out {}, in {}".format(*acts))
    ax.axhline(1e-10, color="k", ls=":", lw=1, label="the claim's tolerance, 1e-10")
    ax.set_yscale("log")
    ax.set_ylim(1e-18, 1e-6)
    ax.set_xlabel("random network (sizes and seeds drawn per network)")
    ax.set_ylabel("max |engine - autograd| / max |grad|")
    ax.set_title("the note's matrix-form backprop against autograd, float64, both directions (eq 69)")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    ctx.save_figure(fig, "engine_vs_autograd")


# (hidden, output, input) activations: each terminal activation with its matched likelihood
NETWORKS = (
    ("logistic", "logistic", "logistic"),
    ("tanh", "softmax", "identity"),
    ("relu", "softmax", "logistic"),
    ("bipolar-logistic", "identity", "identity"),
)

CLAIMS = (
    Claim(
        id="note-eq1-shapes",
        paper="note",
        source="eq 1",
        origin="erratum",
        quote="z = W Tx + b (1) y = f(z) (2) where W ∈ Rm×n and b, z ∈ Rm.",
        statement="z = W^T x + b with W in R^{m x n}, x in R^n and z in R^m: the shapes fit",
        paper_value="the shapes fit",
        measure="slips.eq1",
        compare="holds",
        metric="whether W^T x is defined for W in R^{m x n}, x in R^n, m != n (z = W x is, in R^m)",
        check=lambda v: v["W^T x defined"],
    ),
    Claim(
        id="note-engine-equals-autograd",
        quote="Back propagation is then a 4-line derivation.",
        paper="note",
        source="eqs 1-9",
        statement="backpropagation in matrix form gives the gradient of the error",
        paper_value=0.0,
        measure="max_relative_difference",
        compare="equal",
        metric="largest |engine - autograd| / max |autograd| over every parameter of every network (float64)",
        tolerance=1e-10,
    ),
    *(
        Claim(
            id=f"note-appendix-{name}",
            paper="note",
            source=f"appendix, {where}",
            origin="erratum",
            quote=quote,
            statement=printed,
            paper_value=printed.split(" is in ")[-1].removeprefix("dJ/db = "),
            measure=f"slips.{key}",
            compare="holds",
            metric=f"[the appendix's shape, the shape of {what}], with nx, ny and ndata all different",
            check=lambda v: v["appendix_shape"] == v["measured_shape"],
        )
        for name, key, where, printed, what, quote in (
            (
                "bias",
                "bias",
                "bias gradient",
                "dJ/db = W^T dJ/dz 1 / ndata",
                "b (a gradient must have it)",
                "∂J ∂b = W T · ∂J ∂z · 1ndata / ndata ∈ Rny",
            ),
            ("y-shape", "y", "layer output", "y = f(z) is in R^{ny x nx}", "y = f(W x + b)", "y = f(z) ∈ Rny×nx"),
            (
                "dx-shape",
                "dx",
                "input gradient",
                "dJ/dx is in R^{ny x ndata}",
                "autograd's dJ/dx",
                "∂J ∂x = W T · ∂J ∂z ∈ Rny×ndata",
            ),
        )
    ),
)

experiment(
    "note-engine",
    "Backprop in matrix form (the note): the explicit engine against autograd, and the appendix's three slips",
    Config,
    run,
    quick={"networks": 8},
    claims=CLAIMS,
    hours=0.001,
)
