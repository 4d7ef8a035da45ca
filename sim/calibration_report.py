"""The figures and facts of `sim calibrate --report`, from a Dataset of runs of the calibrated baseline.

- `fit_figure`: one panel per fit and check target the model measures (the rows of the fit table):
  the model's path of the target's measure over 2012-2035 (mean and 5-95% band over runs, the years
  after 2022 shaded as projections) with the documents' figures of that measure as points;
- `stylized_facts` and `facts_figure`: the firm-level stylized facts (sim.stylized_facts) of the
  last back-cast year against their literature values: the firm-size CCDF and its tail exponent,
  growth rates against fitted Laplace and normal densities, the volatility-size slope, the 90/10
  productivity ratio and the state-owned productivity gap.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter
from scipy import stats

from sim.calibrate import measure, measured_year, moment_targets, trajectory
from sim.calibration_data import HISTORY_FILE, LITERATURE, Target, load_history, load_targets
from sim.macro import LAST_BACKCAST_YEAR, LAST_YEAR
from sim.plotting import (ROLE_MARKERS, draw_size_ccdf, figure_title, panel_grid, period_text, shared_legend,
                          style_axis)
from sim.stylized_facts import Fact, facts, format_facts, laplace_log_likelihood, normal_log_likelihood

FACT_YEAR = LAST_BACKCAST_YEAR  # the facts are those of the last year that follows observed macro paths
MODEL_COLOUR = "tab:blue"
FIT_COLUMNS = 6


# ---------------------------------------------------------------- fit to the documents' figures
def measured_targets(dataset: xr.Dataset) -> list[tuple[Target, xr.DataArray]]:
    """(target, its measure's path with dims (run, year)) of every fit and check target the model
    measures, fit targets first, each role by key (the order of the fit table)."""
    measured = []
    for target in sorted([*load_targets().values(), *moment_targets()], key=lambda t: (t.role != "fit", t.key)):
        if target.role not in ("fit", "check"):
            continue
        try:
            path = trajectory(dataset, target)
        except KeyError:
            continue
        if set(path.dims) == {"run", "year"}:
            measured.append((target, path.transpose("run", "year")))
    return measured


def draw_band(axis, path: xr.DataArray) -> None:
    """The mean over runs of a (run, year) path and its 5-95% band, and the projection years shaded."""
    years = path["year"].values
    axis.fill_between(years, path.quantile(0.05, "run"), path.quantile(0.95, "run"), color=MODEL_COLOUR, alpha=0.25,
                      linewidth=0, label="model: 5-95% band over runs")
    axis.plot(years, path.mean("run"), color=MODEL_COLOUR, linewidth=1.6, label="model: mean over runs")
    axis.axvspan(LAST_BACKCAST_YEAR + 0.5, max(LAST_YEAR, years[-1]) + 0.5, color="grey", alpha=0.12, linewidth=0,
                 label=f"projection (after {LAST_BACKCAST_YEAR})")
    axis.set_xlim(years[0] - 0.5, max(LAST_YEAR, years[-1]) + 0.5)
    axis.set_xticks([years[0], LAST_BACKCAST_YEAR, max(LAST_YEAR, years[-1])])


def is_history_moment(target: Target) -> bool:
    return target.measure.startswith("mean:") and target.document == HISTORY_FILE.name


def draw_literature(axis, target: Target) -> None:
    """A literature moment: its value over the moment's years and the range it allows (its tolerance)."""
    _, _, first, last = target.measure.split(":")
    axis.fill_between([int(first), int(last)], target.value - target.tolerance, target.value + target.tolerance, color="black",
                      alpha=0.12, linewidth=0, label="literature: range of the moment")
    axis.hlines(target.value, int(first), int(last), color="black", linestyle="--", linewidth=1.0, label="literature: mean fitted")


def draw_history(axis, target: Target) -> None:
    """A history moment's published path (calibration/history.csv) and its mean over the moment's years."""
    _, _, first, last = target.measure.split(":")
    series = load_history()[target.key.split("_mean_")[0]]
    years = sorted(series)
    axis.plot(years, [series[y] for y in years], marker="D", color="black", markersize=3.5, linewidth=0.8,
              label="history (calibration/history.csv)")
    axis.hlines(target.value, int(first), int(last), color="black", linestyle="--", linewidth=1.0, label="history: mean fitted")


def draw_target_points(axis, target: Target) -> None:
    """The documents' fit and check figures of the target's measure at the years `measure` reads: the
    panel's own target large, the others small."""
    if is_history_moment(target):
        draw_history(axis, target)
        return
    if target.document == LITERATURE:
        draw_literature(axis, target)
        return
    for other in load_targets().values():
        if other.measure != target.measure or other.role not in ("fit", "check"):
            continue
        own = other.key == target.key
        marker, colour = ROLE_MARKERS[other.role]
        axis.plot(measured_year(other), other.value, marker=marker, color=colour, linestyle="none", zorder=5,
                  markersize=6.5 if own else 4, alpha=1.0 if own else 0.5,
                  label=f"documents: {other.role} target" if own else "documents: another target of the same measure")


def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def fit_figure(dataset: xr.Dataset, title: str) -> Figure:
    """One panel per fit and check target the model measures (see the module docstring)."""
    measured = measured_targets(dataset)
    figure, axes = panel_grid(len(measured), min(FIT_COLUMNS, len(measured)), width=3.0, height=2.35, margin=0.9)
    for axis, (target, path) in zip(axes, measured):
        draw_band(axis, path)
        draw_target_points(axis, target)
        axis.margins(y=0.12)
        if abs(target.value) >= 1e4:  # counts: 450k, 1.2M rather than an offset that collides with the title
            axis.yaxis.set_major_formatter(EngFormatter(sep=""))
        style_axis(axis, "", "", target.unit)
        model = float(np.mean(measure(dataset, target)))
        axis.set_title(f"{target.key}\ndocument {number(target.value)} ({period_text(target.year)}), model {number(model)}", fontsize=7.5)
    shared_legend(figure, axes)
    figure_title(figure, title)
    return figure


# ---------------------------------------------------------------- stylized facts
def laplace_gain(dataset: xr.Dataset) -> xr.DataArray:
    """Per run and snapshot: mean log-likelihood per firm of the fitted Laplace minus the fitted normal."""
    return laplace_log_likelihood(dataset["firm_growth_laplace_scale"]) - normal_log_likelihood(dataset["firm_growth_sd"])


def stylized_facts(dataset: xr.Dataset, year: int = FACT_YEAR) -> list[Fact]:
    """The stylized facts in `year` (a snapshot year of the firm distributions), means over runs."""
    at = dataset.sel(snapshot=year)

    def mean(data: xr.DataArray) -> float:
        return float(data.mean("run"))

    return facts(mean(at["firm_size_tail_exponent"]), mean(at["firm_growth_excess_kurtosis"]), mean(laplace_gain(at)),
                 mean(at["firm_volatility_size_slope"]), mean(dataset["productivity_90_10"].sel(year=year)),
                 mean(dataset["soe_productivity_gap"].sel(year=year)))


def growth_verdict(dataset: xr.Dataset, year: int = FACT_YEAR) -> str:
    """Which of the fitted Laplace and normal describes the growth rates better, by mean log-likelihood per firm."""
    at = dataset.sel(snapshot=year)
    laplace = float(laplace_log_likelihood(at["firm_growth_laplace_scale"]).mean("run"))
    normal = float(normal_log_likelihood(at["firm_growth_sd"]).mean("run"))
    better = "Laplace (tent-shaped)" if laplace > normal else "normal"
    return f"growth rates in {year}: the {better} fits better (log-likelihood per firm: Laplace {laplace:.3f}, normal {normal:.3f})"


def facts_text(dataset: xr.Dataset, year: int = FACT_YEAR) -> str:
    """The stylized facts as printed by `sim calibrate --report`: name, model value, literature value, source."""
    return "\n".join([f"stylized facts in {year}, means over {dataset.sizes['run']} run(s)",
                      format_facts(stylized_facts(dataset, year)), growth_verdict(dataset, year)])


def draw_growth(axis, dataset: xr.Dataset, year: int) -> None:
    """The growth-rate density in `year` (mean over runs) against the fitted normal and Laplace."""
    at = dataset.sel(snapshot=year)
    x = dataset["growth_rate"].values
    density = at["firm_growth_density"].mean("run").values
    axis.plot(x, np.where(density > 0, density, np.nan), color=MODEL_COLOUR, drawstyle="steps-mid", label=f"model {year}")
    fine = np.linspace(x[0], x[-1], 401)
    normal = stats.norm.pdf(fine, float(at["firm_growth_mean"].mean("run")), float(at["firm_growth_sd"].mean("run")))
    laplace = stats.laplace.pdf(fine, float(at["firm_growth_median"].mean("run")), float(at["firm_growth_laplace_scale"].mean("run")))
    axis.plot(fine, normal, color="grey", linestyle="--", linewidth=1.1, label="normal, fitted")
    axis.plot(fine, laplace, color="black", linestyle=":", linewidth=1.3, label="Laplace, fitted")
    axis.set_yscale("log")
    axis.set_ylim(1e-3, 40 * np.nanmax(density))  # room above the peak for the legend and the statistics
    observed = x[density > 0]
    axis.set_xlim(observed.min() - 0.3, observed.max() + 0.3)
    kurtosis = float(at["firm_growth_excess_kurtosis"].mean("run"))
    gain = float(laplace_gain(at).mean("run"))
    axis.text(0.02, 0.97, f"excess kurtosis {kurtosis:.2f}\n(normal 0, Laplace 3)\nLaplace - normal log-lik.\nper firm {gain:+.3f}",
              transform=axis.transAxes, va="top", fontsize=7.5, bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    style_axis(axis, f"Growth rates, {year}: {'Laplace' if gain > 0 else 'normal'} fits better",
               "yearly log growth of value added (log points)", "density (per log point)")
    axis.legend(fontsize=7, loc="upper right")


def draw_references(axis, references: dict[str, float]) -> None:
    """Values from the literature as labelled horizontal lines (the first red, any others grey)."""
    for k, (label, value) in enumerate(references.items()):
        axis.axhline(value, color="tab:red" if k == 0 else "grey", linestyle="--", linewidth=1, label=label)


def literature(fact: Fact) -> str:
    return f"{fact.reference}, {fact.source}"


def draw_snapshots(axis, data: xr.DataArray, references: dict[str, float], title: str, ylabel: str) -> None:
    """A snapshot statistic: each run's value and the mean at each snapshot year with growth, and literature values."""
    data = data.dropna("snapshot", how="all")
    years = data["snapshot"].values
    for year in years:
        values = data.sel(snapshot=year).values
        axis.plot(np.full(values.size, year), values, "o", color=MODEL_COLOUR, alpha=0.4, markersize=4)
        axis.plot(year, values.mean(), "_", color=MODEL_COLOUR, markersize=18, markeredgewidth=2)
    axis.plot([], [], "o", color=MODEL_COLOUR, alpha=0.4, label="model: each run (bar: mean)")
    draw_references(axis, references)
    axis.set_xticks(years)
    axis.set_xlim(years[0] - 7, years[-1] + 7)
    style_axis(axis, title, "snapshot year", ylabel)
    axis.legend(fontsize=7)


def draw_path(axis, path: xr.DataArray, references: dict[str, float], title: str, ylabel: str) -> None:
    """A yearly statistic's mean and 5-95% band over runs, with literature values."""
    draw_band(axis, path)
    draw_references(axis, references)
    style_axis(axis, title, "year", ylabel)
    axis.legend(fontsize=7)


def facts_figure(dataset: xr.Dataset, title: str, year: int = FACT_YEAR) -> Figure:
    """The stylized facts in six panels: size CCDF, growth rates against fitted densities, the
    volatility-size slope and the growth kurtosis at the snapshots, the 90/10 ratio and the
    state-owned gap over the years; literature values in red."""
    _, kurtosis, _, slope, ratio, gap = stylized_facts(dataset, year)  # for their literature values and sources
    figure, axes = panel_grid(6, 3, width=5.0, height=3.7, margin=0.6)
    size_axis, growth_axis, slope_axis, ratio_axis, gap_axis, kurtosis_axis = axes
    draw_size_ccdf(size_axis, {"model": dataset})
    draw_growth(growth_axis, dataset, year)
    draw_snapshots(slope_axis, dataset["firm_volatility_size_slope"], {literature(slope): -0.2},
                   "Growth volatility vs size", "slope of log sd(growth) on log revenue")
    draw_path(ratio_axis, dataset["productivity_90_10"], {literature(ratio): 5.0}, "Labour productivity 90/10 ratio",
              "ratio, above-scale manufacturing")
    draw_path(gap_axis, dataset["soe_productivity_gap"], {literature(gap): 0.0}, "Private minus state-owned productivity",
              "log points")
    draw_snapshots(kurtosis_axis, dataset["firm_growth_excess_kurtosis"], {literature(kurtosis): 3.0, "0: normal": 0.0},
                   "Growth rates: excess kurtosis", "excess kurtosis")
    figure_title(figure, title)
    return figure
