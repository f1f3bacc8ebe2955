"""Capacity tooling against the section III.B analysis."""

import torch

from bidir.bam.capacity import capacity_sweep, flip_noise, greedy_stored_subset, recall_rate, stored_pairs


def test_flip_noise_flips_exactly_the_requested_count():
    x = torch.ones(50, 40)
    y = flip_noise(x, 0.25, torch.Generator().manual_seed(0))
    assert ((y == -1).sum(1) == 10).all()
    b = flip_noise(torch.zeros(5, 8), 0.5, coding="binary")
    assert (b.sum(1) == 4).all()


def test_few_pairs_are_recalled_and_many_are_not():
    g = torch.Generator().manual_seed(0)
    few = recall_rate(128, 128, 3, noise=0.2, trials=50, generator=g)
    many = recall_rate(128, 128, 128, noise=0.0, trials=20, generator=g)
    assert few["recall_rate"] == 1.0 and few["converged_rate"] == 1.0
    assert many["recall_rate"] < 0.05  # m = min(n, p) is far past capacity


def test_bipolar_keys_beat_binary_keys():
    """Eq (25): a binary key carries half the signal of a bipolar one."""
    rows = capacity_sweep(64, 64, [8], [0.0], trials=100, seed=0)
    rate = {r["coding"]: r["recall_rate"] for r in rows}
    assert rate["bipolar"] > rate["binary"] + 0.2


def test_greedy_subset_is_stored():
    X = torch.randint(0, 2, (32, 5)).double() * 2 - 1
    Y = X[torch.randperm(32)]
    kept = greedy_stored_subset(X, Y)
    assert len(kept) >= 1
    assert stored_pairs(X[kept], Y[kept]).all()


def test_a_tie_on_the_y_side_is_not_strict_storage():
    """x M = (2, 0): the second Y neuron sits on its threshold. Strictly that pair is not stored; under eq (5)
    literally (a tie keeps the state) it is. Both sides of the pair are checked."""
    from bidir.bam import BAM

    X, Y = torch.tensor([[1.0, -1.0]]), torch.tensor([[1.0, 1.0]])
    M = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    assert stored_pairs(X, Y, M, ties="strict").tolist() == [False]
    assert stored_pairs(X, Y, M, ties="keep").tolist() == [True]
    bam = BAM(2, 2)
    bam.M.copy_(M)
    assert bam.is_fixed_point(X, Y, strict=True).tolist() == [False]
    assert bam.is_fixed_point(X, Y, strict=False).tolist() == [True]
    assert stored_pairs(Y, X, M.T, ties="strict").tolist() == [False]  # the same tie, now on the X side
