"""Scenario comparison: ensembles on common random numbers, differences with bands, goals, costs.

Every scenario runs on the same seeds and scale, so run k of one scenario and run k of another share
every random number the levers do not change (common random numbers; sim.randomness keys draws by
seed, rule, year and firm row). Differences from the first scenario are taken seed by seed, then
summarised over seeds: mean and the 5%-95% band. Official goals (sim/goals.py, rows of
calibration/targets.csv ending in _goal) are checked run by run, as is the reading of "new
industrialization basically achieved by 2035" in calibration/new_industrialization.toml.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import xarray as xr

from sim import __version__
from sim.goals import READING_FILE, Goal, load_goals, load_reading, met_before_projection, peak_year, series
from sim.indicators import VARIABLES
from sim.levers import LEVER_NAMES
from sim.macro import LAST_BACKCAST_YEAR
from sim.output import git_commit
from sim import lever_response
from sim.parameters import CALIBRATED_FILE, CALIBRATION_DIR, resolve
from sim.taxonomy import load_industries

COMPARE_YEARS = (2025, 2030, 2035)
TABLE_VARIABLES = (
    "industrial_va_real",
    "gdp",
    "industrial_ppi",
    "investment",
    "capacity_utilization",
    "labour_productivity",
    "manufacturing_va",
    "manufacturing_share_gdp",
    "sei_share_gdp",
    "hightech_share",
    "equipment_share",
    "world_mfg_share",
    "rd_intensity_mfg",
    "invention_patent_apps",
    "n_above_scale",
    "n_srdi",
    "sme_digital_stage_share[initial_exploration]",
    "exports",
    "industrial_energy",
    "industrial_co2",
    "employment_mfg",
    "fiscal_cost[all levers]",
)
BAND = (0.05, 0.95)
TRILLION_PER_BILLION = 1e-3


def units(spec: str) -> str:
    return VARIABLES[spec.partition("[")[0]].units


# ------------------------------------------------------------------ running
def run_comparison(scenarios, seeds: list[int], scale: float, progress=None, warn=None) -> xr.Dataset:
    """Ensembles of every scenario on the same seeds, stacked along a `scenario` dimension, with the
    goal checks, cumulative fiscal cost and cost-effectiveness as variables.

    A run that diverges (ModelDivergence) is reported through `warn` and its seed is dropped from
    every scenario, so that the remaining runs stay paired; the dropped seeds are recorded in the
    `dropped_seeds` attribute. InputError when no seed is left."""
    from sim.errors import InputError, ModelDivergence
    from sim.runner import simulate

    runs: dict[str, dict[int, xr.Dataset]] = {}
    dropped: dict[int, str] = {}
    for scenario in scenarios:
        runs[scenario.name] = {}
        for seed in seeds:
            if seed in dropped:
                continue
            try:
                runs[scenario.name][seed] = simulate(scenario, seed, scale)
            except ModelDivergence as error:
                dropped[seed] = f"{scenario.name}: {error}"
                if warn is not None:
                    warn(f"seed {seed} diverged in scenario {scenario.name} ({error}); dropped from every scenario to keep runs paired")
        if progress is not None:
            progress(scenario, len(runs[scenario.name]))
    kept = [seed for seed in seeds if seed not in dropped]
    if not kept:
        raise InputError(scenarios[0].path, None, f"every seed diverged ({'; '.join(dropped.values())}); nothing to compare")
    ensembles = [xr.concat([runs[s.name][seed] for seed in kept], dim="run").drop_vars("seed") for s in scenarios]
    names = [s.name for s in scenarios]
    dataset = xr.concat(ensembles, dim="scenario", combine_attrs="drop")
    dataset = dataset.assign_coords(scenario=names)
    dataset["scenario"].attrs.update(long_name="scenario (the first is the reference of differences)", units="1")
    dataset["seed"] = ("run", kept, {"long_name": "random seed of the run (the same in every scenario)", "units": "1"})
    dataset["scenario_file"] = ("scenario", [str(s.path) for s in scenarios], {"long_name": "scenario file", "units": "1"})
    dataset["scenario_levers"] = ("scenario", [s.lever_summary() or "none" for s in scenarios],
                                  {"long_name": "levers pulled (lever=intensity (years; target))", "units": "1"})
    add_assessment(dataset)
    reference_params = resolve(scenarios[0].parameters)
    dataset = dataset.merge(lever_response.to_dataset(lever_response.responses(dataset, scenarios, reference_params,
                                                                               len(load_industries()))))
    dataset.attrs = {
        "title": f"sim comparison: {', '.join(names)}",
        "reference_scenario": names[0],
        "scale": scale,
        "seeds": ",".join(str(s) for s in kept),
        "dropped_seeds": "; ".join(f"{seed} ({why})" for seed, why in dropped.items()) or "none",
        "method": "common random numbers: every scenario runs on the same seeds; differences are taken seed by seed",
        "new_industrialization_reading": str(READING_FILE.relative_to(CALIBRATION_DIR.parent)),
        "sim_version": __version__,
        "git_commit": git_commit(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": "declared defaults, then calibration/params.toml" if CALIBRATED_FILE.exists() else "declared defaults",
        "note": "2012 is the built initial state (document figures); 2013-2022 are simulated back-casts; 2023-2035 projections.",
    }
    return dataset


def add_assessment(dataset: xr.Dataset) -> None:
    """Goal checks per run, the carbon-peak year, cumulative fiscal cost and cost-effectiveness."""
    goals = checkable_goals()
    criteria = load_reading()
    flags = [goal.met(dataset) for goal in goals]
    flags += [criterion.met(dataset) for criterion in criteria]
    all_met = xr.concat([criterion.met(dataset) for criterion in criteria], dim="criterion").all("criterion")
    flags.append(all_met)
    labels = [g.key for g in goals] + [f"new_industrialization.{c.key}" for c in criteria] + ["new_industrialization_basic_goal"]
    readings = [g.reading() for g in goals] + [c.reading() for c in criteria] + ["every new_industrialization criterion met"]
    dataset["goal_met"] = xr.concat(flags, dim="goal").astype(np.int8).assign_coords(goal=labels).transpose("scenario", "run", "goal")
    dataset["goal_met"].attrs.update(units="1", long_name="1 when the run meets the goal (see goal_reading)")
    dataset["goal_reading"] = ("goal", readings, {"units": "1", "long_name": "how the goal is checked"})
    before = [met_before_projection(goal, dataset) for goal in (*goals, *criteria)]
    before.append(xr.concat(before[len(goals):], dim="criterion").all("criterion"))
    dataset["goal_met_before_projection"] = (xr.concat(before, dim="goal").astype(np.int8).assign_coords(goal=labels)
                                             .transpose("scenario", "run", "goal"))
    dataset["goal_met_before_projection"].attrs.update(
        units="1", long_name="1 when the run meets the goal already in the back-cast years (a peak passed by "
                             f"{LAST_BACKCAST_YEAR}): no policy decides it")
    dataset["co2_peak_year"] = peak_year(dataset["industrial_co2"]).astype(np.int32)
    dataset["co2_peak_year"].attrs.update(units="year", long_name="year of the highest industrial_co2 of the run")
    cost = series(dataset, "fiscal_cost[all levers]").sum("year")
    dataset["cumulative_fiscal_cost"] = cost
    dataset["cumulative_fiscal_cost"].attrs.update(units="billion RMB", long_name="fiscal cost of all levers, summed over the years")
    dataset["cost_effectiveness"] = cost_effectiveness(dataset)
    dataset["cost_effectiveness"].attrs.update(
        units="RMB per RMB",
        long_name="change in manufacturing value added over change in fiscal cost, both summed over the years, "
                  "against the first scenario (NaN for the first scenario and where the extra cost is not positive)")


def checkable_goals() -> list[Goal]:
    return [g for g in load_goals() if g.kind != "unmeasured"]


def cost_effectiveness(dataset: xr.Dataset) -> xr.DataArray:
    reference = dataset.isel(scenario=0)
    extra_va = (dataset["manufacturing_va"] - reference["manufacturing_va"]).sum("year")  # trillion RMB
    extra_cost = (series(dataset, "fiscal_cost[all levers]") - series(reference, "fiscal_cost[all levers]")).sum("year")
    extra_cost = extra_cost * TRILLION_PER_BILLION
    return (extra_va / extra_cost).where(extra_cost > 0)


# ------------------------------------------------------------------ the printed table
def decimals(level: float) -> int:
    """Decimals that show about four significant digits of a quantity of this size."""
    level = abs(level)
    if level == 0.0 or not np.isfinite(level):
        return 2
    return int(min(max(3 - np.floor(np.log10(level)), 0), 6))


def number(value: float, places: int, sign: bool = True) -> str:
    """A number with `places` decimals, signed when `sign`; a value that rounds to zero prints as 0."""
    text = f"{value:{'+' if sign else ''},.{places}f}"
    return text.lstrip("+-") if float(text.replace(",", "")) == 0.0 else text


def band_text(values: np.ndarray, runs: int, level: float | None = None) -> str:
    """Mean and 5%-95% band of values over runs, at the precision of `level` (default: the values')."""
    if not np.any(values):
        return "0"
    mean = float(np.mean(values))
    places = decimals(level if level else float(np.max(np.abs(values))))
    if runs == 1:
        return number(mean, places)
    low, high = np.quantile(values, BAND)
    return f"{number(mean, places)} [{number(low, places)}, {number(high, places)}]"


def level_text(values: np.ndarray) -> str:
    mean = float(np.mean(values))
    return number(mean, decimals(mean), sign=False)


def layout(title: list[str], header: list[str], rows: list[list[str]]) -> str:
    """Rows of cells as a text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[k]) for row in [header, *rows]) for k in range(len(header))]
    def line(cells):
        return "  ".join(c.ljust(widths[0]) if k == 0 else c.rjust(widths[k]) for k, c in enumerate(cells)).rstrip()
    head = line(header)
    return "\n".join([*title, head, "-" * len(head), *(line(row) for row in rows)])


def difference_table(dataset: xr.Dataset, variables=TABLE_VARIABLES, years=COMPARE_YEARS) -> str:
    names = [str(n) for n in dataset["scenario"].values]
    runs = dataset.sizes["run"]
    reference = names[0]
    rows = []
    for spec in variables:
        data = series(dataset, spec)
        ref = data.sel(scenario=reference)
        rows.append([f"{spec} ({units(spec)})", f"{reference} (level)", *(level_text(ref.sel(year=y).values) for y in years)])
        for name in names[1:]:
            diff = data.sel(scenario=name) - ref
            rows.append(["", name, *(band_text(diff.sel(year=y).values, runs, float(np.mean(ref.sel(year=y).values)))
                                    for y in years)])
    title = [f"Differences from '{reference}' (common random numbers): mean over {runs} seed(s)"
             + (" [5%, 95%] of the seed-by-seed differences" if runs > 1 else "") + "; the reference row gives its level."]
    return layout(title, ["indicator (unit)", "scenario", *(str(y) for y in years)], rows)


def goals_table(dataset: xr.Dataset) -> str:
    names = [str(n) for n in dataset["scenario"].values]
    runs = dataset.sizes["run"]
    met = dataset["goal_met"]
    readings = dict(zip(dataset["goal"].values, dataset["goal_reading"].values))
    rows = []
    for goal in dataset["goal"].values:
        nested = str(goal).startswith("new_industrialization.")
        label = f"  - {readings[goal]}" if nested else str(readings[goal])
        if goal == "new_industrialization_basic_goal":
            label = f"new industrialization basically achieved by 2035: all {len(load_reading())} criteria above"
        before = dataset["goal_met_before_projection"].sel(goal=goal).all("run").values if "goal_met_before_projection" in dataset \
            else np.zeros(len(names), dtype=bool)
        rows.append([label, *("met before the projection starts" if early else f"{s:.2f}"
                              for s, early in zip(met.sel(goal=goal).mean("run").values, before))])
        if goal == "carbon_peak_goal":
            peaks = dataset["co2_peak_year"]
            cells = []
            for name in names:
                low, mid, high = np.quantile(peaks.sel(scenario=name).values, (BAND[0], 0.5, BAND[1]), method="nearest")
                cells.append(f"{mid:.0f}" if runs == 1 else f"{mid:.0f} [{low:.0f}-{high:.0f}]")
            rows.append(["  industrial_co2 peak year: median [5%-95%] over runs", *cells])
            rows.append(["  industrial_co2 peaks strictly before 2030", *(f"{s:.2f}" for s in (peaks < 2030).mean("run").values)])
            rows.append(["New industrialization by 2035 (calibration/new_industrialization.toml), criteria:", *([""] * len(names))])
    title = [f"Official goals (sim/goals.py readings): share of the {runs} run(s) meeting each; 'met before the projection "
             f"starts' where every run meets it by {LAST_BACKCAST_YEAR} (a back-cast: no policy decides it)"]
    return layout(title, ["goal", *names], rows)


def cost_table(dataset: xr.Dataset) -> str:
    names = [str(n) for n in dataset["scenario"].values]
    runs = dataset.sizes["run"]
    cost = dataset["cumulative_fiscal_cost"]
    rows = [["cumulative fiscal cost of all levers (billion RMB)", *(level_text(cost.sel(scenario=n).values) for n in names)]]
    for lever in LEVER_NAMES:
        by_lever = dataset["fiscal_cost"].sel(lever=lever).sum("year")
        if np.any(by_lever.values != 0):
            rows.append([f"  {lever}", *(level_text(by_lever.sel(scenario=n).values) for n in names)])
    extra_va = (dataset["manufacturing_va"] - dataset["manufacturing_va"].isel(scenario=0)).sum("year")
    rows.append(["extra manufacturing value added, summed (trillion RMB)", "-",
                 *(band_text(extra_va.sel(scenario=n).values, runs) for n in names[1:])])
    cells = []
    for name in names[1:]:
        values = dataset["cost_effectiveness"].sel(scenario=name).values
        valid = values[~np.isnan(values)]
        cells.append("n/a (no extra cost)" if valid.size == 0 else band_text(valid, valid.size, 1.0))
    rows.append(["RMB of manufacturing value added per RMB of fiscal cost", "-", *cells])
    title = ["Fiscal cost and cost-effectiveness (sums over 2013-2035; extra value added and cost against the first scenario)"]
    return layout(title, ["budget", *names], rows)


def report(dataset: xr.Dataset) -> str:
    sections = [difference_table(dataset), lever_response.table(dataset), cost_table(dataset), goals_table(dataset)]
    return "\n\n".join(section for section in sections if section)
