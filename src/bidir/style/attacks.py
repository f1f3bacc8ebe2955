"""Adversarial inputs against the classifier, and detecting them (and mistakes) by reconstruction.

Sec V of the paper proposes that a network which also reconstructs can tell when it is
being fooled: "if the reconstruction does not closely match the input, then it is likely
that the input was misclassified". We measure that: the score is the reconstruction
distance ||x_hat(predicted y, m) - x||^2 (eq 2), and the baseline score is the
classifier's own doubt, 1 - max softmax (Hendrycks & Gimpel 2017); ours, the class
margin, asks whether another class reconstructs the input better. Each is summarised
by the AUROC of telling the positives (misclassified, or adversarial) from the negatives.

Attacks, L-infinity, made against the classifier alone (cross-entropy of the class
logits), pixels kept in [0, 1]:
    FGSM  x' = clip(x + eps sign(grad_x CE))                        (Goodfellow et al. 2015)
    PGD   x' <- clip_{x, eps}(x' + step sign(grad_x CE)), from a random start in the
          eps-ball, ``steps`` times                                   (Madry et al. 2018)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from ..validation import check_number, check_positive_int

__all__ = ["check_budget", "fgsm", "pgd", "auroc", "detection_scores"]


def check_budget(eps: float, name: str = "eps") -> float:
    """An attack budget or step on pixels in [0, 1]: a number in (0, 1]."""
    return check_number(eps, name, low=0, high=1, low_open=True)


def _input_gradient(model, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x), labels)
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(model, x: torch.Tensor, labels: torch.Tensor, eps: float) -> torch.Tensor:
    """Fast gradient sign method: one step of size eps up the loss's sign gradient."""
    eps = check_budget(eps)
    return (x + eps * _input_gradient(model, x, labels).sign()).clamp(0, 1).detach()


def pgd(
    model,
    x: torch.Tensor,
    labels: torch.Tensor,
    eps: float,
    steps: int = 40,
    step_size: float = 0.01,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Projected gradient descent (ascent on the loss) in the L-inf eps-ball, random start."""
    eps, step_size = check_budget(eps), check_budget(step_size, "step_size")
    check_positive_int(steps, "steps")
    noise = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    adv = (x + eps * (2 * noise - 1)).clamp(0, 1)
    for _ in range(steps):
        adv = adv + step_size * _input_gradient(model, adv, labels).sign()
        adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
    return adv.detach()


def auroc(positive_scores, negative_scores) -> float | None:
    """Area under the ROC curve for telling positives (higher scores) from negatives; None where it is undefined
    (no positives, say no mistakes, or no negatives), so results say "undefined" instead of holding a NaN."""
    pos, neg = torch.as_tensor(positive_scores).flatten(), torch.as_tensor(negative_scores).flatten()
    if pos.numel() == 0 or neg.numel() == 0:
        return None
    scores = torch.cat([pos, neg]).double().cpu().numpy()
    truth = torch.cat([torch.ones(pos.numel()), torch.zeros(neg.numel())]).numpy()
    return float(roc_auc_score(truth, scores))


def detection_scores(codes) -> dict:
    """Per-sample scores from :class:`~bidir.style.analysis.Codes`: higher = more suspicious.

    reconstruction: ||x_hat(predicted y, m) - x||^2, the paper's proposal.
    max_softmax: 1 - max_k y_k, the classifier-only baseline.
    class_margin (ours; needs ``all_classes`` codes): e_pred - min_{k != pred} e_k, where
        e_k = ||decode(one-hot k, m) - x||^2: how much better the predicted class explains the
        input than the best other class. It compares reconstructions of the *same* input, so
        the input's own difficulty (ink, thickness) cancels, which the raw distance lacks.
    """
    scores = {"reconstruction": codes.recon_error, "max_softmax": 1 - codes.confidence}
    if codes.class_errors is not None:
        e = codes.class_errors
        own = e.gather(1, codes.predicted[:, None]).squeeze(1)
        others = e.scatter(1, codes.predicted[:, None], float("inf")).min(1).values
        scores["class_margin"] = own - others
    return scores
