"""Fig 4's measure (Kosko 2021, sec IV): a classifier run backward recalls each class as its centroid.

A bidirectionally trained network's backward pass of the class vector e_k, N^T(e_k), should lie near
the centroid c_k of class k's training inputs (the Gaussian backward likelihood's best answer, the
mean of the inputs with label k). :func:`class_centroids` computes the c_k; :func:`centroid_measure`
runs the backward pass of every e_k and compares: which centroid each N^T(e_k) is nearest, and its
distance to its own one relative to that centroid's norm.
"""

from __future__ import annotations

import torch

from ..validation import check_every_class

__all__ = ["class_centroids", "centroid_measure", "images_against_centroids"]


def class_centroids(
    x: torch.Tensor, labels: torch.Tensor, classes: int, name: str = "the training data"
) -> torch.Tensor:
    """c_k: the mean input of each class k = 0..classes-1, (classes, *x.shape[1:]); every class must be there."""
    check_every_class(labels, classes, name)
    labels = labels.to(x.device)
    return torch.stack([x[labels == k].mean(0) for k in range(classes)])


@torch.no_grad()
def centroid_measure(net: torch.nn.Module, centroids: torch.Tensor) -> dict:
    """N^T(e_k) against the class centroids: for the K class vectors e_k, the backward passes (``recall``, flat),
    their distances to every centroid (``distance_to_centroids[k][j]``), how many are nearest their own centroid,
    and ||N^T(e_k) - c_k|| / ||c_k|| per class with its median."""
    flat = centroids.flatten(1)
    return images_against_centroids(
        net.backward_pass(torch.eye(len(centroids), dtype=flat.dtype, device=flat.device)), centroids
    )


@torch.no_grad()
def images_against_centroids(images: torch.Tensor, centroids: torch.Tensor) -> dict:
    """Fig 4's measure for any backward path: ``images[k]``, the path's image of the class vector e_k, against the
    class centroids (what :func:`centroid_measure` gives for a network's own backward pass)."""
    flat, recall = centroids.flatten(1), images.flatten(1)
    dist = torch.cdist(recall, flat)
    own = dist.diagonal() / flat.norm(dim=1)
    nearest = int((dist.argmin(1) == torch.arange(len(centroids), device=dist.device)).sum())
    return {
        "own_centroid_nearest": nearest,
        "relative_error_to_own_centroid": own.tolist(),
        "median_relative_error": float(own.median()),
        "distance_to_centroids": dist.tolist(),
        "recall": recall.cpu(),
    }
