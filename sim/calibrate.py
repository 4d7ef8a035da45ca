"""Calibration by the method of simulated moments (Fagiolo et al. 2019; Grazzini et al. 2017).

The moments are the documents' figures with role "fit" in calibration/targets.csv; each is measured
on the model exactly as the statistics define it (`measure`). The distance is the mean squared
error in units of the fit tolerance (5% of a level or count, 1 point of a share), averaged over
several seeds that every candidate shares (common random numbers). The free parameters and the
search budget are set in calibration/calibrate.toml; their bounds come from the one declaration.

Search: scrambled Sobol points over the bounds (a global look), then rounds of block-coordinate
Nelder-Mead in the unit cube from the best point (local refinement). The result is written, versioned, to
calibration/params.toml, which `sim run` loads by default.
"""

from __future__ import annotations

import math
import os
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy import optimize
from scipy.stats import qmc

from sim.parallel import single_threaded_worker
from sim.calibration_data import Target, history_mean_target, literature_mean_target, load_targets
from sim.errors import ModelDivergence
from sim.parameters import CALIBRATED_FILE, CALIBRATION_DIR, calibrated_values, load_declaration

SETTINGS_FILE = CALIBRATION_DIR / "calibrate.toml"
SHARE_UNITS = ("%", "pp", "% yoy")


@dataclass(frozen=True)
class Settings:
    free: tuple[str, ...]
    seeds: tuple[int, ...]
    scale: float
    search_points: int
    rounds: int
    block_evaluations: int
    blocks: tuple[tuple[str, ...], ...]
    relative_tolerance: float
    share_tolerance: float
    small_share_tolerance: float


def load_settings(quick: bool = False) -> Settings:
    with open(SETTINGS_FILE, "rb") as handle:
        raw = tomllib.load(handle)
    mode = raw["quick" if quick else "full"]
    declared = load_declaration()
    blocks = tuple(tuple(block) for block in raw["blocks"])
    free = tuple(name for block in blocks for name in block)
    unknown = [name for name in free if name not in declared]
    if unknown or len(set(free)) != len(free):
        raise ValueError(f"{SETTINGS_FILE}: blocks must name declared parameters once each (unknown: {unknown})")
    return Settings(free, tuple(mode["seeds"]), float(mode["scale"]), int(mode["search_points"]), int(mode["rounds"]),
                    int(mode["block_evaluations"]), blocks, float(raw["relative_tolerance"]), float(raw["share_tolerance_points"]),
                    float(raw["small_share_relative_tolerance"]))


# ------------------------------------------------------------------------- moments
def target_year(target: Target) -> int:
    """The year a target refers to: its first four digits ("2023 Q1-Q3" -> 2023; "present (2023)" -> 2023)."""
    digits = [token for token in target.year.replace("(", " ").replace(")", " ").replace("-", " ").split() if token.isdigit()]
    return int(digits[-1] if target.year.startswith("present") else digits[0])


RATIO_TO_2012 = "stat:rd_spend_mfg_ratio_2022_2012"  # measured in 2022, although its period "2012-2022" starts in 2012


def measured_year(target: Target) -> int:
    """The year of the trajectory that `measure` reads: the end year of a ratio over a period, else `target_year`."""
    return 2022 if target.measure == RATIO_TO_2012 else target_year(target)


def firm_turnover(dataset, counted: str):
    """Firms entering (counted "n_entries") or exiting ("n_exits") in a year as a % of the firms of
    the year before, from the second year on."""
    return (100.0 * dataset[counted] / dataset["n_firms"].shift(year=1)).isel(year=slice(1, None))


DERIVED_PATHS = {  # paths a moment may name beside the result's variables, in % a year
    "firm_entry_rate": lambda dataset: firm_turnover(dataset, "n_entries"),
    "firm_exit_rate": lambda dataset: firm_turnover(dataset, "n_exits"),
}


def path(dataset, name: str):
    """A result variable, or one of DERIVED_PATHS."""
    return DERIVED_PATHS[name](dataset) if name in DERIVED_PATHS else dataset[name]


def trajectory(dataset, target: Target):
    """The model's path of a target's measure, a DataArray with dims (run, year), in the target's unit."""
    measure_name = target.measure
    if measure_name == RATIO_TO_2012:
        spend = dataset["rd_spend_mfg"]
        return spend / spend.sel(year=2012, drop=True)
    if measure_name == "stat:electromechanical_exports":
        return dataset["electromechanical_exports"]
    if measure_name.startswith("mean:"):  # a history or literature moment: the path whose mean over its years is measured
        return path(dataset, measure_name.split(":")[1])
    if measure_name.startswith("stat:") or measure_name == "none":
        raise KeyError(f"no model measure for {measure_name!r}")
    name, _, category = measure_name.partition("[")
    series = dataset[name]
    if category:
        series = series.sel(digital_stage=category.rstrip("]"))
        if target.unit == "%" and dataset[name].attrs["units"] == "share":
            series = 100.0 * series
    return series


def measure(dataset, target: Target) -> np.ndarray:
    """The model's value of a target, one per run, in the target's unit (a history moment "mean:VAR:FIRST:LAST":
    the mean of VAR over those years)."""
    if target.measure.startswith("mean:"):
        _, name, first, last = target.measure.split(":")
        return np.asarray(path(dataset, name).sel(year=slice(int(first), int(last))).mean("year").values, dtype=float)
    return np.asarray(trajectory(dataset, target).sel(year=measured_year(target)).values, dtype=float)


def tolerance(target: Target, settings: Settings) -> float:
    """Absolute tolerance of a good fit: the target's own where it gives one (a literature moment's
    range); else 5% of the value for levels and counts; 1 point for shares and growth rates, but no
    more than 10% of a small share's value (R&D intensity 1.55%: 0.155 points)."""
    if target.tolerance is not None:
        return target.tolerance
    if target.unit not in SHARE_UNITS:
        return settings.relative_tolerance * abs(target.value)
    if target.unit == "% yoy":
        return settings.share_tolerance
    return min(settings.share_tolerance, settings.small_share_tolerance * abs(target.value))


def history_targets() -> list[Target]:
    """The history moments named in calibration/calibrate.toml (`history_means`)."""
    with open(SETTINGS_FILE, "rb") as handle:
        raw = tomllib.load(handle)
    return [history_mean_target(m["series"], m["variable"], int(m["first"]), int(m["last"])) for m in raw.get("history_means", [])]


def literature_targets() -> list[Target]:
    """The literature moments named in calibration/calibrate.toml (`literature_means`)."""
    with open(SETTINGS_FILE, "rb") as handle:
        raw = tomllib.load(handle)
    return [literature_mean_target(m["key"], m["variable"], int(m["first"]), int(m["last"]), m["value"], m["unit"], m["tolerance"],
                                   m["source"], m["role"]) for m in raw.get("literature_means", [])]


def moment_targets() -> list[Target]:
    """The history moments, then the literature moments."""
    return history_targets() + literature_targets()


def fit_targets() -> list[Target]:
    """The documents' fit targets, then the history and literature moments that are fitted."""
    return [t for t in [*load_targets().values(), *moment_targets()] if t.role == "fit"]


def standardized_errors(dataset, targets, settings: Settings) -> np.ndarray:
    """(model mean over runs - document value) / tolerance, per target."""
    return np.array([(float(np.mean(measure(dataset, t))) - t.value) / tolerance(t, settings) for t in targets])


def distance(errors: np.ndarray) -> float:
    """Mean squared standardized error; below 1 on average, each target within its tolerance when all |e| <= 1."""
    return float(np.mean(np.square(errors)))


# ------------------------------------------------------------------------- evaluation
def _run_candidate(values: dict[str, float], seeds: tuple[int, ...], scale: float):
    """Runs of the baseline with `values` overriding the declaration (no calibrated set), concatenated."""
    import xarray as xr

    return xr.concat([_run_one(values, seed, scale) for seed in seeds], dim="run")


def _run_one(values: dict[str, float], seed: int, scale: float):
    import warnings

    from sim.runner import simulate
    from sim.scenario import load_scenario

    scenario = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml")
    scenario = replace(scenario, parameters={**scenario.parameters, **values})
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverging candidate is scored, not reported
        return simulate(scenario, seed, scale, use_calibrated=False)


def _run_task(args):
    """One (candidate, seed) run in a worker; None when the candidate breaks the model."""
    values, seed, scale = args
    try:
        return _run_one(values, seed, scale)
    except (ModelDivergence, FloatingPointError, ZeroDivisionError, ValueError, MemoryError):
        return None


def score(runs, settings: Settings) -> tuple[float, np.ndarray]:
    """Distance and standardized errors of a candidate's runs; infinity if any run failed."""
    import xarray as xr

    targets = fit_targets()
    if any(run is None for run in runs):
        return math.inf, np.full(len(targets), np.nan)
    errors = standardized_errors(xr.concat(runs, dim="run"), targets, settings)
    value = distance(errors)
    return (value if np.isfinite(value) else math.inf), errors


def evaluate(values: dict[str, float], settings: Settings) -> tuple[float, np.ndarray]:
    """Distance and standardized errors of a candidate, run in this process."""
    return score([_run_task((values, seed, settings.scale)) for seed in settings.seeds], settings)


class Evaluator:
    """Maps the unit cube to parameter values and evaluates candidates, every (candidate, seed) run
    a task of a process pool, so that even one candidate uses every core."""

    def __init__(self, settings: Settings, workers: int | None = None):
        declared = load_declaration()
        self.settings = settings
        self.lower = np.array([declared[name].lower for name in settings.free])
        self.upper = np.array([declared[name].upper for name in settings.free])
        self.workers = workers or max(1, (getattr(os, "process_cpu_count", None) or os.cpu_count)() or 1)
        self.pool = ProcessPoolExecutor(self.workers, initializer=single_threaded_worker) if self.workers > 1 else None
        self.evaluations = 0
        self.best: tuple[float, np.ndarray | None, np.ndarray | None] = (math.inf, None, None)

    def values(self, unit_point: np.ndarray) -> dict[str, float]:
        point = self.lower + np.clip(unit_point, 0.0, 1.0) * (self.upper - self.lower)
        return {name: float(v) for name, v in zip(self.settings.free, point)}

    def batch(self, unit_points: np.ndarray) -> list[float]:
        seeds, scale = self.settings.seeds, self.settings.scale
        tasks = [(self.values(u), seed, scale) for u in unit_points for seed in seeds]
        runs = list(self.pool.map(_run_task, tasks)) if self.pool else [_run_task(t) for t in tasks]
        losses = []
        for k, unit_point in enumerate(unit_points):
            loss, errors = score(runs[k * len(seeds):(k + 1) * len(seeds)], self.settings)
            losses.append(loss)
            if loss < self.best[0]:
                self.best = (loss, np.clip(unit_point, 0.0, 1.0), errors)
        self.evaluations += len(unit_points)
        return losses

    def one(self, unit_point: np.ndarray) -> float:
        return self.batch(np.asarray([unit_point]))[0]

    def close(self):
        if self.pool:
            self.pool.shutdown()


@dataclass
class CalibrationResult:
    values: dict[str, float]
    loss: float
    errors: np.ndarray
    evaluations: int
    seconds: float
    settings: Settings


def calibrate(settings: Settings, workers: int | None = None, progress=print) -> CalibrationResult:
    """Global Sobol search, then rounds of block-coordinate Nelder-Mead from the best point.

    The blocks (calibration/calibrate.toml) group the parameters that move the same targets; each
    refinement moves one block at a time on the full distance, which converges far faster than one
    simplex over every parameter because the groups of targets are nearly separable."""
    started = time.perf_counter()
    evaluator = Evaluator(settings, workers)
    try:
        declared = load_declaration()
        default = np.array([(declared[n].default - declared[n].lower) / (declared[n].upper - declared[n].lower)
                            for n in settings.free])
        candidates = [default]
        previous = calibrated_values()
        if any(name in previous for name in settings.free):  # the last calibrated set (declared defaults for new names) too
            last = {n: min(max(previous.get(n, declared[n].default), declared[n].lower), declared[n].upper) for n in settings.free}
            candidates.append(np.array([(last[n] - declared[n].lower) / (declared[n].upper - declared[n].lower)
                                        for n in settings.free]))
        sobol = qmc.Sobol(len(settings.free), scramble=True, seed=20121123).random(settings.search_points)
        points = np.vstack([*candidates, sobol])
        evaluator.batch(points)  # the declared defaults (and the last calibrated set) are candidates too
        progress(f"search: {len(points)} points, best distance {evaluator.best[0]:.3f} ({time.perf_counter() - started:.0f} s)")
        for round_number in range(settings.rounds):
            for block in settings.blocks:
                axes = [settings.free.index(name) for name in block]
                start = evaluator.best[1].copy()

                def on_block(x, start=start, axes=axes):
                    point = start.copy()
                    point[axes] = x
                    return evaluator.one(point)

                optimize.minimize(on_block, start[axes], method="Nelder-Mead",
                                  options={"maxfev": settings.block_evaluations, "xatol": 2e-3, "fatol": 1e-3,
                                           "initial_simplex": _simplex(start[axes])})
            progress(f"round {round_number + 1}: distance {evaluator.best[0]:.3f} after {evaluator.evaluations} candidates "
                     f"({time.perf_counter() - started:.0f} s)")
        loss, point, errors = evaluator.best
        return CalibrationResult(evaluator.values(point), loss, errors, evaluator.evaluations, time.perf_counter() - started, settings)
    finally:
        evaluator.close()


def _simplex(start: np.ndarray, step: float = 0.1) -> np.ndarray:
    """Initial Nelder-Mead simplex around `start`, stepping inward from the cube's faces."""
    vertices = [start]
    for k in range(start.size):
        vertex = start.copy()
        vertex[k] = vertex[k] + step if vertex[k] + step <= 1.0 else vertex[k] - step
        vertices.append(vertex)
    return np.array(vertices)


def git_commit() -> str:
    from sim.output import git_commit as commit

    return commit()


def write_parameters(result: CalibrationResult, path: Path = CALIBRATED_FILE) -> None:
    """Write the calibrated set as versioned TOML (through a temporary file)."""
    from sim.output import atomic_target

    targets = fit_targets()
    lines = [
        "# Calibrated parameters, written by `sim calibrate`; `sim run` loads them over the declared defaults.",
        "# Regenerate with `sim calibrate`; do not edit by hand.",
        "[meta]",
        f'date = "{datetime.now(timezone.utc).isoformat(timespec="seconds")}"',
        f"distance = {result.loss:.6g}",
        f'git_commit = "{git_commit()}"',
        f"seeds = {list(result.settings.seeds)}",
        f"scale = {result.settings.scale}",
        f"evaluations = {result.evaluations}",
        f"seconds = {result.seconds:.0f}",
        'method = "method of simulated moments: scrambled Sobol search, then block-coordinate Nelder-Mead"',
        "",
        "[values]",
        *(f"{name} = {value!r}" for name, value in result.values.items()),
        "",
        "[standardized_errors]  # (model - document) / tolerance, per fit target",
        *(f"{t.key} = {e:.4f}" for t, e in zip(targets, result.errors)),
        "",
    ]
    with atomic_target(path) as temporary:
        temporary.write_text("\n".join(lines), encoding="utf-8")


# ------------------------------------------------------------------------- the fit table
@dataclass(frozen=True)
class FitRow:
    key: str
    measure: str
    year: str
    unit: str
    role: str
    document: float
    model_mean: float
    model_low: float  # 5th percentile over runs
    model_high: float  # 95th percentile over runs
    error: float  # model mean - document, in the target's unit
    standardized: float  # error / tolerance

    @property
    def within_tolerance(self) -> bool:
        return abs(self.standardized) <= 1.0


def fit_table(dataset, settings: Settings) -> list[FitRow]:
    """Every target the model can measure (fit and check roles), against a result Dataset."""
    rows = []
    for target in [*load_targets().values(), *moment_targets()]:
        if target.role == "initial":
            continue
        try:
            values = measure(dataset, target)
        except KeyError:
            continue
        mean = float(np.mean(values))
        rows.append(FitRow(target.key, target.measure, target.year, target.unit, target.role, target.value, mean,
                           float(np.quantile(values, 0.05)), float(np.quantile(values, 0.95)), mean - target.value,
                           (mean - target.value) / tolerance(target, settings)))
    return rows


def format_fit_table(rows: list[FitRow]) -> str:
    header = f"{'target':38} {'role':5} {'year':>14} {'document':>11} {'model mean':>11} {'90% band':>23} {'error':>9} {'err/tol':>8}"
    lines = [header]
    for r in sorted(rows, key=lambda r: (r.role != "fit", r.key)):
        band = f"[{r.model_low:.4g}, {r.model_high:.4g}]"
        flag = "" if r.within_tolerance or r.role != "fit" else "  <- outside"
        lines.append(f"{r.key[:38]:38} {r.role:5} {r.year[:14]:>14} {r.document:>11.4g} {r.model_mean:>11.4g} {band:>23} "
                     f"{r.error:>9.3g} {r.standardized:>8.2f}{flag}")
    fits = [r for r in rows if r.role == "fit"]
    lines.append(f"fit targets within tolerance: {sum(r.within_tolerance for r in fits)} of {len(fits)}; "
                 f"distance {distance(np.array([r.standardized for r in fits])):.3f}")
    return "\n".join(lines)
