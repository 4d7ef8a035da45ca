"""The package's layers, checked on every import statement (function-level ones included):
declarations import no rule code; rules import neither the levers' declaration nor the model;
views import no command and run no model; commands share helpers through sim.commands.common,
not through the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sim"


def imports(path: Path) -> set[str]:
    """Every module `path` imports (`from sim import x` counts as sim.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def touches(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imports(path) if any(name == f or name.startswith(f + ".") for f in forbidden))


RULES = sorted((PACKAGE / "rules").glob("*.py"))
COMMANDS = sorted((PACKAGE / "commands").glob("*.py"))
VIEWS = [PACKAGE / name for name in ("plotting.py", "report.py", "summary.py", "calibration_report.py", "dashboard.py")]
DECLARATIONS = [PACKAGE / name for name in ("levers.py", "parameters.py", "processes.py", "lever_table.py", "taxonomy.py",
                                            "firms.py")]


@pytest.mark.parametrize("path", DECLARATIONS, ids=lambda p: p.name)
def test_declarations_import_no_rule_code(path):
    assert not touches(path, ("sim.rules", "sim.year", "sim.model"))


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_rules_import_neither_levers_nor_the_model(path):
    assert not touches(path, ("sim.levers", "sim.model", "sim.year", "sim.runner"))


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: p.name)
def test_views_import_no_command(path):
    assert not touches(path, ("sim.cli", "sim.commands"))


@pytest.mark.parametrize("path", [p for p in VIEWS if p.name != "dashboard.py"], ids=lambda p: p.name)
def test_views_run_no_model(path):
    """Figures and reports draw results; re-running a model for them is the commands' work
    (sim.runner.distributions_of, passed in). The dashboard is the one view that steps a model."""
    assert not touches(path, ("sim.model", "sim.runner"))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_commands_do_not_import_the_command_line(path):
    assert not touches(path, ("sim.cli",))


def test_the_check_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sim.cli import main\n    import sim.model\n")
    assert touches(module, ("sim.cli", "sim.model")) == ["sim.cli", "sim.cli.main", "sim.model"]
