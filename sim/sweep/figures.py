"""Figures of a sweep: tornado chart, Sobol bars, indices over time (PNG, written atomically)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.output import atomic_target  # noqa: E402
from sim.plotting import figure_title, plain_numbers  # noqa: E402
from sim.sweep.analysis import MAIN_METRIC  # noqa: E402

TOP_INPUTS = 15  # bars per panel
TOP_LINES = 6  # lines per panel over time
METRIC_LABEL = {  # {units}: the output's
    "mu_star": "Morris mu*: mean |elementary effect| ({units} over an input's range)",
    "ST": "Sobol total-order index ST (share of the output's variance)",
    "swing": "output at the input's lowest and highest levels ({units})",
    "abs_spearman": "|Spearman rank correlation| with the output (no unit)",
}

METRIC_SHORT = {"mu_star": "Morris mu* ({units})", "ST": "Sobol ST (share of variance)", "swing": "swing ({units})",
                "abs_spearman": "|Spearman| (no unit)"}  # beside a short axis


def output_units(spec, variable: str, statistic: str = "value", first: int = 0, last: int = 0) -> str:
    """The unit of an output (a variable's, summed over years for a cumulative statistic)."""
    units = spec.model.available_variables()[variable][0]
    return f"{units}, summed over {first}-{last}" if statistic == "cumulative" else units


def _save(figure, path: Path) -> Path:
    with atomic_target(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110)
    plt.close(figure)
    return path


def _panels(count: int, height: float):
    figure, axes = plt.subplots(count, 1, figsize=(9, max(2.5, height) * count), constrained_layout=True, squeeze=False)
    return figure, axes[:, 0]


def tornado(spec, tables, path: Path) -> Path:
    """Inputs ranked by influence on each output: Morris mu* with sigma, OAT/grid swings, LHS rank correlations."""
    indices = tables["indices"]
    metric = MAIN_METRIC[spec.method]
    n = min(TOP_INPUTS, len(spec.inputs))
    figure, axes = _panels(len(spec.outputs), 0.35 * n + 1.2)
    for axis, output in zip(axes, spec.outputs):
        table = indices[indices["output"] == output.name].head(n).iloc[::-1]
        positions = np.arange(len(table))
        if spec.method == "morris":
            axis.barh(positions, table["mu_star"], xerr=table["mu_star_conf"], color="tab:blue", alpha=0.8, label="mu*  (bar: 95% CI)")
            axis.plot(table["sigma"], positions, "o", color="tab:red", label="sigma")
            axis.legend(loc="lower right", fontsize=8)
        elif spec.method in ("oat", "grid"):
            if spec.method == "oat":
                low, high, centre = table["output_low"], table["output_high"], table["output_base"].iloc[0]
            else:
                low, high = table["effect_min"], table["effect_max"]
                centre = float(np.mean([low.mean(), high.mean()]))
            axis.barh(positions, low - centre, left=centre, color="tab:blue", alpha=0.8, label="input at its lowest level")
            axis.barh(positions, high - centre, left=centre, color="tab:orange", alpha=0.8, label="input at its highest level")
            axis.axvline(centre, color="black", linewidth=0.8)
            axis.legend(loc="lower right", fontsize=8)
        elif spec.method == "sobol":
            axis.barh(positions, table["ST"], xerr=table["ST_conf"], color="tab:orange", alpha=0.8, label="ST (bar: 95% CI)")
            axis.plot(table["S1"], positions, "o", color="tab:blue", label="S1")
            axis.legend(loc="lower right", fontsize=8)
        else:
            axis.barh(positions, table["spearman"], color=np.where(table["spearman"] >= 0, "tab:orange", "tab:blue"))
            axis.axvline(0, color="black", linewidth=0.8)
        axis.set_yticks(positions, table["input"], fontsize=8)
        axis.set_title(output.label, fontsize=10)
        units = output_units(spec, output.variable, output.statistic, output.first, output.last)
        label = METRIC_LABEL[metric] if spec.method != "lhs" else "Spearman rank correlation with the output (no unit)"
        plain_numbers(axis, label.format(units=units), which="x", fontsize=9)
        axis.grid(axis="x", alpha=0.3)
    figure_title(figure, f"sweep {spec.name}: {spec.method}, {len(spec.inputs)} inputs", fontsize=11)
    return _save(figure, path)


def sobol_bars(spec, tables, path: Path) -> Path:
    """S1 and ST with their confidence intervals, per input, one panel per output."""
    indices = tables["indices"]
    n = min(TOP_INPUTS, len(spec.inputs))
    figure, axes = _panels(len(spec.outputs), 0.35 * n + 1.2)
    for axis, output in zip(axes, spec.outputs):
        table = indices[indices["output"] == output.name].head(n).iloc[::-1]
        positions = np.arange(len(table))
        axis.barh(positions + 0.2, table["ST"], height=0.4, xerr=table["ST_conf"], color="tab:orange", label="ST (total)")
        axis.barh(positions - 0.2, table["S1"], height=0.4, xerr=table["S1_conf"], color="tab:blue", label="S1 (first order)")
        axis.set_yticks(positions, table["input"], fontsize=8)
        axis.set_xlim(left=min(0.0, float(np.nanmin(table["S1"] - table["S1_conf"]))))
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_title(output.label, fontsize=10)
        axis.set_xlabel("Sobol index (bars: 95% confidence interval)", fontsize=9)
        axis.legend(loc="lower right", fontsize=8)
        axis.grid(axis="x", alpha=0.3)
    figure_title(figure, f"sweep {spec.name}: Sobol indices, N = {spec.options['samples']}", fontsize=11)
    return _save(figure, path)


def over_time(spec, tables, path: Path) -> Path | None:
    """The main index of the most influential inputs in every year, one panel per output variable."""
    table = tables.get("over_time")
    if table is None or table.empty:
        return None
    metric = MAIN_METRIC[spec.method]
    variables = list(dict.fromkeys(table["variable"]))
    figure, axes = _panels(len(variables), 3.2)
    for axis, variable in zip(axes, variables):
        rows = table[table["variable"] == variable]
        last = rows[rows["year"] == rows["year"].max()].sort_values(metric, ascending=False)
        for name in last["input"].head(TOP_LINES):
            line = rows[rows["input"] == name].sort_values("year")
            axis.plot(line["year"], line[metric], marker=".", label=name)
        axis.set_title(variable, fontsize=10)
        plain_numbers(axis, METRIC_SHORT[metric].format(units=output_units(spec, variable)))
        axis.legend(fontsize=7, ncol=2)
        axis.grid(alpha=0.3)
    figure_title(figure, f"sweep {spec.name}: indices over time", fontsize=11)
    return _save(figure, path)


def write_figures(spec, tables, directory: Path) -> list[Path]:
    written = [tornado(spec, tables, directory / "tornado.png")]
    if spec.method == "sobol":
        written.append(sobol_bars(spec, tables, directory / "sobol_bars.png"))
    timeline = over_time(spec, tables, directory / "indices_over_time.png")
    if timeline is not None:
        written.append(timeline)
    return written


# ---------------------------------------------------------------- experiments
def policy_outcomes(spec, dataset, path: Path) -> Path:
    """Each output under each policy: the spread over uncertainty samples and runs (box: 25%-75%,
    whiskers: 5%-95%), and beside it the difference from the first policy, run by run."""
    from sim.sweep.experiment import per_run

    figure, axes = plt.subplots(len(spec.outputs), 2, figsize=(11, 0.5 * len(spec.policies) + 2.2 * len(spec.outputs)),
                                constrained_layout=True, squeeze=False)
    for (level_axis, gap_axis), output in zip(axes, spec.outputs):
        values = per_run(dataset, output)
        reference = values.isel(policy=0)
        units = output_units(spec, output.variable, output.statistic, output.first, output.last)
        for axis, data, title in ((level_axis, values, output.label), (gap_axis, values - reference, f"difference from {spec.policies[0]}")):
            rows = [np.asarray(data.sel(policy=p).values, dtype=np.float64).ravel() for p in spec.policies]
            axis.boxplot([r[np.isfinite(r)] for r in rows], orientation="horizontal", whis=(5, 95), showfliers=False, tick_labels=list(spec.policies))
            axis.invert_yaxis()
            axis.set_title(title, fontsize=9)
            axis.grid(alpha=0.3, axis="x")
            plain_numbers(axis, units, which="x")
        gap_axis.axvline(0.0, color="grey", lw=0.8)
    figure_title(figure, f"experiment {spec.name}: outcomes by policy over {dataset.sizes['sample']} uncertainty samples "
                         f"x {dataset.sizes['run']} runs (box 25%-75%, whiskers 5%-95%)", fontsize=10)
    return _save(figure, path)


def prim_figure(goal, box, inputs, fails: np.ndarray, path: Path) -> Path:
    """Left: PRIM's peeling trajectory, density against coverage (colour: inputs restricted), the
    chosen box circled. Right: the runs on the box's two most restricted inputs (or one input by
    policy), failing runs red, the box drawn."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    trajectory = box.trajectory
    points = left.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=14)
    figure.colorbar(points, ax=left, label="inputs restricted")
    left.scatter([box.coverage], [box.density], s=120, facecolors="none", edgecolors="red", label="chosen box")
    left.set_xlabel("coverage (share of failing runs in the box)")
    left.set_ylabel("density (share of the box's runs that fail)")
    left.legend(fontsize=8, loc="lower left")
    left.grid(alpha=0.3)
    numeric = [limit for limit in box.limits if limit.categories is None]
    axes_of = [limit.name for limit in numeric[:2]]
    if len(axes_of) < 2:  # fill with the policy, then any other input
        for name in ["policy", *inputs.columns]:
            if name not in axes_of and len(axes_of) < 2:
                axes_of.append(name)

    def coordinate(name):
        column = inputs[name]
        return column.cat.codes.to_numpy() + np.random.default_rng(0).uniform(-0.3, 0.3, len(column)) if hasattr(column, "cat") else column.to_numpy()

    x, y = coordinate(axes_of[0]), coordinate(axes_of[1])  # jitter of categories: fixed seed, drawing only
    right.scatter(x[~fails], y[~fails], s=6, color="tab:blue", alpha=0.4, label="goal met")
    right.scatter(x[fails], y[fails], s=6, color="tab:red", alpha=0.6, label="goal missed")
    for name, setter, axis_range in ((axes_of[0], right.set_xlabel, right.axvspan), (axes_of[1], right.set_ylabel, right.axhspan)):
        setter(name)
        limit = next((limit for limit in box.limits if limit.name == name), None)
        if limit is not None and limit.categories is None:  # an open side reaches the data's edge
            values = inputs[name].to_numpy()
            axis_range(values.min() if limit.low is None else limit.low, values.max() if limit.high is None else limit.high,
                       color="red", alpha=0.08)
    for name, ticks in ((axes_of[0], right.set_xticks), (axes_of[1], right.set_yticks)):
        if hasattr(inputs[name], "cat"):
            ticks(range(len(inputs[name].cat.categories)), list(inputs[name].cat.categories))
    right.legend(fontsize=8, loc="best")
    right.grid(alpha=0.3)
    figure_title(figure, f"where {goal.key} fails: {box.text()}", fontsize=9)
    return _save(figure, path)
