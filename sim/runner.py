"""Running the model: one run is a pure function of (scenario, parameters, seed, scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from sim import parameters as parameter_declaration
from sim.errors import InputError
from sim.firm_distributions import FIRM_VARIABLES, run_with_distributions, stored_distributions
from sim.model import IndustryModel
from sim.output import provenance, run_dataset
from sim.scenario import Scenario


def simulate(scenario: Scenario, seed: int, scale: float | None = None, use_calibrated: bool = True) -> xr.Dataset:
    """One run, 2012 to 2035, as a Dataset with dims (run, year, ...)."""
    values = parameter_declaration.resolve(scenario.parameters, use_calibrated=use_calibrated)
    model = IndustryModel(values, scenario.macro(), seed=seed, scale=scenario.scale if scale is None else scale, levers=scenario.levers)
    distributions = run_with_distributions(model)  # steps to 2035, keeping firm-size and growth distributions
    return xr.merge([run_dataset(model.records, seed), distributions])


def ensemble(scenario: Scenario, seeds: list[int], scale: float | None = None, progress=None) -> xr.Dataset:
    """Runs for every seed, concatenated along `run`, with provenance attributes."""
    runs = []
    for seed in seeds:
        runs.append(simulate(scenario, seed, scale))
        if progress is not None:
            progress(seed)
    dataset = xr.concat(runs, dim="run")
    used_scale = scenario.scale if scale is None else scale
    dataset.attrs.update(provenance(scenario, parameter_declaration.resolve(scenario.parameters), used_scale, list(seeds)))
    dataset.attrs["levers"] = scenario.lever_summary()
    return dataset


def default_seeds(count: int) -> list[int]:
    """Seeds 1..count: the same list for every scenario, so comparisons share random numbers."""
    return list(range(1, count + 1))


# ---------------------------------------------------------------- firm distributions of older results
def rerun_distributions(dataset: xr.Dataset, source: object) -> xr.Dataset:
    """Firm distributions of a result's first run, re-simulated from its scenario file.

    For results written before `simulate` stored them. The re-run is checked against the stored
    trajectory; the outcome is in the `source` attribute. Raises InputError when it cannot be done.
    """
    from sim.scenario import load_scenario

    scenario_file = dataset.attrs.get("scenario_file")
    if not scenario_file or not Path(scenario_file).is_file():
        raise InputError(source, "scenario_file", f"cannot re-run for the firm-level figures: scenario file {scenario_file!r} not found")
    scenario = load_scenario(Path(scenario_file))
    seed = int(dataset["run"].values[0])
    scale = float(dataset.attrs.get("scale", scenario.scale))
    model = IndustryModel(parameter_declaration.resolve(scenario.parameters), scenario.macro(), seed=seed, scale=scale)
    distributions = run_with_distributions(model)
    stored = dataset["manufacturing_va"].isel(run=0).values
    rerun = np.array([r["manufacturing_va"] for r in model.records])
    same = stored.shape == rerun.shape and np.allclose(stored, rerun, rtol=1e-9, atol=0.0)
    verdict = "matches the stored run" if same else "DIFFERS from the stored run (scenario, parameters or code changed since)"
    distributions.attrs["source"] = f"re-run of seed {seed} at scale {scale:g} from {scenario_file}; {verdict}"
    return distributions


def distributions_of(dataset: xr.Dataset, source: object) -> xr.Dataset:
    """The result's stored firm distributions, or a re-run of its first seed when it has none."""
    if all(name in dataset for name in FIRM_VARIABLES):
        return stored_distributions(dataset, source)
    return rerun_distributions(dataset, source)
