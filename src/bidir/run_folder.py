"""Run folders that are an honest record: identity, the same-run check, staging, and the appended summary.

A run folder holds ``manifest.json``: what the run is (experiment, quick or not, seed, the
fully resolved config, the dataset's files with sizes and sha256, the number of CPU threads,
since float sums and so the numbers depend on it) and every attempt made in it: when it
started and ended, its wall time, how it ended (finished, failed, killed), bidir's version,
the git commit, the device. Running again on a folder continues it only when the identity is
the same; otherwise the run is refused before anything is read or written, with the fields
that differ and the ways out (another ``--out``, or ``--restart``, which moves the old folder
aside to a dated name once every check has passed: nothing is deleted). The one difference a
run may have is a larger ``epochs``: it continues the training from its checkpoints, and the
manifest records the extension.

An attempt is written to ``.attempts.json`` when it starts, and moves into the manifest when
the run finishes; an attempt that was killed is found there by the next one, and its end is
taken as the time of the last file it wrote. A run that fails on a bad input or a diverged
training, in a folder it made, removes that folder; in an existing folder it records the
failed attempt and leaves every other file as it was.

Figures go to a staging folder while the run works and move into place with results.json,
summary.txt and the manifest when it has finished, so a run that fails leaves a finished
folder's files as they were. summary.txt keeps every invocation's log under a dated header.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import __version__
from .errors import InvalidInputError
from .io import brief, differing, jsonable, remove_stale_temporaries, write_json_atomic, write_text_atomic

__all__ = ["MANIFEST", "STAGING", "ATTEMPTS", "RunFolder", "identity", "git_commit", "check_out", "check_runs_out"]

MANIFEST, STAGING, ATTEMPTS = "manifest.json", ".staging", ".attempts.json"
IDENTITY = ("experiment", "quick", "seed", "threads", "config", "dataset")
EXTENDABLE = ("epochs",)  # a config field a run may raise to continue its training


def git_commit() -> dict | None:
    """The commit (and whether the tree is dirty) of the checkout bidir runs from, or None outside one."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        run = dict(cwd=root, capture_output=True, text=True, timeout=10, check=True)
        commit = subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], **run).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def identity(experiment: str, quick: bool, seed: int, config: dict, dataset: dict | None) -> dict:
    """What makes two runs the same run: the thread count too, since a float sum split over other threads rounds
    otherwise, so a run resumed on another thread count would mix two runs' numbers."""
    return {
        "experiment": experiment,
        "quick": quick,
        "seed": seed,
        "threads": torch.get_num_threads(),
        "config": jsonable(config),
        "dataset": dataset,
    }


def check_out(path, option: str = "--out", shown=None) -> Path:
    """A folder a command may write into: ``path`` itself or its nearest existing parent is a folder that can be
    written to (a file, /proc, /sys, a read-only mount are refused in one line naming ``option`` and ``shown``, by
    default the path). Writes nothing."""
    path = Path(path)
    shown = path if shown is None else shown
    for parent in (path, *path.absolute().parents):
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInputError(f"{option} {shown}: {parent} is a file, not a folder")
            try:  # the one sure test of writability (root ignores permissions, /proc ignores root)
                probe = tempfile.mkdtemp(prefix=".bidir-probe-", dir=parent)
            except OSError as exc:
                raise InvalidInputError(f"{option} {shown}: cannot write in {parent} ({exc.strerror})") from None
            os.rmdir(probe)
            return path
    raise InvalidInputError(f"{option} {path}: no part of it exists")  # pragma: no cover (the root exists)


def check_runs_out(path, option: str = "--out") -> Path:
    """A folder of run folders (``bidir demo``, ``bidir reproduce``): writable, and not itself a run folder, whose
    record a collection of runs written into it would corrupt. Writes nothing."""
    path = check_out(path, option)
    if (path / MANIFEST).is_file():
        raise InvalidInputError(
            f"{option} {path} is a run folder (it holds {MANIFEST}); give a folder for the runs to go in (a new one)"
        )
    return path


def _threads(manifest: dict):
    """The thread count a manifest's run used: its identity's, or (written before threads were part of it) the one
    its invocations agree on (None if they do not)."""
    if "threads" in manifest:
        return manifest["threads"]
    seen = {i.get("threads") for i in manifest.get("invocations", [])}
    return seen.pop() if len(seen) == 1 else None


def _last_write(folder: Path, after: float) -> float:
    """The newest modification time of a file under ``folder`` (the end of a killed attempt), at least ``after``."""
    times = [p.stat().st_mtime for p in folder.rglob("*") if p.is_file() and p.name != ATTEMPTS]
    return max([after, *times])


def _stamp(seconds: float) -> str:
    """A local time as ISO 8601, to the second."""
    return _dt.datetime.fromtimestamp(seconds).isoformat(timespec="seconds")


def _differences(old: dict, new: dict) -> list[str]:
    return [f"{path} {brief(a)} -> {brief(b)}" for path, a, b in differing(old, new, lists=False)]


def _same_data(old: dict | None, new: dict | None) -> bool:
    """The same dataset, and the same files wherever both runs saw them (a download may come later)."""
    if old is None or new is None:
        return old == new
    return old["name"] == new["name"] and (old["files"] is None or new["files"] is None or old["files"] == new["files"])


@dataclass
class RunFolder:
    """A run's folder: checked against the run's identity before any work, written when the run has finished."""

    path: Path
    identity: dict
    restart: bool = False
    resumed: bool = False
    created: bool = False
    notes: list = field(default_factory=list)
    previous: dict | None = None
    git: dict | None = None  # the checkout's commit when the run started (the code that ran)

    def check(self) -> None:
        """Refuse, with one line naming what differs, unless the folder is new, empty or holds this same run.
        Nothing is moved or written here: ``--restart`` moves the old folder aside in :meth:`open`, after every
        other check of the run has passed."""
        path = check_out(self.path)
        if not path.exists() or not any(path.iterdir()):
            return
        if self.restart:  # start over here; the old folder is kept under a dated name (in open)
            return
        manifest = path / MANIFEST
        if not manifest.is_file():
            self._refuse("holds files but no run manifest (not a bidir run folder)")
            return
        try:
            previous = json.loads(manifest.read_text())
            saved = {k: previous[k] for k in IDENTITY if k != "threads"}
            saved["threads"] = _threads(previous)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self._refuse(f"has an unreadable {MANIFEST}")
            return
        problem = self._compare(saved)
        if problem:
            self._refuse(problem)
            return
        self.resumed, self.previous = True, previous

    def _compare(self, saved: dict) -> str | None:
        new = self.identity
        differ = [d for d in _differences({**saved, "dataset": None}, {**new, "dataset": None})]
        if not _same_data(saved["dataset"], new["dataset"]):
            differ.append(f"dataset {brief(saved['dataset'])} -> {brief(new['dataset'])}")
        extended = [f for f in EXTENDABLE if f"config.{f}" in " ".join(differ)]
        for name in extended:
            old, now = saved["config"].get(name), new["config"].get(name)
            if isinstance(old, int) and isinstance(now, int) and now > old:
                differ = [d for d in differ if not d.startswith(f"config.{name} ")]
                self.notes.append(f"{name} raised from {old} to {now}: training continues from its checkpoints")
        if not differ:
            return None
        return "holds another run (" + "; ".join(differ) + ")"

    def _refuse(self, problem: str) -> None:
        raise InvalidInputError(
            f"--out {self.path} {problem}; use another --out, or --restart to move the old folder aside"
        )

    def _move_aside(self) -> None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.replaced-{stamp}")
        n = 1
        while aside.exists():
            aside, n = self.path.with_name(f"{self.path.name}.replaced-{stamp}-{n}"), n + 1
        os.replace(self.path, aside)
        self.notes.append(f"--restart: the folder that was here is now {aside}")

    # -- the run's life ----------------------------------------------------------------
    @property
    def staging(self) -> Path:
        """Where the figures wait until the run has finished."""
        return self.path / STAGING

    def open(self, device: str = "cpu") -> None:
        """Start the attempt: move an old folder aside (``--restart``), make the folder (a new run writes its
        manifest now, so a cut-off run can be resumed), a clean staging, and the attempt's record."""
        if self.restart and self.path.exists() and any(self.path.iterdir()):
            self._move_aside()
        self.created = not self.path.exists()
        self.git = git_commit()
        self.path.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir()
        if not self.resumed:
            write_json_atomic(self.path / MANIFEST, {**self.identity, "invocations": []})
        self._before = self._unfinished()
        self._started = time.time()
        self._attempt = {
            "started": _stamp(self._started),
            "outcome": "running",
            "resumed": self.resumed,
            "notes": self.notes,
            "bidir": __version__,
            "git": self.git,
            "device": device,
            "threads": torch.get_num_threads(),
        }
        write_json_atomic(self.path / ATTEMPTS, [*self._before, self._attempt])

    def _unfinished(self) -> list[dict]:
        """The attempts that started here and never finished; one still marked running was killed."""
        try:
            attempts = json.loads((self.path / ATTEMPTS).read_text())
        except (OSError, ValueError):
            return []
        if not isinstance(attempts, list):
            return []
        for a in attempts:
            if isinstance(a, dict) and a.get("outcome") == "running":
                try:
                    start = _dt.datetime.fromisoformat(a["started"]).timestamp()
                except (KeyError, TypeError, ValueError):
                    a.update(outcome="killed", seconds=0.0, notes=["its record was unreadable"])
                    continue
                end = _last_write(self.path, start)
                a.update(outcome="killed", ended=_stamp(end), seconds=round(end - start, 1))
                a["notes"] = [*a.get("notes", []), "its end is the time of the last file it wrote"]
        return [a for a in attempts if isinstance(a, dict)]

    def _end(self, outcome: str) -> list[dict]:
        """This attempt ended now with ``outcome``: every attempt on record here, this one last."""
        now = time.time()
        self._attempt.update(outcome=outcome, ended=_stamp(now), seconds=round(now - self._started, 1))
        return [*self._before, self._attempt]

    def abandon(self, why: str, discard: bool) -> None:
        """After a failure: drop the staging folder. ``discard`` (a refusal or a diverged training, nothing worth
        resuming) removes a folder this run made; otherwise the failed attempt stays on record beside the files."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if not self.path.is_dir():
            return
        if self.created and (discard or {p.name for p in self.path.iterdir()} <= {MANIFEST, ATTEMPTS}):
            shutil.rmtree(self.path)
            return
        write_json_atomic(self.path / ATTEMPTS, self._end(f"failed: {why}"))

    def finish(self, results: dict, lines: list[str]) -> None:
        """Move the figures into place, then write results.json, the appended summary.txt and the manifest (with
        every attempt made here, the killed and failed ones too)."""
        for figure in sorted(self.staging.iterdir()):
            os.replace(figure, self.path / figure.name)
        self.staging.rmdir()
        write_json_atomic(self.path / "results.json", results)
        attempts = self._end("finished")
        summary = self.path / "summary.txt"
        text = summary.read_text() if summary.is_file() else ""
        for a in attempts[:-1]:
            line = f"== {a.get('started')} ({a.get('outcome')}; {a.get('seconds', 0):.1f} s)"
            text += ("\n" if text else "") + line + "\n"
        header = f"== {self._attempt['started']}{' (resumed)' if self.resumed else ''}"
        seconds = self._attempt["seconds"]
        body = "\n".join([header, *[f"note: {n}" for n in self.notes], *lines, f"wall time: {seconds:.1f} s"])
        write_text_atomic(summary, (text + "\n" if text else "") + body + "\n")
        previous = (self.previous or {}).get("invocations", [])
        write_json_atomic(self.path / MANIFEST, {**self.identity, "invocations": [*previous, *attempts]})
        (self.path / ATTEMPTS).unlink(missing_ok=True)
