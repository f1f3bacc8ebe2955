"""The bbp-conv search behind issue 18's verdict: every run of the reduced study, one folder each.

    python scripts/bbp_conv_search.py OUT [--data-dir ../shared/data] [--only NAME ...]
    python scripts/publish_results.py OUT       # then into results/, and
    python scripts/update_readme.py             # REPORT.md (its bbp-conv search table) and the README

The reduced budget (10,000 training images, 5 epochs, 5,000 test images, 3 seeds; every method from the same
initial weights per seed) is the study's; each run changes one thing from it: the backward weight w in
E_f + w E_b, the noise scale and schedule of NEM and blind noise, or the architecture. A finished run in OUT is
skipped; an unfinished one resumes from its checkpoints.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bidir.runner import finished, run_experiment

REDUCED = {"train_size": 10000, "test_size": 5000, "epochs": 5, "seeds": 3}
ALL = ("mnist", "fashion-mnist", "cifar10")
NOISY = ("bp", "bbp", "bbp-nem", "bbp-blind")

SEARCH = {  # folder -> the settings it changes from the reduced study (one dataset, or all three)
    **{f"bbp-conv-reduced-{d}": {"datasets": (d,)} for d in ALL},
    # the backward weight w
    **{
        f"bbp-conv-reduced-{d}-w{w}": {"datasets": (d,), "backward_weight": w, "methods": ("bp", "bbp", "bbp-nem")}
        for d in ALL
        for w in (0.1, 0.01)
    },
    # the noise: larger scales, and a constant one (decay 0), at the w where B-BP is level with BP
    "bbp-conv-reduced-w0.01-noise0.3": {"backward_weight": 0.01, "noise_scale": 0.3, "methods": NOISY},
    "bbp-conv-reduced-w0.01-noise1": {"backward_weight": 0.01, "noise_scale": 1.0, "methods": NOISY},
    "bbp-conv-reduced-w0.01-noise-constant": {"backward_weight": 0.01, "noise_decay": 0.0, "methods": NOISY},
    # the control for a gain from noisy B-BP: the same noise on BP's labels alone
    "bbp-conv-reduced-w0.01-noise0.3-bp": {
        "datasets": ("mnist", "fashion-mnist"),
        "backward_weight": 0.01,
        "noise_scale": 0.3,
        "methods": ("bp", "bp-nem", "bp-blind"),
    },
    # the architecture, at the paper's w = 1: half the width; twice the width on CIFAR-10 (where the gap is widest)
    "bbp-conv-reduced-narrow": {"channels": (16, 32), "hidden": (128,), "methods": ("bp", "bbp")},
    "bbp-conv-reduced-wide": {
        "datasets": ("cifar10",),
        "channels": (64, 128),
        "hidden": (512,),
        "methods": ("bp", "bbp"),
    },
}


def sets(changes: dict) -> dict[str, str]:
    """The run's settings as ``--set`` strings."""
    full = {"datasets": ALL, **REDUCED, **changes}
    return {k: json.dumps(list(v)) if isinstance(v, tuple) else json.dumps(v) for k, v in full.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--only", nargs="*", choices=sorted(SEARCH), help="these runs only")
    args = parser.parse_args()
    for name in args.only or SEARCH:
        folder, overrides = args.out / name, sets(SEARCH[name])
        if finished("bbp-conv", folder, data_dir=args.data_dir, overrides=overrides):
            print(f"{name}: finished before")
            continue
        start = time.perf_counter()
        run_experiment("bbp-conv", out=folder, data_dir=args.data_dir, overrides=overrides, show_progress=False)
        print(f"{name}: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
