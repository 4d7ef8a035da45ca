"""Each process's declaration (sim.processes.Process) against the code: the parameters it takes
against calibration/parameters.toml's `process` labels, and the firm columns its rules touch
against its declared reads and writes."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

import pytest

import sim.levers
import sim.rules
from sim.firms import FIRM_STATE
from sim.parameters import load_declaration

RULE_MODULES = [importlib.import_module(f"sim.rules.{info.name}") for info in pkgutil.iter_modules(sim.rules.__path__)]
DECLARING = [*RULE_MODULES, sim.levers]
BUILDER = "initial"  # parameters of the 2012 population (sim/population.py), which is not a yearly process


def test_parameter_labels_agree_with_the_processes_that_take_them():
    declared = load_declaration()
    taken = {name: module.PROCESS.name for module in DECLARING for name in module.PROCESS.parameters}
    names = {module.PROCESS.name for module in DECLARING}
    wrong = {name: (spec.process, taken.get(name)) for name, spec in declared.items()
             if taken.get(name, BUILDER if spec.process not in names else None) != spec.process}
    assert not wrong, f"parameters.toml label vs the process that takes it: {wrong}"
    assert set(taken) <= set(declared)


def columns_touched(module) -> tuple[set[str], set[str]]:
    """(read, written) firm columns of the module's functions that take the bundle as `f`: a column
    is written where `f.column[...]` is assigned to (an augmented assignment also reads it)."""
    tree = ast.parse(inspect.getsource(module))
    read, written = set(), set()
    for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
        if "f" not in {argument.arg for argument in function.args.args}:
            continue
        targets = set()
        for node in ast.walk(function):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                        if isinstance(element, ast.Subscript):
                            targets.add(id(element.value))
                if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
                    target = node.target.value
                    if isinstance(target, ast.Attribute):
                        read.add(target.attr)
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "f":
                (written if id(node) in targets else read).add(node.attr)
    return read, written


@pytest.mark.parametrize("module", [m for m in RULE_MODULES if columns_touched(m) != (set(), set())],
                         ids=lambda m: m.__name__)
def test_rules_touch_only_the_columns_they_declare(module):
    read, written = columns_touched(module)
    assert read | written <= set(FIRM_STATE), (read | written) - set(FIRM_STATE)
    declared_reads, declared_writes = set(module.PROCESS.reads), set(module.PROCESS.writes)
    assert written <= declared_writes, f"written but not declared: {written - declared_writes}"
    assert read <= declared_reads | declared_writes, f"read but not declared: {read - declared_reads - declared_writes}"


def test_the_check_sees_reads_and_writes():
    """The AST reading on a rule of known columns (sim.rules.production.produce)."""
    from sim.rules import production

    read, written = columns_touched(production)
    assert written == {"previous_value_added", "value_added", "employment"}
    assert {"value_added", "revenue", "productivity"} <= read


def test_draw_numbers_cannot_collide():
    """The draw-number table refuses two uses of one stream key that share a number, and the
    table the rules use passes (sim.randomness checks it at import)."""
    from sim.randomness import DRAW_NUMBERS, check_draw_numbers

    check_draw_numbers(DRAW_NUMBERS)
    with pytest.raises(ValueError, match="overlap"):
        check_draw_numbers({"innovation": {"peer": (10, 128), "size": (100, 1)}})
    check_draw_numbers({"innovation": {"peer": (10, 90), "size": (100, 1)}})
