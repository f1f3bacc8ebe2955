"""The statistics of results over seeds, written once for the experiments and the report.

Over n independent seeds a measure is given as its mean and sample standard deviation
(``mean_std``). Two methods trained from the same initial weights in each seed are compared
*paired*: the per-seed differences d_s = a_s - b_s, their mean and standard deviation, and the
paired t-test of mean(d) = 0, which is the one-sample t-test of the differences (``paired``,
``one_sample_p``); with fewer than two seeds, or differences that never vary, there is no test
(p is None). A measure's ``interval`` is the Student-t confidence interval of its mean over the
seeds, mean +- t_{n-1, (1 + LEVEL) / 2} std / sqrt(n).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from scipy import stats

__all__ = ["mean_std", "one_sample_p", "paired", "interval", "LEVEL"]

LEVEL = 0.95  # the confidence of every interval bidir reports


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (n - 1 in the denominator; 0 for one value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def one_sample_p(values: Sequence[float], mean: float = 0.0) -> float | None:
    """The two-sided p-value of the one-sample t-test that ``values`` come from a distribution of mean ``mean``;
    None with fewer than two values or none that differ (no test is possible)."""
    if len(set(values)) < 2:  # one value, or all alike (their std is rounding, not spread)
        return None
    return float(stats.ttest_1samp(values, mean).pvalue)


def paired(a: Sequence[float], b: Sequence[float]) -> dict:
    """Per-seed differences a - b (the same seeds, so the same initial weights): their mean and standard deviation
    (float32, as the accuracies they come from) and the paired t-test's p-value (None for fewer than 2 seeds)."""
    d = torch.tensor(a) - torch.tensor(b)
    p = float(stats.ttest_rel(a, b).pvalue) if len(a) > 1 and float(d.std()) > 0 else None
    return {"mean": float(d.mean()), "std": float(d.std()) if len(d) > 1 else 0.0, "p_value": p, "per_seed": d.tolist()}


def interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """The two-sided Student-t ``level`` confidence interval of the mean of ``values`` (at least two of them; a
    point where they never vary)."""
    if len(values) < 2:
        raise ValueError(f"an interval needs at least 2 values, got {len(values)}")
    mean, std = mean_std(values)
    half = float(stats.t.ppf((1 + level) / 2, len(values) - 1)) * std / math.sqrt(len(values))
    return mean - half, mean + half
