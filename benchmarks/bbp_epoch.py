"""Epoch time of the Fig 4 network: bidirectional vs forward-only, explicit engine vs autograd.

    python benchmarks/bbp_epoch.py                 # 3072-512x7-10, 10,000 samples, batch 128
    python benchmarks/bbp_epoch.py --samples 50000 --json out.json

Every configuration trains through the shared Trainer (Adam, batch 128) on the same
CIFAR-shaped data (uniform pixels, random labels: the time of a dense network does not
depend on the values). The four configurations are interleaved over ``--repeats``
rounds and each one's median epoch time is used, so the ratios come from one run.
Targets (issue 3): bidirectional / forward-only <= 2.0 (theory 2: a second sweep of the
same size); explicit / autograd <= 1.5.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from bidir.bbp import BidirectionalMLP
from bidir.train import Trainer, make_optimizer


def epoch_time(x, t, mode, engine, batch_size, device) -> float:
    torch.manual_seed(0)
    net = BidirectionalMLP((x.shape[1], *[512] * 7, t.shape[1]), hidden="relu", output="softmax", input="identity").to(
        device
    )
    trainer = Trainer(
        net,
        lambda m, a, b: m.loss(a, b, mode, engine),
        make_optimizer("adam", net.parameters(), 1e-4),
        batch_size=batch_size,
        progress=False,
        log=lambda s: None,
    )
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.fit((x, t), 1)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", help="also write the numbers here")
    args = ap.parse_args()
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.samples, 3072, generator=g).to(device)
    t = F.one_hot(torch.randint(0, 10, (args.samples,), generator=g), 10).float().to(device)
    configs = [(m, e) for e in ("autograd", "explicit") for m in ("forward", "bidirectional")]
    epoch_time(x[:1024], t[:1024], "bidirectional", "autograd", args.batch_size, device)  # warm-up
    times = {c: [] for c in configs}
    for r in range(args.repeats):
        for c in configs:
            times[c].append(epoch_time(x, t, *c, args.batch_size, device))
            print(f"round {r + 1}: {c[0]:>13} {c[1]:>8}: {times[c][-1]:.2f} s", flush=True)
    med = {c: statistics.median(v) for c, v in times.items()}
    ratios = {
        "bidirectional/forward (autograd)": med[("bidirectional", "autograd")] / med[("forward", "autograd")],
        "bidirectional/forward (explicit)": med[("bidirectional", "explicit")] / med[("forward", "explicit")],
        "explicit/autograd (forward)": med[("forward", "explicit")] / med[("forward", "autograd")],
        "explicit/autograd (bidirectional)": med[("bidirectional", "explicit")] / med[("bidirectional", "autograd")],
    }
    print(
        f"\n{args.samples} samples, batch {args.batch_size}, {torch.get_num_threads()} threads, {device}; "
        "median epoch seconds:"
    )
    for c, v in med.items():
        print(f"  {c[0]:>13} {c[1]:>8}: {v:.2f} s ({args.samples / v:,.0f} samples/s)")
    for k, v in ratios.items():
        target = 2.0 if k.startswith("bidirectional/") else 1.5
        print(f"  {k:<36} {v:.2f}x  (target <= {target}x: {'met' if v <= target else 'NOT met'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "samples": args.samples,
                    "batch_size": args.batch_size,
                    "device": str(device),
                    "threads": torch.get_num_threads(),
                    "median_epoch_seconds": {f"{m}/{e}": v for (m, e), v in med.items()},
                    "ratios": ratios,
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
