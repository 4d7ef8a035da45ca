"""Sweep files (TOML), validated against the model's one parameter declaration.

    name = "morris_quick"               # optional; defaults to the file stem
    description = "..."
    scenario = "../baseline.toml"       # the base scenario, relative to this file (model "sim")
    model = "sim"                       # optional: "sim" (default) or "ishigami" (test function)
    method = "morris"                   # grid | oat | morris | sobol | lhs
    seeds = 1                           # runs per sample
    seed_policy = "common"              # "common": seeds 1..n for every sample (common random
                                        # numbers); "independent": derived from (sample, seed number)
    scale = 0.01                        # optional; default the scenario's
    sampler_seed = 1                    # seed of the design and of the bootstrap confidence intervals
    on_error = "stop"                   # a failing run stops the sweep; "skip": keep it as missing
                                        # and leave it out of the analysis (morris: the steps to and
                                        # from it; sobol: its whole block; others: the sample)
    variables = ["manufacturing_va"]    # optional: results kept per sample (default: the contract's)

    [options]                           # per method; see METHOD_OPTIONS
    trajectories = 10

    [inputs.share_selection_strength]   # a name in calibration/parameters.toml
    bounds = [1.0, 4.0]                 # within the declared bounds; omit for the declared bounds
    [inputs.markup]
    values = [0.1, 0.15, 0.2]           # grid and oat only
    [inputs."levers.digital_subsidy.intensity"]   # a lever field: intensity, start_year or end_year
    bounds = [0.0, 0.5]                 # within the lever's declared range (calibration/levers.toml)

    [[outputs]]
    variable = "manufacturing_va"       # a result variable in a year,
    year = 2035
    [[outputs]]
    variable = "industrial_co2"         # or its cumulative or average over years (inclusive)
    statistic = "cumulative"            # value | cumulative | mean
    years = [2023, 2035]
    name = "co2_2023_2035"              # optional label

An experiment (method = "experiment", EMA Workbench's shape) crosses policies with uncertainties:
every uncertainty sample (a Latin hypercube over [inputs]: parameters and macro values
'macro.PATH.YEARS', never levers) runs under every policy, on the same seeds:

    method = "experiment"
    goals = ["sei_share_gdp_goal", "carbon_peak"]   # optional: checked run by run; PRIM finds where they fail
    [options]
    samples = 16
    [policies.no_policy]                # lever settings over the base scenario's, as a scenario's [levers]
    [policies.digital.levers.digital_subsidy]
    intensity = 0.3
    [inputs."macro.world_demand_growth.2023-2035"]
    bounds = [0.0, 6.0]                 # % per year, within the path's allowed range

Every fault raises InputError naming the file and the key, with what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError, read_toml
from sim.levers import LEVER_INPUT_PREFIX
from sim.parameters import did_you_mean
from sim.output import file_name_problem
from sim.sweep.models import MODELS

METHODS = ("grid", "oat", "morris", "sobol", "lhs", "experiment")
SEED_POLICIES = ("common", "independent")
ON_ERROR = ("stop", "skip")
STATISTICS = ("value", "cumulative", "mean")
TOP_LEVEL_KEYS = (
    "name", "description", "scenario", "model", "method", "seeds", "seed_policy", "scale",
    "sampler_seed", "on_error", "variables", "options", "inputs", "outputs", "policies", "goals",
)
# method -> option -> (default, kind, lowest allowed)
METHOD_OPTIONS: dict[str, dict[str, tuple]] = {
    "grid": {"levels": (3, int, 2)},
    "oat": {"levels": (3, int, 2)},
    "morris": {
        "trajectories": (10, int, 2),
        "levels": (4, int, 2),
        "optimal_trajectories": (None, int, 2),
        "resamples": (1000, int, 10),
        "conf_level": (0.95, float, 0.5),
    },
    "sobol": {
        "samples": (256, int, 2),
        "second_order": (False, bool, None),
        "resamples": (1000, int, 10),
        "conf_level": (0.95, float, 0.5),
    },
    "lhs": {"samples": (100, int, 2)},
    "experiment": {"samples": (16, int, 2)},  # uncertainty samples (Latin hypercube), each run under every policy
}
POLICY_KEYS = ("description", "levers")
MAX_SEEDS = 10_000
MAX_SAMPLES = 10_000_000


class SweepError(InputError):
    """A sweep file is missing, malformed or violates the parameter declaration."""


@dataclass(frozen=True)
class Input:
    name: str
    lower: float
    upper: float
    values: tuple[float, ...] | None  # explicit levels (grid, oat), else None
    integer: bool
    base: float  # value when not varied (oat's centre point)
    unit: str


@dataclass(frozen=True)
class Output:
    name: str
    variable: str
    statistic: str  # value | cumulative | mean
    first: int
    last: int
    label: str  # for tables and figures


@dataclass(frozen=True)
class SweepSpec:
    name: str
    path: Path
    description: str
    model: object  # SimModel | IshigamiModel
    method: str
    options: dict
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    seeds: int
    seed_policy: str
    sampler_seed: int
    on_error: str = "stop"
    policies: tuple[str, ...] = ()  # an experiment's policy names, in the order of input 'policy'
    policy_descriptions: tuple[str, ...] = ()
    goals: tuple = ()  # sim.goals.Goal: an experiment's goals, checked run by run and searched by PRIM

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.inputs]

    def problem(self) -> dict:
        """SALib's problem: names and bounds."""
        return {"num_vars": len(self.inputs), "names": self.names, "bounds": [[i.lower, i.upper] for i in self.inputs]}


def _number(value, path, key, kind, lowest):
    if kind is bool:
        if not isinstance(value, bool):
            raise SweepError(path, key, f"must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise SweepError(path, key, f"must be {'a number' if kind is float else 'a whole number'}, got {value!r}")
    if not math.isfinite(value):
        raise SweepError(path, key, f"must be a finite number, got {value!r}")
    if lowest is not None and value < lowest:
        raise SweepError(path, key, f"{value!r} is too small: allowed {lowest} or more")
    return kind(value)


def _options(raw, method, path) -> dict:
    allowed = METHOD_OPTIONS[method]
    table = raw.get("options", {})
    if not isinstance(table, dict):
        raise SweepError(path, "options", "must be a table of option = value")
    options = {}
    for key, (default, kind, lowest) in allowed.items():
        options[key] = default if key not in table else _number(table[key], path, f"options.{key}", kind, lowest)
    for key in table:
        if key not in allowed:
            raise SweepError(path, f"options.{key}", f"unknown option for method '{method}'{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}")
    if method == "sobol" and options["samples"] & (options["samples"] - 1):
        raise SweepError(path, "options.samples", f"must be a power of 2 for the Sobol sequence (e.g. {1 << options['samples'].bit_length()}), got {options['samples']}")
    if method == "morris":
        if options["conf_level"] >= 1:
            raise SweepError(path, "options.conf_level", "must lie below 1")
        optimal = options["optimal_trajectories"]
        if optimal is not None and optimal >= options["trajectories"]:
            raise SweepError(path, "options.optimal_trajectories", f"must be fewer than trajectories ({options['trajectories']})")
    if method == "sobol" and options["conf_level"] >= 1:
        raise SweepError(path, "options.conf_level", "must lie below 1")
    return options


def _model(raw, path, scale_override):
    label = raw.get("model", "sim")
    if label not in MODELS:
        raise SweepError(path, "model", f"unknown model {label!r}{did_you_mean(str(label), MODELS)}; allowed: {', '.join(MODELS)}")
    cls = MODELS[label]
    available = cls.available_variables()
    names = raw.get("variables")
    if names is not None:
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise SweepError(path, "variables", "must be a non-empty list of result variable names")
        for name in names:
            if name not in available:
                raise SweepError(path, "variables", f"unknown variable '{name}'{did_you_mean(name, available)}")
    if label == "ishigami":
        if "scenario" in raw or "scale" in raw:
            raise SweepError(path, "scenario" if "scenario" in raw else "scale", "the ishigami model takes no scenario or scale")
        return cls, names, None
    if "scenario" not in raw:
        raise SweepError(path, "scenario", "missing: the base scenario file, relative to the sweep file")
    from sim.calibration_data import check_scale
    from sim.scenario import load_scenario, referenced_scenario

    scenario = load_scenario(referenced_scenario(path, "scenario", raw["scenario"], SweepError))
    scale = scenario.scale
    if "scale" in raw:
        scale = check_scale(raw["scale"], path, "scale")
    if scale_override is not None:
        scale = scale_override
    return cls, names, (scenario, scale)


def _sections(raw, path, key: str, missing: str) -> dict:
    """The [key.NAME] sections of a sweep file; SweepError(missing) when there are none."""
    table = raw.get(key)
    if not isinstance(table, dict) or not table:
        raise SweepError(path, key, missing)
    return table


def _inputs(raw, path, cls, model, method) -> tuple[Input, ...]:
    inputs = []
    for name, entry in _sections(raw, path, "inputs", "missing or empty: a table [inputs.NAME] per varied input").items():
        key = f"inputs.{name}"
        declared = cls.declared(name)
        if declared is None:
            cls.validate(name, 0.0, path, key)  # raises the declaration's own "unknown parameter" message
            raise SweepError(path, key, f"unknown input '{name}'")
        if not isinstance(entry, dict):
            raise SweepError(path, key, "must be a table with bounds = [lower, upper] or values = [...] (or empty: the declared bounds)")
        for sub in entry:
            if sub not in ("bounds", "values"):
                raise SweepError(path, f"{key}.{sub}", "unknown key; allowed: bounds, values")
        values = None
        if "values" in entry:
            if "bounds" in entry:
                raise SweepError(path, key, "give bounds or values, not both")
            if method not in ("grid", "oat"):
                raise SweepError(path, f"{key}.values", f"value lists are for methods grid and oat; method '{method}' samples within bounds = [lower, upper]")
            listed = entry["values"]
            if not isinstance(listed, list) or len(listed) < 2:
                raise SweepError(path, f"{key}.values", "must be a list of at least two values")
            values = tuple(cls.validate(name, v, path, f"{key}.values") for v in listed)
            if len(set(values)) != len(values):
                raise SweepError(path, f"{key}.values", "lists a value twice")
            lower, upper = min(values), max(values)
        elif "bounds" in entry:
            bounds = entry["bounds"]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise SweepError(path, f"{key}.bounds", "must be [lower, upper]")
            lower, upper = (cls.validate(name, b, path, f"{key}.bounds") for b in bounds)
            if not lower < upper:
                what = "zero-width" if lower == upper else "inverted"
                raise SweepError(path, f"{key}.bounds", f"{what} bounds [{bounds[0]}, {bounds[1]}]: lower must lie below upper (declared range {declared.lower} to {declared.upper} {declared.unit})")
        else:
            if declared.open_bound:  # a sampler would put points on the excluded bound
                raise SweepError(path, key, f"the declared bounds are open ({declared.open_bound}); give bounds = [lower, upper] inside them")
            lower, upper = declared.lower, declared.upper  # read from the declaration, not copied
            if not lower < upper:
                raise SweepError(path, key, f"declared bounds are zero-width ({lower}); nothing to vary")
        if declared.integer and values is None and upper - lower < 1:
            raise SweepError(path, f"{key}.bounds", "a whole-year input needs bounds at least one year apart")
        base = model.base_value(name) if model is not None else declared.default
        inputs.append(Input(name, float(lower), float(upper), values, declared.integer, float(base), declared.unit))
    if method == "experiment":
        for item in inputs:
            if item.name.startswith(LEVER_INPUT_PREFIX):
                raise SweepError(path, f"inputs.{item.name}", "an experiment's levers are set by its [policies]; "
                                                             "its inputs are uncertainties (parameters, macro values)")
    if any(i.name.startswith(LEVER_INPUT_PREFIX) for i in inputs):  # only the firm model declares lever inputs
        _check_lever_inputs(inputs, model.scenario, path)
    return tuple(inputs)


def _experiment(raw, path, method, context) -> tuple[list[tuple[str, dict, str]], tuple]:
    """An experiment's policies, (name, {lever: LeverSetting}, description) with each policy's levers
    merged over the base scenario's as a scenario extending it would be, and its goals."""
    if method != "experiment":
        for key in ("policies", "goals"):
            if key in raw:
                raise SweepError(path, key, f"{key} belong to method 'experiment' (policies crossed with uncertainties)")
        return [], ()
    if context is None:
        raise SweepError(path, "model", "method 'experiment' runs the firm model (model = \"sim\")")
    from sim.errors import ScenarioError
    from sim.levers import parse_levers

    policies = []
    table = _sections(raw, path, "policies", "missing: a table [policies.NAME] per policy (lever settings; an empty one is the base scenario)")
    for name, entry in table.items():
        key = f"policies.{name}"
        problem = file_name_problem(name)
        if problem:
            raise SweepError(path, key, f"{name!r}: {problem} (it names the policy in results and tables)")
        if not isinstance(entry, dict):
            raise SweepError(path, key, "must be a table with levers (and a description)")
        for sub in entry:
            if sub not in POLICY_KEYS:
                raise SweepError(path, f"{key}.{sub}", f"unknown key{did_you_mean(sub, POLICY_KEYS)}; allowed: {', '.join(POLICY_KEYS)}")
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise SweepError(path, f"{key}.description", "must be a string")
        try:
            levers = parse_levers(entry.get("levers", {}), path, context[0].levers)
        except ScenarioError as error:  # the scenario loader's message, under this policy's key
            raise SweepError(path, f"{key}.{error.key}", error.message) from None
        policies.append((name, levers, description))
    return policies, _goals(raw, path)


def _goals(raw, path) -> tuple:
    """The goals an experiment checks: keys of sim.goals (official goals and the 2035 reading)
    measured on a result variable by year."""
    from sim.goals import load_goals, load_reading

    keys = raw.get("goals", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise SweepError(path, "goals", "must be a list of goal keys")
    known = {goal.key: goal for goal in (*load_goals(), *load_reading())}
    measured = [key for key, goal in known.items() if goal.kind != "unmeasured" and "[" not in goal.variable]
    goals = []
    for key in keys:
        if key not in measured:
            why = "is not measured on a yearly result variable" if key in known else "is not a goal"
            raise SweepError(path, "goals", f"'{key}' {why}{did_you_mean(key, measured)}; allowed: {', '.join(measured)}")
        if known[key] in goals:
            raise SweepError(path, "goals", f"'{key}' is listed twice")
        goals.append(known[key])
    return tuple(goals)


def _policy_input(policies) -> Input:
    """The experiment's input 'policy': the number of the policy a sample runs."""
    from sim.sweep.models import POLICY_INPUT

    return Input(POLICY_INPUT, 0.0, float(len(policies) - 1), tuple(float(i) for i in range(len(policies))), True, 0.0, "1")


def _check_lever_inputs(inputs: list[Input], scenario, path) -> None:
    """Lever fields varied together must make a lever every sample can pull: a lever's years are
    varied only where the base scenario pulls it or its intensity is varied too, and its start can
    never fall after its end."""
    from sim.levers import lever_input

    varied = {i.name: i for i in inputs}
    for item in inputs:
        declared = lever_input(item.name)
        if declared is None or declared.field == "intensity":
            continue
        key = f"inputs.{item.name}"
        prefix = item.name.rsplit(".", 1)[0]
        if declared.lever not in scenario.levers and f"{prefix}.intensity" not in varied:
            raise SweepError(path, key, f"the base scenario does not pull {declared.lever}: vary "
                                        f"{prefix}.intensity too, or pull the lever in the scenario")
        setting = scenario.levers.get(declared.lever)
        start = varied.get(f"{prefix}.start_year")
        end = varied.get(f"{prefix}.end_year")
        latest_start = start.upper if start else (setting.start_year if setting else lever_input(f"{prefix}.start_year").default)
        earliest_end = end.lower if end else (setting.end_year if setting else lever_input(f"{prefix}.end_year").default)
        if latest_start > earliest_end:
            raise SweepError(path, key, f"a sample could start {declared.lever} in {latest_start:g} and end it in "
                                        f"{earliest_end:g}: keep start_year at or before end_year")


def _year(value, path, key, years):
    if isinstance(value, bool) or not isinstance(value, int):
        raise SweepError(path, key, f"must be a year (whole number), got {value!r}")
    if value not in years:
        raise SweepError(path, key, f"{value} is not a result year: allowed {years[0]} to {years[-1]}")
    return value


def _outputs(raw, path, available, years, input_names) -> tuple[Output, ...]:
    table = raw.get("outputs")
    if not isinstance(table, list) or not table or not all(isinstance(t, dict) for t in table):
        raise SweepError(path, "outputs", "missing: one [[outputs]] table per output of interest")
    outputs = []
    for number, entry in enumerate(table, start=1):
        key = f"outputs[{number}]"
        for sub in entry:
            if sub not in ("variable", "statistic", "year", "years", "name"):
                raise SweepError(path, f"{key}.{sub}", "unknown key; allowed: variable, statistic, year, years, name")
        variable = entry.get("variable")
        if not isinstance(variable, str):
            raise SweepError(path, f"{key}.variable", "missing: a result variable name")
        if variable not in available:
            raise SweepError(path, f"{key}.variable", f"unknown variable '{variable}'{did_you_mean(variable, available)}")
        if variable in input_names:
            raise SweepError(path, f"{key}.variable", f"'{variable}' is also a varied input; results and inputs need distinct names")
        statistic = entry.get("statistic", "value")
        if statistic not in STATISTICS:
            raise SweepError(path, f"{key}.statistic", f"unknown statistic {statistic!r}; allowed: {', '.join(STATISTICS)}")
        if statistic == "value":
            if "years" in entry:
                raise SweepError(path, f"{key}.years", "a value is taken in one year: use year = YYYY")
            if "year" in entry:
                first = last = _year(entry["year"], path, f"{key}.year", years)
            elif len(years) == 1:
                first = last = years[0]
            else:
                raise SweepError(path, f"{key}.year", "missing: the year of the value")
        else:
            if "year" in entry:
                raise SweepError(path, f"{key}.year", f"a {statistic} runs over years = [first, last]")
            span = entry.get("years")
            if not isinstance(span, list) or len(span) != 2:
                raise SweepError(path, f"{key}.years", "must be [first, last] (inclusive)")
            first, last = (_year(y, path, f"{key}.years", years) for y in span)
            if first >= last:
                raise SweepError(path, f"{key}.years", f"first year {first} must come before last year {last}")
        default_name = variable if statistic == "value" and len(years) == 1 else (
            f"{variable}_{first}" if statistic == "value" else f"{variable}_{statistic}_{first}_{last}"
        )
        name = entry.get("name", default_name)
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise SweepError(path, f"{key}.name", "must be letters, digits and underscores")
        if name in {o.name for o in outputs}:
            raise SweepError(path, f"{key}.name", f"output name '{name}' used twice")
        if statistic == "value":
            label = variable if len(years) == 1 else f"{variable} in {first}"
        else:
            label = f"{variable}, {statistic} {first}-{last}"
        outputs.append(Output(name, variable, statistic, first, last, label))
    return tuple(outputs)


def load_sweep(path: str | Path, scale: float | None = None) -> SweepSpec:
    """Read and validate a sweep file; `scale` overrides the file's and the scenario's."""
    path = Path(path)
    return parse_sweep(read_toml(path, SweepError, "sweep"), path, scale)


def parse_sweep(raw: dict, path: Path, scale: float | None = None) -> SweepSpec:
    """Validate a sweep's settings `raw` as if read from file `path` (errors name it; a relative
    `scenario` is read from its folder; `name` defaults to its stem)."""
    if not isinstance(raw, dict):
        raise SweepError(path, "sweep", f"must be a table of settings, got {type(raw).__name__}")
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            raise SweepError(path, key, f"unknown key{did_you_mean(key, TOP_LEVEL_KEYS)}; allowed: {', '.join(TOP_LEVEL_KEYS)}")
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise SweepError(path, key, "must be a string")
    name = raw.get("name", path.stem)
    problem = file_name_problem(name)
    if problem:
        raise SweepError(path, "name", f"{name!r}: {problem} (it names the output directory)")

    method = raw.get("method")
    if method is None:
        raise SweepError(path, "method", f"missing; allowed: {', '.join(METHODS)}")
    if method not in METHODS:
        raise SweepError(path, "method", f"unknown method {method!r}{did_you_mean(str(method), METHODS)}; allowed: {', '.join(METHODS)}")
    options = _options(raw, method, path)

    cls, variables, context = _model(raw, path, scale)
    seeds = _number(raw.get("seeds", 1), path, "seeds", int, 1)
    if seeds > MAX_SEEDS:
        raise SweepError(path, "seeds", f"{seeds} is out of bounds: allowed 1 to {MAX_SEEDS}")
    seed_policy = raw.get("seed_policy", "common")
    if seed_policy not in SEED_POLICIES:
        raise SweepError(path, "seed_policy", f"unknown seed policy {seed_policy!r}; allowed: {', '.join(SEED_POLICIES)}")
    sampler_seed = _number(raw.get("sampler_seed", 1), path, "sampler_seed", int, 0)
    on_error = raw.get("on_error", "stop")
    if on_error not in ON_ERROR:
        raise SweepError(path, "on_error", f"unknown value {on_error!r}; allowed: stop, skip")

    provisional = None if context is None else cls(scenario=context[0], scale=context[1], variables=())
    inputs = _inputs(raw, path, cls, provisional, method)
    policies, goals = _experiment(raw, path, method, context)
    if policies:
        inputs = (_policy_input(policies), *inputs)
    input_names = {i.name for i in inputs}
    years = provisional.years if provisional is not None else cls.years
    outputs = _outputs(raw, path, cls.available_variables(), list(years), input_names)

    kept = list(variables or cls.default_variables())
    for needed in [*(o.variable for o in outputs), *(g.variable for g in goals)]:
        if needed not in kept:
            kept.append(needed)
    clash = input_names.intersection(kept)
    if clash:
        raise SweepError(path, "variables", f"'{sorted(clash)[0]}' is also a varied input; results and inputs need distinct names")
    if context is None:
        model = cls(variables=tuple(kept))
    else:
        model = cls(scenario=context[0], scale=context[1], variables=tuple(kept), policies=tuple((n, levers) for n, levers, _ in policies))

    spec = SweepSpec(
        name=name,
        path=path,
        description=raw.get("description", ""),
        model=model,
        method=method,
        options=options,
        inputs=inputs,
        outputs=outputs,
        seeds=seeds,
        seed_policy=seed_policy,
        sampler_seed=sampler_seed,
        on_error=on_error,
        policies=tuple(name for name, _, _ in policies),
        policy_descriptions=tuple(description for _, _, description in policies),
        goals=goals,
    )
    from sim.sweep.design import sample_count

    count = sample_count(spec)
    if count > MAX_SAMPLES:
        raise SweepError(path, "options", f"the design has {count:,} samples; at most {MAX_SAMPLES:,} allowed")
    if method in ("sobol", "morris") and len(inputs) < 2:
        raise SweepError(path, "inputs", f"method '{method}' needs at least two inputs")
    return spec
