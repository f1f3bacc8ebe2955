"""Bad input raises a clear error that names the problem."""

import math

import pytest
import torch

from bidir.bam import BAM, ContinuousABAM, hebbian_abam
from bidir.bam.capacity import flip_noise, recall_rate
from bidir.errors import InvalidInputError


@pytest.fixture
def bam():
    return BAM.from_pairs([[1, -1, 1, -1]], [[1, 1, -1]])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda b: b.recall(x=[1, -1, 1]), "length 3, expected 4"),
        (lambda b: b.recall(y=[1, -1, 1, 1]), "length 4, expected 3"),
        (lambda b: b.recall(x=[1, 0, 1, -1]), "must be bipolar"),
        (lambda b: b.recall(x=[1, 0.5, 1, -1]), "must be bipolar"),
        (lambda b: b.recall(x=[1, math.nan, 1, -1]), "NaN"),
        (lambda b: b.recall(x=torch.empty(0, 4)), "empty"),
        (lambda b: b.recall(x=[[[1, -1, 1, -1]]]), "shape"),
        (lambda b: b.recall(x="abcd"), "numeric"),
        (lambda b: b.recall(), "needs a probe"),
        (lambda b: b.recall(x=[1, -1, 1, -1], mode="chaotic"), "mode"),
        (lambda b: b.recall(x=[1, -1, 1, -1], mode="async", k=0), "k must be a positive integer"),
        (lambda b: b.recall(x=[1, -1, 1, -1], mode="async", k=9), "k must be at most 3"),
        (lambda b: b.recall(x=[1, -1, 1, -1], max_steps=0), "max_steps"),
        (lambda b: b.recall(x=[[1, -1, 1, -1]], y=[[1, 1, -1], [1, 1, 1]]), "match the probes"),
        (lambda b: b.energy([1, -1, 1, -1], [1, 2, -1]), "must be bipolar"),
        (lambda b: b.add_pair([1, -1, 1, -1], [[1, 1, -1], [1, 1, 1]]), "same number"),
    ],
)
def test_bad_probe_raises_clear_error(bam, call, message):
    with pytest.raises(InvalidInputError, match=message):
        call(bam)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: BAM.from_pairs(torch.empty(0, 4), torch.empty(0, 3)), "empty"),
        (lambda: BAM.from_pairs([[1, -1]], [[1, -1], [1, 1]]), "same number"),
        (lambda: BAM.from_pairs([[1, 0]], [[1, 1]]), "bipolar"),
        (lambda: BAM.from_pairs([[1, -1]], [[1, 1]], coding="binary"), "binary"),
        (lambda: BAM.from_pairs([[1, -1]], [[1, 1]], coding="ternary"), "coding"),
        (lambda: BAM(0, 3), "n must be a positive integer"),
        (lambda: BAM(2, 3, threshold_x=[0.0]), "threshold_x must have shape"),
        (lambda: BAM(2, 3, threshold_y=[0.0, math.nan, 1.0]), "NaN"),
        (lambda: ContinuousABAM(2, 2, law="oja"), "law"),
        (lambda: ContinuousABAM(2, 2, steepness_y=-1.0), "steepness_y"),
        (
            lambda: ContinuousABAM(2, 2).integrate([[0.0, 0.0]], [[0.0, 0.0]], torch.zeros(2, 2), [0.0, 0.0]),
            "increasing",
        ),
        (lambda: ContinuousABAM(2, 2).integrate([[0.0, math.nan]], [[0.0, 0.0]], torch.zeros(2, 2), [0.0, 1.0]), "NaN"),
        (
            lambda: ContinuousABAM(2, 2).integrate([[0.0, 0.0]], [[0.0, 0.0]], torch.zeros(3, 2), [0.0, 1.0]),
            "M must have shape",
        ),
        (lambda: hebbian_abam(BAM(2, 2), [[1, -1]], rate=-1.0), "rate"),
        (lambda: flip_noise(torch.ones(3), 1.5), "fraction"),
        (lambda: recall_rate(8, 8, 0), "m must be a positive integer"),
    ],
)
def test_bad_construction_raises_clear_error(make, message):
    with pytest.raises(InvalidInputError, match=message):
        make()


def test_recall_that_stops_at_max_steps_unconverged_says_so():
    """A probe far from its pair, one neuron per field per step, one step: not a fixed point, and a warning."""
    X = torch.tensor([[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]])
    Y = torch.tensor([[1.0, 1.0, -1.0, -1.0]])
    bam = BAM.from_pairs(X, Y)
    with pytest.warns(UserWarning, match="stopped at max_steps=1 with 1 of 1 probe"):
        out = bam.recall(x=torch.tensor([[-1.0, 1.0, 1.0, -1.0, 1.0, -1.0]]), y=-Y, mode="async", k=1, max_steps=1)
    assert not bool(out.converged[0])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a converged recall is silent
        assert bool(bam.recall(x=X).converged[0])
