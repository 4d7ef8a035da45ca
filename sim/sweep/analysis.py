"""Analysis of a sweep's Dataset with SALib: one table per method, per output, and over time.

Every output of interest reduces each sample to one number Y (its statistic, averaged over the
sample's runs); the analysis sees SALib's contract only: problem (names, bounds), X (the stored
design) and Y.

- morris: mu, mu* (with its bootstrap confidence half-width) and sigma (SALib.analyze.morris);
- sobol: S1 and ST with confidence half-widths, S2 when asked (SALib.analyze.sobol);
- oat: each input alone from its lowest to its highest level, the rest at base: the swing;
- grid: main effects: the mean of Y at each level of an input, and their range (swing);
- lhs: the ensemble's quantiles, and Spearman rank correlations of Y with each input.
Indices over time repeat the analysis of each output's variable in every year with spread.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

MAIN_METRIC = {"morris": "mu_star", "sobol": "ST", "oat": "swing", "grid": "swing", "lhs": "abs_spearman"}
OVER_TIME_RESAMPLES = 100


def output_values(spec, dataset, output) -> np.ndarray:
    """Y per sample: the output's statistic over its years, averaged over the sample's runs."""
    from sim.sweep.experiment import per_run

    return np.asarray(per_run(dataset, output).mean("run", skipna=False).values, dtype=np.float64)  # a failed run: NaN


def _morris(spec, X, Y, resamples=None):
    """SALib's Morris analysis; where samples failed, the same estimators over every step of a
    trajectory whose two ends both ran (see morris_partial)."""
    options = spec.options
    resamples = resamples or options["resamples"]
    if not np.all(np.isfinite(Y)):
        return morris_partial(spec.names, X, Y, options["levels"], resamples, options["conf_level"], spec.sampler_seed)
    from SALib.analyze import morris

    result = morris.analyze(
        spec.problem(), X, Y,
        num_resamples=resamples,
        conf_level=options["conf_level"],
        num_levels=options["levels"],
        seed=spec.sampler_seed,
    )
    return pd.DataFrame({
        "input": spec.names,
        "mu": np.asarray(result["mu"], dtype=float),
        "mu_star": np.asarray(result["mu_star"], dtype=float),
        "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
        "sigma": np.asarray(result["sigma"], dtype=float),
        "effects": len(Y) // (len(spec.names) + 1),
    })


def morris_partial(names, X, Y, levels, resamples, conf_level, seed) -> pd.DataFrame:
    """Morris mu, mu*, sigma and mu*'s bootstrap confidence half-width from the elementary effects
    whose two points both ran (Y finite). A failed point costs the (at most two) steps touching it,
    not its whole trajectory. On complete data this is SALib.analyze.morris up to rounding (same
    effects, same order, same bootstrap draws); tests/test_sweep.py checks it."""
    from scipy.stats import norm

    d = len(names)
    delta = levels / (2.0 * (levels - 1))  # SALib's step in the unit cube
    Xt, Yt = X.reshape(-1, d + 1, d), Y.reshape(-1, d + 1)
    effects = [[] for _ in range(d)]
    for inputs, outputs in zip(Xt, Yt):
        for k in range(d):
            step = inputs[k + 1] - inputs[k]
            j = int(np.argmax(np.abs(step)))
            if np.isfinite(outputs[k]) and np.isfinite(outputs[k + 1]):
                effects[j].append((outputs[k + 1] - outputs[k]) / delta * np.sign(step[j]))
    rng = np.random.default_rng(seed)
    z = norm.ppf(0.5 + conf_level / 2)
    rows = []
    for name, ee in zip(names, effects):
        ee = np.array(ee, dtype=np.float64)
        row = {"input": name, "mu": np.nan, "mu_star": np.nan, "mu_star_conf": np.nan, "sigma": np.nan, "effects": len(ee)}
        if len(ee):
            resampled = np.abs(ee[rng.integers(len(ee), size=(resamples, len(ee)))]).mean(axis=1)
            row.update(mu=np.average(ee), mu_star=np.average(np.abs(ee)))
            if len(ee) > 1:
                row.update(sigma=np.std(ee, ddof=1), mu_star_conf=z * resampled.std(ddof=1))
        rows.append(row)
    return pd.DataFrame(rows)


def _sobol(spec, X, Y, resamples=None):
    from SALib.analyze import sobol

    options = spec.options
    result = sobol.analyze(
        spec.problem(), Y,
        calc_second_order=options["second_order"],
        num_resamples=resamples or options["resamples"],
        conf_level=options["conf_level"],
        seed=spec.sampler_seed,
    )
    table = pd.DataFrame({
        "input": spec.names,
        "S1": np.asarray(result["S1"], dtype=float),
        "S1_conf": np.asarray(result["S1_conf"], dtype=float),
        "ST": np.asarray(result["ST"], dtype=float),
        "ST_conf": np.asarray(result["ST_conf"], dtype=float),
    })
    pairs = None
    if options["second_order"]:
        rows = []
        for a in range(len(spec.names)):
            for b in range(a + 1, len(spec.names)):
                rows.append({"input_a": spec.names[a], "input_b": spec.names[b], "S2": float(result["S2"][a, b]), "S2_conf": float(result["S2_conf"][a, b])})
        pairs = pd.DataFrame(rows)
    return table, pairs


def _oat(spec, X, Y):
    base = X[0]
    rows = []
    for column, name in enumerate(spec.names):
        others = np.delete(np.arange(X.shape[1]), column)
        alone = np.all(X[:, others] == base[others], axis=1) & np.isfinite(Y)
        levels, outputs = X[alone, column], Y[alone]
        if len(levels) == 0:
            rows.append({"input": name, "input_base": base[column], "output_base": Y[0], "swing": np.nan, "max_deviation": np.nan})
            continue
        low, high = int(np.argmin(levels)), int(np.argmax(levels))
        rows.append({
            "input": name,
            "input_low": levels[low],
            "input_base": base[column],
            "input_high": levels[high],
            "output_low": outputs[low],
            "output_base": Y[0],
            "output_high": outputs[high],
            "swing": abs(outputs[high] - outputs[low]),
            "max_deviation": float(np.max(np.abs(outputs - Y[0]))) if np.isfinite(Y[0]) else np.nan,
        })
    return pd.DataFrame(rows)


def _grid(spec, X, Y):
    rows = []
    for column, name in enumerate(spec.names):
        levels = np.unique(X[:, column])
        means = np.array([Y[X[:, column] == level].mean() for level in levels])
        rows.append({
            "input": name,
            "input_low": levels[0],
            "input_high": levels[-1],
            "output_low": means[0],
            "output_high": means[-1],
            "effect_min": means.min(),
            "effect_max": means.max(),
            "swing": means.max() - means.min(),
        })
    return pd.DataFrame(rows)


def _lhs(spec, X, Y):
    from scipy.stats import spearmanr

    rows = []
    for column, name in enumerate(spec.names):
        if np.ptp(Y) == 0 or np.ptp(X[:, column]) == 0:
            rho, p_value = np.nan, np.nan
        else:
            rho, p_value = spearmanr(X[:, column], Y)
        rows.append({"input": name, "spearman": float(rho), "abs_spearman": abs(float(rho)), "p_value": float(p_value)})
    return pd.DataFrame(rows)


def usable(spec, Y: np.ndarray) -> np.ndarray:
    """Rows to analyse: all, less failed samples (Y not finite), with their whole block for Sobol,
    whose estimators need it complete (Morris and OAT skip failed points themselves)."""
    finite = np.isfinite(Y)
    d = len(spec.inputs)
    if spec.method in ("oat", "morris"):  # these skip failed points themselves (steps, levels)
        return np.ones_like(finite)
    if spec.method == "sobol":
        group = 2 * d + 2 if spec.options["second_order"] else d + 2
    else:
        return finite
    return np.repeat(finite.reshape(-1, group).all(axis=1), group)


def _one(spec, X, Y, resamples=None):
    """(table per input, extra table or None) for one Y; failed samples left out."""
    keep = usable(spec, Y)
    X, Y = X[keep], Y[keep]
    table, extra = _analyse_rows(spec, X, Y, resamples)
    table["samples_used"] = int(np.isfinite(Y).sum())
    return table, extra


def _analyse_rows(spec, X, Y, resamples):
    if len(Y) < 2:  # nothing left to analyse: every index missing
        columns = {key for key, _ in COLUMNS[spec.method]} | {MAIN_METRIC[spec.method]}
        return pd.DataFrame({"input": spec.names, **{key: np.nan for key in sorted(columns)}}), None
    if spec.method == "morris":
        return _morris(spec, X, Y, resamples), None
    if spec.method == "sobol":
        return _sobol(spec, X, Y, resamples)
    if spec.method == "oat":
        return _oat(spec, X, Y), None
    if spec.method == "grid":
        return _grid(spec, X, Y), None
    summary = pd.DataFrame([{
        "mean": Y.mean(), "sd": Y.std(ddof=1), "p05": np.quantile(Y, 0.05), "p50": np.quantile(Y, 0.5), "p95": np.quantile(Y, 0.95),
    }])
    return _lhs(spec, X, Y), summary


def analyse(spec, dataset, over_time: bool = True) -> dict[str, pd.DataFrame]:
    """Tables: "indices" (output x input), maybe "pairs"/"summary", and "over_time" (variable x year x input);
    for an experiment those of sim.sweep.experiment ("indices": output x policy, "goals", "prim")."""
    if spec.method == "experiment":
        from sim.sweep.experiment import analyse_experiment

        return analyse_experiment(spec, dataset)[0]
    X = np.asarray(dataset["design"].values, dtype=np.float64)
    metric = MAIN_METRIC[spec.method]
    indices, extras = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for output in spec.outputs:
            Y = output_values(spec, dataset, output)
            table, extra = _one(spec, X, Y)
            table.insert(0, "output", output.name)
            indices.append(table.sort_values(metric, ascending=False, kind="stable"))
            if extra is not None:
                extra.insert(0, "output", output.name)
                extras.append(extra)
        tables = {"indices": pd.concat(indices, ignore_index=True)}
        if extras:
            tables["pairs" if spec.method == "sobol" else "summary"] = pd.concat(extras, ignore_index=True)
        if over_time and len(dataset["year"]) > 1:
            rows = []
            for variable in dict.fromkeys(o.variable for o in spec.outputs):
                series = dataset[variable].mean("run", skipna=False)
                for year in dataset["year"].values:
                    Y = np.asarray(series.sel(year=year).values, dtype=np.float64)
                    finite = Y[np.isfinite(Y)]
                    if finite.size == 0 or np.ptp(finite) == 0:
                        continue  # e.g. the initial year: no spread to attribute
                    table, _ = _one(spec, X, Y, resamples=OVER_TIME_RESAMPLES)
                    table.insert(0, "year", int(year))
                    table.insert(0, "variable", variable)
                    rows.append(table)
            if rows:
                tables["over_time"] = pd.concat(rows, ignore_index=True)
    return tables


def write_analysis(spec, dataset, directory) -> tuple[dict[str, pd.DataFrame], list]:
    """The analysis a sweep writes into its folder (`sim sweep`, `sim.sweep`): its tables as CSV and
    its figures; an experiment's own tables, figures and report (sim.sweep.experiment). Returns the
    tables and the paths written."""
    if spec.method == "experiment":
        from sim.sweep.experiment import write_experiment

        return write_experiment(spec, dataset, directory)
    from sim.sweep.figures import write_figures

    tables = analyse(spec, dataset)
    return tables, write_tables(spec, tables, directory) + write_figures(spec, tables, directory)


def write_tables(spec, tables: dict[str, pd.DataFrame], directory) -> list:
    """CSV files <method>.csv, <method>_<table>.csv; returns the paths written."""
    from sim.output import atomic_target

    written = []
    for key, table in tables.items():
        path = directory / (f"{spec.method}.csv" if key == "indices" else f"{spec.method}_{key}.csv")
        with atomic_target(path) as temporary:
            table.to_csv(temporary, index=False, float_format="%.6g")
        written.append(path)
    return written


COLUMNS = {
    "morris": (("mu_star", "mu*"), ("mu_star_conf", "+/-"), ("sigma", "sigma"), ("mu", "mu")),
    "sobol": (("S1", "S1"), ("S1_conf", "+/-"), ("ST", "ST"), ("ST_conf", "+/-")),
    "oat": (("output_low", "at low"), ("output_base", "at base"), ("output_high", "at high"), ("swing", "swing")),
    "grid": (("effect_min", "min mean"), ("effect_max", "max mean"), ("swing", "swing")),
    "lhs": (("spearman", "spearman"), ("p_value", "p")),
}


def _cell(value: float) -> str:
    if not np.isfinite(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:,.2f}"


def format_table(spec, tables: dict[str, pd.DataFrame], top: int | None = None) -> str:
    """The indices per output as text, most influential input first (an experiment: its own tables)."""
    if spec.method == "experiment":
        from sim.sweep.experiment import format_experiment

        return format_experiment(spec, tables)
    columns = COLUMNS[spec.method]
    lines = []
    indices = tables["indices"]
    width = max(12, *(len(n) for n in spec.names)) + 2
    for output in spec.outputs:
        table = indices[indices["output"] == output.name]
        if top:
            table = table.head(top)
        lines.append(f"{output.name}: {output.label}")
        lines.append("  " + "input".ljust(width) + "".join(label.rjust(12) for _, label in columns))
        for _, row in table.iterrows():
            lines.append("  " + str(row["input"]).ljust(width) + "".join(_cell(float(row[key])).rjust(12) for key, _ in columns))
        if "summary" in tables:
            summary = tables["summary"]
            row = summary[summary["output"] == output.name].iloc[0]
            lines.append("  ensemble: " + ", ".join(f"{k} {_cell(float(row[k]))}" for k in ("mean", "sd", "p05", "p50", "p95")))
        lines.append("")
    return "\n".join(lines).rstrip()
