"""Dynamics: energy never rises (the discrete BAM theorem), fixed points, ties, batching."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bidir.bam import BAM
from bidir.bam.capacity import flip_noise
from bidir.data.patterns import LETTERS_9x12, LETTERS_10x14, letter


def random_bam(seed, n, p, coding, thresholds):
    g = torch.Generator().manual_seed(seed)
    tx = torch.randn(n, generator=g) if thresholds else None
    ty = torch.randn(p, generator=g) if thresholds else None
    bam = BAM(n, p, coding=coding, threshold_x=tx, threshold_y=ty, dtype=torch.float64)
    bam.M.copy_(torch.randn(n, p, generator=g, dtype=torch.float64))  # any real matrix
    off = -1 if coding == "bipolar" else 0
    x = torch.where(torch.rand(16, n, generator=g) < 0.5, 1.0, float(off))
    return bam, x


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 40),
    p=st.integers(1, 40),
    coding=st.sampled_from(["bipolar", "binary"]),
    mode=st.sampled_from(["sync", "async"]),
    thresholds=st.booleans(),
    k=st.integers(1, 40),
)
def test_energy_never_increases_and_ends_at_a_fixed_point(seed, n, p, coding, mode, thresholds, k):
    bam, x = random_bam(seed, n, p, coding, thresholds)
    r = bam.recall(x=x, mode=mode, k=min(k, n, p), seed=seed, max_steps=5000)
    assert (r.energy.diff(dim=-1) <= 1e-9).all()
    assert (r.energy >= bam.energy_bound() - 1e-9).all()  # eq (9)
    assert r.converged.all()
    assert bam.is_fixed_point(r.x, r.y, strict=False).all()
    assert torch.allclose(r.energy[:, -1], bam.energy(r.x, r.y))
    # The first entry of the trace is the energy of the start state.
    assert torch.allclose(r.energy[:, 0], bam.energy(x, bam.forward(x)))


def test_every_state_change_strictly_lowers_energy():
    bam, x = random_bam(3, 30, 20, "bipolar", True)
    r = bam.recall(x=x, mode="async", k=3, seed=1, record_states=True)
    states_changed = (r.states_x.diff(dim=0) != 0).any(-1) | (r.states_y.diff(dim=0) != 0).any(-1)  # (T, B)
    assert (r.energy.diff(dim=-1).T[states_changed] < 0).all()


def test_ties_keep_the_previous_state():
    bam = BAM(2, 2)
    bam.M.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
    # x = (1, -1): x M = (0, 2); neuron 0 ties and keeps its previous state.
    assert bam.forward([1, -1], y_prev=[1, -1]).tolist() == [[1, 1]]
    assert bam.forward([1, -1], y_prev=[-1, -1]).tolist() == [[-1, 1]]


def test_thresholds_shift_the_decision():
    bam = BAM(1, 1, threshold_y=[2.5])
    bam.M.fill_(2.0)
    assert bam.forward([1]).tolist() == [[-1]]  # 2 < 2.5
    bam.threshold_y.fill_(1.5)
    assert bam.forward([1]).tolist() == [[1]]


def test_batched_recall_equals_one_probe_at_a_time():
    bam, x = random_bam(7, 25, 17, "bipolar", False)
    batch = bam.recall(x=x)
    for i in range(x.shape[0]):
        one = bam.recall(x=x[i])
        assert torch.equal(one.x[0], batch.x[i]) and torch.equal(one.y[0], batch.y[i])
        assert one.steps[0] == batch.steps[i]


def test_async_recall_is_deterministic_given_the_seed():
    bam, x = random_bam(11, 30, 30, "bipolar", False)
    a = bam.recall(x=x, mode="async", k=2, seed=5)
    b = bam.recall(x=x, mode="async", k=2, seed=5)
    assert torch.equal(a.x, b.x) and torch.equal(a.steps, b.steps)


def test_async_updates_at_most_k_neurons_per_field_per_step():
    bam, x = random_bam(13, 40, 30, "bipolar", False)
    r = bam.recall(x=x, mode="async", k=3, seed=0, record_states=True)
    assert ((r.states_x.diff(dim=0) != 0).sum(-1) <= 3).all()
    assert ((r.states_y.diff(dim=0) != 0).sum(-1) <= 3).all()


def test_fig2_letters_recall_from_40_percent_noise():
    X = torch.stack([letter(c, LETTERS_10x14) for c in "SMG"])
    Y = torch.stack([letter(c, LETTERS_9x12) for c in "EVN"])
    bam = BAM.from_pairs(X, Y)
    assert bam.n == 140 and bam.p == 108
    assert bam.is_fixed_point(X, Y).all()
    g = torch.Generator().manual_seed(0)
    xs = flip_noise(X[0].expand(300, -1), 0.4, g)
    ys = flip_noise(Y[0].expand(300, -1), 0.4, g)
    assert ((xs != X[0]).sum(1) == 56).all()  # exactly 40% of 140 bits flipped
    r = bam.recall(x=xs, y=ys, mode="async", k=6, generator=g)
    ok = (r.x == X[0]).all(1) & (r.y == Y[0]).all(1)
    assert r.converged.all()
    assert ok.float().mean() > 0.75  # measured ~0.87
    assert (r.energy.diff(dim=-1) <= 0).all()


@pytest.mark.parametrize("coding", ["bipolar", "binary"])
def test_synchronous_recall_that_skips_converged_probes_gives_the_general_loops_numbers(coding):
    """The sync fast path multiplies only the probes still moving; the general loop (taken when states are
    recorded) multiplies all of them: the same states, steps, convergence and energy traces."""
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 2, (30, 100), generator=g).float() * 2 - 1
    Y = torch.randint(0, 2, (30, 80), generator=g).float() * 2 - 1
    if coding == "binary":
        X, Y = (X + 1) / 2, (Y + 1) / 2
    bam = BAM.from_pairs(X, Y, coding=coding)
    keys = flip_noise(X.repeat(10, 1), 0.3, g, coding)
    fast, general = bam.recall(x=keys, max_steps=30), bam.recall(x=keys, max_steps=30, record_states=True)
    assert 1 < int(fast.steps.max()) and len(set(fast.steps.tolist())) > 1  # probes converge at different steps
    for name in ("x", "y", "converged", "steps", "energy"):
        assert torch.equal(getattr(fast, name), getattr(general, name)), name
    short = bam.recall(x=keys, max_steps=1)  # the step limit: unconverged probes stay as they are
    assert torch.equal(short.x, bam.recall(x=keys, max_steps=1, record_states=True).x)
