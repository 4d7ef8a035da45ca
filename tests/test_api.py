"""The Python API (sim/api.py): the same results and the same named errors as the scenario files and
the command line; `sim.compare` and `sim.sweep` callable whether or not their submodules were imported."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sim
from sim.cli import main
from sim.compare import run_comparison
from sim.errors import InputError, ScenarioError
from sim.runner import ensemble
from sim.scenario import load_scenario
from sim.sweep.spec import SweepError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SCALE = 0.005  # the smallest scale allowed: one run takes about a second

# One set of overrides, as a scenario file extending the baseline writes it and as the API takes it.
OVERRIDES_TOML = """
[parameters]
share_selection_strength = 3.5
[macro.rest_real_growth]
"2026-2030" = 3.0
[levers.digital_subsidy]
intensity = 0.4
end_year = 2030
target = { firm_class = ["sme", "large_private"] }
"""
OVERRIDES = {
    "parameters": {"share_selection_strength": 3.5},
    "macro": {"rest_real_growth": {"2026-2030": 3.0}},
    "levers": {"digital_subsidy": {"intensity": 0.4, "end_year": 2030, "target": {"firm_class": ["sme", "large_private"]}}},
}


def extending_file(tmp_path, body: str, name: str = "variant") -> Path:
    """A scenario file extending the baseline, with `body` as its own settings."""
    path = tmp_path / f"{name}.toml"
    path.write_text(f'extends = "{BASELINE}"\nname = "{name}"\n{body}')
    return path


def assert_same_data(left: xr.Dataset, right: xr.Dataset) -> None:
    """The same data variables, coordinates and values, bit for bit (attributes aside)."""
    assert sorted(left.data_vars) == sorted(right.data_vars)
    assert dict(left.sizes) == dict(right.sizes)
    for name in (*left.data_vars, *left.coords):
        np.testing.assert_array_equal(left[name].values, right[name].values, err_msg=name)


def file_error(tmp_path, body: str) -> ScenarioError:
    """The error `load_scenario` raises for a file extending the baseline with `body`."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(extending_file(tmp_path, body))
    return caught.value


@pytest.fixture(scope="module")
def baseline_run():
    return sim.run("baseline", seeds=1, scale=SCALE)


# ------------------------------------------------------------------ run
def test_run_equals_the_command_line_bit_for_bit(tmp_path, baseline_run):
    assert main(["run", str(BASELINE), "--seeds", "1", "--scale", str(SCALE), "--out", str(tmp_path)]) == 0
    with xr.open_dataset(tmp_path / "baseline.nc") as written:
        assert_same_data(baseline_run, written.load())
    assert baseline_run.attrs["scenario_file"] == str(BASELINE)


def test_run_has_the_documented_dimensions(baseline_run):
    assert baseline_run["manufacturing_va"].dims == ("run", "year")
    assert list(baseline_run["run"].values) == [1]
    assert list(baseline_run["year"].values) == list(range(2012, 2036))
    assert {"industry", "firm_class", "lever"} <= set(baseline_run.dims)
    assert baseline_run.attrs["scale"] == SCALE


def test_run_takes_a_list_of_seeds_as_ensemble_does():
    seeds = [3, 1]
    assert_same_data(sim.run(BASELINE, seeds=seeds, scale=SCALE), ensemble(load_scenario(BASELINE), seeds, SCALE))


def test_overrides_equal_the_same_overrides_in_a_scenario_file(tmp_path, baseline_run):
    from_file = load_scenario(extending_file(tmp_path, OVERRIDES_TOML))
    built = sim.build_scenario("baseline", name="variant", **OVERRIDES)
    assert (built.parameters, built.macro_overrides, built.levers) == (from_file.parameters, from_file.macro_overrides, from_file.levers)
    result = sim.run("baseline", seeds=1, scale=SCALE, **OVERRIDES)
    assert_same_data(result, ensemble(from_file, [1], SCALE))
    assert not np.array_equal(result["manufacturing_va"].values, baseline_run["manufacturing_va"].values)  # the overrides act


def test_lever_intensity_alone_takes_the_declared_years_and_target(tmp_path):
    from_file = load_scenario(extending_file(tmp_path, "[levers.digital_subsidy]\nintensity = 0.3\n"))
    built = sim.build_scenario(levers={"digital_subsidy": 0.3})
    assert built.levers == from_file.levers
    assert built.lever_summary() == "digital_subsidy=0.3 (2024-2035; firm_class=sme)"


def test_numpy_values_are_taken_as_numbers():
    built = sim.build_scenario(parameters={"share_selection_strength": np.float64(3.5), "markup": np.float32(0.25)})
    assert built.parameters["share_selection_strength"] == 3.5 and type(built.parameters["markup"]) is float


# ------------------------------------------------------------------ the same named errors as a file
BAD_SETTINGS = {
    "misspelt parameter": ("[parameters]\nshare_selection_strenght = 2.0\n", {"parameters": {"share_selection_strenght": 2.0}},
                           "did you mean 'share_selection_strength'"),
    "parameter out of range": ("[parameters]\nshare_selection_strength = -1.0\n", {"parameters": {"share_selection_strength": -1.0}},
                               "out of bounds"),
    "parameter not a number": ('[parameters]\nmarkup = "high"\n', {"parameters": {"markup": "high"}}, "must be a number"),
    "misspelt lever field": ("[levers.digital_subsidy]\nintensity = 0.3\nend_yaer = 2030\n",
                             {"levers": {"digital_subsidy": {"intensity": 0.3, "end_yaer": 2030}}}, "did you mean 'end_year'"),
    "lever out of range": ("[levers.digital_subsidy]\nintensity = 2.0\n", {"levers": {"digital_subsidy": 2.0}}, "out of bounds"),
    "misspelt lever": ("[levers.digital_subsidyy]\nintensity = 0.3\n", {"levers": {"digital_subsidyy": {"intensity": 0.3}}},
                       "did you mean 'digital_subsidy'"),
    "bad lever target": ('[levers.digital_subsidy]\nintensity = 0.3\ntarget = { firm_class = ["smes"] }\n',
                         {"levers": {"digital_subsidy": {"intensity": 0.3, "target": {"firm_class": ["smes"]}}}}, "did you mean 'sme'"),
    "macro out of range": ('[macro.rest_real_growth]\n"2026-2030" = 99.0\n', {"macro": {"rest_real_growth": {"2026-2030": 99.0}}},
                           "out of bounds"),
    "misspelt macro path": ('[macro.rest_real_growt]\n"2026-2030" = 3.0\n', {"macro": {"rest_real_growt": {"2026-2030": 3.0}}},
                            "did you mean 'rest_real_growth'"),
}


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_a_bad_setting_raises_the_files_error_with_the_files_message(tmp_path, case):
    body, settings, expected = BAD_SETTINGS[case]
    from_file = file_error(tmp_path, body)
    with pytest.raises(ScenarioError) as caught:
        sim.run("baseline", seeds=1, scale=SCALE, **settings)
    error = caught.value
    assert (error.key, error.message) == (from_file.key, from_file.message)
    assert expected in error.message
    assert str(error) == f"sim.run: {from_file.key}: {from_file.message}"


def test_a_bad_seed_count_or_scale_is_refused_as_in_a_file(tmp_path):
    for key, value in (("seeds", 0), ("scale", 0.001)):
        from_file = file_error(tmp_path, f"{key} = {value}\n")
        with pytest.raises(ScenarioError) as caught:
            sim.run("baseline", **{key: value})
        assert (caught.value.key, caught.value.message) == (from_file.key, from_file.message)


@pytest.mark.parametrize("seeds,expected", [([1, 1], "twice"), ([2, -1], "at least 0"), ("3", "a list of seeds"), ([], "1 to")])
def test_bad_seed_lists_are_refused(seeds, expected):
    with pytest.raises(ScenarioError, match=expected):
        sim.run("baseline", seeds=seeds, scale=SCALE)


def test_an_unknown_scenario_name_suggests_the_nearest():
    with pytest.raises(ScenarioError, match="did you mean 'baseline'") as caught:
        sim.run("baselin")
    assert caught.value.key == "scenario"


def test_keys_that_are_not_strings_are_refused():
    with pytest.raises(ScenarioError, match="must be strings") as caught:
        sim.build_scenario(macro={"rest_real_growth": {2026: 3.0}})
    assert caught.value.key == "macro.rest_real_growth"


# ------------------------------------------------------------------ compare
def test_compare_equals_run_comparison():
    built = sim.compare(["baseline", "digital_empowerment"], seeds=1, scale=SCALE)
    direct = run_comparison([load_scenario(BASELINE), load_scenario(ROOT / "scenarios" / "digital_empowerment.toml")], [1], SCALE)
    assert_same_data(built, direct)
    assert built["manufacturing_va"].dims == ("scenario", "run", "year")
    assert list(built["scenario"].values) == ["baseline", "digital_empowerment"]
    assert "goal_met" in built and "cost_effectiveness" in built


def test_compare_refuses_one_scenario_or_a_name_twice():
    with pytest.raises(InputError, match="at least two"):
        sim.compare(["baseline"])
    variant = sim.build_scenario(parameters={"share_selection_strength": 3.0})  # keeps the name 'baseline'
    with pytest.raises(InputError, match="'baseline' is given twice"):
        sim.compare(["baseline", variant], seeds=1, scale=SCALE)


# ------------------------------------------------------------------ sweep
ISHIGAMI = {"name": "ishigami_api", "model": "ishigami", "method": "lhs", "sampler_seed": 3, "options": {"samples": 8},
            "inputs": {"x1": {}, "x2": {"bounds": [-1.0, 1.0]}, "x3": {}}, "outputs": [{"variable": "y"}]}
ISHIGAMI_TOML = """name = "ishigami_file"
model = "ishigami"
method = "lhs"
sampler_seed = 3
[options]
samples = 8
[inputs.x1]
[inputs.x2]
bounds = [-1.0, 1.0]
[inputs.x3]
[[outputs]]
variable = "y"
"""


def test_sweep_of_a_mapping_equals_the_sweep_of_its_file(tmp_path):
    from_mapping = sim.sweep(ISHIGAMI, out=tmp_path, workers=1)
    path = tmp_path / "ishigami_file.toml"
    path.write_text(ISHIGAMI_TOML)
    from_file = sim.sweep(path, out=tmp_path, workers=1, analysis=False)
    assert from_mapping["y"].dims == ("sample", "run", "year") and from_mapping.sizes["sample"] == 8
    np.testing.assert_array_equal(from_mapping["y"].values, from_file["y"].values)
    np.testing.assert_array_equal(from_mapping["x2"].values, from_file["x2"].values)
    assert np.all(np.abs(from_mapping["x2"].values) <= 1.0)
    assert (tmp_path / "ishigami_api" / "results.nc").is_file() and list((tmp_path / "ishigami_api").glob("lhs*.csv"))
    assert not list((tmp_path / "ishigami_file").glob("*.csv"))  # analysis=False


@pytest.mark.parametrize("change,key,expected", [
    ({"metod": "lhs"}, "metod", "did you mean 'method'"),
    ({"options": {"sample": 8}}, "options.sample", "did you mean 'samples'"),
    ({"outputs": [{"variable": "z"}]}, "outputs[1].variable", "unknown variable 'z'"),
])
def test_a_bad_sweep_key_raises_sweep_error(tmp_path, change, key, expected):
    with pytest.raises(SweepError, match=expected) as caught:
        sim.sweep({**ISHIGAMI, **change}, out=tmp_path, workers=1)
    assert caught.value.key == key and caught.value.file == "sim.sweep"
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_sweep_mapping_needs_a_name(tmp_path):
    with pytest.raises(SweepError, match="needs a name"):
        sim.sweep({key: value for key, value in ISHIGAMI.items() if key != "name"}, out=tmp_path)


def test_a_sweep_of_the_firm_model_names_its_scenario_and_refuses_a_misspelt_input():
    spec = sim.sweep_spec({"name": "api_quick", "scenario": "baseline", "method": "lhs", "options": {"samples": 2},
                           "inputs": {"markup": {"bounds": [0.1, 0.2]}},
                           "outputs": [{"variable": "manufacturing_va", "year": 2035}]}, scale=SCALE)
    assert spec.model.scenario.path == BASELINE and spec.model.scale == SCALE
    with pytest.raises(ScenarioError, match="did you mean 'markup'"):
        sim.sweep_spec({"name": "api_quick", "scenario": "baseline", "method": "lhs", "inputs": {"markupp": {}},
                        "outputs": [{"variable": "manufacturing_va", "year": 2035}]})


# ------------------------------------------------------------------ sim.compare and sim.sweep are callable
CALLS = """
import sim
from sim.errors import InputError
{imports}
for call, where in ((lambda: sim.compare(["baseline"]), "sim.compare: scenarios"),
                    (lambda: sim.sweep({{"name": "x", "method": "lhs"}}), "sim.sweep: scenario")):
    try:
        call()
    except InputError as error:
        assert str(error).startswith(where), error
    else:
        raise SystemExit("no error")
import sim.compare, sim.sweep
assert sim.compare.run_comparison and sim.sweep.analyse and sim.sweep.run_sweep
assert sim.compare is sys.modules["sim.compare"] and sim.sweep is sys.modules["sim.sweep"]
assert callable(sim.run) and callable(sim.build_scenario) and callable(sim.sweep_spec)
print("ok")
"""


@pytest.mark.parametrize("imports", ["import sys", "import sys\nimport sim.compare\nfrom sim import sweep\nfrom sim.sweep import analyse"])
def test_compare_and_sweep_are_callable_before_and_after_their_modules_are_imported(imports):
    done = subprocess.run([sys.executable, "-c", CALLS.format(imports=imports)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_compare_and_sweep_are_callable_in_this_interpreter():
    import sim.compare
    import sim.sweep

    assert callable(sim.compare) and callable(sim.sweep)
    with pytest.raises(InputError, match="^sim.compare: scenarios"):
        sim.compare(["baseline"])
    with pytest.raises(AttributeError):
        sim.no_such_function


def test_an_unguarded_script_is_told_to_guard_its_sweep(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(f"import sim\nsim.sweep({ISHIGAMI!r}, out={str(tmp_path)!r}, workers=2, analysis=False)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode != 0
    assert 'UnguardedScript: sim.sweep was called while a worker process imported' in done.stderr, done.stderr
    assert 'if __name__ == "__main__":' in done.stderr
