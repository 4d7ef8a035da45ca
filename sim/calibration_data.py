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


@cache
def load_targets() -> Mapping[str, Target]:
    with open(TARGETS_FILE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return MappingProxyType({r["key"]: Target(**{**r, "value": float(r["value"])}) for r in rows})


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
