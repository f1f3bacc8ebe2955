"""Render a collected report: one self-contained HTML file (figures embedded), a Markdown file, the README's table.

The pages come from Jinja2 templates in ``bidir/report/templates``; this module only prepares
what they show (numbers formatted, figures as data URIs or relative links, each run's details).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import os
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .. import __version__
from ..errors import InvalidInputError
from ..experiments import EXPERIMENTS
from ..experiments.claims import describe
from ..io import write_text_atomic
from ..run_folder import check_out
from .collect import ORDER, Report, collect, fmt

__all__ = ["FORMATS", "render", "render_readme_table", "write_report"]

FORMATS = {"html": "REPORT.html", "md": "REPORT.md"}
RULE = (
    "Exact and structural claims are judged in every run, exactly, within the tolerance printed beside the paper's "
    "value. A claim that depends on training depends on the seed: it is judged over at least 3 independent seeds "
    "(one run per seed) at the paper's settings, from the 95% Student-t interval of the mean: reproduced when the "
    "whole interval lies within the paper's value +- its tolerance (or on the paper's side of a bound), beaten or "
    "short when it lies wholly beyond, contradicted when it lies wholly on the other side of a bound, and "
    "inconclusive when it crosses a line or fewer than 3 seeds ran. Paired claims (two methods from the same "
    "initial weights) are judged on the per-seed differences, and their paired t-test is printed. Runs at other "
    "settings than the paper's (or, where the paper is silent, than the experiment's defaults) are shown as ours, "
    "with the difference, and give no verdict."
)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bidir.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = fmt
    env.filters["paper"] = paper_value
    env.filters["describe"] = describe
    env.filters["short"] = lambda text, width=140: text if len(text) <= width else text[: width - 1].rstrip() + "…"
    env.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    env.filters["clock"] = lambda seconds: str(_dt.timedelta(seconds=round(seconds)))
    return env


def paper_value(claim, width: int = 160) -> str:
    """The paper's value with the comparison it is judged by: "<= 8", ">= 0", "0.9848 +- 0.005", a matrix."""
    value = fmt(claim.paper_value, width)
    tolerance = f" ± {fmt(claim.tolerance)}" if claim.tolerance and claim.compare in ("equal", "target") else ""
    return {"at_most": f"≤ {value}", "at_least": f"≥ {value}"}.get(claim.compare, value + tolerance)


def _figure_source(path: Path, fmt_: str, base: Path) -> str:
    if fmt_ == "html":
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return Path(os.path.relpath(path, base)).as_posix()


def _run_view(run, fmt_: str, base: Path) -> dict:
    exp = EXPERIMENTS.get(run.experiment)
    captions = exp.figures if exp else {}
    last = run.last
    git = last.get("git") or {}
    return {
        "name": run.name,
        "quick": run.quick,
        "seed": run.results.get("seed"),
        "changed": {k: v for k, v in run.changed.items() if k not in run.differences},  # the rest, said once
        "config": json.dumps(run.results.get("config", {}), indent=1),
        "versions": run.results.get("versions", {}),
        "differences": run.differences,
        # no paper sets it: no setting declared as the paper's and no claim the papers make or get wrong
        "own": exp is not None and not exp.paper and all(c.origin in ("extension", "ours") for c in exp.claims),
        "device": last.get("device", run.results.get("device", "")),
        "threads": last.get("threads"),
        "commit": (git.get("commit") or "")[:12] + (" (uncommitted changes)" if git.get("dirty") else ""),
        "seconds": run.seconds,
        "invocations": len(run.manifest.get("invocations", [])),
        "figures": [
            {"name": f.stem, "caption": captions.get(f.stem, "ours"), "src": _figure_source(f, fmt_, base)}
            for f in run.figures
        ],
    }


def _environment_of(report: Report) -> dict:
    """The versions most runs share: the report prints them once and, per run, only what differs."""
    seen = [json.dumps(r.results.get("versions", {}), sort_keys=True) for r in report.runs]
    return json.loads(max(set(seen), key=seen.count)) if seen else {}


def _context(report: Report, fmt_: str, base: Path) -> dict:
    papers = report.papers()
    environment = _environment_of(report)
    beyond = report.beyond()
    sections = []
    for paper in papers:
        sections.append({**paper, "runs": {n: _runs(report, n, fmt_, base) for n in paper["experiments"]}})
    return {
        "version": __version__,
        "root": report.root.name,
        "quick": report.quick,
        "counts": report.counts,
        "total": sum(r.claim.origin == "paper" for r in report.rows),
        "origins": report.origins(),
        "rule": RULE,
        "order": ORDER,
        "papers": sections,
        "beyond": {n: _runs(report, n, fmt_, base) for n in beyond},
        "environment": environment,
        "descriptions": {n: e.description for n, e in EXPERIMENTS.items()},
        "not_run": report.not_run,
        "problems": report.problems,
        "runs": len(report.runs),
        "seconds": sum(r.seconds for r in report.runs),
        "tier": report.paper_tier(),
        "comparisons": {n: report.comparison(n) for n in EXPERIMENTS},
    }


def _runs(report: Report, experiment: str, fmt_: str, base: Path) -> list:
    return [_run_view(r, fmt_, base) for r in report.runs_of(experiment)]


def render(report: Report, fmt_: str = "html", base: Path | None = None) -> str:
    """The report as HTML (figures embedded) or Markdown (figures linked relative to ``base``, the file's folder)."""
    if fmt_ not in FORMATS:
        raise InvalidInputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt_!r}")
    template = _environment().get_template(f"report.{fmt_}.j2")
    return template.render(**_context(report, fmt_, base or report.root))


def render_readme_table(report: Report) -> str:
    """The README's compact results: per paper, how many claims got each verdict; then the claims where we differ."""
    notable = [r for r in report.rows if r.verdict in ("beaten", "short", "contradicted")]
    template = _environment().get_template("readme.md.j2")
    return template.render(papers=report.papers(), counts=report.counts, order=ORDER, notable=notable)


def write_report(root, formats=("html",), out: Path | None = None) -> list[Path]:
    """Collect ``root`` and write ``REPORT.html`` / ``REPORT.md`` there (or ``out`` for one format); the paths."""
    formats = tuple(formats)
    if out is not None:
        out = Path(out)
        if len(formats) != 1:
            raise InvalidInputError("--out names one file: give one --format with it")
        if out.is_dir():
            raise InvalidInputError(f"--out {out} is a folder; name the file to write")
        if not out.parent.is_dir():
            raise InvalidInputError(f"--out {out}: there is no folder {out.parent}")
        check_out(out.parent, "--out", out)
    report = collect(root)
    written = []
    for f in formats:
        path = Path(out) if out is not None else report.root / FORMATS.get(f, f)
        text = render(report, f, path.parent)
        write_text_atomic(path, text)
        written.append(path)
    return written
