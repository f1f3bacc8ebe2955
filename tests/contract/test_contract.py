"""The one model contract, run on every family: dtype, 1-D and batched inputs, config, save/load, devices.

Each family is built small, put in float64, given a state that a fresh construction would
not have (trained weights, an annealed steepness), and then must come back from
``bidir.save`` / ``bidir.load`` with identical outputs in both directions.
"""

import json

import pytest
import torch

import bidir
from bidir.bam import BAM, ContinuousABAM
from bidir.bbp import BidirectionalCNN, BidirectionalMLP
from bidir.bbp.ensemble import Ensemble
from bidir.bsp import BSPNetwork, Signals
from bidir.errors import BidirError
from bidir.module import BidirModule
from bidir.style import StyleMemoryNet


def _bam():
    X = torch.tensor([[1, -1, 1, -1, 1], [-1, -1, 1, 1, 1]], dtype=torch.float32)
    Y = torch.tensor([[1, 1, -1], [-1, 1, 1]], dtype=torch.float32)
    bam = BAM.from_pairs(X, Y, threshold_x=torch.tensor([0.0, 0.5, 0.0, -0.5, 0.0]))
    return bam, X, Y


def _abam():
    model = ContinuousABAM(3, 2, "competitive", 1.0, 5.0, input_x=[0.5, -1.0, 2.0], input_y=[1.0, -0.5])
    o_x, o_y = torch.tensor([[0.1, -0.2, 0.3]]), torch.tensor([[0.2, 0.0]])
    return model, o_x, o_y


def _mlp():
    net = BidirectionalMLP((6, 5, 3), hidden="logistic", output="softmax", input="identity", seed=4)
    net.set_hidden_steepness(3.5)  # state that a fresh construction does not have
    return net, torch.rand(4, 6), torch.eye(3)[[0, 1, 2, 1]]


def _ensemble():
    ens = Ensemble.bipolar([0, 1, 2], (4, 5, 4))
    ens.set_hidden_steepness(2.0)
    x = torch.tensor([[1.0, -1, 1, -1], [-1, -1, 1, 1]])
    return ens, x, x.flip(1)


def _bsp():
    net = BSPNetwork([6, 4, 3], connection="one-to-one", jitter=0.1, horizon=2.0, dt=0.5, pulse=0.5, seed=3)
    with torch.no_grad():
        net.log_k3_shift.add_(0.1)  # as method 1 would have trained it
    return net, torch.rand(4, 6), 0.01 * torch.randn(4, 3)


def _style():
    net = StyleMemoryNet(style_dim=3, channels=(4, 8), hidden=(16,), seed=0)
    return net, torch.rand(2, 1, 28, 28), torch.cat([torch.eye(10)[[3, 7]], torch.rand(2, 3)], 1)


def _cnn():
    net = BidirectionalCNN(channels=(4, 8), hidden=(16,), seed=0)
    return net, torch.rand(2, 1, 28, 28), torch.eye(10)[[3, 7]]


def _abam_run(model, o_x, o_y):
    t = torch.linspace(0, 1, 5)
    return model.integrate(o_x, o_y, torch.zeros(3, 2), t, method="rk4").energy


FAMILIES = {
    "bam": _bam,
    "continuous-abam": _abam,
    "mlp": _mlp,
    "ensemble": _ensemble,
    "cnn": _cnn,
    "bsp": _bsp,
    "style": _style,
}


def _both_ways(model, a, b):
    """(forward output, backward output) of a family; the continuous ABAM integrates instead."""
    if isinstance(model, ContinuousABAM):
        return _abam_run(model, a, b), model.energy(a, b, torch.zeros(3, 2))
    back = model.backward_pass(b)
    if isinstance(back, Signals):  # BSP's reverse system: both running integrals
        back = torch.cat([back.at_in, back.at_out], -1)
    return model(a), back


@pytest.fixture(params=list(FAMILIES))
def family(request):
    return FAMILIES[request.param]()


def test_every_family_follows_the_contract(family, tmp_path):
    model, a, b = family
    assert isinstance(model, BidirModule) and isinstance(model, torch.nn.Module)
    model = model.double()
    assert model.dtype == torch.float64 and model.config["dtype"] == "float64"
    json.dumps(model.config)  # JSON-able
    for key in model.config:
        assert f"{key}=" in repr(model)
    forward, backward = _both_ways(model, a, b)
    assert forward.dtype == torch.float64 and torch.isfinite(forward).all() and torch.isfinite(backward).all()
    # one sample as a 1-D input is a batch of one
    if not isinstance(model, StyleMemoryNet | BidirectionalCNN | ContinuousABAM):  # images: checked elsewhere
        one_f, one_b = _both_ways(model, a[0], b[0])
        assert torch.allclose(one_f, forward[..., :1, :], atol=1e-12)
        assert torch.allclose(one_b, backward[..., :1, :], atol=1e-12)
    bidir.save(model, tmp_path / "saved")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["config.json", "model.safetensors"]
    loaded = bidir.load(tmp_path / "saved")
    assert type(loaded) is type(model) and loaded.config == model.config
    assert loaded.state_dict().keys() == model.state_dict().keys()
    again_f, again_b = _both_ways(loaded, a, b)
    assert torch.equal(again_f, forward) and torch.equal(again_b, backward)
    # the device move (the CPU here; the device-marked test below on a GPU)
    moved = loaded.to("cpu")
    assert torch.equal(_both_ways(moved, a, b)[0], forward)


def test_from_config_rebuilds_the_same_structure(family):
    model, a, b = family
    fresh = type(model).from_config(model.config)
    assert fresh.config == model.config
    assert {k: v.shape for k, v in fresh.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


def test_a_seed_gives_the_same_model_and_leaves_the_global_generator_alone():
    before = torch.get_rng_state()
    a, b = StyleMemoryNet(seed=5), StyleMemoryNet(seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    m1, m2 = BidirectionalMLP((4, 3, 2), seed=7), BidirectionalMLP((4, 3, 2), seed=7)
    torch.manual_seed(7)
    m3 = BidirectionalMLP((4, 3, 2))  # the global generator, seeded alike, draws the same weights
    assert torch.equal(m1.weights[0], m2.weights[0]) and torch.equal(m1.weights[0], m3.weights[0])
    assert not torch.equal(m1.weights[0], BidirectionalMLP((4, 3, 2), seed=8).weights[0])


def test_hidden_steepness_survives_a_state_dict_round_trip():
    """set_hidden_steepness changes the outputs; a state_dict round trip keeps the change."""
    net, x, _ = _mlp()
    fresh = BidirectionalMLP.from_config(net.config)
    fresh.load_state_dict(net.state_dict())
    assert torch.equal(fresh(x), net(x)) and fresh.hidden.c == 3.5


def test_a_trainer_checkpoint_loads_as_its_model(tmp_path):
    """A run folder's checkpoint embeds the architecture: bidir.load needs nothing else, through a wrapper too."""
    from bidir.bsp import BSPLearner, BSPRule
    from bidir.train import Trainer, make_optimizer

    net, x, _ = _bsp()
    learner = BSPLearner(net, BSPRule("connections"))
    labels = torch.tensor([0, 1, 2, 0])
    Trainer(
        learner,
        lambda m, a, b: m.loss(a, b),
        make_optimizer("sgd", learner.trainable(), 1.0),
        out=tmp_path,
        batch_size=4,
        progress=False,
        log=lambda s: None,
    ).fit((x, labels), 1)
    loaded = bidir.load(tmp_path)
    assert type(loaded) is BSPNetwork and torch.equal(loaded(x), net(x))


def test_loading_refuses_what_is_not_a_bidir_model(tmp_path):
    folder = tmp_path / "m"
    bidir.save(BidirectionalMLP((3, 2)), folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "class": "os:system"}))
    with pytest.raises(BidirError, match="only bidir's own model classes"):
        bidir.load(folder)
    (folder / "config.json").write_text(json.dumps({**config, "config": {**config["config"], "sizes": [3, 4]}}))
    with pytest.raises(BidirError, match="was changed after the model was saved"):
        bidir.load(folder)  # the weights file carries the config's sha256
    from safetensors.torch import save_file  # weights without that record (another tool's file): checked by shape

    save_file(
        {k: v.contiguous() for k, v in BidirectionalMLP((3, 2)).state_dict().items()}, folder / "model.safetensors"
    )
    with pytest.raises(BidirError, match="does not fit BidirectionalMLP"):
        bidir.load(folder)
    with pytest.raises(BidirError, match="holds no saved model"):
        bidir.load(tmp_path / "empty")


@pytest.mark.device
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_every_family_runs_on_the_gpu_with_cpu_inputs(family, tmp_path):
    model, a, b = family
    forward, backward = _both_ways(model.double(), a, b)
    bidir.save(model, tmp_path / "saved")
    gpu = bidir.load(tmp_path / "saved", device="cuda")
    f, g = _both_ways(gpu, a, b)  # CPU inputs move to the model's device
    assert f.device.type == "cuda" and torch.allclose(f.cpu(), forward, atol=1e-9)
    assert torch.allclose(g.cpu(), backward, atol=1e-9)
