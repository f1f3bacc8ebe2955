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

``jobs=N`` runs N runs at a time, each in a process of its own with the machine's cores shared out
(``cores // N`` threads each, at least one): on a 2-core machine ``jobs=2`` runs two at a time on one thread
each, the way the published runs were made (a run's thread count is part of its identity, since a sum split
over other threads rounds otherwise). A run whose process dies (out of memory, say) is listed as failed and the
others go on.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import multiprocessing
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.connection import wait
from pathlib import Path

import torch

from .data.datasets import DATASETS, check_data_dir, dataset_identity
from .errors import BidirError, InvalidInputError
from .experiments import EXPERIMENTS
from .experiments.plan import Planned, plan
from .io import write_json_atomic
from .report import write_report
from .run_folder import check_runs_out
from .runner import build_config, finished, resolve_device, run_experiment

__all__ = ["Planned", "plan", "print_plan", "reproduce", "makespan", "check_jobs", "LOG"]

LOG = "reproduce.json"
QUICK_SECONDS = 5.0  # the estimate for a --quick run before any has finished
LEAST_SECONDS = 30.0  # no full run is estimated below this (one tiny estimate would blow up the scaling)


def print_plan(
    names=None, seeds=None, extended=False, quick=False, data_dir=None, echo: Callable[[str], None] = print, jobs=1
) -> None:
    """The plan in words, run nothing: each run's folder, tier, seed and settings, its estimated hours, the total
    (and, ``jobs`` at a time, the wall time).

    A run whose data are not in the data folder is marked, and its hours are counted apart from the total of what
    runs here."""
    runs = plan(names, seeds, extended=extended)
    jobs = check_jobs(jobs)
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
    wall = _wall([r for r in runs if not absent[r.folder]], jobs)
    echo(
        f"{len(runs)} runs; {', '.join(totals)} on the 2-core CPU machine (measured costs; --device cuda cuts the "
        "long ones)" + (f"; {wall}" if wall else "")
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


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def check_jobs(jobs) -> int:
    """``--jobs``: how many runs at a time, from 1 to the machine's cores."""
    n = cores()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= n:
        raise InvalidInputError(f"--jobs must be an integer from 1 to this machine's {n} cores, got {jobs!r:.40}")
    return jobs


def makespan(seconds, jobs: int) -> float:
    """The wall time of runs this long, started in this order on ``jobs`` workers, each as soon as one is free."""
    free = [0.0] * jobs
    for s in seconds:
        free[free.index(min(free))] += s
    return max(free)


def _skip(run: Planned, folder: Path, absent: str | None, quick: bool, data_dir) -> bool:
    """Whether the run is not to start: its dataset ``absent`` has no files here, or it has finished before (its
    status says which)."""
    if absent:
        run.status = f"not run: the {absent} files are not in the data folder (`bidir fetch {absent}`, or --data-dir)"
        return True
    if finished(run.experiment, folder, quick, run.seed, data_dir, run.sets):
        run.status = "skipped (finished before)"
        return True
    return False


def _execute(run: Planned, folder: Path, quick: bool, device: str, data_dir, show_progress: bool) -> Planned:
    """Run one planned run into ``folder``; its status (the claims' verdicts, or why it failed) and seconds go
    into ``run``, which is returned."""
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
    return run


class _Prefixed(io.TextIOBase):
    """A text stream whose every line starts with ``prefix``, written whole (one run's lines among others')."""

    def __init__(self, stream, prefix: str):
        self.stream, self.prefix, self.fresh = stream, prefix, True

    def write(self, text: str) -> int:
        for line in text.splitlines(keepends=True):
            self.stream.write((self.prefix if self.fresh else "") + line)
            self.fresh = line.endswith("\n")
            if self.fresh:
                self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _work(run: Planned, folder: Path, quick: bool, device: str, data_dir, threads: int, conn) -> None:
    """One run in a process of its own (``jobs`` > 1), on ``threads`` threads, its output lines marked with its
    folder; sends the run back as it ended."""
    sys.stdout, sys.stderr = (_Prefixed(stream, f"[{run.folder}] ") for stream in (sys.stdout, sys.stderr))
    torch.set_num_threads(threads)
    conn.send(_execute(run, folder, quick, device, data_dir, show_progress=False))
    conn.close()


class _Pool:
    """Up to ``jobs`` runs at a time, each in a spawned process of ``threads`` threads."""

    def __init__(self, jobs: int, threads: int):
        self.jobs, self.threads = jobs, threads
        self.context = multiprocessing.get_context("spawn")
        self.running: dict = {}  # the receiving end of its pipe -> (process, run)

    def start(self, run: Planned, *args) -> None:
        receive, send = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_work, args=(run, *args, self.threads, send))
        process.start()
        send.close()
        self.running[receive] = (process, run)

    def collect(self) -> Planned:
        """Wait for a run to end; the run, with its status (failed where its process died without a word)."""
        conn = wait(list(self.running))[0]
        process, run = self.running.pop(conn)
        try:
            ended = conn.recv()
            run.status, run.seconds, run.claims = ended.status, ended.seconds, ended.claims
        except EOFError:  # the process died before it could say how the run ended
            process.join()
            run.status = f"failed: its process ended with exit code {process.exitcode} (out of memory, or killed)"
        conn.close()
        process.join()
        return run

    def stop(self) -> None:
        """End every run still going (an interrupted reproduce): their folders resume next time."""
        for process, _ in self.running.values():
            process.terminate()
            process.join()
        self.running.clear()


def _cost(runs: list[Planned], quick: bool, jobs: int) -> str:
    """What the runs will take, from their measured costs: their sum, and the wall time ``jobs`` at a time."""
    if quick:
        return " (quick settings)"
    wall = _wall(runs, jobs)
    total = sum(r.hours for r in runs)
    return f", about {total:.1f} h of runs on the 2-core CPU machine (those with data here)" + (
        f", {wall}" if wall else ""
    )


def _wall(runs: list[Planned], jobs: int) -> str:
    """The wall time of the runs ``jobs`` at a time, from their measured hours ("" for one at a time)."""
    return f"about {makespan((r.hours for r in runs), jobs):.1f} h of wall time {jobs} at a time" if jobs > 1 else ""


class _Record:
    """A reproduce's progress: a line as each run starts (elapsed time, and what is left, estimated from the runs'
    measured costs scaled by how the finished ones compared with theirs), a line as it ends, and the log."""

    def __init__(self, runs: list[Planned], out: Path, earlier: list[dict], quick: bool, jobs: int, echo):
        self.runs, self.out, self.earlier, self.quick, self.jobs, self.echo = runs, out, earlier, quick, jobs, echo
        self.start, self.estimate = time.perf_counter(), [0.0, 0.0]  # [estimated, measured] seconds of the runs done
        self.done: set[str] = set()

    def starting(self, i: int, run: Planned) -> None:
        scale = self.estimate[1] / self.estimate[0] if self.estimate[0] > 0 else 1.0
        left = scale * makespan((_guess(r, self.quick) for r in self.runs if r.folder not in self.done), self.jobs)
        elapsed = _clock(time.perf_counter() - self.start)
        self.echo(f"[{i}/{len(self.runs)}] {run.folder}: elapsed {elapsed}, about {_clock(left)} left")

    def ended(self, run: Planned, ran: bool) -> None:
        if ran:
            self.estimate[0] += _guess(run, self.quick)
            self.estimate[1] += run.seconds
        self.done.add(run.folder)
        self.echo(f"    {run.folder}: {run.status}")
        log = self.earlier + [{**asdict(r), "quick": self.quick} for r in self.runs]
        write_json_atomic(self.out / LOG, {"runs": sorted(log, key=lambda e: e["folder"])})


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
    jobs: int = 1,
) -> list[Planned]:
    """Run the plan into ``out`` (one folder per run; seeds from ``base_seed``; ``jobs`` at a time), write
    ``out/reproduce.json`` and the report; the runs."""
    runs = plan(names, seeds, base_seed, extended)
    out = check_runs_out(out)
    jobs = check_jobs(jobs)
    resolve_device(device)  # every setting, the device and the data folder are checked before any work
    check_data_dir(data_dir)
    absent = {r.folder: absent_dataset(r, quick, data_dir) for r in runs}  # builds each config: bad settings refused
    out.mkdir(parents=True, exist_ok=True)
    earlier = _earlier(out / LOG, {r.folder for r in runs})
    echo(f"reproduce: {len(runs)} runs into {out}/{_cost([r for r in runs if not absent[r.folder]], quick, jobs)}")
    record = _Record(runs, out, earlier, quick, jobs, echo)
    pool = _Pool(jobs, max(1, cores() // jobs)) if jobs > 1 else None
    threads = torch.get_num_threads()
    if pool is not None:  # a finished run is recognised by its identity, whose thread count is the workers'
        torch.set_num_threads(pool.threads)
    try:
        for i, run in enumerate(runs, 1):
            skip = _skip(run, out / run.folder, absent[run.folder], quick, data_dir)
            while not skip and pool is not None and len(pool.running) >= jobs:  # wait for a free worker
                record.ended(pool.collect(), True)
            record.starting(i, run)
            if skip:
                record.ended(run, False)
            elif pool is None:
                record.ended(_execute(run, out / run.folder, quick, device, data_dir, show_progress), True)
            else:
                pool.start(run, out / run.folder, quick, device, data_dir)
        while pool is not None and pool.running:
            record.ended(pool.collect(), True)
    finally:
        if pool is not None:
            pool.stop()
        torch.set_num_threads(threads)
    total = time.perf_counter() - record.start
    try:
        report = "report: " + ", ".join(map(str, write_report(out, ("html", "md"))))
    except InvalidInputError:  # no run folder under out: every run was refused or not run
        report = "no run folder, so no report"
    echo(f"reproduce: {len(runs)} runs in {_clock(total)} ({total:.0f} s); {report}")
    return runs
