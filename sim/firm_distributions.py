"""Firm-level stylized facts of a run: the firm-size CCDF and the distribution of growth rates.

The national Dataset holds aggregates only, so these are taken from the live model at a few
snapshot years (`run_with_distributions`). Every statistic is weighted by the real firms a row
stands for. Size is revenue (M RMB, current prices) of every live firm; the tail exponent and the
growth rates are those of above-scale firms, as in sim.stylized_facts: a growth rate is the yearly
log change of a continuing firm's value added (its revenue growth, an industry's value-added ratio
being fixed). The stylized facts that need firm rows (the growth-rate fits and kurtosis, the
volatility-size slope; sim.stylized_facts) are stored at the snapshots too.
"""

from __future__ import annotations


import numpy as np
import xarray as xr

from sim.errors import InputError
from sim.macro import FIRST_YEAR, LAST_YEAR
from sim.stylized_facts import growth_fit, hill_tail_exponent, volatility_size_slope

SNAPSHOT_YEARS = (FIRST_YEAR, 2022, LAST_YEAR)  # the built state, the last back-cast year, the horizon
SIZE_GRID = np.logspace(0, 7, 71)  # M RMB: 1 million to 10 trillion RMB, ten points a decade
GROWTH_EDGES = np.linspace(-2.5, 2.5, 51)  # log points
FIRM_VARIABLES = ("firm_size_ccdf", "firm_size_tail_exponent", "firm_growth_density", "firm_growth_mean", "firm_growth_sd")
FACT_VARIABLES = ("firm_growth_median", "firm_growth_laplace_scale", "firm_growth_excess_kurtosis", "firm_volatility_size_slope")


def weighted_ccdf(values: np.ndarray, weights: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Share of the total weight with value >= each grid point."""
    order = np.argsort(values)
    tail = np.cumsum(weights[order][::-1])[::-1]  # weight at or above each sorted value
    index = np.searchsorted(values[order], grid, side="left")
    total = tail[0] if tail.size else 0.0
    return np.where(index < values.size, tail[np.minimum(index, values.size - 1)], 0.0) / max(total, 1e-300)


def firm_distributions(model) -> xr.Dataset:
    """The size CCDF and growth-rate density of the model's current year, dims (run, snapshot, ...)."""
    f = model.firms
    alive = f.alive & (f.weight > 0)
    above = alive & (f.revenue >= model.params["threshold_revenue"])
    live_revenue = f.revenue[alive].astype(np.float64)
    ccdf = weighted_ccdf(live_revenue, f.weight[alive].astype(np.float64), SIZE_GRID)
    exponent = hill_tail_exponent(f.revenue[above].astype(np.float64), f.weight[above].astype(np.float64))

    density = np.full(GROWTH_EDGES.size - 1, np.nan)
    mean = sd = median = laplace_scale = kurtosis = slope = float("nan")
    if model.year > FIRST_YEAR:  # the built 2012 state has no observed growth
        continuing = above & (f.age > 0) & (f.previous_value_added > 0) & (f.value_added > 0)
        growth = np.log(f.value_added[continuing].astype(np.float64) / f.previous_value_added[continuing])
        w = f.weight[continuing].astype(np.float64)
        counts, _ = np.histogram(growth, bins=GROWTH_EDGES, weights=w)
        density = counts / (w.sum() * np.diff(GROWTH_EDGES))  # integrates to the share inside the edges
        fit = growth_fit(growth, w)
        mean, sd, median, laplace_scale, kurtosis = fit.mean, fit.sd, fit.median, fit.laplace_scale, fit.excess_kurtosis
        slope = volatility_size_slope(growth, f.revenue[continuing].astype(np.float64), w)

    centres = 0.5 * (GROWTH_EDGES[1:] + GROWTH_EDGES[:-1])
    dataset = xr.Dataset(
        {
            "firm_size_ccdf": (("run", "snapshot", "firm_size"), ccdf[np.newaxis, np.newaxis],
                               {"units": "share", "long_name": "share of live firms with revenue at least the given size"}),
            "firm_size_tail_exponent": (("run", "snapshot"), [[exponent]],
                                        {"units": "1", "long_name": "Pareto exponent of the revenue of the largest 5% of above-scale firms (weighted Hill estimate)"}),
            "firm_growth_density": (("run", "snapshot", "growth_rate"), density[np.newaxis, np.newaxis],
                                    {"units": "per log point", "long_name": "density of continuing above-scale firms' yearly log growth of value added"}),
            "firm_growth_mean": (("run", "snapshot"), [[mean]], {"units": "log points", "long_name": "mean yearly log growth of continuing above-scale firms"}),
            "firm_growth_sd": (("run", "snapshot"), [[sd]], {"units": "log points", "long_name": "standard deviation of continuing above-scale firms' yearly log growth"}),
            "firm_growth_median": (("run", "snapshot"), [[median]], {"units": "log points", "long_name": "median yearly log growth of continuing above-scale firms (location of the fitted Laplace)"}),
            "firm_growth_laplace_scale": (("run", "snapshot"), [[laplace_scale]],
                                          {"units": "log points", "long_name": "mean absolute deviation of yearly log growth from its median (scale of the fitted Laplace)"}),
            "firm_growth_excess_kurtosis": (("run", "snapshot"), [[kurtosis]],
                                            {"units": "1", "long_name": "excess kurtosis of continuing above-scale firms' yearly log growth (0 for a normal, 3 for a Laplace)"}),
            "firm_volatility_size_slope": (("run", "snapshot"), [[slope]],
                                           {"units": "1", "long_name": "slope of log growth-rate sd on log revenue across size bins of continuing above-scale firms"}),
        },
        coords={"run": [model.seed], "snapshot": [model.year], "firm_size": SIZE_GRID, "growth_rate": centres},
    )
    dataset["snapshot"].attrs.update(units="year", long_name="year of the firm-level snapshot")
    dataset["firm_size"].attrs.update(units="M RMB", long_name="firm revenue, current prices")
    dataset["growth_rate"].attrs.update(units="log points", long_name="centre of the growth-rate bin")
    return dataset


def run_with_distributions(model) -> xr.Dataset:
    """Step `model` to the last year; return its firm distributions at SNAPSHOT_YEARS."""
    snapshots = [firm_distributions(model)] if model.year in SNAPSHOT_YEARS else []
    while model.year < LAST_YEAR:
        model.step()
        if model.year in SNAPSHOT_YEARS:
            snapshots.append(firm_distributions(model))
    return xr.concat(snapshots, dim="snapshot")


def stored_distributions(dataset: xr.Dataset, source: object) -> xr.Dataset:
    """The result's stored firm distributions; InputError when it has none (results written before
    runs stored them: sim.runner.distributions_of re-simulates those)."""
    if all(name in dataset for name in FIRM_VARIABLES):
        stored = dataset[list(FIRM_VARIABLES)].copy()
        stored.attrs = {"source": f"stored in the result ({dataset.sizes['run']} run(s))"}
        return stored
    raise InputError(source, None, "holds no firm distributions (written before runs stored them): `sim plot` and "
                                   "`sim report` re-simulate its first run")
