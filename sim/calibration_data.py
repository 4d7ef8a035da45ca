"""Loaders for the versioned data under calibration/: document targets and initial-state assumptions."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Mapping

from sim.parameters import CALIBRATION_DIR

TARGETS_FILE = CALIBRATION_DIR / "targets.csv"
HISTORY_FILE = CALIBRATION_DIR / "history.csv"
INITIAL_STATE_FILE = CALIBRATION_DIR / "initial_state.toml"


@dataclass(frozen=True)
class Target:
    key: str
    value: float
    unit: str
    year: str
    document: str
    quote: str
    measure: str
    role: str
    derivation: str
    tolerance: float | None = None  # absolute tolerance of a good fit; None: the rule of sim.calibrate.tolerance


@cache
def load_targets() -> Mapping[str, Target]:
    with open(TARGETS_FILE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return MappingProxyType({r["key"]: Target(**{**r, "value": float(r["value"])}) for r in rows})


@cache
def _history_rows() -> list[dict[str, str]]:
    with open(HISTORY_FILE, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_history() -> Mapping[str, Mapping[int, float]]:
    """calibration/history.csv, the 2012-2022 published statistics (labelled data assumptions), as
    {series: {year: value}}."""
    history: dict[str, dict[int, float]] = {}
    for row in _history_rows():
        history.setdefault(row["series"], {})[int(row["year"])] = float(row["value"])
    return MappingProxyType({series: MappingProxyType(years) for series, years in history.items()})


def history_unit(series: str) -> str:
    """The unit of a series of calibration/history.csv (one per series)."""
    units = {row["unit"] for row in _history_rows() if row["series"] == series}
    if len(units) != 1:
        raise ValueError(f"{HISTORY_FILE}: series {series!r} has units {sorted(units)}; expected exactly one")
    return units.pop()


def history_mean_target(series: str, variable: str, first: int, last: int) -> Target:
    """A moment of the history: the mean of `series` over the years first to last (all must be in
    calibration/history.csv), measured on the model as the mean of `variable` over the same years."""
    years = load_history()[series]
    missing = [year for year in range(first, last + 1) if year not in years]
    if missing:
        raise ValueError(f"{HISTORY_FILE}: {series} lacks years {missing}")
    unit = history_unit(series)
    value = sum(years[year] for year in range(first, last + 1)) / (last - first + 1)
    return Target(key=f"{series}_mean_{first}_{last}", value=value, unit=unit, year=f"{first}-{last}", document=HISTORY_FILE.name,
                  quote=f"mean of the published {series} path (calibration/history.csv)", measure=f"mean:{variable}:{first}:{last}",
                  role="fit", derivation="history moment (labelled data assumption, pre-2023 published statistics)")


LITERATURE = "literature"  # the `document` of a literature moment


def literature_mean_target(key: str, variable: str, first: int, last: int, value: float, unit: str, tolerance: float,
                           source: str, role: str) -> Target:
    """A moment from the literature (a labelled assumption, with its source): the mean of model path
    `variable` over the years first to last should lie within `tolerance` of `value`; role "fit"
    (fitted by `sim calibrate`) or "check" (reported beside the fit)."""
    return Target(key=key, value=float(value), unit=unit, year=f"{first}-{last}", document=LITERATURE, quote=source,
                  measure=f"mean:{variable}:{first}:{last}", role=role, derivation="literature moment (labelled assumption)",
                  tolerance=float(tolerance))


@dataclass(frozen=True)
class InitialState:
    """2012 figures from the documents (by model quantity) and labelled assumptions (by name)."""

    documents: Mapping[str, float]
    assumptions: Mapping[str, object]


@cache
def load_initial_state() -> InitialState:
    with open(INITIAL_STATE_FILE, "rb") as handle:
        raw = tomllib.load(handle)
    targets = load_targets()
    documents = {quantity: targets[key].value for quantity, key in raw["from_documents"].items()}
    assumptions = {name: entry["value"] for name, entry in raw["assumptions"].items()}
    return InitialState(MappingProxyType(documents), MappingProxyType(assumptions))


def smallest_scale() -> float:
    """The smallest scale a user may ask for (the assumption smallest_scale of initial_state.toml)."""
    return float(load_initial_state().assumptions["smallest_scale"])


def check_scale(value, file, key: str) -> float:
    """A scale from a file or option: a number from smallest_scale() up to 1, refused with the reason."""
    from sim.errors import ScenarioError

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(file, key, f"must be a number, got {value!r}")
    lowest = smallest_scale()
    if not lowest <= value <= 1.0:
        raise ScenarioError(file, key, f"{value!r} is out of bounds: allowed {lowest:g} to 1 (below {lowest:g} a run's 2012 state "
                                       "drifts from the whole population's: the assumption smallest_scale, see `sim assumptions`)")
    return float(value)
