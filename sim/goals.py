"""Official goals (rows of calibration/targets.csv whose key ends with `_goal`) and their check.

A goal is measurable when its `measure` names a result variable or `stat:<variable>_peak_year`.
Each kind has one documented reading:
  - "by"      a level goal in a year ("above 17% of GDP by 2025"): met when the variable in that
              year is at least the goal value;
  - "stable"  a level to hold from a year on ("2024 onward", "largely stable"): met when the variable
              stays within STABLE_TOLERANCE of the goal value in every year from then to the end;
  - "peak"    a peak-year goal ("peak before 2030"): met when the variable's highest year is no
              later than the goal year and is not the last simulated year (a series still rising at
              the end has not peaked).
Other goals (measure none, lever intensities, years beyond the horizon) are listed, not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import xarray as xr

from sim.calibration_data import Target, load_targets
from sim.indicators import VARIABLES

# Assumption: "largely stable" (003) has no number in the documents; read it as within 1 percentage
# point of the reference level, the same tolerance issue 3 sets for a share to count as matched.
STABLE_TOLERANCE = 1.0
PEAK_SUFFIX = "_peak_year"


@dataclass(frozen=True)
class Goal:
    target: Target
    kind: str  # "by", "stable", "peak" or "unmeasured"
    variable: str | None
    year: int | None

    @property
    def key(self) -> str:
        return self.target.key

    def reading(self) -> str:
        """How the model checks the goal, in words."""
        t = self.target
        if self.kind == "by":
            return f"{self.variable} in {self.year} at least {t.value:g} {t.unit}"
        if self.kind == "stable":
            return f"{self.variable} within {STABLE_TOLERANCE:g} pp of {t.value:g} {t.unit} in every year from {self.year}"
        if self.kind == "peak":
            return f"year of highest {self.variable} no later than {t.value:g} and before the last simulated year"
        return f"not checked: {t.derivation or 'no model measure'}"

    def label(self) -> str:
        """Short text for a reference line."""
        if self.kind == "stable":
            return f"goal: about {self.target.value:g} from {self.year}"
        if self.kind == "peak":
            return f"goal: peak by {self.target.value:g}"
        return f"goal: {self.target.value:g} by {self.year}"


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
    measure = target.measure
    year = first_year(target.year)
    if measure in VARIABLES and year is not None:
        return Goal(target, "stable" if "onward" in target.year else "by", measure, year)
    name = measure.removeprefix("stat:")
    if measure.startswith("stat:") and name.endswith(PEAK_SUFFIX) and name.removesuffix(PEAK_SUFFIX) in VARIABLES:
        return Goal(target, "peak", name.removesuffix(PEAK_SUFFIX), int(target.value))
    return Goal(target, "unmeasured", None, year)


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


def check_goal(goal: Goal, dataset: xr.Dataset) -> GoalCheck:
    """Check one goal against every run of a result."""
    if goal.kind == "unmeasured" or goal.variable not in dataset:
        return GoalCheck(goal, None, "-")
    series = dataset[goal.variable]
    if bool(series.isnull().all("year").any()):
        return GoalCheck(goal, None, "a run holds only NaN")
    years = dataset["year"].values
    unit = goal.target.unit
    if goal.kind == "by":
        if goal.year not in years:
            return GoalCheck(goal, None, f"{goal.year} not simulated")
        values = series.sel(year=goal.year).values
        met = values >= goal.target.value
        return GoalCheck(goal, float(met.mean()), f"{np.median(values):.3g} {unit} in {goal.year}")
    if goal.kind == "stable":
        later = series.sel(year=years[years >= goal.year])
        if later.sizes["year"] == 0:
            return GoalCheck(goal, None, f"{goal.year} onward not simulated")
        deviation = np.abs(later - goal.target.value).max("year").values
        return GoalCheck(goal, float((deviation <= STABLE_TOLERANCE).mean()),
                         f"largest gap {np.median(deviation):.2g} pp over {goal.year}-{years[-1]}")
    peak_years = years[series.argmax("year").values]
    met = (peak_years <= goal.target.value) & (peak_years < years[-1])
    return GoalCheck(goal, float(met.mean()), f"peak in {np.median(peak_years):g}")
