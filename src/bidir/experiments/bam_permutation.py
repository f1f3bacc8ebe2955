"""bam-permutation: Fig 1(a), Table I and eqs (17)-(18) of Kosko (2021).

A Hebbian BAM tries to store the 4-bit bipolar permutation of Table I and its inverse.
We rebuild eq (18) from the pairs the issue names, check the recall sums printed in the
text, find which of the 16 pairs each matrix stores, search all 2^16 subsets for the
largest storable one, and repeat the count for random n-bit permutations.

Table I's rows are not in the paper's text: ``TABLE_I_PERMUTATION`` is a reconstruction. Eq (17),
eq (18) and the recall sums fix the eight encoded pairs; how the other eight inputs map to the
other eight outputs is our guess. So the Table I claims are judged over ``completions`` random
completions (bijections of the eight unencoded pairs, every one consistent with eqs 17-18) as well
as ours, and under each reading of a zero recall sum (``bidir.bam.dynamics.TIES``): a claim that
holds for some completions and fails for others is inconclusive, whatever our table gives.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field

from ..bam import BAM, hebbian_matrix
from ..bam.capacity import greedy_stored_subset, largest_stored_subset, stored_pairs
from ..bam.dynamics import TIES
from ..data.patterns import TABLE_I_PERMUTATION, permutation_pairs, random_permutation
from ..plotting import figure
from .claims import Claim
from .registry import experiment
from .settings import PositiveInt, settings

# the encoded pairs include the paper's pair 7 (X7 M, Y7 M^T), so at least seven
TablePairs = Annotated[tuple[Annotated[int, Field(ge=1, le=16)], ...], Field(min_length=7)]

Bits = Annotated[tuple[Annotated[int, Field(ge=2, le=10)], ...], Field(min_length=1)]


@settings
class Config:
    """Settings of the bam-permutation experiment; ``pairs`` are the paper's eight encoded Table I pairs."""

    pairs: TablePairs = (1, 2, 3, 5, 12, 14, 15, 16)  # 1-based Table I pairs encoded in eq (18)
    random_bits: Bits = (3, 4, 5, 6, 7, 8)  # n for random n-bit permutations
    random_trials: PositiveInt = 50
    exhaustive_up_to_bits: Annotated[int, Field(ge=0, le=4)] = 4  # exhaustive subset search up to n (2^(2^n) subsets)
    completions: PositiveInt = 100  # random completions of Table I's eight unencoded pairs (of 8! = 40320)


def completions(pairs, count: int, generator: torch.Generator, progress, ours: dict) -> dict:
    """Table I's claims over its possible rows: the largest storable subset and the pairs the all-16 Hebbian matrix
    stores, per reading of a zero sum, for our reconstruction (``ours``: its search per reading, already made) and
    ``count`` random completions of the unencoded pairs (each keeps the eight encoded pairs, so eqs 17-18 and the
    recall sums hold)."""
    perm = list(TABLE_I_PERMUTATION)
    encoded = [i - 1 for i in pairs]
    free = [k for k in range(len(perm)) if k not in encoded]
    targets = [perm[k] for k in free]

    def all_16(X, Y) -> dict:
        return {rule: int(stored_pairs(X, Y, ties=rule).sum()) for rule in TIES}

    def measure(p) -> dict:
        X, Y = (v.double() for v in permutation_pairs(p))
        stored = all_16(X, Y)
        return {
            rule: {"largest": largest_stored_subset(X, Y, ties=rule)["size"], "all_16": stored[rule]} for rule in TIES
        }

    X, Y = (v.double() for v in permutation_pairs(perm))
    stored = all_16(X, Y)
    ours = {rule: {"largest": ours[rule]["size"], "all_16": stored[rule]} for rule in TIES}
    drawn = {rule: {"largest": [], "all_16": []} for rule in TIES}
    for _ in progress(range(count), desc="Table I completions"):
        p = list(perm)
        for k, t in zip(free, torch.randperm(len(free), generator=generator).tolist(), strict=True):
            p[k] = targets[t]
        for rule, found in measure(p).items():
            for key, value in found.items():
                drawn[rule][key].append(value)
    return {"ties": dict(TIES), "ours": ours, "completions": drawn, "sampled": count, "encoded": list(pairs)}


def run(cfg: Config, ctx) -> dict:
    """Fig 1a / Table I: eqs 17-18, the recall sums, what M stores, and storage of random permutations."""
    X, Y = (v.double() for v in permutation_pairs(TABLE_I_PERMUTATION))
    table = table_i(X, Y, cfg.pairs)
    search = {rule: largest_stored_subset(X, Y, ties=rule) for rule in TIES}
    reconstruction = completions(cfg.pairs, cfg.completions, ctx.generator("completions"), ctx.progress, search)
    g = ctx.generator()  # one stream for all sizes
    rows = [random_permutations(n, cfg, g) for n in ctx.progress(cfg.random_bits, desc="random permutations")]
    _log(ctx, table, search, rows, cfg.pairs)
    _log_reconstruction(ctx, reconstruction)
    draw_fig1a(ctx, table, rows)
    return {
        **table,
        "largest_stored_subset": search,
        "table_i_reconstruction": reconstruction,
        "perturbations": perturbations(X, Y, cfg.pairs),
        "paper_largest_stored": PAPER_STORED,
        "random_permutations": rows,
    }


def perturbations(X, Y, pairs) -> dict:
    """Sec II.A's "slight perturbations": every one-bit flip of X1, Y1 (Table I's first encoded pair) and X7, Y7 (the
    seventh), recalled synchronously by eq (5) from the flipped side: the share that returns to its pair."""
    bam = BAM.from_pairs(X[[i - 1 for i in pairs]], Y[[i - 1 for i in pairs]], dtype=torch.float64)  # eq (18)
    out = {}
    for name, k in (("1", pairs[0] - 1), ("7", pairs[6] - 1)):
        for side, key in (("X", X[k]), ("Y", Y[k])):
            flips = key.expand(len(key), -1).clone()
            flips[range(len(key)), range(len(key))] *= -1  # row i: bit i flipped
            r = bam.recall(x=flips) if side == "X" else bam.recall(y=flips)
            back = (r.x == X[k]).all(1) & (r.y == Y[k]).all(1)
            out[f"{side}{name}"] = float(back.double().mean())
    return out


def table_i(X, Y, pairs) -> dict:
    """Eqs (17)-(18) and the recall sums for the paper's eight encoded pairs, and what M stores."""
    idx = [i - 1 for i in pairs]
    bam = BAM.from_pairs(X[idx], Y[idx], dtype=torch.float64)
    M = bam.M
    m1 = hebbian_matrix(X[:1], Y[:1])
    # Pair 7 of the paper's eight is Table I pair 15 here: X7 = (1, 1, 1, -1).
    x1, y1, x7, y7 = X[idx[0]], Y[idx[0]], X[idx[6]], Y[idx[6]]
    sums = {"X1 M": x1 @ M, "Y1 M^T": y1 @ M.T, "X7 M": x7 @ M, "Y7 M^T": y7 @ M.T}
    strict = stored_pairs(X, Y, M, ties="strict")
    ties = stored_pairs(X, Y, M, ties="keep")
    recall = bam.recall(x=X[idx])
    stored = (strict.nonzero().flatten() + 1).tolist()
    return {
        "eq17_matches_paper": m1.tolist() == PAPER_EQ17,
        "eq18_matrix": M,
        "eq18_matches_paper": M.tolist() == PAPER_EQ18,
        "recall_sums": {k: v.long() for k, v in sums.items()},
        "recall_sums_match_paper": all(sums[k].long().tolist() == PAPER_SUMS[k] for k in sums),
        "stored_by_eq18": stored,
        "stored_by_eq18_ties_keep_state": (ties.nonzero().flatten() + 1).tolist(),
        "eq18_stores_exactly_the_encoded_pairs": stored == list(pairs),
        "sync_recall_of_encoded_pairs_exact": bool(((recall.x == X[idx]).all(1) & (recall.y == Y[idx]).all(1)).all()),
        "all_16_encoded": {
            "M": hebbian_matrix(X, Y),
            "stored_strict": int(stored_pairs(X, Y, ties="strict").sum()),
            "stored_ties_keep_state": int(stored_pairs(X, Y, ties="keep").sum()),
        },
    }


def random_permutations(n: int, cfg: Config, g: torch.Generator) -> dict:
    """Storage of random n-bit permutations: all 2^n pairs encoded, and the largest storable subset."""
    all_pairs, best = [], []
    exhaustive = n <= cfg.exhaustive_up_to_bits
    for _ in range(cfg.random_trials):
        Xr, Yr = permutation_pairs(random_permutation(n, g))
        all_pairs.append(int(stored_pairs(Xr, Yr).sum()))
        if exhaustive:
            best.append(largest_stored_subset(Xr, Yr)["size"])
        else:
            best.append(len(greedy_stored_subset(Xr, Yr, order=torch.randperm(2**n, generator=g))))
    return {
        "n": n,
        "pairs": 2**n,
        "stored_when_all_encoded_mean": sum(all_pairs) / len(all_pairs),
        "stored_when_all_encoded_max": max(all_pairs),
        "largest_subset_method": "exhaustive" if exhaustive else "greedy (lower bound)",
        "largest_subset_mean": sum(best) / len(best),
        "largest_subset_max": max(best),
    }


def _log(ctx, table: dict, search: dict, rows: list, pairs) -> None:
    ctx.log(f"eq (17) M1 matches the paper: {table['eq17_matches_paper']}")
    ctx.log(f"eq (18) M matches the paper: {table['eq18_matches_paper']}")
    for key, value in table["recall_sums"].items():
        ctx.log(f"  {key} = {value.tolist()} (paper {PAPER_SUMS[key]})")
    ctx.log(
        f"pairs stored by eq (18): {table['stored_by_eq18']} (encoded: {list(pairs)}); "
        f"sync recall of all eight exact: {table['sync_recall_of_encoded_pairs_exact']}"
    )
    full = table["all_16_encoded"]
    ctx.log(
        f"all 16 pairs encoded: M = {full['M'].long().tolist()}; stored strictly: {full['stored_strict']}, "
        f"with ties keeping state: {full['stored_ties_keep_state']}"
    )
    best = search["strict"]
    ctx.log(
        f"exhaustive search over all 65536 subsets of Table I: largest stored subset has {best['size']} pairs "
        f"({best['count']} subsets, e.g. {best['example']}); paper: at most {PAPER_STORED}"
    )
    for row in rows:
        ctx.log(
            f"n={row['n']}: encoding all {row['pairs']} pairs stores {row['stored_when_all_encoded_mean']:.2f} on "
            f"average; largest storable subset ({row['largest_subset_method']}) mean {row['largest_subset_mean']:.2f}, "
            f"max {row['largest_subset_max']}"
        )


def _log_reconstruction(ctx, rec: dict) -> None:
    ctx.log(
        f"Table I's unencoded rows are reconstructed: over our table and {rec['sampled']} random completions "
        "consistent with eqs 17-18, the largest storable subset is"
    )
    for rule, meaning in rec["ties"].items():
        sizes = rec["completions"][rule]["largest"]
        counts = ", ".join(f"{size}: {sizes.count(size)}" for size in sorted(set(sizes)))
        ctx.log(f"  {rule} ({meaning}): ours {rec['ours'][rule]['largest']}; completions {{{counts}}}")


def draw_fig1a(ctx, table: dict, rows: list) -> None:
    """Fig 1a and Table I: the eq 18 matrix, the pairs it stores, the recall of each."""
    M, stored = table["eq18_matrix"], set(table["stored_by_eq18"])
    fig, axes = figure(1, 3, size=(15, 4.2))
    ax = axes[0]
    im = ax.imshow(M.numpy(), cmap="RdBu_r", vmin=-8, vmax=8)
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            ax.text(j, i, f"{M[i, j].item():g}", ha="center", va="center")
    ax.set_xticks(range(M.shape[1]), [f"y{j + 1}" for j in range(M.shape[1])])
    ax.set_yticks(range(M.shape[0]), [f"x{i + 1}" for i in range(M.shape[0])])
    ax.set_title("eq (18): M = sum of the 8 encoded outer products")
    ax.grid(False)
    fig.colorbar(im, ax=ax, shrink=0.8, label="synapse m_ij")
    ax = axes[1]
    ok = [k in stored for k in range(1, 17)]
    ax.bar(range(1, 17), [1] * 16, color=["tab:green" if s else "tab:red" for s in ok])
    ax.set_xticks(range(1, 17), [str(k) for k in range(1, 17)], fontsize=7)
    ax.set_yticks([])
    ax.set_xlabel("Table I pair")
    ax.set_title("pairs stored by eq (18) (green: fixed point, red: not)")
    ax = axes[2]
    ns = [r["n"] for r in rows]
    ax.semilogy(ns, [r["pairs"] for r in rows], "k--", label="all 2^n pairs")
    ax.semilogy(ns, [max(r["largest_subset_mean"], 0.5) for r in rows], "o-", label="largest storable subset")
    ax.semilogy(ns, [max(r["stored_when_all_encoded_mean"], 0.5) for r in rows], "s-", label="stored when all encoded")
    ax.set_xticks(ns)
    ax.set_xlabel("bits n")
    ax.set_ylabel("pairs (mean over permutations)")
    ax.set_title("random n-bit permutations")
    ax.legend()
    fig.tight_layout()
    ctx.save_figure(fig, "fig1a_permutation")


# The paper's printed numbers: the oracles this experiment checks against.
PAPER_EQ17 = [[-1, -1, 1, 1]] * 4

PAPER_EQ18 = [[-8, -4, 0, 0], [-4, -8, -4, 4], [-4, 0, 4, 4], [-4, 0, 4, -4]]

PAPER_SUMS = {
    "X1 M": [20, 12, -4, -4],
    "Y1 M^T": [-12, -12, -12, -4],
    "X7 M": [-12, -12, -4, 12],
    "Y7 M^T": [12, 20, 4, -4],
}

RECALL_QUOTES = {
    "X1 M": "X1M = (20, 12,−4,−4) → (1, 1,−1,−1) = Y1.",
    "Y1 M^T": "Y1MT = (−12,−12,−12,−4) → (−1,−1,−1,−1) = X1.",
    "X7 M": "Then the forward pass gives X7M = (−12,−12,−4, 12) → (−1,−1,−1, 1) = Y7.",
    "Y7 M^T": "The backward pass gives Y7MT = (12, 20, 4,−4) → (1, 1, 1,−1) = X7.",
}

PAPER_STORED = 8  # "can encode at most eight of the bipolar vector associations"

CLAIMS = (
    Claim(
        id="kosko-eq17",
        quote="This gives the first outer-product memory matrix M1 as",
        paper="kosko",
        source="eq 17",
        statement="the outer product M1 = X1^T Y1 of Table I's first pair",
        paper_value=PAPER_EQ17,
        measure="eq17_matches_paper",
        compare="holds",
        metric="M1 equals the paper's eq 17",
    ),
    Claim(
        id="kosko-eq18",
        quote="Then the final BAM memory matrix M sums these first eight outer-product matrices",
        paper="kosko",
        source="eq 18",
        statement="M, the sum of the eight encoded pairs' outer products",
        paper_value=PAPER_EQ18,
        measure="eq18_matrix",
        compare="equal",
    ),
    *(
        Claim(
            id=f"kosko-recall-{k.replace(' ', '').replace('^', '')}",
            paper="kosko",
            source="sec III.A",
            quote=RECALL_QUOTES[k],
            statement=f"the recall sum {k}",
            paper_value=v,
            measure=f"recall_sums.{k}",
            compare="equal",
        )
        for k, v in PAPER_SUMS.items()
    ),
    Claim(
        id="kosko-table-i-at-most-eight",
        quote="Extensive simulations found that such a BAM can encode at most eight of the bipolar vector associations "
        "from Table I.",
        paper="kosko",
        source="Table I",
        statement="a Hebbian BAM can store at most eight of Table I's 16 pairs (the largest subset whose eq 16 matrix "
        "recalls every pair in it); Table I's unencoded rows are reconstructed, so over every completion and reading "
        "of a zero sum",
        paper_value=PAPER_STORED,
        measure=lambda m: _sizes(m, "largest"),
        compare="holds",
        metric="largest storable subset, [smallest, largest] over our table and the sampled completions, per reading "
        "of a zero recall sum (strict / keep the state, eq 5 / off)",
        check=lambda v: _over_completions(v, lambda size: size <= PAPER_STORED),
    ),
    Claim(
        id="kosko-cannot-learn-all-16",
        quote="It cannot learn all 16 associations in its correlation matrix M in (18).",
        paper="kosko",
        source="sec I, Fig 1a",
        statement="no Hebbian correlation matrix of Table I stores all 16 pairs (over every completion and reading "
        "of a zero sum)",
        paper_value="fewer than 16",
        measure=lambda m: _sizes(m, "largest"),
        compare="holds",
        metric="largest storable subset, [smallest, largest] over our table and the sampled completions, per reading "
        "of a zero recall sum",
        check=lambda v: _over_completions(v, lambda size: size < 16),
    ),
    Claim(
        id="kosko-perturbations",
        quote="Slight perturbations to these vectors still converge to the same bidirectional fixed-point equilibrium.",
        paper="kosko",
        source="sec III.A",
        statement="every one-bit flip of X1, Y1, X7 or Y7 recalls (eq 5, synchronous) back to its stored pair",
        paper_value="every slight perturbation",
        measure="perturbations",
        compare="holds",
        metric="share of the one-bit flips of each vector that recall its pair (X1, Y1) or (X7, Y7)",
        check=lambda v: all(share == 1 for share in v.values()),
    ),
)


def _sizes(metrics: dict, key: str) -> dict:
    """Per reading of a zero sum: [smallest, largest] of ``key`` over our table and the sampled completions."""
    rec = metrics["table_i_reconstruction"]
    return {
        rule: [
            min(rec["completions"][rule][key] + [rec["ours"][rule][key]]),
            max(rec["completions"][rule][key] + [rec["ours"][rule][key]]),
        ]
        for rule in rec["ours"]
    }


def _over_completions(ranges: dict, holds) -> str:
    """reproduced: the claim holds for every completion under every reading; contradicted: for none under any;
    inconclusive: it depends on the reconstructed rows or the reading, which the paper does not give."""
    ends = [holds(size) for low, high in ranges.values() for size in (low, high)]
    return "reproduced" if all(ends) else "contradicted" if not any(ends) else "inconclusive"


experiment(
    "bam-permutation",
    "Fig 1a / Table I: Hebbian BAM on a 4-bit permutation; eq 17-18 and recall sums; storage counts",
    Config,
    run,
    quick={"random_bits": (3, 4, 5), "random_trials": 8, "completions": 4},
    claims=CLAIMS,
    hours=0.01,
    figures={"fig1a_permutation": "Kosko Fig 1a, Table I"},
)
