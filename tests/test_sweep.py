"""Sweeps: sweep files, designs, the Ishigami check of the whole pipeline, analysis and the CLI."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.cli import main
from sim.sweep import analyse, load_sweep, output_values, run_sweep
from sim.sweep.design import build_design, run_values, sample_count, sample_seeds
from sim.sweep.spec import SweepError

DATA = Path(__file__).parent / "data" / "sweeps"
ROOT = Path(__file__).resolve().parent.parent

# Known indices of the Ishigami function (a = 7, b = 0.1), BRIEF.md; SALib's regression tolerances.
ISHIGAMI_S1 = [0.314, 0.442, 0.0]
ISHIGAMI_ST = [0.558, 0.442, 0.244]
SALIB_TOLERANCE = {"atol": 5e-2, "rtol": 1e-1}

MALFORMED = {
    "zero_width.toml": ("inputs.markup.bounds", "zero-width"),
    "unknown_input.toml": ("inputs.share_selection_strenght", "did you mean 'share_selection_strength'"),
    "unknown_method.toml": ("method", "unknown method 'morrison'"),
    "out_of_bounds.toml": ("inputs.markup.bounds", "out of bounds"),
    "unknown_variable.toml": ("outputs[1].variable", "unknown variable"),
    "bad_year.toml": ("outputs[1].year", "not a result year"),
    "values_with_sobol.toml": ("inputs.markup.values", "value lists are for methods grid and oat"),
    "unknown_option.toml": ("options.trajectory", "did you mean 'trajectories'"),
    "no_such_sweep.toml": (None, "no such sweep file"),
}


def ishigami_file(tmp_path, method, options, inputs="[inputs.x1]\n[inputs.x2]\n[inputs.x3]\n", extra=""):
    path = tmp_path / f"ishigami_{method}.toml"
    lines = ['model = "ishigami"', f'method = "{method}"', "sampler_seed = 3", extra, "[options]"]
    lines += [f"{key} = {value}" for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n" + inputs + '[[outputs]]\nvariable = "y"\n')
    return load_sweep(path)


@pytest.mark.parametrize("name,expected", MALFORMED.items())
def test_malformed_sweep_file_gives_one_line_and_exit_2(tmp_path, capsys, name, expected):
    key, message = expected
    status = main(["sweep", str(DATA / name), "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert name in lines[0] and message in lines[0], lines[0]
    if key:
        assert key in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_malformed_sweep_file_from_the_shell():
    result = subprocess.run([sys.executable, "-m", "sim", "sweep", str(DATA / "unknown_method.toml")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "allowed: grid, oat, morris, sobol, lhs" in result.stderr


def test_bounds_come_from_the_one_declaration(tmp_path, monkeypatch):
    from sim import parameters

    declared = parameters.load_declaration()
    for name in ("morris_quick", "morris_full", "sobol_main"):
        spec = load_sweep(ROOT / "scenarios" / "sweeps" / f"{name}.toml")
        for item in spec.inputs:
            assert declared[item.name].kind == "uncertainty"
            assert declared[item.name].lower <= item.lower < item.upper <= declared[item.name].upper
    # an input without bounds sweeps the declared ones, read at load time (not copied)
    path = tmp_path / "declared.toml"
    path.write_text(f'scenario = "{ROOT / "scenarios" / "baseline.toml"}"\nmethod = "lhs"\n[inputs]\nentry_rate = {{}}\n'
                    '[[outputs]]\nvariable = "manufacturing_va"\nyear = 2035\n')
    (entry_rate,) = load_sweep(path).inputs
    assert (entry_rate.lower, entry_rate.upper) == (declared["entry_rate"].lower, declared["entry_rate"].upper)
    narrower = parameters.Parameter(**{**declared["entry_rate"].__dict__, "lower": 0.01, "upper": 0.2})
    monkeypatch.setattr(parameters, "load_declaration", lambda: {**declared, "entry_rate": narrower})
    (entry_rate,) = load_sweep(path).inputs
    assert (entry_rate.lower, entry_rate.upper) == (0.01, 0.2)


def test_ishigami_sobol_indices_through_the_sweep_machinery(tmp_path):
    spec = load_sweep(DATA / "ishigami_sobol.toml")
    result = run_sweep(spec, tmp_path, workers=1, progress=False)
    dataset = result.dataset
    assert dataset.sizes == {"sample": 1024 * 5, "run": 1, "year": 1, "input": 3}
    # the model saw exactly SALib's sample matrix, in its order
    from SALib.test_functions import Ishigami

    X = dataset["design"].values
    assert_allclose(output_values(spec, dataset, spec.outputs[0]), Ishigami.evaluate(X), rtol=1e-12, atol=1e-12)
    assert np.array_equal(dataset["x2"].values, X[:, 1])  # varied inputs as coordinates
    table = analyse(spec, dataset)["indices"].set_index("input").loc[["x1", "x2", "x3"]]
    assert_allclose(table["S1"], ISHIGAMI_S1, **SALIB_TOLERANCE)
    assert_allclose(table["ST"], ISHIGAMI_ST, **SALIB_TOLERANCE)
    assert (table["S1_conf"] > 0).all() and (table["ST_conf"] < 0.15).all()
    # written: the Dataset, the table and the figures
    for name in ("results.nc", "manifest.json"):
        assert (result.directory / name).exists()


def test_ishigami_morris_reproduces_salib_mu_star(tmp_path):
    spec = ishigami_file(tmp_path, "morris", {"trajectories": 200, "levels": 4})
    dataset = run_sweep(spec, tmp_path, workers=1, progress=False).dataset
    assert dataset.sizes["sample"] == 200 * 4
    table = analyse(spec, dataset)["indices"]
    assert list(table["mu_star"]) == sorted(table["mu_star"], reverse=True)
    assert table["input"].iloc[-1] == "x3"
    # x2 enters as 7 sin^2(x2): on the levels -pi, -pi/3, pi/3, pi every jump of 2/3 of the range
    # changes y by 7 * 3/4, so mu*(x2) = 5.25 / (2/3) = 7.875 exactly, as in SALib's regression tests
    indexed = table.set_index("input")
    assert indexed.loc["x2", "mu_star"] == pytest.approx(7.875, rel=1e-9)
    assert indexed.loc["x2", "sigma"] > 7 and abs(indexed.loc["x2", "mu"]) < 2  # effects of both signs
    assert indexed.loc["x1", "mu_star"] == pytest.approx(7.77, rel=0.1)  # SALib: 7.767792 at N = 10000


@pytest.mark.parametrize("method,options,count", [
    ("grid", {"levels": 3}, 27),
    ("oat", {"levels": 3}, 7),  # base point (0, 0, 0) plus two levels off it per input
    ("lhs", {"samples": 40}, 40),
    ("morris", {"trajectories": 5}, 20),
    ("sobol", {"samples": 8, "second_order": "true"}, 64),
])
def test_designs_lie_in_bounds_and_are_reproducible(tmp_path, method, options, count):
    spec = ishigami_file(tmp_path, method, options)
    design = build_design(spec)
    assert design.shape == (count, 3) == (sample_count(spec), 3)
    assert design.min() >= -math.pi and design.max() <= math.pi
    assert np.array_equal(design, build_design(spec))


def test_oat_varies_one_input_at_a_time_around_the_base(tmp_path):
    spec = ishigami_file(tmp_path, "oat", {"levels": 5})  # -pi, -pi/2, (0 = base), pi/2, pi
    design = build_design(spec)
    assert design.shape == (13, 3) and np.array_equal(design[0], [0.0, 0.0, 0.0])
    assert all(np.count_nonzero(row) == 1 for row in design[1:])
    dataset = run_sweep(spec, tmp_path, workers=1, progress=False).dataset
    table = analyse(spec, dataset)["indices"].set_index("input")
    # alone: y = sin x1, y = 7 sin^2 x2, y = 0.1 x3^4 sin 0 = 0
    assert table.loc["x1", "output_base"] == 0.0
    assert table.loc["x2", "max_deviation"] == pytest.approx(7.0)
    assert table.loc["x1", "max_deviation"] == pytest.approx(1.0)
    assert table.loc["x3", "max_deviation"] == 0.0


def test_grid_and_lhs_analyses(tmp_path):
    grid = ishigami_file(tmp_path, "grid", {"levels": 5}, inputs="[inputs.x1]\n[inputs.x2]\nvalues = [0.0, 1.5707963267948966]\n")
    table = analyse(grid, run_sweep(grid, tmp_path, workers=1, progress=False).dataset)["indices"].set_index("input")
    assert table.loc["x2", "swing"] == pytest.approx(7.0)  # mean of 7 sin^2 x2 at 0 and pi/2
    lhs = ishigami_file(tmp_path, "lhs", {"samples": 400})
    tables = analyse(lhs, run_sweep(lhs, tmp_path, workers=1, progress=False).dataset)
    rho = tables["indices"].set_index("input")["spearman"]
    assert rho["x1"] > 0.3 and abs(rho["x2"]) < 0.2  # y rises with x1; even in x2
    assert set(tables["summary"].columns) >= {"mean", "p05", "p95"}


def test_whole_years_are_rounded_and_seeds_depend_on_sample_and_number_only():
    spec = load_sweep(DATA / "small_lhs.toml")
    column = spec.names.index("srdi_start_year")
    design = build_design(spec)
    values = run_values(spec, design)
    assert np.array_equal(values[:, column], np.round(design[:, column]))
    assert not np.array_equal(design[:, column], values[:, column])
    seeds = [sample_seeds(spec, i) for i in range(6)]
    assert seeds == [sample_seeds(spec, i) for i in range(6)]
    assert len({s for pair in seeds for s in pair}) == 12  # independent: all distinct
    common = load_sweep(ROOT / "scenarios" / "sweeps" / "morris_quick.toml")
    assert sample_seeds(common, 0) == sample_seeds(common, 44) == (1,)


def test_output_statistics(tmp_path):
    import xarray as xr

    spec = load_sweep(DATA / "small_lhs.toml")
    years = np.arange(2012, 2036)
    data = np.arange(2 * 2 * len(years), dtype=float).reshape(2, 2, len(years))
    dataset = xr.Dataset({v: (("sample", "run", "year"), data) for v in ("manufacturing_va", "industrial_co2")}, coords={"year": years})
    value, mean = (output_values(spec, dataset, o) for o in spec.outputs)
    assert_allclose(value, data[:, :, -1].mean(axis=1))
    assert_allclose(mean, data[:, :, 18:].mean(axis=(1, 2)))
    cumulative = type(spec.outputs[1])("c", "industrial_co2", "cumulative", 2030, 2035, "")
    assert_allclose(output_values(spec, dataset, cumulative), data[:, :, 18:].sum(axis=2).mean(axis=1))
    # a failed run (NaN) makes its sample's output missing, whatever the statistic
    dataset["industrial_co2"][1, 0, 20] = np.nan
    for output in (spec.outputs[1], cumulative):
        y = output_values(spec, dataset, output)
        assert np.isfinite(y[0]) and np.isnan(y[1])


def test_cli_ishigami_writes_tables_and_figures(tmp_path, capsys):
    spec = tmp_path / "ishi.toml"
    spec.write_text('model = "ishigami"\nmethod = "morris"\n[options]\ntrajectories = 20\n[inputs.x1]\n[inputs.x2]\n[inputs.x3]\n[[outputs]]\nvariable = "y"\n')
    assert main(["sweep", str(spec), "--out", str(tmp_path), "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "mu*" in out and "x1" in out
    directory = tmp_path / "ishi"
    for name in ("results.nc", "morris.csv", "tornado.png"):
        assert (directory / name).stat().st_size > 0
    # a second run without --resume refuses to mix sweeps; --resume on a finished sweep reruns nothing
    assert main(["sweep", str(spec), "--out", str(tmp_path), "--workers", "1", "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--out", str(tmp_path), "--workers", "1", "--quiet", "--resume"]) == 0
    assert "ran 0 sample(s) (80 reused" in capsys.readouterr().out
    # a changed sweep file cannot resume the old one
    spec.write_text(spec.read_text().replace("trajectories = 20", "trajectories = 21"))
    assert main(["sweep", str(spec), "--out", str(tmp_path), "--workers", "1", "--quiet", "--resume"]) == 2
    assert "differs from the interrupted sweep" in capsys.readouterr().err


def test_sweep_error_is_an_input_error():
    from sim.errors import InputError

    assert issubclass(SweepError, InputError)


class FailingIshigami:
    """The Ishigami function, failing where x1 > 2 (a stand-in for a model that breaks at a corner)."""

    def __init__(self):
        from sim.sweep.models import IshigamiModel

        self.inner = IshigamiModel()
        self.label, self.years, self.variables = "failing-ishigami", self.inner.years, self.inner.variables

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def evaluate(self, inputs, seed):
        if inputs["x1"] > 2:
            raise FloatingPointError("overflow")
        return self.inner.evaluate(inputs, seed)


@pytest.mark.parametrize("method,options", [("morris", {"trajectories": 30}), ("sobol", {"samples": 64})])
def test_failed_samples_are_recorded_and_left_out(tmp_path, method, options):
    from dataclasses import replace

    import xarray as xr

    spec = ishigami_file(tmp_path, method, options, extra='on_error = "skip"')
    spec = replace(spec, model=FailingIshigami())
    result = run_sweep(spec, tmp_path, workers=1, progress=False, checkpoint=0)  # a part per sample
    X = result.dataset["design"].values
    failed = X[:, 0] > 2
    assert result.failed_samples == failed.sum() > 0
    assert "x1=" in result.errors[0] and "FloatingPointError: overflow" in result.errors[0]
    assert np.isnan(result.dataset["y"].values[failed]).all()
    with xr.open_dataset(result.path, engine="h5netcdf") as stored:  # messages whole on disk too
        assert list(stored["error"].values[failed].ravel()) == result.errors
    table = analyse(spec, result.dataset)["indices"].set_index("input").loc[["x1", "x2", "x3"]]
    if method == "sobol":  # a failed point takes its whole block (A, B and the D mixed rows) out
        complete = ~failed.reshape(-1, 5).any(axis=1)
        assert (table["samples_used"] == complete.sum() * 5).all()
        assert np.isfinite(table["ST"]).all()
    else:  # a failed point takes out the steps to and from it only
        assert (table["samples_used"] == (~failed).sum()).all()
        steps = X.reshape(30, 4, 3)
        ok = ~failed.reshape(30, 4)
        changed = np.argmax(np.abs(np.diff(steps, axis=1)), axis=2)  # (trajectory, step) -> input
        both = ok[:, :-1] & ok[:, 1:]
        for j, name in enumerate(["x1", "x2", "x3"]):
            assert table.loc[name, "effects"] == (both & (changed == j)).sum() < 30
        assert np.isfinite(table["mu_star"]).all()


def test_morris_without_failures_is_salib(tmp_path):
    from SALib.analyze import morris
    from SALib.test_functions import Ishigami

    from sim.sweep.analysis import morris_partial

    spec = ishigami_file(tmp_path, "morris", {"trajectories": 50, "levels": 6})
    X = build_design(spec)
    Y = Ishigami.evaluate(X)
    ours = morris_partial(spec.names, X, Y, 6, 200, 0.9, spec.sampler_seed).set_index("input")
    theirs = morris.analyze(spec.problem(), X, Y, num_resamples=200, conf_level=0.9, num_levels=6, seed=spec.sampler_seed)
    for key in ("mu", "mu_star", "sigma", "mu_star_conf"):
        assert_allclose(ours[key].values, np.asarray(theirs[key], dtype=float), rtol=1e-12, atol=0, err_msg=key)
    assert (ours["effects"] == 50).all()


def test_a_failing_sample_stops_the_sweep_and_keeps_what_finished(tmp_path):
    from dataclasses import replace

    from sim.sweep.models import SampleError

    spec = replace(ishigami_file(tmp_path, "lhs", {"samples": 20}), model=FailingIshigami())
    first_failure = int(np.argmax(build_design(spec)[:, 0] > 2))
    assert first_failure > 0
    with pytest.raises(SampleError, match="on_error"):
        run_sweep(spec, tmp_path, workers=1, progress=False)
    from SALib.test_functions import Ishigami

    from sim.sweep.execute import SweepStore

    kept = SweepStore(tmp_path / spec.name, spec.model, spec.model.years).read()
    assert list(kept["sample"].values) == list(range(first_failure))
    assert np.array_equal(kept["y"].values[:, 0, 0], Ishigami.evaluate(build_design(spec)[:first_failure]))


LEVER_SWEEP = """scenario = "{scenario}"
method = "{method}"
scale = 0.01
seeds = 1
[inputs]
{inputs}
[[outputs]]
variable = "rd_spend_mfg"
year = 2030
"""


def lever_sweep(tmp_path, inputs, method="grid", scenario=ROOT / "scenarios" / "baseline.toml"):
    path = tmp_path / "levers.toml"
    path.write_text(LEVER_SWEEP.format(scenario=scenario, method=method, inputs=inputs))
    return path


def test_a_sweep_varies_lever_fields_within_their_declared_ranges_and_runs_them(tmp_path):
    from sim.levers import load_levers

    spec = load_sweep(lever_sweep(tmp_path, '"levers.rd_superdeduction.intensity" = {}\n'
                                            '"levers.rd_superdeduction.start_year" = { bounds = [2024, 2028] }\n', "lhs"))
    intensity, start = spec.inputs
    declared = load_levers()["rd_superdeduction"]
    assert (intensity.lower, intensity.upper, intensity.integer) == (declared.lower, declared.upper, False)
    assert (start.lower, start.upper, start.integer, start.base) == (2024.0, 2028.0, True, 2024.0)
    # a sample pulls the lever: the same seed with a larger deduction spends more on R&D by 2030
    without = spec.model.evaluate({"levers.rd_superdeduction.intensity": 0.0, "levers.rd_superdeduction.start_year": 2024}, 1)
    pulled = spec.model.evaluate({"levers.rd_superdeduction.intensity": 1.0, "levers.rd_superdeduction.start_year": 2024}, 1)
    later = spec.model.evaluate({"levers.rd_superdeduction.intensity": 1.0, "levers.rd_superdeduction.start_year": 2031}, 1)
    year = list(spec.model.years).index(2030)
    assert pulled["rd_spend_mfg"][year] > 1.2 * without["rd_spend_mfg"][year]
    assert later["rd_spend_mfg"][year] == without["rd_spend_mfg"][year]  # not yet started in 2030: the baseline, bit for bit


@pytest.mark.parametrize("inputs,key,message", [
    ('"levers.rd_superdeductoin.intensity" = {}', "inputs.levers.rd_superdeductoin.intensity", "did you mean 'rd_superdeduction'"),
    ('"levers.rd_superdeduction.intensty" = {}', "inputs.levers.rd_superdeduction.intensty", "did you mean 'intensity'"),
    ('"levers.rd_superdeduction.intensity" = { bounds = [0.0, 99.0] }', "inputs.levers.rd_superdeduction.intensity.bounds",
     "out of bounds"),
    ('"levers.rd_superdeduction.start_year" = { bounds = [2024, 2030] }', "inputs.levers.rd_superdeduction.start_year",
     "does not pull rd_superdeduction"),
    ('"levers.digital_subsidy.start_year" = { bounds = [2025, 2034] }', "inputs.levers.digital_subsidy.start_year",
     "keep start_year at or before end_year"),
])
def test_a_bad_lever_input_gives_one_line_naming_file_and_key(tmp_path, capsys, inputs, key, message):
    scenario = ROOT / "scenarios" / "digital_empowerment.toml"  # pulls digital_subsidy 2024-2030, not rd_superdeduction
    path = lever_sweep(tmp_path, inputs, "lhs", scenario)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert len(line.splitlines()) == 1 and key in line and message in line, line
    assert not out.exists()
