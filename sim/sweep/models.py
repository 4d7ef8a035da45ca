"""The model contract of a sweep (SALib's: problem = names and bounds; model = f(X) -> Y).

A sweep model declares its inputs (name -> declared default and bounds) and its variables, and
evaluates one sample for one seed:

    evaluate(inputs: {name: value}, seed: int) -> {variable: float64 array over `years`}

It must be a pure function of (inputs, seed), and picklable, so that any executor (in-process,
a local process pool, Dask workers) gives the same numbers bit for bit.

- :class:`SimModel`: the firm model. Inputs are names in the one parameter declaration
  (``calibration/parameters.toml`` through :func:`sim.parameters.load_declaration`), lever fields
  'levers.NAME.FIELD' (:func:`sim.levers.lever_input`) and macro values 'macro.PATH.YEARS'
  (:func:`sim.macro.macro_input`); an experiment adds the input 'policy', the number of one of its
  policies (lever settings). A sample overrides the base scenario and runs :func:`sim.runner.simulate`.
- :class:`IshigamiModel`: the Ishigami function, whose Sobol indices are known; it validates the
  whole pipeline (sampling, execution, storage, analysis) against theory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from sim.errors import InputError
from sim.parameters import did_you_mean


@dataclass(frozen=True)
class DeclaredInput:
    """What a model declares about one input: the only source of its default and bounds."""

    name: str
    default: float
    lower: float
    upper: float
    unit: str
    integer: bool = False
    open_bound: str = ""  # "0.0 excluded: why" when a declared bound is itself not allowed


@dataclass(frozen=True)
class SimModel:
    """The firm model around a base scenario; `variables` are the results a sample keeps."""

    scenario: object  # sim.scenario.Scenario (kept untyped so that workers import it lazily)
    scale: float
    variables: tuple[str, ...]
    policies: tuple = ()  # an experiment's (name, {lever: LeverSetting}) pairs, chosen by input POLICY_INPUT

    label = "sim"
    preload = ("sim.runner",)  # imported once by the process-pool server before it forks workers

    @property
    def years(self) -> tuple[int, ...]:
        from sim.macro import YEARS

        return tuple(int(y) for y in YEARS)

    @staticmethod
    def available_variables() -> Mapping[str, tuple[str, str]]:
        """Variables with dims (run, year) only: name -> (units, long_name)."""
        from sim.indicators import VARIABLES

        return {name: (v.units, v.long_name) for name, v in VARIABLES.items() if not v.dims}

    @staticmethod
    def default_variables() -> tuple[str, ...]:
        from sim.indicators import CONTRACT, VARIABLES

        return tuple(name for name in CONTRACT if not VARIABLES[name].dims)

    @staticmethod
    def declared(name: str) -> DeclaredInput | None:
        """A parameter of calibration/parameters.toml, a lever field 'levers.NAME.FIELD' (intensity,
        start_year, end_year; sim.levers.lever_input) or a macro value 'macro.PATH.YEARS'
        (sim.macro.macro_input; declared default: none, base_value reads the scenario's path)."""
        from sim.errors import ScenarioError
        from sim.levers import lever_input
        from sim.macro import MACRO_UNIT, macro_input
        from sim.parameters import load_declaration

        try:
            lever, macro = lever_input(name), macro_input(name)
        except ScenarioError:  # validate() names the file and key with what is allowed
            return None
        if lever is not None:
            return DeclaredInput(name, lever.default, lever.lower, lever.upper, lever.unit, lever.integer)
        if macro is not None:
            return DeclaredInput(name, math.nan, macro.lower, macro.upper, MACRO_UNIT)
        parameter = load_declaration().get(name)
        if parameter is None:
            return None
        return DeclaredInput(name, parameter.default, parameter.lower, parameter.upper, parameter.unit, parameter.is_integer,
                             parameter.excluded())

    @staticmethod
    def input_names() -> tuple[str, ...]:
        from sim.parameters import load_declaration

        return tuple(load_declaration())

    @staticmethod
    def validate(name: str, value: object, file: object, key: str) -> float:
        """The scenario loader's own check: unknown name (did-you-mean), type, whole years, bounds."""
        from sim.levers import LEVER_INPUT_PREFIX, check_lever_input
        from sim.macro import MACRO_INPUT_PREFIX, check_macro_input
        from sim.parameters import validate_value

        if name.startswith(LEVER_INPUT_PREFIX):
            return check_lever_input(name, value, file, key)
        if name.startswith(MACRO_INPUT_PREFIX):
            return check_macro_input(name, value, file, key)
        return validate_value(name, value, file, key)

    def base_value(self, name: str) -> float:
        """The value a sample leaves unchanged: the scenario's override, else calibrated, else default
        (a lever field: the base scenario's setting, else the field's default; a macro value: the
        scenario's path averaged over the input's years)."""
        from sim.levers import lever_input
        from sim.macro import FIRST_YEAR, macro_input
        from sim.parameters import resolve

        lever, macro = lever_input(name), macro_input(name)
        if macro is not None:
            path = self.scenario.macro().growth[macro.path]
            return float(100.0 * path[macro.first - FIRST_YEAR:macro.last - FIRST_YEAR + 1].mean())
        if lever is not None:
            setting = self.scenario.levers.get(lever.lever)
            return float(getattr(setting, lever.field)) if setting is not None else lever.default
        return float(resolve(self.scenario.parameters)[name])

    def describe(self) -> dict:
        """What determines the results besides the inputs (for the resume fingerprint): the
        resolved parameters (declared defaults, the calibrated set, the scenario's overrides)."""
        from sim import __version__
        from sim.levers import describe_levers
        from sim.parameters import resolve

        scenario = self.scenario
        return {
            "model": self.label,
            "sim_version": __version__,
            "scenario": scenario.name,
            "parameters": sorted(resolve(scenario.parameters).items()),
            "macro": sorted((k, sorted(v.items())) for k, v in scenario.macro_overrides.items()),
            "levers": scenario.lever_summary(),
            "policies": [(name, describe_levers(levers)) for name, levers in self.policies],
            "scale": self.scale,
            "variables": list(self.variables),
        }

    def evaluate(self, inputs: Mapping[str, float], seed: int) -> dict[str, np.ndarray]:
        from sim.runner import simulate

        from sim.levers import LEVER_INPUT_PREFIX, with_lever_inputs
        from sim.macro import MACRO_INPUT_PREFIX, with_macro_inputs

        inputs = dict(inputs)
        base_levers = self.policies[int(inputs.pop(POLICY_INPUT))][1] if POLICY_INPUT in inputs else self.scenario.levers
        levers = {name: value for name, value in inputs.items() if name.startswith(LEVER_INPUT_PREFIX)}
        macro = {name: value for name, value in inputs.items() if name.startswith(MACRO_INPUT_PREFIX)}
        parameters = {name: value for name, value in inputs.items() if name not in levers and name not in macro}
        scenario = replace(self.scenario, parameters={**self.scenario.parameters, **parameters},
                           macro_overrides=with_macro_inputs(self.scenario.macro_overrides, macro),
                           levers=with_lever_inputs(base_levers, levers, "sweep sample") if levers else base_levers)
        dataset = simulate(scenario, seed, self.scale)
        return {name: np.asarray(dataset[name].values[0], dtype=np.float64) for name in self.variables}


POLICY_INPUT = "policy"  # an experiment's input: the number of the policy a sample runs


ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1


@dataclass(frozen=True)
class IshigamiModel:
    """y = sin x1 + a sin^2 x2 + b x3^4 sin x1, inputs uniform on [-pi, pi]; one 'year' (0).

    Known indices (a = 7, b = 0.1): S1 = 0.314, 0.442, 0.0; ST = 0.558, 0.442, 0.244.
    """

    variables: tuple[str, ...] = ("y",)

    label = "ishigami"
    preload = ("numpy",)
    years = (0,)

    @staticmethod
    def available_variables() -> Mapping[str, tuple[str, str]]:
        return {"y": ("1", "Ishigami function value")}

    @staticmethod
    def default_variables() -> tuple[str, ...]:
        return ("y",)

    @staticmethod
    def declared(name: str) -> DeclaredInput | None:
        if name not in ("x1", "x2", "x3"):
            return None
        return DeclaredInput(name, 0.0, -math.pi, math.pi, "1")

    @staticmethod
    def input_names() -> tuple[str, ...]:
        return ("x1", "x2", "x3")

    @classmethod
    def validate(cls, name: str, value: object, file: object, key: str) -> float:
        declared = cls.declared(name)
        if declared is None:
            raise InputError(file, key, f"unknown input '{name}'{did_you_mean(name, cls.input_names())}; allowed: x1, x2, x3")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(file, key, f"must be a number, got {type(value).__name__} {value!r}")
        if not declared.lower <= value <= declared.upper:
            raise InputError(file, key, f"{value!r} is out of bounds: allowed {declared.lower} to {declared.upper}")
        return float(value)

    def base_value(self, name: str) -> float:
        return self.declared(name).default

    def describe(self) -> dict:
        return {"model": self.label, "a": ISHIGAMI_A, "b": ISHIGAMI_B, "variables": list(self.variables)}

    def evaluate(self, inputs: Mapping[str, float], seed: int) -> dict[str, np.ndarray]:
        x1, x2, x3 = inputs.get("x1", 0.0), inputs.get("x2", 0.0), inputs.get("x3", 0.0)
        y = math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * math.sin(x1)
        return {"y": np.array([y], dtype=np.float64)}


MODELS = {"sim": SimModel, "ishigami": IshigamiModel}


class SampleError(RuntimeError):
    """A sample's model run failed: names the inputs and seed, so that it can be reproduced."""


def evaluate_sample(model, inputs: Mapping[str, float], seeds: tuple[int, ...], skip_errors: bool = False):
    """One sample, every seed: ({variable: (len(seeds), len(years)) float64}, (error per run, "" if none)).

    The one task every executor runs; module-level so that it pickles by reference. A run that
    raises stops the sweep with SampleError, or with `skip_errors` leaves NaN and its message.
    """
    runs, errors = [], []
    for seed in seeds:
        try:
            runs.append(model.evaluate(inputs, int(seed)))
            errors.append("")
        except Exception as error:
            values = ", ".join(f"{name}={value!r}" for name, value in inputs.items())
            message = f"the {model.label} model failed at {values}, seed {int(seed)}: {type(error).__name__}: {error}"
            if not skip_errors:
                raise SampleError(f"{message} (on_error = \"skip\" in the sweep file leaves failing samples out)") from error
            runs.append({name: np.full(len(model.years), np.nan) for name in model.variables})
            errors.append(message)
    return {name: np.stack([run[name] for run in runs]) for name in model.variables}, tuple(errors)
