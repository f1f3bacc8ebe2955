"""The ``bidir`` command line: list, run, demo, reproduce, report, fetch."""

from __future__ import annotations

from pathlib import Path

import click

from .errors import BidirError


def _experiments():
    from .experiments import EXPERIMENTS

    return EXPERIMENTS


def _parse_sets(values) -> dict:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        out[key.strip().replace("-", "_")] = value
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bidir")
def main():
    """bidir: bidirectional neural networks, every paper result one command away."""


@main.command("list")
def list_cmd():
    """List the experiments with one-line descriptions."""
    exps = _experiments()
    width = max(len(n) for n in exps)
    for name in sorted(exps):
        click.echo(f"{name:<{width}}  {exps[name].description}")


_run_options = [
    click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Seed of every random number generator.",
    ),
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder with the official dataset files (default: $BIDIR_DATA_DIR, then the cache).",
    ),
    click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True),
    click.option("--no-progress", is_flag=True, help="Hide progress bars."),
]


def _with_options(options):
    def wrap(fn):
        for opt in reversed(options):
            fn = opt(fn)
        return fn

    return wrap


@main.command()
@click.argument("name")
@click.option("--quick", is_flag=True, help="Small, fast settings (what `bidir demo` and the tests run).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run folder (default: runs/NAME-TIMESTAMP).",
)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config setting; repeatable.")
@click.option("--dataset", default=None, help="Shorthand for --set dataset=NAME (experiments with a dataset setting).")
@click.option(
    "--restart",
    is_flag=True,
    help="If --out holds another run (or this one), move it aside to OUT.replaced-TIMESTAMP and start over.",
)
@_with_options(_run_options)
def run(name, quick, out, sets, dataset, restart, seed, data_dir, device, no_progress):
    """Run experiment NAME and write results.json, figures and summary.txt."""
    from .runner import run_experiment

    sets = (*sets, f"dataset={dataset}") if dataset is not None else sets
    try:
        run_experiment(
            name,
            quick=quick,
            seed=seed,
            out=out,
            data_dir=data_dir,
            device=device,
            overrides=_parse_sets(sets),
            show_progress=not no_progress,
            restart=restart,
        )
    except BidirError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for all runs (default: runs/demo-TIMESTAMP).",
)
@_with_options(_run_options)
def demo(out, seed, data_dir, device, no_progress):
    """Run every experiment, quick, on data shipped in the package, then write the report: ``bidir reproduce
    --quick --extended --seeds 1`` into a fresh folder."""
    from .runner import check_seed, default_folder

    try:
        check_seed(seed, "--seed")
    except BidirError as exc:
        raise click.ClickException(str(exc)) from None
    _reproduce((), out or default_folder("demo"), 1, True, True, device, data_dir, no_progress, base_seed=seed)


def _reproduce(names, out, seeds, extended, quick, device, data_dir, no_progress, base_seed=0, jobs=1) -> None:
    """`bidir reproduce` (and `bidir demo`, its quick form): run the plan, fail if a run failed."""
    from .reproduce import reproduce as run_all

    try:
        runs = run_all(
            names,
            out=out,
            seeds=seeds,
            extended=extended,
            quick=quick,
            device=device,
            base_seed=base_seed,
            data_dir=data_dir,
            show_progress=not no_progress,
            echo=click.echo,
            jobs=jobs,
        )
    except BidirError as exc:
        raise click.ClickException(str(exc)) from None
    failed = [r for r in runs if r.status.startswith("failed")]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(runs)} runs failed: {', '.join(r.folder for r in failed)}")


@main.command()
@click.argument("names", nargs=-1)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reproduce"),
    show_default=True,
    help="Folder for all runs and the report; running again skips finished runs and resumes unfinished ones.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Seeds 0..N-1 for the seed-dependent experiments [default: 3, what a verdict needs; 1 for the others].",
)
@click.option("--extended", is_flag=True, help="Add the extended tier: our own and beyond-the-paper runs.")
@click.option("--plan", "show_plan", is_flag=True, help="Print the runs, their tiers and estimated hours; run nothing.")
@click.option("--quick", is_flag=True, help="Quick settings for every run (a smoke test of the whole pipeline).")
@click.option(
    "--jobs",
    type=int,
    default=1,
    show_default=True,
    help="Runs at a time, each in its own process on cores/JOBS threads (2 on 2 cores: as the published runs ran).",
)
@_with_options(_run_options[1:])  # --data-dir, --device, --no-progress (each run's seed is the plan's)
def reproduce(names, out, seeds, extended, show_plan, quick, jobs, data_dir, device, no_progress):
    """Run the paper tier of experiments NAMES (default: all): every run a paper claim needs, at the paper's
    settings, cheapest first, each in its own folder of --out; then write the report."""
    from .reproduce import print_plan

    if show_plan:
        try:
            print_plan(
                names, seeds=seeds, extended=extended, quick=quick, data_dir=data_dir, echo=click.echo, jobs=jobs
            )
        except BidirError as exc:
            raise click.ClickException(str(exc)) from None
        return
    _reproduce(names, out, seeds, extended, quick, device, data_dir, no_progress, jobs=jobs)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "formats",
    type=click.Choice(["html", "md"]),
    multiple=True,
    help="html (one self-contained file, figures embedded) and/or md; default: both.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The file to write (one --format); default: FOLDER/REPORT.html, FOLDER/REPORT.md.",
)
def report(folder, formats, out):
    """Write the report of the run folders under FOLDER: every paper claim, the paper's value beside ours."""
    from .report import write_report

    try:
        for path in write_report(folder, formats or ("html", "md"), out):
            click.echo(f"report: {path}")
    except BidirError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to look for / put the files (default: $BIDIR_DATA_DIR, then the cache).",
)
@click.option("--no-verify", is_flag=True, help="Skip checksum checks.")
def fetch(names, data_dir, no_verify):
    """Find, or download and verify, the datasets NAMES (e.g. mnist fashion-mnist cifar10)."""
    from .data.datasets import load_dataset

    try:
        for name in names:
            for split in ("train", "test"):
                ds = load_dataset(name, split, data_dir=data_dir, verify=not no_verify)
                click.echo(f"{name} {split}: {len(ds)} images {tuple(ds.images.shape[1:])}, {len(ds.classes)} classes")
    except BidirError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
