"""Read a folder of run folders into the report's rows: each paper claim with its verdict over the runs that test it.

A run folder is any folder below the report's root holding ``manifest.json`` and ``results.json``
(folders moved aside by ``--restart`` and staging folders are left out). Each registered claim is
taken from the runs of its experiment that judged it comparably (results.json's ``claims``; a run
written before a claim existed is judged now from its stored metrics). Over several runs (seeds)
a numeric measure is given as mean +- std and judged at its mean; a paired measure (a difference
of two methods on the same initial weights) also gets a one-sample t-test of the per-seed
differences against 0, which is the paired t-test. A claim with no run is ``not run``, with the
reason from ``reproduce.json`` or the experiment's cost on the 2-core machine.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import InvalidInputError
from ..experiments import EXPERIMENTS, UNTESTABLE
from ..experiments.claims import MIN_SEEDS, ORIGINS, PAPERS, VERDICTS, Claim, conclude, judge
from ..experiments.plan import plan
from ..io import jsonable
from ..run_folder import ATTEMPTS
from ..runner import changed_settings, paper_differences
from ..stats import interval, mean_std, one_sample_p

__all__ = ["Run", "ClaimRow", "Report", "collect", "fmt", "ORDER"]

ORDER = ("reproduced", "beaten", "short", "contradicted", "inconclusive", "not comparable", "not run")


@dataclass
class Run:
    """One finished run folder: what it is (manifest.json) and what it found (results.json)."""

    folder: Path
    name: str  # the folder, relative to the report's root
    results: dict
    manifest: dict

    @property
    def experiment(self) -> str:
        """The registered experiment's name."""
        return self.results["experiment"]

    @property
    def quick(self) -> bool:
        """Whether this was a ``--quick`` run."""
        return bool(self.results.get("quick"))

    @property
    def changed(self) -> dict:
        """Its settings that differ from the paper's defaults."""
        exp = EXPERIMENTS.get(self.experiment)
        return changed_settings(exp, self.results["config"], self.quick) if exp else {}

    @property
    def seconds(self) -> float:
        """Wall time over every invocation that finished in the folder."""
        return sum(i.get("seconds", 0.0) for i in self.manifest.get("invocations", []))

    @property
    def code(self) -> str:
        """The code its last invocation ran: the commit, "+ changes" for uncommitted ones (runs of one verdict
        must share it)."""
        git = self.last.get("git") or {}
        commit = (git.get("commit") or "unknown")[:12]
        return commit + (" + changes" if git.get("dirty") else "")

    @property
    def last(self) -> dict:
        """The last finished invocation (version, commit, device, threads)."""
        invocations = self.manifest.get("invocations") or [{}]
        return invocations[-1]

    @property
    def figures(self) -> list[Path]:
        """The run's figures that are in its folder as PNG images (a missing or damaged one is a listed problem)."""
        return [self.folder / f for f in self.results.get("figures", []) if _is_png(self.folder / f)]

    @cached_property
    def differences(self) -> dict:
        """Its settings that differ from the paper tier's: {setting: (ours, the reference, whose)}."""
        exp = EXPERIMENTS.get(self.experiment)
        return paper_differences(exp, self.results["config"]) if exp else {}

    @property
    def at_paper_settings(self) -> bool:
        """A full run (not quick) with every setting the paper's."""
        return not self.quick and not self.differences

    def claim(self, claim: Claim) -> dict:
        """The run's row for ``claim``, judged now from its stored metrics by today's claim (its quote, measure and
        rule); a run whose results.json predates the claim says so."""
        row = judge(claim, self.results["metrics"], self.quick, self.differences, self.results["config"])
        if not any(r.get("id") == claim.id for r in self.results.get("claims", [])):
            row["why"] = (row["why"] + "; " if row["why"] else "") + OLDER
        return row


@dataclass
class ClaimRow:
    """A claim as the report shows it: the paper's value beside ours over the runs that test it."""

    claim: Claim
    experiment: str
    verdict: str
    measured: str
    why: str = ""
    runs: list = field(default_factory=list)  # the run folders behind the verdict (at the paper's settings)
    p_value: float | None = None
    ours: list = field(default_factory=list)  # runs at other settings: {"settings", "measured", "verdict", "runs"}


@dataclass
class Report:
    """Every run below a folder and every registered claim's row."""

    root: Path
    runs: list
    rows: list
    not_run: dict  # experiment -> why it has no run here ("about 10 h on 2 cores", "the ... files are not ...")
    problems: list = field(default_factory=list)  # {"folder", "problem", "left_out"}: unfinished or damaged runs

    @property
    def counts(self) -> dict:
        """How many of the papers' own claims (origin "paper") got each verdict (``not run`` included)."""
        return {v: sum(r.verdict == v for r in self.rows if r.claim.origin == "paper") for v in ORDER}

    def origins(self) -> list[dict]:
        """Per origin of claim (paper, erratum, extension, ours): what it means, and its verdicts' counts."""
        out = []
        for origin, meaning in ORIGINS.items():
            rows = [r for r in self.rows if r.claim.origin == origin]
            counts = {v: sum(r.verdict == v for r in rows) for v in ORDER}
            out.append({"origin": origin, "meaning": meaning, "total": len(rows), "counts": counts})
        return out

    @property
    def quick(self) -> bool:
        """Whether every run is a quick one (a smoke test, not the papers' settings)."""
        return bool(self.runs) and all(r.quick for r in self.runs)

    def papers(self) -> list[dict]:
        """Per paper: its title, its claims' rows and counts, and the experiments that test it."""
        out = []
        for key, title in PAPERS.items():
            rows = [r for r in self.rows if r.claim.paper == key]
            names = list(dict.fromkeys(r.experiment for r in rows))
            counts = {v: sum(r.verdict == v for r in rows if r.claim.origin == "paper") for v in ORDER}
            untestable = [u for u in UNTESTABLE if u.paper == key]
            out.append(
                {
                    "key": key,
                    "title": title,
                    "rows": rows,
                    "counts": counts,
                    "experiments": names,
                    "untestable": untestable,
                }
            )
        return out

    def beyond(self) -> list[str]:
        """Experiments that test no paper claim (ours), in registry order."""
        return [n for n, e in sorted(EXPERIMENTS.items()) if not e.claims]

    def paper_tier(self) -> dict:
        """How much of `bidir reproduce`'s paper tier this folder holds: the planned runs found here (full runs at
        the paper's settings in folders of the plan's names), the wall time they took between them, and the planned
        runs still missing with their estimated hours on the 2-core machine."""
        here = {r.name: r for r in self.runs if r.at_paper_settings}
        planned = plan()
        done = [p for p in planned if p.folder in here]
        missing = [p for p in planned if p.folder not in here]
        return {
            "planned": len(planned),
            "done": len(done),
            "seconds": sum(here[p.folder].seconds for p in done),
            "missing": [p.folder for p in missing],
            "missing_hours": sum(p.hours for p in missing),
        }

    def runs_of(self, experiment: str) -> list:
        """The runs of one experiment, by folder name."""
        return [r for r in self.runs if r.experiment == experiment]

    def comparison(self, experiment: str) -> dict | None:
        """An experiment's full runs side by side, where their settings differ (a search, or several datasets).

        ``common``: the settings every run changed alike from the paper's defaults; ``varied``: the settings that
        differ between the runs, less those every claim ignores (which methods or datasets a run trained: its
        rows and columns show them); ``columns`` and ``rows``: per run and row of the experiment's ``table`` (a
        dataset, say), grouped by row, its varied settings and its measurements: the experiment's ``table`` of its
        metrics, or else each claim's measured value (None where the run did not measure it); ``note``: what a cell of
        the experiment's table holds. None where fewer than two full runs differ in their settings.
        """
        exp = EXPERIMENTS[experiment]
        runs = [r for r in self.runs_of(experiment) if not r.quick]
        configs = [jsonable(r.results["config"]) for r in runs]
        keys = sorted({k for c in configs for k in c})
        varied = [k for k in keys if len({json.dumps(c.get(k), sort_keys=True) for c in configs}) > 1]
        if len(runs) < (1 if exp.table is not None else 2) or (len(runs) > 1 and not varied):
            return None  # a table of its own is shown for one run; runs that differ only in their seed are not
        shown = [k for k in varied if not (exp.claims and all(k in c.ignores for c in exp.claims))]
        tables = [_table(exp, r) for r in runs]
        for ref in exp.references:
            cells = self.reference(ref)
            for config, t in zip(configs, tables, strict=True):
                if all(config.get(k) == v for k, v in ref.when.items()):
                    for label, text in cells.items():
                        t.setdefault(label, {})[ref.column] = text
        columns = list(dict.fromkeys(col for t in tables for cells in t.values() for col in cells))
        columns = [c for c in columns if any(cells.get(c) is not None for t in tables for cells in t.values())]
        rows = [
            {
                "run": r.name,
                "label": label,
                "settings": {k: c.get(k) for k in shown},
                "values": list(map(cells.get, columns)),
            }
            for r, c, t in zip(runs, configs, tables, strict=True)
            for label, cells in t.items()
        ]
        rows.sort(key=lambda row: row["label"])  # stable: by run name within a row label
        common = {k: v for k, v in runs[0].changed.items() if k not in varied}
        return {"common": common, "varied": shown, "columns": columns, "rows": rows, "note": exp.table_note}

    def reference(self, ref) -> dict:
        """A :class:`~bidir.experiments.registry.Reference` column's cells, {row: "mean ± std% over n seeds (its
        protocol)"}, from the full runs of its experiment at that experiment's paper settings."""
        values: dict = {}
        for run in self.runs_of(ref.experiment):
            if run.at_paper_settings:
                for row, value in ref.measure(run.results["metrics"]).items():
                    values.setdefault(row, []).append(value)
        cells = {}
        for row, vs in values.items():
            mean, std = mean_std(vs)
            spread = f" ± {100 * std:.2f}" if len(vs) > 1 else ""  # one seed has no spread
            seeds = f"{len(vs)} seed" + "s" * (len(vs) != 1)
            cells[row] = f"{100 * mean:.2f}{spread}% over {seeds} ({ref.protocol})"
        return cells


def _table(exp, run: Run) -> dict:
    """One run's rows for :meth:`Report.comparison`: the experiment's table of its metrics, or its claims' values."""
    if exp.table is not None:
        return exp.table(run.results["metrics"])
    return {"": {c.id: run.claim(c)["measured"] for c in exp.claims}}


def collect(root) -> Report:
    """Read every run folder below ``root`` and judge every registered claim over them."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidInputError(f"report: {root} is not a folder")
    runs, problems = [], []
    for manifest in sorted(root.rglob("manifest.json")):
        if not _is_run_folder(manifest.parent, root):
            continue
        run, found = _read(manifest.parent, root)
        problems += [{"folder": _name(manifest.parent, root), "problem": p, "left_out": run is None} for p in found]
        if run is not None:
            runs.append(run)
    if not runs:
        why = "; ".join(f"{p['folder']}: {p['problem']}" for p in problems[:3])
        left = f"; {len(problems)} left out: {why}" if problems else ""
        raise InvalidInputError(
            f"report: no run folder with its results (manifest.json + results.json) under {root}{left}"
        )
    not_run = _not_run(root, runs)
    rows = [
        _row(claim, name, [r for r in runs if r.experiment == name], not_run.get(name, ""))
        for name, exp in sorted(EXPERIMENTS.items(), key=lambda item: item[0])
        for claim in exp.claims
    ]
    return Report(root, runs, rows, not_run, problems)


def _is_run_folder(folder: Path, root: Path) -> bool:
    """A run folder to report on: not one moved aside by ``--restart``, not a staging or hidden folder."""
    parts = folder.relative_to(root).parts
    return not any(".replaced-" in p or p.startswith(".") for p in parts)


def _name(folder: Path, root: Path) -> str:
    return folder.relative_to(root).as_posix() or "."


PNG = b"\x89PNG\r\n\x1a\n"


def _read(folder: Path, root: Path) -> tuple[Run | None, list[str]]:
    """The run in ``folder`` (None: unfinished or damaged, so left out of the verdicts) and what is wrong with it."""
    if not (folder / "results.json").is_file():
        return None, [f"unfinished: {_last_attempt(folder)}, no results.json"]
    try:
        results = json.loads((folder / "results.json").read_text())
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        return None, [f"an unreadable results.json or manifest.json ({str(exc)[:100]})"]
    if not isinstance(results, dict) or not {"experiment", "config", "metrics"} <= set(results):  # claims came later
        return None, [f"results.json is not a run's results (a {type(results).__name__} without its fields)"]
    identity = ("experiment", "seed", "config")
    if not isinstance(manifest, dict) or not all(k in manifest for k in identity):
        return None, ["manifest.json lacks the run's identity (experiment, seed, config): an edited record"]
    if manifest["experiment"] != results["experiment"] or manifest["seed"] != results.get("seed"):
        return None, ["manifest.json and results.json describe different runs: an edited record"]
    if results["experiment"] not in EXPERIMENTS:
        return None, [f"unknown experiment {results['experiment']!r}: no claims to judge it by"]
    claims = results.get("claims", [])
    bad = [
        c.get("id") if isinstance(c, dict) else c
        for c in claims
        if not isinstance(c, dict) or c.get("verdict") not in VERDICTS
    ]
    if bad:
        return None, [f"results.json holds verdicts bidir never writes (claims {bad[:3]}): an edited record"]
    if _non_finite(results["metrics"]):
        return None, ["results.json holds NaN or infinite values: an edited record (bidir refuses to write them)"]
    problems = []
    for name in results.get("figures", []):
        if not (folder / name).is_file():
            problems.append(f"figure {name} is missing")
        elif not _is_png(folder / name):
            problems.append(f"figure {name} is not a PNG image (empty or damaged)")
    return Run(folder, _name(folder, root), results, manifest), problems


def _is_png(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size <= len(PNG):
        return False
    with path.open("rb") as f:
        return f.read(len(PNG)) == PNG


def _last_attempt(folder: Path) -> str:
    """How the last attempt in an unfinished run folder ended, from its record of attempts."""
    try:
        attempts = json.loads((folder / ATTEMPTS).read_text())
        outcome = attempts[-1]["outcome"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return "no record of how it ended"
    return "killed or still running" if outcome == "running" else outcome


def _non_finite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return value in ("nan", "inf", "-inf")  # how jsonable writes them
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return False


def _not_run(root: Path, runs: list) -> dict:
    """Why each experiment without a run here has none: reproduce.json's word, else its cost on 2 cores."""
    ran = {r.experiment for r in runs}
    log = root / "reproduce.json"
    said = {}
    if log.is_file():
        for entry in json.loads(log.read_text()).get("runs", []):
            if entry["status"].startswith(("not run", "failed")):
                said.setdefault(entry["experiment"], entry["status"])
    reasons = {name: said.get(name) or f"{_hours(exp.hours)} on 2 cores" for name, exp in EXPERIMENTS.items()}
    return {name: why.removeprefix("not run: ") for name, why in reasons.items() if name not in ran}


def _is_variant(run: Run, experiment: str, label: str) -> bool:
    """Whether the run has the settings of the experiment's variant ``label``."""
    wanted = jsonable(EXPERIMENTS[experiment].variants[label])
    return all(run.results["config"].get(k) == v for k, v in wanted.items())


def _hours(hours: float) -> str:
    return f"about {hours:g} h" if hours >= 1 else f"about {max(1, round(hours * 60))} min"


def _numeric(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _row(claim: Claim, experiment: str, runs: list, not_run: str) -> ClaimRow:
    judged = [(run, run.claim(claim)) for run in runs]
    comparable = [(run, row) for run, row in judged if row["verdict"] != "not comparable"]
    if not comparable:
        return _not_comparable(claim, experiment, runs, judged, not_run)
    if not claim.trained:
        return _exact(claim, experiment, comparable)
    groups = {}
    for run, row in comparable:  # the seeds of one verdict share their settings and their code
        groups.setdefault((row["settings"], run.code), []).append((run, row))
    groups = {key: _one_per_seed(claim, experiment, group) for key, group in groups.items()}
    ours = [_over_seeds(claim, g) | {"settings": s} for (s, _), g in _largest_first(groups) if s != PAPERS_OWN]
    paper = [(code, g) for (s, code), g in _largest_first(groups) if s == PAPERS_OWN]
    if not paper:
        return ClaimRow(
            claim, experiment, "not run", "", _paper_run(experiment) + ("; ours beside it" if ours else ""), ours=ours
        )
    (code, group), others = paper[0], paper[1:]
    f = _over_seeds(claim, group)
    if others:
        left = sum(len(g) for _, g in others)
        f["why"] += f"; {left} run{'s' if left != 1 else ''} of other code left out (one commit per verdict: {code})"
    return ClaimRow(claim, experiment, f["verdict"], f["measured"], f["why"], f["runs"], f["p"], ours)


def _paper_run(experiment: str) -> str:
    """Why a claim has no verdict although its experiment ran: which paper-tier runs would give one, and their cost."""
    exp = EXPERIMENTS[experiment]
    runs = [
        (f"{experiment}-{label}" if label else experiment) + f" ({_hours(exp.hours_of(label))})"
        for label, spec in exp.plan.items()
        if spec.tier == "paper"
    ]
    seeds = f", each over {MIN_SEEDS} seeds" if exp.seeded else ""
    return f"no run at the paper's settings: the paper tier runs {', '.join(runs)} on 2 cores{seeds}"


def _largest_first(groups: dict) -> list:
    """Groups of runs, the one with most seeds first (then by the latest folder name, for a stable order)."""
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


PAPERS_OWN = "the paper's"  # a judged row's settings at the paper's settings


def _not_comparable(claim: Claim, experiment: str, runs: list, judged: list, not_run: str) -> ClaimRow:
    if not judged:
        return ClaimRow(claim, experiment, "not run", "", not_run)
    if claim.variant and not any(_is_variant(run, experiment, claim.variant) for run in runs):
        hours = EXPERIMENTS[experiment].hours_of(claim.variant)
        why = f"its {claim.variant} run ({experiment}-{claim.variant}) is not here: {_hours(hours)} on 2 cores"
        return ClaimRow(claim, experiment, "not run", "", why)
    measured = [(run, row) for run, row in judged if row["measured"] is not None] or judged
    shown = "; ".join(dict.fromkeys(fmt(row["measured"]) for _, row in measured))
    whys = "; ".join(dict.fromkeys(row["why"] for _, row in measured))
    return ClaimRow(claim, experiment, "not comparable", shown, whys)


def _exact(claim: Claim, experiment: str, comparable: list) -> ClaimRow:
    """A deterministic claim: judged exactly in every run; the runs agree, or the disagreement is the verdict."""
    names = [run.name for run, _ in comparable]
    values = {json.dumps(row["measured"], sort_keys=True): row for _, row in comparable}
    verdicts = {row["verdict"] for _, row in comparable}
    if len(values) == 1:
        shown = fmt(comparable[0][1]["measured"]) + (f" (all {len(names)} runs)" if len(names) > 1 else "")
    else:
        shown = "; ".join(f"{fmt(row['measured'])} ({run.name})" for run, row in comparable)
    if len(verdicts) == 1:
        return ClaimRow(claim, experiment, verdicts.pop(), shown, "", names)
    agree = sum(row["verdict"] in ("reproduced", "beaten") for _, row in comparable)
    return ClaimRow(claim, experiment, "inconclusive", shown, f"reproduced in {agree} of {len(names)} runs", names)


def _one_per_seed(claim: Claim, experiment: str, comparable: list) -> list:
    """One run per seed (the claim's own variant first, then by folder name): runs of one seed are not independent
    evidence."""

    def rank(item):
        run = item[0]
        own = _is_variant(run, experiment, claim.variant) if claim.variant else not _any_variant(run, experiment)
        return (not own, run.name)

    kept, seen = [], set()
    for run, row in sorted(comparable, key=rank):
        key = run.results.get("seed")
        if key not in seen:
            seen.add(key)
            kept.append((run, row))
    return sorted(kept, key=lambda item: item[0].name)


def _any_variant(run: Run, experiment: str) -> bool:
    return any(_is_variant(run, experiment, label) for label in EXPERIMENTS[experiment].variants)


def _over_seeds(claim: Claim, group: list) -> dict:
    """The verdict of a trained claim over a group of runs at the same settings, one per seed (a per-seed measure
    gives each run's seeds): verdict, why, the shown value with its interval, the runs, the paired test."""
    values = [v for _, row in group for v in (row["measured"] if claim.per_seed else [row["measured"]])]
    verdict, why = conclude(claim, values)
    names = [run.name for run, _ in group]
    numeric = all(_numeric(v) for v in values)
    if numeric and len(values) > 1:
        mean, std = mean_std(values)
        lo, hi = interval(values)
        shown = f"{fmt(mean)} ± {fmt(std)} (n = {len(values)}; 95% interval [{fmt(lo)}, {fmt(hi)}])"
    elif len(values) == 1:
        shown = fmt(values[0]) + " (n = 1)"
    elif all(isinstance(v, dict) for v in values) and len({tuple(v) for v in values}) == 1:  # per key, seed by seed
        shown = "; ".join(f"{k}: {', '.join(fmt(v[k]) for v in values)}" for k in values[0])
        shown += f" (n = {len(values)}, seed by seed)"
    else:
        shown = "; ".join(fmt(v) for v in values) + f" (n = {len(values)})"
    p = one_sample_p(values) if claim.paired and numeric and len(values) > 1 else None
    older = [run.name for run, row in group if row["why"].endswith(OLDER)]
    if older:
        why += f"; {', '.join(older)} {OLDER}"
    return {"verdict": verdict, "why": why, "measured": shown, "runs": names, "p": p}


OLDER = "judged from the stored metrics of an older run"


def fmt(value, width: int = 160) -> str:
    """A measured or paper value in a few characters: numbers to 4 significant digits, lists and dicts inline."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        text = "[" + ", ".join(fmt(v, width) for v in value) + "]"
    elif isinstance(value, dict):
        text = "; ".join(f"{k}: {fmt(v, width)}" for k, v in value.items())
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
