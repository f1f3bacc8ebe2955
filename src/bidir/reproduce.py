"""`bidir reproduce`: the runs the papers' claims need, cheapest first, each in its own folder; then the report.

Each experiment declares its runs and their tier (``Experiment.runs``): the *paper* tier holds
exactly the runs its claims need at the paper's settings (bsp-mnist's four settings and its
Fashion-MNIST run, style-mnist at the paper's schedule, bbp-cifar with NEM and blind noise...), the
*extended* tier our own runs beside them (``--extended``). The plan lists one run per run of the
chosen tiers and, for experiments whose claims depend on the seed (``Experiment.seeded``), per seed
(``claims.MIN_SEEDS`` by default, what a verdict needs): ``DIR/NAME[-LABEL][-seedS]``. It runs them
ordered by their measured cost (``RunSpec.hours``); ``--plan`` prints them without running. A run
folder that already holds the same run, finished, is skipped; an unfinished one resumes from its
checkpoints (:mod:`bidir.run_folder`). A run whose data are not in the data folder is not started
and is listed as not run, with the reason; a run that fails is listed as failed, and the others
go on. ``DIR/reproduce.json`` records the plan and
what became of each run, and the report (:mod:`bidir.report`) is written at the end.
"""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from .data.datasets import DATASETS, check_data_dir, dataset_identity
from .errors import BidirError, InvalidInputError
from .experiments import EXPERIMENTS
from .experiments.plan import Planned, plan
from .io import write_json_atomic
from .report import write_report
from .run_folder import check_runs_out
from .runner import build_config, finished, resolve_device, run_experiment

__all__ = ["Planned", "plan", "print_plan", "reproduce", "LOG"]

LOG = "reproduce.json"
QUICK_SECONDS = 5.0  # the estimate for a --quick run before any has finished
LEAST_SECONDS = 30.0  # no full run is estimated below this (one tiny estimate would blow up the scaling)


def print_plan(
    names=None, seeds=None, extended=False, quick=False, data_dir=None, echo: Callable[[str], None] = print
) -> None:
    """The plan in words, run nothing: each run's folder, tier, seed and settings, its estimated hours, the total.

    A run whose data are not in the data folder is marked, and its hours are counted apart from the total of what
    runs here."""
    runs = plan(names, seeds, extended=extended)
    check_data_dir(data_dir)
    absent = {r.folder: absent_dataset(r, quick, data_dir) for r in runs}  # builds each config: bad settings refused
    width = max(len(r.folder) for r in runs)
    for r in runs:
        sets = " ".join(f"--set {shlex.quote(f'{k}={v}')}" for k, v in r.sets.items())
        cost = "quick" if quick else f"{r.hours:5.2f} h"
        mark = f"  [no {absent[r.folder]} files here]" if absent[r.folder] else ""
        echo(
            f"{r.folder:<{width}}  {r.tier:<8}  seed {r.seed}  {cost}  bidir run {r.experiment} {sets}".rstrip() + mark
        )
    totals = []
    for tier in dict.fromkeys(r.tier for r in runs):
        here = sum(r.hours for r in runs if r.tier == tier and not absent[r.folder])
        away = sum(r.hours for r in runs if r.tier == tier and absent[r.folder])
        totals.append(
            f"{tier} tier {here:.1f} h" + (f" (+ {away:.1f} h for runs whose data are not here)" if away else "")
        )
    echo(
        f"{len(runs)} runs; {', '.join(totals)} on the 2-core CPU machine (measured costs; --device cuda cuts the "
        "long ones)"
    )


def absent_dataset(run: Planned, quick: bool, data_dir) -> str | None:
    """The dataset the run reads whose files are not in the data folder, or None."""
    config = build_config(EXPERIMENTS[run.experiment], quick, run.sets)
    wanted = [getattr(config, "dataset", None), *getattr(config, "datasets", ())]
    for name in filter(None, wanted):
        if name in DATASETS and dataset_identity(name, data_dir)["files"] is None:
            return name
    return None


def _earlier(log: Path, planned: set) -> list[dict]:
    """The entries of an earlier ``reproduce.json`` for runs this plan does not touch (they stay on record)."""
    if not log.is_file():
        return []
    try:
        entries = json.loads(log.read_text())["runs"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidInputError(f"--out {log.parent} has an unreadable {LOG}; move it aside") from None
    return [e for e in entries if e.get("folder") not in planned]


def _guess(run: Planned, quick: bool) -> float:
    """The run's expected seconds, before any run has been timed."""
    return QUICK_SECONDS if quick else max(run.hours * 3600, LEAST_SECONDS)


def _clock(seconds: float) -> str:
    return str(_dt.timedelta(seconds=round(seconds)))


def _attempt(
    run: Planned, folder: Path, absent: str | None, quick: bool, device: str, data_dir, show_progress: bool
) -> bool:
    """Run one planned run into ``folder`` unless its dataset ``absent`` has no files here or it has finished before;
    its status (the claims' verdicts, or why it did not run or failed) goes into ``run``. Whether it ran."""
    if absent:
        run.status = f"not run: the {absent} files are not in the data folder (`bidir fetch {absent}`, or --data-dir)"
        return False
    if finished(run.experiment, folder, quick, run.seed, data_dir, run.sets):
        run.status = "skipped (finished before)"
        return False
    t = time.perf_counter()
    try:
        results = run_experiment(
            run.experiment,
            quick=quick,
            seed=run.seed,
            out=folder,
            data_dir=data_dir,
            device=device,
            overrides=run.sets,
            show_progress=show_progress,
        )
        for c in results["claims"]:
            run.claims[c["verdict"]] = run.claims.get(c["verdict"], 0) + 1
        verdicts = ", ".join(f"{n} {v}" for v, n in sorted(run.claims.items()))
        run.status = "finished" + (f" (claims: {verdicts})" if verdicts else "")
    except BidirError as exc:  # a refused run (another run in its folder, say): the others go on
        run.status = f"failed: {exc}"
    except Exception as exc:  # a broken run must not cost the night's other runs; its error is recorded
        run.status = f"failed: {type(exc).__name__}: {exc}"
    run.seconds = round(time.perf_counter() - t, 1)
    return True


def reproduce(
    names=None,
    out=Path("reproduce"),
    seeds: int | None = None,
    extended: bool = False,
    quick: bool = False,
    device: str = "cpu",
    base_seed: int = 0,
    data_dir=None,
    show_progress: bool = True,
    echo: Callable[[str], None] = print,
) -> list[Planned]:
    """Run the plan into ``out`` (one folder per run; seeds from ``base_seed``), write ``out/reproduce.json`` and the
    report; the runs."""
    runs = plan(names, seeds, base_seed, extended)
    out = check_runs_out(out)
    resolve_device(device)  # every setting, the device and the data folder are checked before any work
    check_data_dir(data_dir)
    absent = {r.folder: absent_dataset(r, quick, data_dir) for r in runs}  # builds each config: bad settings refused
    out.mkdir(parents=True, exist_ok=True)
    earlier = _earlier(out / LOG, {r.folder for r in runs})
    start, estimate = time.perf_counter(), [0.0, 0.0]  # [estimated, measured] seconds of the runs done
    hours = sum(r.hours for r in runs if not absent[r.folder])
    cost = (
        " (quick settings)" if quick else f", about {hours:.1f} h on the 2-core CPU machine (the runs with data here)"
    )
    echo(f"reproduce: {len(runs)} runs into {out}/{cost}")
    for i, run in enumerate(runs, 1):
        scale = estimate[1] / estimate[0] if estimate[0] > 0 else 1.0
        left = scale * sum(_guess(r, quick) for r in runs[i - 1 :])
        echo(
            f"[{i}/{len(runs)}] {run.folder}: elapsed {_clock(time.perf_counter() - start)}, about {_clock(left)} left"
        )
        if _attempt(run, out / run.folder, absent[run.folder], quick, device, data_dir, show_progress):
            estimate[0], estimate[1] = estimate[0] + _guess(run, quick), estimate[1] + run.seconds
        echo(f"    {run.folder}: {run.status}")
        log = earlier + [{**asdict(r), "quick": quick} for r in runs]
        write_json_atomic(out / LOG, {"runs": sorted(log, key=lambda e: e["folder"])})
    total = time.perf_counter() - start
    try:
        report = "report: " + ", ".join(map(str, write_report(out, ("html", "md"))))
    except InvalidInputError:  # no run folder under out: every run was refused or not run
        report = "no run folder, so no report"
    echo(f"reproduce: {len(runs)} runs in {_clock(total)} ({total:.0f} s); {report}")
    return runs
