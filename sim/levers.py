"""The policy levers the documents name (BRIEF.md lever table), declared in calibration/levers.toml.

Three parts, in the EMA Workbench manner (levers declared apart from uncertain parameters):
- the declaration: `load_levers()` reads calibration/levers.toml (unit, bounds, allowed target
  dimensions, default target, mechanism and fiscal-cost rule in words, the parameters the
  mechanism assumes, and the sentences of calibration/lever_sources.csv it encodes; the loader
  checks every sentence is there);
- the scenario side: `parse_levers()` validates a scenario's `[levers.NAME]` tables into
  `LeverSetting`s, with one-line ScenarioErrors naming file and key;
- the engine side: `LeverSchedule.table(year)` gives the compiled firm loop one small float array
  per year (one row per lever: the intensity in column 0, then 0/1 masks over firm classes,
  regions, industries and ladder rungs, laid out by sim.lever_table), and sim.lever_table.intensity
  reads a firm's intensity from it inside the loop. A lever outside its years, or not pulled, has intensity 0 and every rule skips it, so a
  lever at zero intensity reproduces the baseline bit for bit.

The names fix the `lever` dimension of `fiscal_cost` in every result.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Mapping, NamedTuple

import numpy as np

from sim import lever_table, taxonomy
from sim.errors import ScenarioError
from sim.parameters import CALIBRATION_DIR, did_you_mean, load_declaration
from sim.processes import Process, parameter_tuple

LEVER_NAMES = (
    "digital_subsidy",
    "rd_superdeduction",
    "equipment_renewal",
    "carbon_constraint",
    "gradient_cultivation",
    "arrears_enforcement",
    "hand_in_hand",
    "ai_empowerment",
    "soe_reform",
    "innovation_centers",
    "trade_shock",
    "relocation",
    "regional_transfer",
)
(DIGITAL_SUBSIDY, RD_SUPERDEDUCTION, EQUIPMENT_RENEWAL, CARBON_CONSTRAINT, GRADIENT_CULTIVATION, ARREARS_ENFORCEMENT,
 HAND_IN_HAND, AI_EMPOWERMENT, SOE_REFORM, INNOVATION_CENTERS, TRADE_SHOCK, RELOCATION, REGIONAL_TRANSFER) = range(13)
N_LEVERS = len(LEVER_NAMES)

LEVERS_FILE = CALIBRATION_DIR / "levers.toml"
SOURCES_FILE = CALIBRATION_DIR / "lever_sources.csv"

# The numbers the mechanisms assume (calibration/parameters.toml, process "levers"), as the typed
# tuple the compiled code receives (see sim.rules.parameter_tuple).
PROCESS = Process(
    name="levers",
    description="Assumed responses and unit costs of the policy levers (calibration/levers.toml).",
    reads=(),
    writes=(),
    parameters=("rd_user_cost_elasticity", "capital_user_cost_elasticity", "carbon_abatement_response",
                "gradient_recognition_response", "hand_in_hand_success", "hand_in_hand_cost", "ai_productivity_boost",
                "soe_reform_innovation_gain", "innovation_center_effect", "innovation_center_cost",
                "relocation_min_export_share", "wage_ratio_central", "wage_ratio_west", "wage_ratio_northeast",
                "relocation_cost_share", "relocation_subsidy_share"),
)
Params = parameter_tuple(PROCESS, __name__)

# Scenario fields of a [levers.NAME] table, and the years a lever may act.
FIELDS = ("start_year", "end_year", "intensity", "target")
DEFAULT_START_YEAR, DEFAULT_END_YEAR = 2024, 2035  # the documents' programme starts in 2024 (003)
FIRST_LEVER_YEAR, LAST_LEVER_YEAR = 2013, 2035
TARGET_DIMS = ("firm_class", "region", "industry", "ladder_rung")
# Group flags of calibration/industries.toml usable in an industry target.
# Levers whose mechanism only reaches one kind of firm, whatever the target (see calibration/levers.toml).
IMPLICIT_POPULATION = {"arrears_enforcement": "SMEs", "hand_in_hand": "SMEs", "soe_reform": "state-owned firms"}
ALL = "all"  # a target name lifting a dimension's restriction (e.g. firm_class = ["all"])
INDUSTRY_GROUPS = ("manufacturing", "traditional", "equipment", "high_tech", "strategic_emerging", "energy_intensive")
DECLARATION_FIELDS = ("unit", "default", "lower", "upper", "targets", "default_target", "mechanism", "fiscal_cost",
                      "first_order", "parameters", "sentences")

# Layout of a row of the yearly lever table (sim.lever_table).
N_RUNGS, CLASS_COLUMN, REGION_COLUMN, INDUSTRY_COLUMN = (lever_table.N_RUNGS, lever_table.CLASS_COLUMN, lever_table.REGION_COLUMN,
                                                         lever_table.INDUSTRY_COLUMN)


# ------------------------------------------------------------------ the declaration
@dataclass(frozen=True)
class LeverDeclaration:
    name: str
    unit: str
    default: float
    lower: float
    upper: float
    targets: tuple[str, ...]
    default_target: Mapping[str, tuple[str, ...]]
    mechanism: str
    fiscal_cost: str
    first_order: str
    parameters: tuple[str, ...]
    sentences: tuple[str, ...]


@cache
def lever_sources() -> Mapping[str, tuple[str, ...]]:
    """Quotes of calibration/lever_sources.csv by lever."""
    quotes: dict[str, list[str]] = {}
    with open(SOURCES_FILE, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            quotes.setdefault(row["lever"], []).append(row["quote"])
    return MappingProxyType({k: tuple(v) for k, v in quotes.items()})


def categories(dim: str) -> tuple[str, ...]:
    """Names a target may use along a dimension (industries: keys, then group flags)."""
    if dim == "firm_class":
        return taxonomy.FIRM_CLASSES
    if dim == "region":
        return taxonomy.REGIONS
    if dim == "ladder_rung":
        return taxonomy.LADDER_RUNGS
    return (*taxonomy.load_industries().keys, *INDUSTRY_GROUPS)


def codes(dim: str, names) -> np.ndarray:
    """0/1 mask over the dimension's category codes for a list of (validated) names."""
    if dim != "industry":
        return np.isin(np.arange(len(categories(dim))), [categories(dim).index(n) for n in names]).astype(np.float64)
    industries = taxonomy.load_industries()
    mask = np.zeros(len(industries))
    for name in names:
        if name in industries.keys:
            mask[industries.index(name)] = 1.0
        else:
            mask[np.asarray(industries[name], dtype=bool)] = 1.0
    return mask


def _check_target(target, lever: str, allowed_dims, file, key) -> dict[str, tuple[str, ...]]:
    """A target table {dim: [names]} checked against the lever's dimensions and the categories."""
    if not isinstance(target, dict):
        raise ScenarioError(file, key, 'must be a table of dimension = ["name", ...], e.g. { firm_class = ["sme"] }')
    checked = {}
    for dim, names in target.items():
        where = f"{key}.{dim}"
        if dim not in allowed_dims:
            if dim in TARGET_DIMS:
                raise ScenarioError(file, where, f"{lever} cannot be targeted by {dim}; allowed: {', '.join(allowed_dims)}")
            raise ScenarioError(file, where, f"unknown target dimension{did_you_mean(dim, allowed_dims)}; "
                                             f"allowed for {lever}: {', '.join(allowed_dims)}")
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ScenarioError(file, where, f'must be a non-empty list of {dim} names, e.g. ["{categories(dim)[0]}"]')
        allowed = (*categories(dim), ALL)
        for name in names:
            if name not in allowed:
                raise ScenarioError(file, where, f"unknown {dim} '{name}'{did_you_mean(name, allowed)}; allowed: {', '.join(allowed)}")
        if ALL in names and len(names) > 1:
            raise ScenarioError(file, where, f'"{ALL}" stands alone: it lifts the {dim} restriction')
        checked[dim] = tuple(dict.fromkeys(names))
    return checked


def _parse_declaration(path=LEVERS_FILE) -> dict[str, LeverDeclaration]:
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    if tuple(raw) != LEVER_NAMES:
        raise ValueError(f"{path}: levers must be declared once each, in the order {', '.join(LEVER_NAMES)}")
    sources, declared_parameters = lever_sources(), load_declaration()
    levers = {}
    for name, entry in raw.items():
        missing = [f for f in DECLARATION_FIELDS if f not in entry]
        unknown = [f for f in entry if f not in DECLARATION_FIELDS]
        if missing or unknown:
            raise ValueError(f"{path}: [{name}] lacks {missing} or has unknown fields {unknown}")
        if not entry["lower"] <= entry["default"] <= entry["upper"] or entry["default"] != 0:
            raise ValueError(f"{path}: [{name}] default must be 0 and within [lower, upper]")
        if not set(entry["targets"]) <= set(TARGET_DIMS):
            raise ValueError(f"{path}: [{name}] targets must be among {TARGET_DIMS}")
        default_target = _check_target(entry["default_target"], name, entry["targets"], path, f"{name}.default_target")
        for parameter in entry["parameters"]:
            if parameter not in declared_parameters or declared_parameters[parameter].process != "levers":
                raise ValueError(f"{path}: [{name}] parameter {parameter!r} is not declared with process 'levers' in parameters.toml")
        if not entry["sentences"]:
            raise ValueError(f"{path}: [{name}] cites no sentence")
        for sentence in entry["sentences"]:
            if not any(sentence in quote for quote in sources.get(name, ())):
                raise ValueError(f"{path}: [{name}] sentence {sentence[:60]!r}... is not in a quote of {name} in {SOURCES_FILE.name}")
        levers[name] = LeverDeclaration(
            name=name, unit=entry["unit"], default=float(entry["default"]), lower=float(entry["lower"]),
            upper=float(entry["upper"]), targets=tuple(entry["targets"]), default_target=MappingProxyType(default_target),
            mechanism=entry["mechanism"], fiscal_cost=entry["fiscal_cost"], first_order=entry["first_order"],
            parameters=tuple(entry["parameters"]), sentences=tuple(entry["sentences"]),
        )
    return levers


@cache
def load_levers() -> Mapping[str, LeverDeclaration]:
    """Every lever's declaration by name, in LEVER_NAMES order (read-only)."""
    return MappingProxyType(_parse_declaration())


# ------------------------------------------------------------------ the scenario side
@dataclass(frozen=True)
class LeverSetting:
    """A lever as a scenario pulls it."""

    name: str
    intensity: float
    start_year: int = DEFAULT_START_YEAR
    end_year: int = DEFAULT_END_YEAR
    target: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dim, names) pairs; () = every firm

    def active(self, year: int) -> bool:
        return self.intensity != 0.0 and self.start_year <= year <= self.end_year

    def fields(self) -> dict:
        return {"start_year": self.start_year, "end_year": self.end_year, "intensity": self.intensity,
                "target": {dim: list(names) for dim, names in self.target}}

    def describe(self) -> str:
        """'digital_subsidy=0.3 (2024-2030; firm_class=sme; region=central)'."""
        where = "; ".join(f"{dim}={','.join(names)}" for dim, names in self.target)
        population = IMPLICIT_POPULATION.get(self.name, "all firms")
        where = f"{population}: {where}" if where and self.name in IMPLICIT_POPULATION else where or population
        return f"{self.name}={self.intensity:g} ({self.start_year}-{self.end_year}; {where})"


def _check_year(value, file, key) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(file, key, f"must be a whole year, got {value!r}")
    if not FIRST_LEVER_YEAR <= value <= LAST_LEVER_YEAR:
        raise ScenarioError(file, key, f"{value} is outside the years a lever may act: {FIRST_LEVER_YEAR}-{LAST_LEVER_YEAR}")
    return value


def _check_intensity(lever: LeverDeclaration, intensity, file, key) -> float:
    if isinstance(intensity, bool) or not isinstance(intensity, (int, float)):
        raise ScenarioError(file, key, f"must be a number in {lever.unit}, got {type(intensity).__name__} {intensity!r}")
    if not lever.lower <= intensity <= lever.upper:
        raise ScenarioError(file, key, f"{intensity!r} is out of bounds: allowed {lever.lower:g} to {lever.upper:g} ({lever.unit})")
    return float(intensity)


# A lever's numeric fields as inputs of a sweep: 'levers.NAME.FIELD' (sim/sweep/spec.py).
LEVER_INPUT_PREFIX = "levers."
LEVER_INPUT_FIELDS = ("intensity", "start_year", "end_year")


class LeverInput(NamedTuple):
    """What a sweep input 'levers.NAME.FIELD' declares: the field's default and bounds."""

    lever: str
    field: str
    default: float
    lower: float
    upper: float
    unit: str
    integer: bool


def lever_input(name: str, file=None, key=None) -> LeverInput | None:
    """The declaration of a sweep input 'levers.NAME.FIELD' (None when `name` does not start with
    'levers.'); ScenarioError naming file and key for an unknown lever or field (did you mean)."""
    if not name.startswith(LEVER_INPUT_PREFIX):
        return None
    lever, _, field = name[len(LEVER_INPUT_PREFIX):].partition(".")
    declared = load_levers()
    if lever not in declared:
        raise ScenarioError(file, key, f"unknown lever '{lever}'{did_you_mean(lever, declared)}; allowed: {', '.join(declared)}")
    if field not in LEVER_INPUT_FIELDS:
        raise ScenarioError(file, key, f"unknown lever field '{field}'{did_you_mean(field, LEVER_INPUT_FIELDS)}; "
                                       f"a sweep varies {', '.join(LEVER_INPUT_FIELDS)}")
    if field == "intensity":
        entry = declared[lever]
        return LeverInput(lever, field, 0.0, entry.lower, entry.upper, entry.unit, False)
    default = DEFAULT_START_YEAR if field == "start_year" else DEFAULT_END_YEAR
    return LeverInput(lever, field, float(default), float(FIRST_LEVER_YEAR), float(LAST_LEVER_YEAR), "year", True)


def check_lever_input(name: str, value, file, key) -> float:
    """A sweep's value of 'levers.NAME.FIELD', checked as a scenario's [levers.NAME] field is."""
    declared = lever_input(name, file, key)
    if declared.field == "intensity":
        return _check_intensity(load_levers()[declared.lever], value, file, key)
    return float(_check_year(value, file, key))


def with_lever_inputs(levers: Mapping[str, LeverSetting], values: Mapping[str, float], file) -> dict[str, LeverSetting]:
    """The levers of a scenario with a sweep sample's lever fields set ('levers.NAME.FIELD' -> value),
    validated and merged as a scenario file extending it would be (parse_levers)."""
    table: dict[str, dict] = {}
    for name, value in values.items():
        declared = lever_input(name, file, f"inputs.{name}")
        table.setdefault(declared.lever, {})[declared.field] = int(round(value)) if declared.integer else float(value)
    return parse_levers(table, file, levers)


def describe_levers(levers: Mapping[str, LeverSetting]) -> str:
    """The levers pulled (intensity not 0), one per `;` as `sim check` names them ('' when none)."""
    return "; ".join(setting.describe() for setting in levers.values() if setting.intensity != 0.0)


def parse_levers(table, file, inherited: Mapping[str, LeverSetting] | None = None) -> dict[str, LeverSetting]:
    """A scenario's [levers] table validated and merged over the levers of the file it extends
    (field by field: a child may change only a lever's intensity, say)."""
    levers = dict(inherited or {})
    if not isinstance(table, dict):
        raise ScenarioError(file, "levers", "must be a table of [levers.NAME] sections")
    declared = load_levers()
    for name, entry in table.items():
        key = f"levers.{name}"
        if name not in declared:
            raise ScenarioError(file, key, f"unknown lever{did_you_mean(name, declared)}; allowed: {', '.join(declared)}")
        if not isinstance(entry, dict):
            raise ScenarioError(file, key, f"must be a table with {', '.join(FIELDS)}")
        for field in entry:
            if field not in FIELDS:
                raise ScenarioError(file, f"{key}.{field}", f"unknown field{did_you_mean(field, FIELDS)}; allowed: {', '.join(FIELDS)}")
        lever = declared[name]
        merged = levers[name].fields() if name in levers else {}
        merged.update({field: value for field, value in entry.items() if field != "target"})
        if "intensity" not in merged:
            raise ScenarioError(file, f"{key}.intensity", f"missing: the lever's intensity in {lever.unit} ({lever.lower:g} to {lever.upper:g})")
        intensity = _check_intensity(lever, merged["intensity"], file, f"{key}.intensity")
        start = _check_year(merged.get("start_year", DEFAULT_START_YEAR), file, f"{key}.start_year")
        end = _check_year(merged.get("end_year", DEFAULT_END_YEAR), file, f"{key}.end_year")
        if start > end:
            raise ScenarioError(file, key, f"start_year {start} is after end_year {end}")
        # The target named here replaces the dimensions it names; the others keep the inherited
        # target (or the lever's default target); ["all"] lifts a dimension's restriction.
        target = dict(levers[name].target) if name in levers else dict(lever.default_target)
        if "target" in entry:
            target.update(_check_target(entry["target"], name, lever.targets, file, f"{key}.target"))
        target = {dim: names for dim, names in target.items() if names != (ALL,)}
        levers[name] = LeverSetting(name=name, intensity=float(intensity), start_year=start, end_year=end,
                                    target=tuple((dim, target[dim]) for dim in TARGET_DIMS if dim in target))
    return {name: levers[name] for name in LEVER_NAMES if name in levers}


# ------------------------------------------------------------------ the engine side
class LeverSchedule:
    """The scenario's levers as one small array per year for the compiled firm loop."""

    def __init__(self, settings: Mapping[str, LeverSetting] | None, n_industries: int):
        self.settings = dict(settings or {})
        self.n_industries = n_industries
        self.masks = np.ones((N_LEVERS, INDUSTRY_COLUMN + n_industries + N_RUNGS))
        self.masks[:, 0] = 0.0
        rung_column = INDUSTRY_COLUMN + n_industries
        columns = {"firm_class": CLASS_COLUMN, "region": REGION_COLUMN, "industry": INDUSTRY_COLUMN, "ladder_rung": rung_column}
        for name, setting in self.settings.items():
            row = LEVER_NAMES.index(name)
            for dim, names in setting.target:
                mask = codes(dim, names)
                self.masks[row, columns[dim]:columns[dim] + mask.size] = mask

    def nominal(self, year: int) -> np.ndarray:
        """Each lever's intensity in the year, in its declared unit (0 when it does not act)."""
        values = np.zeros(N_LEVERS)
        for name, setting in self.settings.items():
            if setting.active(year):
                values[LEVER_NAMES.index(name)] = setting.intensity
        return values

    def table(self, year: int) -> np.ndarray:
        """The year's table: intensity (column 0) and target masks, one row per lever.

        innovation_centers is spread over its targeted industries: the table holds centres per
        targeted industry."""
        table = self.masks.copy()
        table[:, 0] = self.nominal(year)
        if table[INNOVATION_CENTERS, 0] != 0.0:
            covered = table[INNOVATION_CENTERS, INDUSTRY_COLUMN:INDUSTRY_COLUMN + self.n_industries].sum()
            table[INNOVATION_CENTERS, 0] /= max(covered, 1.0)
        return table

    def industry_mask(self, lever: int) -> np.ndarray:
        return self.masks[lever, INDUSTRY_COLUMN:INDUSTRY_COLUMN + self.n_industries].astype(bool)
