"""The one training loop: epochs, progress, per-epoch metrics, atomic checkpoints, resume, DDP.

    trainer = Trainer(model, loss_fn, optimizer, out=folder, seed=0, batch_size=128)
    history = trainer.fit((x, t), epochs=10, evaluate=lambda model, epoch: {...})

``loss_fn(model, *batch) -> (loss, {name: value})`` returns the batch-mean loss to
minimise and any batch metrics to average over the epoch. ``evaluate(model, epoch)``
returns more metrics after each epoch (test accuracy, say).

The run folder gets, after every epoch (only rank 0 writes):

    metrics.json, metrics.csv   one row per epoch (train metrics averaged over samples,
                                evaluate's metrics, and the epoch's seconds, which the
                                history ``fit`` returns leaves out: results hold no timings)
    checkpoint.pt               model, its architecture (``bidir.load`` rebuilds it from
                                this file alone), optimiser and its hyperparameters,
                                scheduler, history, every random stream (torch's global
                                generators and the training's own ``generators``, noise
                                say); written to a temporary file
                                and renamed, so a crash never leaves half a checkpoint;
                                loaded with weights_only=True

``fit`` resumes from ``checkpoint.pt`` when one is there (``resume=True``): a run cut off
after epoch k and restarted ends with the same weights as one never cut off, because the
batch order of epoch e depends only on (seed, e) and every random stream the training draws
from is restored: torch's global CPU (and CUDA) generators, and each generator passed as
``generators={name: generator}`` (the NEM noise of a loss function, say). It resumes
only the same training: another seed, model configuration or optimizer setting is a clear
error, never a silent continuation.

Data parallel: launch with ``torchrun --nproc_per_node N`` (gloo on CPU, nccl on CUDA).
Each global batch is split across the ranks and each rank's loss is weighted by its share,
so DDP's gradient average is exactly the gradient of the whole batch: N processes end with
identical weights, equal (up to float rounding) to one process with the same batch size.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from .distributed import world
from .errors import BidirError, InvalidInputError
from .io import (
    CHECKPOINT_FILE,
    architecture,
    atomic_write,
    load_checkpoint,
    remove_stale_temporaries,
    save_atomic,
    write_json_atomic,
)
from .seeds import derive_seed
from .validation import check_choice, check_positive, check_positive_int

__all__ = ["Trainer", "make_optimizer", "OPTIMIZERS"]


OPTIMIZERS = ("sgd", "adam", "adamw")


def make_optimizer(
    name: str, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """'sgd' (with ``momentum``), 'adam' or 'adamw' at learning rate ``lr`` (``weight_decay``: L2 for sgd
    and adam, decoupled for adamw)."""
    check_choice(name, "optimizer", OPTIMIZERS)
    lr = check_positive(lr, "learning rate")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def _hyperparameters(optimizer: torch.optim.Optimizer) -> dict:
    """The optimizer's class and constructor hyperparameters (its defaults), comparable across runs."""
    plain = {
        k: v for k, v in optimizer.defaults.items() if isinstance(v, int | float | str | bool | tuple) or v is None
    }
    return {"class": type(optimizer).__name__, **{k: list(v) if isinstance(v, tuple) else v for k, v in plain.items()}}


def _contract_model(model: torch.nn.Module) -> tuple[str, torch.nn.Module] | None:
    """(prefix, module) of the first model-contract module inside ``model`` (a learner may wrap the network)."""
    for name, module in model.named_modules():
        if hasattr(module, "config") and hasattr(type(module), "from_config"):
            return (f"{name}." if name else ""), module
    return None


def _differences(saved: dict, now: dict) -> list[str]:
    keys = sorted(set(saved) | set(now))
    return [f"{k} {saved.get(k)!r} -> {now.get(k)!r}" for k in keys if saved.get(k) != now.get(k)]


class _Objective(torch.nn.Module):
    """Model + loss function as one module, so DDP wraps the call that computes the loss."""

    def __init__(self, model, loss_fn):
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, *batch):
        return self.loss_fn(self.model, *batch)


class Trainer:
    """The one training loop (see the module docstring); every model in bidir trains through it."""

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable,
        optimizer: torch.optim.Optimizer,
        *,
        out=None,
        seed: int = 0,
        batch_size: int = 128,
        shuffle: bool = True,
        scheduler=None,
        progress: bool = True,
        log: Callable[[str], None] | None = None,
        name: str = "train",
        checkpoint_every: int = 1,
        before_epoch: Callable[[int], None] | None = None,
        after_step: Callable[[], None] | None = None,
        generators: Mapping[str, torch.Generator] | None = None,
        divergence: float | None = 1e3,
    ):
        """``shuffle=False`` keeps the data's order (full-batch training, say); ``before_epoch(epoch)`` runs at
        the start of every epoch (a schedule of the model's own, say); ``after_step()`` after every optimizer
        step (a projection onto a constraint, say); ``generators`` are the random streams ``loss_fn`` draws
        from besides torch's global one: their states go into every checkpoint and come back on resume.

        A training fails (a :class:`BidirError`, before the epoch is checkpointed) when a loss or an epoch's
        metric is not finite, or when an epoch's mean loss exceeds ``divergence`` times the first epoch's (a
        positive first loss; None: no such check): a diverged training is an error, never a result."""
        self.model, self.loss_fn, self.optimizer, self.scheduler = model, loss_fn, optimizer, scheduler
        self.before_epoch, self.after_step = before_epoch, after_step
        self.generators = dict(generators or {})
        self.divergence = None if divergence is None else check_positive(divergence, "divergence")
        for key, g in self.generators.items():
            if not isinstance(g, torch.Generator):
                raise InvalidInputError(f"generators[{key!r}] must be a torch.Generator, got {type(g).__name__}")
        self.out = Path(out) if out is not None else None
        self.seed = seed
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
        self.progress, self.name = progress, name
        self.log = log or tqdm.write
        self.rank, self.world_size = world()
        self.history: list[dict] = []
        self.seconds: list[float] = []  # each epoch's wall time, beside the history (never in it)
        self.objective = _Objective(model, loss_fn)
        if self.world_size > 1:
            if not dist.is_initialized():
                raise BidirError("WORLD_SIZE > 1 but no process group: call bidir.distributed.init_distributed first")
            self.objective = torch.nn.parallel.DistributedDataParallel(self.objective, find_unused_parameters=True)

    # -- checkpoints ----------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path | None:
        """``out/checkpoint.pt``, or None when the trainer writes no files."""
        return self.out / CHECKPOINT_FILE if self.out is not None else None

    def _architecture(self) -> dict | None:
        found = _contract_model(self.model)
        return None if found is None else {**architecture(found[1]), "prefix": found[0]}

    def state(self, epoch: int) -> dict:
        """Everything a resume needs, and the model's architecture, so ``bidir.load`` rebuilds it from this alone."""
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "architecture": self._architecture(),
            "optimizer": self.optimizer.state_dict(),
            "optimizer_hyperparameters": _hyperparameters(self.optimizer),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "history": self.history,
            "seconds": self.seconds,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
            "generators": {key: g.get_state() for key, g in self.generators.items()},
            "seed": self.seed,
        }

    def _check_same_run(self, path: Path, state: dict) -> None:
        """Resume only the same training: seed, model architecture and optimizer hyperparameters as saved."""
        if state.get("seed") != self.seed:
            raise InvalidInputError(
                f"{path} was written with seed {state.get('seed')}, this run has seed {self.seed}; use another folder"
            )
        saved, now = state.get("architecture"), self._architecture()
        if saved is not None and now is not None and (saved["class"], saved["config"]) != (now["class"], now["config"]):
            what = _differences(saved["config"], now["config"]) if saved["class"] == now["class"] else []
            what = what or [f"model {saved['class']} -> {now['class']}"]
            raise InvalidInputError(f"{path} holds another model ({'; '.join(what)}); use another folder")
        saved = state.get("optimizer_hyperparameters")
        now = _hyperparameters(self.optimizer)
        if saved is not None and saved != now:
            raise InvalidInputError(
                f"{path} was trained with other optimizer settings ({'; '.join(_differences(saved, now))}); "
                "use another folder"
            )

    def _resume(self) -> int:
        path = self.checkpoint_path
        if path is None:
            return 0
        if self.rank == 0 and self.out.is_dir():
            remove_stale_temporaries(self.out)  # left by a write that was killed
        if not path.exists():
            return 0
        state = load_checkpoint(path, device=next(self.model.parameters()).device)
        self._check_same_run(path, state)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as exc:
            why = " ".join(str(exc).strip().splitlines()[:2])[:300]
            raise InvalidInputError(
                f"{path} does not fit this model or optimizer ({why}); use another folder"
            ) from None
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self._restore_streams(path, state)
        self.history = [{k: v for k, v in row.items() if k != "seconds"} for row in state["history"]]
        saved = state.get("seconds") or [row.get("seconds", 0.0) for row in state["history"]]  # (older: in the rows)
        self.seconds = list(saved)
        self.log(f"[{self.name}] resumed from {path} after epoch {state['epoch']}")
        return int(state["epoch"])

    def _restore_streams(self, path: Path, state: dict) -> None:
        """Every random stream as it was at the checkpoint; a stream the checkpoint lacks is another run."""
        saved = state.get("generators", {})
        if sorted(saved) != sorted(self.generators):
            raise InvalidInputError(
                f"{path} holds the random streams {sorted(saved)}, this training draws from {sorted(self.generators)}; "
                "use another folder"
            )
        torch.set_rng_state(state["torch_rng"].cpu())
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        for key, g in self.generators.items():
            g.set_state(saved[key].cpu())

    def _write(self, epoch: int, final: bool) -> None:
        if self.out is None or self.rank != 0:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        rows = [{**row, "seconds": s} for row, s in zip(self.history, self.seconds, strict=True)]
        write_json_atomic(self.out / "metrics.json", rows)
        buf = io.StringIO()
        keys = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(buf, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(self.out / "metrics.csv", lambda f: f.write(buf.getvalue()))
        if epoch % self.checkpoint_every == 0 or final:
            save_atomic(self.state(epoch), self.checkpoint_path)

    # -- the loop -------------------------------------------------------------------
    def _batches(self, n: int, epoch: int):
        """Global batches of epoch ``epoch``: a permutation that depends only on (seed, epoch), or the data's order."""
        if not self.shuffle:
            return torch.arange(n).split(self.batch_size)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(derive_seed(self.seed, "batches", epoch)))
        return order.split(self.batch_size)

    def step(self, batch: tuple, epoch: int, share: float) -> dict:
        """One optimizer step on ``batch``; ``share`` weights this rank's loss by its part of the global batch, so
        DDP's gradient average is the whole batch's. Returns the batch metrics, the loss first."""
        loss, metrics = self.objective(*batch)
        if not torch.isfinite(loss):
            raise BidirError(f"[{self.name}] the loss became {loss.item()} in epoch {epoch}: lower the learning rate")
        self.optimizer.zero_grad(set_to_none=True)
        (loss * share).backward()
        self.optimizer.step()
        if self.after_step is not None:
            self.after_step()
        return {"loss": loss.detach(), **metrics}

    def fit(self, data, epochs: int, evaluate: Callable | None = None, resume: bool = True) -> list[dict]:
        """Train for ``epochs`` epochs in all (counting any resumed ones); returns the history."""
        data = tuple(data)
        n = data[0].shape[0]
        if any(d.shape[0] != n for d in data):
            raise InvalidInputError(
                f"all data tensors need the same first dimension, got {[tuple(d.shape) for d in data]}"
            )
        check_positive_int(epochs, "epochs")
        start = self._resume() if resume else 0
        began = time.perf_counter()
        for epoch in range(start + 1, epochs + 1):
            t0 = time.perf_counter()
            if self.before_epoch is not None:
                self.before_epoch(epoch)
            self.model.train()
            sums: dict[str, float] = {}
            bar = tqdm(
                self._batches(n, epoch),
                desc=f"{self.name} epoch {epoch}/{epochs}",
                leave=False,
                disable=None if (self.progress and self.rank == 0) else True,
            )
            for idx in bar:
                chunk = idx.tensor_split(self.world_size)[self.rank]
                batch = tuple(d[chunk.to(d.device)] for d in data)
                metrics = self.step(batch, epoch, len(chunk) * self.world_size / len(idx))
                for k, v in metrics.items():
                    sums[k] = sums.get(k, 0.0) + float(v) * len(chunk)
                bar.set_postfix(loss=f"{float(metrics['loss']):.4g}")
            if self.scheduler is not None:
                self.scheduler.step()
            row = {"epoch": epoch, **self._reduce(sums, n)}
            if evaluate is not None:
                self.model.eval()
                with torch.no_grad():
                    row.update(evaluate(self.model, epoch))
            self._check_finite(row, epoch)
            self.history.append(row)
            self.seconds.append(time.perf_counter() - t0)
            self._write(epoch, final=epoch == epochs)
            if self.rank == 0:
                shown = " ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch" and _scalar(v))
                self.log(f"[{self.name}] epoch {epoch}/{epochs} {shown} ({self.seconds[-1]:.1f} s)")
        if self.rank == 0 and epochs > start:
            self.log(f"[{self.name}] trained in {time.perf_counter() - began:.1f} s (epochs {start + 1}-{epochs})")
        return self.history

    def _check_finite(self, row: dict, epoch: int) -> None:
        """Refuse to go on from an epoch whose metrics are not finite, or whose loss has diverged."""
        for key, value in row.items():
            if _scalar(value) and not math.isfinite(value):
                raise BidirError(
                    f"[{self.name}] epoch {epoch}: {key} became {value}: the training diverged; lower the learning rate"
                )
        first = self.history[0]["loss"] if self.history else row["loss"]
        if self.divergence is not None and first > 0 and row["loss"] > self.divergence * first:
            raise BidirError(
                f"[{self.name}] epoch {epoch}: the loss {row['loss']:.4g} is over {self.divergence:g} times the first "
                f"epoch's {first:.4g}: the training diverged; lower the learning rate"
            )

    def _reduce(self, sums: dict, n: int) -> dict:
        """Sample-weighted epoch means, summed over the ranks."""
        keys = sorted(sums)
        if self.world_size > 1:
            t = torch.tensor([sums[k] for k in keys], dtype=torch.float64, device=next(self.model.parameters()).device)
            dist.all_reduce(t)
            sums = dict(zip(keys, t.tolist(), strict=True))
        return {k: sums[k] / n for k in keys}


def _scalar(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
