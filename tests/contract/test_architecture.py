"""Dependencies run one way: every import inside the package points down the stack (docs/architecture.md)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "bidir"

# lowest first; a module may import its own package and anything on a lower layer
LAYERS = [
    {"errors"},
    {"validation", "seeds", "distributed", "stats"},
    {"module"},  # the model contract, which io's loader checks a class against
    {"io"},
    {"train", "data", "backprop", "layers", "plotting"},
    {"bam", "bbp", "bsp", "style"},
    {"experiments"},
    {"run_folder"},
    {"runner"},
    {"report"},
    {"reproduce"},
    {"cli"},
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def _unit(module: str) -> str:
    """'bidir.bsp.network' -> 'bsp'; 'bidir.train' -> 'train'; 'bidir' -> '' (the package's __init__)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every bidir module that ``path`` imports (at the top or inside a function), with its line."""
    module = ".".join(("bidir", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found += [(n, node.lineno) for n in names if n.startswith("bidir")]
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("bidir")]
    return found


def test_every_unit_has_a_layer():
    units = {p.stem if p.is_file() else p.name for p in SRC.iterdir() if p.suffix == ".py" or p.is_dir()}
    units -= {"__init__", "__pycache__"}
    assert units <= set(RANK), f"place these in LAYERS: {sorted(units - set(RANK))}"


def test_imports_point_down_the_stack():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        own = _unit(".".join(("bidir", *path.relative_to(SRC).with_suffix("").parts)))
        if own in ("", "__init__"):
            continue  # the package's own __init__ (save/load) sits on top
        for target, line in _imports(path):
            if target == "bidir.__version__":
                continue  # a constant every layer may read
            unit = _unit(target)
            if unit in ("", "__init__"):
                bad.append(f"{path.relative_to(SRC)}:{line} imports the top package (save/load sit on top)")
                continue
            if unit != own and RANK[unit] >= RANK[own]:
                bad.append(f"{path.relative_to(SRC)}:{line} imports {target} ({unit} is not below {own})")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", ["bidir.bam", "bidir.bbp", "bidir.bsp", "bidir.style", "bidir.train", "bidir.data"])
def test_a_model_package_never_loads_the_application_layer(package):
    code = (
        f"import sys, {package}\n"
        "loaded = [m for m in ('bidir.runner', 'bidir.experiments', 'bidir.cli', 'matplotlib') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_ci_runs_the_readme_quick_start_commands_verbatim():
    root = SRC.parents[1]
    readme, ci = (root / "README.md").read_text(), (root / ".ci" / "run").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv .venv")]
    assert len(commands) == 2 and "bidir demo" in commands[0] and "pytest" in commands[1]
    assert "ruff check" in commands[1] and "ruff format --check" in commands[1]  # lint is part of the test command
    for command in commands:
        assert command in ci.splitlines()


def test_no_function_in_the_package_is_over_sixty_lines():
    """Small functions with one job each (issue 26's measure): a longer one is split, not grown."""
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})")
    assert not long, long


def test_no_model_math_lives_in_the_experiments():
    """Experiments compose the model packages: they define no nn.Module of their own (issue 26)."""
    found = []
    for path in sorted((SRC / "experiments").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("Module") for b in node.bases):
                found.append(f"{path.name}:{node.lineno} {node.name}")
    assert not found, found
