"""Epoch time of the bidirectional CNN: bidirectional (E_f + E_b) vs forward-only training, and with NEM noise.

    python benchmarks/bbp_conv_epoch.py [--samples 10000] [--repeats 3] [--image 3,32,32]

The BidirectionalCNN of bbp-conv (convolutions 32, 64; dense 256) on CIFAR-shaped data (uniform pixels,
random labels: the time does not depend on the values), trained through the shared Trainer (Adam, batch 128).
The configurations are interleaved over ``--repeats`` rounds and each one's median is used, so the ratios come
from one run. Target (issue 18): bidirectional / forward-only <= 2.0 (B-BP scales like BP: one more sweep of the
same size).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from bidir.bbp import BidirectionalCNN
from bidir.train import Trainer, make_optimizer


def epoch_time(x, t, mode: str, noise: str | None) -> float:
    net = BidirectionalCNN(t.shape[1], tuple(x.shape[1:]), seed=0)
    generator = torch.Generator().manual_seed(1)
    extra = None if noise is None else (noise, 0.1, generator)
    trainer = Trainer(
        net,
        lambda m, a, b: m.loss(a, b, mode, noise=extra),
        make_optimizer("adam", net.parameters(), 1e-3),
        batch_size=128,
        progress=False,
        log=lambda line: None,
    )
    start = time.perf_counter()
    trainer.fit((x, t), 1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--image", default="3,32,32")
    args = parser.parse_args()
    shape = tuple(int(s) for s in args.image.split(","))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.samples, *shape, generator=g)
    t = F.one_hot(torch.randint(0, 10, (args.samples,), generator=g), 10).float()
    configs = {
        "forward-only": ("forward", None),
        "bidirectional": ("bidirectional", None),
        "bidirectional + NEM": ("bidirectional", "nem"),
    }
    times = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, (mode, noise) in configs.items():
            times[name].append(epoch_time(x, t, mode, noise))
    median = {name: statistics.median(v) for name, v in times.items()}
    print(
        f"one epoch, {args.samples} samples {shape}, batch 128, median of {args.repeats} interleaved rounds, "
        f"{torch.get_num_threads()} threads:"
    )
    for name, value in median.items():
        print(f"  {name:<20} {value:7.2f} s")
    ratio = median["bidirectional"] / median["forward-only"]
    print(f"  bidirectional / forward-only: {ratio:.2f}x (target <= 2.0: {'met' if ratio <= 2.0 else 'missed'})")
    print(f"  NEM / plain bidirectional: {median['bidirectional + NEM'] / median['bidirectional']:.2f}x")


if __name__ == "__main__":
    main()
