"""style-detection: the style memory against adversarial inputs (beyond the paper's figures).

Wiyatno & Orchard close (sec V) with "preliminary experiments that we have done suggest that
treating perception as a two-way process, including both classification and reconstruction as
part of training and inference, is effective for guarding against being fooled by adversarial or
ambiguous inputs", and give no numbers. Here a style-memory network (:mod:`.style_memory`, our
fast schedule) is attacked with FGSM and PGD at L-inf budgets ``eps``, and each input is scored
by its reconstruction distance ||x_hat(predicted y, m) - x||^2 (eq 2), beside max-softmax and the
class margin: the AUROC of telling the attacks that fool the network from the clean inputs it gets
right measures how well the backward pass guards.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..style import auroc, detection_scores, encode_dataset, fgsm, pgd
from ..validation import check_fits
from .claims import Claim
from .registry import experiment
from .settings import PositiveInt, settings
from .style_memory import QUICK, Config, draw_detection, load, log_measures, mean_or_none, measure, train

Budget = Annotated[float, Field(gt=0, le=1)]  # an L-inf attack budget or step, pixels in [0, 1]

Budgets = Annotated[tuple[Budget, ...], Field(min_length=1)]


@settings
class DetectionConfig(Config):
    """The style-memory network (the paper's untied decoder) and the attacks on it."""

    decoders: Annotated[tuple[Literal["untied", "tied"], ...], Field(min_length=1)] = ("untied",)
    attack_size: PositiveInt = 1000  # test images attacked
    eps: Budgets = (0.1, 0.2)  # L-inf budgets of FGSM and PGD (each attack at each budget)
    pgd_steps: PositiveInt = 40
    pgd_step_size: Budget = 0.01


def run(cfg: DetectionConfig, ctx) -> dict:
    """Train the network(s), attack the first ``attack_size`` test images, and score clean and attacked inputs."""
    (x, y), (xt, yt), classes = load(cfg, ctx)
    check_fits(cfg.attack_size, "attack_size", len(xt), "test images")  # checked before any training
    results, codes, scores = {}, {}, {}
    for decoder in cfg.decoders:
        model, history = train(cfg, ctx, decoder, (x, y), (xt, yt), len(classes))
        codes[decoder] = encode_dataset(model, xt, all_classes=True)
        results[decoder], scores[decoder] = measure(codes[decoder], xt, yt)
        attacks = _attack(model, codes[decoder], scores[decoder], results[decoder], xt, yt, cfg, ctx)
        results[decoder]["attacks"] = attacks
        results[decoder]["history"] = history
        log_measures(ctx, decoder, results[decoder])
    draw_detection(ctx, results, scores, codes, yt)
    return {"dataset": cfg.dataset, "classes": list(classes), **results}


def _attack(model, codes, scores, result, xt, yt, cfg, ctx) -> dict:
    """FGSM and PGD at each budget on the first ``attack_size`` test images: each attack's success and, in
    ``result['detection']``, the AUROC of each score for fooling attacks against correct clean inputs."""
    n = cfg.attack_size
    clean, labels = xt[:n], yt[:n]
    clean_ok = (codes.predicted == yt)[:n]
    attacks = {"images": n, "pgd_steps": cfg.pgd_steps, "pgd_step_size": cfg.pgd_step_size}
    for eps in cfg.eps:
        for name in ATTACKS:
            if name == "FGSM":
                adv = fgsm(model, clean, labels, eps)
            else:
                adv = pgd(model, clean, labels, eps, cfg.pgd_steps, cfg.pgd_step_size, ctx.generator("pgd-start"))
            adv = encode_dataset(model, adv, all_classes=True)
            fooled = (adv.predicted != labels) & clean_ok  # correctly classified before, wrong after
            adv_scores = detection_scores(adv)
            key = f"{name} eps {eps:g}"
            result["detection"][key] = {k: auroc(adv_scores[k][fooled], scores[k][:n][clean_ok]) for k in scores}
            attacks[key] = {
                "success_rate": float(fooled.sum() / clean_ok.sum().clamp(min=1)),
                "accuracy_under_attack": float((adv.predicted == labels).float().mean()),
                "confidence_fooled": mean_or_none(adv.confidence[fooled]),
                "recon_error_fooled": mean_or_none(adv.recon_error[fooled]),
            }
    return attacks


ATTACKS = ("FGSM", "PGD")

ADVERSARIAL = Claim(
    id="wiyatno-adversarial-guard",
    paper="wiyatno",
    source="sec V",
    origin="paper",
    quote="treating perception as a two-way process, including both classification and reconstruction as part of "
    "training and inference, is effective for guarding against being fooled by adversarial or ambiguous inputs",
    statement="the reconstruction (the two-way pass) tells adversarial inputs that fool the network from clean ones",
    paper_value="effective (no number given)",
    measure=lambda m: {k: v["reconstruction"] for k, v in m["untied"]["detection"].items() if k != "misclassified"},
    compare="holds",
    metric="AUROC of the reconstruction distance, fooling attacks vs correct clean inputs, per attack (better than "
    "chance: above 0.5 for every attack)",
    check=lambda v: all(a is not None and a > 0.5 for a in v.values()),
    trained=True,
)

experiment(
    "style-detection",
    "Style memory against FGSM and PGD: does the backward pass flag adversarial inputs? (Wiyatno sec V)",
    DetectionConfig,
    run,
    quick={**QUICK, "attack_size": 60, "pgd_steps": 5, "pgd_step_size": 0.04},
    claims=(ADVERSARIAL,),
    hours=0.2,  # from the published seeds' runs (one thread)
    seeded=True,
    figures={"detection": "Wiyatno sec V (no figure: beyond the paper)"},
)
