"""Adaptive BAMs: energy (39)-(42) and the learning laws (34), (43), (32)."""

import pytest
import torch

from bidir.bam import BAM, ContinuousABAM, hebbian_abam


def system(law, c_y=1.0, seed=0, n=5, p=4, batch=3):
    g = torch.Generator().manual_seed(seed)
    d = torch.float64
    model = ContinuousABAM(
        n, p, law, 1.0, c_y, 2 * torch.randn(n, generator=g, dtype=d), 2 * torch.randn(p, generator=g, dtype=d), dtype=d
    )
    state = (
        torch.randn(batch, n, generator=g, dtype=d),
        torch.randn(batch, p, generator=g, dtype=d),
        0.5 * torch.randn(batch, n, p, generator=g, dtype=d),
    )
    return model, state


@pytest.mark.parametrize("law", ["hebbian", "competitive"])
def test_energy_rate_equals_the_derivative_of_energy_along_the_flow(law):
    """Eq (40) against autograd: dE/dt = grad E . f(state)."""
    model, state = system(law, c_y=3.0)
    state = tuple(s.requires_grad_(True) for s in state)
    E = model.energy(*state).sum()
    grads = torch.autograd.grad(E, state)
    with torch.no_grad():
        flow = model(None, state)
        expected = sum((g * f).flatten(1).sum(1) for g, f in zip(grads, flow, strict=True))
        assert torch.allclose(model.energy_rate(*state), expected, rtol=1e-10, atol=1e-10)


def test_hebbian_energy_rate_is_minus_a_sum_of_squares():
    """Eq (41): with the Hebbian law, Edot = -sum a' do^2 - sum mdot^2 <= 0."""
    model, state = system("hebbian")
    o_x, o_y, M = state
    do_x, do_y, dM = model(None, state)
    a_x, a_y = model.activations(o_x, o_y)
    expected = (
        -(a_x * (1 - a_x) * do_x**2).sum(1) - (model.c_y * a_y * (1 - a_y) * do_y**2).sum(1) - (dM**2).sum((1, 2))
    )
    assert torch.allclose(model.energy_rate(*state), expected)
    assert (model.energy_rate(*state) < 0).all()


def test_hebbian_abam_falls_and_learns_the_correlations():
    model, state = system("hebbian")
    tr = model.integrate(*state, torch.linspace(0, 80, 201, dtype=torch.float64))
    assert (tr.energy.diff(dim=0) <= 1e-10).all()
    a_x, a_y = model.activations(tr.o_x[-1], tr.o_y[-1])
    assert torch.allclose(tr.M[-1], a_x.unsqueeze(-1) * a_y.unsqueeze(-2), atol=1e-6)  # eq (34) equilibrium


@pytest.mark.parametrize("seed", range(3))
def test_competitive_abam_with_win_loss_neurons_falls_and_winners_learn_the_input(seed):
    model, state = system("competitive", c_y=100.0, seed=seed)
    tr = model.integrate(*state, torch.linspace(0, 40, 201, dtype=torch.float64))
    assert (tr.energy.diff(dim=0) <= 1e-9).all()
    a_x, a_y = model.activations(tr.o_x[-1], tr.o_y[-1])
    winners = a_y > 0.5
    assert winners.any()
    gap = (tr.M[-1] - a_x.unsqueeze(-1)).abs()
    assert (gap.permute(0, 2, 1)[winners] < 1e-4).all()  # eq (43): m_.j -> a_x for a winner j


def test_hebbian_solution_eq36():
    """With clamped activations the synapse follows m(t) = e^-t m(0) + 1 - e^-t (eq 36)."""
    model = ContinuousABAM(1, 1, "hebbian", 1.0, 1.0, [50.0], [50.0], dtype=torch.float64)  # inputs saturate a to ~1
    t = torch.linspace(0, 5, 11, dtype=torch.float64)
    tr = model.integrate([[60.0]], [[60.0]], torch.tensor([[-0.7]]), t)
    expected = torch.exp(-t) * -0.7 + 1 - torch.exp(-t)
    assert torch.allclose(tr.M[:, 0, 0, 0], expected, atol=1e-6)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_discrete_hebbian_abam_energy_strictly_falls(mode):
    bam = BAM(20, 15)
    bam.M.copy_(torch.randn(20, 15))
    x = torch.randint(0, 2, (6, 20)).float() * 2 - 1
    before = bam.M.clone()
    d = hebbian_abam(bam, x, steps=15, mode=mode, k=4)
    assert (d.energy.diff(dim=-1) < 0).all()  # eq (33): every Hebbian step lowers E
    assert d.M.shape == (6, 20, 15)
    assert torch.equal(bam.M, before)  # the BAM's own matrix is untouched


def test_competitive_abam_with_shallow_neurons_can_raise_energy():
    """Eqs (44)-(45) need a_y in {0, 1}; a shallow logistic breaks the argument."""
    rises = []
    for seed in range(3):
        model, state = system("competitive", c_y=1.0, seed=seed)
        rises.append(
            model.integrate(*state, torch.linspace(0, 40, 201, dtype=torch.float64)).energy.diff(dim=0).max().item()
        )
    assert max(rises) > 1e-4


def test_discrete_abam_learning_rate_follows_c_t_exactly():
    """At a fixed point of the neurons, M_T = M_0 + sum_t c_t x^T y with c_t = rate / (1 + t)^rate_decay (eq 32)."""
    from bidir.bam.adaptive import learning_rate

    x, y = torch.tensor([[1.0, -1.0, 1.0]], dtype=torch.float64), torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    bam = BAM.from_pairs(x, y, dtype=torch.float64)
    bam.M.mul_(10)  # (x, y) is a fixed point from the start, so the states stay put
    rates = [learning_rate(t, 2.0, 0.5) for t in range(3)]
    assert rates == [2.0, 2.0 / 2**0.5, 2.0 / 3**0.5]
    d = hebbian_abam(bam, x, y, steps=3, rate=2.0, rate_decay=0.5)
    assert torch.equal(d.x, x) and torch.equal(d.y, y)
    expected = bam.M + sum(rates) * x.T @ y
    assert torch.allclose(d.M[0], expected, atol=1e-12)
    assert torch.allclose(d.energy.diff(dim=-1)[0], -torch.tensor(rates, dtype=torch.float64) * 3 * 2, atol=1e-9)
