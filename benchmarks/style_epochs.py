"""Epochs and wall time for the style-memory network to reach the paper's MNIST accuracy.

    python benchmarks/style_epochs.py --data-dir ../shared/data          # full MNIST
    python benchmarks/style_epochs.py --dataset mnist-subset --target 0.95   # a minute, shipped data

Trains the paper's network (untied decoder, eq 3, alpha 0.05, input noise 0.1) with our
fast schedule (Adam 2e-3 cosine-annealed over 12 epochs, batch 128) and reports the first
epoch whose test accuracy reaches the target (98.48%, sec IV) and the training time up to
it. The paper's preset (Adam 1e-5, batch 32, 250 epochs) is trained in the same run for
``--paper-epochs`` epochs, so the two learning curves are compared on the same machine:
the ratio printed is paper-preset accuracy vs fast-schedule accuracy at equal epochs.
Target (issue 5): <= 15 epochs, vs the paper's 250.
"""

import argparse
import json
import time

import torch

from bidir.data.datasets import train_test
from bidir.style import StyleMemoryNet
from bidir.style.training import train_style_memory


def curve(schedule, epochs, train, test, seed):
    torch.manual_seed(seed)
    net = StyleMemoryNet(int(train[1].max()) + 1)
    start = time.perf_counter()
    history = train_style_memory(
        net,
        train,
        test,
        schedule=schedule,
        epochs=epochs,
        seed=seed,
        progress=False,
        log=lambda s: print(f"  [{schedule}] {s}", flush=True),
    )
    return history, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--target", type=float, default=0.9848)
    ap.add_argument("--fast-epochs", type=int, default=12)
    ap.add_argument("--paper-epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    tr, te = train_test(args.dataset, args.data_dir, progress=False)
    train, test = (tr.features(flatten=False), tr.labels), (te.features(flatten=False), te.labels)
    print(f"{args.dataset}: {len(tr)} train / {len(te)} test, {torch.get_num_threads()} threads")
    report = {"dataset": args.dataset, "target": args.target, "threads": torch.get_num_threads()}
    for schedule, epochs in (("fast", args.fast_epochs), ("paper", args.paper_epochs)):
        if epochs <= 0:
            continue
        history, seconds = curve(schedule, epochs, train, test, args.seed)
        reached = next((row for row in history if row["test_accuracy"] >= args.target), None)
        report[schedule] = {
            "epochs": epochs,
            "seconds": seconds,
            "accuracy": [row["test_accuracy"] for row in history],
            "recon": [row["test_recon"] for row in history],
            "epochs_to_target": reached["epoch"] if reached else None,
            "seconds_to_target": sum(r["seconds"] for r in history[: reached["epoch"]]) if reached else None,
        }
    fast, paper = report.get("fast"), report.get("paper")
    print(
        f"\n{'schedule':<8} {'epochs':>6} {'epochs to ' + format(args.target, '.2%'):>18} "
        f"{'time to target':>15} {'final acc':>9} {'s/epoch':>8}"
    )
    for name, r in (("fast", fast), ("paper", paper)):
        if r:
            to = f"{r['epochs_to_target']}" if r["epochs_to_target"] else f"> {r['epochs']}"
            tt = f"{r['seconds_to_target']:.0f} s" if r["seconds_to_target"] else "-"
            print(
                f"{name:<8} {r['epochs']:>6} {to:>18} {tt:>15} {r['accuracy'][-1]:>9.2%} "
                f"{r['seconds'] / r['epochs']:>8.1f}"
            )
    if fast and paper:
        k = min(fast["epochs"], paper["epochs"])
        print(
            f"accuracy after {k} epoch(s): paper preset {paper['accuracy'][k - 1]:.2%} vs fast "
            f"{fast['accuracy'][k - 1]:.2%}; "
            "paper preset / fast epoch time "
            f"{paper['seconds'] / paper['epochs'] / (fast['seconds'] / fast['epochs']):.2f}"
        )
    if fast:
        ok = fast["epochs_to_target"] is not None and fast["epochs_to_target"] <= 15
        print(f"target <= 15 epochs to {args.target:.2%}: {'met' if ok else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
