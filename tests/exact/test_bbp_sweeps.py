"""B-BP: both sweeps use the same synapses, the modes' errors, and the papers' outcomes."""

import pytest
import torch
import torch.nn.functional as F

from bidir.bbp import BidirectionalMLP
from bidir.bbp.ensemble import Ensemble
from bidir.data.patterns import TABLE_I_PERMUTATION, permutation_pairs
from bidir.errors import InvalidInputError


def _perm_net(seed, h=5, c=1.0):
    torch.manual_seed(seed)
    return BidirectionalMLP.bipolar((4, h, 4), c)


def test_backward_sweep_runs_through_the_transposed_forward_weights():
    torch.manual_seed(0)
    net = BidirectionalMLP((5, 4, 3), hidden="identity", output="identity", input="identity", dtype=torch.float64)
    W1, W2 = net.weights
    with torch.no_grad():
        for b in list(net.forward_bias) + list(net.backward_bias):
            b.normal_()
    x, y = torch.randn(2, 5, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    f1, f2 = net.forward_bias
    c1, c2 = net.backward_bias
    assert torch.allclose(net(x), (x @ W1.T + f1) @ W2.T + f2)
    assert torch.allclose(net.backward_pass(y), (y @ W2 + c2) @ W1 + c1)


def test_modes_sum_their_errors_and_gradients():
    net = _perm_net(1)
    X, Y = (v.float() for v in permutation_pairs(TABLE_I_PERMUTATION))
    g = {m: net.gradients(X, Y, m) for m in ("forward", "backward", "bidirectional")}
    assert not any(k.startswith("backward_bias") for k in g["forward"])
    assert not any(k.startswith("forward_bias") for k in g["backward"])
    for k, v in g["bidirectional"].items():
        assert torch.allclose(v, g["forward"].get(k, 0) + g["backward"].get(k, 0), atol=1e-6)
    J, errs = net.loss(X, Y, "bidirectional")
    assert torch.isclose(J, errs["forward_error"] + errs["backward_error"])


@pytest.mark.parametrize("mode", ["forward", "backward", "bidirectional"])
def test_both_engines_give_the_same_gradients(mode):
    torch.manual_seed(2)
    net = BidirectionalMLP((6, 5, 4, 3), hidden="relu", output="softmax", input="identity", dtype=torch.float64)
    x = torch.rand(8, 6, dtype=torch.float64)
    t = F.one_hot(torch.randint(0, 3, (8,)), 3).double()
    grads = {}
    for engine in ("autograd", "explicit"):
        net.zero_grad()
        net.loss(x, t, mode, engine)[0].backward()
        grads[engine] = {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}
    assert grads["autograd"].keys() == grads["explicit"].keys()
    for k in grads["autograd"]:
        assert torch.allclose(grads["autograd"][k], grads["explicit"][k], atol=1e-10), k


def test_threshold_swap_gives_threshold_neurons():
    net = _perm_net(0).thresholded()
    X, Y = (v.float() for v in permutation_pairs(TABLE_I_PERMUTATION))
    assert set(net(X).unique().tolist()) <= {-1.0, 1.0}
    assert set(net.backward_pass(Y).unique().tolist()) <= {-1.0, 1.0}
    assert _perm_net(0).hidden.name == "bipolar-logistic"  # the original is untouched


def test_ensemble_copy_trains_like_one_network_for_sgd():
    """With plain SGD (no Adam sign amplification of rounding), copy s equals seed s alone."""
    X, Y = (v.float() for v in permutation_pairs(TABLE_I_PERMUTATION))
    ens = Ensemble.bipolar([3, 4], (4, 5, 4))
    ens.fit(X, Y, 50, 0.5, optimizer="sgd")
    net = _perm_net(4)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(50):
        J, _ = net.loss(X, Y)
        opt.zero_grad()
        J.backward()
        opt.step()
    for k, v in ens.model(1).state_dict().items():
        assert torch.allclose(v, net.state_dict()[k], atol=1e-5), k


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: BidirectionalMLP((4,)), "at least two"),
        (lambda: BidirectionalMLP((4, 0, 2)), "positive integers"),
        (lambda: BidirectionalMLP((4, 2), hidden="bogus"), "unknown activation"),
        (lambda: BidirectionalMLP((4, 2), output="relu", forward_likelihood="categorical"), "softmax"),
        (lambda: BidirectionalMLP((4, 2), init="orthogonal"), "init"),
        (lambda: BidirectionalMLP((4, 2), steepness=0), "steepness"),
    ],
)
def test_bad_construction_is_refused(make, match):
    with pytest.raises(InvalidInputError, match=match):
        make()


def test_bad_inputs_are_refused():
    net = _perm_net(0)
    X, Y = (v.float() for v in permutation_pairs(TABLE_I_PERMUTATION))
    with pytest.raises(InvalidInputError, match=r"shape \(batch, 4\)"):
        net(torch.ones(3, 5))
    with pytest.raises(InvalidInputError, match="NaN"):
        net.backward_pass(torch.full((1, 4), float("nan")))
    with pytest.raises(InvalidInputError, match="mode"):
        net.loss(X, Y, "sideways")
    with pytest.raises(InvalidInputError, match="engine"):
        net.loss(X, Y, "forward", "magic")


@pytest.mark.parametrize(
    "kwargs, x, t, message",
    [
        ({}, 2 * torch.rand(6, 2) - 1, torch.rand(6, 1), r"x \(the backward pass's target\) has values in \[-"),
        ({"input": "identity"}, torch.rand(6, 2), 3 * torch.rand(6, 1), "use output='identity'"),
        ({"output": "softmax", "input": "identity"}, torch.rand(6, 2), torch.rand(6, 1), "one-hot"),
        (
            {"hidden": "tanh", "output": "bipolar-logistic", "input": "identity"},
            torch.rand(6, 2),
            -2 * torch.ones(6, 1),
            r"needs \[-1, 1\]",
        ),
    ],
)
def test_a_likelihood_that_does_not_fit_the_targets_is_a_clear_error(kwargs, x, t, message):
    """Bernoulli on values outside its neurons' range, categorical on rows that are not probabilities."""
    net = BidirectionalMLP((2, 8, t.shape[1]), **kwargs)
    with pytest.raises(InvalidInputError, match=message):
        net.loss(x, t)


def test_the_cnn_gradient_is_the_same_bits_every_time():
    """The gathered backward sweep's gradient sums in a fixed order (index_select), so the same seed trains the same
    weights whatever the thread scheduling (advanced indexing's gradient did not, with two threads or more)."""
    from bidir.bbp import BidirectionalCNN

    x = torch.rand(100, 1, 28, 28)
    t = torch.nn.functional.one_hot(torch.randint(0, 10, (100,)), 10).float()
    grads = []
    for _ in range(4):
        net = BidirectionalCNN(10, (1, 28, 28), (8, 16), hidden=(32,), seed=1)
        net.loss(x, t, "backward")[0].backward()
        grads.append(torch.cat([p.grad.flatten() for p in net.parameters() if p.grad is not None]))
    assert all(torch.equal(grads[0], g) for g in grads[1:])


@pytest.mark.parametrize("mode", ["forward", "backward", "bidirectional"])
def test_the_mlp_and_the_cnn_share_one_joint_error(mode):
    """J = E_f + w E_b over the directions the mode trains (eqs 57, 68-69), from bidir.bbp.objective for both."""
    from bidir.bbp import BidirectionalCNN
    from bidir.bbp.objective import joint_error

    J, errors = joint_error(mode, 0.25, lambda: torch.tensor(2.0), lambda: torch.tensor([4.0, 8.0]))
    expected = {"forward": 2.0, "backward": 0.25 * 12.0, "bidirectional": 2.0 + 0.25 * 12.0}[mode]
    assert float(J) == expected and set(errors) == {
        f"{d}_error" for d in ("forward", "backward") if d in mode or mode == "bidirectional"
    }
    x, t = torch.rand(6, 1, 8, 8), torch.eye(3)[[0, 1, 2, 0, 1, 2]]
    cnn = BidirectionalCNN(3, (1, 8, 8), (2,), kernel=3, hidden=(4,), seed=0)
    mlp = BidirectionalMLP((64, 5, 3), hidden="relu", output="softmax", input="identity", seed=0)
    for net, inputs in ((cnn, x), (mlp, x.flatten(1))):
        J, errors = net.loss(inputs, t, mode, backward_weight=0.25)
        weights = {"forward_error": 1.0, "backward_error": 0.25}
        assert torch.allclose(J, sum(weights[k] * v for k, v in errors.items()))
