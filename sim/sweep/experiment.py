"""Experiments: policies crossed with uncertainties (EMA Workbench's shape), and what they show.

An experiment's results are one Dataset with dims (policy, sample, run, year): `policy` names the
policies of the file (lever settings over the base scenario's), `sample` the uncertainty samples
(their values are coordinates along it), `run` the seeds, the same for every policy (common random
numbers). Its analysis, as tables:
  - "policies": each output under each policy over all samples and runs (mean, 5%, 50%, 95%), and
    its difference from the first policy's, run by run (same sample, same seed): mean, 5%, 95%;
  - "goals": the share of runs meeting each goal under each policy (a goal already met in the
    back-cast years is reported as such: sim.goals.met_before_projection);
  - "prim": for each goal that some runs miss and some meet, the box PRIM finds where it fails
    (sim.sweep.discovery), over the uncertainties and the policy.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from sim.compare import BAND
from sim.levers import describe_levers
from sim.sweep.discovery import MAX_QUASI_P, MIN_COVERAGE, find_failure_box
from sim.sweep.models import POLICY_INPUT

def experiment_dataset(spec, flat: xr.Dataset) -> xr.Dataset:
    """The sweep's Dataset by design row (sample = p x samples + s) as dims (policy, sample, ...)."""
    policies, samples = len(spec.policies), spec.options["samples"]
    data = {}
    for name, variable in flat.data_vars.items():
        if name == "design":
            data[name] = (("sample", "input"), variable.values[:samples, 1:], variable.attrs)
        elif variable.dims[0] == "sample":
            data[name] = (("policy", *variable.dims), variable.values.reshape(policies, samples, *variable.shape[1:]), variable.attrs)
    coords = {
        "policy": ("policy", list(spec.policies), {"long_name": "policy: lever settings over the base scenario's"}),
        "sample": ("sample", np.arange(samples), {"long_name": "uncertainty sample (Latin hypercube)", "units": "1"}),
        "run": flat["run"],
        "year": flat["year"],
        "input": ("input", spec.names[1:]),
    }
    for item in spec.inputs[1:]:
        coords[item.name] = ("sample", flat[item.name].values[:samples], flat[item.name].attrs)
    dataset = xr.Dataset(data, coords=coords, attrs=dict(flat.attrs))
    levers = {name: describe_levers(settings) for name, settings in spec.model.policies}
    dataset.attrs["policies"] = json.dumps({name: {"levers": levers[name], "description": description}
                                            for name, description in zip(spec.policies, spec.policy_descriptions)})
    dataset.attrs["goals"] = ",".join(goal.key for goal in spec.goals)
    return dataset


def per_run(dataset: xr.Dataset, output) -> xr.DataArray:
    """An output's statistic over its years, run by run."""
    series = dataset[output.variable].sel(year=slice(output.first, output.last))
    if output.statistic == "value":
        return series.sel(year=output.first)
    if output.statistic == "cumulative":
        return series.sum("year", skipna=False)
    return series.mean("year", skipna=False)


def _summary(values: np.ndarray) -> dict[str, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"mean": np.nan, "p05": np.nan, "p50": np.nan, "p95": np.nan}
    low, mid, high = np.quantile(finite, [BAND[0], 0.5, BAND[1]])
    return {"mean": float(finite.mean()), "p05": float(low), "p50": float(mid), "p95": float(high)}


def policy_table(spec, dataset: xr.Dataset) -> pd.DataFrame:
    rows = []
    for output in spec.outputs:
        values = per_run(dataset, output)
        reference = values.isel(policy=0)
        for policy in spec.policies:
            own = values.sel(policy=policy)
            gap = _summary(np.asarray((own - reference).values, dtype=np.float64).ravel())
            rows.append({"output": output.name, "policy": policy,
                         **_summary(np.asarray(own.values, dtype=np.float64).ravel()),
                         **{f"difference_{key}": value for key, value in gap.items() if key != "p50"}})
    return pd.DataFrame(rows)


def _usable(dataset: xr.Dataset) -> xr.DataArray:
    """Runs that ran (on_error = skip keeps failed runs as missing, with their error)."""
    return dataset["error"] == ""


def goal_table(spec, dataset: xr.Dataset) -> pd.DataFrame:
    from sim.goals import met_before_projection

    rows, usable = [], _usable(dataset)
    for goal in spec.goals:
        met, early = goal.met(dataset), met_before_projection(goal, dataset)
        for policy in spec.policies:
            keep = usable.sel(policy=policy)
            runs = int(keep.sum())
            rows.append({"goal": goal.key, "policy": policy, "reading": goal.reading(), "runs": runs,
                         "share_met": float(met.sel(policy=policy).where(keep).sum() / runs) if runs else np.nan,
                         "share_met_before_projection": float(early.sel(policy=policy).where(keep).sum() / runs) if runs else np.nan})
    return pd.DataFrame(rows)


def discovery_inputs(spec, dataset: xr.Dataset) -> pd.DataFrame:
    """One row per run that ran, in (policy, sample, run) order: the uncertainties' values and the policy."""
    usable = np.asarray(_usable(dataset).values).ravel()
    shape = (len(spec.policies), dataset.sizes["sample"], dataset.sizes["run"])
    columns = {item.name: np.broadcast_to(dataset[item.name].values[None, :, None], shape).ravel()[usable]
               for item in spec.inputs[1:]}
    policy = np.broadcast_to(np.arange(shape[0])[:, None, None], shape).ravel()[usable]
    columns[POLICY_INPUT] = pd.Categorical.from_codes(policy, categories=list(spec.policies))
    return pd.DataFrame(columns)


def discover(spec, dataset: xr.Dataset) -> dict[str, object]:
    """goal key -> the PRIM box where it fails (sim.sweep.discovery.Box), or a sentence saying why
    there is none (it never fails, or always does)."""
    from sim.goals import met_before_projection

    inputs = discovery_inputs(spec, dataset)
    usable = np.asarray(_usable(dataset).values).ravel()
    found = {}
    for goal in spec.goals:
        fails = ~np.asarray(goal.met(dataset).transpose("policy", "sample", "run").values).ravel()[usable]
        early = np.asarray(met_before_projection(goal, dataset).transpose("policy", "sample", "run").values).ravel()[usable]
        if not fails.any():
            when = " (before the projection starts)" if early.all() else ""
            found[goal.key] = f"met in all {fails.size} runs{when}: no region where it fails"
        elif fails.all():
            found[goal.key] = f"missed in all {fails.size} runs, under every policy and uncertainty"
        else:
            found[goal.key] = find_failure_box(inputs, fails)
    return found


def prim_table(found: dict[str, object]) -> pd.DataFrame:
    rows = []
    for key, box in found.items():
        if isinstance(box, str):
            rows.append({"goal": key, "input": "", "low": np.nan, "high": np.nan, "categories": "", "quasi_p": np.nan,
                         "coverage": np.nan, "density": np.nan, "mass": np.nan, "note": box})
            continue
        note = (f"box {box.index} of the peeling trajectory: the best balance of coverage and density with coverage >= {MIN_COVERAGE:g}" if box.limits else
                f"no region: missed in {box.density:.0%} of all runs, and no restriction of the inputs tells where "
                f"(none significant at quasi-p {MAX_QUASI_P:g})")
        for limit in box.limits or [None]:  # an open side of a range: NaN in the table
            rows.append({"goal": key, "input": limit.name if limit else "",
                         "low": limit.low if limit and limit.low is not None else np.nan,
                         "high": limit.high if limit and limit.high is not None else np.nan,
                         "categories": " ".join(limit.categories) if limit and limit.categories else "",
                         "quasi_p": limit.quasi_p if limit else np.nan,
                         "restriction": limit.text() if limit else "",
                         "coverage": box.coverage, "density": box.density, "mass": box.mass, "note": note})
    return pd.DataFrame(rows)


def analyse_experiment(spec, dataset: xr.Dataset) -> tuple[dict[str, pd.DataFrame], dict[str, object]]:
    """Tables "indices" (the policy table), "goals" and "prim", and the PRIM boxes by goal."""
    tables = {"indices": policy_table(spec, dataset)}
    found = {}
    if spec.goals:
        tables["goals"] = goal_table(spec, dataset)
        found = discover(spec, dataset)
        tables["prim"] = prim_table(found)
    return tables, found


def _cell(value: float, places: int = 4) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.{places}g}"


def format_experiment(spec, tables: dict[str, pd.DataFrame]) -> str:
    """The policy table, the goal table and the PRIM boxes as text."""
    lines = []
    width = max(10, *(len(p) for p in spec.policies)) + 2
    indices = tables["indices"]
    for output in spec.outputs:
        lines.append(f"{output.name}: {output.label}; mean [5%-95%] over every sample and run, "
                     f"and the difference from {spec.policies[0]} run by run")
        for _, row in indices[indices["output"] == output.name].iterrows():
            lines.append(f"  {row['policy'].ljust(width)}{_cell(row['mean'])} [{_cell(row['p05'])} to {_cell(row['p95'])}]"
                         f"   difference {_cell(row['difference_mean'])} [{_cell(row['difference_p05'])} to {_cell(row['difference_p95'])}]")
        lines.append("")
    if "goals" in tables:
        lines.append("goals: share of runs meeting each")
        for _, row in tables["goals"].iterrows():
            lines.append(f"  {row['goal']} under {row['policy']}: {met_text(row)}")
        lines.append("")
        lines.append("where each goal fails (PRIM):")
        for key, group in tables["prim"].groupby("goal", sort=False):
            first = group.iloc[0]
            if first["note"] and not np.isfinite(first["coverage"]):
                lines.append(f"  {key}: {first['note']}")
                continue
            if not first["input"]:
                lines.append(f"  {key}: {first['note']}")
                continue
            limits = " and ".join(f"{row['restriction']} (quasi-p {row['quasi_p']:.2g})" for _, row in group.iterrows())
            lines.append(f"  {key}: {limits}; coverage {first['coverage']:.2f}, density {first['density']:.2f}, mass {first['mass']:.2f}")
    return "\n".join(lines).rstrip()


def met_text(row) -> str:
    """A goal's row of the goal table in words: a goal every run met in the back-cast years is "met
    before the projection starts", not a share of runs."""
    if row["runs"] and row["share_met_before_projection"] == 1.0:
        return f"met before the projection starts (all {row['runs']} runs)"
    early = f"; {row['share_met_before_projection']:.0%} met it before the projection starts" if row["share_met_before_projection"] > 0 else ""
    return f"{row['share_met']:.0%} of {row['runs']} runs{early}"


def write_experiment(spec, dataset: xr.Dataset, directory) -> tuple[dict[str, pd.DataFrame], list]:
    """Tables (experiment.csv, experiment_goals.csv, experiment_prim.csv), figures (outcomes.png,
    prim_<goal>.png) and report.html into the sweep's directory; returns the tables and the paths."""
    from sim.output import atomic_target
    from sim.report import build_experiment_report
    from sim.sweep.analysis import write_tables
    from sim.sweep.figures import policy_outcomes, prim_figure

    tables, found = analyse_experiment(spec, dataset)
    written = write_tables(spec, tables, directory)
    figures = {"outcomes": policy_outcomes(spec, dataset, directory / "outcomes.png")}
    if found:
        inputs = discovery_inputs(spec, dataset)
        usable = np.asarray(_usable(dataset).values).ravel()
        for goal in spec.goals:
            if not isinstance(found[goal.key], str):
                fails = ~np.asarray(goal.met(dataset).transpose("policy", "sample", "run").values).ravel()[usable]
                figures[goal.key] = prim_figure(goal, found[goal.key], inputs, fails, directory / f"prim_{goal.key}.png")
    written += list(figures.values())
    report = directory / "report.html"
    with atomic_target(report) as temporary:
        temporary.write_text(build_experiment_report(spec, dataset, tables, figures), encoding="utf-8")
    return tables, written + [report]
