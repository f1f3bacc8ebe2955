"""Style memory trained on the MNIST subset: accuracy and reconstruction bars, attacks within budget that fool the
classifier, reconstruction error flags misclassified inputs, deterministic training that resumes."""

import pytest
import torch

from bidir.data import datasets as D
from bidir.errors import InvalidInputError
from bidir.style import (
    StyleMemoryNet,
    auroc,
    detection_scores,
    encode_dataset,
    fgsm,
    pgd,
)
from bidir.style.training import train_style_memory


# ------------------------------------------------------------------ trained on the MNIST subset
@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    train, test = D.train_test("mnist-subset", progress=False)
    x, y = train.features(flatten=False), train.labels
    xt, yt = test.features(flatten=False), test.labels
    net = StyleMemoryNet()
    history = train_style_memory(net, (x, y), (xt, yt), epochs=4, batch_size=32, progress=False, log=lambda s: None)
    net.eval()
    return net, history, xt, yt, x, y


@pytest.mark.slow
def test_training_reaches_accuracy_and_reconstruction_bars(trained):
    net, history, xt, yt, x, y = trained
    codes = encode_dataset(net, xt, all_classes=True)
    accuracy = float((codes.predicted == yt).float().mean())
    assert accuracy > 0.95, accuracy
    assert history[-1]["test_accuracy"] == pytest.approx(accuracy)
    # a decoder that ignored the style memory could at best draw the class mean: beat that clearly
    centroids = torch.stack([x[y == k].mean(0) for k in range(10)])
    class_mean_error = float((xt - centroids[yt]).pow(2).flatten(1).sum(1).mean())
    recon = float(codes.recon_error.mean())
    assert recon < 0.7 * class_mean_error, (recon, class_mean_error)
    # the style memory carries the style: another image's m reconstructs this image worse
    with torch.no_grad():
        swapped = net.decode(codes.probs, codes.style.roll(1, 0))
    assert float((swapped - xt).pow(2).flatten(1).sum(1).mean()) > 1.3 * recon
    assert history[-1]["test_recon"] < history[0]["test_recon"]


@pytest.mark.slow
def test_attacks_respect_the_budget_and_fool_the_classifier(trained):
    net, _, xt, yt, _, _ = trained
    x, y = xt[:200], yt[:200]
    for adv in (
        fgsm(net, x, y, 0.1),
        pgd(net, x, y, 0.1, steps=10, step_size=0.02, generator=torch.Generator().manual_seed(0)),
    ):
        assert (adv - x).abs().max() <= 0.1 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    with torch.no_grad():
        clean = float((net(x).argmax(1) == y).float().mean())
        after_fgsm = float((net(fgsm(net, x, y, 0.1)).argmax(1) == y).float().mean())
        after_pgd = float((net(pgd(net, x, y, 0.1, steps=10, step_size=0.02)).argmax(1) == y).float().mean())
    assert after_fgsm < clean - 0.2 and after_pgd <= after_fgsm + 0.02
    with pytest.raises(InvalidInputError, match="eps"):
        fgsm(net, x, y, 0.0)


@pytest.mark.slow
def test_reconstruction_flags_misclassified_inputs_better_than_chance(trained):
    net, _, xt, yt, _, _ = trained
    codes = encode_dataset(net, xt, all_classes=True)
    wrong = codes.predicted != yt
    scores = detection_scores(codes)
    assert auroc(scores["class_margin"][wrong], scores["class_margin"][~wrong]) > 0.6
    assert auroc(scores["max_softmax"][wrong], scores["max_softmax"][~wrong]) > 0.8


def test_training_is_deterministic_and_resumes(tmp_path):
    train, _ = D.train_test("mnist-subset", progress=False)
    x, y = train.features(flatten=False)[:256], train.labels[:256]
    runs = []
    for name in ("a", "b"):
        torch.manual_seed(0)
        net = StyleMemoryNet(tied=True)
        train_style_memory(
            net, (x, y), (x[:64], y[:64]), epochs=2, out=tmp_path / name, progress=False, log=lambda s: None
        )
        runs.append(net.state_dict())
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    torch.manual_seed(0)
    resumed = StyleMemoryNet(tied=True)
    history = train_style_memory(
        resumed, (x, y), (x[:64], y[:64]), epochs=2, out=tmp_path / "a", progress=False, log=lambda s: None
    )
    assert len(history) == 2 and all(torch.equal(resumed.state_dict()[k], runs[0][k]) for k in runs[0])
