"""The bad-input contract, swept: whatever a user passes, bidir works or refuses in one line naming the argument.

Property-based (hypothesis): arguments drawn for every public constructor and loss, and settings drawn outside
their declared constraints for every experiment. A refusal is a :class:`BidirError` whose message is one line and
names what the user wrote; from the command line it is exit 1, one line, no traceback, nothing written, and a
finished run folder beside it byte-identical. Then the issue's reproductions, each as a case.
"""

from __future__ import annotations

import json
import math
import typing
from pathlib import Path

import annotated_types as at
import pytest
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_run_folder import SWEEP, _constraints  # the settings' declared constraints, read once

import bidir
from bidir.bam import BAM, ContinuousABAM
from bidir.bbp import BidirectionalCNN, BidirectionalMLP
from bidir.bbp.ensemble import Ensemble
from bidir.bsp import BSPNetwork, BSPRule
from bidir.cli import main
from bidir.errors import BidirError
from bidir.experiments import EXPERIMENTS
from bidir.style import StyleMemoryNet

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# -- values a user might pass by mistake ----------------------------------------------------
NUMBERS = st.sampled_from([0, -1, -0.5, 1e-300, 1e12, 2**63, 2**70, -(2**70), math.nan, math.inf, -math.inf])
WRONG_TYPES = st.sampled_from(["", "abc", "1", None, True, [], [1, "a"], {}, {"a": 1}, (0,), object(), b"x"])
BAD = st.one_of(NUMBERS, WRONG_TYPES, st.floats(allow_nan=True), st.integers(min_value=-(2**80), max_value=2**80))


@pytest.fixture(autouse=True, scope="module")
def _bounded_address_space():
    """A drawn size that the checks miss must fail as an allocation here, not be granted lazily and then take the
    machine's memory (the kernel would kill the test run): the address space is capped for this module."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = int(Path("/proc/self/status").read_text().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (used + 12 * 2**30, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _one_line_naming(error: BidirError, *names: str) -> None:
    text = str(error)
    assert "\n" not in text.strip(), text
    assert any(n in text for n in names), f"{text!r} names none of {names}"


# Every public constructor with small valid arguments; each argument is replaced by a drawn bad value in turn.
CONSTRUCTORS = {
    "BAM": (BAM, {"n": 4, "p": 3, "coding": "bipolar"}),
    "ContinuousABAM": (ContinuousABAM, {"n": 3, "p": 2, "law": "hebbian", "steepness_x": 1.0, "steepness_y": 1.0}),
    "BidirectionalMLP": (
        BidirectionalMLP,
        {"sizes": (4, 3, 2), "hidden": "relu", "output": "softmax", "input": "identity", "steepness": 1.0, "seed": 0},
    ),
    "BidirectionalCNN": (
        BidirectionalCNN,
        {"num_classes": 3, "image_shape": (1, 8, 8), "channels": (2,), "kernel": 3, "stride": 2, "hidden": (4,)},
    ),
    "StyleMemoryNet": (
        StyleMemoryNet,
        {"num_classes": 3, "style_dim": 2, "image_shape": (1, 8, 8), "channels": (2,), "kernel": 3, "hidden": (4,)},
    ),
    "BSPNetwork": (BSPNetwork, {"sizes": [4, 3, 2], "horizon": 2.0, "dt": 0.2, "seed": 0}),
    "Ensemble": (Ensemble, {"seeds": [0, 1], "sizes": (3, 2)}),
    "BSPRule": (BSPRule, {"method": "connections", "lr": 1.0, "kt": 1.0, "temperature": 0.05, "k3_range": 3.0}),
}
EXTRA = {"dtype": [torch.int64, torch.bool, "int8", "float7"], "device": ["cuda", "tpu", "cuda:7", 3], "seed": [-1]}


def _call(factory, kwargs):
    try:
        factory(**kwargs)
    except BidirError as error:
        return error
    return None


@pytest.mark.parametrize("family", sorted(CONSTRUCTORS))
@FAST
@given(data=st.data())
def test_every_constructor_argument_is_taken_or_refused_in_one_line(family, data):
    factory, good = CONSTRUCTORS[family]
    name = data.draw(st.sampled_from(sorted(good)), label="argument")
    value = data.draw(BAD, label="value")
    error = _call(factory, {**good, name: value})  # anything but a BidirError fails the test
    if error is not None:
        _one_line_naming(error, name, "sizes", "layer size", "image", "shape")


@pytest.mark.parametrize("family", sorted(CONSTRUCTORS))
def test_devices_dtypes_and_seeds_a_model_cannot_have_are_refused(family):
    factory, good = CONSTRUCTORS[family]
    params = typing.get_type_hints(factory.__init__) if family != "BSPRule" else {}
    for name, values in EXTRA.items():
        if name not in params and name not in factory.__init__.__code__.co_varnames:
            continue
        for value in values:
            if name == "device" and value == "cuda" and torch.cuda.is_available():
                continue
            error = _call(factory, {**good, name: value})
            assert error is not None, (family, name, value)
            _one_line_naming(error, name)


LOSSES = {  # (model, the loss's good arguments); each argument gets drawn bad values
    "mlp": (
        lambda: BidirectionalMLP((4, 3, 2), hidden="relu", output="softmax", input="identity", seed=0),
        lambda: {"x": torch.rand(5, 4), "t": torch.eye(2)[[0, 1, 0, 1, 0]], "mode": "bidirectional"},
        ("backward_weight", "mode", "engine_name"),
    ),
    "cnn": (
        lambda: BidirectionalCNN(3, (1, 8, 8), (2,), kernel=3, hidden=(4,), seed=0),
        lambda: {"x": torch.rand(5, 1, 8, 8), "t": torch.eye(3)[[0, 1, 2, 1, 0]]},
        ("backward_weight", "mode"),
    ),
    "style": (
        lambda: StyleMemoryNet(3, 2, (1, 8, 8), channels=(2,), kernel=3, hidden=(4,), seed=0),
        lambda: {"x": torch.rand(5, 1, 8, 8), "labels": torch.tensor([0, 1, 2, 1, 0])},
        ("alpha", "noise_std"),
    ),
}


@pytest.mark.parametrize("family", sorted(LOSSES))
@FAST
@given(data=st.data())
def test_every_loss_argument_is_taken_or_refused_in_one_line(family, data):
    make, good, scalars = LOSSES[family]
    model, kwargs = make(), good()
    name = data.draw(st.sampled_from([*scalars, *kwargs]), label="argument")
    value = data.draw(BAD, label="value")
    try:
        loss, _ = model.loss(**{**kwargs, name: value})
    except BidirError as error:
        _one_line_naming(error, name, "x", "t", "labels", "loss")
        return
    assert torch.isfinite(loss), f"{name}={value!r} gave the loss {loss}, not a refusal"  # never a silent NaN


@pytest.mark.parametrize("family", sorted(LOSSES))
@pytest.mark.parametrize("scale", [1e30, -1e30, 1e20])
def test_inputs_too_large_for_the_dtype_are_refused_not_an_infinite_loss(family, scale):
    make, good, _ = LOSSES[family]
    kwargs = good()
    kwargs["x"] = kwargs["x"] * scale
    with pytest.raises(BidirError, match="too large"):
        make().loss(**kwargs)


# -- settings drawn outside their declared constraints, for every experiment ------------------
def _outside(annotation) -> st.SearchStrategy:
    """Text for ``--set`` that the setting's declared type and constraints refuse."""
    base, meta = _constraints(annotation)
    origin = typing.get_origin(base)
    if base is bool:
        return st.sampled_from(["maybe", "2", "[true]", "{a: 1}"])
    if origin is typing.Literal:
        options = {str(o) for o in typing.get_args(base)}
        return st.text("abcxyz-_0123456789", min_size=1, max_size=12).filter(lambda s: s not in options)
    if origin is tuple:
        item = typing.get_args(base)[0]
        empty = [st.just("[]")] if any(isinstance(m, at.MinLen) for m in meta) else []
        return st.one_of(*empty, _outside(item).map(lambda v: f"[{v}]"), st.sampled_from(["{a: 1}", "7"]))
    if base in (int, float):
        bounds = []
        for m in meta:
            if isinstance(m, at.Gt):
                bounds.append(st.floats(max_value=m.gt, allow_nan=False).map(_number(base, m.gt, below=True)))
            if isinstance(m, at.Ge):
                bounds.append(st.floats(max_value=m.ge, exclude_max=True, allow_nan=False).map(repr))
            if isinstance(m, at.Le):
                bounds.append(st.floats(min_value=m.le, exclude_min=True, allow_nan=False).map(repr))
            if isinstance(m, at.Lt):
                bounds.append(st.floats(min_value=m.lt, allow_nan=False).map(repr))
        kinds = ["nan", "inf", "-inf", "abc", "[1]", "{a: 1}", "1e999"] + (["2.5", "1e-3"] if base is int else [])
        return st.one_of(st.sampled_from(kinds), *bounds)
    return st.nothing()


def _number(base, bound, below):
    return lambda v: repr(bound if base is int and v == bound else v)


SETTINGS = [
    (name, key, annotation)
    for name, exp in sorted(EXPERIMENTS.items())
    for key, annotation in typing.get_type_hints(exp.config, include_extras=True).items()
    if not _outside(annotation).is_empty
]


def test_the_drawn_sweep_covers_every_experiment():
    assert {name for name, _, _ in SETTINGS} == set(EXPERIMENTS) and len(SETTINGS) > 150


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name, key, annotation", SETTINGS, ids=[f"{n}.{k}" for n, k, _ in SETTINGS])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_drawn_bad_setting_is_refused_in_one_line_and_writes_nothing(name, key, annotation, data, tmp_path):
    value = data.draw(_outside(annotation), label="value")
    out = tmp_path / f"run-{abs(hash(value))}"
    result = CliRunner().invoke(
        main, ["run", name, "--quick", "--no-progress", "--set", f"{key}={value}", "--out", str(out)]
    )
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: --set {key}={value}: "), result.output
    assert not out.exists()


@pytest.mark.parametrize("name, key, annotation", SETTINGS[::7], ids=[f"{n}.{k}" for n, k, _ in SETTINGS[::7]])
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bad_setting_aimed_at_a_finished_run_leaves_it_byte_identical(name, key, annotation, data, finished_run):
    value = data.draw(_outside(annotation), label="value")
    before = _snapshot(finished_run)
    result = CliRunner().invoke(
        main, ["run", name, "--quick", "--no-progress", "--set", f"{key}={value}", "--out", str(finished_run)]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert _snapshot(finished_run) == before


# -- the reproductions of issue 25, each as a case ---------------------------------------------
def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _refused(result, *words, started: bool = False):
    """Exit 1 with one error line naming ``words`` (beside the run's own log lines where it had ``started``)."""
    lines = result.output.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert result.exit_code == 1 and len(errors) == 1, result.output
    assert started or len(lines) == 1, result.output
    assert "Traceback" not in result.output and all(w in errors[0] for w in words), result.output


SMALL_CIFAR = ["--set", "hidden=[16]", "--set", "train_size=300", "--set", "test_size=100", "--set", "epochs=2"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["bbp-overwrite", "--set", "lr=1e6", "--set", "epochs=5"], ["diverged", "lower the learning rate"]),
        (["bbp-cifar", "--set", "lr=1e10", *SMALL_CIFAR], ["loss became"]),
        (["bbp-cifar", "--set", "train_size=5"], ["train_size=5", "every class"]),
        (["bbp-conv", "--set", "train_size=5", "--set", "seeds=1"], ["train_size=5", "every class"]),
    ],
)
def test_a_diverged_or_degenerate_run_fails_in_one_line_and_leaves_nothing(args, words, tmp_path):
    out = tmp_path / "run"
    _refused(cli("run", *args, "--quick", "--no-progress", "--out", out), *words, started=True)
    assert not out.exists()  # no results.json, no verdict, no manifest or checkpoint left behind


@pytest.mark.parametrize(
    "args, words",
    [
        (["bbp-cifar", "--set", "train_size=10000000"], ["train_size=10000000", "use at most 5000"]),
        (["bsp-mnist", "--set", "width=0.0001"], ["width", "use at least"]),
        (["style-mnist", "--set", "neighbours=100000"], ["neighbours=100000", "use at most"]),
        (["style-detection", "--set", "attack_size=100000"], ["attack_size=100000", "use at most"]),
        (["style-detection", "--set", "attack_size=0"], ["attack_size=0"]),
        (["bbp-regression", "--set", "bins=100000"], ["bins", "test_size"]),
        (["bbp-regression", "--set", "test_size=1"], ["test_size=1", "bins"]),
        (["bbp-cost", "--set", "mlp=[100,10]"], ["mlp", "784"]),
        (["bbp-conv", "--set", "datasets=[]"], ["datasets=[]", "at least 1"]),
        (["bam-permutation", "--seed", str(2**64)], ["--seed", "2^63"]),
        (["bsp-neuron", "--set", "dt=26"], ["dt (26) <= pulse"]),  # a time step beyond the pulse and horizon
        (["bsp-neuron", "--set", "oscillation_horizon=0.001"], ["oscillation_horizon"]),
        (["bsp-mnist", "--set", "dt=30", "--set", "horizon=20"], ["dt=30", "whole steps"]),
    ],
)
def test_values_the_run_cannot_use_are_refused_not_clamped(args, words, tmp_path):
    out = tmp_path / "run"  # refused before any training (some once the data are loaded)
    _refused(cli("run", *args, "--quick", "--no-progress", "--out", out), *words, started=True)
    assert not out.exists()


def test_a_reproduction_of_more_seeds_than_anyone_could_wait_for_is_refused(tmp_path):
    _refused(cli("reproduce", "--seeds", str(10**20), "--out", tmp_path / "r"), "--seeds", "1..1000")
    assert not (tmp_path / "r").exists()


def test_yaml_flow_lists_are_read_and_still_type_checked(tmp_path):
    out = tmp_path / "run"
    sets = ["--set", "datasets=[mnist-subset]", "--set", "methods=[bp]", "--set", "seeds=1", "--set", "epochs=1"]
    assert cli("run", "bbp-conv", "--quick", "--no-progress", *sets, "--out", out).exit_code == 0
    assert json.loads((out / "results.json").read_text())["config"]["datasets"] == ["mnist-subset"]
    _refused(cli("run", "bbp-conv", "--quick", "--set", "datasets=[mnist, bogus]", "--out", tmp_path / "x"), "datasets")
    _refused(cli("run", "bbp-conv", "--quick", "--set", "datasets={a: 1}", "--out", tmp_path / "y"), "must be a list")


@pytest.mark.parametrize(
    "args",
    [
        ["run", "bam-permutation", "--quick", "--seed", str(2**70), "--restart"],
        ["run", "bam-permutation", "--quick", "--set", "random_trials=-1", "--restart"],
        ["run", "bam-permutation", "--quick", "--restart", "--data-dir", "/nonexistent"],
        ["demo", "--seed", str(2**70)],
        ["demo"],
        ["reproduce", "bam-letters", "--quick"],
    ],
)
def test_nothing_is_moved_or_written_into_a_finished_run_before_every_check_passes(finished_run, args):
    before = _snapshot(finished_run)
    result = cli(*args, "--no-progress", "--out", finished_run)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert _snapshot(finished_run) == before and not list(finished_run.parent.glob("*.replaced-*"))


@pytest.mark.parametrize("where", ["/proc/bidir-run", "/sys/bidir-run", "FILE/run"])
def test_an_out_that_cannot_be_written_is_refused_in_one_line(where, tmp_path):
    (tmp_path / "FILE").write_text("x")
    where = where.replace("FILE", str(tmp_path / "FILE"))
    _refused(cli("run", "bam-permutation", "--quick", "--out", where), "--out")
    _refused(cli("reproduce", "bam-permutation", "--quick", "--out", where), "--out")


@pytest.mark.parametrize("where", ["/proc/r.html", "/sys/r.html", "MISSING/r.html", "FILE/r.html"])
def test_a_report_out_that_cannot_be_written_is_refused_in_one_line(where, finished_run, tmp_path):
    (tmp_path / "FILE").write_text("x")
    where = where.replace("FILE", str(tmp_path / "FILE")).replace("MISSING", str(tmp_path / "missing"))
    _refused(cli("report", finished_run, "--format", "html", "--out", where), "--out")
    assert not (tmp_path / "missing").exists()


def test_a_data_folder_that_is_a_file_or_missing_is_refused_and_nothing_is_made(tmp_path, monkeypatch):
    (tmp_path / "FILE").write_text("x")
    monkeypatch.setenv("BIDIR_DATA_DIR", str(tmp_path / "FILE"))
    _refused(cli("run", "bbp-cifar", "--quick", "--dataset", "mnist", "--out", tmp_path / "a"), "BIDIR_DATA_DIR")
    monkeypatch.delenv("BIDIR_DATA_DIR")
    _refused(cli("reproduce", "--data-dir", tmp_path / "none", "--out", tmp_path / "b"), "--data-dir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["FILE"]


def test_a_failed_download_leaves_no_folder_and_says_so_in_one_line(tmp_path, monkeypatch):
    from bidir.data import download as dl

    monkeypatch.setattr(dl.urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    (tmp_path / "d").mkdir()
    _refused(cli("fetch", "mnist", "--data-dir", tmp_path / "d"), "could not download", "offline")
    assert not list((tmp_path / "d").iterdir())


def test_a_partial_cifar_copy_is_named_for_what_it_is(tmp_path):
    from bidir.data.datasets import load_dataset
    from bidir.data.formats import write_cifar_batch

    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in ("data_batch_1.bin", "data_batch_2.bin", "data_batch_4.bin", "data_batch_5.bin"):
        write_cifar_batch(folder / name, torch.zeros(2, 3, 32, 32, dtype=torch.uint8), torch.zeros(2, dtype=torch.long))
    with pytest.raises(BidirError, match="holds part of cifar10 but not data_batch_3.bin"):
        load_dataset("cifar10", "train", data_dir=tmp_path)


def test_threads_are_part_of_a_runs_identity(finished_run):
    threads = torch.get_num_threads()
    manifest = json.loads((finished_run / "manifest.json").read_text())
    assert manifest["threads"] == threads
    before = _snapshot(finished_run)
    torch.set_num_threads(threads + 1)
    try:
        result = cli("run", "bam-permutation", "--quick", "--no-progress", "--out", finished_run)
    finally:
        torch.set_num_threads(threads)
    _refused(result, f"threads {threads} -> {threads + 1}")
    assert _snapshot(finished_run) == before


@pytest.mark.slow
def test_a_killed_attempt_stays_on_record_with_its_wall_time(tmp_path):
    out = tmp_path / "run"
    assert cli("run", "bam-permutation", "--quick", "--no-progress", "--out", out).exit_code == 0
    started = "2026-01-01T00:00:00"  # an attempt that started here and never ended: killed
    (out / ".attempts.json").write_text(json.dumps([{"started": started, "outcome": "running"}]))
    assert cli("run", "bam-permutation", "--quick", "--no-progress", "--out", out).exit_code == 0
    attempts = json.loads((out / "manifest.json").read_text())["invocations"]
    assert [a["outcome"] for a in attempts] == ["finished", "killed", "finished"]
    assert attempts[1]["started"] == started and attempts[1]["seconds"] > 0  # until the last file it wrote
    assert f"== {started} (killed;" in (out / "summary.txt").read_text()
    assert not (out / ".attempts.json").exists()


def test_the_report_names_unfinished_and_damaged_runs_and_leaves_them_out(finished_run, tmp_path):
    import shutil

    from bidir.report.collect import collect

    for name in ("ok", "killed", "empty-manifest", "bogus", "maybe", "list", "png"):
        shutil.copytree(finished_run, tmp_path / name)
    (tmp_path / "killed" / "results.json").unlink()
    (tmp_path / "empty-manifest" / "manifest.json").write_text("{}")
    for name, edit in (("bogus", {"experiment": "bogus"}), ("maybe", None)):
        results = json.loads((tmp_path / name / "results.json").read_text())
        if edit:
            results.update(edit)
        else:
            results["claims"][0]["verdict"] = "maybe"
        (tmp_path / name / "results.json").write_text(json.dumps(results))
    (tmp_path / "list" / "results.json").write_text("[]")
    (tmp_path / "png" / "fig1a_permutation.png").write_bytes(b"")
    report = collect(tmp_path)
    problems = {p["folder"]: (p["problem"], p["left_out"]) for p in report.problems}
    assert set(problems) == {"killed", "empty-manifest", "bogus", "maybe", "list", "png"}
    assert problems["killed"][0].startswith("unfinished") and problems["png"] == (problems["png"][0], False)
    assert "not a run's results" in problems["list"][0] and "never writes" in problems["maybe"][0]
    assert sorted(r.name for r in report.runs) == ["ok", "png"]


def test_models_on_a_device_they_cannot_have_and_tampered_saves_are_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    from bidir.io import build_model

    if not torch.cuda.is_available():
        with pytest.raises(BidirError, match="no CUDA GPU"):
            BAM(3, 2, device="cuda")
    bam = BAM.from_pairs(torch.tensor([[1, -1, 1]]), torch.tensor([[1, -1]]))
    bidir.save(bam, tmp_path / "m")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BidirError, match="it is a file"):
        bidir.save(bam, tmp_path / "file")
    if not torch.cuda.is_available():
        with pytest.raises(BidirError, match="no CUDA GPU"):
            bidir.load(tmp_path / "m", device="cuda")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    edits = (
        ({"class": "bidir.io:save_model"}, "not one of bidir's model families"),
        ({"config": "n=3"}, "must be a mapping"),
        ({"config": {**config["config"], "extra": 1}}, "does not take: ['extra']"),
        ({"config": {**config["config"], "n": -3}}, "is not valid: n must be a positive integer"),
    )
    for edit, words in edits:  # a record without a checksum (a checkpoint's): its structure is checked
        with pytest.raises(BidirError, match=words.replace("[", r"\[").replace("]", r"\]")):
            build_model({**config, **edit})
    for edit, _ in (*edits[1:], ({"config": {**config["config"], "coding": "binary"}}, "")):
        (tmp_path / "m" / "config.json").write_text(json.dumps({**config, **edit}))
        with pytest.raises(BidirError, match="was changed after the model was saved"):
            bidir.load(tmp_path / "m")  # a saved model's weights carry the sha256 of its config
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    state = load_file(tmp_path / "m" / "model.safetensors")
    state["M"][0, 0] = float("nan")
    save_file(state, tmp_path / "m" / "model.safetensors")
    with pytest.raises(BidirError, match="NaN or infinite"):
        bidir.load(tmp_path / "m")


def test_the_suite_exercises_over_four_hundred_distinct_bad_inputs():
    drawn = len(SETTINGS) * 4 + sum(60 for _ in CONSTRUCTORS) + sum(60 for _ in LOSSES)
    assert len(SWEEP) + drawn >= 400
