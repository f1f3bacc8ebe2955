"""Closed-form oracles from Kosko (2021): eqs (16)-(18) and the recall sums in the text."""

import torch

from bidir.bam import BAM, hebbian_matrix, to_bipolar
from bidir.bam.capacity import largest_stored_subset, stored_pairs
from bidir.data.patterns import TABLE_I_PERMUTATION, bipolar_cube, permutation_pairs

EIGHT = [1, 2, 3, 5, 12, 14, 15, 16]


def table_i():
    X, Y = permutation_pairs(TABLE_I_PERMUTATION)
    return X.double(), Y.double()


def test_table_i_first_pair_and_seventh_pair_match_the_text():
    X, Y = table_i()
    assert X[0].tolist() == [-1, -1, -1, -1] and Y[0].tolist() == [1, 1, -1, -1]
    assert X[14].tolist() == [1, 1, 1, -1] and Y[14].tolist() == [-1, -1, -1, 1]  # the paper's (X7, Y7)


def test_eq17_first_outer_product():
    X, Y = table_i()
    assert hebbian_matrix(X[:1], Y[:1]).tolist() == [[-1, -1, 1, 1]] * 4


def test_eq18_memory_matrix():
    X, Y = table_i()
    idx = [i - 1 for i in EIGHT]
    assert BAM.from_pairs(X[idx], Y[idx]).M.tolist() == [[-8, -4, 0, 0], [-4, -8, -4, 4], [-4, 0, 4, 4], [-4, 0, 4, -4]]


def test_recall_sums_in_the_text():
    X, Y = table_i()
    idx = [i - 1 for i in EIGHT]
    M = hebbian_matrix(X[idx], Y[idx])
    assert (X[0] @ M).tolist() == [20, 12, -4, -4]
    assert (Y[0] @ M.T).tolist() == [-12, -12, -12, -4]
    assert (X[14] @ M).tolist() == [-12, -12, -4, 12]
    assert (Y[14] @ M.T).tolist() == [12, 20, 4, -4]


def test_eq18_stores_exactly_the_eight_encoded_pairs():
    X, Y = table_i()
    idx = [i - 1 for i in EIGHT]
    bam = BAM.from_pairs(X[idx], Y[idx])
    assert (bam.is_fixed_point(X, Y).nonzero().flatten() + 1).tolist() == EIGHT
    r = bam.recall(x=X[idx])
    assert torch.equal(r.x, X[idx].float()) and torch.equal(r.y, Y[idx].float())
    r = bam.recall(y=Y[idx])  # and from the Y side
    assert torch.equal(r.x, X[idx].float()) and torch.equal(r.y, Y[idx].float())


def test_whole_permutation_memory_is_degenerate():
    # Encoding all 16 pairs: every entry of M is a multiple of 8 with a zero row, so every
    # pair sits on a tie somewhere; none is stored strictly.
    X, Y = table_i()
    assert int(stored_pairs(X, Y, ties="strict").sum()) == 0
    assert (hebbian_matrix(X, Y)[2] == 0).all()


def test_exhaustive_subset_search_finds_twelve():
    # A measured finding: 12 pairs of Table I can be stored strictly, more than the paper's 8.
    X, Y = table_i()
    best = largest_stored_subset(X, Y)
    assert best["size"] == 12
    sub = [i - 1 for i in best["example"]]
    assert stored_pairs(X[sub], Y[sub]).all()


def test_add_and_erase_pair():
    X, Y = table_i()
    bam = BAM.from_pairs(X[:3], Y[:3])
    before = bam.M.clone()
    bam.add_pair(X[5], Y[5])
    assert torch.equal(bam.M, before + torch.outer(X[5], Y[5]).float())
    bam.erase_pair(X[5], Y[5])
    assert torch.equal(bam.M, before)
    # -M_k associates X_k with the complement of Y_k (section III.A)
    neg = BAM(4, 4).add_pair(X[0], Y[0])
    neg.M.neg_()
    assert torch.equal(neg.forward(X[0])[0], -Y[0].float())


def test_binary_pairs_are_encoded_through_their_bipolar_forms():
    A = torch.tensor([[1.0, 0, 1, 0, 1, 1], [0.0, 1, 1, 0, 0, 1]])
    B = torch.tensor([[1.0, 0, 0, 1], [0.0, 0, 1, 1]])
    bam = BAM.from_pairs(A, B, coding="binary")
    assert torch.equal(bam.M, to_bipolar(A).T @ to_bipolar(B))
    assert bam.is_fixed_point(A, B).all()


def test_bipolar_cube_is_lexicographic():
    assert bipolar_cube(2).tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]
