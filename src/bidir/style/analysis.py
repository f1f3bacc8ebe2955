"""What the style memory holds: codes, reconstructions, neighbours, interpolation, transfer (sec IV)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import InvalidInputError
from ..validation import check_positive_int
from .model import StyleMemoryNet

__all__ = [
    "Codes",
    "encode_dataset",
    "nearest_neighbours",
    "interpolate",
    "transfer",
    "interpolation_smoothness",
    "transfer_classes",
    "LAMBDAS",
]

LAMBDAS = tuple(round(0.1 * i, 1) for i in range(1, 11))  # Fig 11: 0.1 .. 1.0, top to bottom


@dataclass
class Codes:
    """A dataset through the network: everything the figures and detectors need, per sample."""

    probs: torch.Tensor  # (N, K) softmax y
    style: torch.Tensor  # (N, S) style memory m
    recon: torch.Tensor  # (N, C, H, W) x_hat from (predicted y, m)
    recon_error: torch.Tensor  # (N,) ||x_hat - x||^2 (eq 2)
    class_errors: torch.Tensor | None = None  # (N, K) ||decode(e_k, m) - x||^2 for every class k

    @property
    def predicted(self) -> torch.Tensor:
        """The predicted class of every sample."""
        return self.probs.argmax(1)

    @property
    def confidence(self) -> torch.Tensor:
        """The softmax probability of the predicted class."""
        return self.probs.max(1).values


@torch.no_grad()
def encode_dataset(model: StyleMemoryNet, x: torch.Tensor, batch_size: int = 1000, all_classes: bool = False) -> Codes:
    """Run ``x`` forward and back in batches (eval mode, no noise).

    all_classes: also decode each style memory with every class's one-hot vector and keep
    the K reconstruction errors (for :func:`~bidir.style.attacks.detection_scores`).
    """
    check_positive_int(batch_size, "batch_size")
    was_training = model.training
    model.eval()
    parts = []
    for xb in x.split(batch_size):
        logits, m = model.encode(xb)
        probs = logits.softmax(1)
        recon = model.decode(probs, m)
        xb = xb.reshape(recon.shape)
        part = [probs, m, recon, (recon - xb).pow(2).flatten(1).sum(1)]
        if all_classes:
            part.append((transfer(model, m) - xb[:, None]).pow(2).flatten(2).sum(2))
        parts.append(part)
    model.train(was_training)
    return Codes(*(torch.cat(p) for p in zip(*parts, strict=True)))


def nearest_neighbours(
    query: int, images: torch.Tensor, style: torch.Tensor, labels: torch.Tensor, k: int = 97
) -> dict:
    """The ``k`` samples nearest to sample ``query`` in image space and in style space (Figs 7-8).

    Distances are Euclidean, on pixels (784-d) and on style memories (16-d). For each
    neighbourhood: the indices (nearest first), the mean distance from the query in both
    spaces (the figure captions' "Image Dist" and "Style Dist"), and its class counts.
    """
    n = images.shape[0]
    check_positive_int(k, "k", maximum=n - 1)
    if not 0 <= query < n:
        raise InvalidInputError(f"query must be an index in 0..{n - 1}, got {query}")
    flat = images.flatten(1)
    d_img = (flat - flat[query]).norm(dim=1)
    d_sty = (style - style[query]).norm(dim=1)
    out = {"query": query, "query_label": int(labels[query])}
    for space, d in (("image", d_img), ("style", d_sty)):
        d = d.clone()
        d[query] = float("inf")  # the query is not its own neighbour
        idx = d.topk(k, largest=False).indices
        counts = torch.bincount(labels[idx], minlength=int(labels.max()) + 1)
        out[space] = {
            "indices": idx.tolist(),
            "mean_image_distance": float(d_img[idx].mean()),
            "mean_style_distance": float(d_sty[idx].mean()),
            "class_counts": counts.tolist(),
            "same_class": int(counts[labels[query]]),
        }
    return out


@torch.no_grad()
def interpolate(model: StyleMemoryNet, m1: torch.Tensor, m2: torch.Tensor, label, lambdas=LAMBDAS) -> torch.Tensor:
    """Decode m_hat(lambda) = lambda m1 + (1 - lambda) m2 (eq 4) with class ``label`` one-hot.

    m1, m2: (S,) or (B, S); label: an int or (B,) ints. Returns (len(lambdas), B, C, H, W).
    """
    m1, m2 = torch.atleast_2d(m1), torch.atleast_2d(m2)
    lam = torch.as_tensor(lambdas, dtype=m1.dtype, device=m1.device)
    if lam.dim() != 1 or not ((lam >= 0) & (lam <= 1)).all():
        raise InvalidInputError(f"lambdas must be numbers in [0, 1], got {lambdas!r}")
    mix = lam[:, None, None] * m1 + (1 - lam[:, None, None]) * m2  # (L, B, S)
    L, B, S = mix.shape
    y = model.one_hot(label, B).repeat(L, 1)
    return model.decode(y, mix.reshape(L * B, S)).reshape(L, B, *model.image_shape)


@torch.no_grad()
def transfer(model: StyleMemoryNet, m: torch.Tensor) -> torch.Tensor:
    """Decode each style memory with every class: (B, K, C, H, W), the style-transfer grid."""
    m = torch.atleast_2d(m)
    B, K = m.shape[0], model.num_classes
    y = torch.eye(K, dtype=m.dtype, device=m.device).repeat(B, 1)
    return model.decode(y, m.repeat_interleave(K, 0)).reshape(B, K, *model.image_shape)


@torch.no_grad()
def interpolation_smoothness(model, ramp: torch.Tensor, labels: torch.Tensor) -> dict:
    """How smooth are the eq (4) ramps? The largest image step over the mean step of each ramp (1: even steps; a
    jump from one image to the other at one lambda gives L - 1), and the share of decoded images the network itself
    classifies as the ramp's class."""
    steps = (ramp[1:] - ramp[:-1]).flatten(2).norm(dim=-1)  # (L - 1, P)
    ratio = (steps.amax(0) / steps.mean(0).clamp_min(1e-12)).max()
    L, P = ramp.shape[:2]
    predicted = model.encode(ramp.flatten(0, 1))[0].argmax(1).view(L, P)
    return {"largest_step_ratio": float(ratio), "kept_class": float((predicted == labels).float().mean())}


@torch.no_grad()
def transfer_classes(model, grid: torch.Tensor, sources: torch.Tensor) -> dict:
    """Style transfer in numbers: of the images decoded with another class than the source's, the share the network
    reads as that target class (character-like for it) and the share it reads as the source's class."""
    B, K = grid.shape[:2]
    predicted = model.encode(grid.flatten(0, 1))[0].argmax(1).view(B, K)
    target = torch.arange(K, device=grid.device).expand(B, K)
    other = target != sources[:, None]
    return {
        "read_as_target": float((predicted == target)[other].float().mean()),
        "read_as_source": float((predicted == sources[:, None])[other].float().mean()),
    }
