"""Training a style-memory network on eq (3) with the shared trainer (checkpoints, resume, metrics)."""
from __future__ import annotations

import math

import torch

from ..errors import InvalidInputError, check_positive_int
from ..train import Trainer, make_optimizer
from .analysis import encode_dataset
from .model import SCHEDULES, StyleMemoryNet

__all__ = ["train_style_memory", "resolve_schedule"]


def resolve_schedule(name: str, epochs: int = 0, lr: float = 0.0, batch_size: int = 0):
    """The preset ``name`` with any non-zero override applied: (lr, epochs, batch_size, cosine)."""
    if name not in SCHEDULES:
        raise InvalidInputError(f"schedule must be one of {sorted(SCHEDULES)}, got {name!r}")
    s = SCHEDULES[name]
    for key, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidInputError(f"{key} must be a positive integer (0 = the schedule's), got {value!r}")
    if lr and not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise InvalidInputError(f"learning rate must be a positive number (0 = the schedule's), got {lr!r}")
    return lr or s.lr, epochs or s.epochs, batch_size or s.batch_size, s.cosine


def train_style_memory(model: StyleMemoryNet, train, test, *, schedule: str = "fast", epochs: int = 0, lr: float = 0.0,
                       batch_size: int = 0, alpha: float = 0.05, noise_std: float = 0.1, out=None, seed: int = 0,
                       progress: bool = True, log=None, name: str = "style") -> list[dict]:
    """Minimise eq (3) with Adam under ``schedule`` ('paper' or 'fast'); returns the per-epoch history.

    train, test: (images (N, C, H, W) in [0, 1], labels (N,)). After each epoch the test
    accuracy and mean reconstruction error ||x_hat(predicted y, m) - x||^2 are recorded.
    """
    lr, epochs, batch_size, cosine = resolve_schedule(schedule, epochs, lr, batch_size)
    if not (isinstance(alpha, (int, float)) and alpha >= 0 and math.isfinite(alpha)):
        raise InvalidInputError(f"alpha must be a non-negative number, got {alpha!r}")
    if not (isinstance(noise_std, (int, float)) and noise_std >= 0 and math.isfinite(noise_std)):
        raise InvalidInputError(f"noise_std must be a non-negative number, got {noise_std!r}")
    check_positive_int(epochs, "epochs")
    opt = make_optimizer("adam", model.parameters(), lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if cosine else None
    xt, yt = test

    def loss_fn(m, xb, yb):
        return m.loss(xb, yb, alpha=alpha, noise_std=noise_std)

    def evaluate(m, epoch):
        codes = encode_dataset(m, xt)
        return {"test_accuracy": float((codes.predicted == yt).float().mean()), "test_recon": float(codes.recon_error.mean())}

    trainer = Trainer(model, loss_fn, opt, out=out, seed=seed, batch_size=batch_size, scheduler=scheduler,
                      progress=progress, log=log, name=name)
    return trainer.fit(train, epochs, evaluate=evaluate)
