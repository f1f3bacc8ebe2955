"""The one training loop: epochs, progress, per-epoch metrics, atomic checkpoints, resume, DDP.

    trainer = Trainer(model, loss_fn, optimizer, out=folder, seed=0, batch_size=128)
    history = trainer.fit((x, t), epochs=10, evaluate=lambda model, epoch: {...})

``loss_fn(model, *batch) -> (loss, {name: value})`` returns the batch-mean loss to
minimise and any batch metrics to average over the epoch. ``evaluate(model, epoch)``
returns more metrics after each epoch (test accuracy, say).

The run folder gets, after every epoch (only rank 0 writes):

    metrics.json, metrics.csv   one row per epoch (train metrics averaged over samples,
                                evaluate's metrics, the epoch's seconds)
    checkpoint.pt               model, optimiser, scheduler, history, RNG state; written
                                to a temporary file and renamed, so a crash never leaves
                                half a checkpoint; loaded with weights_only=True

``fit`` resumes from ``checkpoint.pt`` when one is there (``resume=True``): a run cut off
after epoch k and restarted ends with the same weights as one never cut off, because the
batch order of epoch e depends only on (seed, e) and the RNG state is restored.

Data parallel: launch with ``torchrun --nproc_per_node N`` (gloo on CPU, nccl on CUDA).
Each global batch is split across the ranks and each rank's loss is weighted by its share,
so DDP's gradient average is exactly the gradient of the whole batch: N processes end with
identical weights, equal (up to float rounding) to one process with the same batch size.
"""
from __future__ import annotations

import csv
import io
import math
import os
import time
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from .errors import BidirError, InvalidInputError, check_positive_int
from .runner import atomic_write, write_json_atomic

__all__ = ["Trainer", "make_optimizer", "world", "init_distributed", "is_main_process", "save_atomic", "load_checkpoint"]


# -- distributed helpers ------------------------------------------------------------
def world() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) unless launched by torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def is_main_process() -> bool:
    return world()[0] == 0


def init_distributed(device: torch.device) -> torch.device:
    """Join the torchrun process group if there is one; returns this rank's device."""
    rank, size = world()
    if size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda" and size > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    return device


# -- checkpoint files ---------------------------------------------------------------
def save_atomic(obj, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename over ``path``."""
    atomic_write(path, lambda f: torch.save(obj, f), binary=True)


def load_checkpoint(path: Path, device="cpu") -> dict:
    """Load a checkpoint with ``weights_only=True`` (never unpickles arbitrary objects)."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say which and why
        raise BidirError(f"cannot read checkpoint {path}: {exc}") from None


def make_optimizer(name: str, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """'sgd' or 'adam' with the given learning rate."""
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise InvalidInputError(f"learning rate must be a positive number, got {lr!r}")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise InvalidInputError(f"optimizer must be 'sgd' or 'adam', got {name!r}")


class _Objective(torch.nn.Module):
    """Model + loss function as one module, so DDP wraps the call that computes the loss."""

    def __init__(self, model, loss_fn):
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, *batch):
        return self.loss_fn(self.model, *batch)


class Trainer:
    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable,
        optimizer: torch.optim.Optimizer,
        *,
        out=None,
        seed: int = 0,
        batch_size: int = 128,
        scheduler=None,
        progress: bool = True,
        log: Callable[[str], None] | None = None,
        name: str = "train",
        checkpoint_every: int = 1,
        after_step: Callable[[], None] | None = None,
    ):
        """``after_step`` runs after every optimizer step (a projection onto a constraint, say)."""
        self.model, self.loss_fn, self.optimizer, self.scheduler = model, loss_fn, optimizer, scheduler
        self.after_step = after_step
        self.out = Path(out) if out is not None else None
        self.seed = seed
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
        self.progress, self.name = progress, name
        self.log = log or tqdm.write
        self.rank, self.world_size = world()
        self.history: list[dict] = []
        self.objective = _Objective(model, loss_fn)
        if self.world_size > 1:
            if not dist.is_initialized():
                raise BidirError("WORLD_SIZE > 1 but no process group: call bidir.train.init_distributed first")
            self.objective = torch.nn.parallel.DistributedDataParallel(self.objective, find_unused_parameters=True)

    # -- checkpoints ----------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        return self.out / "checkpoint.pt" if self.out is not None else None

    def state(self, epoch: int) -> dict:
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "history": self.history,
            "torch_rng": torch.get_rng_state(),
            "seed": self.seed,
        }

    def _resume(self) -> int:
        path = self.checkpoint_path
        if path is None or not path.exists():
            return 0
        state = load_checkpoint(path, device=next(self.model.parameters()).device)
        if state.get("seed") != self.seed:
            raise InvalidInputError(f"{path} was written with seed {state.get('seed')}, this run has seed {self.seed}; use another folder")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.history = list(state["history"])
        torch.set_rng_state(state["torch_rng"].cpu())
        self.log(f"[{self.name}] resumed from {path} after epoch {state['epoch']}")
        return int(state["epoch"])

    def _write(self, epoch: int, final: bool) -> None:
        if self.out is None or self.rank != 0:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.out / "metrics.json", self.history)
        buf = io.StringIO()
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        writer = csv.DictWriter(buf, fieldnames=keys)
        writer.writeheader()
        writer.writerows(self.history)
        atomic_write(self.out / "metrics.csv", lambda f: f.write(buf.getvalue()))
        if epoch % self.checkpoint_every == 0 or final:
            save_atomic(self.state(epoch), self.checkpoint_path)

    # -- the loop -------------------------------------------------------------------
    def _batches(self, n: int, epoch: int):
        """Global batches of epoch ``epoch``: a permutation that depends only on (seed, epoch)."""
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed * 100_003 + epoch))
        return order.split(self.batch_size)

    def fit(self, data, epochs: int, evaluate: Callable | None = None, resume: bool = True) -> list[dict]:
        """Train for ``epochs`` epochs in all (counting any resumed ones); returns the history."""
        data = tuple(data)
        n = data[0].shape[0]
        if any(d.shape[0] != n for d in data):
            raise InvalidInputError(f"all data tensors need the same first dimension, got {[tuple(d.shape) for d in data]}")
        check_positive_int(epochs, "epochs")
        start = self._resume() if resume else 0
        for epoch in range(start + 1, epochs + 1):
            t0 = time.perf_counter()
            self.model.train()
            sums: dict[str, float] = {}
            bar = tqdm(self._batches(n, epoch), desc=f"{self.name} epoch {epoch}/{epochs}", leave=False,
                       disable=None if (self.progress and self.rank == 0) else True)
            for idx in bar:
                chunk = idx.tensor_split(self.world_size)[self.rank]
                batch = tuple(d[chunk.to(d.device)] for d in data)
                loss, metrics = self.objective(*batch)
                if not torch.isfinite(loss):
                    raise BidirError(f"[{self.name}] the loss became {loss.item()} in epoch {epoch}: lower the learning rate")
                self.optimizer.zero_grad(set_to_none=True)
                # each rank's share of the global batch, so DDP's mean gradient is the batch's
                (loss * (len(chunk) * self.world_size / len(idx))).backward()
                self.optimizer.step()
                if self.after_step is not None:
                    self.after_step()
                loss = loss.detach()
                metrics = {"loss": loss, **metrics}
                for k, v in metrics.items():
                    sums[k] = sums.get(k, 0.0) + float(v) * len(chunk)
                bar.set_postfix(loss=f"{float(loss):.4g}")
            if self.scheduler is not None:
                self.scheduler.step()
            row = {"epoch": epoch, **self._reduce(sums, n)}
            if evaluate is not None:
                self.model.eval()
                with torch.no_grad():
                    row.update(evaluate(self.model, epoch))
            row["seconds"] = time.perf_counter() - t0
            self.history.append(row)
            self._write(epoch, final=epoch == epochs)
            if self.rank == 0:
                self.log(f"[{self.name}] epoch {epoch}/{epochs} " + " ".join(f"{k} {v:.4g}" for k, v in row.items() if k not in ("epoch", "seconds")) + f" ({row['seconds']:.1f} s)")
        return self.history

    def _reduce(self, sums: dict, n: int) -> dict:
        """Sample-weighted epoch means, summed over the ranks."""
        keys = sorted(sums)
        if self.world_size > 1:
            t = torch.tensor([sums[k] for k in keys], dtype=torch.float64, device=next(self.model.parameters()).device)
            dist.all_reduce(t)
            sums = dict(zip(keys, t.tolist()))
        return {k: sums[k] / n for k in keys}
