"""Every Python block in README.md and docs/ runs as written, in a fresh interpreter, and shows something.

A block runs from a new temporary folder with bidir installed and nothing else defined: it fails on any
exception, and on finishing with neither printed output nor an ``assert`` a reader could check. A block that is
deliberately a fragment (a signature, code that needs the user's own files) is preceded by the line
``<!-- fragment -->``: it is only compiled, and there are few of them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
FRAGMENT = "<!-- fragment -->"
MAX_FRAGMENTS = 3  # "few of them"


def markdown_files() -> list[Path]:
    """README.md and every page of the documentation site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def python_blocks(path: Path) -> list[tuple[int, str, bool]]:
    """(line number, code, is a fragment) for each ```python block of a Markdown file."""
    text = path.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip().splitlines()
        blocks.append((line, match.group(1), bool(before) and before[-1].strip() == FRAGMENT))
    return blocks


BLOCKS = [
    pytest.param(path, line, code, fragment, id=f"{path.relative_to(ROOT)}:{line}")
    for path in markdown_files()
    for line, code, fragment in python_blocks(path)
]


def test_the_collector_finds_the_examples():
    """The README's and the model pages' examples are among them, and fragments stay few."""
    where = {p.values[0].relative_to(ROOT).as_posix() for p in BLOCKS}
    assert {"README.md", "docs/getting-started.md", "docs/models/bam.md", "docs/models/bbp.md"} <= where
    assert {"docs/models/bsp.md", "docs/models/style.md"} <= where
    assert sum(p.values[3] for p in BLOCKS) <= MAX_FRAGMENTS


def test_the_collector_reads_fences_and_fragment_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\nprint(1)\n```\n\n<!-- fragment -->\n```python title=x\nf(x)\n```\n")
    assert python_blocks(page) == [(3, "print(1)\n", False), (8, "f(x)\n", True)]


@pytest.mark.slow
@pytest.mark.parametrize("path, line, code, fragment", BLOCKS)
def test_every_python_block_runs_as_written(path, line, code, fragment, tmp_path):
    where = f"{path.relative_to(ROOT)}:{line}"
    compile(code, where, "exec")  # a fragment still has to be Python
    if fragment:
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BIDIR_DATA_DIR", "PYTHONPATH"))}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"{where} failed:\n{done.stderr[-3000:]}"
    shows = done.stdout.strip() or re.search(r"^\s*assert\b", code, re.MULTILINE)
    assert shows, f"{where} printed nothing and asserts nothing: a reader cannot check what it did"


def test_the_docs_hook_renders_every_marked_formula_as_mathml_and_names_a_bad_one():
    pytest.importorskip("latex2mathml")  # in the test and docs extras; skips only where neither is installed
    spec = importlib.util.spec_from_file_location("mathml_hook", ROOT / "hooks" / "mathml.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = types.SimpleNamespace(file=types.SimpleNamespace(src_path="models/bbp.md"))
    html = (
        '<p>with <span class="arithmatex">\\(E_f = -\\ln p_f(y \\mid x)\\)</span> and</p>'
        '<div class="arithmatex">\\[a &lt; b^\\top\\]</div>'
    )
    out = hook.on_page_content(html, page, None, None)
    assert out.count("<math") == 2 and 'display="block"' in out and "arithmatex" not in out
    assert "<mo>&#x0003C;</mo>" in out and "<msub><mi>E</mi><mi>f</mi></msub>" in out  # the escaped < read as <
    with pytest.raises(ValueError, match=r"models/bbp.md: cannot render \$\\left\( a\$"):
        hook.on_page_content('<span class="arithmatex">\\(\\left( a\\)</span>', page, None, None)
