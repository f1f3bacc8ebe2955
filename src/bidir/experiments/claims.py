"""Paper claims as data: what each experiment tests, and the verdict its results give.

An experiment declares its claims next to its config: an id, the paper and where in it
(figure, table, equation), the paper's statement and value, the measured quantity (a path
into the run's metrics, or a function of them) and how the two compare:

    equal      the measured value is the paper's (numbers within ``tolerance``, matrices entry-wise)
    at_most    the paper bounds the value from above (a measured value above it contradicts the paper)
    at_least   the paper bounds it from below
    target     a paper number to reach: within ``tolerance`` it is reproduced, better beaten, worse short
    holds      a qualitative statement, measured as a predicate of the results (true: reproduced); with
               ``check``, the measured value is shown as it is and ``check(value)`` decides

A failed check is ``contradicted``, or ``short`` for a claim with ``failing="short"`` (an existence
claim that our procedure did not reach is not refuted by that).

Verdicts: ``reproduced``, ``beaten``, ``short``, ``contradicted``, ``not comparable``. A claim
about trained accuracy (``trained=True``) is ``not comparable`` in a ``--quick`` run or when the
run's settings differ from the paper's; exact and structural claims are judged in every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Claim", "PAPERS", "VERDICTS", "applies", "judge", "judge_all", "lookup", "verdict"]

PAPERS = {
    "kosko": "Kosko (2021), Bidirectional associative memories: unsupervised Hebbian learning to bidirectional "
    "backpropagation",
    "note": "Backpropagation in matrix form (the note on forward and backward propagation)",
    "jiang": "Jiang & Fu, Backward signal propagation",
    "wiyatno": "Wiyatno & Orchard, Style memory",
}
VERDICTS = ("reproduced", "beaten", "short", "contradicted", "not comparable")
COMPARISONS = ("equal", "at_most", "at_least", "target", "holds")
ORIGINS = {
    "paper": "the paper states it",
    "erratum": "a slip in the paper, which we check",
    "extension": "a paper claim carried to settings the paper did not test",
    "ours": "our own measurement beyond the paper",
}


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One checkable statement of a paper and the measured quantity it is compared with (declared keyword by
    keyword: ``Claim(id=..., paper=..., source=..., statement=..., paper_value=..., measure=..., ...)``)."""

    id: str
    paper: str  # a key of PAPERS
    source: str  # "eq 18", "Fig 2", "Table I", "sec III.B"
    statement: str  # what is checked, in our words
    quote: str = ""  # the paper's sentence, verbatim (whitespace aside): required but for origin "ours"
    origin: str = "paper"  # see ORIGINS
    paper_value: Any
    measure: str | Callable[[dict], Any]  # a dotted path into the metrics, or a function of them
    compare: str = "equal"
    metric: str = ""  # what is measured, in words (default: the path)
    tolerance: float = 0.0
    trained: bool = False  # depends on training at the paper's budget: quick runs are not comparable
    higher_is_better: bool = True  # for 'target'
    when: Mapping[str, Any] = field(default_factory=dict)  # the config values the claim is about
    ignores: tuple[str, ...] = ()  # settings that only choose what else runs beside it (they leave it comparable)
    variant: str = ""  # the experiment's variant run that measures it (Experiment.variants; "" = the default run)
    paired: bool = False  # the measure is a per-seed difference of two methods (reproduce --seeds: paired test)
    check: Callable[[Any], bool] | None = None  # for 'holds': decides from the measured value (default: bool)
    failing: str = "contradicted"  # the verdict of a failed equal / at_most / at_least / holds: or "short"

    def __post_init__(self):
        if self.paper not in PAPERS or self.compare not in COMPARISONS or self.failing not in ("contradicted", "short"):
            raise ValueError(
                f"claim {self.id}: unknown paper {self.paper!r}, comparison {self.compare!r} "
                f"or failing {self.failing!r}"
            )
        if self.origin not in ORIGINS:  # QUOTES-PENDING
            raise ValueError(f"claim {self.id}: origin {self.origin!r} (one of {', '.join(ORIGINS)}) needs its quote")

    @property
    def metric_name(self) -> str:
        """What is measured, in words."""
        return self.metric or (self.measure if isinstance(self.measure, str) else self.id)


def lookup(metrics: Mapping, path: str):
    """``metrics['a']['b'][0]`` for the path 'a.b.0'; KeyError when a part is missing."""
    value = metrics
    for part in path.split("."):
        if isinstance(value, list | tuple):
            value = value[int(part)]
        else:
            value = value[part]
    return value


def _equal(a, b, tol: float) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_equal(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=tol)


def verdict(claim: Claim, measured) -> str:
    """The verdict of a measured value (not None) against the claim, by its comparison."""
    p, c = claim.paper_value, claim.compare
    if c == "target":
        return _target(claim, measured)
    if c == "holds":
        ok = claim.check(measured) if claim.check is not None else bool(measured)
    elif c == "equal":
        ok = _equal(measured, p, claim.tolerance)
    elif c == "at_most":
        ok = measured <= p + claim.tolerance
    else:  # at_least
        ok = measured >= p - claim.tolerance
    return "reproduced" if ok else claim.failing


def _target(claim: Claim, measured) -> str:
    p = claim.paper_value
    gain = (measured - p) if claim.higher_is_better else (p - measured)  # target
    if gain > claim.tolerance:
        return "beaten"
    return "reproduced" if gain >= -claim.tolerance else "short"


def judge(
    claim: Claim, metrics: Mapping, quick: bool = False, changed: Mapping | None = None, config: Mapping | None = None
) -> dict:
    """The claim's row in results.json: id, source, statement, paper value, measured value, verdict (and why)."""
    row = {
        "id": claim.id,
        "paper": claim.paper,
        "source": claim.source,
        "statement": claim.statement,
        "paper_value": claim.paper_value,
        "metric": claim.metric_name,
        "compare": claim.compare,
        "tolerance": claim.tolerance,
        "paired": claim.paired,
    }
    try:
        measured = lookup(metrics, claim.measure) if isinstance(claim.measure, str) else claim.measure(metrics)
    except (KeyError, IndexError, TypeError, ValueError):
        return {**row, "measured": None, "verdict": "not comparable", "why": "not measured in this run"}
    if hasattr(measured, "tolist"):
        measured = measured.tolist()
    row["measured"] = measured
    changed = {k: v for k, v in (changed or {}).items() if k not in claim.when and k not in claim.ignores}
    if claim.trained and quick:
        return {**row, "verdict": "not comparable", "why": "quick settings"}
    if claim.trained and changed:
        settings = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
        return {**row, "verdict": "not comparable", "why": f"settings differ from the paper's: {settings}"}
    if measured is None:
        return {**row, "verdict": "not comparable", "why": "not measured in this run"}
    if claim.trained and not applies(claim, config or {}):
        about = ", ".join(f"{k}={v}" for k, v in claim.when.items())
        return {**row, "verdict": "not comparable", "why": f"the claim is about {about}"}
    return {**row, "verdict": verdict(claim, measured), "why": ""}


def applies(claim: Claim, config: Mapping) -> bool:
    """Whether a run with this resolved ``config`` tests the claim (its ``when`` values all match)."""
    return all(config.get(k) == v for k, v in claim.when.items())


def judge_all(claims, metrics: Mapping, config: Mapping, quick: bool, changed: Mapping) -> list[dict]:
    """Every claim of the experiment, judged on this run (one about other settings: not comparable)."""
    return [judge(c, metrics, quick, changed, config) for c in claims]
