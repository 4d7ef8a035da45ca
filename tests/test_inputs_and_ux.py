"""Issue 25: inputs that passed validation and then crashed or gave nonsense, and the command line's
manners (missing output folders, --version, help texts, the run summary, figures, compile notice)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.summary import SUMMARY_VARIABLES
from sim.errors import ScenarioError
from sim.macro import LAST_YEAR, build_macro
from sim.model import IndustryModel
from sim.parameters import load_declaration, resolve, validate_value

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def sim_here(capsys, *args: str) -> tuple[int, str, str]:
    """`sim` in this process: (exit status, stdout, stderr); argparse's own exits give their status."""
    capsys.readouterr()
    try:
        status = main([str(a) for a in args])
    except SystemExit as stop:
        status = stop.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def refused(capsys, *args: str, names: str, says: str) -> None:
    """The command exits 2 with one line on stderr naming `names` and saying `says`."""
    status, _, err = sim_here(capsys, *args)
    lines = err.splitlines()
    assert status == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert names in lines[0] and says in lines[0], lines[0]


def scenario_file(tmp_path: Path, text: str, name: str = "case.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- 1. --out to a folder not yet made
def test_a_missing_output_folder_is_made_with_its_parents(capsys, tmp_path):
    out = tmp_path / "new" / "deeper" / "out"
    status, _, err = sim_here(capsys, "run", BASELINE, "--seeds", "1", "--scale", "0.005", "--out", out)
    assert status == 0, err
    assert {"baseline.nc", "baseline.png"} <= {p.name for p in out.iterdir()}
    figures = tmp_path / "figures" / "of" / "baseline"
    status, _, err = sim_here(capsys, "plot", out / "baseline.nc", "--vars", "exports", "--out", figures)
    assert status == 0 and [p.name for p in figures.iterdir()] == ["baseline_trade.png"], err
    report = tmp_path / "reports" / "2035" / "baseline.html"
    status, _, err = sim_here(capsys, "report", out / "baseline.nc", "--vars", "exports", "-o", report)
    assert status == 0 and report.is_file(), err


def test_a_sweep_makes_its_missing_output_folder(capsys, tmp_path):
    sweep = scenario_file(tmp_path, 'model = "ishigami"\nmethod = "lhs"\n[options]\nsamples = 4\n[inputs]\nx1 = {}\nx2 = {}\n'
                                    '[[outputs]]\nvariable = "y"\n', "ishigami.toml")
    out = tmp_path / "a" / "b"
    status, _, err = sim_here(capsys, "sweep", sweep, "--out", out, "--quiet", "--workers", "1")
    assert status == 0, err
    assert (out / "ishigami" / "results.nc").is_file()


def test_bad_input_makes_no_output_folder(capsys, tmp_path):
    bad = scenario_file(tmp_path, "[parameters]\nmarkup = 9.0\n")
    out = tmp_path / "never"
    refused(capsys, "run", bad, "--out", out / "made", names="parameters.markup", says="out of bounds")
    refused(capsys, "plot", tmp_path / "no_such.nc", "--out", out, names="no_such.nc", says="no such result file")
    refused(capsys, "report", tmp_path / "no_such.nc", "-o", out / "report.html", names="no_such.nc", says="no such result file")
    assert not out.exists()


# ---------------------------------------------------------------- 7a. non-finite parameter values
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", ["digital_payback_years", "markup"])
def test_non_finite_parameter_values_are_refused(capsys, tmp_path, name, value):
    path = scenario_file(tmp_path, f"[parameters]\n{name} = {value}\n")
    refused(capsys, "check", path, names=f"case.toml: parameters.{name}", says="must be a finite number")


def test_every_parameter_refuses_non_finite_values():
    for name in load_declaration():
        for value in (math.nan, math.inf, -math.inf):
            with pytest.raises(ScenarioError, match="must be a finite number"):
                validate_value(name, value, "file.toml", f"parameters.{name}")


# ---------------------------------------------------------------- 7b. every parameter at its bounds
BOUNDS_SCALE = 0.005  # the smallest scale a user may ask for (calibration/initial_state.toml, smallest_scale)


def finite_run(values: dict[str, float]) -> list[str]:
    """Run to 2035 at BOUNDS_SCALE, seed 1; the key indicators that are not finite in some year."""
    model = IndustryModel(values, build_macro(), seed=1, scale=BOUNDS_SCALE)
    model.run_to_end()
    assert model.year == LAST_YEAR
    return sorted({name for record in model.records for name in SUMMARY_VARIABLES if not np.isfinite(record[name])})


def test_every_parameter_runs_at_each_bound_or_declares_it_open():
    """A one-at-a-time sweep of the whole declaration: each parameter at its lower and its upper bound,
    the others at their values. A closed bound must run to 2035 with finite key indicators; an open
    bound must be refused by the validator and run just inside."""
    failures = []
    for name, parameter in load_declaration().items():
        for bound, why_open, inward in ((parameter.lower, parameter.lower_open, 1.0), (parameter.upper, parameter.upper_open, -1.0)):
            value = bound
            if why_open:
                with pytest.raises(ScenarioError, match="excluded"):
                    validate_value(name, bound, "file.toml", f"parameters.{name}")
                value = bound + inward * 1e-6 * (parameter.upper - parameter.lower)
            validate_value(name, value, "file.toml", f"parameters.{name}")
            try:
                bad = finite_run({**resolve(), name: value})
            except Exception as error:  # noqa: BLE001 - every failure is listed
                failures.append(f"{name} = {value}: {type(error).__name__}: {error}")
                continue
            if bad:
                failures.append(f"{name} = {value}: not finite: {', '.join(bad)}")
    assert not failures, "\n".join(failures)


def test_open_bounds_are_refused_at_check(capsys, tmp_path):
    path = scenario_file(tmp_path, "[parameters]\npatent_depreciation = 0.0\n")
    refused(capsys, "check", path, names="case.toml: parameters.patent_depreciation",
            says="allowed above 0.0 up to 0.3 1/year (0.0 excluded: ")
    inside = scenario_file(tmp_path, "[parameters]\npatent_depreciation = 0.001\n", "inside.toml")
    assert sim_here(capsys, "check", inside)[0] == 0


def test_a_parameter_that_leaves_a_class_empty_gives_an_undefined_gap_not_a_crash():
    model = IndustryModel({**resolve(), "foreign_share": 1.0}, build_macro(), seed=1, scale=BOUNDS_SCALE)
    assert math.isnan(model.records[0]["soe_productivity_gap"])  # no private firm: the gap is undefined
    assert np.isfinite(model.records[0]["manufacturing_va"])


# ---------------------------------------------------------------- 7e. sweep files
SWEEP_HEAD = f'scenario = "{BASELINE}"\nscale = 0.01\n'
SWEEP_OUTPUT = '[[outputs]]\nvariable = "manufacturing_va"\nyear = 2035\n'


@pytest.mark.parametrize("body,key,says", [
    ('method = "morris"\n[options]\nconf_level = nan\n[inputs]\nmarkup = {}\nquality_weight = {}\n', "options.conf_level",
     "must be a finite number, got nan"),
    ('method = "sobol"\n[options]\nconf_level = -inf\n[inputs]\nmarkup = {}\nquality_weight = {}\n', "options.conf_level",
     "must be a finite number, got -inf"),
    ('method = "lhs"\n[inputs]\nsrdi_start_year = { bounds = [nan, 2020] }\n', "inputs.srdi_start_year.bounds",
     "must be a finite number, got nan"),
    ('method = "lhs"\n[inputs]\nmarkup = { bounds = [0.1, inf] }\n', "inputs.markup.bounds", "must be a finite number, got inf"),
    ('method = "grid"\n[inputs]\nmarkup = { values = [0.1, nan] }\n', "inputs.markup.values", "must be a finite number"),
    ('method = "lhs"\n[inputs]\npatent_depreciation = {}\n', "inputs.patent_depreciation",
     "the declared bounds are open (0.0 excluded: "),
])
def test_sweep_files_with_non_finite_or_open_bound_values_are_refused_before_any_run(capsys, tmp_path, body, key, says):
    sweep = scenario_file(tmp_path, SWEEP_HEAD + body + SWEEP_OUTPUT, "sweep.toml")
    refused(capsys, "sweep", sweep, "--out", tmp_path / "out", "--quiet", names=f"sweep.toml: {key}", says=says)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- 7g. macro year keys
@pytest.mark.parametrize("key", ["2026-", " 2026", "+2026", "2_026", "2026-2030-", "2026 - 2030", "\u0662\u0660\u0662\u0666"])
def test_macro_year_keys_must_be_plain_digits(capsys, tmp_path, key):
    path = scenario_file(tmp_path, f'[macro.rest_real_growth]\n"{key}" = 5.0\n')
    refused(capsys, "check", path, names=f"macro.rest_real_growth.{key}", says="must be YYYY or YYYY-YYYY (digits only)")


def test_plain_macro_year_keys_still_work(capsys, tmp_path):
    path = scenario_file(tmp_path, '[macro.rest_real_growth]\n"2026" = 5.0\n"2027-2030" = 4.5\n')
    assert sim_here(capsys, "check", path)[0] == 0


# ---------------------------------------------------------------- 7c. scenario names and extends chains
@pytest.mark.parametrize("name,says", [
    ("a/b", "must be letters, digits"),
    ("a\\u0000b", "must be letters, digits"),
    ("..", "must not start or end with '.'"),
    ("x" * 201, "is 201 bytes long: at most 200"),
    ("\u00e9" * 101, "is 202 bytes long: at most 200"),
    ("CON", "device name"),
    ("lpt1.scenario", "device name"),
])
def test_scenario_names_that_cannot_name_a_file_are_refused(capsys, tmp_path, name, says):
    path = scenario_file(tmp_path, f'name = "{name}"\n')
    refused(capsys, "check", path, names="case.toml: name", says=says)


def test_a_scenario_name_of_200_bytes_runs_and_names_its_files(capsys, tmp_path):
    path = scenario_file(tmp_path, f'name = "{"n" * 200}"\nextends = "{BASELINE}"\n')
    status, _, err = sim_here(capsys, "run", path, "--seeds", "1", "--scale", "0.005", "--out", tmp_path / "out")
    assert status == 0, err
    assert {p.suffix for p in (tmp_path / "out").iterdir()} >= {".nc", ".png"}


def test_a_comparison_whose_file_name_would_be_too_long_is_refused(capsys, tmp_path):
    first = scenario_file(tmp_path, f'name = "{"a" * 150}"\n', "first.toml")
    second = scenario_file(tmp_path, f'name = "{"b" * 150}"\n', "second.toml")
    refused(capsys, "compare", first, second, "--out", tmp_path / "out", names="second.toml: name", says="shorten the scenario names")
    assert not (tmp_path / "out").exists()


def test_a_long_extends_chain_loads(capsys, tmp_path):
    depth = 1500
    for number in range(depth):
        text = f'extends = "s{number + 1}.toml"\n' if number < depth - 1 else "seeds = 3\n[parameters]\nmarkup = 0.2\n"
        scenario_file(tmp_path, text, f"s{number}.toml")
    status, out, err = sim_here(capsys, "check", tmp_path / "s0.toml")
    assert status == 0 and "1 parameter override(s)" in out, err
    from sim.scenario import load_scenario

    assert load_scenario(tmp_path / "s0.toml").seeds == 3


def test_a_scenario_keeps_its_own_name_beside_parameter_overrides(tmp_path):
    from sim.scenario import load_scenario

    path = scenario_file(tmp_path, f'name = "mine"\nextends = "{BASELINE}"\n[parameters]\nmarkup = 0.2\n')
    assert load_scenario(path).name == "mine"
    assert load_scenario(scenario_file(tmp_path, "[parameters]\nmarkup = 0.2\n", "stem.toml")).name == "stem"


# ---------------------------------------------------------------- 7d. seeds and scale limits
def test_seeds_on_the_command_line_have_the_scenario_files_cap(capsys, tmp_path):
    from sim.cli import build_parser
    from sim.scenario import MAX_SEEDS

    for command in (("run", BASELINE), ("compare", BASELINE, BASELINE), ("calibrate", "--report")):
        refused(capsys, *command, "--seeds", MAX_SEEDS + 1, "--out", tmp_path / "out", names="--seeds", says=f"must lie in 1-{MAX_SEEDS}")
        assert build_parser().parse_args([*map(str, command), "--seeds", str(MAX_SEEDS)]).seeds == MAX_SEEDS
    path = scenario_file(tmp_path, f"seeds = {MAX_SEEDS + 1}\n")
    refused(capsys, "check", path, names="case.toml: seeds", says="out of bounds")
    assert not (tmp_path / "out").exists()


def test_scales_below_the_smallest_are_refused_everywhere(capsys, tmp_path):
    from sim.calibration_data import smallest_scale

    low = smallest_scale()
    says = f"allowed {low:g} to 1 (below {low:g} a run's 2012 state drifts"
    for command in (("run", BASELINE), ("compare", BASELINE, BASELINE), ("calibrate", "--report"), ("dashboard",),
                    ("sweep", ROOT / "tests" / "data" / "sweeps" / "small_lhs.toml")):
        refused(capsys, *command, "--scale", "1e-9", names="--scale", says=says)
    refused(capsys, "check", scenario_file(tmp_path, "scale = 1e-9\n"), names="case.toml: scale", says=says)
    sweep = scenario_file(tmp_path, SWEEP_HEAD.replace("0.01", "0.001") + 'method = "lhs"\n[inputs]\nmarkup = {}\n' + SWEEP_OUTPUT,
                          "sweep.toml")
    refused(capsys, "sweep", sweep, names="sweep.toml: scale", says=says)
    assert sim_here(capsys, "check", scenario_file(tmp_path, f"scale = {low}\n", "lowest.toml"))[0] == 0


def runs_keeping_the_2012_state(scale: float, reference: np.ndarray, tolerance: np.ndarray) -> int:
    """Of seeds 1-100 at `scale`, the runs whose every summary indicator of 2012 lies within tolerance."""
    kept = 0
    for seed in range(1, 101):
        record = IndustryModel(resolve(), build_macro(), seed=seed, scale=scale).records[0]
        kept += bool(np.all(np.abs(np.array([record[n] for n in SUMMARY_VARIABLES]) - reference) <= tolerance))
    return kept


def test_the_smallest_scale_is_the_smallest_that_keeps_the_2012_state():
    """The measurement behind the assumption smallest_scale (calibration/initial_state.toml): at least
    95 of 100 runs keep every summary indicator of 2012 within the calibration's fit tolerance of the
    scale-1 state at the smallest scale, and fewer one step below it."""
    from sim.calibrate import load_settings
    from sim.calibration_data import smallest_scale
    from sim.indicators import VARIABLES

    settings = load_settings()
    reference = np.mean([[IndustryModel(resolve(), build_macro(), seed=s, scale=1.0).records[0][n] for n in SUMMARY_VARIABLES]
                         for s in (101, 102, 103)], axis=0)
    units = [VARIABLES[n].units for n in SUMMARY_VARIABLES]
    tolerance = np.array([settings.relative_tolerance * abs(r) if not unit.startswith("%") else
                          settings.share_tolerance if "year on year" in unit else
                          min(settings.share_tolerance, settings.small_share_tolerance * abs(r)) for r, unit in zip(reference, units)])
    assert runs_keeping_the_2012_state(smallest_scale(), reference, tolerance) >= 95
    assert runs_keeping_the_2012_state(0.8 * smallest_scale(), reference, tolerance) < 95


# ---------------------------------------------------------------- 7h. SIM_THREADS
@pytest.mark.parametrize("value", ["abc", "0", "-2", "2.5"])
def test_a_bad_thread_count_is_refused_before_any_work(capsys, tmp_path, monkeypatch, value):
    monkeypatch.setenv("SIM_THREADS", value)
    refused(capsys, "run", BASELINE, "--scale", "0.005", "--out", tmp_path / "out", names="SIM_THREADS",
            says=f"must be a whole number of threads, at least 1, got {value!r}")
    assert not (tmp_path / "out").exists()


def test_a_good_thread_count_is_used(monkeypatch):
    from sim.parallel import default_threads

    monkeypatch.setenv("SIM_THREADS", " 3 ")
    assert default_threads() == 3


# ---------------------------------------------------------------- 3. --version
def test_version(capsys):
    from sim import __version__

    status, out, err = sim_here(capsys, "--version")
    assert status == 0 and out.strip() == f"sim {__version__}", err


# ---------------------------------------------------------------- 4. help texts
def all_parsers():
    """The top-level parser and every subcommand's, by name."""
    import argparse

    from sim.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"sim": parser, **commands.choices}


def test_every_help_text_renders_with_single_percent_signs():
    parsers = all_parsers()
    assert {"run", "check", "assumptions", "calibrate", "sweep", "plot", "report", "dashboard", "compare"} <= set(parsers)
    for name, parser in parsers.items():
        text = parser.format_help()  # argparse %-formats help strings: a lone "%" would raise here
        assert "%%" not in text, f"sim {name} --help shows a doubled %: " + next(line for line in text.splitlines() if "%%" in line)
    assert "5%-95% band" in parsers["compare"].format_help().replace("\n", " ").replace("  ", " ")


# ---------------------------------------------------------------- 5. the run summary
def synthetic_result(values: np.ndarray):
    """A result with the summary's variables, values[run, year] for each (runs x 5 summary years)."""
    import xarray as xr

    from sim.summary import SUMMARY_YEARS

    return xr.Dataset({name: (("run", "year"), values * (1 + 0.01 * number), {"units": units})
                       for number, (name, units) in enumerate(zip(SUMMARY_VARIABLES, [
                           "trillion RMB, current prices and a very long unit that needs wrapping", "%", "count per year"] * 6))},
                      coords={"run": np.arange(values.shape[0]), "year": list(SUMMARY_YEARS)})


@pytest.mark.parametrize("scale", [1.0, -55.5, 798_617.0, 1_447_379.0, -9_999_999.0, 3.3e11, -7.7e14, 4.2e18, -1e300])
def test_the_run_summary_fits_100_columns_and_keeps_cells_apart(scale):
    from sim.summary import CELL_WIDTH, LABEL_WIDTH, summary_table

    rng = np.random.default_rng(5)
    values = scale * rng.uniform(0.5, 2.0, size=(7, 5))
    values[0, 0] = np.nan
    table = summary_table(synthetic_result(values))
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 100, table
    for line in lines:
        for column in range(5):
            start = LABEL_WIDTH + column * CELL_WIDTH
            assert len(line) <= start or line[start] == " ", f"cells run together at column {start}:\n{line}"
    rows = [line for line in lines if line.startswith("invention_patent_apps")]
    assert len(rows) == 1 and len(rows[0].split()) == 6  # the name and five cells
    band = lines[lines.index(rows[0]) + 1].split()
    assert band[0].startswith("(") and all(".." in cell for cell in band[-5:]), band


def test_the_run_summary_shows_large_counts_compactly():
    from sim.summary import short_number

    assert [short_number(v) for v in (798_617, 1_447_379, 2_815.4, 0.86, -5.234, 92_219, 2.39e9, -1.5e15, -1.7e308)] == [
        "799k", "1.45M", "2,815", "0.86", "-5.23", "92.2k", "2.39B", "-2e15", "-2e308"]


# ---------------------------------------------------------------- 7f. results with no runs or only NaN
def test_a_result_with_no_runs_is_refused_before_anything_is_written(capsys, tmp_path, small_result):
    import xarray as xr

    with xr.open_dataset(small_result, engine="h5netcdf") as dataset:
        dataset.load().isel(run=slice(0, 0)).to_netcdf(tmp_path / "zero.nc", engine="h5netcdf")
    out = tmp_path / "out"
    refused(capsys, "plot", tmp_path / "zero.nc", "--out", out, names="zero.nc", says="holds no runs")
    refused(capsys, "report", tmp_path / "zero.nc", "-o", out / "report.html", names="zero.nc", says="holds no runs")
    assert not out.exists()


def test_a_result_of_nan_is_drawn_and_reported_with_one_warning(capsys, tmp_path, small_result):
    import xarray as xr

    with xr.open_dataset(small_result, engine="h5netcdf") as dataset:
        nan = dataset.load()
    for name in nan.data_vars:
        if name != "seed":
            nan[name] = nan[name] * np.nan
    nan.to_netcdf(tmp_path / "nan.nc", engine="h5netcdf")
    out = tmp_path / "out"
    for args in (("plot", tmp_path / "nan.nc", "--vars", "exports", "firm_size_ccdf", "--out", out),
                 ("report", tmp_path / "nan.nc", "--vars", "exports", "-o", out / "report.html")):
        status, _, err = sim_here(capsys, *args)
        lines = err.splitlines()
        assert status == 0 and len(lines) == 1, err
        assert "warning: " in lines[0] and "nan.nc" in lines[0] and "hold only NaN" in lines[0] and "exports" in lines[0], lines[0]
    assert {p.name for p in out.iterdir()} == {"nan_trade.png", "nan_firm_size_growth.png", "report.html"}


# ---------------------------------------------------------------- 6. figures
@pytest.fixture(scope="module")
def three_results(small_result):
    """The small baseline result under three long scenario names."""
    import xarray as xr

    with xr.open_dataset(small_result, engine="h5netcdf") as dataset:
        base = dataset.load()
    results = {}
    for name in ("baseline", "new_industrialization_fast", "green_transition_strong"):
        copy = base.copy()
        copy.attrs["scenario"] = name
        results[name] = xr.concat([copy, copy.assign_coords(run=copy["run"] + 1)], dim="run")  # two runs: bands drawn
    return results


def drawn(figure):
    """The figure drawn on an Agg canvas: (figure, renderer)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas if hasattr(figure.canvas, "get_renderer") else FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


def assert_title_inside(figure) -> None:
    renderer = drawn(figure)
    title = figure.get_suptitle()
    assert title, "the figure has a title"
    box = next(t for t in figure.texts if t.get_text() == title).get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= figure.bbox.width and box.y1 <= figure.bbox.height, (box, figure.bbox)


def assert_no_offset(figure) -> None:
    drawn(figure)
    for axis in figure.axes:
        for ticks in (axis.xaxis, axis.yaxis):
            assert ticks.get_offset_text().get_text() == "", f"{axis.get_title()}: offset {ticks.get_offset_text().get_text()!r}"


def assert_single_parentheses(texts) -> None:
    for text in texts:
        depth = 0
        for character in text:
            depth += {"(": 1, ")": -1}.get(character, 0)
            assert 0 <= depth <= 1, f"nested or unbalanced parentheses in {text!r}"
        assert depth == 0, f"unbalanced parentheses in {text!r}"


def test_fan_chart_figures_titles_axes_labels_and_legends(three_results):
    from sim.plotting import GROUPS, group_figure

    for group in GROUPS:
        figure = group_figure(group, three_results)
        assert_title_inside(figure)
        assert_no_offset(figure)
        assert_single_parentheses([t.get_text() for axis in figure.axes for t in axis.texts])
        entries = [t.get_text() for t in figure.legends[0].get_texts()]
        # one per result, two bands, at most three document roles, projections, goals and the goal band
        assert len(entries) <= len(three_results) + 8, entries
    innovation = group_figure(next(g for g in GROUPS if g.slug == "innovation"), three_results)
    patents = innovation.axes[-1]
    reaches_a_million = max(abs(v) for v in patents.get_ylim()) >= 1e6
    assert patents.get_ylabel() == ("count per year, millions" if reaches_a_million else "count per year")
    # an axis reaching a million shows millions, its label saying so; below, plain values
    from matplotlib.figure import Figure

    from sim.plotting import plain_numbers
    for top, label in ((2.5e6, "count per year, millions"), (9e5, "count per year")):
        axis = Figure().subplots()
        axis.plot([2012, 2035], [0.0, top])
        plain_numbers(axis, "count per year")
        assert axis.get_ylabel() == label


def test_firm_figure_title_and_legends(three_results):
    from sim.firm_distributions import SNAPSHOT_YEARS
    from sim.plotting import firm_group_figure

    figure = firm_group_figure(three_results)
    assert_title_inside(figure)
    for axis in figure.axes:  # one entry per result and per snapshot year, and the reference lines
        assert len(axis.get_legend().get_texts()) <= len(three_results) + len(SNAPSHOT_YEARS) + 2


def test_calibration_fit_figure_titles(three_results):
    from sim.calibration_report import fit_figure

    figure = fit_figure(three_results["baseline"], "The documents' figures against " + "a long description " * 12)
    assert_title_inside(figure)
    assert_single_parentheses([axis.get_title() for axis in figure.axes])


@pytest.mark.parametrize("method,metric", [("oat", "count per year"), ("morris", "count per year over an input's range")])
def test_the_tornado_axis_carries_the_outputs_units(tmp_path, monkeypatch, method, metric):
    import pandas as pd

    from sim.sweep import figures
    from sim.sweep.spec import load_sweep

    sweep = scenario_file(tmp_path, SWEEP_HEAD + f'method = "{method}"\n[inputs]\nmarkup = {{}}\nquality_weight = {{}}\n'
                          '[[outputs]]\nvariable = "invention_patent_apps"\nyear = 2035\n', "sweep.toml")
    spec = load_sweep(sweep)
    rows = [{"output": spec.outputs[0].name, "input": name, "output_low": 3.0e6, "output_high": 3.4e6 + k, "output_base": 3.1e6,
             "swing": 4e5, "mu_star": 3e5 * (k + 1), "mu_star_conf": 1e5, "sigma": 2e5} for k, name in enumerate(spec.names)]
    kept = []
    monkeypatch.setattr(figures, "_save", lambda figure, path: kept.append(figure) or path)
    figures.tornado(spec, {"indices": pd.DataFrame(rows)}, tmp_path / "tornado.png")
    axis = kept[0].axes[0]
    assert metric in axis.get_xlabel()
    assert_no_offset(kept[0])
    assert_title_inside(kept[0])


# ---------------------------------------------------------------- 2. first-run compile notice and progress
def test_a_cold_compile_cache_is_recognised(tmp_path):
    import os
    import subprocess
    import sys

    from sim.year import rules_compiled

    IndustryModel(resolve(), build_macro(), seed=1, scale=BOUNDS_SCALE).step()  # the rules run here: compiled and cached
    assert rules_compiled()
    probe = "import sim; from sim.year import rules_compiled; print(rules_compiled())"
    empty = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}, cwd=ROOT)
    assert empty.stdout.strip() == "False", empty.stderr


@pytest.mark.parametrize("compiled,seeds", [(False, 2), (True, 2), (True, 1)])
def test_run_says_when_it_compiles_and_shows_progress_over_runs(capsys, tmp_path, monkeypatch, compiled, seeds):
    import sim.year

    monkeypatch.setattr(sim.year, "rules_compiled", lambda: compiled)
    status, out, err = sim_here(capsys, "run", BASELINE, "--seeds", seeds, "--scale", "0.005", "--out", tmp_path)
    assert status == 0, err
    notice = "compiling the firm rules once (about"
    assert (notice in err) == (not compiled), err
    assert (f"{seeds}/{seeds}" in err) == (seeds > 1), err  # stderr is no terminal here: a bar only over several runs
    assert notice not in out and "runs:" not in out
