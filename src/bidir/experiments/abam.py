"""abam: adaptive BAMs of Kosko (2021), section III.C-D.

Continuous additive ABAMs (eqs 37-38) learning with the Hebbian law (34) and the
competitive law (43), integrated with an adaptive Runge-Kutta solver (torchdiffeq
dopri5); the ABAM energy (39) along each trajectory; and the discrete Hebbian ABAM
(eqs 29-33). A competitive ABAM with a shallow (not win-loss) Y activation is run too,
to show the assumption the competitive theorem needs.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from matplotlib.ticker import MaxNLocator
from pydantic import Field

from ..bam import BAM, ContinuousABAM, hebbian_abam
from ..plotting import figure
from .claims import Claim
from .registry import experiment
from .settings import NonNegative, Positive, PositiveInt, settings


@settings
class Config:
    """Settings of the abam experiment (the paper gives none; ours keep every energy step resolvable)."""

    n: PositiveInt = 8
    p: PositiveInt = 6
    systems: PositiveInt = 8  # independent systems integrated as one batch
    t_end: Positive = 40.0
    points: Annotated[int, Field(ge=2)] = 401
    input_scale: NonNegative = 2.0  # external inputs I ~ N(0, scale^2)
    steepness_x: Positive = 1.0
    steepness_y: Positive = 1.0  # Hebbian law
    competitive_steepness_y: Positive = 100.0  # steep win-loss Y neurons for the competitive law (eq 43)
    shallow_steepness_y: Positive = 1.0  # the contrast run: competitive law, shallow Y neurons
    method: Literal["dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun", "rk4", "midpoint", "euler"] = "dopri5"
    rtol: Positive = 1e-9
    atol: Positive = 1e-11
    discrete_n: PositiveInt = 64
    discrete_p: PositiveInt = 48
    discrete_steps: PositiveInt = 20


def run(cfg: Config, ctx) -> dict:
    """Continuous Hebbian and competitive ABAMs and the discrete Hebbian ABAM: energy and synapses along time."""
    g = ctx.generator()  # one stream: the continuous systems' start and inputs, then the discrete ABAM's
    t = torch.linspace(0, cfg.t_end, cfg.points, dtype=torch.float64)
    start, models = continuous_systems(cfg, g)
    trajectories, metrics = {}, {}
    for name, model in ctx.progress(models.items(), desc="integrate"):
        trajectories[name] = model.integrate(*start, t, method=cfg.method, rtol=cfg.rtol, atol=cfg.atol)
        metrics[name] = energy_and_synapses(model, trajectories[name])
        m = metrics[name]
        target = "a_x a_y" if model.law == "hebbian" else "a_x (winners)"
        ctx.log(
            f"{name} (c_y={model.c_y:g}): E {m['energy_start']:.3f} -> {m['energy_end']:.3f}, largest rise "
            f"{m['max_energy_rise']:.2e} (falls every step: {m['energy_falls_every_step']}); "
            f"max |M - {target}| {m['synapse_gap_start']:.3f} -> {m['synapse_gap_end']:.2e}"
        )
    discrete = discrete_hebbian(cfg, g)
    metrics["discrete_hebbian"] = {k: v for k, v in discrete.items() if k != "energy"}
    ctx.log(
        f"discrete Hebbian ABAM ({cfg.discrete_n}x{cfg.discrete_p}): E {discrete['energy_start']:.1f} -> "
        f"{discrete['energy_end']:.1f}, largest step change {discrete['max_energy_rise']:.3g} "
        f"(< 0: {discrete['energy_falls_every_step']})"
    )
    draw_energy(ctx, t, models, trajectories, discrete["energy"])
    draw_synapses(ctx, t, models, trajectories)
    return metrics


def synapse_gap(model: ContinuousABAM, tr) -> torch.Tensor:
    """Max distance of the synapses to their learning target, per time and system.

    Hebbian (34): m_ij -> a_i a_j. Competitive (43): a winning neuron's fan-in m_.j -> a_x.
    """
    a_x, a_y = model.activations(tr.o_x, tr.o_y)
    if model.law == "hebbian":
        return (tr.M - a_x.unsqueeze(-1) * a_y.unsqueeze(-2)).abs().amax((-2, -1))
    return ((tr.M - a_x.unsqueeze(-1)).abs() * (a_y > 0.5).unsqueeze(-2)).amax((-2, -1))


def continuous_systems(cfg: Config, g: torch.Generator):
    """The start (o_x, o_y, M), batched over ``systems``, and the three ABAMs sharing inputs I ~ N(0, scale^2)."""
    dt = torch.float64
    o_x0 = torch.randn(cfg.systems, cfg.n, generator=g, dtype=dt)
    o_y0 = torch.randn(cfg.systems, cfg.p, generator=g, dtype=dt)
    M0 = 0.5 * torch.randn(cfg.systems, cfg.n, cfg.p, generator=g, dtype=dt)
    I_x = cfg.input_scale * torch.randn(cfg.n, generator=g, dtype=dt)
    I_y = cfg.input_scale * torch.randn(cfg.p, generator=g, dtype=dt)
    laws = {
        "hebbian": ("hebbian", cfg.steepness_y),
        "competitive": ("competitive", cfg.competitive_steepness_y),
        "competitive_shallow": ("competitive", cfg.shallow_steepness_y),
    }
    models = {
        name: ContinuousABAM(cfg.n, cfg.p, law, cfg.steepness_x, c_y, I_x, I_y, dtype=dt)
        for name, (law, c_y) in laws.items()
    }
    return (o_x0, o_y0, M0), models


def energy_and_synapses(model: ContinuousABAM, tr) -> dict:
    """Eq (39) along a trajectory (does it fall at every output step?) and the synapses' distance to their targets."""
    gap = synapse_gap(model, tr)
    rise = tr.energy.diff(dim=0)
    return {
        "steepness_y": model.c_y,
        "energy_start": tr.energy[0].mean().item(),
        "energy_end": tr.energy[-1].mean().item(),
        "max_energy_rise": rise.max().item(),
        "energy_falls_every_step": bool((rise <= 1e-9).all()),
        "synapse_gap_start": gap[0].max().item(),
        "synapse_gap_end": gap[-1].max().item(),
        "final_energy_rate": model.energy_rate(tr.o_x[-1], tr.o_y[-1], tr.M[-1]).abs().max().item(),
    }


def discrete_hebbian(cfg: Config, g: torch.Generator) -> dict:
    """The discrete Hebbian ABAM (eqs 29-33) from a random matrix and random bipolar states: E per step."""
    bam = BAM(cfg.discrete_n, cfg.discrete_p)
    bam.M.copy_(torch.randn(cfg.discrete_n, cfg.discrete_p, generator=g))
    x0 = torch.randint(0, 2, (cfg.systems, cfg.discrete_n), generator=g).float() * 2 - 1
    d = hebbian_abam(bam, x0, steps=cfg.discrete_steps, rate=1.0)
    rise = d.energy.diff(dim=-1).max().item()
    return {
        "energy_start": d.energy[:, 0].mean().item(),
        "energy_end": d.energy[:, -1].mean().item(),
        "max_energy_rise": rise,
        "energy_falls_every_step": rise < 0,
        "energy": d.energy,
    }


def draw_energy(ctx, t, models, trajectories, discrete_energy) -> None:
    """Top: the ABAM energy (39) of every system under each law; bottom: the discrete ABAM's energy per step, and
    the largest change of (39) between output times, where the theorem's E never rising can be read off."""
    fig, axes = figure(2, 3, size=(15, 8))
    gs = axes[1, 1].get_gridspec()
    for ax in axes[1, 1:]:
        ax.remove()
    rise_ax = fig.add_subplot(gs[1, 1:])
    for i, (ax, name) in enumerate(zip(axes[0], models, strict=True)):
        energy = trajectories[name].energy.numpy()
        for s in range(energy.shape[1]):
            ax.plot(
                t.numpy(),
                energy[:, s],
                color=f"C{i}",
                lw=1,
                alpha=0.7,
                label=f"{energy.shape[1]} systems" if s == 0 else None,
            )
        ax.set_title(f"{name.replace('_', ' ')} law (c_y = {models[name].c_y:g})")
        ax.set_xlabel("time t")
        ax.set_ylabel("ABAM energy E, eq (39)")
        ax.legend()
        rise = trajectories[name].energy.diff(dim=0).amax(1).numpy()  # the largest change over the systems
        rise_ax.plot(
            t[1:].numpy(), rise, color=f"C{i}", lw=1.2, label=f"{name.replace('_', ' ')} (c_y = {models[name].c_y:g})"
        )
    rise_ax.axhline(0, color="k", lw=0.8)
    rise_ax.set_yscale("symlog", linthresh=1e-10)
    rise_ax.set_yticks([-1, -1e-3, -1e-6, -1e-9, 0, 1e-9, 1e-6, 1e-3])
    rise_ax.set_xlabel("time t")
    rise_ax.set_ylabel("largest E(t_i+1) - E(t_i) over the systems")
    rise_ax.set_title("energy change per output step: above 0 means E rose (the theorem needs win-loss a_y)")
    rise_ax.legend()
    ax = axes[1, 0]
    steps = range(discrete_energy.shape[1])
    for s in range(discrete_energy.shape[0]):
        ax.plot(
            steps,
            discrete_energy[s].numpy(),
            ".-",
            color="C4",
            lw=1,
            alpha=0.7,
            label=f"{discrete_energy.shape[0]} systems" if s == 0 else None,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("discrete Hebbian ABAM, eqs (29)-(33)")
    ax.set_xlabel("step (neurons, then synapses)")
    ax.set_ylabel("energy E = -x M y^T")
    ax.legend()
    fig.tight_layout()
    ctx.save_figure(fig, "abam_energy")


def draw_synapses(ctx, t, models, trajectories) -> None:
    """The synapses' trajectories under each learning law (section III.D)."""
    fig, ax = figure()
    for name, tr in trajectories.items():
        gap = synapse_gap(models[name], tr).amax(-1).clamp_min(1e-16)
        ax.semilogy(t.numpy(), gap.numpy(), label=name.replace("_", " "))
    ax.set_xlabel("t")
    ax.set_ylabel("max synapse distance to its target")
    ax.set_title("synapses approach the Hebbian / competitive targets")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "abam_synapses")


CLAIMS = (
    Claim(
        id="kosko-abam-hebbian-stable",
        quote="Hebbian ABAM Theorem: The Hebbian ABAM system (34) and (37)-(38) is globally stable.",
        paper="kosko",
        source="eqs 39-42 (Hebbian ABAM theorem)",
        statement="the Hebbian ABAM's energy (39) falls along every trajectory: the system is globally stable",
        paper_value=0.0,
        measure="hebbian.max_energy_rise",
        compare="at_most",
        metric="largest rise of E (39) between output times, over every system",
        tolerance=1e-9,
    ),
    Claim(
        id="kosko-abam-competitive-stable",
        quote="The ABAM theorem also holds for competitive learning with a steep win–loss activation.",
        paper="kosko",
        source="eqs 43-45 (competitive ABAM)",
        statement="the competitive ABAM with win-loss Y neurons is globally stable: E (39) never rises",
        paper_value=0.0,
        measure="competitive.max_energy_rise",
        compare="at_most",
        metric="largest rise of E (39) between output times, win-loss (steep) Y neurons",
        tolerance=1e-9,
    ),
    Claim(
        id="kosko-abam-hebbian-synapses",
        quote="So mij(t) → 1 exponentially quickly for any initial memorized information mij(0).",
        paper="kosko",
        source="eqs 35-36",
        statement=(
            "the Hebbian synapses converge exponentially to the stabilised product a_x a_y (+-1 for saturated fields)"
        ),
        paper_value=0.0,
        measure="hebbian.synapse_gap_end",
        compare="equal",
        metric="max |m_ij - a_x a_y| at the end of the trajectories",
        tolerance=1e-4,
    ),
    Claim(
        id="kosko-competitive-synapses",
        quote="Then the weight mij converges exponentially quickly to the input activation ax i .",
        paper="kosko",
        source="eq 43",
        statement="under competitive learning a winning Y neuron's synapses m_ij converge to the input activations a_x",
        paper_value=0.0,
        measure="competitive.synapse_gap_end",
        compare="equal",
        metric="max |m_ij - a_x_i| over the winning neurons' synapses at the end of the trajectories",
        tolerance=1e-4,
    ),
    Claim(
        id="kosko-discrete-abam-stable",
        quote=(
            "is bidirectionally stable for threshold or threshold- like neurons and for asynchronous or "
            "synchronous state updates."
        ),
        paper="kosko",
        source="eqs 29-33",
        statement="the discrete Hebbian ABAM's energy falls at every step until it stops",
        paper_value=0.0,
        measure="discrete_hebbian.max_energy_rise",
        compare="at_most",
        metric="largest energy change per step of the discrete Hebbian ABAM",
    ),
)

experiment(
    "abam",
    "ABAM: continuous Hebbian and competitive adaptive BAMs (eqs 34-43), the discrete Hebbian ABAM; energy (39) falls",
    Config,
    run,
    quick={"systems": 3, "points": 161, "t_end": 32.0},
    claims=CLAIMS,
    hours=0.01,
)
