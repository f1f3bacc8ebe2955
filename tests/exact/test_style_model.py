"""Style memory: the model's math, training to a bar on the MNIST subset, the analyses, EMNIST files."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bidir.data import datasets as D
from bidir.data.download import RemoteFile
from bidir.data.formats import write_idx
from bidir.errors import InvalidInputError
from bidir.runner import run_experiment
from bidir.style import (
    LAMBDAS,
    StyleMemoryNet,
    auroc,
    detection_scores,
    encode_dataset,
    interpolate,
    nearest_neighbours,
    transfer,
)
from bidir.style.training import train_style_memory


# ------------------------------------------------------------------ the model's math
def test_shapes_and_ranges():
    net = StyleMemoryNet(num_classes=26, style_dim=16)
    x = torch.rand(5, 1, 28, 28)
    logits, m = net.encode(x)
    assert logits.shape == (5, 26) and m.shape == (5, 16) and ((m > 0) & (m < 1)).all()
    x_hat = net.decode(logits.softmax(1), m)
    assert x_hat.shape == (5, 1, 28, 28) and ((x_hat > 0) & (x_hat < 1)).all()
    assert torch.equal(net(x.flatten(1)), logits)  # flat (B, 784) input is the same image
    assert [c.out_channels for c in net.convs] == [32, 64] and [f.out_features for f in net.fcs] == [256, 128, 42]
    assert net.spatial == [(28, 28), (14, 14), (7, 7)]


def test_odd_image_sizes_mirror_exactly():
    for tied in (False, True):
        net = StyleMemoryNet(num_classes=3, style_dim=2, image_shape=(3, 27, 30), tied=tied)
        assert net.reconstruct(torch.rand(2, 3, 27, 30)).shape == (2, 3, 27, 30)


def test_tied_decoder_is_the_adjoint_of_the_encoder():
    """The tied decoder runs the encoder's weights backwards: W^T for each FC layer, conv^T for each conv."""
    torch.set_default_dtype(torch.float64)
    try:
        net = StyleMemoryNet(tied=True, dtype=torch.float64)
        assert not any(n.startswith(("dfcs", "dconvs")) for n, _ in net.named_parameters())
        assert all(p.dim() == 1 for n, p in net.named_parameters() if "biases" in n)  # only biases of its own
        conv = net.convs[0]  # the adjoint identity itself is tested with the layers (test_layers.py)
        # decode() runs exactly the adjoint maps: W^T for each FC layer, conv^T for each conv (zero decoder biases)
        y, m = torch.zeros(3, 10), torch.zeros(3, 16)
        top = torch.cat([y, m], 1)
        for i in reversed(range(3)):
            top = torch.relu(top @ net.fcs[i].weight)
        assert torch.allclose(
            net.decode(y, m),
            torch.sigmoid(
                F.conv_transpose2d(
                    torch.relu(
                        F.conv_transpose2d(top.reshape(-1, 64, 7, 7), net.convs[1].weight, None, 2, 2, output_padding=1)
                    ),
                    conv.weight,
                    None,
                    2,
                    2,
                    output_padding=1,
                )
            ),
        )
        untied = StyleMemoryNet(tied=False)
        assert sum(p.numel() for p in untied.parameters()) > 1.9 * sum(p.numel() for p in net.parameters())
    finally:
        torch.set_default_dtype(torch.float32)


def test_loss_is_eq3():
    net = StyleMemoryNet()
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 3, 9, 3])
    loss, metrics = net.loss(x, y, alpha=0.05)
    logits, m = net.encode(x)
    x_hat = net.decode(logits.softmax(1), m)
    ce = -(logits.log_softmax(1)[torch.arange(4), y]).mean()  # eq (1)
    lr = ((x_hat - x) ** 2).sum((1, 2, 3)).mean()  # eq (2): squared Euclidean distance per image
    assert torch.allclose(loss, ce + 0.05 * lr) and torch.allclose(metrics["recon"], lr)
    torch.manual_seed(5)
    noisy, _ = net.loss(x, y, alpha=0.05, noise_std=0.3)
    torch.manual_seed(5)
    logits, m = net.encode(x + 0.3 * torch.randn_like(x))  # the encoder sees x + noise; the target stays x
    expected = F.cross_entropy(logits, y) + 0.05 * ((net.decode(logits.softmax(1), m) - x) ** 2).sum((1, 2, 3)).mean()
    assert torch.allclose(noisy, expected)


def test_reconstruct_from_a_given_label_uses_its_one_hot():
    net = StyleMemoryNet()
    x = torch.rand(2, 1, 28, 28)
    _, m = net.encode(x)
    assert torch.allclose(
        net.reconstruct(x, torch.tensor([4, 7])), net.decode(F.one_hot(torch.tensor([4, 7]), 10).float(), m)
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda n: n.encode(torch.rand(2, 1, 28, 27)), "images must have shape"),
        (lambda n: n.encode(torch.full((2, 784), float("nan"))), "NaN"),
        (lambda n: n.loss(torch.rand(2, 784), torch.tensor([0, 10])), "labels must be 2 integers in 0..9"),
        (lambda n: n.loss(torch.rand(2, 784), torch.tensor([0.0, 1.0])), "labels must be"),
        (lambda n: n.decode(torch.rand(2, 9), torch.rand(2, 16)), "y must have shape"),
        (lambda n: n.decode(torch.rand(2, 10), torch.rand(3, 16)), "m must have shape"),
    ],
)
def test_bad_input_gives_a_clear_error(call, message):
    with pytest.raises(InvalidInputError, match=message):
        call(StyleMemoryNet())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 1}, "at least 2"),
        ({"style_dim": 0}, "style_dim"),
        ({"image_shape": (28, 28)}, "image_shape"),
        ({"image_shape": (1, 2, 2), "kernel": 4}, "too small"),
        ({"channels": ()}, "channels"),
    ],
)
def test_bad_settings_give_a_clear_error(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        StyleMemoryNet(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"schedule": "slow"}, "schedule must be"),
        ({"alpha": -1.0}, "alpha"),
        ({"noise_std": float("nan")}, "noise_std"),
        ({"lr": -0.1}, "learning rate"),
        ({"epochs": 2.5}, "epochs"),
    ],
)
def test_bad_training_options(kwargs, message):
    data = (torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]))
    with pytest.raises(InvalidInputError, match=message):
        train_style_memory(StyleMemoryNet(), data, data, progress=False, **kwargs)


# ------------------------------------------------------------------ analyses on oracles
def test_nearest_neighbours_match_brute_force():
    g = torch.Generator().manual_seed(1)
    images, style, labels = (
        torch.rand(50, 1, 4, 4, generator=g),
        torch.rand(50, 3, generator=g),
        torch.randint(0, 3, (50,), generator=g),
    )
    nb = nearest_neighbours(7, images, style, labels, k=10)
    d_img = (images.flatten(1) - images[7].flatten()).norm(dim=1)
    d_sty = (style - style[7]).norm(dim=1)
    for space, d in (("image", d_img), ("style", d_sty)):
        order = [i for i in d.argsort().tolist() if i != 7][:10]
        assert nb[space]["indices"] == order
        assert math.isclose(nb[space]["mean_image_distance"], float(d_img[order].mean()), rel_tol=1e-6)
        assert math.isclose(nb[space]["mean_style_distance"], float(d_sty[order].mean()), rel_tol=1e-6)
        assert sum(nb[space]["class_counts"]) == 10 and nb[space]["same_class"] == int(
            (labels[order] == labels[7]).sum()
        )
    # each space's own neighbours are the closest in that space
    assert nb["image"]["mean_image_distance"] <= nb["style"]["mean_image_distance"]
    assert nb["style"]["mean_style_distance"] <= nb["image"]["mean_style_distance"]
    with pytest.raises(InvalidInputError):
        nearest_neighbours(7, images, style, labels, k=50)


def test_interpolation_is_eq4_and_transfer_covers_every_class():
    net = StyleMemoryNet().eval()
    m1, m2 = torch.rand(2, 16), torch.rand(2, 16)
    ramp = interpolate(net, m1, m2, torch.tensor([3, 8]))
    assert ramp.shape == (10, 2, 1, 28, 28) and LAMBDAS[0] == 0.1 and LAMBDAS[-1] == 1.0
    one_hot = F.one_hot(torch.tensor([3, 8]), 10).float()
    with torch.no_grad():
        assert torch.allclose(ramp[-1], net.decode(one_hot, m1), atol=1e-6)  # lambda = 1: m1 itself
        assert torch.allclose(ramp[4], net.decode(one_hot, 0.5 * m1 + 0.5 * m2), atol=1e-6)
        grid = transfer(net, m1)
        assert grid.shape == (2, 10, 1, 28, 28)
        assert torch.allclose(grid[1, 6], net.decode(F.one_hot(torch.tensor([6]), 10).float(), m1[1:]), atol=1e-6)
    with pytest.raises(InvalidInputError, match="lambdas"):
        interpolate(net, m1, m2, 3, lambdas=(0.5, 1.5))


def test_auroc_and_the_class_margin_score():
    assert auroc([3.0, 4.0], [1.0, 2.0]) == 1.0 and auroc([1.0], [2.0]) == 0.0 and auroc([1.0, 2.0], [1.0, 2.0]) == 0.5
    assert auroc([], [1.0]) is None and auroc([1.0], []) is None  # undefined, never a NaN
    net = StyleMemoryNet().eval()
    x = torch.rand(6, 1, 28, 28)
    codes = encode_dataset(net, x, batch_size=4, all_classes=True)
    assert codes.class_errors.shape == (6, 10)
    s = detection_scores(codes)
    e, p = codes.class_errors, codes.predicted
    for i in range(6):
        others = [e[i, k] for k in range(10) if k != p[i]]
        assert torch.isclose(s["class_margin"][i], e[i, p[i]] - min(others))
    assert torch.allclose(s["max_softmax"], 1 - codes.probs.max(1).values)


# ------------------------------------------------------------------ EMNIST letters from official-format files
def _letters(n, rng, glyphs):
    """n images of 26 asymmetric glyph classes (7x7 blocks upscaled to 28x28, shifted, noisy) and labels 1..26."""
    labels = rng.integers(0, 26, n)
    big = np.kron(glyphs[labels], np.ones((1, 4, 4))) * 220
    shifted = np.stack([np.roll(b, tuple(rng.integers(-2, 3, 2)), (0, 1)) for b in big])
    images = np.clip(shifted + rng.normal(0, 20, shifted.shape), 0, 255).astype(np.uint8)
    return images, (labels + 1).astype(np.uint8)


def test_style_emnist_runs_on_official_format_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    glyphs = (rng.random((26, 7, 7)) < 0.45).astype(float)
    folder = tmp_path / "data" / "emnist-letters"
    folder.mkdir(parents=True)
    spec = D.DATASETS["emnist-letters"]
    upright = {}
    for split, n in (("train", 1300), ("test", 260)):
        images, labels = _letters(n, rng, glyphs)
        upright[split] = images
        img_name, lab_name = spec.splits[split]
        write_idx(folder / img_name, np.ascontiguousarray(images.transpose(0, 2, 1)))  # EMNIST stores images transposed
        write_idx(folder / lab_name, labels)
    # the published checksums are those of the real files: register the same spec without them
    monkeypatch.setitem(
        D.DATASETS, "emnist-letters", dataclasses.replace(spec, files={k: RemoteFile(k, ()) for k in spec.files})
    )
    with pytest.warns(UserWarning, match="no published checksum"):  # user-supplied files: sizes checked, and said so
        loaded = D.load_dataset("emnist-letters", "test", data_dir=tmp_path / "data")
    assert np.array_equal(loaded.images[:, 0].numpy(), upright["test"]) and loaded.labels.max() <= 25

    out = tmp_path / "run"
    run_experiment(
        "style-emnist",
        out=out,
        data_dir=tmp_path / "data",
        show_progress=False,
        overrides={"epochs": 3, "decoders": ("untied",), "neighbours": 20},
    )
    res = json.loads((out / "results.json").read_text())["metrics"]
    assert res["dataset"] == "emnist-letters" and len(res["classes"]) == 26
    assert res["untied"]["test_accuracy"] > 0.6  # chance is 1/26
    assert res["paper"]["test_accuracy"] == 0.9127
    assert {
        "reconstructions.png",
        "misclassified.png",
        "neighbours_1.png",
        "interpolation.png",
        "transfer.png",
        "detection.png",
    } <= {p.name for p in out.glob("*.png")}


def test_interpolation_smoothness_and_transfer_classes_by_hand():
    from bidir.style import interpolation_smoothness, transfer_classes

    class Fixed(torch.nn.Module):  # "classifies" an image by its mean pixel: 0..2 for means in thirds
        def encode(self, x):
            mean = x.flatten(1).mean(1)
            return torch.nn.functional.one_hot((mean * 3).clamp(max=2.99).long(), 3).float(), None

    even = torch.linspace(0, 0.3, 4).view(4, 1, 1, 1, 1).expand(4, 1, 1, 2, 2)  # 4 even steps of one ramp
    out = interpolation_smoothness(Fixed(), even, torch.tensor([0]))
    assert out["largest_step_ratio"] == pytest.approx(1.0) and out["kept_class"] == 1.0
    jump = torch.tensor([0.0, 0.0, 0.0, 0.9]).view(4, 1, 1, 1, 1).expand(4, 1, 1, 2, 2)  # one jump at the end
    out = interpolation_smoothness(Fixed(), jump, torch.tensor([0]))
    assert out["largest_step_ratio"] == pytest.approx(3.0) and out["kept_class"] == 0.75  # L - 1; the last is class 2
    grid = torch.stack([torch.full((1, 2, 2), v) for v in (0.1, 0.5, 0.9)]).unsqueeze(0)  # one style, 3 classes
    out = transfer_classes(Fixed(), grid, torch.tensor([1]))  # source class 1; targets 0 and 2, read as 0 and 2
    assert out == {"read_as_target": 1.0, "read_as_source": 0.0}
