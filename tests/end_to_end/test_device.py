"""`--device cuda` for every experiment: each quick run finishes on the GPU and records it (skips without one)."""

import json

import pytest
import torch
from click.testing import CliRunner

from bidir.cli import main
from bidir.experiments import EXPERIMENTS

pytestmark = [
    pytest.mark.device,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_runs_quick_on_cuda(name, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", name, "--quick", "--device", "cuda", "--no-progress", "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["invocations"][-1]["device"].startswith("cuda")
    assert json.loads((out / "results.json").read_text())["experiment"] == name
