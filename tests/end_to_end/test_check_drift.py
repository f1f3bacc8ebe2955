"""scripts/check_drift.py: a published run rerun at quick settings with its commit's code and this checkout's."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_drift", ROOT / "scripts" / "check_drift.py")
drift = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drift)


def test_differences_name_every_path_at_which_two_records_differ():
    a = {"acc": [0.5, {"bp": 1.0}], "loss": 2.0, "only_a": 1}
    b = {"acc": [0.5, {"bp": 1.5}], "loss": 2.0, "only_b": 1}
    assert drift.differences(a, b) == ["acc[1].bp", "only_a", "only_b"]
    assert drift.differences(a, json.loads(json.dumps(a))) == []
    assert drift.differences([1, 2], [1, 2, 3]) == ["(the whole value)"]


def test_a_run_from_uncommitted_changes_has_no_commit_to_rebuild():
    run = {"git": {"commit": "a" * 40, "dirty": False}}
    assert drift.commits({"invocations": [run, run, {"git": {"commit": "b" * 40, "dirty": False}}]}) == [
        "a" * 40,
        "b" * 40,
    ]
    assert drift.commits({"invocations": [run, {"git": {"commit": "b" * 40, "dirty": True}}]}) is None
    assert drift.commits({"invocations": [{"git": None}]}) is None
    assert drift.commits({"invocations": []}) is None


def test_a_run_is_rerun_with_its_own_settings_but_quick_modes_sizes():
    results = json.loads((ROOT / "results" / "style-mnist-paper" / "results.json").read_text())
    assert drift.settings(results) == ({"schedule": "paper"}, [])  # its untied decoder is quick mode's too
    results = json.loads((ROOT / "results" / "bbp-cifar-nem" / "results.json").read_text())
    trainings = ["unidirectional", "bidirectional", "bidirectional-nem", "bidirectional-blind"]
    assert drift.settings(results) == ({"trainings": json.dumps(trainings)}, [])
    results = json.loads((ROOT / "results" / "bsp-mnist-fashion-mnist" / "results.json").read_text())
    assert drift.settings(results) == ({}, [])  # its data and setting are quick mode's own (shipped data, all settings)
    results = json.loads((ROOT / "results" / "style-fashion" / "results.json").read_text())
    assert drift.settings(results) == ({}, ["attack_size", "eps", "pgd_step_size", "pgd_steps"])  # now style-detection


@pytest.mark.slow
def test_the_same_code_gives_the_same_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(drift, "source_of", lambda commit, into: ROOT / "src")
    results = json.loads((ROOT / "results" / "note-engine" / "results.json").read_text())
    assert drift.compare(tmp_path, "0" * 40, results, {}, {}, ("note-engine", "")) == "same numbers"
    failed = drift.compare(tmp_path, "0" * 40, results, {"networks": "0"}, {}, ("note-engine", "networks=0"))
    assert failed.startswith("failed: ") and "networks" in failed
