"""BSP: the symmetric ODE neuron, causal distance, networks and the two learning rules.

Oracles come from the math: the analytic Jacobians against autograd, the reverse system's
Jacobian against the forward one's transpose, the fast fields against the term-by-term
system of eq (8)/(12), G1 against finite differences of the loss.
"""

import math

import numpy as np
import pytest
import torch

from bidir.bsp.causal import ODESystem, Term, symmetric_neuron_system
from bidir.bsp.couplings import one_to_one
from bidir.bsp.learning import BSPRule, backprop_loss, bsp_g1, clip, gradient_agreement, output_error
from bidir.bsp.network import SOLVERS, TABLEAUS, BSPNetwork, runge_kutta
from bidir.bsp.neuron import (
    ELEMENTS,
    HOPF_RATIO,
    OscillatingRegimeError,
    check_stable,
    field,
    field_by_element,
    fixed_point,
    fixed_point_approx,
    forward_tangent,
    jacobian,
    max_real_eigenvalue,
    pulse,
    simulate,
    uniform_rates,
)
from bidir.errors import BidirError, InvalidInputError

pytestmark = pytest.mark.usefixtures("float64")


def rates(n=3, jitter=0.0, seed=0, **kw):
    return uniform_rates(n, 5, jitter=jitter, generator=torch.Generator().manual_seed(seed), dtype=torch.float64, **kw)


# -- the neuron ------------------------------------------------------------------------
def test_fixed_point_uniform_is_eq15_and_newton_solves_jittered():
    k = rates(k1=1.3, k2=0.4, k3=0.3)
    assert torch.allclose(fixed_point(*k), torch.full((3, 5), (1.3 - 0.4) / 0.3))
    assert torch.allclose(fixed_point_approx(*k), torch.full((3,), 3.0))
    kj = rates(50, jitter=0.1)
    for reverse in (False, True):
        x = fixed_point(*kj, reverse=reverse)
        assert field(x, *kj, reverse=reverse).abs().max() < 1e-9
        assert (x > 0).all()


@pytest.mark.parametrize("reverse", [False, True])
def test_analytic_jacobian_matches_autograd(reverse):
    k = rates(4, jitter=0.2, seed=1)
    x = torch.rand(4, 5) + 1
    auto = torch.func.vmap(torch.func.jacrev(lambda x, a, b, c: field(x, a, b, c, reverse)))(x, *k)
    assert torch.allclose(jacobian(x, *k, reverse=reverse), auto, atol=1e-12)


def test_forward_tangent_is_the_jacobian_times_the_direction():
    k = rates(4, jitter=0.2, seed=3)
    x, dx = torch.rand(4, 5) + 1, torch.randn(4, 5)
    assert torch.allclose(forward_tangent(x, dx, *k), (jacobian(x, *k) @ dx.unsqueeze(-1)).squeeze(-1), atol=1e-12)


def test_reverse_jacobian_is_forward_transpose_at_the_fixed_point():
    for k1, k2, k3 in [(1.0, 0.5, 0.25), (2.0, 0.3, 1.7)]:
        k = rates(1, k1=k1, k2=k2, k3=k3)
        A, A_rev = jacobian(fixed_point(*k), *k), jacobian(fixed_point(*k, reverse=True), *k, reverse=True)
        assert torch.allclose(A_rev, A.mT, atol=1e-12)
        assert not torch.allclose(A, A.mT)  # not trivially symmetric


def test_fields_equal_the_term_by_term_system_of_eqs_8_and_12():
    k = rates(1, jitter=0.3, seed=2)
    system = symmetric_neuron_system()
    system.parameters = {f"k{g + 1}{i + 1}": float(k[g][0, i]) for g in range(3) for i in range(5)}
    x = torch.rand(1, 5) * 3
    state = dict(zip(ELEMENTS, x[0].tolist(), strict=True))
    for sys, reverse in ((system, False), (system.reversed(), True)):
        rate = sys.rate(state)
        assert torch.allclose(field(x, *k, reverse=reverse)[0], torch.tensor([rate[e] for e in ELEMENTS]), atol=1e-12)


def test_hopf_point_and_regime_check():
    assert abs(HOPF_RATIO - 0.1459) < 1e-3  # notes 2.4: 0.146
    assert max_real_eigenvalue(*rates(1, k2=0.14))[0] > 0 > max_real_eigenvalue(*rates(1, k2=0.16))[0]
    with pytest.raises(OscillatingRegimeError, match="oscillating regime"):
        check_stable(*rates(2, k2=0.1))
    with pytest.raises(OscillatingRegimeError):
        BSPNetwork([4, 3, 2], rates=(1.0, 0.1, 0.25))


def test_k3_only_scales_the_neuron():
    """x = B0 u removes K3 (notes 2.3): doubling K3 halves every trajectory (and the input)."""
    k = rates(1)
    inp = lambda t: torch.tensor([0.2 if float(t) < 1 else 0.0])  # noqa: E731
    _, a = simulate(*k, inp, horizon=10, dt=0.1)
    _, b = simulate(k[0], k[1], 2 * k[2], lambda t: inp(t) / 2, horizon=10, dt=0.1)
    assert torch.allclose(a, 2 * b, atol=1e-12)


def test_stable_neuron_returns_to_rest_and_reverse_mirrors_forward():
    k = rates(1)
    inp = lambda t: torch.tensor([0.2 if float(t) < 1 else 0.0])  # noqa: E731
    t, f = simulate(*k, inp, horizon=40, dt=0.05, input_element=0)
    _, r = simulate(*k, inp, horizon=40, dt=0.05, input_element=1, reverse=True)
    b0 = fixed_point(*k)
    assert (f[-1] - b0).abs().max() < 1e-4
    # the integrated forward response J -> S equals the reverse one S -> J (the adjoint, notes 5.1)
    assert torch.trapezoid(f[:, 0, 1] - 2, t) == pytest.approx(torch.trapezoid(r[:, 0, 0] - 2, t).item(), rel=1e-6)


def test_near_the_hopf_point_the_integrated_response_is_nonlinear_and_shunting_makes_it_elu_like():
    """The effective activation (integrated S output against the J pulse's area, both / B0):
    nearly linear at K2/K1 = 0.5 for small areas. At 0.3 it dips to about -B0, then turns back up
    for areas below -4 B0 (J goes negative and inhibition becomes excitation), and grows faster
    than linearly for positive areas. A shunting input (negative current x E_J / B0) leaves the
    positive side as it is and makes the negative side a monotone floor near -B0, like an ELU."""
    areas = torch.tensor([-8.0, -4.0, -2.0, -0.05, 0.05, 2.0, 4.0])

    def response(k2, mode="additive"):
        k = uniform_rates(len(areas), 5, 1.0, k2, 0.25, dtype=torch.float64)
        b0 = (1.0 - k2) / 0.25
        t, xs = simulate(
            *k, lambda t: areas * b0 * (1.0 if float(t) < 1 else 0.0), horizon=20, dt=0.05, input_mode=mode
        )
        return dict(zip(areas.tolist(), (torch.trapezoid(xs[:, :, 1] - b0, t, dim=0) / b0).tolist(), strict=True))

    lin, r, shunt = response(0.5), response(0.3), response(0.3, "shunting")
    assert lin[0.05] / 0.05 == pytest.approx(-lin[-0.05] / 0.05, rel=0.05)  # small signals: linear
    assert -1.1 < r[-2.0] < -0.9 and r[-4.0] > r[-2.0] and r[-8.0] > 5  # a minimum near -B0, then back up
    assert r[4.0] > 2.3 * r[2.0] > 2.3 * 2.0  # superlinear growth
    for a in (0.05, 2.0, 4.0):
        assert shunt[a] == pytest.approx(r[a], rel=1e-9)
    assert -1.0 < shunt[-8.0] < shunt[-4.0] < shunt[-2.0] < shunt[-0.05] < 0  # monotone, floored
    assert shunt[-0.05] == pytest.approx(r[-0.05], rel=0.02)  # the same small-signal gain
    with pytest.raises(InvalidInputError, match="input_mode"):
        simulate(*uniform_rates(1, 5), lambda t: torch.zeros(1), horizon=1, dt=0.5, input_mode="divisive")


@pytest.mark.parametrize(
    "bad, match",
    [
        ((1.0, 1.0, 0.25), "K2 must be smaller"),
        ((1.0, 1.5, 0.25), "K2 must be smaller"),
        ((1.0, 0.5, -0.25), "positive"),
        ((-1.0, 0.5, 0.25), "positive"),
        ((1.0, float("nan"), 0.25), "NaN"),
    ],
)
def test_bad_rates_raise(bad, match):
    with pytest.raises(InvalidInputError, match=match):
        BSPNetwork([4, 3, 2], rates=bad)


# -- causal distance -----------------------------------------------------------------
def test_fig5_tables_and_their_invariance():
    system = symmetric_neuron_system()
    gen = system.only("generation").distances()
    # J -> S -> M -> H -> T -> J: distance from a to b is (b - a) mod 5
    assert np.array_equal(gen, np.array([[(j - i) % 5 for j in range(5)] for i in range(5)]))
    inh = system.only("inhibition").distances()  # J -| M -| T -| S -| H -| J: steps of 2
    assert np.array_equal(inh, np.array([[((j - i) * 3) % 5 for j in range(5)] for i in range(5)]))
    for loop in ("generation", "inhibition", "decay"):
        sub = system.only(loop)
        assert np.array_equal(sub.reversed().distances(), sub.distances().T)
    whole = system.distances()
    assert np.array_equal(system.reversed().distances(), whole.T)
    assert sorted(whole[0].tolist()) == [0, 1, 1, 2, 2]  # notes 2.7: from J, S and M at 1, H and T at 2
    # the paper's examples: J depends on T directly; H reaches J through T in the generative loop
    J, T, H = 0, 4, 3
    assert gen[T, J] == 1 and gen[H, J] == 2
    p = system.parameter_distances()
    assert p["k11"]["J"] == 1 and p["k15"]["J"] == 2


def test_reversal_reproduces_eq12_and_rejects_ambiguous_terms():
    rev = symmetric_neuron_system().reversed()
    got = {(t.sign, t.coefficient, tuple(sorted(t.variables))) for t in rev.equations["J"]}
    assert got == {(1, "k12", ("S",)), (-1, "k21", ("J",)), (-1, "k33", ("J", "M"))}  # dJ/dt = k12 S - k21 J - k33 J M
    odd = ODESystem({"a": (Term(1, "c", ("b", "d")),), "b": (), "d": ()}, {"c": 1.0})
    with pytest.raises(InvalidInputError, match="ambiguous"):
        odd.reversed()
    with pytest.raises(InvalidInputError, match="no equation"):
        ODESystem({"a": (Term(1, "c", ("z",)),)})


def test_influence_ranking_orders_by_distance_then_strength():
    system = symmetric_neuron_system()
    ranking = system.influence("J", dict.fromkeys(ELEMENTS, 2.0))
    assert [r["source"] for r in ranking] == ["T", "H", "M", "S"]
    assert [r["distance"] for r in ranking] == [1, 1, 2, 2]


# -- networks ----------------------------------------------------------------------------
def test_one_to_one_assignment():
    g = torch.Generator().manual_seed(0)
    src, dst = one_to_one(10, 3, g)
    assert sorted(src.tolist()) == list(range(10))  # every upstream neuron feeds exactly one
    assert torch.bincount(dst).tolist() == [4, 3, 3]
    src, dst = one_to_one(3, 7, g)
    assert sorted(dst.tolist()) == list(range(7))  # every downstream neuron gets exactly one
    assert torch.bincount(src, minlength=3).min() >= 2


@pytest.mark.parametrize("solver", SOLVERS)
def test_runge_kutta_steps_equal_torchdiffeq_odeint(solver):
    """The network's step loop on a tuple state against torchdiffeq's fixed-grid solver of the same name,
    on the neuron field with a time-dependent input and a running integral."""
    from torchdiffeq import odeint

    k1, k2, k3 = uniform_rates(3, jitter=0.1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x0 = fixed_point(k1, k2, k3) * torch.tensor([1.2, 0.9, 1.0]).unsqueeze(1).double()

    def rhs(t, z):
        dx = field(z[0], k1, k2, k3) + math.sin(t) * z[0].roll(1, -1)
        return dx, z[0].sum(-1)

    ours = runge_kutta(rhs, (x0, torch.zeros(3, dtype=torch.float64)), steps=40, dt=0.1, solver=solver)

    def stacked(t, z):  # the same system as one tensor, the integral in the last column
        dx, dsum = rhs(float(t), (z[:, :5],))
        return torch.cat([dx, dsum.unsqueeze(1)], 1)

    ref = odeint(
        stacked,
        torch.cat([x0, torch.zeros(3, 1, dtype=torch.float64)], 1),
        torch.tensor([0.0, 4.0], dtype=torch.float64),
        method=solver,
        options={"step_size": 0.1},
    )[-1]
    assert torch.allclose(ours[0], ref[:, :5], rtol=0, atol=1e-12) and torch.allclose(
        ours[1], ref[:, 5], rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("reverse", [False, True])
def test_field_by_element_is_the_rolled_field_plus_the_current(reverse):
    k = [r.T.unsqueeze(1) for r in rates(4, jitter=0.2)]  # the network's layout: (N, 1, neurons)
    x, u = torch.rand(5, 3, 4) + 1, torch.randn(3, 4)
    rolled = field(x, *k, reverse=reverse, dim=0)
    rolled[2] += u
    assert torch.allclose(field_by_element(x, *k, reverse, u, 2), rolled, rtol=0, atol=1e-15)


def test_pulse_takes_a_tensor_clock():
    times = [0.0, 0.4, 0.8, 1.0, 1.2, 3.0]
    assert (
        [pulse(torch.tensor(t), 1.0, 0.2).item() for t in times]
        == [pulse(t, 1.0, 0.2) for t in times]
        == [1, 1, 1, 0.5, 0, 0]
    )


def test_compiled_network_gives_the_eager_numbers():
    """compiled=True (torch.compile of each Runge-Kutta step) is a speed option: same forward and reverse
    integrals, trajectory gains included, on a network with a dense and a one-to-one layer."""
    nets = [
        BSPNetwork(
            [12, 7, 5],
            input_connection="dense",
            connection="one-to-one",
            dt=0.5,
            horizon=10.0,
            dtype=torch.float64,
            coupling_gain="fixed-point",
            compiled=c,
        )
        for c in (False, True)
    ]
    with torch.no_grad():
        nets[0].log_k3_shift.normal_(0, 0.1)
        nets[1].load_state_dict(nets[0].state_dict())
    x, e = torch.rand(4, 12), torch.randn(4, 5) * 0.1
    with torch.no_grad():  # BSP's passes; under autograd (the backprop baseline) the network stays eager
        (fwd, gain), (fwd_c, gain_c) = ((net.run(x), net.run(x, trajectory_gain=True)) for net in nets)
        for a, b in (
            (fwd.at_in, fwd_c.at_in),
            (fwd.at_out, fwd_c.at_out),
            (gain.gain, gain_c.gain),
            (nets[0].backward_pass(e, gain.gain).at_in, nets[1].backward_pass(e, gain_c.gain).at_in),
        ):
            assert torch.allclose(a, b, rtol=0, atol=1e-12 * a.abs().max().item())
    assert nets[1].fused is False  # autograd on


def test_compiled_network_without_a_compiler_says_so():
    import torch._inductor.config as inductor

    net = BSPNetwork([6, 4, 3], compiled=True, dt=0.5, horizon=5.0)
    with (
        inductor.patch({"cpp.cxx": ("/nonexistent/g++",), "fx_graph_cache": False}),
        torch.no_grad(),
        pytest.raises(BidirError, match="needs a working C\\+\\+ compiler"),
    ):
        net.run(torch.rand(3, 6))
    with pytest.raises(InvalidInputError, match="compiled must be True or False"):
        BSPNetwork([6, 4, 3], compiled="yes")


@pytest.mark.parametrize("connection", ["dense", "one-to-one"])
def test_batch_equals_one_sample_at_a_time(connection):
    net = BSPNetwork([12, 7, 5, 3], connection=connection, dt=0.5, horizon=10.0, dtype=torch.float64)
    x = torch.rand(5, 12)
    fwd = net.run(x)
    e = torch.randn(5, 3) * 0.1
    rev = net.backward_pass(e)
    for i in range(5):
        one = net.run(x[i : i + 1])
        assert torch.allclose(one.at_out, fwd.at_out[i : i + 1], atol=1e-13)
        assert torch.allclose(net.backward_pass(e[i : i + 1]).at_in, rev.at_in[i : i + 1], atol=1e-13)


@pytest.mark.parametrize("connection", ["dense", "one-to-one"])
def test_limit_norms_projects_each_incoming_vector_onto_the_ball(connection):
    net = BSPNetwork([12, 7, 5, 3], connection=connection, dt=0.5, horizon=10.0, init_scale=3.0)
    before = [w.detach().clone() for w in net.weights]

    def incoming_norms(layer, w):  # per downstream neuron, from the wiring
        if net.is_dense(layer):
            return w.norm(dim=0)
        dst = net.couplings[layer].dst
        return torch.zeros(net.sizes[layer + 1], dtype=w.dtype).index_add(0, dst, w * w).sqrt()

    limit = incoming_norms(1, before[1]).median().item()
    net.limit_norms_(limit)
    for layer, (w0, w) in enumerate(zip(before, net.weights, strict=True)):
        n0, n = incoming_norms(layer, w0), incoming_norms(layer, w.detach())
        assert torch.allclose(n, n0.clamp(max=limit), rtol=1e-5)  # only the long ones shrink, onto the bound
        kept = n0 <= limit
        if net.is_dense(layer):
            assert torch.equal(w.detach()[:, kept], w0[:, kept])
    with pytest.raises(InvalidInputError, match="max_norm"):
        net.limit_norms_(0.0)


def test_bad_network_inputs_raise():
    net = BSPNetwork([6, 4, 3], dt=0.5, horizon=5.0)
    with pytest.raises(InvalidInputError, match="NaN"):
        net.run(torch.full((2, 6), float("nan")))
    with pytest.raises(InvalidInputError, match="shape"):
        net.run(torch.rand(2, 5))
    with pytest.raises(InvalidInputError, match="shape"):
        net.backward_pass(torch.rand(2, 4))
    for kwargs, match in [
        ({"connection": "sparse"}, "connection"),
        ({"dt": 0.3}, "multiples"),
        ({"in_element": 1, "out_element": 1}, "different"),
        ({"horizon": -1.0}, "positive"),
        ({"solver": "dopri5"}, "solver"),
        ({"input_mode": "divisive"}, "input_mode"),
        ({"rates": [(1.0, 0.5, 0.25)] * 3}, "one such triple per layer"),
    ]:
        with pytest.raises(InvalidInputError, match=match):
            BSPNetwork([6, 4, 3], **kwargs)
    for kwargs, match in [
        ({"method": "weights"}, "method"),
        ({"lr": -1.0}, "positive"),
        ({"error": "hinge"}, "error"),
        ({"score_penalty": -0.1}, "score_penalty"),
        ({"score_penalty": float("nan")}, "score_penalty"),
        ({"reverse_gain": "forward"}, "reverse_gain"),
    ]:
        with pytest.raises(InvalidInputError, match=match):
            BSPRule(**kwargs)


# -- BSP signals against the true gradient -----------------------------------------
def _finite_difference(net, params, x, y, rule, eps=1e-6):
    grads = []
    for p in params:
        g = torch.zeros_like(p)
        flat, gflat = p.data.view(-1), g.view(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + eps
            up = backprop_loss(net, x, y, rule).item()
            flat[i] = old - eps
            down = backprop_loss(net, x, y, rule).item()
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
        grads.append(-g)
    return grads


@pytest.mark.parametrize(
    "connection, input_mode, rule",
    [
        ("dense", "additive", BSPRule()),
        ("one-to-one", "additive", BSPRule()),
        ("dense", "shunting", BSPRule()),
        ("dense", "additive", BSPRule(error="softmax", score_penalty=3.0)),
    ],
)
def test_method2_g1_is_the_descent_direction_by_finite_differences(connection, input_mode, rule):
    """Small signals: G1 is the gradient, also with shunting inputs (additive when linearised) and
    with the score penalty in the injected error."""
    torch.manual_seed(0)
    net = BSPNetwork(
        [6, 5, 4, 3],
        connection=connection,
        dt=0.1,
        horizon=25.0,
        dtype=torch.float64,
        init_scale=1.5,
        input_mode=input_mode,
    )
    x, y = torch.rand(8, 6), torch.randint(0, 3, (8,))
    _, _, g1 = bsp_g1(net, x, y, rule)
    with torch.no_grad():
        fd = _finite_difference(net, list(net.weights), x, y, rule)
    for a, b in zip(g1, fd, strict=True):
        cos = torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0)
        assert cos > 0.999, cos
        assert 0.9 < a.norm() / b.norm() < 1.1


@pytest.mark.parametrize("connection", ["dense", "one-to-one"])
@torch.no_grad()
def test_path_sum_times_one_constant_is_the_small_signal_network(connection):
    """Identical neurons in a layer: every coupling path has the same time course, so at small signals the
    class scores are one constant times the path sum, for any K3 shifts (method 1's gains-only model)."""
    torch.manual_seed(0)
    net = BSPNetwork(
        [12, 8, 5, 3], connection=connection, coupling_gain="fixed-point", amplitude=1e-3, dtype=torch.float64
    )
    x = torch.rand(6, 12)
    net.log_k3_shift.uniform_(-0.5, 0.5)
    scores, paths = net(x), net.path_sum(x)
    c = (scores * paths).sum() / (paths * paths).sum()
    assert 0 < c and torch.allclose(scores, c * paths, rtol=1e-3, atol=1e-3 * float(scores.abs().max()))
    net.log_k3_shift.uniform_(-0.5, 0.5)  # the constant belongs to the neurons and the horizon, not to the gains
    assert torch.allclose(net(x), c * net.path_sum(x), rtol=1e-3, atol=1e-3 * float(scores.abs().max()))


def test_method1_sign_descends_by_finite_differences():
    """K3 <- K3 exp(-G2): -G1 must point along -dL/dlogK3 (the paper's printed sign was lost)."""
    torch.manual_seed(1)
    net = BSPNetwork(
        [6, 5, 4, 3], coupling_gain="fixed-point", dt=0.1, horizon=25.0, dtype=torch.float64, init_scale=1.5
    )
    with torch.no_grad():
        net.log_k3_shift.uniform_(-0.3, 0.3)
    x, y = torch.rand(8, 6), torch.randint(0, 3, (8,))
    rule = BSPRule(method="fixed-points")
    _, _, g1 = bsp_g1(net, x, y, rule)
    with torch.no_grad():
        (fd,) = _finite_difference(net, [net.log_k3_shift], x, y, rule)
    cos = torch.nn.functional.cosine_similarity(-g1, fd, dim=0)
    assert cos > 0.999, cos
    # and without the fixed-point gain, K3 barely matters (notes 5.3): the true gradient is tiny
    plain = BSPNetwork([6, 5, 4, 3], dt=0.1, horizon=25.0, dtype=torch.float64, init_scale=1.5)
    with torch.no_grad():
        (fd_plain,) = _finite_difference(plain, [plain.log_k3_shift], x, y, rule)
    assert fd_plain.norm() < 0.05 * fd.norm()


def test_gradient_agreement_reports_cosines_near_one():
    net = BSPNetwork([10, 6, 3], dt=0.25, horizon=20.0, dtype=torch.float64)
    out = gradient_agreement(net, torch.rand(4, 10), torch.tensor([0, 1, 2, 0]), BSPRule())
    assert out["cos_layer0"] > 0.999 and out["cos_layer1"] > 0.999


@pytest.mark.parametrize("input_mode", ["additive", "shunting"])
def test_trajectory_gain_is_the_slope_of_the_neurons_response(input_mode):
    """A first-layer neuron's output is phi(a) of its pulse area a, so its trajectory gain must be
    phi'(a) / phi'(0): checked by central differences of the network's own integrated outputs."""
    net = BSPNetwork(
        [1, 4, 2],
        rates=[(1.0, 0.3, 0.25), (1.0, 0.5, 0.25)],
        amplitude=2.8,
        dt=0.1,
        dtype=torch.float64,
        input_mode=input_mode,
    )
    with torch.no_grad():
        net.weights[0].copy_(torch.tensor([[3.0, -2.0, 1.0, -0.5]]))
    x, h = torch.tensor([[0.0], [0.5], [1.0]]), 1e-5
    gain = net.run(x, trajectory_gain=True).gain[:, :4]
    slope = lambda x: (net.run(x + h).at_out - net.run(x - h).at_out)[:, :4] / (2 * h)  # noqa: E731
    expected = slope(x) / slope(torch.zeros(1, 1))
    assert torch.allclose(gain, expected, rtol=1e-5), (gain, expected)
    assert torch.allclose(gain[0], torch.ones(4)) and (gain[2] - 1).abs().max() > 0.2  # 1 at rest; far from 1 at 3 B0
    with pytest.raises(InvalidInputError, match="trajectory_gain"):
        net.backward_pass(torch.zeros(3, 2), torch.ones(3, 5))  # one gain per neuron (6), not 5


def test_trajectory_gain_brings_g1_closer_to_the_true_gradient_in_the_nonlinear_range():
    torch.manual_seed(0)
    x, y = torch.rand(16, 12), torch.randint(0, 3, (16,))
    cos = {}
    for scale in (0.02, 4.0):  # pulses of 0.02 B0 (linear) and 4 B0 (nonlinear) per unit of input
        net = BSPNetwork(
            [12, 8, 3],
            rates=[(1.0, 0.3, 0.25), (1.0, 0.5, 0.25)],
            amplitude=scale * 2.8,
            dt=0.1,
            dtype=torch.float64,
            input_mode="shunting",
            init_scale=0.6,
        )
        for gain in ("rest", "trajectory"):
            rule = BSPRule(error="softmax", target=1.0, temperature=0.5, reverse_gain=gain)
            cos[scale, gain] = gradient_agreement(net, x, y, rule)["cos_layer0"]
    assert abs(cos[0.02, "rest"] - cos[0.02, "trajectory"]) < 1e-3 and cos[0.02, "trajectory"] > 0.99
    assert cos[4.0, "trajectory"] > 0.99 and cos[4.0, "trajectory"] > cos[4.0, "rest"] + 0.1, (
        cos
    )  # measured 0.994 vs 0.783


@pytest.mark.parametrize("error", ["mse", "softmax"])
@pytest.mark.parametrize("penalty", [0.0, 0.7])
def test_injected_error_is_minus_the_loss_gradient(error, penalty):
    """e = -dLoss/dscore for both errors, with and without the score penalty lambda/2 |s|^2."""
    scores = torch.randn(6, 4, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3, 1, 0])
    rule = BSPRule(error=error, score_penalty=penalty, temperature=0.3)
    e, loss = output_error(scores, labels, rule, target=0.5)
    (grad,) = torch.autograd.grad(loss.sum(), scores)
    assert torch.allclose(e, -grad, atol=1e-12)
    if penalty:
        plain = output_error(scores, labels, BSPRule(error=error, temperature=0.3), target=0.5)[1]
        assert torch.allclose(loss - plain, 0.5 * penalty * scores.pow(2).sum(1))


def test_clip_is_eq18():
    g = torch.tensor([-100.0, -1e-3, 0.0, 1e-3, 100.0])
    assert torch.allclose(clip(g, 2.0), torch.atan(2 * g) / 2)
    assert clip(torch.tensor(1e6), 1.0) < math.pi / 2


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("elements, gen, inh", [(5, 1, 2), (7, 2, 3), (6, 1, 4)])
def test_jacobian_is_the_derivative_of_the_field_for_any_offsets(reverse, elements, gen, inh):
    """The analytic Jacobian against autograd of the field itself, for cycles and offsets besides Wuxing's."""
    g = torch.Generator().manual_seed(elements + gen)
    k1, k2, k3 = (0.5 + torch.rand(3, elements, generator=g, dtype=torch.float64) for _ in range(3))
    x = 1 + torch.rand(3, elements, generator=g, dtype=torch.float64)
    expected = torch.stack(
        [
            torch.autograd.functional.jacobian(
                lambda v, i=i: field(v, k1[i], k2[i], k3[i], reverse=reverse, gen=gen, inh=inh), x[i]
            )
            for i in range(3)
        ]
    )
    assert torch.allclose(jacobian(x, k1, k2, k3, reverse=reverse, gen=gen, inh=inh), expected, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TABLEAUS))
def test_each_solver_tableau_has_its_stated_order(name):
    """dy/dt = -y from y(0) = 1 to t = 1: halving dt divides the error by 2^order (an oracle: y(1) = e^-1)."""
    tableau = TABLEAUS[name]

    def error(steps):
        (y,) = runge_kutta(lambda t, s: (-s[0],), (torch.ones((), dtype=torch.float64),), steps, 1 / steps, name)
        return abs(float(y) - math.exp(-1))

    rate = math.log2(error(64) / error(128))
    assert rate == pytest.approx(tableau.order, abs=0.1)
    assert tableau.stages == len(tableau.b) and tableau.coefficients == (tableau.a, tableau.b, tableau.c)


def test_an_inconsistent_tableau_is_refused():
    from bidir.bsp.network import Tableau

    with pytest.raises(ValueError, match="not a consistent"):
        Tableau("bad", a=((0.5,),), b=(0.5, 0.5), c=(0.0, 1.0), order=2)  # c_1 is not a_10


def test_the_gains_only_model_is_c_times_the_path_sum_and_trains_only_its_masked_gains():
    from bidir.bsp import GainsOnlyModel

    net = BSPNetwork([6, 4, 3], coupling_gain="fixed-point", seed=0, dtype=torch.float64)
    x = torch.rand(5, 6, dtype=torch.float64)
    mask = torch.zeros_like(net.log_k3_shift)
    mask[net.layer_slice(0)] = 1.0  # the hidden layer's gains only
    model = GainsOnlyModel(net, mask, scale=2.5)
    assert torch.allclose(model(x), 2.5 * net.path_sum(x))  # no shift yet: the network's own gains
    model(x).square().sum().backward()
    grad = model.shift.grad
    assert grad[net.layer_slice(0)].abs().sum() > 0 and grad[net.layer_slice(1)].abs().sum() == 0
    with torch.no_grad():
        model.shift[net.layer_slice(1)] = 0.7  # outside the mask: no effect
    assert torch.allclose(model(x), 2.5 * net.path_sum(x))


@pytest.mark.parametrize("connection", ["dense", "one-to-one"])
def test_couplings_are_modules_and_a_state_saved_before_them_still_loads(connection):
    """One module per wiring (no branch on a tensor's rank): forward and adjoint are transposes (<C s, r> =
    <s, C^T r>), and a state dict with the older keys (weights.i, srci, dsti) loads into the same network."""
    from bidir.bsp.couplings import DenseCoupling, OneToOneCoupling

    net = BSPNetwork([6, 5, 3], connection=connection, dtype=torch.float64, seed=1)
    kind = DenseCoupling if connection == "dense" else OneToOneCoupling
    assert all(isinstance(c, kind) for c in net.couplings)
    s, r = torch.rand(4, 6, dtype=torch.float64), torch.rand(4, 5, dtype=torch.float64)
    c = net.couplings[0]
    assert torch.allclose((c(s) * r).sum(), (s * c.adjoint(r)).sum())
    older = {}
    for key, value in net.state_dict().items():
        if key.startswith("couplings."):
            _, i, name = key.split(".")
            older[f"weights.{i}" if name == "weight" else f"{name}{i}"] = value
        else:
            older[key] = value
    if connection == "dense":
        older.update({f"{n}{i}": torch.empty(0, dtype=torch.long) for n in ("src", "dst") for i in range(2)})
    fresh = BSPNetwork([6, 5, 3], connection=connection, dtype=torch.float64, seed=2)
    fresh.load_state_dict(older)
    x = torch.rand(2, 6, dtype=torch.float64)
    assert torch.equal(fresh(x), net(x))


def test_a_time_step_that_makes_endless_steps_is_refused():
    with pytest.raises(InvalidInputError, match="steps over the horizon"):
        BSPNetwork([4, 3, 2], dt=2.2e-309)  # horizon / dt is infinite (found by the bad-input sweep)
