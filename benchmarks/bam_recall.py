"""Batched BAM recall vs a per-key Python loop, and its multiply-add rate vs plain matmul.

    python benchmarks/bam_recall.py            # n = p = 1024, 50 pairs, 10,000 noisy keys
    python benchmarks/bam_recall.py --json out.json

Both sides run the same synchronous recall (eq 5, ties keep state) to a bidirectional
fixed point; the results are checked equal. Ratios are measured in this one run.

The batched recall multiplies only the keys that have not converged yet, and its first product x M serves both
the start of Y and the first step. Its rate is given two
ways: *effective* (the products a recall that kept multiplying every key to the last iteration
would do, per second: what the target compares with plain matmul) and *performed* (the products it
did do, per second: how busy the multiply units are).
"""

import argparse
import json
import time

import torch

from bidir.bam import BAM
from bidir.bam.capacity import flip_noise


def loop_recall(M, keys, max_steps=100):
    """The straightforward implementation: one key at a time, vector-matrix products."""
    xs, ys = [], []
    Mt = M.T.contiguous()
    for key in keys:
        x = key
        y = torch.where(x @ M > 0, 1.0, -1.0)  # first pass from the key (ties -> off)
        for _ in range(max_steps):
            o_y = x @ M
            y_new = torch.where(o_y > 0, 1.0, torch.where(o_y < 0, -1.0, y))
            o_x = y_new @ Mt
            x_new = torch.where(o_x > 0, 1.0, torch.where(o_x < 0, -1.0, x))
            if torch.equal(y_new, y) and torch.equal(x_new, x):
                break
            x, y = x_new, y_new
        xs.append(x)
        ys.append(y)
    return torch.stack(xs), torch.stack(ys)


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args()

    g = torch.Generator().manual_seed(args.seed)
    n = p = args.n
    X = torch.randint(0, 2, (args.pairs, n), generator=g).float() * 2 - 1
    Y = torch.randint(0, 2, (args.pairs, p), generator=g).float() * 2 - 1
    bam = BAM.from_pairs(X, Y)
    which = torch.randint(0, args.pairs, (args.keys,), generator=g)
    keys = flip_noise(X[which], args.noise, g)

    t_batch, r = best_time(lambda: bam.recall(x=keys, max_steps=100), args.repeats)
    t_loop, (lx, ly) = best_time(lambda: loop_recall(bam.M, keys), 1)
    assert torch.equal(lx, r.x) and torch.equal(ly, r.y), "batched and per-key recall disagree"
    t_api, api = best_time(lambda: [bam.recall(x=key) for key in keys], 1)
    assert all(torch.equal(a.x[0], r.x[i]) for i, a in enumerate(api)), "per-key API recall disagrees"
    v = keys[0]
    t_mv, _ = best_time(lambda: [v @ bam.M for _ in range(200)], args.repeats)
    exact = ((r.x == X[which]).all(1) & (r.y == Y[which]).all(1)).float().mean().item()

    iterations = int(r.steps.max()) + 1  # the last iteration confirms the fixed point
    macs = (1 + 2 * iterations) * args.keys * n * p  # first pass + two products per iteration, every key
    moving = sum(int((r.steps >= t).sum()) for t in range(iterations))  # keys multiplied at each iteration
    performed = 2 * moving * n * p  # x M serves the start and the first step, then two products per iteration
    a = torch.randn(args.keys, n)
    t_mm, _ = best_time(lambda: a @ bam.M, args.repeats + 2)
    recall_rate, mm_rate, mv_rate = macs / t_batch, args.keys * n * p / t_mm, 200 * n * p / t_mv
    performed_rate = performed / t_batch

    numbers = {
        "keys": args.keys,
        "n": n,
        "p": p,
        "pairs": args.pairs,
        "noise": args.noise,
        "threads": torch.get_num_threads(),
        "exact_recall": exact,
        "iterations": iterations,
        "batched_s": t_batch,
        "loop_s": t_loop,
        "speedup": t_loop / t_batch,
        "api_loop_s": t_api,
        "speedup_vs_api_loop": t_api / t_batch,
        "matvec_gmac_per_s": mv_rate / 1e9,
        "recall_gmac_per_s": recall_rate / 1e9,
        "matmul_gmac_per_s": mm_rate / 1e9,
        "fraction_of_matmul": recall_rate / mm_rate,
        "performed_gmac_per_s": performed_rate / 1e9,
        "performed_fraction_of_matmul": performed_rate / mm_rate,
    }
    print(
        f"BAM recall, n = p = {n}, {args.pairs} stored pairs, {args.keys} keys with {args.noise:.0%} noise, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"  exact recall {exact:.4f}; {iterations} X->Y->X iterations to converge")
    print(f"  batched  {t_batch:8.3f} s")
    print(
        f"  per-key loop, plain torch vector ops   {t_loop:8.3f} s  -> batched is {t_loop / t_batch:6.1f} x "
        "faster (target >= 100x)"
    )
    print(f"  per-key loop, one bam.recall per key   {t_api:8.3f} s  -> batched is {t_api / t_batch:6.1f} x faster")
    print(
        f"  ceiling for any per-key loop: matmul / matrix-vector rate = {mm_rate / mv_rate:.1f} x "
        f"({mv_rate / 1e9:.1f} GMAC/s per key)"
    )
    print(
        f"  batched recall {recall_rate / 1e9:7.1f} GMAC/s vs plain matmul {mm_rate / 1e9:7.1f} GMAC/s: "
        f"{recall_rate / mm_rate:.0%} effective (target >= 60%)"
    )
    print(
        f"  products performed (only the keys still moving): {performed / macs:.0%} of the effective ones, "
        f"{performed_rate / 1e9:.1f} GMAC/s: {performed_rate / mm_rate:.0%} of matmul"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(numbers, f, indent=2)


if __name__ == "__main__":
    main()
