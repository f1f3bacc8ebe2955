"""The experiment registry: every paper figure or table is a registered ``run(config, ctx) -> metrics``.

An experiment module declares a config dataclass whose defaults are the paper's settings,
the overrides of its ``--quick`` version, and a ``run`` function; the runner builds the
config, the run folder and the context (``ctx``: seed, device, progress, log, figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Experiment", "EXPERIMENTS", "experiment"]


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
    seeded: bool = False  # its claims depend on the seed: `bidir reproduce --seeds N` repeats it over N seeds
    variants: dict = field(default_factory=dict)  # other settings its claims need: {label: {setting: value}}
    variant_hours: dict = field(default_factory=dict)  # {label: hours} where a variant costs other than ``hours``
    figures: dict = field(default_factory=dict)  # figure file stem -> the paper's figure it reproduces
    # the settings the paper used, {setting: (value, where the paper says so)}; a setting not named here is one the
    # paper leaves open (our choice, or one that only changes speed): a run is at the paper's settings when it has
    # every value named here
    paper: dict = field(default_factory=dict)
    # metrics -> {row: {column: value}}: the run's main measurements, for the report's side-by-side table of its
    # runs (None: the claims' measured values, one row per run)
    table: Callable | None = None


EXPERIMENTS: dict[str, Experiment] = {}


def experiment(name: str, description: str, config: type, quick: dict | None = None, **details):
    """Register ``run(config, ctx) -> metrics`` as experiment ``name`` (``details``: claims, hours, seeded,
    variants, figures, paper, table; see :class:`Experiment`)."""

    def register(fn):
        EXPERIMENTS[name] = Experiment(name, description, config, dict(quick or {}), fn, **details)
        return fn

    return register
