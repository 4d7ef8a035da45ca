"""The Python API: run, compare and sweep scenarios from Python, with results as xarray Datasets.

    import sim

    result = sim.run("baseline", seeds=3, scale=0.01, parameters={"share_selection_strength": 2.5},
                     levers={"digital_subsidy": 0.3})                    # dims (run, year, ...)
    variant = sim.build_scenario("baseline", name="subsidy", levers={"digital_subsidy": 0.3})
    differences = sim.compare(["baseline", variant], seeds=3, scale=0.01)  # dims (scenario, run, year, ...)
    samples = sim.sweep("scenarios/sweeps/morris_quick.toml", workers=2)   # dims (sample, run, year)

The shape users of Mesa's `batch_run` and the EMA Workbench's `perform_experiments` expect, with the
runs, samples and scenarios as dimensions of one xarray Dataset. Every input is validated exactly as
a scenario or sweep file is: overrides are applied by the code that applies a file's tables on top of
the file it extends (`sim.scenario.scenario_with`), so an unknown or out-of-range value raises the same
named error (`ScenarioError`, `SweepError`: subclasses of `sim.errors.InputError`) with the same key
and message, "did you mean" included; the file's name is replaced by the function's
("sim.run: parameters.markup: ..."). Nothing runs until every input is checked.

A scenario is named as `sim run` names it: the name of a file of scenarios/ ("baseline",
"digital_empowerment"), a path to a scenario .toml file, or a `Scenario` (from `build_scenario`).
Runs are seeded: seeds 1..N by default, the same in every scenario (common random numbers), so the
same call returns the same numbers, bit for bit those of the command line.
"""

from __future__ import annotations

import numbers
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sim.calibration_data import check_scale
from sim.errors import InputError, ScenarioError
from sim.parameters import did_you_mean
from sim.scenario import MAX_SEEDS, Scenario, check_positive_number, load_scenario, scenario_with

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


class UnguardedScript(RuntimeError):
    """The API was called by the top level of a script that a worker process is importing: a sweep's
    local pool (like every multiprocessing pool that does not fork) imports the main script in each
    worker, so the script's calls must stand under ``if __name__ == "__main__":``."""


def refuse_worker_import(source: str) -> None:
    """Raise UnguardedScript when called from the top level of the main script as a worker process
    imports it (multiprocessing runs it under the name `__mp_main__`): it would do the script's work again."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__mp_main__":
            raise UnguardedScript(f"{source} was called while a worker process imported {frame.f_code.co_filename}: put the "
                                  'script\'s calls under `if __name__ == "__main__":` (sweep workers import the script)')
        frame = frame.f_back


# ------------------------------------------------------------------ scenarios
def scenario_names() -> tuple[str, ...]:
    """The scenarios that may be named without a path: the files of scenarios/, without `.toml`."""
    return tuple(sorted(path.stem for path in SCENARIO_DIR.glob("*.toml")))


def _is_name(text: str) -> bool:
    """Whether `text` names a scenario of scenarios/ rather than giving a path."""
    return not text.endswith(".toml") and "/" not in text and os.sep not in text


def load(scenario: str | os.PathLike | Scenario, source: str) -> Scenario:
    """A scenario given by name (a file of scenarios/), by path or as a `Scenario`, validated;
    ScenarioError naming `source` and "scenario" when it is none of these."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str) and _is_name(scenario):
        names = scenario_names()
        if scenario not in names:
            raise ScenarioError(source, "scenario", f"unknown scenario {scenario!r}{did_you_mean(scenario, names)}; "
                                                   f"give a path to a .toml file or one of: {', '.join(names)}")
        return load_scenario(SCENARIO_DIR / f"{scenario}.toml")
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    raise ScenarioError(source, "scenario", "must be a scenario name, a path to a .toml file or a sim.build_scenario(...) "
                                            f"result, got {type(scenario).__name__} {scenario!r}")


def _as_toml(value, source: str, key: str):
    """A Python value as a TOML file would hold it: mappings as dicts with string keys (ScenarioError
    naming `key` otherwise), tuples as lists, numpy scalars as Python numbers."""
    if isinstance(value, Mapping):
        table = {}
        for name, item in value.items():
            if not isinstance(name, str):
                raise ScenarioError(source, key, f"names must be strings, as in a scenario file; got {type(name).__name__} {name!r}")
            table[name] = _as_toml(item, source, f"{key}.{name}")
        return table
    if isinstance(value, (list, tuple)):
        return [_as_toml(item, source, key) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _lever_tables(levers):
    """`levers` with the shorthand NAME = intensity written out as the table {intensity = ...}: the
    lever then acts in its declared default years and on its declared default target."""
    if not isinstance(levers, dict):
        return levers  # refused by sim.levers.parse_levers, as a file's would be
    return {name: {"intensity": entry} if _is_number(entry) else entry for name, entry in levers.items()}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _variant(base, source: str, **settings) -> Scenario:
    """The scenario `base` with `settings` (a scenario file's keys: name, description, parameters,
    levers, macro; None for "not given") applied on top, validated as a file extending it would be."""
    scenario = load(base, source)
    given = {key: value for key, value in settings.items() if value is not None}
    if not given:
        return scenario
    raw = {key: _as_toml(value, source, key) for key, value in given.items()}
    if "levers" in raw:
        raw["levers"] = _lever_tables(raw["levers"])
    return scenario_with(scenario, raw, source)


def build_scenario(base="baseline", *, name: str | None = None, description: str | None = None,
                   parameters: Mapping | None = None, levers: Mapping | None = None, macro: Mapping | None = None) -> Scenario:
    """A scenario built in Python on top of another, validated as a scenario file is.

    Parameters
    ----------
    base : str, path or Scenario
        The scenario it extends: a name of scenarios/ ("baseline"), a path to a .toml file, or a
        `Scenario` (another `build_scenario` result).
    name : str, optional
        Its name (the label of its results and of the `scenario` dimension of `compare`); default
        the base's name.
    description : str, optional
        Default the base's.
    parameters : mapping, optional
        Overrides of calibration/parameters.toml, name -> value (a file's ``[parameters]``).
    levers : mapping, optional
        Policy levers of calibration/levers.toml, name -> table with ``intensity``, ``start_year``,
        ``end_year``, ``target`` (a file's ``[levers.NAME]``, merged field by field over the base's
        setting), or name -> intensity: the lever in its declared default years and target.
    macro : mapping, optional
        Overrides of the macro paths, path -> {"YYYY" or "YYYY-YYYY": value} (a file's ``[macro.PATH]``).

    Returns
    -------
    Scenario
        For `run`, `compare`, or the base of another `build_scenario`.

    Raises
    ------
    ScenarioError
        An unknown or out-of-range setting, with the key and message a scenario file would get
        (e.g. "sim.build_scenario: parameters.markupp: unknown parameter 'markupp' (did you mean 'markup'?)").

    Examples
    --------
    >>> subsidy = sim.build_scenario("baseline", name="sme_subsidy",
    ...     levers={"digital_subsidy": {"intensity": 0.3, "end_year": 2030, "target": {"firm_class": ["sme"]}}})
    >>> subsidy.lever_summary()
    'digital_subsidy=0.3 (2024-2030; firm_class=sme)'
    """
    return _variant(base, "sim.build_scenario", name=name, description=description, parameters=parameters,
                    levers=levers, macro=macro)


# ------------------------------------------------------------------ seeds and scale
def seed_list(seeds, scenario: Scenario, source: str) -> list[int]:
    """The seeds to run: None for the scenario's `seeds` (seeds 1..N, as `sim run`), a number N for
    seeds 1..N, or a list of distinct whole numbers of at least 0; ScenarioError otherwise."""
    if seeds is None or (isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool)):
        count = scenario.seeds if seeds is None else check_positive_number(int(seeds), source, "seeds", MAX_SEEDS, integer=True)
        from sim.runner import default_seeds  # imports the model: only once the count is known good

        return default_seeds(count)
    if not isinstance(seeds, (list, tuple, range, np.ndarray)):
        raise ScenarioError(source, "seeds", f"must be a number of runs N (seeds 1..N) or a list of seeds, got {seeds!r}")
    listed = list(seeds)
    if not 1 <= len(listed) <= MAX_SEEDS:
        raise ScenarioError(source, "seeds", f"must list 1 to {MAX_SEEDS} seeds, got {len(listed)}")
    for seed in listed:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ScenarioError(source, "seeds", f"a seed must be a whole number of at least 0, got {seed!r}")
    if len(set(listed)) != len(listed):
        raise ScenarioError(source, "seeds", "lists a seed twice (seeds label the `run` dimension)")
    return [int(seed) for seed in listed]


def scale_of(scale, scenario: Scenario, source: str) -> float:
    """The scale to run: the scenario's when None, else `scale` checked as a file's `scale` is."""
    return scenario.scale if scale is None else check_scale(_as_toml(scale, source, "scale"), source, "scale")


def _announce_compiling() -> None:
    from sim.commands.common import announce_compiling

    announce_compiling()


# ------------------------------------------------------------------ run and compare
def run(scenario="baseline", *, seeds=None, scale: float | None = None, parameters: Mapping | None = None,
        levers: Mapping | None = None, macro: Mapping | None = None):
    """Run a scenario's ensemble, as `sim run` does, and return its results.

    Parameters
    ----------
    scenario : str, path or Scenario, default "baseline"
        A name of scenarios/ ("baseline", "digital_empowerment"), a path to a scenario .toml file,
        or a `build_scenario` result.
    seeds : int or list of int, optional
        N runs on seeds 1..N, or the seeds themselves; default the scenario's `seeds` (as `sim run`).
    scale : float, optional
        Share of real firms simulated, 0.005 to 1; default the scenario's `scale`.
    parameters, levers, macro : mapping, optional
        Overrides applied on top of the scenario, as for `build_scenario`.

    Returns
    -------
    xarray.Dataset
        Dims ``run`` (the seeds) and ``year`` (2012-2035) plus categories (``industry``,
        ``firm_class``, ``lever``, ...); every variable has ``units`` and ``long_name``; provenance in
        ``attrs``. The same numbers, bit for bit, as `sim run` of the same scenario, seeds and scale.

    Raises
    ------
    ScenarioError
        A bad scenario, override, seed or scale, with the key and message a scenario file would get.

    Examples
    --------
    >>> result = sim.run("baseline", seeds=2, scale=0.01, parameters={"share_selection_strength": 2.5})
    >>> result["manufacturing_va"].sel(year=2035).mean("run")
    """
    refuse_worker_import("sim.run")
    chosen = _variant(scenario, "sim.run", parameters=parameters, levers=levers, macro=macro)
    seeds, scale = seed_list(seeds, chosen, "sim.run"), scale_of(scale, chosen, "sim.run")
    from sim.runner import ensemble

    _announce_compiling()
    return ensemble(chosen, seeds, scale)


def compare(scenarios, *, seeds=None, scale: float | None = None):
    """Run scenarios on common random numbers, as `sim compare` does, and return the comparison.

    Parameters
    ----------
    scenarios : list of (str, path or Scenario)
        At least two, the first the reference of differences: names of scenarios/, paths to .toml
        files, or `build_scenario` results. Their names label the ``scenario`` dimension, so they must
        differ (give a variant its own: ``build_scenario(..., name=...)``).
    seeds : int or list of int, optional
        As for `run`; default the first scenario's `seeds`. Every scenario runs on the same seeds.
    scale : float, optional
        Default the first scenario's `scale`.

    Returns
    -------
    xarray.Dataset
        Dims ``scenario``, ``run``, ``year`` plus categories, with the goal checks (``goal_met``),
        cumulative fiscal cost, cost-effectiveness and the lever-response table: what `sim compare`
        writes (`sim.compare.report(dataset)` prints its table). A run that diverges is dropped from
        every scenario with a RuntimeWarning (the ``dropped_seeds`` attribute).

    Raises
    ------
    InputError
        Fewer than two scenarios, a name given twice; ScenarioError for a bad scenario, seed or scale.

    Examples
    --------
    >>> comparison = sim.compare(["baseline", "digital_empowerment"], seeds=2, scale=0.01)
    >>> comparison["manufacturing_va"].sel(year=2035).mean("run")
    """
    refuse_worker_import("sim.compare")
    source = "sim.compare"
    if isinstance(scenarios, (str, os.PathLike, Scenario)) or not isinstance(scenarios, (list, tuple)) or len(scenarios) < 2:
        raise InputError(source, "scenarios", "compare needs a list of at least two scenarios (the first is the reference)")
    loaded = [load(scenario, source) for scenario in scenarios]  # every scenario validated before any run
    names = [scenario.name for scenario in loaded]
    for name in names:
        if names.count(name) > 1:
            raise InputError(source, "scenarios", f"scenario name '{name}' is given twice; names label the `scenario` dimension "
                                                  "(give a variant its own: sim.build_scenario(..., name=...))")
    seeds, scale = seed_list(seeds, loaded[0], source), scale_of(scale, loaded[0], source)
    from sim.compare import run_comparison

    _announce_compiling()
    return run_comparison(loaded, seeds, scale, warn=lambda message: warnings.warn(message, RuntimeWarning, stacklevel=3))


# ------------------------------------------------------------------ sweeps
def sweep_spec(spec, *, scale: float | None = None):
    """A sweep validated as a sweep file is: the `SweepSpec` that `sweep` runs and
    `sim.sweep.analyse(spec, dataset)` analyses.

    Parameters
    ----------
    spec : str, path, mapping or SweepSpec
        A sweep .toml file, or a mapping with a file's keys (see sim/sweep/spec.py). A mapping needs a
        `name` (it names the output folder); its `scenario` is a name of scenarios/ or a path relative
        to the working directory; its errors name "sim.sweep".
    scale : float, optional
        Overrides the sweep's and its scenario's scale.

    Raises
    ------
    SweepError
        A bad key or value, with the key and message a sweep file would get.
    """
    from sim.sweep.spec import SweepError, SweepSpec, load_sweep, parse_sweep

    if scale is not None:
        scale = check_scale(_as_toml(scale, "sim.sweep", "scale"), "sim.sweep", "scale")
    if isinstance(spec, SweepSpec):
        if scale is not None:
            raise SweepError("sim.sweep", "scale", "a SweepSpec has its scale: give scale to sim.sweep_spec(...) instead")
        return spec
    if isinstance(spec, (str, os.PathLike)):
        return load_sweep(spec, scale)
    if not isinstance(spec, Mapping):
        raise SweepError("sim.sweep", "spec", f"must be a sweep .toml file, a mapping of its settings or a SweepSpec, got {type(spec).__name__}")
    raw = _as_toml(spec, "sim.sweep", "spec")
    if "name" not in raw:
        raise SweepError("sim.sweep", "name", "missing: a sweep given as a mapping needs a name (it names the folder OUT/<name>/)")
    if "scenario" in raw:
        raw["scenario"] = _sweep_scenario(raw["scenario"])
    return parse_sweep(raw, Path("sim.sweep"), scale)  # a relative path is read from the working directory


def _sweep_scenario(name):
    """A sweep mapping's `scenario`: a name of scenarios/ as the path of its file; a path as given
    (relative to the working directory), SweepError when no such file exists."""
    from sim.sweep.spec import SweepError

    if not isinstance(name, str) or not name:
        return name  # refused by parse_sweep, as a file's would be
    if _is_name(name) and name in scenario_names():
        return str(SCENARIO_DIR / f"{name}.toml")
    if not Path(name).exists():
        raise SweepError("sim.sweep", "scenario", f"scenario file {name!r} does not exist (a path relative to the working "
                                                  f"directory {Path.cwd()}, or one of: {', '.join(scenario_names())})")
    return name


def _check_executor(workers, scheduler) -> None:
    """`workers` a whole number of at least 1, and not together with a Dask `scheduler` (InputError)."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1):
        raise InputError("sim.sweep", "workers", f"must be a whole number of at least 1, got {workers!r}")
    if scheduler is not None and workers is not None:
        raise InputError("sim.sweep", "workers", "sets the local process pool; a Dask cluster's workers are set where it is "
                                                 "started (drop workers or scheduler)")


def sweep(spec, *, out: str | os.PathLike = "outputs/sweeps", workers: int | None = None, scheduler: str | None = None,
          resume: bool = False, overwrite: bool = False, scale: float | None = None, progress: bool = False,
          analysis: bool = True):
    """Run a sweep, as `sim sweep` does, and return its samples' results.

    Parameters
    ----------
    spec : str, path, mapping or SweepSpec
        A sweep .toml file, a mapping with a sweep file's keys (see `sweep_spec`), or a `sweep_spec` result.
    out : path, default "outputs/sweeps"
        The results go to OUT/<sweep name>/ (results.nc; with `analysis`, the tables and figures).
    workers : int, optional
        Local worker processes (default every core; 1 runs in this process). The workers import the
        main script, as every non-forking multiprocessing pool does: in a script, call `sweep` under
        ``if __name__ == "__main__":`` (else `UnguardedScript` in the workers).
    scheduler : str, optional
        A Dask scheduler address ("tcp://HOST:PORT") to run on instead.
    resume, overwrite : bool
        Continue an interrupted sweep / replace an earlier one (as ``--resume``, ``--overwrite``).
    scale : float, optional
        Overrides the sweep's and its scenario's scale.
    progress : bool
        A progress bar on stderr.
    analysis : bool, default True
        Also write the SALib analysis (<method>*.csv, figures) as `sim sweep` does.

    Returns
    -------
    xarray.Dataset
        Dims ``sample``, ``run`` and ``year``: the kept variables per sample, the varied inputs as
        coordinates along ``sample``, the seeds and any run errors. An experiment's (method
        "experiment") has dims ``policy``, ``sample`` (the uncertainty samples), ``run`` and ``year``. The tables:
        ``sim.sweep.analyse(sim.sweep_spec(spec), dataset)``. The same Dataset, bit for bit, whichever
        executor ran it.

    Raises
    ------
    SweepError
        A bad key or value, as a sweep file would get; InputError / OutputError for bad options or
        an output folder holding an earlier sweep (pass resume or overwrite).

    Examples
    --------
    >>> samples = sim.sweep({"name": "ishigami_lhs", "model": "ishigami", "method": "lhs",
    ...                      "options": {"samples": 50}, "inputs": {"x1": {}, "x2": {}, "x3": {}},
    ...                      "outputs": [{"variable": "y"}]}, workers=1)
    >>> samples["y"].sizes
    Frozen({'sample': 50, 'run': 1, 'year': 1})
    """
    refuse_worker_import("sim.sweep")
    _check_executor(workers, scheduler)
    validated = sweep_spec(spec, scale=scale)
    from sim.output import check_output_directory
    from sim.sweep.execute import run_sweep

    out = Path(out)
    check_output_directory(out if out.exists() else out.parent)  # a missing OUT is made inside an existing folder
    finish = _analysis_writer(validated) if analysis else None
    return run_sweep(validated, out, workers=workers, scheduler=scheduler, resume=resume, overwrite=overwrite,
                     progress=progress, finish=finish).dataset


def _analysis_writer(spec):
    """run_sweep's `finish`: the analysis written into the sweep's folder, as `sim sweep` writes it."""
    def finish(dataset, directory):
        from sim.sweep.analysis import write_analysis

        return write_analysis(spec, dataset, directory)[1]
    return finish
