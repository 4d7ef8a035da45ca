"""The macro environment: exogenous yearly paths (the rest of the economy, wages, world demand and prices), as arrays.

Baseline paths live in calibration/macro_baseline.toml; a scenario's [macro] table overrides
any path for any years, with keys that are years or inclusive ranges "YYYY-YYYY".
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Mapping, NamedTuple

import numpy as np

from sim.errors import ScenarioError
from sim.parameters import CALIBRATION_DIR, did_you_mean

MACRO_FILE = CALIBRATION_DIR / "macro_baseline.toml"
GROWTH_PATHS = (
    "rest_real_growth",
    "rest_deflator",
    "wage_growth",
    "world_demand_growth",
    "rest_of_world_mfg_growth",
    "world_price_growth",
    "carbon_factor_change",
)
FIRST_YEAR, LAST_YEAR = 2012, 2035
LAST_BACKCAST_YEAR = 2022  # 2013-2022 follow observed macro paths (back-casts); later years are projections
YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)


def allowed_range(name: str) -> tuple[float, float]:
    """The yearly values (% per year) a scenario may set for a macro path (its `allowed` in the baseline file)."""
    low, high = _baseline_raw()[name]["allowed"]
    return float(low), float(high)


def expand_years(table: Mapping[str, float], file: object, path: str, allowed: tuple[float, float] = (-50.0, 100.0)) -> dict[int, float]:
    """{"2013": 1.0, "2014-2016": 2.0} -> {2013: 1.0, 2014: 2.0, 2015: 2.0, 2016: 2.0}; every value within
    `allowed` (% per year)."""
    out = {}
    for key, value in table.items():
        where = f"{path}.{key}"
        years = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", str(key))  # digits only: not "2026-", " 2026" or "+2026"
        if years is None:
            raise ScenarioError(file, where, f"year key {str(key)!r} must be YYYY or YYYY-YYYY (digits only)")
        first, last = int(years[1]), int(years[2] or years[1])
        if first > last:
            raise ScenarioError(file, where, f"range starts after it ends ({first} > {last})")
        if first <= FIRST_YEAR or last > LAST_YEAR:
            raise ScenarioError(file, where, f"years must lie in {FIRST_YEAR + 1}-{LAST_YEAR}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(file, where, f"must be a number (% per year), got {value!r}")
        if not allowed[0] <= value <= allowed[1]:
            raise ScenarioError(file, where, f"{value!r} is out of bounds: allowed {allowed[0]:g} to {allowed[1]:g} % per year "
                                             f"(the range the model represents, {MACRO_FILE.name})")
        out.update({year: float(value) for year in range(first, last + 1)})
    return out


MACRO_INPUT_PREFIX = "macro."
MACRO_UNIT = "% per year"


class MacroInput(NamedTuple):
    """What a sweep input 'macro.PATH.YEARS' declares: one value (% per year) of path PATH in the
    years YEARS ("YYYY" or "YYYY-YYYY"), as a scenario's [macro.PATH] "YEARS" = value sets it."""

    path: str
    years: str
    first: int
    last: int
    lower: float
    upper: float


def macro_input(name: str, file=None, key=None) -> MacroInput | None:
    """The declaration of a sweep input 'macro.PATH.YEARS' (None when `name` does not start with
    'macro.'); ScenarioError naming file and key for an unknown path (did you mean) or bad years."""
    if not name.startswith(MACRO_INPUT_PREFIX):
        return None
    path, _, years = name[len(MACRO_INPUT_PREFIX):].partition(".")
    if path not in GROWTH_PATHS:
        raise ScenarioError(file, key, f"unknown macro path '{path}'{did_you_mean(path, GROWTH_PATHS)}; allowed: {', '.join(GROWTH_PATHS)}")
    if not years:
        raise ScenarioError(file, key, f"name the years the value holds: 'macro.{path}.YYYY' or 'macro.{path}.YYYY-YYYY'")
    lower, upper = allowed_range(path)
    covered = expand_years({years: lower}, file, key or name, (lower, upper))  # the year key's own checks
    return MacroInput(path, years, min(covered), max(covered), lower, upper)


def check_macro_input(name: str, value, file, key) -> float:
    """A sweep's value of 'macro.PATH.YEARS', checked as a scenario's [macro.PATH] value is."""
    declared = macro_input(name, file, key)
    return expand_years({declared.years: value}, file, key, (declared.lower, declared.upper))[declared.first]


def with_macro_inputs(overrides: Mapping[str, Mapping[str, float]], values: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """A scenario's macro overrides with a sweep sample's 'macro.PATH.YEARS' values set last, so
    that they hold in their years whatever the scenario set there."""
    merged = {path: dict(years) for path, years in overrides.items()}
    for name, value in values.items():
        declared = macro_input(name)
        table = {key: v for key, v in merged.get(declared.path, {}).items() if key != declared.years}
        table[declared.years] = float(value)
        merged[declared.path] = table
    return merged


@cache
def _baseline_raw() -> dict:
    with open(MACRO_FILE, "rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class MacroPaths:
    """Yearly paths indexed like YEARS; growth rates as fractions (0.05 = 5%)."""

    gdp_nominal_2012: float  # trillion RMB
    growth: Mapping[str, np.ndarray]
    world_goods_imports_2012: float  # trillion RMB

    def rate(self, name: str, year: int) -> float:
        return float(self.growth[name][year - FIRST_YEAR])


def build_macro(overrides: Mapping[str, Mapping[str, float]] | None = None, file: object = None) -> MacroPaths:
    raw = _baseline_raw()
    growth = {}
    for name in GROWTH_PATHS:
        yearly = expand_years(raw[name]["values"], MACRO_FILE, name, allowed_range(name))
        yearly.update(expand_years((overrides or {}).get(name, {}), file, f"macro.{name}", allowed_range(name)))
        missing = [y for y in YEARS[1:] if y not in yearly]
        if missing:
            raise ValueError(f"{MACRO_FILE}: {name} lacks years {missing}")
        growth[name] = np.array([0.0] + [yearly[y] / 100.0 for y in YEARS[1:]])
    for name in overrides or {}:
        if name not in GROWTH_PATHS:
            raise ScenarioError(file, f"macro.{name}", f"unknown macro path{did_you_mean(name, GROWTH_PATHS)}; allowed: {', '.join(GROWTH_PATHS)}")
    return MacroPaths(gdp_nominal_2012=float(raw["gdp_nominal_2012"]["value"]), growth=growth, world_goods_imports_2012=float(raw["world_goods_imports_2012"]["value"]))
