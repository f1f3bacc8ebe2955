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

Verdicts: ``reproduced``, ``beaten``, ``short``, ``contradicted``, ``inconclusive``, ``not comparable``.
Exact and structural claims are judged in every run, exactly (within the printed tolerance). A
claim that depends on training (``trained=True``) depends on the seed, so it is judged by
:func:`conclude` over at least ``MIN_SEEDS`` seeds: numeric values by their 95% Student-t interval
(:func:`bidir.stats.interval`) against the paper's value and tolerance -- the whole interval on the
paper's side gives the verdict, an interval across the line is ``inconclusive`` -- and other
values by agreement of every seed. Fewer seeds are ``inconclusive``. A trained claim is ``not
comparable`` in a ``--quick`` run and on other data than it is about; a run whose settings differ
from the paper's (``Experiment.paper``) is judged, and labelled ours with the difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..stats import interval

__all__ = [
    "Claim",
    "centroid_claim",
    "KOSKO_FIG4",
    "KOSKO_ACCURACY",
    "PAPERS",
    "ORIGINS",
    "TEXTS",
    "VERDICTS",
    "MIN_SEEDS",
    "applies",
    "conclude",
    "judge",
    "judge_all",
    "lookup",
    "verdict",
]

PAPERS = {
    "kosko": "Kosko (2021), Bidirectional associative memories: unsupervised Hebbian learning to bidirectional "
    "backpropagation",
    "note": "Backpropagation in matrix form (the note on forward and backward propagation)",
    "jiang": "Jiang & Fu, Backward signal propagation",
    "wiyatno": "Wiyatno & Orchard, Style memory",
}
TEXTS = {  # each paper's text, as a file of ../shared/papers (the quotes are checked against them)
    "kosko": "kosko-bam-to-bidirectional-backprop.txt",
    "note": "note-forward-backward-propagation.txt",
    "jiang": "jiang-backward-signal-propagation.txt",
    "wiyatno": "wiyatno-orchard-style-memory.txt",
}
VERDICTS = ("reproduced", "beaten", "short", "contradicted", "inconclusive", "not comparable")
MIN_SEEDS = 3  # a seed-dependent claim is judged over at least this many independent seeds
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
    per_seed: bool = False  # the measure is a list, one value per seed the run trained (its own seeds setting)
    # for 'holds': decides from the measured value (default: bool), or gives the verdict itself as a string
    check: Callable[[Any], bool | str] | None = None
    failing: str = "contradicted"  # the verdict of a failed equal / at_most / at_least / holds: or "short"

    def __post_init__(self):
        if self.paper not in PAPERS or self.compare not in COMPARISONS or self.failing not in ("contradicted", "short"):
            raise ValueError(
                f"claim {self.id}: unknown paper {self.paper!r}, comparison {self.compare!r} "
                f"or failing {self.failing!r}"
            )
        if self.origin not in ORIGINS or (self.origin != "ours" and not self.quote.strip()):
            raise ValueError(f"claim {self.id}: origin {self.origin!r} (one of {', '.join(ORIGINS)}) needs its quote")

    @property
    def metric_name(self) -> str:
        """What is measured, in words."""
        return self.metric or (self.measure if isinstance(self.measure, str) else self.id)


KOSKO_FIG4 = "The feedback signals NT(ek) closely matched the corresponding sample class centroids."
KOSKO_ACCURACY = "The bidirectionally trained BAM network also had higher classification accuracy."


def centroid_claim(id: str, source: str, statement: str, label: str, measure, **details) -> Claim:
    """Kosko's Fig 4 carried to another network (an extension): after B-BP every class's backward image N^T(e_k)
    is nearest its own class centroid, in every seed (``measure`` gives the count per seed)."""
    return Claim(
        id=id,
        paper="kosko",
        source=source,
        origin="extension",
        quote=KOSKO_FIG4,
        statement=statement,
        paper_value="every class",
        measure=measure,
        compare="holds",
        metric=f"{label}: classes whose N^T(e_k) is nearest its own centroid after B-BP, per seed",
        check=lambda v: v == 10,
        trained=True,
        per_seed=True,
        **details,
    )


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
        if isinstance(ok, str):  # a check that gives the verdict itself (reproduced, contradicted, inconclusive)
            return ok
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


def conclude(claim: Claim, values: list) -> tuple[str, str]:
    """The verdict of a seed-dependent claim from its values over independent seeds, and why.

    Fewer than ``MIN_SEEDS`` values: ``inconclusive``. Numeric values: their 95% interval [lo, hi]
    of the mean against the line the comparison draws (the paper's value, widened by the tolerance):
    ``at_least`` is reproduced when lo >= p - tol and fails when hi < p - tol; ``at_most`` mirrors
    it; ``equal`` and ``target`` are reproduced when the interval lies in [p - tol, p + tol], fail
    (``target``: short) when it lies below, and are beaten (``target``) or contradicted (``equal``)
    above; ``holds`` applies its check to both ends. An interval across a line is ``inconclusive``.
    Other values: every seed's verdict, when they all agree.
    """
    n = len(values)
    if n < MIN_SEEDS:
        return "inconclusive", f"{n} seed{'s' if n != 1 else ''}: at least {MIN_SEEDS} are needed to judge"
    if all(_numeric(v) for v in values):
        lo, hi = interval(values)
        found = _interval_verdict(claim, lo, hi)
        return found, f"95% interval [{lo:.4g}, {hi:.4g}] over {n} seeds" + (
            " crosses the paper's line" if found == "inconclusive" else ""
        )
    verdicts = [verdict(claim, v) for v in values]
    if len(set(verdicts)) == 1:
        return verdicts[0], f"every one of {n} seeds"
    agree = sum(v in ("reproduced", "beaten") for v in verdicts)
    return "inconclusive", f"reproduced in {agree} of {n} seeds"


def _numeric(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _interval_verdict(claim: Claim, lo: float, hi: float) -> str:
    p, tol, c = claim.paper_value, claim.tolerance, claim.compare
    if c == "holds":
        ends = {verdict(claim, lo), verdict(claim, hi)}
        return ends.pop() if len(ends) == 1 else "inconclusive"
    if c == "at_least":
        return "reproduced" if lo >= p - tol else claim.failing if hi < p - tol else "inconclusive"
    if c == "at_most":
        return "reproduced" if hi <= p + tol else claim.failing if lo > p + tol else "inconclusive"
    if c == "target" and not claim.higher_is_better:
        lo, hi, p = -hi, -lo, -p  # lower is better: mirror
    above = "beaten" if c == "target" else claim.failing
    below = "short" if c == "target" else claim.failing
    if p - tol <= lo and hi <= p + tol:
        return "reproduced"
    return above if lo > p + tol else below if hi < p - tol else "inconclusive"


def describe(differences: Mapping) -> str:
    """Settings that differ from the paper tier's, {setting: (ours, the reference, whose)}, in one short phrase:
    "ours: schedule fast (the paper's: paper), channels [16, 32] (default: [32, 64])"."""
    return "ours: " + ", ".join(f"{k} {_word(v)} ({w}: {_word(p)})" for k, (v, p, w) in differences.items())


def _word(value) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def judge(
    claim: Claim,
    metrics: Mapping,
    quick: bool = False,
    differences: Mapping | None = None,
    config: Mapping | None = None,
) -> dict:
    """The claim's row in results.json: id, source, statement, paper value, measured value, verdict (and why).

    ``differences``: the run's settings that differ from the paper tier's, {setting: (ours, reference, whose)}
    (``runner.paper_differences``); a trained claim judged on them is labelled ``settings: "ours: ..."`` (else
    ``"the paper's"``).
    """
    row = {
        "id": claim.id,
        "paper": claim.paper,
        "origin": claim.origin,
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
    if measured is None:
        return {**row, "verdict": "not comparable", "why": "not measured in this run"}
    if not claim.trained:
        return {**row, "verdict": verdict(claim, measured), "why": ""}
    if quick:
        return {**row, "verdict": "not comparable", "why": "quick settings"}
    if not applies(claim, config or {}):
        about = ", ".join(f"{k}={v}" for k, v in claim.when.items())
        return {**row, "verdict": "not comparable", "why": f"the claim is about {about}"}
    ours = {k: v for k, v in (differences or {}).items() if k not in claim.when and k not in claim.ignores}
    row["settings"] = describe(ours) if ours else "the paper's"
    found, why = conclude(claim, list(measured) if claim.per_seed else [measured])
    return {**row, "verdict": found, "why": why}


def applies(claim: Claim, config: Mapping) -> bool:
    """Whether a run with this resolved ``config`` tests the claim (its ``when`` values all match)."""
    return all(config.get(k) == v for k, v in claim.when.items())


def judge_all(claims, metrics: Mapping, config: Mapping, quick: bool, differences: Mapping) -> list[dict]:
    """Every claim of the experiment, judged on this run (one about other data: not comparable)."""
    return [judge(c, metrics, quick, differences, config) for c in claims]
