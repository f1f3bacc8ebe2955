import functools
import http.server
import os
import random
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings

# CI draws the same examples every run (a gate must not flake); a developer's runs draw new ones each time
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TIERS = ("exact", "numerical", "statistical", "end_to_end", "contract")  # each folder of tests/ is one oracle


def pytest_collection_modifyitems(config, items):
    """Mark every test with its tier, its folder (``pytest -m exact``); ``-m "not slow"`` is the quick loop."""
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _reseed():
    """Every test starts from the same RNG state, so the suite is order-independent."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture
def float64():
    """Run a test in float64 (oracle comparisons to 1e-10); modules opt in with usefixtures."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test reads or writes the user's real cache or data folder."""
    monkeypatch.setenv("BIDIR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BIDIR_DATA_DIR", raising=False)


@pytest.fixture
def shared_data():
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(tmp_path):
    """Serve a temporary folder on 127.0.0.1 (never the internet); yields (folder, base_url)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """`bidir demo` once per session (every experiment, quick, and the report): (its folder, its output)."""
    from click.testing import CliRunner

    from bidir.cli import main

    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:  # the same isolation as _isolated_cache, for the whole session
        mp.setenv("BIDIR_CACHE_DIR", str(out / "cache"))
        mp.delenv("BIDIR_DATA_DIR", raising=False)
        result = CliRunner().invoke(main, ["demo", "--out", str(out / "runs"), "--no-progress"], catch_exceptions=False)
    return out / "runs", result


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """A finished bam-permutation run (the cheapest experiment) to aim bad runs at; tests leave it as it is."""
    from click.testing import CliRunner

    from bidir.cli import main

    out = tmp_path_factory.mktemp("finished") / "run"
    result = CliRunner().invoke(main, ["run", "bam-permutation", "--quick", "--no-progress", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out
