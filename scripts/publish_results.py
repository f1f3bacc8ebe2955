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


def main(sources: list[str]) -> None:
    results = ROOT / "results"
    for source in map(Path, sources):
        runs = (
            [source] if (source / "results.json").is_file() else sorted(p.parent for p in source.glob("*/results.json"))
        )
        for run in runs:
            publish(run, results / run.name)
            print(f"results/{run.name}: from {run}")
        log = source / "reproduce.json"
        if log.is_file():
            ours = json.loads(log.read_text())["runs"]
            merged = (
                {e["folder"]: e for e in json.loads((results / log.name).read_text())["runs"]}
                if (results / log.name).is_file()
                else {}
            )
            merged.update({e["folder"]: e for e in ours})
            (results / log.name).write_text(
                json.dumps({"runs": sorted(merged.values(), key=lambda e: e["folder"])}, indent=1) + "\n"
            )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
