"""bam-capacity: how many random pairs a Hebbian BAM recalls (section III.B).

Recall rate against the number m of stored random pairs and the noise in the key, for
bipolar and binary keys, beside the m < min(n, p) rule of thumb. Eq (25) predicts that
binary keys, which carry half the signal, recall worse.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import Field

from ..bam.capacity import capacity_sweep
from ..plotting import figure
from .claims import Claim
from .registry import experiment
from .settings import Fractions, PositiveInt, Sizes, settings


@settings
class Config:
    """Settings of the bam-capacity experiment: field sizes and the grids of stored pairs and noise."""

    n: PositiveInt = 128
    p: PositiveInt = 128
    ms: Sizes = (1, 2, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128)
    noises: Fractions = (0.0, 0.1, 0.2, 0.3)
    trials: PositiveInt = 200
    codings: Annotated[tuple[Literal["bipolar", "binary"], ...], Field(min_length=1)] = ("bipolar", "binary")


def run(cfg: Config, ctx) -> dict:
    """Exact recall against the number of stored pairs and the key noise, bipolar against binary keys."""
    rows = capacity_sweep(
        cfg.n,
        cfg.p,
        cfg.ms,
        cfg.noises,
        cfg.trials,
        cfg.codings,
        seed=ctx.seed,
        progress=ctx.progress,
        device=ctx.device,
    )
    limits = []
    for coding in cfg.codings:
        for noise in cfg.noises:
            sel = [r for r in rows if r["coding"] == coding and r["noise"] == noise]
            ok = [r["m"] for r in sel if r["recall_rate"] >= 0.9]
            limits.append({"coding": coding, "noise": noise, "largest_m_with_90pct_recall": max(ok) if ok else 0})
            ctx.log(
                f"{coding:7s} keys, noise {noise:.1f}: recall "
                + " ".join(f"m={r['m']}:{r['recall_rate']:.2f}" for r in sel)
            )
    ctx.log(
        "largest m with >= 90% exact recall: "
        + "; ".join(f"{i['coding']}@{i['noise']:.1f}: {i['largest_m_with_90pct_recall']}" for i in limits)
        + f" (rule of thumb: m < min(n, p) = {min(cfg.n, cfg.p)})"
    )

    fig, ax = figure(size=(7.5, 4.5))
    for coding, style in zip(cfg.codings, ("-", "--"), strict=False):
        for i, noise in enumerate(cfg.noises):
            sel = [r for r in rows if r["coding"] == coding and r["noise"] == noise]
            ax.semilogx(
                [r["m"] for r in sel],
                [r["recall_rate"] for r in sel],
                style,
                marker="o",
                ms=3,
                color=f"C{i}",
                label=f"{coding}, noise {noise:.1f}",
            )
    ax.axvline(min(cfg.n, cfg.p), color="k", ls=":", label="m = min(n, p)")
    ax.set_xticks(list(cfg.ms), [str(m) for m in cfg.ms], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("stored pairs m (log scale)")
    ax.set_ylabel("exact recall rate")
    ax.set_title(f"Hebbian BAM capacity, n = {cfg.n}, p = {cfg.p}, {cfg.trials} memories per point")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "capacity")
    return {
        "rows": rows,
        "limits": limits,
        "rule_of_thumb_min_n_p": min(cfg.n, cfg.p),
        "eq22_largest_gap": _eq22(ctx.generator("eq22")),
    }


def _limit(metrics: dict, coding: str, noise: float) -> int:
    """The largest m recalled >= 90% exactly with these keys (KeyError: not measured in this run)."""
    for r in metrics["limits"]:
        if (r["coding"], r["noise"]) == (coding, noise):
            return r["largest_m_with_90pct_recall"]
    raise KeyError(f"{coding} keys at noise {noise}")


def _eq22(g: torch.Generator, lengths=(8, 64, 512), pairs: int = 1000) -> float:
    """Eq (22) on random bit vectors A_i, A_j: the largest |X_i . X_j - (n - 2 H)| with X = 2A - 1."""
    gap = 0.0
    for n in lengths:
        a, b = (torch.randint(0, 2, (pairs, n), generator=g) for _ in range(2))
        c = ((2 * a - 1) * (2 * b - 1)).sum(1)
        hamming = (a != b).sum(1)
        gap = max(gap, float((c - (n - 2 * hamming)).abs().max()))
    return gap


def _mean_steps(metrics: dict, coding: str) -> float:
    steps = [r["mean_steps"] for r in metrics["rows"] if r["coding"] == coding]
    return sum(steps) / len(steps)


def _bipolar_vs_binary(metrics: dict) -> dict:
    """Per key-noise level: [bipolar, binary] largest m recalled >= 90% exactly."""
    noises = sorted({r["noise"] for r in metrics["limits"]})
    return {f"{q:g}": [_limit(metrics, "bipolar", q), _limit(metrics, "binary", q)] for q in noises}


CLAIMS = (
    Claim(
        id="kosko-eq22",
        paper="kosko",
        source="eq 22",
        quote="Then we can interchange the bipolar- based correlation coefficients cij with the Hamming distances "
        "H(Ai, Aj) through the equality cij = n − 2H ( Ai, Aj ) . (22)",
        statement="the bipolar correlation X_i . X_j of two bit vectors is n - 2 H(A_i, A_j)",
        paper_value=0,
        measure="eq22_largest_gap",
        compare="equal",
        metric="largest |X_i . X_j - (n - 2 H(A_i, A_j))| over random bit vectors of each tested length",
    ),
    Claim(
        id="kosko-bipolar-converges-faster",
        paper="kosko",
        source="sec III.B",
        quote="This same metrical argument helps explain the common observation that correlation-matrix BAMs converge "
        "faster and more accurately if the input keys are bipolar vectors Xk rather than binary vectors Ak.",
        statement="recall from bipolar keys takes fewer synchronous steps than from binary keys",
        paper_value="bipolar faster",
        measure=lambda m: [_mean_steps(m, "bipolar"), _mean_steps(m, "binary")],
        compare="holds",
        metric="[bipolar, binary] mean synchronous steps to a fixed point, over every m and key noise tested",
        check=lambda v: v[0] < v[1],
    ),
    Claim(
        id="kosko-capacity-min-n-p",
        quote=(
            "This section shows why correlation BAMs tend to recall the correct learned association if the number"
            " m of stored associ- ations is small relative to the input and output dimensions n and p: m < min(n,"
            " p)."
        ),
        paper="kosko",
        source="sec III.B",
        statement="a Hebbian BAM tends to recall its m pairs (most of them, exactly) whenever m < min(n, p)",
        paper_value="recalls whenever m < min(n, p)",
        measure=lambda m: {
            r["m"]: r["recall_rate"]
            for r in m["rows"]
            if r["coding"] == "bipolar" and r["noise"] == 0 and r["m"] < m["rule_of_thumb_min_n_p"]
        },
        compare="holds",
        metric="{m: exact-recall rate} for every tested m < min(n, p) (bipolar keys, no noise; tends to: >= 0.5)",
        check=lambda v: min(v.values()) >= 0.5,
    ),
    Claim(
        id="kosko-bipolar-beats-binary",
        quote=(
            "The key result is that the correlation coefficient cij has twice the magnitude of the mixed "
            "coefficient Ai · Xj"
        ),
        paper="kosko",
        source="eq 25",
        statement="bipolar keys recall better than binary ones (the binary cross-correlation carries half the signal)",
        paper_value="bipolar > binary",
        measure=_bipolar_vs_binary,
        compare="holds",
        metric="{key noise: [bipolar, binary] largest m with >= 90% exact recall}",
        check=lambda v: all(a >= b for a, b in v.values()) and any(a > b for a, b in v.values()),
    ),
)

experiment(
    "bam-capacity",
    "Capacity: recall rate vs stored pairs and key noise, bipolar vs binary keys, beside the m < min(n,p) rule",
    Config,
    run,
    quick={"n": 64, "p": 64, "ms": (1, 2, 4, 8, 12, 16, 24, 32, 64), "noises": (0.0, 0.2), "trials": 40},
    claims=CLAIMS,
    hours=0.04,
)
