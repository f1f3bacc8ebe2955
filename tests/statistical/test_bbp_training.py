"""B-BP trained: Table I's permutation recalled both ways, one direction overwrites the other, the backward recall
becomes a class centroid, a regressor run backward lands near the preimage centroid."""

import torch
import torch.nn.functional as F

from bidir.bbp import BidirectionalMLP
from bidir.bbp.ensemble import Ensemble
from bidir.data.patterns import TABLE_I_PERMUTATION, permutation_pairs


def test_table_i_permutation_is_recalled_exactly_both_ways_after_training():
    """Fig 1b: 4-5-4, annealed hidden steepness; most single seeds and the best of 4 succeed."""
    X, Y = (v.float() for v in permutation_pairs(TABLE_I_PERMUTATION))
    ens = Ensemble.bipolar(range(16), (4, 5, 4))
    ens.fit(X, Y, 1000, 0.1, hidden_steepness=lambda e: 8 ** (e / 999), engine_name="explicit")
    exact = ens.exact_recall(X, Y)
    exact = exact["forward"] & exact["backward"]
    assert exact.float().mean() >= 0.6
    assert exact.view(4, 4).any(1).all()  # best of 4 restarts: every trial succeeds
    net = ens.model(int(exact.nonzero()[0])).thresholded()
    assert torch.equal(net(X), Y) and torch.equal(net.backward_pass(Y), X)


def test_one_direction_overwrites_the_other_and_bidirectional_keeps_both():
    """Fig 3: forward-only training leaves E_b high; bidirectional drives both errors down."""
    X, Y = (v.float() for v in permutation_pairs(TABLE_I_PERMUTATION))
    final = {}
    for mode in ("forward", "backward", "bidirectional"):
        ens = Ensemble.bipolar(range(6), (4, 5, 4))
        ens.fit(X, Y, 400, 0.05, mode=mode)
        with torch.no_grad():
            final[mode] = ens.objective(X, Y, mode="bidirectional")[1]
    assert final["forward"]["forward_error"].mean() < 0.2 < 1.0 < final["forward"]["backward_error"].mean()
    assert final["backward"]["backward_error"].mean() < 0.2 < 1.0 < final["backward"]["forward_error"].mean()
    assert (
        final["bidirectional"]["forward_error"].mean() < 0.2 and final["bidirectional"]["backward_error"].mean() < 0.2
    )


def test_bidirectional_training_makes_the_backward_recall_a_class_centroid():
    """Fig 4 in small: on MNIST, N^T(e_k) lands nearest its own class centroid only after B-BP."""
    from bidir.data.datasets import train_test
    from bidir.train import Trainer

    train, test = train_test("mnist-subset")
    x, y = train.features(), train.labels
    t = F.one_hot(y, 10).float()
    centroids = torch.stack([x[y == k].mean(0) for k in range(10)])
    out = {}
    for mode in ("forward", "bidirectional"):
        torch.manual_seed(0)
        net = BidirectionalMLP((784, 128, 128, 10), hidden="relu", output="softmax", input="identity")
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        Trainer(
            net, lambda m, a, b, mode=mode: m.loss(a, b, mode), opt, batch_size=64, progress=False, log=lambda s: None
        ).fit((x, t), 3)
        with torch.no_grad():
            acc = float((net(test.features()).argmax(1) == test.labels).float().mean())
            nearest = torch.cdist(net.backward_pass(torch.eye(10)), centroids).argmin(1)
        out[mode] = (acc, int((nearest == torch.arange(10)).sum()))
    assert out["forward"][0] > 0.88 and out["bidirectional"][0] > 0.85
    assert out["bidirectional"][1] >= 9
    assert out["forward"][1] <= 5


def test_a_regressor_run_backward_lands_near_the_preimage_centroid():
    """t = x^2: the pre-image of t is {-sqrt(t), +sqrt(t)}, whose centroid is 0. After bidirectional training the
    backward pass N^T(t) is near 0 for every t; after forward-only training it is not (eq 69's E_b fits it)."""
    from bidir.bbp.ensemble import Ensemble

    g = torch.Generator().manual_seed(0)
    x = 2 * torch.rand(400, 1, generator=g) - 1
    t = x**2
    probe = torch.linspace(0.1, 0.9, 9).unsqueeze(1)
    far = {}
    for mode in ("forward", "bidirectional"):
        ens = Ensemble(range(3), (1, 32, 32, 1), hidden="relu", output="identity", input="identity")
        ens.fit(x, t, 400, 3e-3, mode=mode)
        with torch.no_grad():
            far[mode] = ens.backward_pass(probe).abs().mean().item()
            if mode == "bidirectional":
                assert (ens(x) - t).pow(2).mean().sqrt() < 0.05  # and the forward map still fits
    assert far["bidirectional"] < 0.1 < far["forward"]
