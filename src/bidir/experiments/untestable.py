"""Checkable-looking statements of the papers that no run can judge, each with its quote and the reason.

A referee reads these beside the claims: they are slips of typesetting (an index or a symbol that no
computation reads otherwise) or statements whose measurement is not built yet. The report lists them
per paper; a test checks each quote against the paper's text like a claim's.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Untestable", "UNTESTABLE"]


@dataclass(frozen=True, kw_only=True)
class Untestable:
    """A paper's statement with no verdict: where it is, its words, and why no run judges it."""

    paper: str  # a key of claims.PAPERS
    source: str
    quote: str
    why: str


UNTESTABLE = (
    Untestable(
        paper="note",
        source="eq 3",
        quote="zj = wj1x1 + wj2x2 + · · ·+ wjnxn + bj, i = 1, 2, · · · ,m (3)",
        why="an erratum of typesetting: the range belongs to the row index j (j = 1, ..., m), not i; the equation "
        "computes the same either way, so no run can tell them apart (the engine uses j: note-engine-equals-autograd)",
    ),
    Untestable(
        paper="note",
        source="eq 8",
        quote="∂J ∂bj = ∂J ∂zj · ∂zj ∂bj = ∂Jj ∂zj (8)",
        why="an erratum of typesetting: J_j for the scalar J (there is no J_j); the engine's dJ/db_j = dJ/dz_j is "
        "checked against autograd (note-engine-equals-autograd)",
    ),
    Untestable(
        paper="note",
        source="eq 9",
        quote="∂J ∂wji = ∂J ∂zj · ∂zj wji = ∂J ∂zj · xi (9)",
        why="an erratum of typesetting: dz_j / w_ji lacks its ∂; the result dJ/dz_j x_i is checked against autograd "
        "(note-engine-equals-autograd)",
    ),
    Untestable(
        paper="jiang",
        source="sec 3.2, eqs 7-8",
        quote="In Equation (7), two loops are present.",
        why="an erratum of numbering: the generative and inhibitory loops are the terms of eq (8), the Wuxing "
        "system; eq (7) has none. Nothing numeric to run (bsp-neuron checks eq 8's loops: jiang-fig5)",
    ),
    Untestable(
        paper="jiang",
        source="sec 4, Fig 6",
        quote="A notable difference, however, is that training on MNIST exhibits greater stability, which can be "
        "attributed to the intrinsic characteristics of the dataset.",
        why="not measured yet: it compares the epoch curves of two runs (method 1 on MNIST and on Fashion-MNIST), and "
        "the report judges claims within a run; both curves are in bsp-mnist's figures",
    ),
    Untestable(
        paper="jiang",
        source="sec 5",
        quote="Experimental results confirm that adjusting parameters closer (in causal distance) to G 1 leads to more "
        "pronounced training responses, validating the local efficiency of the BSP method.",
        why="the paper does not say which parameters, responses or experiment; the neuron's own version (a step in "
        "k11 against one in k15) is claimed and measured (jiang-k11-sooner-than-k15, jiang-k11-further-than-k15)",
    ),
)
