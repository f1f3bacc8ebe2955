"""Has the code moved the published numbers since each run was made? Each run folder in results/ is rerun at quick
settings twice, with the code of the commit that made it and with this checkout's, and the two results.json
``metrics`` are compared.

    python scripts/check_drift.py                       # every run folder in results/
    python scripts/check_drift.py bsp-mnist rules       # these run folders only

A run is rerun with its experiment, seed and settings (those that differ from the paper's defaults), except those
quick mode sets itself (its shipped data, sizes and the code paths it runs), once per (commit, experiment,
settings): the seed does not choose the code path. The same metrics mean
that the code between the two commits computes the same numbers on that path; a full-size run may take paths a
quick one does not (a compiled solver, say), so this is evidence, not proof. A run made from uncommitted changes
cannot be rebuilt and is listed as such. Exits 1 when any numbers differ or a rerun fails.
"""

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bidir.experiments import EXPERIMENTS
from bidir.io import differing
from bidir.runner import changed_settings

ROOT = Path(__file__).resolve().parents[1]


def differences(a, b) -> list[str]:
    """The paths (``key.sub[2]``) at which two JSON values differ, exactly."""
    return [path or "(the whole value)" for path, _, _ in differing(a, b)]


def commits(manifest: dict) -> list[str] | None:
    """The commits a run's invocations ran, oldest first; None when one ran uncommitted changes or no commit."""
    found = []
    for invocation in manifest.get("invocations", []):
        git = invocation.get("git") or {}
        if git.get("dirty") or not git.get("commit"):
            return None
        found.append(git["commit"])
    return list(dict.fromkeys(found)) or None


def settings(results: dict) -> tuple[dict[str, str], list[str]]:
    """The run's settings that differ from its experiment's defaults, quick mode's own aside, as ``--set`` text;
    and the settings it had that the experiment no longer has (the old code is rerun at its own defaults there)."""
    exp = EXPERIMENTS[results["experiment"]]
    known = {f.name for f in dataclasses.fields(exp.config)}
    changed = changed_settings(exp, results["config"], quick=True)
    sets = {k: v if isinstance(v, str) else json.dumps(v) for k, v in changed.items() if k in known}
    return sets, sorted(set(results["config"]) - known)


def rerun(code: Path, experiment: str, seed: int, sets: dict, out: Path) -> dict | str:
    """Run ``experiment`` at quick settings with the package under ``code``: its metrics, or why it failed."""
    args = ["run", experiment, "--quick", "--no-progress", "--seed", str(seed), "--out", str(out)]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": "1"}
    cli = "import sys; from bidir.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", cli, *args], env=env, cwd=out.parent, capture_output=True, text=True)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    return json.loads((out / "results.json").read_text())["metrics"]


def source_of(commit: str, into: Path) -> Path:
    """The package source of ``commit`` (``git archive`` of src/), unpacked under ``into``."""
    target = into / commit[:12]
    if not target.is_dir():
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def main(names: list[str]) -> int:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    local = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True, text=True)
    folders = [ROOT / "results" / n for n in names] or sorted(
        p.parent for p in (ROOT / "results").glob("*/results.json")
    )
    checked: dict[tuple, str] = {}  # (commit, experiment, settings) -> verdict
    current: dict[tuple, dict | str] = {}  # (experiment, settings) -> this checkout's metrics
    bad = 0
    with tempfile.TemporaryDirectory(prefix="bidir-drift-") as tmp:
        tmp = Path(tmp)
        for folder in folders:
            if not (folder / "results.json").is_file():
                print(f"{folder.name}: no results.json")
                bad += 1
                continue
            results = json.loads((folder / "results.json").read_text())
            runs = commits(json.loads((folder / "manifest.json").read_text()))
            if runs is None:
                print(f"{folder.name}: made from uncommitted changes: cannot be rebuilt")
                continue
            if results["experiment"] not in EXPERIMENTS:
                print(f"{folder.name}: experiment {results['experiment']!r} is no longer registered")
                bad += 1
                continue
            sets, gone = settings(results)
            shown = " ".join(f"{k}={v}" for k, v in sets.items())
            gone = f" (settings the experiment no longer has: {', '.join(gone)})" if gone else ""
            for commit in runs:
                key = (commit, results["experiment"], shown)
                if key not in checked:
                    if commit == head and not local.stdout.strip():
                        checked[key] = "this checkout's code"
                    else:
                        checked[key] = compare(tmp, commit, results, sets, current, key[1:])
                verdict = checked[key]
                bad += not verdict.startswith(("same", "this checkout"))
                print(f"{folder.name} [{commit[:7]}{', ' + shown if shown else ''}]: {verdict}{gone}", flush=True)
    return 1 if bad else 0


def compare(tmp: Path, commit: str, results: dict, sets: dict, current: dict, key: tuple) -> str:
    """The verdict on one (commit, experiment, settings): same numbers, which differ, or why a rerun failed."""
    experiment, seed = results["experiment"], results["seed"]
    if key not in current:
        current[key] = rerun(ROOT / "src", experiment, seed, sets, Path(tempfile.mkdtemp(dir=tmp)) / "run")
    then = rerun(source_of(commit, tmp / "code"), experiment, seed, sets, Path(tempfile.mkdtemp(dir=tmp)) / "run")
    now = current[key]
    if isinstance(now, str) or isinstance(then, str):
        return f"failed: {now if isinstance(now, str) else then}"
    diff = differences(then, now)
    return "same numbers" if not diff else f"{len(diff)} numbers differ: {', '.join(diff[:4])}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", help="run folders under results/ (default: all)")
    sys.exit(main(parser.parse_args().folders))
