"""The experiment registry: every paper figure or table is a registered ``run(config, ctx) -> metrics``.

An experiment module declares a config dataclass whose defaults are the paper's settings,
the overrides of its ``--quick`` version, and a ``run`` function; the runner builds the
config, the run folder and the context (``ctx``: seed, device, progress, log, figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Experiment", "EXPERIMENTS", "Reference", "RunSpec", "TIERS", "experiment"]

TIERS = {
    "paper": "the runs the papers' claims need, at the paper's settings (`bidir reproduce`)",
    "extended": "our own and beyond-the-paper runs (`bidir reproduce --extended` adds them)",
}


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment in `bidir reproduce`'s plan: its settings beside the defaults, its tier, its cost."""

    overrides: dict = field(default_factory=dict)
    tier: str = "paper"  # a key of TIERS
    hours: float | None = None  # wall hours on the 2-core CPU machine (None: the experiment's ``hours``)

    def __post_init__(self):
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}, got {self.tier!r}")


@dataclass(frozen=True)
class Reference:
    """A method another experiment trains under its own protocol, shown as a column of this experiment's table.

    The report gives, in each row ``measure`` names, the mean and std of its value over that experiment's full runs
    (one per seed), with ``protocol`` saying how it differs from the table's. No paired test: the runs do not share
    the table's initial weights, data order or budget. ``when``: the settings of the table runs it joins.
    """

    column: str
    experiment: str
    measure: Callable  # that experiment's metrics -> {row: value}, empty where the run did not train it
    protocol: str
    when: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its name, one-line description, config class, quick overrides and run function."""

    name: str
    description: str
    config: type
    quick: dict
    run: Callable
    claims: tuple = ()  # the paper claims it tests (claims.Claim)
    hours: float = 0.0  # wall hours of the full run on the 2-core CPU machine (measured; orders `bidir reproduce`)
    seeded: bool = False  # its claims depend on the seed: reproduce runs it over 3 seeds (claims.MIN_SEEDS)
    # its runs in `bidir reproduce`, {label: RunSpec}; "" is the default run (the paper tier unless it says
    # otherwise), other labels are variants (folder NAME-LABEL)
    runs: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)  # figure file stem -> the paper's figure it reproduces
    # the settings the paper used, {setting: (value, where the paper says so)}; a setting not named here is one the
    # paper leaves open (our choice, or one that only changes speed): a run is at the paper's settings when it has
    # every value named here
    paper: dict = field(default_factory=dict)
    # metrics -> {row: {column: value}}: the run's main measurements, for the report's side-by-side table of its
    # runs (None: the claims' measured values, one row per run)
    table: Callable | None = None
    table_note: str = ""  # what a cell of that table holds, printed above it
    references: tuple = ()  # Reference columns of that table: methods another experiment trains

    @property
    def plan(self) -> dict:
        """Its runs for `bidir reproduce`, the default run first: {label: RunSpec}."""
        return {"": RunSpec(), **self.runs}

    @property
    def variants(self) -> dict:
        """The settings of each variant run (a label other than ""): {label: {setting: value}}."""
        return {label: spec.overrides for label, spec in self.plan.items() if label}

    def hours_of(self, label: str) -> float:
        """Wall hours of one of its runs on the 2-core CPU machine."""
        spec = self.plan[label]
        return self.hours if spec.hours is None else spec.hours


EXPERIMENTS: dict[str, Experiment] = {}


def experiment(name: str, description: str, config: type, run: Callable, quick: dict | None = None, **details):
    """Register ``run(config, ctx) -> metrics`` as experiment ``name`` (``details``: claims, hours, seeded,
    runs, figures, paper, table, references; see :class:`Experiment`); the last statement of its module, after the
    run and the claims it declares. Returns the :class:`Experiment`."""
    EXPERIMENTS[name] = Experiment(name, description, config, dict(quick or {}), run, **details)
    return EXPERIMENTS[name]
