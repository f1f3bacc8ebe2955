"""bam-letters: Fig 2 of Kosko (2021), asynchronous recall of letter associations.

X field: 140 neurons (10x14 bitmaps), Y field: 108 (9x12). M stores (S, E), (M, V),
(G, N) by eq (16). A 40%-noise version of (S, E) (both fields) starts the BAM; six
random neurons per field update per step until a bidirectional fixed point.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field

from ..bam import BAM
from ..bam.capacity import flip_noise
from ..bam.dynamics import energy, threshold_update
from ..data.patterns import LETTERS_9x12, LETTERS_10x14, letter
from ..plotting import figure, show_image
from .claims import Claim
from .registry import experiment
from .settings import Fraction, Fractions, PositiveInt, settings


@settings
class Config:
    """Settings of the bam-letters experiment; the defaults are Fig 2's."""

    noise: Fraction = 0.4  # fraction of flipped bits in the Fig 2 probe (both fields)
    k: PositiveInt = 6  # neurons updated per field per step
    trials: PositiveInt = 1000  # probes per noise level and pair for the recall-rate curves
    noise_levels: Fractions = (0.0, 0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5)
    max_steps: PositiveInt = 2000
    snapshots: Annotated[int, Field(ge=2)] = 6
    random_matrices: PositiveInt = 20  # the BAM theorem for any M: random real matrices and thresholds ...
    random_probes: PositiveInt = 200  # ... each recalled from this many random states, sync and async


def run(cfg: Config, ctx) -> dict:
    """Fig 2: the letter BAM, its 40%-noise probe step by step, and recall against noise."""
    X = torch.stack([letter(a, LETTERS_10x14) for a, _ in PAIRS]).to(ctx.device)
    Y = torch.stack([letter(b, LETTERS_9x12) for _, b in PAIRS]).to(ctx.device)
    bam = BAM.from_pairs(X, Y, device=ctx.device)
    stored = bam.is_fixed_point(X, Y).tolist()
    ctx.log(
        f"M is {bam.n}x{bam.p}; stored pairs (fixed points): "
        f"{dict(zip(['/'.join(p) for p in PAIRS], stored, strict=True))}; "
        f"energy bound (eq 9): {bam.energy_bound():g}"
    )
    g = ctx.generator()  # one stream: the Fig 2 probe first, then the recall-rate probes
    r, probe = fig2_probe(cfg, bam, X[0], Y[0], g)
    ctx.log(
        f"Fig 2 probe ({cfg.noise:.0%} noise, {cfg.k} neurons/field/step): converged={probe['converged']} after "
        f"{probe['steps']} steps to (S, E): {probe['recalled_S_E']}; energy {probe['energy'][0]:g} -> "
        f"{probe['energy'][-1]:g}, never increasing: {probe['energy_never_increases']}"
    )
    draw_fig2(ctx, cfg, bam, r)
    rates, all_converged, max_rise, lowest = recall_vs_noise(cfg, bam, X, Y, g, ctx.progress)
    for mode, per_pair in rates.items():
        ctx.log(
            f"{mode} recall rate vs noise {list(cfg.noise_levels)}: "
            + "; ".join(f"{k}: {[round(v, 3) for v in vs]}" for k, vs in per_pair.items())
        )
    ctx.log(
        f"over all {len(cfg.noise_levels) * 3 * 2 * cfg.trials} recalls: all converged {all_converged}, largest "
        f"energy rise {max_rise:g} (must be <= 0)"
    )
    draw_recall_vs_noise(ctx, cfg, rates)
    any_matrix = theorem_any_matrix(cfg, g, ctx.device)
    ctx.log(
        f"BAM theorem on {cfg.random_matrices} random {bam.n}x{bam.p} real matrices with random thresholds, "
        f"{cfg.random_probes} random probes each, sync and async: all converged {any_matrix['all_converged']}, "
        f"largest energy rise {any_matrix['max_energy_rise']:g}, longest recall {any_matrix['most_steps']} steps"
    )
    return {
        "any_matrix": any_matrix,
        "n": bam.n,
        "p": bam.p,
        "stored": stored,
        "energy_bound": bam.energy_bound(),
        "fig2_probe": probe,
        "noise_levels": list(cfg.noise_levels),
        "recall_rate": rates,
        "all_converged": all_converged,
        "max_energy_rise": max_rise,
        "lowest_energy": lowest,
    }


def fig2_probe(cfg: Config, bam: BAM, x, y, g):
    """Fig 2: async recall from a noisy (S, E), both fields, recorded step by step; (the recall, its summary)."""
    x0, y0 = flip_noise(x, cfg.noise, g), flip_noise(y, cfg.noise, g)
    r = bam.recall(x=x0, y=y0, mode="async", k=cfg.k, max_steps=cfg.max_steps, generator=g, record_states=True)
    trace = r.energy[0]
    return r, {
        "noise": cfg.noise,
        "k": cfg.k,
        "converged": bool(r.converged[0]),
        "steps": int(r.steps[0]),
        "recalled_S_E": bool((r.x[0] == x).all() and (r.y[0] == y).all()),
        "energy_never_increases": bool((trace.diff() <= 0).all()),
        "energy": trace,
    }


def recall_vs_noise(cfg: Config, bam: BAM, X, Y, g, progress=iter):
    """Exact recall rate of each stored pair against the noise in both fields, async (Fig 2's rule) and sync;
    with whether every recall converged, the largest energy rise seen (the theorem says none) and the lowest energy
    (eq 9 bounds it)."""
    rates = {mode: {"/".join(p): [] for p in PAIRS} for mode in ("async", "sync")}
    max_rise, all_converged, lowest = 0.0, True, float("inf")
    for noise in progress(cfg.noise_levels, desc="noise levels"):
        for i, pair in enumerate(PAIRS):
            xs = flip_noise(X[i].expand(cfg.trials, -1), noise, g)
            ys = flip_noise(Y[i].expand(cfg.trials, -1), noise, g)
            for mode in rates:
                out = bam.recall(x=xs, y=ys, mode=mode, k=cfg.k, max_steps=cfg.max_steps, generator=g)
                ok = (out.x == X[i]).all(1) & (out.y == Y[i]).all(1)
                rates[mode]["/".join(pair)].append(ok.float().mean().item())
                lowest = min(lowest, out.energy.min().item())
                if out.energy.shape[-1] > 1:
                    max_rise = max(max_rise, out.energy.diff(dim=-1).max().item())
                all_converged &= bool(out.converged.all())
    return rates, all_converged, max_rise, lowest


def theorem_any_matrix(cfg: Config, g: torch.Generator, device) -> dict:
    """The BAM theorem's "any M": Gaussian matrices and thresholds of Fig 2's field sizes, random bipolar probes;
    does every recall converge with the energy never rising, updating whole fields (sync) and k neurons (async)?"""
    n, p = SHAPE_X[0] * SHAPE_X[1], SHAPE_Y[0] * SHAPE_Y[1]
    max_rise, converged, most, both = float("-inf"), True, 0, float("-inf")
    for _ in range(cfg.random_matrices):
        f64 = torch.float64  # energies of size ~1e4: float32 round-off alone would show rises of ~1e-4
        thresholds = torch.randn(n, generator=g, dtype=f64), torch.randn(p, generator=g, dtype=f64)
        bam = BAM(n, p, threshold_x=thresholds[0], threshold_y=thresholds[1], dtype=f64, device=device)
        bam.M.copy_(torch.randn(n, p, generator=g, dtype=f64))
        x = torch.randint(0, 2, (cfg.random_probes, n), generator=g).to(f64) * 2 - 1
        for mode in ("sync", "async"):
            out = bam.recall(x=x, mode=mode, k=cfg.k, max_steps=cfg.max_steps, generator=g)
            if out.energy.shape[-1] > 1:
                max_rise = max(max_rise, out.energy.diff(dim=-1).max().item())
            converged &= bool(out.converged.all())
            most = max(most, int(out.steps.max()))
        y = torch.randint(0, 2, (cfg.random_probes, p), generator=g).to(f64) * 2 - 1
        both = max(both, _both_fields_at_once(bam, x, y))
    return {
        "matrices": cfg.random_matrices,
        "all_converged": converged,
        "max_energy_rise": max_rise,
        "most_steps": most,
        "both_fields_max_energy_rise": both,
    }


def _both_fields_at_once(bam: BAM, x, y, steps: int = 20) -> float:
    """Outside the theorem: both fields updated at once from each other's old states (eq 5 on each side); the
    largest energy (8) rise of any step."""
    tx, ty, rise = bam.threshold_x, bam.threshold_y, float("-inf")
    e = energy(x, y, bam.M, tx, ty)
    for _ in range(steps):
        x, y = threshold_update(y @ bam.M.T, x, tx, "bipolar"), threshold_update(x @ bam.M, y, ty, "bipolar")
        e, before = energy(x, y, bam.M, tx, ty), e
        rise = max(rise, (e - before).max().item())
    return rise


def draw_fig2(ctx, cfg: Config, bam: BAM, r) -> None:
    """Fig 2: the recall's snapshots from the noisy key, and its energy by step."""
    steps, trace = int(r.steps[0]), r.energy[0]
    picks = sorted({round(i * steps / (cfg.snapshots - 1)) for i in range(cfg.snapshots)})
    fig, axes = figure(
        2, len(picks) + 1, size=(2.0 * (len(picks) + 1), 5), gridspec_kw={"width_ratios": [1] * len(picks) + [2.5]}
    )
    for col, s in enumerate(picks):
        show_image(axes[0, col], r.states_x[s, 0], SHAPE_X, f"step {s}: X", cmap="gray_r", vmin=-1)
        show_image(axes[1, col], r.states_y[s, 0], SHAPE_Y, f"step {s}: Y", cmap="gray_r", vmin=-1)
    gs = axes[0, -1].get_gridspec()
    for ax in axes[:, -1]:
        ax.remove()
    ax = fig.add_subplot(gs[:, -1])
    ax.yaxis.tick_right()
    ax.yaxis.set_label_position("right")
    ax.plot(trace.cpu().numpy(), ".-")
    ax.axhline(bam.energy_bound(), color="k", ls="--", lw=0.8, label="bound (eq 9)")
    ax.set_xlabel("step")
    ax.set_ylabel("energy E (eq 8)")
    ax.legend(fontsize=8)
    ax.set_title("energy per step")
    ctx.save_figure(fig, "fig2_snapshots_energy")


def draw_recall_vs_noise(ctx, cfg: Config, rates: dict) -> None:
    """Recall rate against key noise, asynchronous and synchronous (ours, beside Fig 2)."""
    fig, ax = figure()
    for mode, style in (("async", "-"), ("sync", ":")):
        for pair, vs in rates[mode].items():
            ax.plot(cfg.noise_levels, vs, style, marker="o", label=f"({pair.replace('/', ', ')}) {mode}")
    ax.axvline(cfg.noise, color="k", ls=":", lw=1, label=f"Fig 2's probe: {cfg.noise:.0%} noise")
    ax.set_xlabel("fraction of flipped bits in both fields")
    ax.set_ylabel("exact recall rate")
    ax.set_title(f"recall vs noise ({cfg.trials} probes per point)")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "recall_vs_noise")


PAIRS = (("S", "E"), ("M", "V"), ("G", "N"))

SHAPE_X, SHAPE_Y = (14, 10), (12, 9)

CLAIMS = (
    Claim(
        id="kosko-both-fields-at-once",
        origin="ours",
        paper="kosko",
        source="sec II (beside the BAM theorem)",
        statement="updating both fields at once, each from the other's old state, can raise the energy (8): the "
        "theorem's field-by-field update is needed (the paper allows it only when the net update tally is negative)",
        paper_value="can rise",
        measure="any_matrix.both_fields_max_energy_rise",
        compare="holds",
        metric="largest energy rise of one simultaneous step of both fields, random real M, thresholds and states",
        check=lambda v: v > 0,
    ),
    Claim(
        id="kosko-eq9-lower-bound",
        paper="kosko",
        source="eq 9",
        quote="The absolute matrix entries |mij| give a finite lower (and upper) bound on the total BAM energy E",
        statement="no state's energy (8) falls below -sum |m_ij| (zero thresholds)",
        paper_value="E >= -sum |m_ij|",
        measure=lambda m: [m["lowest_energy"], m["energy_bound"]],
        compare="holds",
        metric="[lowest energy of every recall of the letter BAM, eq 9's bound]",
        check=lambda v: v[0] >= v[1],
    ),
    Claim(
        id="kosko-fig2-three-pairs",
        paper="kosko",
        source="sec I, Fig 2",
        quote="The much larger 2-layer BAM in Fig. 2 does easily store and recall three paired associations with "
        "Hebbian learning",
        statement="the 140 x 108 Hebbian BAM stores (S, E), (M, V), (G, N) as fixed points and recalls each from 20% "
        "noise in both fields",
        paper_value="stores and recalls all three",
        measure=lambda m: [all(m["stored"]), _worst_rate(m, 0.2)],
        compare="holds",
        metric="[all three pairs fixed points, the worst exact-recall rate over pairs and modes at <= 20% noise "
        "(easily: >= 0.95)]",
        check=lambda v: v[0] and v[1] >= 0.95,
    ),
    Claim(
        id="kosko-fig2",
        quote=(
            "The network updated six neurons at random per field on its way to convergence to the BAM fixed-point"
            " equilibrium (S, E)."
        ),
        paper="kosko",
        source="Fig 2",
        statement="from 40% noise, six neurons per field per step, the BAM converges to (S, E)",
        paper_value="converges to (S, E)",
        measure="fig2_probe.recalled_S_E",
        compare="holds",
    ),
    Claim(
        id="kosko-bam-theorem-letters",
        quote=(
            "Discrete BAM Theorem: Every connection matrix M is bidi- rectionally stable for threshold or "
            "threshold-like neurons and for asynchronous or synchronous state updates."
        ),
        paper="kosko",
        source="sec III (BAM theorem)",
        statement="discrete BAM energy never rises and every recall converges, sync and async",
        paper_value="never rises",
        measure=lambda m: (
            m["all_converged"] and m["max_energy_rise"] <= 0 and m["fig2_probe"]["energy_never_increases"]
        ),
        compare="holds",
        metric="all recalls converged and the largest energy rise <= 0",
    ),
    Claim(
        id="kosko-bam-theorem-any-m",
        quote="EVERY real matrix is bidirectionally stable.",
        paper="kosko",
        source="sec III (BAM theorem)",
        statement=(
            "every real matrix M is bidirectionally stable: energy (8) never rises and recall converges, sync and async"
        ),
        paper_value="never rises, converges",
        measure="any_matrix",
        compare="holds",
        metric="random Gaussian M and thresholds, float64: all recalls converged, largest energy rise (<= round-off)",
        check=lambda m: m["all_converged"] and m["max_energy_rise"] <= 1e-9,
    ),
)


def _worst_rate(metrics: dict, noise: float) -> float:
    """The lowest exact-recall rate over the pairs and both update modes, at noise levels up to ``noise``."""
    levels = [i for i, level in enumerate(metrics["noise_levels"]) if level <= noise]
    return min(rates[i] for per_pair in metrics["recall_rate"].values() for rates in per_pair.values() for i in levels)


experiment(
    "bam-letters",
    "Fig 2: 140x108 BAM stores (S,E),(M,V),(G,N); async recall of a 40%-noise (S,E), energy per step, recall vs noise",
    Config,
    run,
    quick={"trials": 100, "noise_levels": (0.0, 0.2, 0.4, 0.5), "random_matrices": 4, "random_probes": 50},
    claims=CLAIMS,
    hours=0.02,
    figures={"fig2_snapshots_energy": "Kosko Fig 2"},
)
