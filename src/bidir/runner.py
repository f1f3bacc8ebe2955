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
import math
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import __version__
from .data.datasets import check_data_dir, dataset_identity
from .distributed import init_distributed, world
from .errors import BidirError, InvalidInputError
from .experiments import EXPERIMENTS, Experiment
from .experiments.claims import judge_all
from .experiments.settings import build
from .io import brief, jsonable
from .plotting import save_figure
from .run_folder import RunFolder, identity
from .seeds import derive_seed, generator, seed_everything
from .validation import check_choice, check_seed, memory_error

__all__ = [
    "RunContext",
    "run_experiment",
    "build_config",
    "changed_settings",
    "paper_differences",
    "plan_run",
    "finished",
]


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
    staging: Path | None = None  # where figures wait until the run has finished (default: out)
    figures: list = field(default_factory=list)
    lines: list = field(default_factory=list)

    def generator(self, *stream) -> torch.Generator:
        """A fresh CPU generator for the named random ``stream`` of this run (no name: the run seed itself)."""
        return generator(self.seed, *stream)

    def stream_seed(self, *stream) -> int:
        """An integer seed for the named ``stream`` (to seed models, say): independent of every other stream."""
        return derive_seed(self.seed, *stream)

    def trainer(self, model, loss_fn, optimizer, name: str, folder=None, **options):
        """A :class:`bidir.train.Trainer` for one training of this run, checkpointing in ``out/folder`` (every rank
        resumes from it; rank 0 writes), with the run's seed, progress and log unless ``options`` say otherwise."""
        from .train import Trainer

        options = {"seed": self.seed, "progress": self.show_progress, "log": self.log, **options}
        out = None if folder is None else self.out / folder
        return Trainer(model, loss_fn, optimizer, out=out, name=name, **options)

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
        path = (self.staging or self.out) / f"{name}.png"
        if self.main:
            save_figure(fig, path)
        self.figures.append(path.name)
        return self.out / path.name


def default_folder(name: str, quick: bool = False) -> Path:
    """``runs/NAME-TIMESTAMP[-quick]``: where a run goes without ``--out`` (the one place that names it)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}-{stamp}{'-quick' if quick else ''}"


def check_finite_results(metrics, path: str = "metrics") -> None:
    """A run's results hold no NaN or infinity: one there means a training diverged or a measure had no data,
    and such a run is a failure, never a verdict."""
    if isinstance(metrics, torch.Tensor | np.ndarray | np.generic):
        values = torch.as_tensor(np.asarray(metrics.detach().cpu() if isinstance(metrics, torch.Tensor) else metrics))
        bad = values.is_floating_point() and not bool(torch.isfinite(values).all())
        metrics = float("nan") if bad else 0.0
    if isinstance(metrics, float) and not math.isfinite(metrics):
        raise BidirError(
            f"the run's results hold {metrics} at {path}: a training diverged or a measure had no data "
            "(lower the learning rate, or raise train_size); nothing was written"
        )
    if isinstance(metrics, dict):
        for key, value in metrics.items():
            check_finite_results(value, f"{path}.{key}")
    elif isinstance(metrics, list | tuple):
        for i, value in enumerate(metrics):
            check_finite_results(value, f"{path}.{i}")


def _out_of_memory_as_error(run, config, ctx):
    """``run(config, ctx)``, with an allocation the machine cannot make turned into one line naming the cause (the
    settings' declared bounds catch the sizes no machine has; this, what this machine has not)."""
    try:
        return run(config, ctx)
    except (MemoryError, RuntimeError) as exc:
        error = memory_error(exc, "the settings")
        if error is None:
            raise
        raise error from None


def build_config(exp: Experiment, quick: bool = False, overrides: dict | None = None):
    """Defaults, then the quick overrides, then the user's ``--set`` strings, every field checked (settings.py)."""
    return build(exp.config, exp.name, exp.quick if quick else {}, overrides)


def default_settings(exp: Experiment) -> dict:
    """The experiment's default settings, as JSON values."""
    return jsonable(dataclasses.asdict(build_config(exp)))


REPLICATES = ("seeds",)  # how many seeds one run trains: more of them replicate the same experiment


def paper_differences(exp: Experiment, resolved: dict) -> dict:
    """The run's settings that differ from the paper tier's: {setting: (ours, the reference, whose it is)}.

    A setting the paper states (``Experiment.paper``) is held to the paper's value; any other to the experiment's
    default, where a value a paper-tier run of the plan sets (``Experiment.runs``) counts as the default too. So a
    run that changes what the paper leaves to us (an architecture, a noise scale) is not pooled with the paper's.
    Settings the experiment no longer has (an older run's) and the count of seeds are left out.
    """
    ours = jsonable(resolved)
    paper = {k: jsonable(v) for k, (v, _) in exp.paper.items()}
    defaults = default_settings(exp)
    tier = [jsonable(spec.overrides) for spec in exp.runs.values() if spec.tier == "paper"]
    stated = {k: (ours.get(k), v, "the paper's") for k, v in paper.items() if ours.get(k) != v}
    left = {
        k: (v, defaults[k], "default")
        for k, v in ours.items()
        if k in defaults and k not in paper and k not in REPLICATES
        if v != defaults[k] and all(o.get(k) != v for o in tier)
    }
    return stated | left


def changed_settings(exp: Experiment, resolved: dict, quick: bool) -> dict:
    """The settings of a run that differ from the paper's defaults (a quick run's own quick settings aside)."""
    defaults = default_settings(exp)
    return {k: v for k, v in jsonable(resolved).items() if v != defaults.get(k) and not (quick and k in exp.quick)}


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


def plan_run(name: str, quick: bool, seed: int, data_dir, overrides: dict | None):
    """Check the experiment, seed, settings and data folder; (experiment, config, resolved config, identity)."""
    if name not in EXPERIMENTS:
        raise InvalidInputError(f"unknown experiment {name!r}; see `bidir list`: {', '.join(sorted(EXPERIMENTS))}")
    check_seed(seed, "--seed")
    exp = EXPERIMENTS[name]
    config = build_config(exp, quick, overrides)
    check_data_dir(data_dir)
    resolved = dataclasses.asdict(config)
    dataset = dataset_identity(resolved["dataset"], data_dir) if "dataset" in resolved else None
    return exp, config, resolved, identity(name, quick, seed, resolved, dataset)


def finished(name: str, out, quick: bool = False, seed: int = 0, data_dir=None, overrides: dict | None = None) -> bool:
    """Whether ``out`` holds this very run, finished (its results.json written): `bidir reproduce` skips it."""
    *_, run_identity = plan_run(name, quick, seed, data_dir, overrides)
    folder = RunFolder(Path(out), run_identity)
    try:
        folder.check()
    except InvalidInputError:
        return False
    return folder.resumed and not folder.notes and (Path(out) / "results.json").is_file()


def run_experiment(
    name: str,
    quick: bool = False,
    seed: int = 0,
    out=None,
    data_dir=None,
    device: str = "cpu",
    overrides: dict | None = None,
    show_progress: bool = True,
    restart: bool = False,
) -> dict:
    """Run a registered experiment into its run folder and return the results dict.

    Everything is checked before any work (the experiment, the seed, every setting, the device, the
    data folder, and that ``out`` is new, empty or this same run: :mod:`bidir.run_folder`); a refused
    run writes nothing. ``restart`` moves an existing ``out`` aside to a dated name and starts over.
    """
    exp, config, resolved, run_identity = plan_run(name, quick, seed, data_dir, overrides)
    dev = resolve_device(device)
    rank, size = world()
    if size > 1 and out is None:  # every rank must read the same checkpoints
        raise InvalidInputError("a torchrun launch needs --out, so that all ranks share one run folder")
    out = Path(out) if out is not None else default_folder(name, quick)
    folder = RunFolder(out, run_identity, restart=restart and rank == 0)
    folder.check()  # the last check: nothing is moved or written before it
    dev = init_distributed(dev)  # joins torchrun's process group, if any
    if rank == 0:
        folder.open(str(dev))
    seed_everything(seed)
    ctx = RunContext(out, seed, dev, Path(data_dir) if data_dir else None, quick, show_progress, rank == 0)
    ctx.staging = folder.staging
    _log_start(ctx, exp, folder.notes)
    start = time.perf_counter()
    try:
        metrics = _out_of_memory_as_error(exp.run, config, ctx)
        check_finite_results(metrics)
    except BaseException as exc:
        if rank == 0:  # a finished folder's files stay as they were; a refused or diverged run leaves nothing
            why = str(exc) if isinstance(exc, BidirError) else type(exc).__name__
            folder.abandon(why, discard=isinstance(exc, BidirError))
        raise
    elapsed = time.perf_counter() - start
    results = _results(exp, ctx, resolved, metrics)
    if rank == 0:
        folder.finish(results, ctx.lines)
        tqdm.write(
            f"-> {name} finished in {elapsed:.1f} s; results in {out}/ (results.json, summary.txt, "
            f"{len(ctx.figures)} figures)"
        )
    return results


def _log_start(ctx: RunContext, exp: Experiment, notes: list[str]) -> None:
    """The run's first log lines: what it is, whether it is quick, and the folder's notes."""
    ctx.log(f"== {exp.name}: {exp.description}{' (quick)' if ctx.quick else ''}, seed {ctx.seed}, device {ctx.device}")
    if ctx.quick:
        ctx.log("quick settings: a smoke test of the pipeline, not the paper's; its numbers are not comparable")
    for note in notes:
        ctx.log(f"note: {note}")


def _results(exp: Experiment, ctx: RunContext, resolved: dict, metrics: dict) -> dict:
    """results.json: the run, its metrics and its claims judged (each logged with its verdict)."""
    claims = judge_all(exp.claims, jsonable(metrics), resolved, ctx.quick, paper_differences(exp, resolved))
    for c in claims:
        why = f" ({c['why']})" if c["why"] else ""
        ctx.log(
            f"claim {c['id']} [{c['source']}]: {c['verdict']}{why}; paper {brief(c['paper_value'], 60)}, "
            f"ours {brief(c['measured'], 60)}"
        )
    return {
        "experiment": exp.name,
        "description": exp.description,
        "quick": ctx.quick,
        "seed": ctx.seed,
        "device": str(ctx.device),
        "config": resolved,
        "metrics": metrics,
        "claims": claims,
        "figures": sorted(ctx.figures),
        "versions": versions(),
    }
