"""The macro environment: exogenous yearly paths (GDP, prices, wages, world demand), as arrays.

Baseline paths live in calibration/macro_baseline.toml; a scenario's [macro] table overrides
any path for any years, with keys that are years or inclusive ranges "YYYY-YYYY".
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Mapping

import numpy as np

from sim.errors import ScenarioError
from sim.parameters import CALIBRATION_DIR, did_you_mean

MACRO_FILE = CALIBRATION_DIR / "macro_baseline.toml"
GROWTH_PATHS = (
    "gdp_nominal_growth",
    "industrial_deflator",
    "wage_growth",
    "world_demand_growth",
    "rest_of_world_mfg_growth",
    "world_price_growth",
    "carbon_factor_change",
)
FIRST_YEAR, LAST_YEAR = 2012, 2035
YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)


def expand_years(table: Mapping[str, float], file: object, path: str) -> dict[int, float]:
    """{"2013": 1.0, "2014-2016": 2.0} -> {2013: 1.0, 2014: 2.0, 2015: 2.0, 2016: 2.0}."""
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
        if not -50.0 <= value <= 100.0:
            raise ScenarioError(file, where, f"{value!r} is out of bounds: allowed -50 to 100 % per year")
        out.update({year: float(value) for year in range(first, last + 1)})
    return out


@cache
def _baseline_raw() -> dict:
    with open(MACRO_FILE, "rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class MacroPaths:
    """Yearly paths indexed like YEARS; growth rates as fractions (0.05 = 5%)."""

    gdp_nominal: np.ndarray  # trillion RMB
    growth: Mapping[str, np.ndarray]
    world_goods_imports_2012: float  # trillion RMB

    def rate(self, name: str, year: int) -> float:
        return float(self.growth[name][year - FIRST_YEAR])


def build_macro(overrides: Mapping[str, Mapping[str, float]] | None = None, file: object = None) -> MacroPaths:
    raw = _baseline_raw()
    growth = {}
    for name in GROWTH_PATHS:
        yearly = expand_years(raw[name]["values"], MACRO_FILE, name)
        yearly.update(expand_years((overrides or {}).get(name, {}), file, f"macro.{name}"))
        missing = [y for y in YEARS[1:] if y not in yearly]
        if missing:
            raise ValueError(f"{MACRO_FILE}: {name} lacks years {missing}")
        growth[name] = np.array([0.0] + [yearly[y] / 100.0 for y in YEARS[1:]])
    for name in overrides or {}:
        if name not in GROWTH_PATHS:
            raise ScenarioError(file, f"macro.{name}", f"unknown macro path{did_you_mean(name, GROWTH_PATHS)}; allowed: {', '.join(GROWTH_PATHS)}")
    gdp = raw["gdp_nominal_2012"]["value"] * np.cumprod(1.0 + growth["gdp_nominal_growth"])
    return MacroPaths(gdp_nominal=gdp, growth=growth, world_goods_imports_2012=float(raw["world_goods_imports_2012"]["value"]))
