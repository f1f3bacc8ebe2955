"""bidir.stats against closed forms and scipy: mean and sample std, the one-sample and the paired t-test."""

import math

import pytest
from scipy import stats as scipy_stats

from bidir.stats import mean_std, one_sample_p, paired


def test_mean_and_sample_std_by_hand():
    assert mean_std([2.0, 4.0, 9.0]) == (5.0, math.sqrt(((2 - 5) ** 2 + (4 - 5) ** 2 + (9 - 5) ** 2) / 2))
    assert mean_std([3.0]) == (3.0, 0.0)


def test_the_paired_test_is_the_one_sample_test_of_the_differences():
    a, b = [0.91, 0.93, 0.90, 0.95], [0.90, 0.90, 0.91, 0.92]
    d = [x - y for x, y in zip(a, b, strict=True)]
    out = paired(a, b)
    assert out["p_value"] == pytest.approx(scipy_stats.ttest_rel(a, b).pvalue, rel=1e-12)
    assert one_sample_p(d) == pytest.approx(out["p_value"], rel=1e-9)
    assert out["mean"] == pytest.approx(sum(d) / 4, abs=1e-7) and len(out["per_seed"]) == 4
    t = (sum(d) / 4) / (mean_std(d)[1] / 2)  # t = mean / (s / sqrt(n)), 3 degrees of freedom
    assert one_sample_p(d) == pytest.approx(2 * scipy_stats.t.sf(abs(t), 3), rel=1e-9)


def test_no_test_without_two_seeds_or_any_spread():
    assert paired([0.9], [0.8])["p_value"] is None and paired([0.9], [0.8])["std"] == 0.0
    assert one_sample_p([0.1, 0.1, 0.1]) is None and one_sample_p([0.2]) is None
