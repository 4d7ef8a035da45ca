"""One self-contained HTML report of results: scenario definitions, key table, goal checks, the fit to
the documents' figures, figures embedded as base64 PNG, and provenance. No external resources."""

from __future__ import annotations

import base64
import html
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from sim import __version__
from sim.calibration_data import load_targets
from sim.errors import InputError
from sim.firm_distributions import stored_distributions
from sim.goals import check_goal, first_year, in_units, load_goals
from sim.output import git_commit
from sim.parameters import CALIBRATED_FILE, load_declaration, resolve
from sim.plotting import figure_plan, panel_for_measure, png_bytes, scenario_phrase

SECTIONS = (
    ("scenarios", "Scenario definitions"),
    ("key-table", "Key indicators"),
    ("goals", "Official goals"),
    ("calibration-fit", "Fit to the documents' figures"),
    ("figures", "Figures"),
    ("provenance", "Provenance"),
)
ROLE_ORDER = {"fit": 0, "check": 1, "initial": 2}
STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; } figcaption { font-size: 0.9em; color: #555; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.met { color: #1a7f37; } .unmet { color: #b42318; } .note { color: #555; font-size: 0.9em; }
nav a { margin-right: 1em; }
"""


def esc(value: object) -> str:
    return html.escape(str(value))


def table(header: list[str], rows: list[list[str]], numeric_from: int = 99) -> str:
    """An HTML table; cells are already escaped HTML; columns from `numeric_from` are right-aligned."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i >= numeric_from else f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def number(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def band(values: np.ndarray) -> str:
    """median [5%-95%] over runs."""
    if values.size == 1:
        return number(float(values[0]))
    low, mid, high = np.quantile(values, [0.05, 0.5, 0.95])
    return f"{number(mid)} [{number(low)}&ndash;{number(high)}]"


# ---------------------------------------------------------------- sections
def scenario_section(results: dict[str, xr.Dataset]) -> str:
    parts = []
    for label, d in results.items():
        a = d.attrs
        rows = [
            ["scenario", esc(a.get("scenario", label))],
            ["description", esc(a.get("scenario_description", "-"))],
            ["scenario file", esc(a.get("scenario_file", "-"))],
            ["runs", esc(d.sizes["run"])],
            ["scale (share of real firms simulated)", esc(a.get("scale", "-"))],
            ["parameter overrides", esc(a.get("parameter_overrides") or "none")],
            ["levers (intensity, years, target)", esc(a.get("levers") or "none")],
        ]
        parts.append(f"<h3>{esc(label)}</h3>" + table(["item", "value"], rows))
        scenario_file = a.get("scenario_file")
        if scenario_file and Path(scenario_file).is_file():
            parts.append(f'<p class="note">The scenario file as it reads now (it may have changed since the run):</p>'
                         f"<pre>{esc(Path(scenario_file).read_text(encoding='utf-8', errors='replace'))}</pre>")
    return "".join(parts)


def key_table_section(results: dict[str, xr.Dataset]) -> str:
    from sim.summary import SUMMARY_VARIABLES, SUMMARY_YEARS

    first = next(iter(results.values()))
    years = [y for y in SUMMARY_YEARS if y in first["year"].values]
    rows = []
    for name in SUMMARY_VARIABLES:
        for label, d in results.items():
            cells = [band(d[name].sel(year=y).values) if y in d["year"].values else "-" for y in years]
            rows.append([f"{esc(name)} ({esc(d[name].attrs.get('units', ''))})", esc(label), *cells])
    return ('<p class="note">Median over runs, with the 5%&ndash;95% range in brackets. 2012 is the built initial state, '
            "2013&ndash;2022 simulated back-casts, later years projections.</p>"
            + table(["indicator (unit)", "result", *map(str, years)], rows, numeric_from=2))


def goals_section(results: dict[str, xr.Dataset]) -> str:
    rows = []
    for goal in load_goals():
        cells = []
        for d in results.values():
            check = check_goal(goal, d)
            if check.before_projection:
                cells.append(f'<span class="note">met before the projection starts</span>; {esc(check.model_value)}')
            elif check.share_met is None:
                cells.append(f"not checked ({esc(check.model_value)})" if check.model_value != "-" else "not checked")
            else:
                css = "met" if check.share_met >= 0.5 else "unmet"
                cells.append(f'<span class="{css}">met in {check.share_met:.0%} of runs</span>; {esc(check.model_value)}')
        rows.append([esc(goal.key), f"{goal.value:g} {esc(goal.unit)} ({esc(goal.period)})",
                     f"&ldquo;{esc(goal.quote)}&rdquo; ({esc(goal.document)})",
                     esc(goal.reading()), *cells])
    return table(["goal", "value (year)", "document", "how the model reads it", *map(esc, results)], rows)


def fit_rows(dataset: xr.Dataset) -> list[list[str]]:
    """Targets whose measure the result holds in their year: document value, model mean and band, error."""
    rows = []
    years = dataset["year"].values
    targets = sorted(load_targets().values(), key=lambda t: (ROLE_ORDER.get(t.role, 9), t.key))
    for t in targets:
        year = first_year(t.year)
        panel = panel_for_measure(t.measure, dataset)
        if t.key.endswith("_goal") or panel is None or year not in years:
            continue
        units = panel.units(dataset)
        values = panel.series(dataset).sel(year=year).values
        document = in_units(t, units)
        mean = float(values.mean())
        if units.startswith("%"):
            error = f"{mean - document:+.2f} pp"
        elif units == "share":
            error = f"{100 * (mean - document):+.2f} pp"
        else:
            error = f"{100 * (mean / document - 1):+.1f}%" if document else "-"
        low, high = (np.quantile(values, [0.05, 0.95]) if values.size > 1 else (values[0], values[0]))
        rows.append([esc(t.key), esc(t.role), esc(t.measure), esc(t.year), f"{document:,g} {esc(units)}",
                     number(mean), f"{number(low)}&ndash;{number(high)}", error])
    return rows


def calibration_section(results: dict[str, xr.Dataset]) -> str:
    parts = ['<p class="note">Every figure of calibration/targets.csv that a result measures in its year: <b>fit</b> targets '
             "are aimed at by the calibrator, <b>check</b> targets are held out, <b>initial</b> ones set the 2012 state. "
             "Partial-year figures (e.g. 2023 Q1&ndash;Q3) are set beside the model's whole year. Error: model mean minus "
             "document, in percentage points for shares, in per cent of the document value otherwise.</p>"]
    if CALIBRATED_FILE.exists():
        with open(CALIBRATED_FILE, "rb") as handle:
            raw = tomllib.load(handle)
        header = raw.get("meta") or {k: v for k, v in raw.items() if not isinstance(v, dict)}
        parts.append(f"<p>Calibrated parameter set {esc(CALIBRATED_FILE.name)} (as it is now): "
                     + esc("; ".join(f"{k} = {v}" for k, v in header.items())) + "</p>")
    else:
        parts.append(f'<p class="note">No calibrated parameter set ({esc(CALIBRATED_FILE.name)}) is present now.</p>')
    for label, d in results.items():
        parts.append(f"<h3>{esc(label)}</h3>" + table(
            ["target", "role", "measure", "period", "document", "model mean", "90% band over runs", "error"], fit_rows(d), numeric_from=5))
    return "".join(parts)


def figures_section(results: dict[str, xr.Dataset], variables: list[str] | None, distributions_of=stored_distributions) -> str:
    return figures_from_plan(figure_plan(results, variables, distributions_of), scenario_phrase(results))


def figures_from_plan(plan, caption: str) -> str:
    """Each figure of a plan (sim.plotting) embedded as a base64 PNG, or a note where it cannot be drawn."""
    parts = []
    for group, build in plan:
        try:
            figure = build()
        except InputError as error:
            parts.append(f'<p class="note">{esc(group.title)}: not drawn: {esc(error.one_line())}</p>')
            continue
        encoded = base64.b64encode(png_bytes(figure)).decode("ascii")
        parts.append(f'<figure id="figure-{group.slug}"><img alt="{esc(group.title)}" src="data:image/png;base64,{encoded}">'
                     f"<figcaption>{esc(group.title)}: {esc(caption)}</figcaption></figure>")
    return "".join(parts)


def recorded(dataset: xr.Dataset, attribute: str) -> dict[str, str]:
    """A 'name=value;name=value' attribute as a dict."""
    pairs = (item.partition("=") for item in dataset.attrs.get(attribute, "").split(";") if item)
    return {name: value for name, _, value in pairs}


def parameter_rows(dataset: xr.Dataset) -> list[list[str]]:
    """Every declared parameter with its value: as the result records it (attribute `parameters`, or
    `parameter_overrides`), else as it resolves now."""
    full, overrides = recorded(dataset, "parameters"), recorded(dataset, "parameter_overrides")
    now = resolve()
    rows = []
    for name, p in load_declaration().items():
        if name in full:
            value, origin = full[name], "recorded in the result"
        elif name in overrides:
            value, origin = overrides[name], "scenario override"
        else:
            value, origin = f"{now[name]:g}", "not recorded; resolved now"
        rows.append([esc(name), esc(value), esc(p.unit), origin])
    return rows


def provenance_section(results: dict[str, xr.Dataset]) -> str:
    parts = [f"<p>Report written {esc(datetime.now(timezone.utc).isoformat(timespec='seconds'))} by sim {esc(__version__)} "
             f"at git commit {esc(git_commit())}.</p>"]
    keys = ("sim_version", "git_commit", "created", "scale", "seeds", "scenario_file", "parameter_overrides", "note")
    for label, d in results.items():
        rows = [[esc(k), esc(d.attrs.get(k, "not recorded"))] for k in keys]
        seeds = ", ".join(str(int(s)) for s in d["seed"].values) if "seed" in d else "not recorded"
        rows.append(["seeds (of the runs held)", esc(seeds)])
        parts.append(f"<h3>{esc(label)}</h3>" + table(["item", "value"], rows))
        parts.append('<details><summary>Parameters (values not overridden by the scenario are not recorded in the result; '
                     "shown as they resolve now from calibration/parameters.toml and any calibrated set)</summary>"
                     + table(["parameter", "value", "unit", "origin"], parameter_rows(d)) + "</details>")
    return "".join(parts)


COMPARISON_SECTIONS = (
    ("scenarios", "Scenarios and the levers they pull"),
    ("lever-responses", "Lever responses"),
    ("differences", "Differences from the reference"),
    ("costs", "Fiscal cost and cost-effectiveness"),
    ("goals", "Official goals"),
    ("figures", "Figures: differences from the reference"),
    ("provenance", "Provenance"),
)


def comparison_scenarios_section(comparison: xr.Dataset) -> str:
    rows = [[esc(name), esc(file), esc(levers or "none")] for name, file, levers in
            zip(comparison["scenario"].values, comparison["scenario_file"].values, comparison["scenario_levers"].values)]
    method = comparison.attrs.get("method", "")
    return (f'<p class="note">The first scenario is the reference. {esc(method)}.</p>'
            + table(["scenario", "file", "levers (intensity, years, target)"], rows))


def text_section(text: str, empty: str) -> str:
    """A table sim compare prints, kept as it prints (one formatting of it, sim.compare)."""
    return f"<pre>{esc(text)}</pre>" if text else f'<p class="note">{esc(empty)}</p>'


def comparison_provenance_section(comparison: xr.Dataset) -> str:
    parts = [f"<p>Report written {esc(datetime.now(timezone.utc).isoformat(timespec='seconds'))} by sim {esc(__version__)} "
             f"at git commit {esc(git_commit())}.</p>"]
    rows = [[esc(k), esc(v)] for k, v in comparison.attrs.items()]
    return "".join(parts) + table(["item", "value"], rows)


def build_comparison_report(comparison: xr.Dataset, variables: list[str] | None = None) -> str:
    """The report of a `sim compare` result as one HTML string: the levers each scenario pulls, the
    lever-response table, the differences from the reference with their common-random-number bands,
    costs, goals and difference fan charts."""
    from sim import compare, lever_response
    from sim.plotting import difference_plan
    from sim.results import differences

    gaps = differences(comparison)
    builders = {
        "scenarios": lambda: comparison_scenarios_section(comparison),
        "lever-responses": lambda: text_section(lever_response.table(comparison),
                                                "no scenario pulls a lever that has a published response to check"),
        "differences": lambda: text_section(compare.difference_table(comparison), ""),
        "costs": lambda: text_section(compare.cost_table(comparison), ""),
        "goals": lambda: text_section(compare.goals_table(comparison), ""),
        "figures": lambda: figures_from_plan(difference_plan(gaps, variables), scenario_phrase(gaps)),
        "provenance": lambda: comparison_provenance_section(comparison),
    }
    title = f"sim comparison report: {', '.join(str(n) for n in comparison['scenario'].values)} ({comparison.sizes['run']} runs each)"
    return page(title, COMPARISON_SECTIONS, builders)


def build_report(results: dict[str, xr.Dataset], variables: list[str] | None = None,
                 distributions_of=stored_distributions) -> str:
    """The whole report as one HTML string."""
    builders = {
        "scenarios": lambda: scenario_section(results),
        "key-table": lambda: key_table_section(results),
        "goals": lambda: goals_section(results),
        "calibration-fit": lambda: calibration_section(results),
        "figures": lambda: figures_section(results, variables, distributions_of),
        "provenance": lambda: provenance_section(results),
    }
    return page(f"sim report: {scenario_phrase(results)}", SECTIONS, builders)


def page(title: str, sections, builders) -> str:
    """The HTML page: title, a navigation bar and one section per (slug, name), built by builders[slug]."""
    nav = "".join(f'<a href="#{slug}">{esc(name)}</a>' for slug, name in sections)
    body = "".join(f'<section id="{slug}"><h2>{esc(name)}</h2>{builders[slug]()}</section>' for slug, name in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1><nav>{nav}</nav>{body}</body></html>\n")


# ---------------------------------------------------------------- experiments (sim sweep, method experiment)
EXPERIMENT_SECTIONS = (
    ("experiment", "Experiment"),
    ("outcomes", "Outcomes by policy"),
    ("goals", "Goals"),
    ("discovery", "Where goals fail (PRIM)"),
    ("provenance", "Provenance"),
)


def embedded_figure(path: Path, caption: str) -> str:
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{encoded}"><figcaption>{esc(caption)}</figcaption></figure>'


def _experiment_definition(spec, dataset: xr.Dataset) -> str:
    import json

    policies = json.loads(dataset.attrs["policies"])
    rows = [[esc(name), esc(entry["levers"] or "none (the base scenario's levers)"), esc(entry["description"])]
            for name, entry in policies.items()]
    uncertainties = [[esc(i.name), number(i.lower), number(i.upper), esc(i.unit)] for i in spec.inputs[1:]]
    return (f"<p>{esc(spec.description)}</p><p>Base scenario {esc(dataset.attrs['scenario'])}, scale {dataset.attrs['scale']:g}; "
            f"{dataset.sizes['sample']} uncertainty samples (Latin hypercube, sampler seed {spec.sampler_seed}) x "
            f"{len(policies)} policies x {dataset.sizes['run']} runs (seeds common to every policy).</p>"
            + "<h3>Policies</h3>" + table(["policy", "levers pulled", "description"], rows)
            + "<h3>Uncertainties</h3>" + table(["input", "lower", "upper", "unit"], uncertainties, numeric_from=1))


def _outcome_rows(spec, policies) -> list[list[str]]:
    return [[esc(row["output"]), esc(row["policy"]), number(row["mean"]), f"{number(row['p05'])} &ndash; {number(row['p95'])}",
             number(row["difference_mean"]), f"{number(row['difference_p05'])} &ndash; {number(row['difference_p95'])}"]
            for _, row in policies.iterrows()]


def _goal_rows(goals) -> list[list[str]]:
    from sim.sweep.experiment import met_text

    return [[esc(row["goal"]), esc(row["reading"]), esc(row["policy"]), esc(met_text(row))] for _, row in goals.iterrows()]


def _prim_section(tables, figures) -> str:
    if "prim" not in tables:
        return '<p class="note">The experiment names no goals (goals = [...] in the sweep file).</p>'
    rows = []
    for _, row in tables["prim"].iterrows():
        limit = esc(row["restriction"] or row["note"])
        rows.append([esc(row["goal"]), limit, number(row["quasi_p"]), number(row["coverage"]), number(row["density"]), number(row["mass"])])
    parts = [table(["goal", "restriction", "quasi-p", "coverage", "density", "mass"], rows, numeric_from=2)]
    parts += [embedded_figure(path, f"where {key} fails") for key, path in figures.items() if key != "outcomes"]
    return ('<p class="note">Coverage: the share of the runs missing the goal that lie in the box; density: the share '
            "of the box's runs that miss it; mass: the box's share of all runs (PRIM, Friedman and Fisher 1999, as "
            "scenario discovery uses it, Bryant and Lempert 2010; EMA Workbench). The box is the one on the peeling "
            "trajectory with the highest harmonic mean of coverage and density among those holding at least half of the "
            "failing runs, less restrictions with a quasi-p value above 5%.</p>" + "".join(parts))


def build_experiment_report(spec, dataset: xr.Dataset, tables, figures: dict) -> str:
    """The report of an experiment (policies x uncertainties) as one HTML string."""
    builders = {
        "experiment": lambda: _experiment_definition(spec, dataset),
        "outcomes": lambda: table(["output", "policy", "mean", "5%&ndash;95%", "difference", "5%&ndash;95%"],
                                  _outcome_rows(spec, tables["indices"]), numeric_from=2)
        + embedded_figure(figures["outcomes"], "outcomes by policy"),
        "goals": lambda: table(["goal", "reading", "policy", "runs meeting it"], _goal_rows(tables["goals"]))
        if "goals" in tables else '<p class="note">No goals named.</p>',
        "discovery": lambda: _prim_section(tables, figures),
        "provenance": lambda: table(["attribute", "value"], [[esc(k), esc(v)] for k, v in dataset.attrs.items() if k not in ("policies",)]),
    }
    return page(f"sim experiment {spec.name}", EXPERIMENT_SECTIONS, builders)
