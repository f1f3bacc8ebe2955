"""Learning rules against their oracles: FA with B = W is BP exactly, sign symmetry is its definition, DFA on one
hidden layer is its closed form (Nokland 2016, eq 3), BFA and BDFA are FA and DFA plus a reconstruction error
written by hand, all in float64."""

import pytest
import torch

from bidir.backprop import (
    Backprop,
    BidirectionalDirectFeedbackAlignment,
    BidirectionalFeedbackAlignment,
    DirectFeedbackAlignment,
    FeedbackAlignment,
    SignSymmetry,
    engine,
)
from bidir.bbp import BidirectionalMLP
from bidir.errors import InvalidInputError

F64 = torch.float64


def _net(sizes=(6, 7, 5, 3), **kw):
    return BidirectionalMLP(sizes, hidden="tanh", output="softmax", dtype=F64, seed=0, **kw)


def _data(net, n=9, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, net.sizes[0], generator=g, dtype=F64)
    t = torch.nn.functional.one_hot(torch.randint(0, net.sizes[-1], (n,), generator=g), net.sizes[-1]).to(F64)
    return x, t


def _updates(net, x, t, rule=None, mode="forward"):
    net.zero_grad()
    J, _ = net.loss(x, t, mode, rule=rule)
    J.backward()
    return {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("mode", ["forward", "bidirectional"])
def test_feedback_alignment_with_b_equal_to_w_is_backprop_exactly(mode):
    net = _net()
    x, t = _data(net)
    exact = _updates(net, x, t, mode=mode)  # autograd
    fa = FeedbackAlignment.for_network(net)
    for name, p in net.named_parameters():
        if name.startswith("weights."):
            fa.matrix(name).copy_(p.detach())
    for rule in (fa, Backprop()):
        got = _updates(net, x, t, rule, mode)
        assert got.keys() == exact.keys()
        for name in exact:
            torch.testing.assert_close(got[name], exact[name], rtol=1e-12, atol=1e-14)


def test_feedback_alignment_with_random_b_changes_only_the_layers_below_the_top():
    net = _net()
    x, t = _data(net)
    exact, fa = _updates(net, x, t), _updates(net, x, t, FeedbackAlignment.for_network(net, seed=3))
    torch.testing.assert_close(fa["weights.2"], exact["weights.2"])  # the top layer sees the true error
    assert not torch.allclose(fa["weights.1"], exact["weights.1"]) and not torch.allclose(
        fa["weights.0"], exact["weights.0"]
    )


def test_sign_symmetry_sends_the_error_back_through_sign_w():
    net = _net()
    x, t = _data(net)
    by_definition = FeedbackAlignment.for_network(net)
    for name, p in net.named_parameters():
        if name.startswith("weights."):
            by_definition.matrix(name).copy_(torch.sign(p.detach()))
    ss, oracle = _updates(net, x, t, SignSymmetry()), _updates(net, x, t, by_definition)
    for name in oracle:
        torch.testing.assert_close(ss[name], oracle[name], rtol=1e-12, atol=1e-14)


def test_dfa_on_one_hidden_layer_is_its_closed_form():
    net = _net((4, 5, 3))
    x, t = _data(net)
    dfa = DirectFeedbackAlignment.for_network(net, seed=2)
    got = _updates(net, x, t, dfa)
    W1, W2 = net.weights[0].detach(), net.weights[1].detach()
    b1, b2 = net.forward_bias[0].detach(), net.forward_bias[1].detach()
    h = torch.tanh(x @ W1.T + b1)
    e = (torch.softmax(h @ W2.T + b2, dim=1) - t) / len(x)  # dJ/dz of the output: softmax with cross-entropy
    D = dfa.matrix("weights.1")  # (n_L, n_1): the output error to the hidden layer
    dz1 = (e @ D) * (1 - h**2)  # Nokland eq 3: da_1 = (B_1 e) . f'(a_1)
    torch.testing.assert_close(got["weights.1"], e.T @ h, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(got["weights.0"], dz1.T @ x, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(got["forward_bias.0"], dz1.sum(0), rtol=1e-12, atol=1e-14)


def test_rules_keep_their_matrices_in_the_state_dict_and_refuse_unknown_weights():
    net = _net()
    fa = FeedbackAlignment.for_network(net, seed=5)
    again = FeedbackAlignment.for_network(net, seed=0)
    again.load_state_dict(fa.state_dict())
    assert torch.equal(again.matrix("weights.1"), fa.matrix("weights.1"))
    with pytest.raises(InvalidInputError, match="no feedback matrix for weight 'weights.9'"):
        fa.matrix("weights.9")
    with pytest.raises(InvalidInputError, match="needs the shapes"):
        FeedbackAlignment({})


def _plastic(rule_class, net, seed=4):
    rule = rule_class.for_network(net, seed=seed)
    return rule, {n: p.detach().clone() for n, p in rule.named_parameters()}


def test_bfa_sends_the_error_back_like_fa_and_trains_b_by_its_reconstruction_error_alone():
    """BFA's forward updates are FA's with the same B; its own error is E_B = sum_l 1/2 mean ||h_{l-1} - h_l B_l||^2
    by hand, and its gradient reaches B only."""
    net = _net()
    x, t = _data(net)
    bfa, start = _plastic(BidirectionalFeedbackAlignment, net)
    fa = FeedbackAlignment.for_network(net)
    for name, b in start.items():
        fa.matrix(name.replace("__", ".")).copy_(b)
    net.zero_grad()
    J, errors = net.loss(x, t, "forward", rule=bfa)
    J.backward()
    oracle = _updates(net, x, t, fa)
    for name, p in net.named_parameters():
        if name in oracle:  # the backward biases: no forward sweep uses them
            torch.testing.assert_close(p.grad, oracle[name], rtol=1e-12, atol=1e-14)
    W = [w.detach() for w in net.weights]
    b = [bias.detach() for bias in net.forward_bias]
    h = [x]
    for i, (w, bias) in enumerate(zip(W, b, strict=True)):
        z = h[-1] @ w.T + bias
        h.append(torch.softmax(z, 1) if i == len(W) - 1 else torch.tanh(z))
    B = [start[f"weights__{i}"] for i in range(len(W))]
    E_B = sum(0.5 * (h[i] - h[i + 1] @ B[i]).pow(2).sum(1).mean() for i in range(len(W)))
    torch.testing.assert_close(errors["feedback_error"], E_B, rtol=1e-12, atol=1e-14)
    for i in range(len(W)):  # dE_B/dB_l = -h_l^T (h_{l-1} - h_l B_l) / n
        grad = -(h[i + 1].T @ (h[i] - h[i + 1] @ B[i])) / len(x)
        torch.testing.assert_close(bfa.matrix(f"weights.{i}").grad, grad, rtol=1e-10, atol=1e-12)


def test_bdfa_sends_the_output_error_like_dfa_and_trains_d_to_carry_the_output_to_each_layer():
    net = _net()
    x, t = _data(net)
    bdfa, start = _plastic(BidirectionalDirectFeedbackAlignment, net)
    dfa = DirectFeedbackAlignment.for_network(net)
    for name in dict(dfa.named_buffers()):
        getattr(dfa, name).copy_(start[name])
    net.zero_grad()
    J, errors = net.loss(x, t, "forward", rule=bdfa)
    J.backward()
    oracle = _updates(net, x, t, dfa)
    for name, p in net.named_parameters():
        if name in oracle:  # the backward biases: no forward sweep uses them
            torch.testing.assert_close(p.grad, oracle[name], rtol=1e-12, atol=1e-14)
    with torch.no_grad():
        h = [x]
        for layer in engine.forward(net._params(), net.forward_path(), x):
            h.append(layer.y)
    D = [start[f"weights__{i}"] for i in range(len(net.weights))]  # D_0 for the input as well
    E_D = sum(0.5 * (h[i] - h[-1] @ D[i]).pow(2).sum(1).mean() for i in range(len(D)))
    torch.testing.assert_close(errors["feedback_error"], E_D, rtol=1e-12, atol=1e-14)
    assert set(bdfa.state_dict()) == set(start)  # every D is saved with the rule


def test_plastic_feedback_learns_to_reconstruct_and_its_backward_path_reaches_the_input():
    net = _net((6, 8, 3))
    x, t = _data(net, n=64)
    for rule_class in (BidirectionalFeedbackAlignment, BidirectionalDirectFeedbackAlignment):
        rule = rule_class.for_network(net, seed=1)
        opt = torch.optim.SGD(rule.parameters(), lr=0.2)
        first = None
        for _ in range(200):
            opt.zero_grad()
            _, errors = net.loss(x, t, "forward", rule=rule)
            rule.feedback_loss().backward()
            opt.step()
            first = float(errors["feedback_error"]) if first is None else first
        assert float(errors["feedback_error"]) < 0.5 * first, rule_class.__name__
        assert rule.generate(t[:2], net).shape == (2, 6)


# -- the same rules on the CNN, through autograd ---------------------------------------------
def _cnn():
    from bidir.bbp import BidirectionalCNN

    net = BidirectionalCNN(10, (1, 12, 12), (4, 6), hidden=(16,), activation="tanh", seed=0, dtype=F64)
    g = torch.Generator().manual_seed(3)
    x = torch.rand(5, 1, 12, 12, generator=g, dtype=F64)
    t = torch.nn.functional.one_hot(torch.randint(0, 10, (5,), generator=g), 10).to(F64)
    return net, x, t


def _cnn_updates(net, x, t, rule=None):
    net.zero_grad()
    J, _ = net.loss(x, t, "forward", rule=rule)
    J.backward()
    return {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}


def test_on_the_cnn_fa_with_b_equal_to_w_is_backprop_and_sign_symmetry_is_fa_with_sign_w():
    net, x, t = _cnn()
    exact = _cnn_updates(net, x, t)
    fa, by_definition = FeedbackAlignment.for_network(net), FeedbackAlignment.for_network(net)
    for name, p in net.named_parameters():
        if p.dim() >= 2:  # kernels and dense matrices
            fa.matrix(name).copy_(p.detach())
            by_definition.matrix(name).copy_(torch.sign(p.detach()))
    for got, oracle in ((_cnn_updates(net, x, t, fa), exact), (_cnn_updates(net, x, t, SignSymmetry()), None)):
        oracle = oracle or _cnn_updates(net, x, t, by_definition)
        assert got.keys() == oracle.keys()
        for name in oracle:
            torch.testing.assert_close(got[name], oracle[name], rtol=1e-12, atol=1e-14)


def test_on_the_cnn_dfa_sends_e_d_to_each_hidden_layer_by_its_closed_form():
    """Each hidden layer's update is that of <f(a_l), e D_l> with the layers below held fixed (Nokland eq 3):
    the dense hidden layer's (e D . f'(a))^T h, the last convolution's conv2d_weight of (e D . f'(a))."""
    net, x, t = _cnn()
    dfa = DirectFeedbackAlignment.for_network(net, seed=2)
    got = _cnn_updates(net, x, t, dfa)
    with torch.no_grad():
        h0 = torch.tanh(net.convs[0](x))
        h1 = torch.tanh(net.convs[1](h0))
        h2 = torch.tanh(net.dense[0](h1.flatten(1)))
        e = (torch.softmax(net.dense[1](h2), 1) - t) / len(x)
    for name, layer, below, index in (
        ("dense.0.weight", net.dense[0], h1.flatten(1), 2),
        ("convs.1.weight", net.convs[1], h0, 1),
    ):
        weight = layer.weight.detach().clone().requires_grad_(True)
        a = (
            torch.nn.functional.linear(below, weight, layer.forward_bias.detach())
            if weight.dim() == 2
            else (torch.nn.functional.conv2d(below, weight, layer.forward_bias.detach(), layer.stride, layer.padding))
        )
        signal = (e @ dfa.matrix(f"hidden.{index}")).reshape(a.shape)
        (torch.tanh(a) * signal).sum().backward()
        torch.testing.assert_close(got[name], weight.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(got["dense.1.weight"], e.T @ h2, rtol=1e-10, atol=1e-12)  # the top sees e itself


def test_plastic_rules_refuse_the_cnn_in_one_line():
    net, x, t = _cnn()
    for rule in (BidirectionalFeedbackAlignment, BidirectionalDirectFeedbackAlignment):
        mlp = _net()
        with pytest.raises(InvalidInputError, match="on the dense MLP only"):
            net.loss(x, t, "forward", rule=rule.for_network(mlp))
