"""The experiment runner: registry, configuration, seeds, run folders and results.

An experiment is a function ``run(config, ctx) -> metrics`` registered with a config
dataclass whose defaults are the paper's settings and a dict of ``--quick`` overrides.
The runner builds the config (defaults, then quick, then ``--set key=value``), seeds
every RNG, gives the experiment a :class:`RunContext` (progress bars, figures, log, the
device), and writes the run folder:

    results.json   experiment, config, metrics, seed, versions (deterministic: no times)
    summary.txt    the log lines, ending with the wall time
    *.png          figures
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import __version__
from .distributed import init_distributed, world
from .errors import InvalidInputError
from .experiments import EXPERIMENTS, Experiment
from .io import write_json_atomic, write_text_atomic
from .plotting import save_figure
from .seeds import derive_seed, generator, seed_everything
from .validation import check_choice

__all__ = ["RunContext", "run_experiment", "build_config"]


@dataclass
class RunContext:
    """What an experiment gets from the runner: its folder, seed, device, data folder, progress, log and figures."""

    out: Path
    seed: int
    device: torch.device
    data_dir: Path | None = None
    quick: bool = False
    show_progress: bool = True
    main: bool = True  # False on the other ranks of a torchrun launch: they write nothing
    figures: list = field(default_factory=list)
    lines: list = field(default_factory=list)

    def generator(self, *stream) -> torch.Generator:
        """A fresh CPU generator for the named random ``stream`` of this run (no name: the run seed itself)."""
        return generator(self.seed, *stream)

    def stream_seed(self, *stream) -> int:
        """An integer seed for the named ``stream`` (to seed models, say): independent of every other stream."""
        return derive_seed(self.seed, *stream)

    def progress(self, iterable, **kwargs):
        """``iterable`` with a progress bar on a terminal (none in logs, CI or other ranks)."""
        # disable=None: bars on a terminal, none in a log file or CI (the log lines still print)
        return tqdm(iterable, disable=None if (self.show_progress and self.main) else True, leave=False, **kwargs)

    def log(self, message: str) -> None:
        """Print a line and keep it for summary.txt."""
        if self.main:
            tqdm.write(message)
        self.lines.append(message)

    def save_figure(self, fig, name: str) -> Path:
        """Write ``fig`` as ``out/NAME.png`` (on the main process) and list it in results.json."""
        path = self.out / f"{name}.png"
        if self.main:
            save_figure(fig, path)
        self.figures.append(path.name)
        return path


def _coerce(value: str, kind, name: str):
    kind_name = getattr(kind, "__name__", str(kind))
    try:
        if kind in (bool, "bool"):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        if kind in (int, "int"):
            return int(value)
        if kind in (float, "float"):
            return float(value)
        if kind in (str, "str"):
            return value
        parsed = json.loads(value)  # tuples, lists and the like
        return tuple(parsed) if isinstance(parsed, list) else parsed
    except (ValueError, json.JSONDecodeError):
        raise InvalidInputError(f"--set {name}={value}: cannot read {value!r} as {kind_name}") from None


def build_config(exp: Experiment, quick: bool = False, overrides: dict | None = None):
    """Defaults, then the quick overrides, then user overrides (strings are parsed)."""
    fields = {f.name: f for f in dataclasses.fields(exp.config)}
    values = dict(exp.quick) if quick else {}
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise InvalidInputError(f"{exp.name} has no setting {key!r}; settings: {', '.join(fields)}")
        values[key] = _coerce(value, fields[key].type, key) if isinstance(value, str) else value
    return exp.config(**values)


def versions() -> dict:
    import matplotlib

    return {
        "bidir": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "platform": platform.platform(terse=True),
    }


def resolve_device(device: str) -> torch.device:
    """'cpu' or 'cuda' as a torch device, refusing 'cuda' where no GPU is available."""
    check_choice(device, "device", ("cpu", "cuda"))
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu")
    return torch.device(device)


def run_experiment(
    name: str,
    quick: bool = False,
    seed: int = 0,
    out=None,
    data_dir=None,
    device: str = "cpu",
    overrides: dict | None = None,
    show_progress: bool = True,
) -> dict:
    """Run a registered experiment into its run folder and return the results dict."""
    if name not in EXPERIMENTS:
        raise InvalidInputError(f"unknown experiment {name!r}; see `bidir list`: {', '.join(sorted(EXPERIMENTS))}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer, got {seed!r}")
    exp = EXPERIMENTS[name]
    config = build_config(exp, quick, overrides)
    dev = init_distributed(resolve_device(device))  # joins torchrun's process group, if any
    rank, size = world()
    if size > 1 and out is None:  # every rank must read the same checkpoints
        raise InvalidInputError("a torchrun launch needs --out, so that all ranks share one run folder")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(out) if out is not None else Path("runs") / f"{name}-{stamp}{'-quick' if quick else ''}"
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
    ctx = RunContext(
        out=out,
        seed=seed,
        device=dev,
        data_dir=Path(data_dir) if data_dir else None,
        quick=quick,
        show_progress=show_progress,
        main=rank == 0,
    )
    ctx.log(f"== {name}: {exp.description}{' (quick)' if quick else ''}, seed {seed}, device {dev}")
    start = time.perf_counter()
    try:
        metrics = exp.run(config, ctx)
    except BaseException:
        if created and rank == 0 and not any(out.iterdir()):
            out.rmdir()  # a run refused at the start leaves no empty folder behind
        raise
    elapsed = time.perf_counter() - start
    results = {
        "experiment": name,
        "description": exp.description,
        "quick": quick,
        "seed": seed,
        "device": str(dev),
        "config": dataclasses.asdict(config),
        "metrics": metrics,
        "figures": sorted(ctx.figures),
        "versions": versions(),
    }
    if rank != 0:
        return results
    write_json_atomic(out / "results.json", results)
    ctx.lines.append(f"wall time: {elapsed:.1f} s")
    write_text_atomic(out / "summary.txt", "\n".join(ctx.lines) + "\n")
    tqdm.write(
        f"-> {name} finished in {elapsed:.1f} s; results in {out}/ (results.json, summary.txt, "
        f"{len(ctx.figures)} figures)"
    )
    return results
