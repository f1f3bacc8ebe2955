"""Epoch time and FLOPs of each learning rule relative to BP, on the rules experiment's networks.

    python benchmarks/rules_epoch.py [--network mlp|cnn] [--samples 10000] [--repeats 3]

Every rule of ``bidir run rules`` trains one epoch of MNIST-shaped data (uniform pixels, random labels: the time
does not depend on the values) from the same initial weights, through the shared Trainer (Adam, batch 128), as
the experiment builds it (:func:`bidir.experiments.rules.build_model`). The rules are interleaved over
``--repeats`` rounds after one untimed round, and each one's median is used, so the ratios come from one run:
the experiment's own wall times are taken with other runs on the machine and are only in its summary.txt. FLOPs
per step are counted by ``torch.utils.flop_counter`` (:meth:`bidir.bbp.RuleTrained.step_flops`), as in
results.json.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from bidir.experiments.rules import CNN_RULES, Config, build_model
from bidir.train import Trainer, make_optimizer


def epoch_time(cfg: Config, rule: str, data: dict) -> float:
    model = build_model(cfg, rule, data, seed=0, device="cpu")
    trainer = Trainer(
        model,
        lambda m, xb, tb: m.loss(xb, tb),
        make_optimizer("adam", model.parameters(), 1e-3),
        batch_size=cfg.batch_size,
        progress=False,
        log=lambda line: None,
    )
    start = time.perf_counter()
    trainer.fit(data["fit"], 1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", choices=("mlp", "cnn"), default="mlp")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rules = CNN_RULES if args.network == "cnn" else Config().rules  # every rule the experiment trains
    cfg = Config(network=args.network, rules=rules)
    g = torch.Generator().manual_seed(0)
    shape = (args.samples, 1, 28, 28) if args.network == "cnn" else (args.samples, 784)
    x = torch.rand(shape, generator=g)
    t = F.one_hot(torch.randint(0, 10, (args.samples,), generator=g), 10).float()
    data = {"fit": (x, t)}
    times = {rule: [] for rule in rules}
    for round_ in range(args.repeats + 1):  # the first round warms up the allocator and caches, untimed
        for rule in rules:
            seconds = epoch_time(cfg, rule, data)
            if round_:
                times[rule].append(seconds)
    batch = (x[: cfg.batch_size], t[: cfg.batch_size])
    flops = {rule: build_model(cfg, rule, data, 0, "cpu").step_flops(*batch) for rule in rules}
    bp = statistics.median(times["bp"])
    print(
        f"rules, {args.network}, one epoch of {args.samples} samples at batch {cfg.batch_size}, "
        f"{torch.get_num_threads()} threads, median of {args.repeats} interleaved rounds"
    )
    for rule in rules:
        seconds = statistics.median(times[rule])
        print(
            f"  {rule:<14} {seconds:7.2f} s  {seconds / bp:5.2f}x BP's time  "
            f"{flops[rule] / flops['bp']:5.2f}x BP's FLOPs"
        )


if __name__ == "__main__":
    main()
