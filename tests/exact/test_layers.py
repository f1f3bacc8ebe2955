"""Layers that run both ways (the adjoint identities), NEM noise's positivity conditions, the bidirectional CNN."""

import pytest
import torch
import torch.nn.functional as F

from bidir.backprop.activations import BipolarLogistic, Logistic
from bidir.bbp import BidirectionalCNN
from bidir.bbp.noise import annealed_scale, nem_condition, target_noise
from bidir.errors import InvalidInputError
from bidir.layers import BidirectionalConv2d, BidirectionalLinear, conv_adjoint

torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("size, kernel, stride", [((28, 28), 5, 2), ((27, 30), 5, 2), ((32, 32), 3, 1), ((7, 9), 3, 2)])
def test_the_backward_convolution_is_the_adjoint_of_the_forward_one(size, kernel, stride):
    """<conv(x), z> = <x, conv^T(z)> without biases, and conv^T comes back at the input's size."""
    g = torch.Generator().manual_seed(0)
    layer = BidirectionalConv2d(3, 4, kernel, stride, generator=g).double()
    x = torch.randn(2, 3, *size, generator=g, dtype=torch.float64)
    out = F.conv2d(x, layer.weight, None, layer.stride, layer.padding)
    assert tuple(out.shape[2:]) == layer.output_size(size)
    z = torch.randn(out.shape, generator=g, dtype=torch.float64)
    back = conv_adjoint(z, layer.weight, None, layer.stride, layer.padding, size)
    assert back.shape == x.shape
    assert torch.allclose((out * z).sum(), (x * back).sum(), rtol=1e-12)
    with torch.no_grad():
        layer.backward_bias.fill_(0.5)
    assert torch.allclose(layer.backward_pass(z, size), back + 0.5)


def test_the_backward_dense_pass_is_w_transposed():
    g = torch.Generator().manual_seed(1)
    layer = BidirectionalLinear(5, 3, generator=g).double()
    x, y = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    with torch.no_grad():
        layer.forward_bias.zero_()
    assert torch.allclose((layer(x) * y).sum(), (x * layer.backward_pass(y)).sum(), rtol=1e-12)


# -- NEM noise ------------------------------------------------------------------------------
def _log_likelihood(likelihood, a, t, act=None):
    if likelihood == "categorical":
        return (t * a.log()).sum(-1)
    if likelihood == "gaussian":
        return -0.5 * ((t - a) ** 2).sum(-1)
    p, tt = ((a + 1) / 2, (t + 1) / 2) if isinstance(act, BipolarLogistic) else (a, t)
    return (tt * p.log() + (1 - tt) * (1 - p).log()).sum(-1)


@pytest.mark.parametrize(
    "likelihood, act",
    [("categorical", None), ("gaussian", None), ("bernoulli", Logistic(1.0)), ("bernoulli", BipolarLogistic(1.0))],
)
def test_nem_keeps_exactly_the_noise_that_makes_the_target_more_probable(likelihood, act):
    """Every kept sample has ln p(t + n | a) >= ln p(t | a); every rejected one has <; blind keeps all."""
    g = torch.Generator().manual_seed(3)
    if likelihood == "categorical":
        a = torch.randn(2000, 5, generator=g, dtype=torch.float64).softmax(-1)
        t = F.one_hot(torch.randint(0, 5, (2000,), generator=g), 5).double()
    elif likelihood == "gaussian":
        a, t = (
            torch.randn(2000, 4, generator=g, dtype=torch.float64),
            torch.randn(2000, 4, generator=g, dtype=torch.float64),
        )
    else:
        a = torch.rand(2000, 4, generator=g, dtype=torch.float64) * 0.98 + 0.01
        t = torch.rand(2000, 4, generator=g, dtype=torch.float64)
        if isinstance(act, BipolarLogistic):
            a, t = 2 * a - 1, 2 * t - 1
    blind, everyone = target_noise("blind", likelihood, a, t, 0.3, torch.Generator().manual_seed(4), act)
    noise, kept = target_noise("nem", likelihood, a, t, 0.3, torch.Generator().manual_seed(4), act)
    gain = _log_likelihood(likelihood, a, t + blind, act) - _log_likelihood(likelihood, a, t, act)
    assert torch.equal(kept, gain >= -1e-9) and 0.2 < kept.float().mean() < 0.9  # a real selection
    assert torch.equal(noise[kept], blind[kept]) and (noise[~kept] == 0).all() and everyone.all()
    assert torch.equal(nem_condition(likelihood, a, t, blind, act), kept)
    # every noisy target stays one its likelihood can score (else its error has no lower bound)
    noisy = t + blind
    if likelihood == "categorical":
        assert (noisy >= 0).all() and torch.allclose(noisy.sum(-1), torch.ones(len(t), dtype=t.dtype))
    elif likelihood == "bernoulli":
        assert noisy.min() >= (-1 if isinstance(act, BipolarLogistic) else 0) and noisy.max() <= 1


def test_the_noise_scale_anneals():
    assert [annealed_scale(0.4, k, 1.0) for k in (1, 2, 4)] == [0.4, 0.2, 0.1]
    assert annealed_scale(0.4, 9, 0.0) == 0.4
    with pytest.raises(InvalidInputError, match="noise scale"):
        annealed_scale(-1.0, 1)
    with pytest.raises(InvalidInputError, match="noise must be one of"):
        target_noise("pink", "gaussian", torch.zeros(2, 2), torch.zeros(2, 2), 0.1)


# -- the bidirectional CNN -----------------------------------------------------------------
def _digits(n=256):
    from bidir.data.datasets import load_dataset

    ds = load_dataset("mnist-subset", "train").subset(n, seed=0)
    return ds.features(flatten=False), F.one_hot(ds.labels, 10).float(), ds.labels


def test_the_cnn_runs_both_ways_through_the_same_synapses():
    net = BidirectionalCNN(channels=(4, 8), hidden=(16,), seed=0)
    x, t, _ = _digits(8)
    assert net(x).shape == (8, 10) and torch.allclose(net(x).sum(-1), torch.ones(8))
    assert net.backward_pass(t).shape == (8, 1, 28, 28)
    # the backward pass uses the forward weights: change one conv kernel and N^T changes
    before = net.backward_pass(t).clone()
    with torch.no_grad():
        net.convs[0].weight.mul_(2)
    assert not torch.allclose(net.backward_pass(t), before)
    with pytest.raises(InvalidInputError, match="one-hot"):
        net.loss(x, torch.rand(8, 10))


@pytest.mark.usefixtures("float64")
def test_the_backward_sweep_of_a_batch_runs_once_per_distinct_label_with_the_same_loss_and_gradients():
    """B one-hot rows hold at most K distinct class vectors: N^T runs on those and is gathered, exactly."""
    net = BidirectionalCNN(channels=(4, 8), hidden=(16,), seed=0).double()
    x, t, _ = _digits(32)
    x, t = x.double(), t.double()
    calls = []
    original = net.backward_pass
    net.backward_pass = lambda y: calls.append(len(y)) or original(y)
    J, _ = net.loss(x, t, "backward")
    fast = torch.autograd.grad(J, list(net.parameters()), allow_unused=True)
    assert calls == [len(t.unique(dim=0))] and calls[0] <= 10 < len(t)
    flat = x.flatten(1)
    reference = ((original(t).flatten(1) - flat) ** 2).sum(1).mul(0.5).mean()
    slow = torch.autograd.grad(reference, list(net.parameters()), allow_unused=True)
    assert torch.allclose(J, reference, rtol=1e-12)
    for a, b in zip(fast, slow, strict=True):
        assert (a is None and b is None) or torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bidirectional_training_of_the_cnn_fits_both_directions():
    """Trained bidirectionally (E_f + E_b), the CNN classifies and its N^T(e_k) moves towards the class centroids."""
    torch.manual_seed(0)
    x, t, labels = _digits(256)
    centroids = torch.stack([x[labels == k].mean(0) for k in range(10)]).flatten(1)
    errors = {}
    for mode in ("forward", "bidirectional"):
        net = BidirectionalCNN(channels=(8, 16), hidden=(32,), seed=0)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        for _ in range(60):
            J, err = net.loss(x, t, mode)
            opt.zero_grad()
            J.backward()
            opt.step()
        with torch.no_grad():
            accuracy = (net(x).argmax(1) == labels).float().mean()
            recall = net.backward_pass(torch.eye(10)).flatten(1)
            errors[mode] = ((recall - centroids).norm(dim=1) / centroids.norm(dim=1)).mean()
        assert accuracy > 0.8, mode
    assert errors["bidirectional"] < 0.75 < errors["forward"]


def test_nem_noise_enters_the_cnn_loss_only_where_it_helps():
    x, t, _ = _digits(16)
    net = BidirectionalCNN(channels=(4, 8), hidden=(16,), seed=0)
    clean, _ = net.loss(x, t)
    with torch.no_grad():
        nem, _ = net.loss(x, t, noise=("nem", 0.1, torch.Generator().manual_seed(0)))
        blind, _ = net.loss(x, t, noise=("blind", 0.1, torch.Generator().manual_seed(0)))
    assert nem <= clean + 1e-5  # NEM noise makes the targets at least as probable: the error cannot rise
    assert not torch.isclose(blind, clean)


def test_a_noise_schedule_anneals_its_scale_and_hands_the_loss_its_noise():
    from bidir.bbp.noise import NoiseSchedule

    g = torch.Generator().manual_seed(0)
    schedule = NoiseSchedule("nem", 0.3, 1.0, g)
    assert schedule.noise == ("nem", 0.3, g)  # epoch 1: the full scale
    schedule.before_epoch(3)
    assert schedule.current == pytest.approx(0.1) and schedule.noise[1] == schedule.current
    assert NoiseSchedule(None, 0.3, 1.0, g).noise is None  # no noise: the loss gets None
    schedule = NoiseSchedule("blind", 0.3, 1e12, g)
    schedule.before_epoch(2)
    assert schedule.current == 0.0  # 2^1e12 overflows a float: the noise has faded
    with pytest.raises(InvalidInputError, match="noise kind"):
        NoiseSchedule("pink", 0.3, 1.0, g)
