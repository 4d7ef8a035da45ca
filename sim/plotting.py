"""Figures of results: fan charts (median, 50% and 90% bands over runs) grouped in panels, with the
documents' figures as labelled points and the official goals as reference lines; several results
overlaid in one colour each; and the firm-size CCDF and growth-rate histogram.

Figures are built as `matplotlib.figure.Figure` objects (no pyplot state), so they can be tested,
saved, embedded in a report or served by the dashboard.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from sim.calibration_data import load_targets  # noqa: E402
from sim.errors import InputError  # noqa: E402
from sim.firm_distributions import stored_distributions  # noqa: E402
from sim.goals import STABLE_TOLERANCE, first_year, goals_for, in_units  # noqa: E402
from sim.indicators import CONTRACT, VARIABLES  # noqa: E402
from sim.macro import LAST_BACKCAST_YEAR, LAST_YEAR  # noqa: E402
from sim.output import atomic_target  # noqa: E402
from sim.parameters import did_you_mean  # noqa: E402
from sim.results import describe  # noqa: E402

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
ROLE_MARKERS = {"initial": ("o", "black"), "fit": ("D", "black"), "check": ("s", "tab:red")}
GOAL_COLOUR = "tab:red"
BANDS = ((0.05, 0.95, 0.15, "90%"), (0.25, 0.75, 0.3, "50%"))  # quantiles over runs, opacity, name
LARGE_UNITS = ((1e9, "billions"), (1e6, "millions"))  # an axis reaching these shows its values in them

MAIN_PANELS = (
    "manufacturing_va",
    "manufacturing_share_gdp",
    "above_scale_va_growth",
    "hightech_share",
    "world_mfg_share",
    "rd_intensity_mfg",
    "n_above_scale",
    "exports",
    "industrial_co2",
)

SHORT_TITLES = {
    "industrial_va": "Industrial value added",
    "manufacturing_va": "Manufacturing value added",
    "industry_share_gdp": "Industry, share of GDP",
    "manufacturing_share_gdp": "Manufacturing, share of GDP",
    "above_scale_va_growth": "Above-scale VA growth",
    "hightech_share": "High-tech share of above-scale VA",
    "equipment_share": "Equipment share of above-scale VA",
    "sei_share_gdp": "Strategic emerging ind., share of GDP",
    "world_mfg_share": "Share of world manufacturing VA",
    "rd_spend_mfg": "R&D spending, above-scale mfg",
    "rd_intensity_mfg": "R&D intensity, above-scale mfg",
    "invention_patent_apps": "Invention patent applications",
    "n_above_scale": "Above-scale industrial firms",
    "n_srdi": "SRDI SMEs (little giants incl.)",
    "n_little_giant": "Little giants",
    "n_single_champion": "Single-item champions",
    "top500_revenue": "Top-500 manufacturers: revenue",
    "top500_assets": "Top-500 manufacturers: assets",
    "exports": "Goods exports",
    "hightech_exports": "High-tech exports",
    "new_three_exports": "'New three' exports",
    "sme_digital_stage_share": "SMEs in digital stage",
    "industrial_energy": "Industrial energy use",
    "industrial_co2": "Industrial CO2 emissions",
    "employment_mfg": "Manufacturing employment",
    "industrial_ppi": "Industrial producer prices",
    "investment": "Investment of industrial firms",
    "capacity_utilization": "Capacity utilisation",
    "fiscal_cost": "Fiscal cost",
}


@dataclass(frozen=True)
class Group:
    slug: str
    title: str
    variables: tuple[str, ...]


GROUPS = (
    Group("growth", "Growth and structure", ("industrial_va", "manufacturing_va", "industry_share_gdp", "manufacturing_share_gdp",
                                             "above_scale_va_growth", "hightech_share", "equipment_share", "sei_share_gdp",
                                             "world_mfg_share", "employment_mfg")),
    Group("prices", "Prices, investment and capacity", ("industrial_ppi", "investment", "capacity_utilization")),
    Group("innovation", "Innovation", ("rd_spend_mfg", "rd_intensity_mfg", "invention_patent_apps")),
    Group("firms", "Firms and the ladder", ("n_above_scale", "n_srdi", "n_little_giant", "n_single_champion", "top500_revenue", "top500_assets")),
    Group("digital", "Digital stages of SMEs", ("sme_digital_stage_share",)),
    Group("trade", "Trade", ("exports", "hightech_exports", "new_three_exports")),
    Group("energy", "Energy and carbon", ("industrial_energy", "industrial_co2")),
    Group("fiscal", "Fiscal cost of the levers", ("fiscal_cost",)),
)
DIAGNOSTICS = Group("diagnostics", "Diagnostics", tuple(name for name in VARIABLES if name not in CONTRACT))
EFFECTS = Group("effects", "Real output and productivity", ("industrial_va_real", "labour_productivity", "gdp_real_growth"))
FIRM_GROUP = Group("firm_size_growth", "Firm size and growth", ("firm_size_ccdf", "firm_growth_density"))
SUMMED_DIMS = {"lever": "all levers"}  # category dims whose total gets its own panel


# ---------------------------------------------------------------- panels
@dataclass(frozen=True)
class Panel:
    """One axis: a variable, or one category of it, or its total over a category dim."""

    variable: str
    dim: str | None = None
    category: str | None = None  # None with a dim: the total over the dim

    def series(self, dataset: xr.Dataset) -> xr.DataArray:
        data = dataset[self.variable]
        if self.dim is None:
            return data
        return data.sum(self.dim) if self.category is None else data.sel({self.dim: self.category})

    @property
    def measure(self) -> str:
        """How calibration/targets.csv names what this panel shows."""
        return self.variable if self.dim is None else f"{self.variable}[{self.category}]"

    @property
    def title(self) -> str:
        title = SHORT_TITLES.get(self.variable, self.variable)
        if self.dim is None:
            return title
        return f"{title}: {SUMMED_DIMS[self.dim] if self.category is None else self.category.replace('_', ' ')}"

    def units(self, dataset: xr.Dataset) -> str:
        return dataset[self.variable].attrs.get("units") or VARIABLES[self.variable].units


def panels_for(variable: str, results: dict[str, xr.Dataset]) -> list[Panel]:
    """The panels of a variable: one, or one per category (a total first for SUMMED_DIMS; categories
    that are zero in every result are left out)."""
    data = [d[variable] for d in results.values() if variable in d]
    extra = [dim for dim in data[0].dims if dim not in ("run", "year")] if data else []
    if not extra:
        return [Panel(variable)]
    dim = extra[0]
    categories = [str(c) for c in data[0][dim].values]
    if dim in SUMMED_DIMS:
        nonzero = [c for c in categories if any(bool((d.sel({dim: c}) != 0).any()) for d in data)]
        return [Panel(variable, dim)] + [Panel(variable, dim, c) for c in nonzero]
    return [Panel(variable, dim, c) for c in categories]


# ---------------------------------------------------------------- drawing
def document_points(measure: str, units: str) -> list[tuple[int, float, str, str]]:
    """(year, value in `units`, role, period) of the documents' figures measured by `measure`; goals excluded."""
    points = []
    for key, target in load_targets().items():
        year = first_year(target.year)
        if target.measure == measure and year is not None and not key.endswith("_goal"):
            points.append((year, in_units(target, units), target.role, target.year))
    return points


def period_text(period: str) -> str:
    """A target's period for a label in parentheses: "present (2023)" -> "present, 2023"."""
    return re.sub(r"\s*\(([^()]*)\)", r", \1", period)


def draw_documents(axis, measure: str, units: str) -> None:
    """The documents' figures as points labelled with value and period (stacked where years repeat);
    one legend entry per role."""
    seen: list[int] = []
    for year, value, role, period in document_points(measure, units):
        marker, colour = ROLE_MARKERS.get(role, ("x", "black"))
        axis.plot(year, value, marker=marker, color=colour, linestyle="none", markersize=5, zorder=5,
                  label=f"documents ({role})")
        axis.annotate(f"{value:,g} ({period_text(period)})", (year, value), textcoords="offset points",
                      xytext=(4, 4 + 9 * seen.count(year)), fontsize=6.5, color=colour)
        seen.append(year)


GOAL_LABEL = "official goal (its reading beside the line)"


def draw_goals(axis, variable: str, last_year: int = LAST_YEAR) -> None:
    """Official goals as reference lines (level from its year on, band for 'stable', vertical for a
    peak year), each read beside its line; one legend entry for all goals."""
    for goal in goals_for(variable):
        value = goal.value
        reading = goal.label().removeprefix("goal: ")
        if goal.kind == "peak_by":
            axis.axvline(value, color=GOAL_COLOUR, linestyle="--", linewidth=1, label=GOAL_LABEL)
            axis.annotate(reading, (value, 0.97), xycoords=("data", "axes fraction"), xytext=(-3, 0), textcoords="offset points",
                          rotation=90, ha="right", va="top", fontsize=6.5, color=GOAL_COLOUR)
            continue
        axis.hlines(value, goal.year, last_year, color=GOAL_COLOUR, linestyle="--", linewidth=1, label=GOAL_LABEL)
        axis.annotate(reading, (last_year, value), xytext=(0, 3), textcoords="offset points", ha="right", va="bottom",
                      fontsize=6.5, color=GOAL_COLOUR)
        if goal.kind == "stable":
            axis.fill_between([goal.year, last_year], value - STABLE_TOLERANCE, value + STABLE_TOLERANCE,
                              color=GOAL_COLOUR, alpha=0.08, label=f"goal band (±{STABLE_TOLERANCE:g} pp, assumed)")
        elif goal.kind in ("at_least", "at_most"):
            axis.plot(goal.year, value, marker="v", color=GOAL_COLOUR, linestyle="none")


def plain_numbers(axis, label: str, which: str = "y", fontsize: float = 8) -> None:
    """Tick labels with no offset or power of ten (no "1e6" above the axis): an axis reaching a
    million shows millions (a billion, billions), its label saying so; any other shows its values
    with thousands separators. Call once the axis holds its data."""
    low, high = axis.get_ylim() if which == "y" else axis.get_xlim()
    size, name = next(((size, name) for size, name in LARGE_UNITS if max(abs(low), abs(high)) >= size), (1.0, ""))
    target = axis.yaxis if which == "y" else axis.xaxis
    target.set_major_formatter(FuncFormatter(lambda value, _: f"{value / size:,.6g}"))
    text = f"{label}, {name}" if name else label
    (axis.set_ylabel if which == "y" else axis.set_xlabel)(text, fontsize=fontsize)


def fan_chart(axis, panel: Panel, results: dict[str, xr.Dataset], levels: bool = True) -> None:
    """Median line and 50%/90% bands over runs, one colour per result. `levels` False: the results
    are differences from a reference (sim.results.differences), drawn about a zero line, without the
    documents' figures and goals, which are levels."""
    for colour, (label, dataset) in zip(COLOURS, results.items()):
        if panel.variable not in dataset:
            continue
        series = panel.series(dataset)
        years = dataset["year"].values
        if series.sizes["run"] > 1:  # in the legend once for all results (shared_legend)
            for low, high, alpha, band in BANDS:
                axis.fill_between(years, series.quantile(low, "run"), series.quantile(high, "run"), color=colour,
                                  alpha=alpha, linewidth=0, gid=f"{label}: {band} band over runs")
        axis.plot(years, series.median("run"), color=colour, linewidth=1.8, marker="o" if years.size == 1 else None,
                  label=f"{label}: median")
    units = panel.units(next(iter(d for d in results.values() if panel.variable in d)))
    if levels:
        draw_documents(axis, panel.measure, units)
        if panel.dim is None:
            draw_goals(axis, panel.variable)
    else:
        axis.axhline(0.0, color="black", linewidth=0.7)
        units = f"difference, {units}"
    axis.axvline(LAST_BACKCAST_YEAR + 0.5, color="grey", linewidth=0.6, linestyle=":", label="projections from here")
    style_axis(axis, panel.title, "year", units)
    plain_numbers(axis, units)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))


def style_axis(axis, title: str, xlabel: str, ylabel: str) -> None:
    axis.set_title(title, fontsize=9.5)
    axis.set_xlabel(xlabel, fontsize=8)
    axis.set_ylabel(ylabel, fontsize=8)
    axis.tick_params(labelsize=7.5)
    axis.grid(alpha=0.25)


def shared_legend(figure: Figure, axes, bands: bool = False) -> None:
    """One legend for the whole figure, below the panels, each entry once; with `bands`, the fan
    charts' bands over runs once for every result (in grey)."""
    entries = {}
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if bands:
        for _, _, alpha, band in BANDS:
            entries[f"{band} band over runs (any colour)"] = Patch(color="grey", alpha=alpha, linewidth=0)
    if entries:
        figure.legend(entries.values(), entries.keys(), loc="outside lower center", ncols=min(4, len(entries)), fontsize=7.5, frameon=False)


def figure_title(figure: Figure, text: str, fontsize: float = 12) -> None:
    """The figure's title, wrapped at spaces to the figure's width (a long one was cut at both ends)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure, font = TextToPath(), FontProperties(size=fontsize)
    room = 0.95 * figure.get_figwidth() * 72  # points

    def fits(line: str) -> bool:
        return measure.get_text_width_height_descent(line, font, ismath=False)[0] <= room

    lines = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            if current and not fits(f"{current} {word}"):
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        lines.append(current)
    figure.suptitle("\n".join(lines), fontsize=fontsize)


def scenario_phrase(results: dict[str, xr.Dataset]) -> str:
    described = [describe(label, d) for label, d in results.items()]
    return ("scenario " if len(described) == 1 else "scenarios ") + ", ".join(described)


def panel_grid(count: int, columns: int, width: float = 4.6, height: float = 3.2, margin: float = 1.3) -> tuple[Figure, list]:
    """A figure with `count` axes of `width` x `height` inches on a grid of `columns` columns (unused
    cells removed), `margin` inches left for the title and a shared legend."""
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(width * columns, height * rows + margin), layout="constrained")
    axes = list(figure.subplots(rows, columns, squeeze=False).flat)
    for axis in axes[count:]:
        figure.delaxes(axis)
    return figure, axes[:count]


def panel_figure(panels: list[Panel], results: dict[str, xr.Dataset], title: str, levels: bool = True) -> Figure:
    """Fan charts of `panels` on a grid of up to three columns, with a shared legend and `title`."""
    figure, axes = panel_grid(len(panels), 2 if len(panels) == 4 else min(3, len(panels)))
    for axis, panel in zip(axes, panels):
        fan_chart(axis, panel, results, levels)
    shared_legend(figure, axes, bands=any(d.sizes["run"] > 1 for d in results.values()))
    figure_title(figure, title)
    return figure


def group_figure(group: Group, results: dict[str, xr.Dataset], variables: tuple[str, ...] | None = None,
                 levels: bool = True) -> Figure:
    """The fan-chart figure of one group (or of `variables` of it); `levels` False for differences."""
    panels = [p for v in (variables or group.variables) for p in panels_for(v, results)]
    title = group.title if levels else f"{group.title}, difference from the reference on common random numbers"
    return panel_figure(panels, results, f"{title}: {scenario_phrase(results)}", levels)


def groups_of(variables: list[str] | None) -> list[tuple[Group, tuple[str, ...]]]:
    """(group, its variables to draw) for the requested variables (all contract variables when None)."""
    if variables is None:
        return [(g, g.variables) for g in GROUPS]
    chosen = []
    for group in (*GROUPS, DIAGNOSTICS):
        selected = tuple(v for v in group.variables if v in variables)
        if selected:
            chosen.append((group, selected))
    return chosen


def check_variables(names: list[str]) -> list[str]:
    """Names given to --vars, split at commas and checked against the result variables."""
    allowed = (*VARIABLES, *FIRM_GROUP.variables)
    chosen = [n for name in names for n in name.split(",") if n]
    for name in chosen:
        if name not in allowed:
            raise InputError(None, "--vars", f"unknown variable '{name}'{did_you_mean(name, allowed)}; allowed: {', '.join(allowed)}")
    return chosen


def figure_plan(results: dict[str, xr.Dataset], variables: list[str] | None = None,
                distributions_of: Callable = stored_distributions) -> list[tuple[Group, Callable[[], Figure]]]:
    """(group, builder) of every figure to draw, so that output paths can be checked before any work.
    distributions_of(dataset, label): a result's firm distributions (the commands pass
    sim.runner.distributions_of, which re-simulates those of older results; a view runs no model)."""
    plan: list[tuple[Group, Callable[[], Figure]]] = [(g, partial(group_figure, g, results, vs)) for g, vs in groups_of(variables)]
    if variables is None or any(v in FIRM_GROUP.variables for v in variables):
        plan.append((FIRM_GROUP, partial(firm_group_figure, results, distributions_of)))
    return plan


def difference_plan(differences: dict[str, xr.Dataset], variables: list[str] | None = None
                    ) -> list[tuple[Group, Callable[[], Figure]]]:
    """(group, builder) of the difference fan charts of a comparison (sim.results.differences): first
    the real output and productivity a lever moves (EFFECTS), then the groups of figure_plan without
    the firm distributions, which are snapshots, not paths."""
    groups = [(EFFECTS, EFFECTS.variables), *groups_of(variables)] if variables is None else groups_of(variables)
    return [(g, partial(group_figure, g, differences, vs, False)) for g, vs in groups]


def panel_for_measure(measure: str, dataset: xr.Dataset) -> Panel | None:
    """The panel showing a target's measure ('name' or 'name[category]'), or None if the result lacks it."""
    name, _, category = measure.partition("[")
    if name not in dataset:
        return None
    if not category:
        return Panel(name) if dataset[name].dims == ("run", "year") else None
    dims = [d for d in dataset[name].dims if d not in ("run", "year")]
    category = category.rstrip("]")
    if len(dims) != 1 or category not in [str(c) for c in dataset[dims[0]].values]:
        return None
    return Panel(name, dims[0], category)


def main_trajectories(dataset: xr.Dataset, path: Path, title: str) -> Figure:
    """A 3x3 panel of the main indicators (used by `sim run`); saved to `path` as PNG."""
    label = dataset.attrs.get("scenario", "result")
    figure = panel_figure([Panel(v) for v in MAIN_PANELS], {label: dataset}, title)
    figure.savefig(path, dpi=110, format="png")
    return figure


# ---------------------------------------------------------------- firm size and growth
SNAPSHOT_STYLES = ("dotted", "dashed", "solid")


def snapshot_styles(data: xr.Dataset) -> list[tuple[str, int]]:
    """(line style, year) of each snapshot of a result's firm distributions, the last one solid."""
    snapshots = [int(y) for y in data["snapshot"].values]
    return list(zip(SNAPSHOT_STYLES[-len(snapshots):], snapshots))


def snapshot_legend(axis, distributions: dict[str, xr.Dataset], references: list[str], **where) -> None:
    """A legend of one entry per result (its colour), one per snapshot year (its line style) and the
    reference lines named in `references`: not one per line drawn."""
    handles = [Line2D([], [], color=colour, label=label) for colour, label in zip(COLOURS, distributions)]
    styles = dict(sorted({year: style for data in distributions.values() for style, year in snapshot_styles(data)}.items()))
    handles += [Line2D([], [], color="grey", linestyle=style, label=str(year)) for year, style in styles.items()]
    handles += [line for line in axis.get_lines() if line.get_label() in references]
    axis.legend(handles=handles, fontsize=7, **where)


def draw_size_ccdf(axis, distributions: dict[str, xr.Dataset]) -> None:
    """Firm-size CCDFs (log-log), one colour per result, one line style per snapshot year, the tail
    exponents in a box; medians over runs; a Zipf reference line."""
    exponents = []
    for colour, (label, data) in zip(COLOURS, distributions.items()):
        sizes = data["firm_size"].values
        by_year = []
        for style, year in snapshot_styles(data):
            at = data.sel(snapshot=year)
            ccdf = at["firm_size_ccdf"].median("run").values
            exponent = float(at["firm_size_tail_exponent"].median("run"))
            axis.plot(sizes[ccdf > 0], ccdf[ccdf > 0], color=colour, linestyle=style, label=f"{label} {year} (tail exponent {exponent:.2f})")
            by_year.append(f"{year} {exponent:.2f}")
        exponents.append(f"{label}: {', '.join(by_year)}")
    axis.text(0.02, 0.02, "tail exponent (top 5% of above-scale firms)\n" + "\n".join(exponents), transform=axis.transAxes,
              fontsize=6.5, va="bottom", bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    first = next(iter(distributions.values()))
    anchor, sizes = 100.0, first["firm_size"].values
    at_anchor = float(first["firm_size_ccdf"].isel(snapshot=-1).median("run").interp(firm_size=anchor))
    tail = sizes[sizes >= anchor]
    if at_anchor > 0:  # not when the result holds no value (NaN): a log axis needs one
        axis.plot(tail, at_anchor * anchor / tail, color="grey", linewidth=1, linestyle=(0, (1, 3)), label="Zipf reference (exponent 1)")
        axis.set_xscale("log")
        axis.set_yscale("log")
    style_axis(axis, "Firm-size CCDF", "firm revenue (M RMB, current prices)", "share of firms with revenue at least x")
    snapshot_legend(axis, distributions, ["Zipf reference (exponent 1)"], loc="upper right")


def firm_figure(distributions: dict[str, xr.Dataset], title: str) -> Figure:
    """Firm-size CCDF (log-log, Zipf reference) and growth-rate density (log y, normal and Laplace
    references with the same mean and standard deviation), one colour per result, one line style
    per snapshot year; medians over the runs each result holds."""
    figure = Figure(figsize=(12, 5.2), layout="constrained")
    size_axis, growth_axis = figure.subplots(1, 2)
    draw_size_ccdf(size_axis, distributions)
    reference = None
    for colour, (label, data) in zip(COLOURS, distributions.items()):
        for style, year in snapshot_styles(data):
            at = data.sel(snapshot=year)
            density = at["firm_growth_density"].median("run").values
            if np.all(np.isnan(density)):
                continue
            growth_axis.plot(data["growth_rate"].values, np.where(density > 0, density, np.nan), color=colour,
                             linestyle=style, drawstyle="steps-mid", label=f"{label} {year}")
            reference = (float(at["firm_growth_mean"].median("run")), float(at["firm_growth_sd"].median("run")), data)
    if reference is not None:
        mean, sd, data = reference
        x = data["growth_rate"].values
        growth_axis.plot(x, np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi)), color="grey",
                         linestyle="--", linewidth=1, label="normal, same mean and sd")
        b = sd / math.sqrt(2)
        growth_axis.plot(x, np.exp(-np.abs(x - mean) / b) / (2 * b), color="black", linestyle=":", linewidth=1,
                         label="Laplace, same mean and sd")
    growth_axis.set_yscale("log")
    highest = max((np.nanmax(line.get_ydata()) for line in growth_axis.lines), default=1.0)
    growth_axis.set_ylim(1e-4, 3 * highest)
    style_axis(growth_axis, "Growth rates of continuing above-scale firms", "yearly log growth of value added (log points)", "density (per log point)")
    snapshot_legend(growth_axis, {label: data.sel(snapshot=data["snapshot"].values[1:]) for label, data in distributions.items()},
                    ["normal, same mean and sd", "Laplace, same mean and sd"], loc="upper right")
    sources = "; ".join(f"{label}: {d.attrs.get('source', '')}" for label, d in distributions.items())
    figure_title(figure, f"{title}\n{sources}" if sources else title, fontsize=11)
    return figure


def firm_group_figure(results: dict[str, xr.Dataset], distributions_of: Callable = stored_distributions) -> Figure:
    """The firm-size and growth figure of each result's firm distributions (see figure_plan)."""
    distributions = {label: distributions_of(d, label) for label, d in results.items()}
    return firm_figure(distributions, f"{FIRM_GROUP.title}: {scenario_phrase(results)}")


# ---------------------------------------------------------------- saving
def save_png(figure: Figure, path: Path, dpi: int = 110) -> None:
    """Write a figure as PNG atomically (temporary name, then rename)."""
    with atomic_target(Path(path)) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")


def png_bytes(figure: Figure, dpi: int = 90) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=dpi, format="png")
    return buffer.getvalue()
