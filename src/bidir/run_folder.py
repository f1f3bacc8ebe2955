"""Run folders that are an honest record: identity, the same-run check, staging, and the appended summary.

A run folder holds ``manifest.json``: what the run is (experiment, quick or not, seed, the
fully resolved config, the dataset's files with sizes and sha256) and every invocation that
finished in it (time, bidir version, git commit, device, threads). Running again on a folder
continues it only when the identity is the same; otherwise the run is refused before
anything is read or written, with the fields that differ and the ways out (another ``--out``,
or ``--restart``, which moves the old folder aside to a dated name: nothing is deleted).
The one difference a run may have is a larger ``epochs``: it continues the training from its
checkpoints, and the manifest records the extension.

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
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import __version__
from .errors import InvalidInputError
from .io import brief, jsonable, remove_stale_temporaries, write_json_atomic, write_text_atomic

__all__ = ["MANIFEST", "STAGING", "RunFolder", "identity", "git_commit"]

MANIFEST, STAGING = "manifest.json", ".staging"
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
    """What makes two runs the same run."""
    return {"experiment": experiment, "quick": quick, "seed": seed, "config": jsonable(config), "dataset": dataset}


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key} {brief(a)} -> {brief(b)}")
    return out


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
        """Refuse, with one line naming what differs, unless the folder is new, empty or holds this same run."""
        path = self.path
        for parent in (path, *path.parents):
            if parent.exists():
                if not parent.is_dir():
                    raise InvalidInputError(f"--out {path}: {parent} is a file, not a folder")
                break
        if not path.exists() or not any(path.iterdir()):
            return
        if self.restart:  # start over here; the old folder is kept under a dated name
            self._move_aside()
            return
        manifest = path / MANIFEST
        if not manifest.is_file():
            self._refuse("holds files but no run manifest (not a bidir run folder)")
            return
        try:
            previous = json.loads(manifest.read_text())
            saved = {k: previous[k] for k in ("experiment", "quick", "seed", "config", "dataset")}
        except (OSError, ValueError, KeyError, TypeError):
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

    def open(self) -> None:
        """Make the folder (a new run writes its manifest now, so a cut-off run can be resumed) and a clean staging."""
        self.created = not self.path.exists()
        self.git = git_commit()
        self.path.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir()
        if not self.resumed:
            write_json_atomic(self.path / MANIFEST, {**self.identity, "invocations": []})

    def abandon(self) -> None:
        """After a failure: drop the staging folder; a folder this run made that holds nothing else goes too."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.created and self.path.is_dir() and {p.name for p in self.path.iterdir()} <= {MANIFEST}:
            shutil.rmtree(self.path)

    def finish(self, results: dict, lines: list[str], device: str, started: _dt.datetime, seconds: float) -> None:
        """Move the figures into place, then write results.json, the appended summary.txt and the manifest."""
        for figure in sorted(self.staging.iterdir()):
            os.replace(figure, self.path / figure.name)
        self.staging.rmdir()
        write_json_atomic(self.path / "results.json", results)
        invocation = {
            "started": started.isoformat(timespec="seconds"),
            "seconds": round(seconds, 1),
            "resumed": self.resumed,
            "notes": self.notes,
            "bidir": __version__,
            "git": self.git,
            "device": device,
            "threads": torch.get_num_threads(),
        }
        summary = self.path / "summary.txt"
        before = summary.read_text() if summary.is_file() else ""
        header = f"== {invocation['started']}{' (resumed)' if self.resumed else ''}"
        body = "\n".join([header, *[f"note: {n}" for n in self.notes], *lines, f"wall time: {seconds:.1f} s"])
        write_text_atomic(summary, (before + "\n" if before else "") + body + "\n")
        previous = (self.previous or {}).get("invocations", [])
        write_json_atomic(self.path / MANIFEST, {**self.identity, "invocations": [*previous, invocation]})
