"""How long `bidir demo` takes, whole and per experiment (target: <= 60 s on the 2-core machine, nothing else running).

    python benchmarks/demo_time.py [--repeats N]

Runs the demo in a fresh process (imports included, as a user meets it) into a temporary folder, N times,
and prints each run's wall time, the demo's own total and the per-run times of the last run (its reproduce.json).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    walls, output = [], ""
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            run = subprocess.run(
                [sys.executable, "-m", "bidir.cli", "demo", "--out", out, "--no-progress"],
                capture_output=True,
                text=True,
                check=True,
            )
            walls.append(time.perf_counter() - start)
            output = run.stdout
            log = json.loads((Path(out) / "reproduce.json").read_text())["runs"]
    total = float(re.search(r"reproduce: \d+ runs in \S+ \(([\d.]+) s\)", output).group(1))
    print(f"bidir demo, wall time (imports included): {', '.join(f'{w:.1f} s' for w in walls)}")
    verdict = "met" if max(walls) <= TARGET else "missed"
    print(f"  the demo's own total: {total:.1f} s; target <= {TARGET:.0f} s: {verdict}")
    print("  per run (last demo):")
    for entry in log:
        print(f"    {entry['folder']:<26} {entry['seconds']:6.1f} s  {entry['status'][:60]}")


if __name__ == "__main__":
    main()
