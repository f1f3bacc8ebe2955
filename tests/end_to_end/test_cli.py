"""The command line: list, run (run folder, determinism, clean errors), demo."""

import json

import pytest
from click.testing import CliRunner

from bidir.cli import main
from bidir.experiments import EXPERIMENTS

NAMES = [
    "abam",
    "bam-capacity",
    "bam-letters",
    "bam-permutation",
    "bbp-cifar",
    "bbp-conv",
    "bbp-cost",
    "bbp-overwrite",
    "bbp-permutation",
    "bbp-regression",
    "bsp-mnist",
    "bsp-neuron",
    "note-engine",
    "rules",
    "style-detection",
    "style-emnist",
    "style-fashion",
    "style-mnist",
]


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_list_names_every_experiment():
    out = invoke("list")
    assert out.exit_code == 0
    for name in NAMES:
        assert name in out.output
    assert set(NAMES) <= set(EXPERIMENTS)


def test_run_writes_the_run_folder_and_reproduces_the_paper(tmp_path):
    out = invoke("run", "bam-permutation", "--quick", "--out", str(tmp_path / "a"), "--no-progress")
    assert out.exit_code == 0, out.output
    folder = tmp_path / "a"
    results = json.loads((folder / "results.json").read_text())
    assert results["seed"] == 0 and results["quick"] is True and results["versions"]["torch"]
    m = results["metrics"]
    assert m["eq18_matches_paper"] and m["recall_sums_match_paper"] and m["eq18_stores_exactly_the_encoded_pairs"]
    assert (folder / "fig1a_permutation.png").stat().st_size > 10_000
    assert "eq (18) M matches the paper: True" in (folder / "summary.txt").read_text()
    assert str(folder) in out.output


@pytest.mark.parametrize("name", ["bam-letters", "abam"])
@pytest.mark.slow
def test_same_seed_gives_identical_results(tmp_path, name):
    for sub in ("a", "b"):
        assert (
            invoke("run", name, "--quick", "--seed", "3", "--out", str(tmp_path / sub), "--no-progress").exit_code == 0
        )
    a, b = ((tmp_path / s / "results.json").read_text() for s in "ab")
    assert a == b
    other = invoke("run", name, "--quick", "--seed", "4", "--out", str(tmp_path / "c"), "--no-progress")
    assert other.exit_code == 0
    if name == "bam-letters":
        assert (tmp_path / "c" / "results.json").read_text() != a


def test_set_overrides_a_setting(tmp_path):
    out = invoke(
        "run",
        "bam-letters",
        "--quick",
        "--set",
        "noise_levels=[0.1]",
        "--set",
        "trials=7",
        "--out",
        str(tmp_path),
        "--no-progress",
    )
    assert out.exit_code == 0, out.output
    cfg = json.loads((tmp_path / "results.json").read_text())["config"]
    assert cfg["trials"] == 7 and cfg["noise_levels"] == [0.1]


def test_dataset_option_picks_the_dataset(tmp_path):
    out = invoke(
        "run",
        "bbp-cifar",
        "--quick",
        "--dataset",
        "mnist-subset",
        "--set",
        "epochs=1",
        "--set",
        "hidden=[32]",
        "--out",
        str(tmp_path),
        "--no-progress",
    )
    assert out.exit_code == 0, out.output
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["config"]["dataset"] == "mnist-subset" and res["config"]["hidden"] == [32]
    assert (tmp_path / "bidirectional" / "metrics.csv").is_file() and (
        tmp_path / "unidirectional" / "checkpoint.pt"
    ).is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "no-such-experiment"], "unknown experiment"),
        (["run", "bam-letters", "--set", "bogus=1"], "has no setting 'bogus'"),
        (["run", "bam-letters", "--set", "trials=many"], "--set trials=many: must be an integer"),
        (["run", "bam-letters", "--set", "trials"], "expected KEY=VALUE"),
        (["run", "bam-letters", "--seed", "-1"], "seed"),
        (["run", "bam-letters", "--device", "tpu"], "device"),
        (["fetch", "mnist", "--data-dir", "/nonexistent/bidir"], "--data-dir /nonexistent/bidir: no such folder"),
        (["run", "bbp-cifar", "--quick", "--dataset", "imagenet"], "--set dataset=imagenet: must be 'cifar10'"),
        (["run", "bam-letters", "--dataset", "mnist"], "has no setting 'dataset'"),
        (["run", "bbp-overwrite", "--quick", "--set", "lr=-1"], "--set lr=-1: must be greater than 0"),
        (["run", "bbp-permutation", "--quick", "--set", "engine=magic"], "--set engine=magic: must be 'autograd'"),
        (["run", "bsp-mnist", "--quick", "--set", "settings=[method3]"], "--set settings=[method3]: item [0] must be"),
        (["run", "bsp-mnist", "--quick", "--set", "dt=0.3"], "--set dt=0.3: must divide the horizon"),
        (["run", "style-mnist", "--quick", "--set", "schedule=slow"], "--set schedule=slow: must be 'fast' or"),
        (["run", "style-mnist", "--quick", "--set", 'decoders=["mirror"]'], "item [0] must be 'untied' or 'tied'"),
        (["run", "style-fashion", "--quick", "--dataset", "imagenet"], "--set dataset=imagenet: must be"),
        (["run", "style-emnist", "--set", "epochs=-2"], "--set epochs=-2: must be greater than or equal to 0"),
        (["run", "style-detection", "--quick", "--set", "eps=[0.1, 2]"], "--set eps=[0.1, 2]: item [1] must be less"),
    ],
)
def test_bad_options_give_a_clear_error_not_a_traceback(args, message, monkeypatch, tmp_path):
    monkeypatch.setattr("bidir.data.download.urllib.request.urlopen", _no_network)
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, args)
    assert out.exit_code != 0
    assert message in out.output
    assert "Traceback" not in out.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no empty run folders left


def _no_network(*args, **kwargs):
    raise OSError("network disabled in tests")


def test_fetch_reads_the_shared_data(shared_data):
    out = invoke("fetch", "mnist", "--data-dir", str(shared_data))
    assert out.exit_code == 0 and "mnist train: 60000 images" in out.output


@pytest.mark.timeout(1200)  # the one long test: every experiment, quick; 2-8 min on a 2-core machine, more when shared
@pytest.mark.slow
def test_demo_is_reproduce_quick_over_every_run_of_every_experiment(demo_run):
    """`bidir demo` is `bidir reproduce --quick --extended --seeds 1`: every run of both tiers, quick, on shipped data,
    each writing its results and figures; a run whose data is not shipped (EMNIST letters, Fashion-MNIST) is not
    started, and the log and the report say why."""
    from bidir.reproduce import plan

    tmp_path, out = demo_run
    assert out.exit_code == 0, out.output
    runs = plan(seeds=1, extended=True)
    assert {r.experiment for r in runs} == set(NAMES)
    assert f"reproduce: {len(runs)} runs in " in out.output
    log = {e["folder"]: e for e in json.loads((tmp_path / "reproduce.json").read_text())["runs"]}
    assert set(log) == {r.folder for r in runs} and all(e["quick"] for e in log.values())
    for run in runs:
        folder = tmp_path / run.folder
        if run.experiment in ("style-emnist", "style-fashion") or run.overrides.get("dataset") == "fashion-mnist":
            assert log[run.folder]["status"].startswith("not run: the ") and not folder.exists()
            continue
        results = json.loads((folder / "results.json").read_text())
        assert results["experiment"] == run.experiment and results["quick"] is True
        assert log[run.folder]["status"].startswith("finished")
        assert list(folder.glob("*.png")), run.folder
        summary = (folder / "summary.txt").read_text()
        assert "quick settings: a smoke test of the pipeline, not the paper's" in summary
    assert "paper 50%" not in (tmp_path / "bsp-mnist" / "summary.txt").read_text()  # no quick number beside a paper's
    assert f"report: {tmp_path / 'REPORT.html'}, {tmp_path / 'REPORT.md'}" in out.output
