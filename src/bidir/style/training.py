"""Training a style-memory network on eq (3) with the shared trainer (checkpoints, resume, metrics)."""

from __future__ import annotations

import torch

from ..errors import InvalidInputError
from ..train import Trainer, make_optimizer
from ..validation import check_choice, check_number, check_positive, check_positive_int
from .analysis import encode_dataset
from .model import SCHEDULES, StyleMemoryNet

__all__ = ["train_style_memory", "resolve_schedule"]


def resolve_schedule(name: str, epochs: int = 0, lr: float = 0.0, batch_size: int = 0):
    """The preset ``name`` with any non-zero override applied: (lr, epochs, batch_size, cosine)."""
    s = SCHEDULES[check_choice(name, "schedule", sorted(SCHEDULES))]
    for key, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidInputError(f"{key} must be a positive integer (0 = the schedule's), got {value!r}")
    if lr:
        check_positive(lr, "learning rate (0 = the schedule's)")
    return lr or s.lr, epochs or s.epochs, batch_size or s.batch_size, s.cosine


def train_style_memory(
    model: StyleMemoryNet,
    train,
    test,
    *,
    schedule: str = "fast",
    epochs: int = 0,
    lr: float = 0.0,
    batch_size: int = 0,
    alpha: float = 0.05,
    noise_std: float = 0.1,
    out=None,
    seed: int = 0,
    progress: bool = True,
    log=None,
    name: str = "style",
) -> list[dict]:
    """Minimise eq (3) with Adam under ``schedule`` ('paper' or 'fast'); returns the per-epoch history.

    train, test: (images (N, C, H, W) in [0, 1], labels (N,)). After each epoch the test
    accuracy and mean reconstruction error ||x_hat(predicted y, m) - x||^2 are recorded.
    """
    lr, epochs, batch_size, cosine = resolve_schedule(schedule, epochs, lr, batch_size)
    check_number(alpha, "alpha", low=0)
    check_number(noise_std, "noise_std", low=0)
    check_positive_int(epochs, "epochs")
    opt = make_optimizer("adam", model.parameters(), lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if cosine else None
    xt, yt = test

    def loss_fn(m, xb, yb):
        return m.loss(xb, yb, alpha=alpha, noise_std=noise_std)

    def evaluate(m, epoch):
        codes = encode_dataset(m, xt)
        return {
            "test_accuracy": float((codes.predicted == yt).float().mean()),
            "test_recon": float(codes.recon_error.mean()),
        }

    trainer = Trainer(
        model,
        loss_fn,
        opt,
        out=out,
        seed=seed,
        batch_size=batch_size,
        scheduler=scheduler,
        progress=progress,
        log=log,
        name=name,
    )
    return trainer.fit(train, epochs, evaluate=evaluate)
