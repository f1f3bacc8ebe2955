"""The reproduction report and `bidir reproduce`: claims aggregated over runs, the HTML and Markdown pages, resuming."""

import base64
import dataclasses
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from scipy import stats

from bidir import reproduce as reproduce_module
from bidir.cli import main
from bidir.experiments import EXPERIMENTS, bbp_conv
from bidir.experiments.claims import judge
from bidir.io import jsonable
from bidir.report import collect, render, render_readme_table, write_report
from bidir.reproduce import plan
from bidir.run_folder import identity
from bidir.runner import build_config, paper_differences

ROOT = Path(__file__).resolve().parents[2]
CLAIM_IDS = [c.id for exp in EXPERIMENTS.values() for c in exp.claims]


class _Page(HTMLParser):
    """The ids and the image sources of an HTML page."""

    def __init__(self):
        super().__init__()
        self.ids, self.images = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs["src"])


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# -- the report of the demo's quick runs --------------------------------------------------
def test_the_html_report_holds_every_experiment_and_claim_and_its_images_decode(demo_run):
    folder, _ = demo_run
    html = (folder / "REPORT.html").read_text()
    page = _Page()
    page.feed(html)
    assert {f"exp-{name}" for name in EXPERIMENTS} <= page.ids
    for claim_id in CLAIM_IDS:
        assert f"<b>{claim_id}</b>" in html, claim_id
    figures = sum(len(json.loads(p.read_text())["figures"]) for p in folder.glob("*/results.json"))
    assert len(page.images) == figures > 20
    for src in page.images:
        assert src.startswith("data:image/png;base64,")  # self-contained: nothing to fetch
        image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        image.load()
        assert image.size[0] > 100 and image.size[1] > 100
    assert "Quick runs." in html and "http://" not in html and "https://" not in html


def test_the_summary_counts_are_the_runs_verdicts(demo_run):
    folder, _ = demo_run
    report = collect(folder)
    stored = {}
    for name in EXPERIMENTS:
        if (folder / name).is_dir():  # not the runs of unshipped data, which the demo does not start
            for row in json.loads((folder / name / "results.json").read_text())["claims"]:
                stored[row["id"]] = row["verdict"]
    ran = {r.claim.id: r.verdict for r in report.rows}
    variants = {r.claim.id for r in report.rows if r.claim.variant}  # measured by a variant run of the experiment
    unshipped = {c.id for n in ("style-emnist", "style-fashion") for c in EXPERIMENTS[n].claims}  # no run started
    assert {ran[k] for k in unshipped} == {"not run"} and not unshipped & stored.keys()
    ours = {k: v for k, v in ran.items() if k not in variants | unshipped}
    assert ours == {k: v for k, v in stored.items() if k not in variants}
    assert variants == {"kosko-fig4-nem", "kosko-fig4-nem-not-blind", "jiang-method1-fashion"}
    assert ran["kosko-fig4-nem"] == ran["kosko-fig4-nem-not-blind"] == "not comparable"  # its quick variant run
    assert ran["jiang-method1-fashion"] == "not run"  # Fashion-MNIST is not shipped: the report says which run
    papers_own = [r for r in report.rows if r.claim.origin == "paper"]  # the headline; the others counted apart
    assert sum(report.counts.values()) == len(papers_own) and 0 < len(papers_own) < len(CLAIM_IDS)
    assert sum(o["total"] for o in report.origins()) == len(CLAIM_IDS)
    assert report.counts["reproduced"] > 20 and report.counts["contradicted"] >= 1  # eq 18 reproduced; Table I not
    md = (folder / "REPORT.md").read_text()
    assert f"{len(papers_own)} claims the papers make: **{report.counts['reproduced']} reproduced**" in md
    assert "**The verdict rule.**" in md and "| erratum | a slip in the paper" in md


def test_the_markdown_report_links_every_figure_that_exists(demo_run):
    folder, _ = demo_run
    md = (folder / "REPORT.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links and all((folder / link).is_file() for link in links)
    for claim_id in CLAIM_IDS:
        assert f"**{claim_id}**" in md


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_chromium_renders_the_report(demo_run, tmp_path):
    folder, _ = demo_run
    shot = tmp_path / "report.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1280,1600",
         (folder / "REPORT.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    image = Image.open(shot).convert("L")
    assert image.size == (1280, 1600)
    assert len(image.getcolors(256)) > 16, "the page rendered as more than a blank"


# -- aggregation over seeds ----------------------------------------------------------------
def _fake_run(
    root: Path, folder: str, name: str, seed: int, metrics: dict, quick: bool = False, sets: dict | None = None
) -> None:
    """A finished run folder as the runner writes it (``sets``: its --set strings), claims judged from ``metrics``."""
    exp = EXPERIMENTS[name]
    config = jsonable(dataclasses.asdict(build_config(exp, quick, sets)))
    claims = [judge(c, metrics, quick, paper_differences(exp, config), config) for c in exp.claims]
    path = root / folder
    path.mkdir(parents=True)
    results = {"experiment": name, "quick": quick, "seed": seed, "config": config, "metrics": metrics,
               "claims": claims, "figures": [], "versions": {}}  # fmt: skip
    (path / "results.json").write_text(json.dumps(jsonable(results)))
    invocation = {"seconds": 60.0, "device": "cpu", "threads": 2, "git": {"commit": "0" * 40, "dirty": False}}
    (path / "manifest.json").write_text(
        json.dumps({**identity(name, quick, seed, config, None), "invocations": [invocation]})
    )


def _cifar_metrics(uni: float, bi: float) -> dict:
    side = {"own_centroid_nearest": 10, "relative_error_to_own_centroid": [0.05] * 10}
    return {"unidirectional": {**side, "test_accuracy": uni, "relative_error_to_own_centroid": [1.4] * 10},
            "bidirectional": {**side, "test_accuracy": bi}}  # fmt: skip


@pytest.mark.parametrize(
    ("bi", "verdict"),
    [([0.50, 0.511, 0.489], "contradicted"), ([0.50, 0.515, 0.505], "inconclusive")],  # the second: p about 0.1
)
def test_seeds_give_mean_std_an_interval_and_a_paired_test(tmp_path, bi, verdict):
    uni = [0.52, 0.53, 0.51]
    for s in range(3):
        _fake_run(tmp_path, f"bbp-cifar{f'-seed{s}' if s else ''}", "bbp-cifar", s, _cifar_metrics(uni[s], bi[s]))
    report = collect(tmp_path)
    row = next(r for r in report.rows if r.claim.id == "kosko-fig4-accuracy")
    diffs = [b - u for u, b in zip(uni, bi, strict=True)]
    mean = sum(diffs) / 3
    assert row.verdict == verdict and row.measured.startswith(f"{mean:.4g} ± ")
    lo, hi = stats.t.interval(0.95, 2, loc=mean, scale=stats.sem(diffs))
    assert f"95% interval [{lo:.4g}, {hi:.4g}]" in row.measured and (hi < 0) == (verdict == "contradicted")
    assert row.p_value == pytest.approx(stats.ttest_rel(bi, uni).pvalue, rel=1e-9)  # the one-sample test of the pairs
    assert sorted(row.runs) == ["bbp-cifar", "bbp-cifar-seed1", "bbp-cifar-seed2"]
    centroids = next(r for r in report.rows if r.claim.id == "kosko-fig4-bidirectional")
    assert centroids.verdict == "reproduced" and "(n = 3; 95% interval [10, 10])" in centroids.measured
    missing = next(r for r in report.rows if r.claim.id == "jiang-method1-mnist")
    assert missing.verdict == "not run" and missing.why == f"about {EXPERIMENTS['bsp-mnist'].hours:g} h on 2 cores"


def test_a_claim_measured_per_key_shows_each_key_seed_by_seed(tmp_path):
    for s, (fgsm, pgd) in enumerate([(0.87, 0.88), (0.88, 0.89), (0.9, 0.91)]):
        detection = {"FGSM eps 0.1": {"reconstruction": fgsm}, "PGD eps 0.1": {"reconstruction": pgd}}
        _fake_run(tmp_path, f"detect{s}", "style-detection", s, {"untied": {"detection": detection}})
    row = next(r for r in collect(tmp_path).rows if r.claim.id == "wiyatno-adversarial-guard")
    assert row.verdict == "reproduced"
    assert row.measured == "FGSM eps 0.1: 0.87, 0.88, 0.9; PGD eps 0.1: 0.88, 0.89, 0.91 (n = 3, seed by seed)"


def test_runs_at_other_settings_are_not_comparable_and_say_why(tmp_path):
    _fake_run(tmp_path, "quick", "bbp-cifar", 0, _cifar_metrics(0.5, 0.6), quick=True)
    row = next(r for r in collect(tmp_path).rows if r.claim.id == "kosko-fig4-accuracy")
    assert row.verdict == "not comparable" and row.why == "quick settings" and row.measured == "0.1"


def test_a_run_that_predates_a_claim_is_judged_from_its_metrics(tmp_path):
    _fake_run(tmp_path, "old", "bbp-cifar", 0, _cifar_metrics(0.5, 0.6))
    results = json.loads((tmp_path / "old" / "results.json").read_text())
    del results["claims"]
    (tmp_path / "old" / "results.json").write_text(json.dumps(results))
    row = next(r for r in collect(tmp_path).rows if r.claim.id == "kosko-fig4-accuracy")
    assert row.verdict == "inconclusive" and row.measured == "0.1 (n = 1)" and "1 seed" in row.why
    assert "judged from the stored metrics of an older run" in row.why


def test_the_seeds_of_one_verdict_share_their_code(tmp_path):
    for s in range(3):
        _fake_run(tmp_path, f"run{s}", "bbp-cifar", s, _cifar_metrics(0.5, 0.6 + s / 100))
    manifest = tmp_path / "run2" / "manifest.json"
    record = json.loads(manifest.read_text())
    record["invocations"][0]["git"] = {"commit": "1" * 40, "dirty": False}  # seed 2 ran from other code
    manifest.write_text(json.dumps(record))
    row = next(r for r in collect(tmp_path).rows if r.claim.id == "kosko-fig4-accuracy")
    assert row.verdict == "inconclusive" and sorted(row.runs) == ["run0", "run1"]
    assert "2 seeds" in row.why and "1 run of other code left out (one commit per verdict: 000000000000)" in row.why


def test_runs_off_the_papers_settings_are_shown_as_ours_and_give_no_verdict(tmp_path):
    for s in range(3):
        _fake_run(tmp_path, f"small{s}", "bbp-cifar", s, _cifar_metrics(0.5, 0.6 + s / 100), sets={"hidden": "[16]"})
    row = next(r for r in collect(tmp_path).rows if r.claim.id == "kosko-fig4-accuracy")
    assert row.verdict == "not run" and row.why.startswith("no run at the paper's settings: the paper tier runs ")
    hours = EXPERIMENTS["bbp-cifar"].runs["nem"].hours
    assert f"bbp-cifar-nem (about {hours:g} h) on 2 cores, each over 3 seeds; ours beside it" in row.why
    (ours,) = row.ours
    assert ours["settings"] == "ours: hidden [16] (the paper's: [512, 512, 512, 512, 512, 512, 512])"
    assert ours["verdict"] == "reproduced" and ours["measured"].startswith("0.11 ± 0.01 (n = 3")


def _conv_metrics(bp: list, bbp: list) -> dict:
    def method(acc, **extra):
        mean = sum(acc) / len(acc)
        std = (sum((a - mean) ** 2 for a in acc) / (len(acc) - 1)) ** 0.5
        return {"test_accuracy": acc, "mean": mean, "std": std, "own_centroid_nearest": [10] * len(acc), **extra}

    diff = {"mean": (sum(bbp) - sum(bp)) / len(bp), "p_value": float(stats.ttest_rel(bbp, bp).pvalue)}
    return {"datasets": {"mnist": {"methods": {"bp": method(bp), "bbp": method(bbp, minus_bp=diff)}}}}


def test_a_search_gets_its_runs_side_by_side_with_the_settings_that_differ(tmp_path):
    bp = [0.97, 0.972, 0.968]
    common = {"datasets": '["mnist"]', "methods": '["bp", "bbp"]', "epochs": "5"}
    _fake_run(tmp_path, "w1", "bbp-conv", 0, _conv_metrics(bp, [0.96, 0.955, 0.962]), sets=common)
    _fake_run(tmp_path, "w0.01", "bbp-conv", 0, _conv_metrics(bp, [0.973, 0.972, 0.971]),
              sets={**common, "backward_weight": "0.01"})  # fmt: skip
    report = collect(tmp_path)
    table = report.comparison("bbp-conv")
    assert table["varied"] == ["backward_weight"]
    assert table["common"] == {"datasets": ["mnist"], "methods": ["bp", "bbp"], "epochs": 5}
    assert table["columns"] == ["BP", "B-BP", "N^T(e_k) nearest own centroid after B-BP"]
    rows = {r["run"]: r for r in table["rows"]}
    assert rows["w1"]["settings"] == {"backward_weight": 1.0} and rows["w1"]["label"] == "mnist"
    p = stats.ttest_rel([0.96, 0.955, 0.962], bp).pvalue
    assert rows["w1"]["values"][:2] == ["97.00 ± 0.20%", f"95.90 ± 0.36% (-1.10, p {p:.2g})"]
    assert rows["w0.01"]["values"][1].startswith("97.20 ± 0.10% (+0.20, p ")
    markdown = render(report, "md")
    assert "| `w1` mnist | `backward_weight=1` | 97.00 ± 0.20% |" in markdown
    assert report.comparison("bbp-cifar") is None  # no run of it
    html = render(report, "html")
    assert '<table class="comparison">' in html and "<code>backward_weight=0.01</code>" in html


def test_runs_that_differ_only_in_their_seed_get_no_side_by_side_table(tmp_path):
    for s in range(2):
        _fake_run(tmp_path, f"bbp-cifar-seed{s}", "bbp-cifar", s, {**_cifar_metrics(0.5, 0.6), "dataset": "cifar10"})
    assert collect(tmp_path).comparison("bbp-cifar") is None
    _fake_run(tmp_path, "bbp-cifar-nem", "bbp-cifar", 0, {**_cifar_metrics(0.5, 0.6), "dataset": "cifar10"},
              sets={"trainings": '["unidirectional", "bidirectional", "bidirectional-nem"]'})  # fmt: skip
    table = collect(tmp_path).comparison("bbp-cifar")
    assert table["varied"] == [] and len(table["rows"]) == 3  # which trainings ran: the columns show it
    assert table["columns"][:2] == ["unidirectional: test accuracy", "unidirectional: own centroid nearest"]
    assert {r["label"] for r in table["rows"]} == {"cifar10"} and table["rows"][0]["values"][0] == "50.00%"


def test_report_refuses_a_folder_without_runs_in_one_line(tmp_path):
    out = invoke("report", tmp_path)
    assert out.exit_code == 1 and out.output.strip().count("\n") == 0 and "no run folder with its results" in out.output
    assert not list(tmp_path.iterdir())  # a refused report writes nothing
    out = invoke("report", tmp_path / "nothing-here")
    assert out.exit_code == 1 and "is not a folder" in out.output


# -- reproduce -------------------------------------------------------------------------------
def test_the_paper_tier_holds_every_run_a_claim_needs_over_three_seeds_cheapest_first():
    runs = plan()
    assert [r.hours for r in runs] == sorted(r.hours for r in runs) and {r.tier for r in runs} == {"paper"}
    folders = {r.folder for r in runs}
    assert len(folders) == len(runs)
    assert {"bbp-cifar-nem", "bbp-cifar-nem-seed1", "bbp-cifar-nem-seed2", "style-mnist-paper-seed2"} <= folders
    assert {"bsp-mnist", "bsp-mnist-seed2", "bsp-mnist-fashion-mnist-seed1", "bbp-conv"} <= folders
    assert not folders & {"bbp-cifar", "style-mnist", "style-fashion", "bbp-regression", "bsp-mnist-ours"}  # ours
    assert "bam-permutation-seed1" not in folders  # not seeded: one run is the claim
    for name, exp in EXPERIMENTS.items():  # every paper claim's (and erratum's) runs are in the paper tier
        for claim in (c for c in exp.claims if c.origin in ("paper", "erratum")):
            assert (f"{name}-{claim.variant}" in folders) if claim.variant else any(r.experiment == name for r in runs)
    extended = {r.folder: r.tier for r in plan(extended=True, seeds=1)}
    assert extended["bsp-mnist-ours"] == extended["style-mnist"] == "extended" and "bsp-mnist-seed1" not in extended


def test_reproduce_plan_prints_the_runs_and_their_hours_and_runs_nothing(tmp_path):
    (tmp_path / "data").mkdir()
    out = invoke(
        "reproduce", "bbp-cifar", "abam", "--plan", "--out", tmp_path / "never", "--data-dir", tmp_path / "data"
    )
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0].split()[:3] == ["abam", "paper", "seed"] and "files here]" not in lines[0]  # needs no data
    assert "bidir run bbp-cifar --set 'trainings=[" in out.output and "bbp-cifar-nem-seed2" in out.output
    assert lines[-2].endswith("[no cifar10 files here]")  # counted apart from what runs here
    nem_hours = 3 * EXPERIMENTS["bbp-cifar"].runs["nem"].hours  # its three seeds, none of whose data is here
    assert lines[-1].startswith(f"4 runs; paper tier 0.0 h (+ {nem_hours:.1f} h for runs whose data are not here) on")
    assert not (tmp_path / "never").exists()
    extended = invoke("reproduce", "bbp-cifar", "--plan", "--extended", "--seeds", "1").output
    assert "bbp-cifar  " in extended and "extended tier 0.0 h (+ 0.5 h for runs whose data are not here)" in extended


def test_reproduce_skips_finished_runs_resumes_unfinished_ones_and_writes_the_report(tmp_path):
    names = ["note-engine", "abam", "style-emnist", "--seeds", "1"]
    out = invoke("reproduce", *names, "--quick", "--out", tmp_path, "--no-progress")
    assert out.exit_code == 0, out.output
    assert "[1/3] note-engine: elapsed 0:00:00, about" in out.output  # cheapest first, with an estimate
    log = {e["folder"]: e["status"] for e in json.loads((tmp_path / "reproduce.json").read_text())["runs"]}
    assert log["note-engine"] == "finished (claims: 4 contradicted, 1 reproduced)"  # four errata confirmed
    assert log["abam"] == "finished (claims: 5 reproduced)"
    assert log["style-emnist-paper"].startswith("not run: the emnist-letters files are not in the data folder")
    before = (tmp_path / "abam" / "results.json").read_bytes()
    (tmp_path / "note-engine" / "results.json").unlink()  # an unfinished run: its manifest, no results
    out = invoke("reproduce", *names, "--quick", "--out", tmp_path, "--no-progress")
    log = {e["folder"]: e["status"] for e in json.loads((tmp_path / "reproduce.json").read_text())["runs"]}
    assert log["abam"] == "skipped (finished before)" and log["note-engine"].startswith("finished")
    assert (tmp_path / "abam" / "results.json").read_bytes() == before
    assert "(resumed)" in (tmp_path / "note-engine" / "summary.txt").read_text()
    md = (tmp_path / "REPORT.md").read_text()
    assert "*not run: the emnist-letters files are not in the data folder" in md
    assert f"not run: about {EXPERIMENTS['bsp-mnist'].hours:g} h on 2 cores" in md  # bsp-mnist, never run here


def test_reproduce_refuses_bad_input_before_any_work(tmp_path):
    out = invoke("reproduce", "no-such", "--out", tmp_path / "r")
    assert out.exit_code == 1 and "unknown experiment 'no-such'" in out.output and not (tmp_path / "r").exists()
    out = invoke("reproduce", "abam", "--seeds", "0", "--out", tmp_path / "r")
    assert out.exit_code == 2 and "--seeds" in out.output and not (tmp_path / "r").exists()


# -- the committed results and the README ------------------------------------------------------
def _readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start, end = text.index("<!-- results:start -->"), text.index("<!-- results:end -->")
    return text[start + len("<!-- results:start -->") : end].strip()


def test_the_readme_results_table_is_generated_from_results():
    """README's results section is the table `scripts/update_readme.py` renders from results/, and each of its
    numbers is in results/REPORT.md, which `bidir report results` writes from the run folders."""
    report = collect(ROOT / "results")
    assert _readme_section() == render_readme_table(report).strip(), "run scripts/update_readme.py"
    committed = (ROOT / "results" / "REPORT.md").read_text()
    assert committed == render(report, "md", ROOT / "results"), "run `bidir report results --format md`"
    rows = re.findall(r"^\|[^\n]*\|$", committed, flags=re.M)  # the report's table rows
    for line in _readme_section().splitlines():
        for number in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", line):
            assert any(number in row for row in rows), f"{number} (README: {line[:80]}) is not in results/REPORT.md"


def test_write_report_refuses_two_formats_into_one_file(demo_run, tmp_path):
    folder, _ = demo_run
    with pytest.raises(Exception, match="one --format"):
        write_report(folder, ("html", "md"), tmp_path / "x")


def test_every_published_bbp_conv_run_is_a_run_of_the_search_script():
    """results/bbp-conv-*: each folder's settings are those `scripts/bbp_conv_search.py` declares for it, so one
    command remakes the whole search; and every run the script declares builds a valid config."""
    spec = importlib.util.spec_from_file_location("bbp_conv_search", ROOT / "scripts" / "bbp_conv_search.py")
    search = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(search)
    exp = EXPERIMENTS["bbp-conv"]
    declared = {name: jsonable(dataclasses.asdict(build_config(exp, False, search.sets(changes))))
                for name, changes in search.SEARCH.items()}  # fmt: skip
    published = sorted(p.parent for p in (ROOT / "results").glob("bbp-conv-*/results.json"))
    assert published
    for folder in published:
        assert folder.name in declared, f"{folder.name} is not in scripts/bbp_conv_search.py"
        assert json.loads((folder / "results.json").read_text())["config"] == declared[folder.name], folder.name


def test_every_bbp_conv_method_can_be_set_and_has_a_name_in_the_table():
    assert get_args(bbp_conv.Method) == tuple(bbp_conv.METHODS) == tuple(bbp_conv.NAMES)


def test_a_method_another_experiment_trains_joins_the_table_as_a_column_over_its_paper_setting_runs(tmp_path):
    bp = {"mean": 0.97, "std": 0.01, "test_accuracy": [0.96, 0.97, 0.98]}
    mnist = {"rules": {"bp": bp}, "lr": {"bp": 0.001}, "classes": list("0123456789")}
    rules = {"protocol": {}, "anchors": {}, "datasets": {"mnist": mnist}}
    _fake_run(tmp_path, "rules", "rules", 0, rules)
    _fake_run(tmp_path, "rules-cnn", "rules", 0, rules, sets={"network": "cnn", "rules": '["bp"]'})
    for seed, accuracy in enumerate([0.80, 0.84]):  # method 2 on the MLP's shape, at bsp-mnist's paper settings
        setting = {"test_accuracy": accuracy}
        _fake_run(
            tmp_path,
            f"bsp-mnist-seed{seed}",
            "bsp-mnist",
            seed,
            {"dataset": "mnist", "settings": {"method2-multi": setting}},
        )
    fashion = {"dataset": "fashion-mnist", "settings": {"method1": {"test_accuracy": 0.7}}}
    _fake_run(tmp_path, "bsp-mnist-fashion", "bsp-mnist", 0, fashion,
              sets={"dataset": "fashion-mnist", "settings": '["method1"]'})  # fmt: skip
    small = {"dataset": "mnist", "settings": {"method2-multi": {"test_accuracy": 0.1}}}
    _fake_run(tmp_path, "bsp-mnist-small", "bsp-mnist", 0, small, sets={"train_size": "1000"})  # off the paper's
    table = collect(tmp_path).comparison("rules")
    column = table["columns"].index("BSP method 2 (bsp-mnist)")
    cells = {r["run"]: r["values"][column] for r in table["rows"]}
    assert cells["rules"].startswith("82.00 ± 2.83% over 2 seeds (the BSP paper's protocol")
    assert cells["rules-cnn"] is None  # another network: the column joins the MLP's rows only
    one = tmp_path / "one"
    _fake_run(one, "rules", "rules", 0, rules)
    cells = [r["values"][0] for r in collect(one).comparison("rules")["rows"]]
    assert cells == ["97.00 ± 1.00%; lr 0.001"]  # one run: its table
    multi = {"method2-multi": {"test_accuracy": 0.8}}
    _fake_run(one, "bsp-mnist", "bsp-mnist", 0, {"dataset": "mnist", "settings": multi})
    table = collect(one).comparison("rules")
    cell = table["rows"][0]["values"][table["columns"].index("BSP method 2 (bsp-mnist)")]
    assert cell.startswith("80.00% over 1 seed (the BSP paper's protocol")  # one seed: no spread to show
    assert cell.endswith("not paired with the table's weights)") and cell in render(collect(one), "md")  # whole


def test_the_rules_table_shows_every_measure_in_the_declared_rule_order_and_says_what_a_cell_holds(tmp_path):
    bp = {"mean": 0.97, "std": 0.01, "flops_vs_bp": 1.0, "last_angles": [0.0, 0.0, 0.0]}
    bbp = {
        "mean": 0.95, "std": 0.02, "flops_vs_bp": 2.31, "last_angles": [68.4, 73.0, 77.2],
        "minus_bp": {"mean": -0.02, "p_value": 0.011},
        "backward": {"own_centroid_nearest": [10, 9, 10], "reconstruction_error": [0.05, 0.07],
                     "centroid_error": [0.04, 0.04]},
    }  # fmt: skip
    lr = {"fa": 0.01, "b-bp": 0.0003, "bp": 0.001}
    mnist = {"rules": {"fa": bp, "b-bp": bbp, "bp": bp}, "lr": lr, "classes": list("0123456789")}
    rules = {"protocol": {}, "anchors": {}, "datasets": {"mnist": mnist}}
    _fake_run(tmp_path, "rules", "rules", 0, rules)
    table = collect(tmp_path).comparison("rules")
    assert table["columns"][:3] == ["BP", "B-BP", "FA"]  # as declared, not as results.json sorts them
    assert table["rows"][0]["values"][1] == (
        "95.00 ± 2.00% (-2.00, p 0.011); 2.31x FLOPs; 68°, 73°, 77°; "
        "N^T(e_k) 10/9/10 of 10, error 0.06 (centroid 0.04); lr 0.0003"
    )
    md = render(collect(tmp_path), "md")
    assert "A rule's cell: test accuracy" in md and "at the experiment's defaults (no paper sets it)" in md
    assert "cpu, 2 threads;" in md


def test_the_report_says_how_much_of_the_paper_tier_it_holds_and_what_that_took(tmp_path):
    _fake_run(tmp_path, "abam", "abam", 0, {})  # a paper-tier run, 60 s
    _fake_run(tmp_path, "bsp-mnist", "bsp-mnist", 0, {"dataset": "mnist", "settings": {}})
    _fake_run(tmp_path, "bsp-mnist-seed1", "bsp-mnist", 1, {"dataset": "mnist", "settings": {}}, quick=True)
    _fake_run(tmp_path, "bsp-mnist-seed2", "bsp-mnist", 2, {"dataset": "mnist", "settings": {}},
              sets={"train_size": "1000"})  # fmt: skip  # off the paper's settings: not the paper tier's run
    tier = collect(tmp_path).paper_tier()
    planned = plan()
    assert tier["planned"] == len(planned) and tier["done"] == 2 and tier["seconds"] == 120.0
    assert "abam" not in tier["missing"] and {"bsp-mnist-seed1", "bsp-mnist-seed2"} <= set(tier["missing"])
    assert tier["missing_hours"] == pytest.approx(
        sum(p.hours for p in planned if p.folder not in ("abam", "bsp-mnist"))
    )
    assert f"2 of its {len(planned)} runs are here, 0:02:00 of wall time between them" in render(
        collect(tmp_path), "md"
    )


def test_reproduce_refuses_experiments_with_no_run_in_the_chosen_tiers_in_one_line(tmp_path):
    for args in (["rules", "--plan"], ["rules", "--out", tmp_path / "never"]):
        out = invoke("reproduce", *args)
        assert out.exit_code != 0 and out.output.strip().count("\n") == 0
        assert "rules: no run in the paper tier; --extended adds ours" in out.output
    assert not (tmp_path / "never").exists()
    assert "rules-cnn" in invoke("reproduce", "rules", "--plan", "--extended").output


def test_runs_started_in_order_on_free_workers_end_at_the_longest_workers_total():
    assert reproduce_module.makespan([3, 1, 1, 1], 2) == 3  # the three short ones share the second worker
    assert reproduce_module.makespan([1, 1, 1, 3], 2) == 4  # the long one starts last
    assert reproduce_module.makespan([2, 5, 1], 1) == 8 and reproduce_module.makespan([], 2) == 0


@pytest.mark.skipif(reproduce_module.cores() < 2, reason="--jobs 2 needs two cores")
def test_reproduce_two_at_a_time_gives_the_numbers_of_one_at_a_time_on_as_many_threads(tmp_path):
    names = ["note-engine", "abam", "bbp-cost", "--seeds", "1"]
    out = invoke("reproduce", *names, "--quick", "--jobs", "2", "--out", tmp_path / "two", "--no-progress")
    assert out.exit_code == 0, out.output
    log = {e["folder"]: e["status"] for e in json.loads((tmp_path / "two" / "reproduce.json").read_text())["runs"]}
    assert log == {
        "note-engine": "finished (claims: 4 contradicted, 1 reproduced)",
        "abam": "finished (claims: 5 reproduced)",
        "bbp-cost": log["bbp-cost"],
    }
    assert log["bbp-cost"].startswith("finished") and (tmp_path / "two" / "REPORT.md").is_file()
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, reproduce_module.cores() // 2))  # what each of the two processes ran on
    try:
        out = invoke("reproduce", *names, "--quick", "--out", tmp_path / "one", "--no-progress")
    finally:
        torch.set_num_threads(threads)
    assert out.exit_code == 0, out.output
    for name in ("note-engine", "abam", "bbp-cost"):
        assert (tmp_path / "one" / name / "results.json").read_bytes() == (
            tmp_path / "two" / name / "results.json"
        ).read_bytes(), name
    again = invoke("reproduce", *names, "--quick", "--jobs", "2", "--out", tmp_path / "two", "--no-progress")
    assert again.output.count("skipped (finished before)") == 3  # the same runs: their identity has the threads


@pytest.mark.skipif(reproduce_module.cores() < 2, reason="--jobs 2 needs two cores")
def test_a_run_whose_process_dies_is_failed_and_says_so(tmp_path):
    pool = reproduce_module._Pool(2, 1)
    run = plan(["bbp-permutation"], seeds=1)[0]
    pool.start(run, tmp_path / run.folder, True, "cpu", None)
    ((process, _),) = pool.running.values()
    os.kill(process.pid, signal.SIGKILL)
    ended = pool.collect()
    assert ended.status == "failed: its process ended with exit code -9 (out of memory, or killed)"
    assert not pool.running


def test_reproduce_refuses_more_jobs_than_cores_in_one_line(tmp_path):
    out = invoke("reproduce", "abam", "--jobs", str(reproduce_module.cores() + 1), "--out", tmp_path / "r")
    assert out.exit_code == 1 and "--jobs must be an integer from 1 to this machine's" in out.output
    assert len(out.output.strip().splitlines()) == 1 and not (tmp_path / "r").exists()
    out = invoke("reproduce", "abam", "--plan", "--jobs", "0")
    assert out.exit_code == 1 and "--jobs must be an integer from 1" in out.output


def test_a_parallel_runs_lines_are_marked_with_its_folder_and_written_whole():
    sink = io.StringIO()
    stream = reproduce_module._Prefixed(sink, "[abam] ")
    stream.write("== abam: ")
    stream.write("ABAM\nenergy falls\n")
    stream.write("")
    stream.write("done\n")
    assert sink.getvalue() == "[abam] == abam: ABAM\n[abam] energy falls\n[abam] done\n"
