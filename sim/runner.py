"""Running the model: one run is a pure function of (scenario, parameters, seed, scale)."""

from __future__ import annotations

import xarray as xr

from sim import parameters as parameter_declaration
from sim.firm_distributions import run_with_distributions
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
