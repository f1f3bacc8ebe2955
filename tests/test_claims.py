"""Paper claims as data: the verdict rules, and claims judged in real quick runs."""

import json

import pytest

from bidir.experiments import EXPERIMENTS
from bidir.experiments.claims import Claim, judge
from bidir.runner import run_experiment


def _claim(compare, paper, **kw):
    return Claim(
        id="c", paper="kosko", source="eq 1", statement="s", paper_value=paper, measure="x", compare=compare, **kw
    )


@pytest.mark.parametrize(
    ("compare", "paper", "measured", "kw", "verdict"),
    [
        ("equal", [[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]], {}, "reproduced"),
        ("equal", [[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 5.0]], {}, "contradicted"),
        ("at_most", 8, 12, {}, "contradicted"),
        ("at_most", 8, 8, {}, "reproduced"),
        ("at_least", 0.0, -0.01, {}, "contradicted"),
        ("target", 0.5, 0.52, {"tolerance": 0.05}, "reproduced"),
        ("target", 0.5, 0.6, {"tolerance": 0.05}, "beaten"),
        ("target", 0.82, 0.7, {"tolerance": 0.02}, "short"),
        ("target", 0.1, 0.05, {"tolerance": 0.01, "higher_is_better": False}, "beaten"),
        ("holds", "a sentence", True, {}, "reproduced"),
        ("holds", "a sentence", False, {}, "contradicted"),
    ],
)
def test_verdict_rules(compare, paper, measured, kw, verdict):
    assert judge(_claim(compare, paper, **kw), {"x": measured})["verdict"] == verdict


def test_trained_claims_are_not_comparable_at_quick_or_changed_settings_or_other_data():
    c = _claim("target", 0.5, trained=True, tolerance=0.01, when={"dataset": "mnist"})
    assert judge(c, {"x": 0.5}, quick=True)["why"] == "quick settings"
    assert "epochs=1" in judge(c, {"x": 0.5}, changed={"epochs": 1, "dataset": "mnist"})["why"]
    assert judge(c, {"x": 0.5}, config={"dataset": "mnist"})["verdict"] == "reproduced"
    assert judge(c, {"x": 0.5}, config={"dataset": "fashion-mnist"})["verdict"] == "not comparable"
    assert judge(c, {})["why"] == "not measured in this run"


def test_a_claim_names_a_known_paper_and_comparison():
    with pytest.raises(ValueError):
        Claim(id="c", paper="nobody", source="eq 1", statement="s", paper_value=1, measure="x")
    ids = [c.id for exp in EXPERIMENTS.values() for c in exp.claims]
    assert len(ids) == len(set(ids)), "claim ids are unique"


def test_quick_runs_judge_exact_claims_and_mark_accuracy_claims(tmp_path):
    perm = run_experiment("bam-permutation", quick=True, out=tmp_path / "p", show_progress=False)
    verdicts = {c["id"]: c["verdict"] for c in perm["claims"]}
    assert verdicts["kosko-eq18"] == "reproduced" and verdicts["kosko-recall-X7M"] == "reproduced"
    assert verdicts["kosko-table-i-at-most-eight"] == "contradicted"  # 12 of Table I's pairs are storable
    saved = json.loads((tmp_path / "p" / "results.json").read_text())
    assert saved["claims"] == json.loads(json.dumps(perm["claims"]))
    assert "claim kosko-table-i-at-most-eight [Table I]: contradicted" in (tmp_path / "p" / "summary.txt").read_text()
    bsp = run_experiment("bsp-mnist", quick=True, out=tmp_path / "b", show_progress=False)
    assert {c["verdict"] for c in bsp["claims"]} == {"not comparable"}
    assert {c["why"] for c in bsp["claims"]} == {"quick settings"}
