"""Copy finished run folders into results/ without their checkpoints: results.json, summary.txt, manifest.json,
the figures, and reproduce.json.

    python scripts/publish_results.py SOURCE [SOURCE ...]    # each a reproduce --out folder or a run folder
    python scripts/update_readme.py                          # then results/REPORT.md and the README table

A run folder replaces the one of the same name in results/ (every published number has its files behind it).
"""

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEEP = ("results.json", "summary.txt", "manifest.json")


def publish(run: Path, target: Path) -> None:
    figures = json.loads((run / "results.json").read_text()).get("figures", [])
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in (*KEEP, *figures):
        shutil.copy2(run / name, target / name)


def runs_in(source: Path) -> list[Path]:
    """The run folder itself, or the finished run folders in it (folders moved aside by --restart left out)."""
    if (source / "results.json").is_file():
        return [source]
    return sorted(p.parent for p in source.glob("*/results.json") if ".replaced-" not in p.parent.name)


def merge_log(log: Path, results: Path) -> None:
    """Add a reproduce.json's entries to results/reproduce.json (an entry per run folder, the newest kept)."""
    target = results / log.name
    merged = {e["folder"]: e for e in json.loads(target.read_text())["runs"]} if target.is_file() else {}
    merged.update({e["folder"]: e for e in json.loads(log.read_text())["runs"]})
    target.write_text(json.dumps({"runs": sorted(merged.values(), key=lambda e: e["folder"])}, indent=1) + "\n")


def main(sources: list[str]) -> None:
    results = ROOT / "results"
    for source in map(Path, sources):
        for run in runs_in(source):
            publish(run, results / run.name)
            print(f"results/{run.name}: from {run}")
        if (source / "reproduce.json").is_file():
            merge_log(source / "reproduce.json", results)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
