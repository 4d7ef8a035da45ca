"""The one parameter declaration: every model parameter with default, bounds, unit and source.

Declared once in ``calibration/parameters.toml``; the scenario loader, the calibrator, the sweeper
and the dashboard all read it through :func:`load_declaration`. A calibrated set
(``calibration/params.toml``, written by ``sim calibrate``) overrides defaults when present.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from sim.errors import ScenarioError

CALIBRATION_DIR = Path(__file__).resolve().parent.parent / "calibration"
DECLARATION_FILE = CALIBRATION_DIR / "parameters.toml"
CALIBRATED_FILE = CALIBRATION_DIR / "params.toml"
KINDS = ("uncertainty", "constant")
OPEN_FIELDS = ("lower_open", "upper_open")  # optional: the reason a bound is excluded


@dataclass(frozen=True)
class Parameter:
    name: str
    default: float
    lower: float
    upper: float
    unit: str
    kind: str
    process: str
    description: str
    source: str
    lower_open: str = ""  # why the lower bound itself is excluded ("" when it is allowed)
    upper_open: str = ""  # why the upper bound itself is excluded

    @property
    def is_assumption(self) -> bool:
        return self.source.startswith("assumption")

    @property
    def is_integer(self) -> bool:
        return self.unit == "year"

    def admits(self, value: float) -> bool:
        """Within the bounds: closed unless declared open."""
        above = value > self.lower if self.lower_open else value >= self.lower
        below = value < self.upper if self.upper_open else value <= self.upper
        return above and below

    def allowed(self) -> str:
        """'0.0 to 8.0 1', or with an open bound 'above 0.0 up to 0.3 1/year (0.0 excluded: why)'."""
        low, high = self.lower, self.upper
        text = {(False, False): f"{low} to {high}", (True, False): f"above {low} up to {high}",
                (False, True): f"from {low} to below {high}", (True, True): f"above {low} and below {high}"}
        text = f"{text[bool(self.lower_open), bool(self.upper_open)]} {self.unit}"
        return text + (f" ({self.excluded()})" if self.excluded() else "")

    def excluded(self) -> str:
        """'0.0 excluded: why' for each open bound ('' when both are allowed)."""
        return "; ".join(f"{bound} excluded: {why}" for bound, why in ((self.lower, self.lower_open), (self.upper, self.upper_open)) if why)


def _parse_declaration(path: Path) -> dict[str, Parameter]:
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    declared = {}
    for name, entry in raw.items():
        fields = {f: entry.get(f) for f in Parameter.__dataclass_fields__ if f not in ("name", *OPEN_FIELDS)}
        missing = [f for f, v in fields.items() if v is None]
        if missing:
            raise ValueError(f"{path}: [{name}] lacks {', '.join(missing)}")
        if entry["kind"] not in KINDS:
            raise ValueError(f"{path}: [{name}] kind must be one of {KINDS}")
        for field in OPEN_FIELDS:  # an open bound names why the bound itself is excluded
            if field in entry and not (isinstance(entry[field], str) and entry[field]):
                raise ValueError(f"{path}: [{name}] {field} must be the reason why the bound is excluded")
        parameter = Parameter(name=name, **fields, **{f: entry[f] for f in OPEN_FIELDS if f in entry})
        if not parameter.admits(parameter.default):
            raise ValueError(f"{path}: [{name}] default outside the bounds ({parameter.allowed()})")
        declared[name] = parameter
    return declared


@cache
def load_declaration() -> Mapping[str, Parameter]:
    """All declared parameters by name (read-only)."""
    return MappingProxyType(_parse_declaration(DECLARATION_FILE))


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def validate_value(name: str, value: object, file: object, key: str) -> float:
    """Check one override against the declaration; return it as a float."""
    declared = load_declaration()
    if name not in declared:
        raise ScenarioError(file, key, f"unknown parameter '{name}'{did_you_mean(name, declared)}")
    parameter = declared[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(file, key, f"must be a number in {parameter.unit}, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ScenarioError(file, key, f"must be a finite number, got {value!r}: allowed {parameter.allowed()}")
    if parameter.is_integer and int(value) != value:
        raise ScenarioError(file, key, f"must be a whole year, got {value!r}")
    if not parameter.admits(value):
        raise ScenarioError(file, key, f"{value!r} is out of bounds: allowed {parameter.allowed()}")
    return float(value)


@cache
def calibrated_values() -> Mapping[str, float]:
    """Values from calibration/params.toml (written by `sim calibrate`), or empty when absent."""
    if not CALIBRATED_FILE.exists():
        return MappingProxyType({})
    with open(CALIBRATED_FILE, "rb") as handle:
        raw = tomllib.load(handle)
    values = raw.get("values", {})
    return MappingProxyType(
        {name: validate_value(name, v, CALIBRATED_FILE, f"values.{name}") for name, v in values.items()}
    )


def resolve(overrides: Mapping[str, float] | None = None, use_calibrated: bool = True) -> dict[str, float]:
    """Defaults, then the calibrated set, then scenario overrides (already validated)."""
    values = {name: p.default for name, p in load_declaration().items()}
    if use_calibrated:
        values.update(calibrated_values())
    values.update(overrides or {})
    return values
