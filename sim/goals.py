"""Goals: the one model of an official goal or a criterion, and its check on a result.

Two sources give goals: rows of calibration/targets.csv whose key ends with `_goal` (the documents'
official goals), and the criteria of calibration/new_industrialization.toml (a measurable reading of
"new industrialization basically achieved by 2035"). Each goal has one of these kinds, each with one
documented reading, checked run by run (`Goal.met`):
  - "at_least" / "at_most"  the variable in `year` is at least / at most `value`
                            ("above 17% of GDP by 2025");
  - "stable"   the variable stays within STABLE_TOLERANCE of `value` in every year from `year` to
               the end ("largely stable", "2024 onward");
  - "min_from" the variable's lowest value from `year` to the end is at least `value`;
  - "peak_by"  the year of the variable's highest value is no later than `value` and is not the last
               simulated year (a series still rising at the end has not peaked).
Other goals (measure none, lever intensities, years beyond the horizon) are "unmeasured": listed,
not checked. A variable is "name", or "name[label]" for one category of a broken-down variable
(`series`).
"""


from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import xarray as xr

from sim.calibration_data import Target, load_targets
from sim.indicators import VARIABLES
from sim.macro import LAST_BACKCAST_YEAR
from sim.parameters import CALIBRATION_DIR

# Assumption: "largely stable" (003) has no number in the documents; read it as within 1 percentage
# point of the reference level, the same tolerance issue 3 sets for a share to count as matched.
STABLE_TOLERANCE = 1.0
PEAK_SUFFIX = "_peak_year"
READING_FILE = CALIBRATION_DIR / "new_industrialization.toml"


KINDS = ("at_least", "at_most", "stable", "min_from", "peak_by", "unmeasured")


@dataclass(frozen=True)
class Goal:
    key: str
    kind: str  # one of KINDS
    variable: str | None  # a series of the result (see `series`); None when unmeasured
    year: int | None  # the year the goal is read in, or from
    value: float  # the level (or, for peak_by, the latest peak year)
    unit: str
    period: str  # the goal's period as its source writes it ("2025", "2024 onward")
    document: str
    quote: str
    derivation: str = ""

    def reading(self) -> str:
        """How the model checks the goal, in words."""
        unit = f" {self.unit}" if self.unit else ""
        if self.kind == "at_least":
            return f"{self.variable} in {self.year} at least {self.value:g}{unit}"
        if self.kind == "at_most":
            return f"{self.variable} in {self.year} at most {self.value:g}{unit}"
        if self.kind == "stable":
            return f"{self.variable} within {STABLE_TOLERANCE:g} pp of {self.value:g}{unit} in every year from {self.year}"
        if self.kind == "min_from":
            return f"{self.variable} at least {self.value:g}{unit} in every year from {self.year}"
        if self.kind == "peak_by":
            return f"year of highest {self.variable} no later than {self.value:g} and before the last simulated year"
        return f"not checked: {self.derivation or 'no model measure'}"

    def label(self) -> str:
        """Short text for a reference line."""
        if self.kind == "stable":
            return f"goal: about {self.value:g} from {self.year}"
        if self.kind == "peak_by":
            return f"goal: peak by {self.value:g}"
        return f"goal: {self.value:g} by {self.year}"

    def met(self, dataset: xr.Dataset) -> xr.DataArray:
        """Whether each run meets the goal (the dataset's dims but year; False where the years it
        reads are not simulated)."""
        data = series(dataset, self.variable)
        years = dataset["year"].values
        if self.kind in ("at_least", "at_most"):
            if self.year not in years:
                return xr.zeros_like(data.isel(year=0, drop=True), dtype=bool)
            value = data.sel(year=self.year, drop=True)
            return value >= self.value if self.kind == "at_least" else value <= self.value
        later = data.sel(year=years[years >= self.year]) if self.kind in ("stable", "min_from") else data
        if later.sizes["year"] == 0:
            return xr.zeros_like(data.isel(year=0, drop=True), dtype=bool)
        if self.kind == "stable":
            return abs(later - self.value).max("year") <= STABLE_TOLERANCE
        if self.kind == "min_from":
            return later.min("year") >= self.value
        if self.kind == "peak_by":  # a run of NaN only has no peak
            peak = peak_year(data.fillna(-np.inf))
            return (peak <= self.value) & (peak < int(years[-1])) & data.notnull().any("year")
        raise ValueError(f"goal {self.key}: kind {self.kind!r} is not checked")


def met_before_projection(goal: "Goal", dataset: xr.Dataset) -> xr.DataArray:
    """Per run: the goal is met, and what decides it lies in the back-cast years (to
    LAST_BACKCAST_YEAR, which follow observed macro paths): a peak already passed (peak_by) or a
    level in a back-cast year (at_least, at_most). Such a goal is reported as met before the
    projection starts, not as a probability of policy success."""
    met = goal.met(dataset)
    if goal.kind == "peak_by":
        decided = peak_year(series(dataset, goal.variable).fillna(-np.inf)) <= LAST_BACKCAST_YEAR
    else:
        decided = goal.kind in ("at_least", "at_most") and goal.year <= LAST_BACKCAST_YEAR
    return met & decided


def series(dataset: xr.Dataset, spec: str) -> xr.DataArray:
    """A result variable with dims (..., run, year): "name", "name[label]" for one category of a
    broken-down variable, "fiscal_cost[all levers]" for the sum over levers."""
    name, _, label = spec.partition("[")
    data = dataset[name]
    label = label.rstrip("]")
    extra = [d for d in data.dims if d not in ("scenario", "run", "year")]
    if label == "all levers":
        return data.sum("lever")
    if label:
        return data.sel({extra[0]: label})
    return data


def peak_year(data: xr.DataArray) -> xr.DataArray:
    """Year of the highest value of each run."""
    index = data.argmax("year")
    return index.copy(data=data["year"].values[index.values])


def first_year(text: str) -> int | None:
    """The first four-digit year in a target's period ("2023 Q1-Q3" -> 2023, "present (2023)" -> 2023)."""
    match = re.search(r"(?<!\d)(\d{4})(?!\d)", text)
    return int(match.group(1)) if match else None


def in_units(target: Target, units: str) -> float:
    """The target's value in a variable's units (a figure in % set beside a variable in shares)."""
    if target.unit.startswith("%") and units == "share":
        return target.value / 100.0
    return target.value


def classify(target: Target) -> Goal:
    """The goal a targets.csv `_goal` row states."""
    measure = target.measure
    year = first_year(target.year)
    common = dict(key=target.key, value=target.value, unit=target.unit, period=target.year, document=target.document,
                  quote=target.quote, derivation=target.derivation)
    if measure in VARIABLES and year is not None:
        return Goal(kind="stable" if "onward" in target.year else "at_least", variable=measure, year=year, **common)
    name = measure.removeprefix("stat:")
    if measure.startswith("stat:") and name.endswith(PEAK_SUFFIX) and name.removesuffix(PEAK_SUFFIX) in VARIABLES:
        return Goal(kind="peak_by", variable=name.removesuffix(PEAK_SUFFIX), year=int(target.value), **common)
    return Goal(kind="unmeasured", variable=None, year=year, **common)


@cache
def load_goals() -> tuple[Goal, ...]:
    return tuple(classify(t) for key, t in load_targets().items() if key.endswith("_goal"))


def goals_for(variable: str) -> list[Goal]:
    return [g for g in load_goals() if g.variable == variable]


@dataclass(frozen=True)
class GoalCheck:
    goal: Goal
    share_met: float | None  # share of runs meeting the goal; None when not checkable
    model_value: str  # what the model gives (median over runs), in words
    before_projection: bool = False  # met in every run by the back-cast years (met_before_projection)


def check_goal(goal: Goal, dataset: xr.Dataset) -> GoalCheck:
    """Check one goal against every run of a result: the share of runs that meet it (Goal.met)."""
    if goal.kind == "unmeasured" or goal.variable.partition("[")[0] not in dataset:
        return GoalCheck(goal, None, "-")
    data = series(dataset, goal.variable)
    if bool(data.isnull().all("year").any()):
        return GoalCheck(goal, None, "a run holds only NaN")
    years = dataset["year"].values
    unit = goal.unit
    share = float(goal.met(dataset).mean())
    if goal.kind in ("at_least", "at_most"):
        if goal.year not in years:
            return GoalCheck(goal, None, f"{goal.year} not simulated")
        return GoalCheck(goal, share, f"{np.median(data.sel(year=goal.year).values):.3g} {unit} in {goal.year}",
                         before_projection=bool(met_before_projection(goal, dataset).all()))
    if goal.kind in ("stable", "min_from"):
        later = data.sel(year=years[years >= goal.year])
        if later.sizes["year"] == 0:
            return GoalCheck(goal, None, f"{goal.year} onward not simulated")
        if goal.kind == "min_from":
            return GoalCheck(goal, share, f"lowest {np.median(later.min('year').values):.3g} {unit} over {goal.year}-{years[-1]}")
        deviation = np.abs(later - goal.value).max("year").values
        return GoalCheck(goal, share, f"largest gap {np.median(deviation):.2g} pp over {goal.year}-{years[-1]}")
    peak = f"peak in {np.median(peak_year(data).values):g}"
    if bool(met_before_projection(goal, dataset).all()):
        return GoalCheck(goal, share, f"{peak}, a back-cast year", before_projection=True)
    return GoalCheck(goal, share, peak)


@cache
def load_reading(path: Path | None = None) -> tuple[Goal, ...]:
    """The criteria of 'new industrialization basically achieved by 2035' (calibration/
    new_industrialization.toml) as goals, checked on load."""
    path = READING_FILE if path is None else path
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)["criterion"]
    criteria = []
    for entry in raw:
        variable = entry["variable"]
        if variable.partition("[")[0] not in VARIABLES or entry["kind"] not in KINDS[:-1]:
            raise ValueError(f"{path}: criterion {entry.get('key')}: unknown variable or kind")
        criteria.append(Goal(key=entry["key"], kind=entry["kind"], variable=variable, year=int(entry["year"]),
                             value=float(entry["threshold"]), unit=VARIABLES[variable.partition("[")[0]].units,
                             period=str(entry["year"]), document=entry["document"], quote=entry["quote"],
                             derivation=entry["derivation"]))
    return tuple(criteria)
