"""The plan of `bidir reproduce`: every run of the chosen tiers, per seed where the seed matters, cheapest first.

Each experiment declares its runs and their tier (``Experiment.runs``); the plan lists one run per run of the
chosen tiers and, for experiments whose claims depend on the seed (``Experiment.seeded``), per seed
(``claims.MIN_SEEDS`` by default): folder ``NAME[-LABEL][-seedS]``. Both `bidir reproduce` (which runs it) and the
report (which says how much of the paper tier is in its folder) read it here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import InvalidInputError
from .claims import MIN_SEEDS
from .registry import EXPERIMENTS

__all__ = ["Planned", "plan", "MAX_SEEDS"]

MAX_SEEDS = 1000  # a plan of more runs than anyone could wait for is a typo


@dataclass
class Planned:
    """One run of the plan: the experiment, its variant and settings, the seed, its folder name and cost."""

    experiment: str
    variant: str
    overrides: dict
    seed: int
    folder: str
    hours: float
    tier: str = "paper"
    status: str = "planned"  # planned | finished | skipped (finished before) | not run: ... | failed: ...
    seconds: float = 0.0
    claims: dict = field(default_factory=dict)  # verdict -> count, for the progress log

    @property
    def sets(self) -> dict[str, str]:
        """The variant's settings as ``--set`` strings (tuples as JSON lists)."""
        return {k: json.dumps(list(v)) if isinstance(v, tuple | list) else str(v) for k, v in self.overrides.items()}


def plan(names=None, seeds: int | None = None, base_seed: int = 0, extended: bool = False) -> list[Planned]:
    """The runs of the paper tier (and the extended one) for ``names`` (every experiment if empty), ordered by cost,
    then name; seed-dependent experiments over ``seeds`` seeds (default ``MIN_SEEDS``)."""
    names = list(names or EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise InvalidInputError(
            f"unknown experiment {unknown[0]!r}; see `bidir list`: {', '.join(sorted(EXPERIMENTS))}"
        )
    seeds = MIN_SEEDS if seeds is None else seeds
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise InvalidInputError(f"--seeds must be an integer in 1..{MAX_SEEDS}, got {seeds!r}")
    runs = []
    for name in dict.fromkeys(names):
        exp = EXPERIMENTS[name]
        for label, spec in exp.plan.items():
            if spec.tier == "extended" and not extended:
                continue
            for k in range(seeds if exp.seeded else 1):
                folder = name + (f"-{label}" if label else "") + (f"-seed{base_seed + k}" if k else "")
                runs.append(
                    Planned(name, label, dict(spec.overrides), base_seed + k, folder, exp.hours_of(label), spec.tier)
                )
    if not runs:
        raise InvalidInputError(f"{', '.join(dict.fromkeys(names))}: no run in the paper tier; --extended adds ours")
    return sorted(runs, key=lambda r: (r.hours, r.experiment, r.variant, r.seed))
