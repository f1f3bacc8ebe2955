"""Run folders you can trust: every bad setting refused in one line before any work, run identity, no mixing.

The sweep runs every experiment with every field set to values its declared type forbids
(-1, 0, NaN, text, a scalar where a list belongs, an unknown choice, ...): each must exit 1 with
one line that names the setting as typed, write nothing and leave an existing run as it was.
Then the reproductions of issue 16, each as a test.
"""

import hashlib
import json
import typing
from pathlib import Path

import annotated_types as at
import pytest
import torch
from click.testing import CliRunner

from bidir.cli import main
from bidir.experiments import EXPERIMENTS

QUICK_BBP = ["--set", "hidden=[16]", "--set", "train_size=300", "--set", "test_size=100"]


def cli(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its sha256: byte-identical folders have equal snapshots."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


# -- the sweep ---------------------------------------------------------------------------
def _constraints(annotation):
    """(base type, [annotated_types constraints]) of a settings annotation."""
    meta = []
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        annotation = args[0]
        for extra in args[1:]:
            meta += list(getattr(extra, "metadata", [extra]))
    return annotation, meta


def _bad_values(annotation) -> list[str]:
    base, meta = _constraints(annotation)
    origin = typing.get_origin(base)
    if base is bool:
        return ["maybe", "2"]
    if origin is typing.Literal:
        return ["bogus", "1"]
    if origin is tuple:
        item = typing.get_args(base)[0]
        values = ["5", '["x"]']
        if any(isinstance(m, at.MinLen) for m in meta):
            values.append("[]")
        values += [f"[{v}]" for v in _bad_values(item) if v.lstrip("-").replace(".", "").isdigit()][:1]
        return values
    if base in (int, float):
        values = ["nan", "abc", "[1]"] + (["2.5"] if base is int else [])
        for m in meta:
            if isinstance(m, at.Gt):
                values += [str(m.gt), str(m.gt - 1)]
            if isinstance(m, at.Ge):
                values.append(str(m.ge - 1))
            if isinstance(m, at.Le):
                values.append(str(m.le + 1))
            if isinstance(m, at.Lt):
                values.append(str(m.lt))
        return values
    return []  # free text: checked by the experiment's own validator, covered below


def _sweep():
    cases = []
    for name, exp in sorted(EXPERIMENTS.items()):
        hints = typing.get_type_hints(exp.config, include_extras=True)
        for key, annotation in hints.items():
            for value in dict.fromkeys(_bad_values(annotation)):
                cases.append((name, key, value))
    return cases


SWEEP = _sweep()


def test_the_sweep_covers_every_experiment_with_over_a_hundred_bad_inputs():
    assert len(SWEEP) >= 100 and {c[0] for c in SWEEP} == set(EXPERIMENTS)


@pytest.mark.parametrize("name, key, value", SWEEP)
def test_every_bad_setting_is_refused_in_one_line_naming_it(name, key, value, tmp_path):
    out = tmp_path / "run"
    result = cli("run", name, "--quick", "--no-progress", "--set", f"{key}={value}", "--out", out)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith(f"Error: --set {key}={value}: "), result.output
    assert "Traceback" not in result.output and not out.exists()


@pytest.fixture
def finished(finished_run):
    return finished_run


@pytest.mark.parametrize(
    "args",
    [
        [*("run", "bam-permutation", "--quick"), "--set", "random_trials=-1"],
        [*("run", "bam-permutation", "--quick"), "--set", "exhaustive_up_to_bits=-1"],
        [*("run", "bam-permutation", "--quick"), "--set", "pairs=[1, 2]"],
        [*("run", "bam-permutation", "--quick"), "--seed", "3"],
        [*("run", "bam-permutation"), "--set", "random_trials=3"],  # not quick: another config
        [*("run", "bam-letters", "--quick")],
        [*("run", "bbp-cifar", "--quick")],
        [*("run", "bam-permutation", "--quick"), "--device", "cuda"]
        if not torch.cuda.is_available()
        else ["list", "x"],
    ],
)
def test_a_refused_run_leaves_a_finished_run_byte_identical(finished, args):
    before = snapshot(finished)
    result = cli(*args, "--no-progress", "--out", finished)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert snapshot(finished) == before


def test_the_same_run_again_continues_it_and_appends_its_summary(finished):
    results = (finished / "results.json").read_bytes()
    assert cli("run", "bam-permutation", "--quick", "--no-progress", "--out", finished).exit_code == 0
    assert (finished / "results.json").read_bytes() == results  # the same seed, the same bytes
    summary = (finished / "summary.txt").read_text()
    headers = [line for line in summary.splitlines() if line.startswith("== 20")]
    assert len(headers) >= 2 and headers[-1].endswith("(resumed)")
    manifest = json.loads((finished / "manifest.json").read_text())
    assert manifest["experiment"] == "bam-permutation" and manifest["seed"] == 0 and manifest["quick"] is True
    assert len(manifest["invocations"]) >= 2 and manifest["invocations"][-1]["resumed"] is True
    assert {"bidir", "git", "device", "threads", "started"} <= set(manifest["invocations"][0])
    assert not (finished / ".staging").exists()


# -- the reproductions of issue 16 -----------------------------------------------------------
@pytest.fixture(scope="module")
def bbp_run(tmp_path_factory):
    """A bbp-cifar quick run of 2 epochs at lr 1e-4 (small network and data, so it is quick)."""
    out = tmp_path_factory.mktemp("bbp") / "run"
    args = ["run", "bbp-cifar", "--quick", "--no-progress", *QUICK_BBP, "--set", "epochs=2", "--set", "lr=1e-4"]
    assert cli(*args, "--out", out).exit_code == 0
    return out


def test_another_learning_rate_on_a_trained_folder_is_refused(bbp_run):
    before = snapshot(bbp_run)
    args = ["run", "bbp-cifar", "--quick", "--no-progress", *QUICK_BBP, "--set", "epochs=4", "--set", "lr=1e-2"]
    result = cli(*args, "--out", bbp_run)
    assert result.exit_code == 1 and "config.lr 0.0001 -> 0.01" in result.output and "--restart" in result.output
    assert snapshot(bbp_run) == before


def test_another_dataset_on_a_trained_folder_is_refused(bbp_run, shared_data):
    before = snapshot(bbp_run)
    args = ["run", "bbp-cifar", "--quick", "--no-progress", *QUICK_BBP, "--set", "epochs=2", "--set", "lr=1e-4"]
    result = cli(*args, "--dataset", "mnist", "--data-dir", shared_data, "--out", bbp_run)
    assert result.exit_code == 1 and 'config.dataset "mnist-subset" -> "mnist"' in result.output
    assert snapshot(bbp_run) == before


def test_fewer_epochs_are_refused_and_more_continue_the_training_honestly(bbp_run, tmp_path):
    before = snapshot(bbp_run)
    base = ["run", "bbp-cifar", "--quick", "--no-progress", *QUICK_BBP, "--set", "lr=1e-4"]
    result = cli(*base, "--set", "epochs=1", "--out", bbp_run)
    assert result.exit_code == 1 and "config.epochs 2 -> 1" in result.output
    assert snapshot(bbp_run) == before
    # raising epochs continues from the checkpoints, says so, and ends where a straight run ends
    extended = tmp_path / "extended"
    assert cli(*base, "--set", "epochs=2", "--out", extended).exit_code == 0
    assert cli(*base, "--set", "epochs=3", "--out", extended).exit_code == 0
    straight = tmp_path / "straight"
    assert cli(*base, "--set", "epochs=3", "--out", straight).exit_code == 0
    assert (extended / "results.json").read_bytes() == (straight / "results.json").read_bytes()
    history = json.loads((extended / "bidirectional" / "metrics.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3]
    manifest = json.loads((extended / "manifest.json").read_text())
    assert manifest["config"]["epochs"] == 3 and "epochs raised from 2 to 3" in manifest["invocations"][-1]["notes"][0]
    assert "note: epochs raised from 2 to 3" in (extended / "summary.txt").read_text()


def test_another_experiment_on_a_run_folder_is_refused(bbp_run, tmp_path):
    before = snapshot(bbp_run)
    for args in (["style-fashion", "--quick"], ["bam-permutation", "--quick"]):
        result = cli("run", *args, "--no-progress", "--out", bbp_run)
        assert result.exit_code == 1 and 'experiment "bbp-cifar" -> ' in result.output
    assert snapshot(bbp_run) == before


def test_restart_moves_the_old_folder_aside_and_keeps_it(tmp_path):
    out = tmp_path / "run"
    assert cli("run", "bam-permutation", "--quick", "--no-progress", "--out", out).exit_code == 0
    before = snapshot(out)
    assert (
        cli("run", "bam-permutation", "--quick", "--no-progress", "--seed", "2", "--restart", "--out", out).exit_code
        == 0
    )
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("run.replaced-")]
    assert len(aside) == 1 and snapshot(aside[0]) == before  # nothing is lost
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert "--restart: the folder that was here is now" in (out / "summary.txt").read_text()


def test_a_bad_run_on_a_finished_folder_of_another_seed_changes_nothing(tmp_path):
    out = tmp_path / "letters"
    assert cli("run", "bam-letters", "--quick", "--no-progress", "--seed", "5", "--out", out).exit_code == 0
    before = snapshot(out)
    for extra in (["--set", "trials=-5"], []):
        result = cli("run", "bam-letters", "--quick", "--no-progress", "--seed", "6", *extra, "--out", out)
        assert result.exit_code == 1 and "Traceback" not in result.output
    assert "seed 5 -> 6" in result.output
    assert snapshot(out) == before  # fig2_snapshots_energy.png included


@pytest.mark.parametrize(
    "name, setting",
    [
        ("abam", "rtol=-1"),
        ("abam", "atol=-1"),
        ("abam", "input_scale=-1"),
        ("bsp-neuron", "pulse=-1"),
        ("bsp-neuron", "amplitude=-1"),
        ("bam-permutation", "exhaustive_up_to_bits=-1"),
        ("bam-letters", "trials=-5"),
        ("bam-letters", "snapshots=-1"),
        ("abam", "n=-1"),
        ("abam", "points=-1"),
        ("bsp-neuron", "dt=-1"),
        ("bsp-neuron", "oscillation_horizon=-1"),
        ("bbp-overwrite", "epochs=-1"),
        ("bbp-overwrite", "seeds=-1"),
        ("bam-permutation", "random_trials=-1"),
        ("bbp-cifar", "hidden=512"),
        ("bsp-mnist", "lr_connections=-1"),
        ("bam-letters", "noise=1.5"),
        ("bam-letters", "trials=0"),
    ],
)
def test_degenerate_settings_are_refused_before_any_work(name, setting, tmp_path):
    out = tmp_path / "run"
    result = cli("run", name, "--quick", "--no-progress", "--set", setting, "--out", out)
    assert result.exit_code == 1 and result.output.startswith(f"Error: --set {setting}: ") and not out.exists()
    assert len(result.output.strip().splitlines()) == 1


def test_messages_name_the_setting_and_what_it_must_be():
    assert "--set noise=1.5: must be less than or equal to 1" in cli("run", "bam-letters", "--set", "noise=1.5").output
    assert "--set trials=0: must be greater than 0" in cli("run", "bam-letters", "--set", "trials=0").output
    assert (
        "--set lr_connections=-1: must be greater than 0"
        in cli("run", "bsp-mnist", "--set", "lr_connections=-1").output
    )


def test_api_inputs_that_would_broadcast_or_crash_get_a_clear_error():
    from bidir.bbp import BidirectionalMLP
    from bidir.bsp import BSPLearner, BSPNetwork, BSPRule
    from bidir.errors import InvalidInputError

    net = BidirectionalMLP((4, 3, 2))
    with pytest.raises(InvalidInputError, match="same number of samples, got 5 and 1"):
        net.loss(torch.rand(5, 4), torch.tensor([1.0, 0.0]), mode="forward")
    with pytest.raises(InvalidInputError, match="same number of samples, got 64 and 63"):
        BidirectionalMLP((4, 3, 2)).loss(torch.rand(64, 4), torch.rand(63, 2))
    learner = BSPLearner(BSPNetwork([4, 3, 2], horizon=2.0, dt=0.5, pulse=0.5), BSPRule("connections"))
    with pytest.raises(InvalidInputError, match="got label 7"):
        learner.loss(torch.rand(2, 4), torch.tensor([0, 7]))
    with pytest.raises(InvalidInputError, match="got floats"):
        learner.loss(torch.rand(2, 4), torch.tensor([0.0, 1.0]))


def test_a_cifar_batch_one_record_too_long_is_refused_even_without_verify(tmp_path):
    from bidir.data.formats import write_cifar_batch

    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    images, labels = torch.zeros(10000, 3, 32, 32, dtype=torch.uint8), torch.zeros(10000, dtype=torch.long)
    for i in range(1, 6):
        write_cifar_batch(folder / f"data_batch_{i}.bin", images, labels)
    write_cifar_batch(folder / "test_batch.bin", images, labels)
    write_cifar_batch(
        folder / "data_batch_3.bin", torch.zeros(10001, 3, 32, 32, dtype=torch.uint8), labels.repeat(2)[:10001]
    )
    result = cli("fetch", "cifar10", "--no-verify", "--data-dir", tmp_path)
    assert (
        result.exit_code == 1 and "data_batch_3.bin holds 10001 records; a CIFAR-10 batch holds 10000" in result.output
    )


def test_an_out_below_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    result = cli("run", "bam-permutation", "--quick", "--out", tmp_path / "file" / "sub")
    assert result.exit_code == 1 and "is a file, not a folder" in result.output and "Traceback" not in result.output


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = cli("run", "bam-permutation", "--quick", "--out", tmp_path)
    assert result.exit_code == 1 and "holds files but no run manifest" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_checkpoint_of_another_model_is_a_clear_error(tmp_path):
    from bidir.bbp import BidirectionalMLP
    from bidir.errors import InvalidInputError
    from bidir.io import save_atomic
    from bidir.train import Trainer, make_optimizer

    def fit(net, folder):
        opt = make_optimizer("adam", net.parameters(), 0.01)
        data = (torch.rand(8, 4), torch.eye(2)[[0, 1] * 4])
        return Trainer(
            net, lambda m, x, t: m.loss(x, t), opt, out=folder, batch_size=4, progress=False, log=lambda s: None
        ).fit(data, 1)

    fit(BidirectionalMLP((4, 3, 2), seed=0), tmp_path / "a")
    with pytest.raises(InvalidInputError, match=r"holds another model \(sizes \[4, 3, 2\] -> \[4, 5, 2\]\)"):
        fit(BidirectionalMLP((4, 5, 2), seed=0), tmp_path / "a")
    # a checkpoint without an architecture record (an older bidir): still one clear line
    (tmp_path / "b").mkdir()
    old = {"epoch": 1, "seed": 0, "model": {"w": torch.ones(2)}, "optimizer": {}, "history": []}
    save_atomic(old, tmp_path / "b" / "checkpoint.pt")
    with pytest.raises(InvalidInputError, match="does not fit this model or optimizer"):
        fit(BidirectionalMLP((4, 3, 2), seed=0), tmp_path / "b")


def test_bad_files_are_named_for_what_they_are(tmp_path):
    from bidir.data.download import RemoteFile, verify_file
    from bidir.data.formats import read_idx
    from bidir.errors import ChecksumError, DatasetError

    page = tmp_path / "train-images-idx3-ubyte.gz"
    page.write_bytes(b"<!DOCTYPE html><html><body>Not found</body></html>")
    with pytest.raises(DatasetError, match="is an HTML page, not a .gz dataset file"):
        read_idx(page)
    with pytest.raises(ChecksumError, match=r"is truncated: 50 bytes.*\(it is an HTML page, not the dataset file\)"):
        verify_file(page, RemoteFile(page.name, (), size=9912422))
    raw = tmp_path / "x.idx"
    raw.write_bytes(b"\x00\x00\x07\x01" + b"\x00" * 8)
    with pytest.raises(DatasetError, match="not an IDX file"):
        read_idx(raw)
    wrong = tmp_path / "w.bin"
    wrong.write_bytes(b"abc")
    with pytest.raises(ChecksumError, match="bidir fetch NAME --no-verify") as err:
        verify_file(wrong, RemoteFile("w.bin", (), sha256="0" * 64))
    assert "(--no-verify)" not in str(err.value)  # `bidir run` has no such flag
    result = cli("run", "bsp-mnist", "--quick", "--data-dir", tmp_path / "no-such-dir", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "no-such-dir: no such folder" in result.output
    assert not (tmp_path / "no-such-dir").exists() and not (tmp_path / "o").exists()


def test_results_hold_no_timings(tmp_path):
    """Identical seeds give identical results.json: no wall times in it (they go to summary.txt and the manifest)."""

    def keys(value):
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    for args in (["bbp-cifar", *QUICK_BBP, "--set", "epochs=1"], ["bsp-neuron"], ["rules", "--set", "epochs=1"]):
        out = tmp_path / args[0]
        assert cli("run", *args, "--quick", "--no-progress", "--out", out).exit_code == 0
        results = json.loads((out / "results.json").read_text())
        assert not {k for k in keys(results) if "second" in k or k.endswith("time")}
        assert "wall time" in (out / "summary.txt").read_text()


# -- killed and resumed ----------------------------------------------------------------------
KILL_SCRIPT = """
import json, os, sys, torch
from bidir.bbp.network import BidirectionalMLP
from bidir.runner import run_experiment
from bidir.train import Trainer

name, overrides, where, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
calls = {"n": 0}

if where.startswith("step-"):  # killed inside the n-th optimizer step of the run, like kill -9
    step = Trainer.step
    def dying_step(self, *args):
        calls["n"] += 1
        if calls["n"] == int(where[5:]):
            os._exit(9)  # no cleanup, no finally
        return step(self, *args)
    Trainer.step = dying_step
elif where == "checkpoint-write":
    save = torch.save
    def dying_save(obj, f, *args, **kwargs):
        if "optimizer_hyperparameters" in obj and calls["n"] == 1:
            f.write(b"half a checkpoint")
            f.flush()
            os._exit(9)
        calls["n"] += obj.get("epoch", 0) == 1 if isinstance(obj, dict) else 0
        return save(obj, f, *args, **kwargs)
    torch.save = dying_save
elif where == "analysis":
    BidirectionalMLP.backward_pass = lambda self, y: os._exit(9)  # N^T(e_k), after training
run_experiment(name, quick=True, out=out, overrides=overrides, show_progress=False)
"""

# Every experiment family that trains through the Trainer, with its noisy methods: small settings, and where to
# kill it (the n-th optimizer step of the run, inside a later epoch of the training named).
BBP_CIFAR = {"hidden": "[16]", "train_size": "300", "test_size": "100", "epochs": "3", "batch_size": "128"}
NOISY_CIFAR = {**BBP_CIFAR, "trainings": '["bidirectional-nem", "bidirectional-blind"]'}
BBP_CONV = {"datasets": '["mnist-subset"]', "train_size": "200", "test_size": "100", "epochs": "3"}
BBP_CONV |= {"batch_size": "100", "seeds": "1", "methods": '["bbp-nem", "bbp-blind"]'}
STYLE = {"train_size": "300", "test_size": "60", "epochs": "3", "decoders": '["tied"]'}
STYLE |= {"neighbours": "5", "batch_size": "128"}
BSP = {"settings": '["method2-multi"]', "train_size": "100", "test_size": "50", "epochs": "3", "batch_size": "50"}
KILLS = {  # (experiment, overrides, where): the trainings compared after the resume
    "bbp-cifar-mid-epoch": ("bbp-cifar", BBP_CIFAR, "step-5", ("unidirectional", "bidirectional")),
    "bbp-cifar-checkpoint-write": ("bbp-cifar", BBP_CIFAR, "checkpoint-write", ("unidirectional",)),
    "bbp-cifar-analysis": ("bbp-cifar", BBP_CIFAR, "analysis", ("unidirectional", "bidirectional")),
    "bbp-cifar-nem": ("bbp-cifar", NOISY_CIFAR, "step-23", ("bidirectional-nem",)),  # NEM's epoch 2
    "bbp-cifar-blind": ("bbp-cifar", NOISY_CIFAR, "step-32", ("bidirectional-blind",)),  # blind's epoch 2
    "bbp-conv-nem": ("bbp-conv", BBP_CONV, "step-4", ("mnist-subset/bbp-nem/seed0",)),
    "bbp-conv-blind": ("bbp-conv", BBP_CONV, "step-10", ("mnist-subset/bbp-blind/seed0",)),
    "style-mnist": ("style-mnist", STYLE, "step-5", ("tied",)),
    "bsp-mnist": ("bsp-mnist", BSP, "step-24", ("method2-multi",)),  # after 20 of softmax regression
}


def _metrics(folder: Path) -> list:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in json.loads(folder.read_text())]


def _launch(script: Path, name: str, overrides: dict, where: str, out: Path):
    import subprocess
    import sys

    args = [sys.executable, str(script), name, json.dumps(overrides), where, str(out)]
    return subprocess.run(args, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The kill script, and a function giving each (experiment, overrides)'s uninterrupted run folder (run once)."""
    root = tmp_path_factory.mktemp("kill")
    script = root / "run.py"
    script.write_text(KILL_SCRIPT)
    done = {}

    def whole(name: str, overrides: dict) -> Path:
        key = (name, json.dumps(overrides, sort_keys=True))
        if key not in done:
            out = root / f"whole-{len(done)}"
            finished = _launch(script, name, overrides, "none", out)
            assert finished.returncode == 0, finished.stderr[-2000:]
            done[key] = out
        return done[key]

    return script, whole


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(KILLS))
def test_a_run_killed_anywhere_resumes_to_the_uninterrupted_result(uninterrupted, case, tmp_path):
    """kill -9 inside a training (noisy ones included: their noise streams are checkpointed), inside a
    checkpoint's write, or in the analysis after training: the resumed run's results.json and metrics are the
    uninterrupted run's, byte for byte."""
    script, whole_run = uninterrupted
    name, overrides, where, trainings = KILLS[case]
    whole = whole_run(name, overrides)
    out = tmp_path / "cut"
    killed = _launch(script, name, overrides, where, out)
    assert killed.returncode == 9, killed.stderr[-2000:]
    assert not (out / "results.json").exists()
    if where == "checkpoint-write":
        assert list(out.rglob(".checkpoint.pt.*.tmp"))  # the half-written file a kill leaves
    resumed = _launch(script, name, overrides, "none", out)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout.decode() + resumed.stderr.decode()
    assert (out / "results.json").read_bytes() == (whole / "results.json").read_bytes()
    for training in trainings:
        assert _metrics(out / training / "metrics.json") == _metrics(whole / training / "metrics.json")
    assert not list(out.rglob("*.tmp")) and not (out / ".staging").exists()
    assert "(resumed)" in (out / "summary.txt").read_text()
    attempts = json.loads((out / "manifest.json").read_text())["invocations"]
    assert [a["outcome"] for a in attempts] == ["killed", "finished"]  # the killed attempt stays on record
    assert attempts[0]["seconds"] > 0 and "(killed;" in (out / "summary.txt").read_text()


def test_style_fashion_on_a_style_mnist_folder_is_refused_and_style_results_hold_no_timings(tmp_path):
    out = tmp_path / "style"
    small = ["--set", "train_size=200", "--set", "test_size=60", "--set", "epochs=1", "--set", 'decoders=["tied"]']
    small += ["--set", "neighbours=5"]
    assert cli("run", "style-mnist", "--quick", "--no-progress", *small, "--out", out).exit_code == 0
    results = json.loads((out / "results.json").read_text())
    assert "train_seconds" not in json.dumps(results) and "trained in" in (out / "summary.txt").read_text()
    before = snapshot(out)
    result = cli("run", "style-fashion", "--quick", "--no-progress", *small, "--out", out)
    assert result.exit_code == 1 and 'experiment "style-mnist" -> "style-fashion"' in result.output
    assert snapshot(out) == before  # style-mnist's weights, results and figures untouched
