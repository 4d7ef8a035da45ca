"""Scenario files (TOML): validated against the one parameter declaration.

    name = "baseline"                 # optional; defaults to the file stem
    description = "..."
    extends = "baseline.toml"         # optional, relative to this file
    seeds = 1                         # default ensemble size
    scale = 1.0                       # default share of real firms simulated
    [parameters]                      # overrides of calibration/parameters.toml
    share_selection_strength = 2.5
    [macro.rest_real_growth]        # overrides of calibration/macro_baseline.toml
    "2026-2030" = 5.0
    [levers.digital_subsidy]          # policy levers of calibration/levers.toml
    start_year = 2024
    end_year = 2030
    intensity = 0.3
    target = { firm_class = ["sme"], region = ["central"] }

Every fault raises ScenarioError naming the file and the key, with what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sim.calibration_data import check_scale
from sim.errors import InputError, ScenarioError, read_toml
from sim.levers import LeverSetting, describe_levers, parse_levers
from sim.macro import GROWTH_PATHS, MacroPaths, allowed_range, build_macro, expand_years
from sim.output import file_name_problem
from sim.parameters import did_you_mean, validate_value

TOP_LEVEL_KEYS = ("name", "description", "extends", "seeds", "scale", "parameters", "macro", "levers")
MAX_SEEDS = 10_000


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    description: str = ""
    seeds: int = 1
    scale: float = 1.0
    parameters: dict[str, float] = field(default_factory=dict)
    macro_overrides: dict[str, dict[str, float]] = field(default_factory=dict)
    levers: dict[str, LeverSetting] = field(default_factory=dict)

    def macro(self) -> MacroPaths:
        return build_macro(self.macro_overrides, self.path)

    def lever_summary(self) -> str:
        """The levers pulled, one per `;` ('' when none), for provenance attributes."""
        return describe_levers(self.levers)


def referenced_scenario(referrer: Path, key: str, name: object, error: type[InputError] = ScenarioError) -> Path:
    """The scenario file that `referrer` names under `key` (`extends`, a sweep's `scenario`), relative
    to the referrer's folder; `error` names the referrer and key when it is not a file name or no file."""
    if not isinstance(name, str) or not name:
        raise error(referrer, key, f"must be the name of a scenario .toml file (a string), got {name!r}")
    target = referrer.parent / name
    if not target.exists():
        raise error(referrer, key, f"scenario file {name!r} does not exist (paths are relative to {referrer.name})")
    if not target.is_file():
        what = "a directory" if target.is_dir() else "not a regular file"
        raise error(referrer, key, f"{name!r} is {what}; expected a scenario .toml file")
    return target


def check_positive_number(value, path, key, upper, integer=False):
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ScenarioError(path, key, f"must be {'a whole number' if integer else 'a number'}, got {value!r}")
    if not 0 < value <= upper:
        raise ScenarioError(path, key, f"{value!r} is out of bounds: allowed above 0 up to {upper}")
    return value


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve `extends`, and validate a scenario file. The chain of files it extends is read
    first (however long: a loop, not recursion), then applied from the first ancestor down."""
    path = Path(path)
    chain: list[tuple[Path, dict]] = []  # this file, then the file it extends, and so on
    seen: set[Path] = set()
    while True:
        if path.resolve() in seen:
            cycle = " -> ".join(p.name for p in (*(p for p, _ in chain), path))
            raise ScenarioError(chain[-1][0], "extends", f"circular extends: {cycle}; a scenario may not extend itself")
        seen.add(path.resolve())
        raw = read_toml(path, ScenarioError, "scenario")
        for key in raw:
            if key not in TOP_LEVEL_KEYS:
                raise ScenarioError(path, key, f"unknown key{did_you_mean(key, TOP_LEVEL_KEYS)}; allowed: {', '.join(TOP_LEVEL_KEYS)}")
        chain.append((path, raw))
        if "extends" not in raw:
            break
        path = referenced_scenario(path, "extends", raw["extends"])
    scenario = None
    for path, raw in reversed(chain):
        scenario = _apply(path, raw, scenario)
    scenario.macro()  # validates every macro override in full
    return scenario


def _apply(path: Path, raw: dict, parent: Scenario | None) -> Scenario:
    """The scenario of file `path` (its settings `raw`) on top of the one it extends."""
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise ScenarioError(path, key, "must be a string")
    own_name = raw.get("name", path.stem)
    problem = file_name_problem(own_name)
    if problem:
        origin = "" if "name" in raw else " (the file's name: no name is set)"
        raise ScenarioError(path, "name", f"{own_name!r}{origin}: {problem} (it names the result files)")

    parameters = dict(parent.parameters) if parent else {}
    table = raw.get("parameters", {})
    if not isinstance(table, dict):
        raise ScenarioError(path, "parameters", "must be a table of name = value")
    for name, value in table.items():
        parameters[name] = validate_value(name, value, path, f"parameters.{name}")

    macro = {k: dict(v) for k, v in parent.macro_overrides.items()} if parent else {}
    table = raw.get("macro", {})
    if not isinstance(table, dict):
        raise ScenarioError(path, "macro", "must be a table of paths")
    for name, years in table.items():
        if name not in GROWTH_PATHS:
            raise ScenarioError(path, f"macro.{name}", f"unknown macro path{did_you_mean(name, GROWTH_PATHS)}; allowed: {', '.join(GROWTH_PATHS)}")
        if not isinstance(years, dict):
            raise ScenarioError(path, f"macro.{name}", 'must be a table of "YYYY" or "YYYY-YYYY" = % per year')
        expand_years(years, path, f"macro.{name}", allowed_range(name))
        macro.setdefault(name, {}).update(years)

    levers = parse_levers(raw.get("levers", {}), path, parent.levers if parent else None)

    seeds = check_positive_number(raw.get("seeds", parent.seeds if parent else 1), path, "seeds", MAX_SEEDS, integer=True)
    scale = check_scale(raw.get("scale", parent.scale if parent else 1.0), path, "scale")
    return Scenario(
        name=own_name,
        path=path,
        description=raw.get("description", parent.description if parent else ""),
        seeds=seeds,
        scale=float(scale),
        parameters=parameters,
        macro_overrides=macro,
        levers=levers,
    )


def scenario_with(base: Scenario, raw: dict, source: object) -> Scenario:
    """`base` with the settings `raw` applied on top, as a scenario file that extends `base` applies
    its own: `raw` holds a file's keys (parameters, macro, levers, name, description, seeds, scale;
    not `extends`), each validated as `load_scenario` validates a file's, the macro paths in full.
    A fault raises the ScenarioError a file would, with `source` in the place of the file's name.
    Without a `name`, the result keeps `base`'s."""
    if not isinstance(raw, dict):
        raise ScenarioError(source, None, f"must be a table of scenario settings, got {type(raw).__name__}")
    allowed = tuple(key for key in TOP_LEVEL_KEYS if key != "extends")
    for key in raw:
        if key not in allowed:
            raise ScenarioError(source, key, f"unknown key{did_you_mean(str(key), allowed)}; allowed: {', '.join(allowed)}")
    scenario = _apply(Path(str(source)), {"name": base.name, **raw}, base)
    scenario.macro()  # validates every macro override in full, as load_scenario does
    return scenario
