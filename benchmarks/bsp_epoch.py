"""BSP throughput: vectorised vs per-sample, a full MNIST epoch, memory vs time steps.

    python benchmarks/bsp_epoch.py [--data-dir ../shared/data] [--full-epoch [--compiled]] [--samples 20]

1. Training samples per second of one method-2 step on 784-300-300-10 (forward system,
   reverse system, G1, update), the whole batch at once vs one sample at a time through the
   same code (a Python loop over the samples): the ratio, measured in one run, eager and with
   ``compiled=True``; beside them the ceiling that the step's matrix products alone put on it.
2. With ``--full-epoch``: one real epoch of method 2 on all 60000 MNIST training images
   (784-300-300-10, batch 100, T = 20, dt = 0.2), wall time (target <= 10 minutes on 2 cores).
3. The price of ``reverse_gain="trajectory"`` (bsp-mnist's nonlinear-trajectory setting): one
   training step of 784-300-10 in the nonlinear regime, batch 100, with the reverse neurons
   at their forward neuron's slope vs at rest, as a ratio measured in one run.
4. Peak resident memory of one training step (batch 20) in a fresh process at horizons T and 4T:
   BSP keeps running integrals, so it should not grow; backprop through the solver (autograd)
   keeps the graph of every step and grows with T.
5. The network's own fixed-step loop (``bidir.bsp.network.runge_kutta``) against torchdiffeq's
   ``odeint`` with the same Heun rule on the same tuple state: one method-2 step of 784-300-300-10,
   batch 100 and batch 1, as ratios in one run.
6. ``compiled=True`` vs eager on method 1's network ({784,839,283,96,32,10}, one-to-one, the
   fixed-point coupling gain): one training step at batch 100, as a ratio in one run.
7. bsp-mnist's solver, RK4 at dt = 1 (80 field evaluations over the horizon), against Heun at dt = 0.2
   (200): one method-2 step of 784-300-300-10 at batch 100, eager and compiled, as samples/s and as a
   share of [1]'s ceiling (the matrix products of Heun's 200 evaluations), all in one run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import torch

from bidir.bsp import network
from bidir.bsp.learning import BSPLearner, BSPRule
from bidir.bsp.network import BSPNetwork

SIZES = [784, 300, 300, 10]


def step_time(learner, x, y, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        learner.updates(x, y)
        best = min(best, time.perf_counter() - t0)
    return best


def throughput(batch: int, samples: int, compiled: bool) -> tuple[float, float]:
    """(samples/s of the whole batch at once, samples/s of a Python loop over single samples), same code."""
    torch.manual_seed(0)
    learner = BSPLearner(BSPNetwork(SIZES, compiled=compiled), BSPRule())
    x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
    learner.updates(x, y), learner.updates(x[:1], y[:1])  # warm-up (and, compiled, compiling both shapes)
    t_vec = step_time(learner, x, y)
    t0 = time.perf_counter()
    for i in range(samples):
        learner.updates(x[i : i + 1], y[i : i + 1])
    return batch / t_vec, samples / (time.perf_counter() - t0)


def matmul_floor(batch: int) -> float:
    """Samples/s if a step did nothing but its coupling matmuls (each evaluation's C and C^T products
    at this batch size): the most any batched implementation of this math reaches on this machine."""
    net = BSPNetwork(SIZES)
    evals = net.steps * network.TABLEAUS[net.solver].stages
    w1, w2 = net.weights[1].detach(), net.weights[2].detach()
    a, e = torch.rand(batch, SIZES[1]), torch.rand(batch, SIZES[3])
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(evals):
            a @ w1, a @ w2, a @ w1.T, e @ w2.T
        best = min(best, time.perf_counter() - t0)
    return batch / best


def vectorised_vs_loop(batch: int, samples: int) -> float:
    rates = {c: throughput(batch, samples, c) for c in (False, True)}
    floor = matmul_floor(batch)
    (vec, loop), (vec_c, loop_c) = rates[False], rates[True]
    print(
        f"[1] 784-300-300-10 method-2 step, samples/s (target: vectorised >= 50x the per-sample loop)\n"
        f"    eager:    vectorised {vec:,.0f} (batch {batch}), per-sample loop {loop:,.1f} -> ratio {vec / loop:.0f}x\n"
        f"    compiled: vectorised {vec_c:,.0f} (batch {batch}), per-sample loop {loop_c:,.1f} -> ratio "
        f"{vec_c / loop_c:.0f}x "
        f"(compiled vectorised vs the eager loop: {vec_c / loop:.0f}x; compiled vs eager vectorised: "
        f"{vec_c / vec:.2f}x faster)\n"
        f"    ceiling: the step's matmuls alone run at {floor:,.0f} samples/s at batch {batch}, so no batched "
        "code can beat "
        f"{floor / loop:.0f}x the eager loop or {floor / loop_c:.0f}x the compiled one on this machine"
    )
    return 60000 / max(vec, vec_c)


def trajectory_gain_cost(batch: int) -> None:
    from bidir.experiments.bsp_mnist import NONLINEAR

    torch.manual_seed(0)
    net = BSPNetwork(
        [784, 300, 10],
        rates=NONLINEAR["rates"],
        input_mode=NONLINEAR["input_mode"],
        amplitude=NONLINEAR["amplitude_b0"] * 2.8,
    )
    net.limit_norms_(0.14, (0,))
    x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
    times = {}
    for gain in ("rest", "trajectory"):
        learner = BSPLearner(net, BSPRule(error="softmax", target=1.0, temperature=0.5, reverse_gain=gain))
        learner.updates(x[:2], y[:2])  # warm-up
        times[gain] = step_time(learner, x, y)
    print(
        f"[3] 784-300-10 nonlinear step, batch {batch}: reverse gain at rest {times['rest'] * 1e3:.0f} ms, "
        "along the trajectory "
        f"{times['trajectory'] * 1e3:.0f} ms -> {times['trajectory'] / times['rest']:.2f}x the time"
    )


def full_epoch(data_dir, compiled: bool) -> None:
    from bidir.data.datasets import load_dataset
    from bidir.train import Trainer

    train = load_dataset("mnist", "train", data_dir=data_dir, progress=False)
    x, y = train.features(), train.labels
    learner = BSPLearner(BSPNetwork(SIZES, compiled=compiled), BSPRule())
    t0 = time.perf_counter()
    Trainer(
        learner,
        lambda m, a, b: m.loss(a, b),
        torch.optim.SGD(learner.trainable(), lr=1.0),
        batch_size=100,
        log=lambda s: print("   ", s),
    ).fit((x, y), 1)
    minutes = (time.perf_counter() - t0) / 60
    print(
        "[2] one full MNIST epoch (60000 images) of 784-300-300-10, method "
        f"2{', compiled' if compiled else ''}: {minutes:.1f} min "
        f"on {torch.get_num_threads()} threads (target <= 10)"
    )


CHILD = """
import resource, sys, torch
from bidir.bsp.learning import BSPLearner, BSPRule, backprop_loss
from bidir.bsp.network import BSPNetwork
horizon, mode, batch = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.manual_seed(0)
net = BSPNetwork([784, 300, 300, 10], horizon=horizon)
x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "bsp":
    BSPLearner(net, BSPRule()).updates(x, y)
else:
    backprop_loss(net, x, y, BSPRule()).backward()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def memory(horizon: float, batch: int = 20) -> None:
    rows = {}
    for mode in ("bsp", "autograd"):
        for h in (horizon, 4 * horizon):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(h), mode, str(batch)], capture_output=True, text=True, check=True
            )
            rows[mode, h] = float(out.stdout.strip().splitlines()[-1])
    for mode in ("bsp", "autograd"):
        a, b = rows[mode, horizon], rows[mode, 4 * horizon]
        print(
            f"[4] peak memory of one step, batch {batch}, {mode:>8}: T={horizon:g}: {a:7.1f} MiB, "
            f"T={4 * horizon:g}: {b:7.1f} MiB "
            f"(growth {b - a:+.1f} MiB)"
        )


def torchdiffeq_steps(rhs, state, steps, dt, solver, compiled=False):
    """runge_kutta's contract through torchdiffeq's fixed-grid solver (tuple states are its own feature)."""
    from torchdiffeq import odeint

    t = torch.tensor([0.0, steps * dt], dtype=state[0].dtype)
    return tuple(s[-1] for s in odeint(rhs, state, t, method=solver, options={"step_size": dt}))


def own_loop_vs_torchdiffeq(batch: int, rounds: int = 3) -> None:
    """The two integrators interleaved, ``rounds`` times each (the best time of each), so a change in the
    machine's load between them cannot pass for a difference between them."""
    torch.manual_seed(0)
    learner = BSPLearner(BSPNetwork(SIZES), BSPRule())
    x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
    ours = network.runge_kutta
    times = {"own loop": [], "torchdiffeq": []}
    try:
        for _ in range(rounds):
            for name, integrator in (("own loop", ours), ("torchdiffeq", torchdiffeq_steps)):
                network.runge_kutta = integrator
                learner.updates(x[:2], y[:2])  # warm-up
                times[name].append((step_time(learner, x, y, 1), step_time(learner, x[:1], y[:1], 1)))
    finally:
        network.runge_kutta = ours
    (a, a1), (b, b1) = (tuple(map(min, zip(*times[n], strict=True))) for n in ("own loop", "torchdiffeq"))
    print(
        f"[5] 784-300-300-10 method-2 step, own Heun loop vs torchdiffeq (interleaved, best of {rounds}): batch "
        f"{batch} {a * 1e3:.0f} vs {b * 1e3:.0f} ms ({b / a:.2f}x faster), "
        f"batch 1 {a1 * 1e3:.1f} vs {b1 * 1e3:.1f} ms ({b1 / a1:.2f}x faster)"
    )


def compiled_method1(batch: int) -> None:
    from bidir.experiments.bsp_mnist import SETTINGS, Config

    s, lr = SETTINGS["method1"], Config().lr_fixed_points
    torch.manual_seed(0)
    x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
    times = {}
    for compiled in (False, True):
        net = BSPNetwork(
            s.sizes,
            connection=s.connection,
            input_connection="dense",
            coupling_gain=s.coupling_gain,
            compiled=compiled,
        )
        learner = BSPLearner(net, BSPRule(method=s.method, lr=lr))
        learner.updates(x, y)  # warm-up (compiled: compiling)
        times[compiled] = step_time(learner, x, y)
    print(
        f"[6] method 1's network, one step at batch {batch}: eager {batch / times[False]:.0f} samples/s, compiled "
        f"{batch / times[True]:.0f} samples/s -> {times[False] / times[True]:.2f}x faster"
    )


def solver_vs_ceiling(batch: int) -> None:
    torch.manual_seed(0)
    x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
    floor, rates = matmul_floor(batch), {}
    for solver, dt in (("heun2", 0.2), ("rk4", 1.0)):
        for compiled in (False, True):
            learner = BSPLearner(BSPNetwork(SIZES, solver=solver, dt=dt, compiled=compiled), BSPRule())
            learner.updates(x, y)  # warm-up (compiled: compiling)
            rates[solver, compiled] = batch / step_time(learner, x, y)
    print(f"[7] one method-2 step of 784-300-300-10 at batch {batch}, samples/s and share of the ceiling "
          f"({floor:,.0f} samples/s: Heun's 200 evaluations' matrix products)")  # fmt: skip
    for (solver, compiled), rate in rates.items():
        name = f"{'RK4, dt 1  ' if solver == 'rk4' else 'Heun, dt 0.2'} {'compiled' if compiled else 'eager   '}"
        print(f"    {name}: {rate:,.0f} samples/s = {rate / floor:.0%} of the ceiling")
    print(f"    RK4 at dt 1 vs Heun at dt 0.2: {rates['rk4', False] / rates['heun2', False]:.2f}x eager, "
          f"{rates['rk4', True] / rates['heun2', True]:.2f}x compiled")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--full-epoch", action="store_true")
    p.add_argument("--compiled", action="store_true", help="the full epoch with BSPNetwork(compiled=True)")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--horizon", type=float, default=20.0)
    p.add_argument("--only", choices=["5", "7"], help="run one measurement alone: [5] or [7]")
    args = p.parse_args()
    if args.only:
        return {"5": own_loop_vs_torchdiffeq, "7": solver_vs_ceiling}[args.only](args.batch)
    estimate = vectorised_vs_loop(args.batch, args.samples)
    print(f"    (a 60000-image epoch at the faster rate: {estimate / 60:.1f} min)")
    if args.full_epoch:
        full_epoch(args.data_dir, args.compiled)
    trajectory_gain_cost(args.batch)
    memory(args.horizon)
    own_loop_vs_torchdiffeq(args.batch)
    compiled_method1(args.batch)
    solver_vs_ceiling(args.batch)


if __name__ == "__main__":
    main()
