"""The command line: one-line errors with exit 2 and nothing written; a small run end to end."""

import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

DATA = Path(__file__).parent / "data"

BAD_SCENARIOS = {
    "malformed.toml": "malformed TOML",
    "unknown_parameter.toml": "did you mean 'share_selection_strength'",
    "out_of_bounds.toml": "out of bounds",
    "wrong_type.toml": "must be a number",
    "circular_a.toml": "circular extends",
    "missing_extends.toml": "does not exist",
    "inverted_years.toml": "starts after it ends",
    "unknown_macro.toml": "did you mean 'rest_real_growth'",
    "unknown_key.toml": "unknown key",
    "no_such_scenario.toml": "no such scenario file",
}


def sim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("name,message", BAD_SCENARIOS.items())
def test_bad_scenario_gives_one_line_exit_2_and_writes_nothing(tmp_path, name, message):
    for command in (["check", str(DATA / name)], ["run", str(DATA / name), "--out", str(tmp_path), "--scale", "0.01"]):
        result = sim(*command)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert message in lines[0] and name in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_directory_as_scenario(tmp_path):
    result = sim("check", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_bad_option_values():
    for args in (["run", "scenarios/baseline.toml", "--scale", "2"], ["run", "scenarios/baseline.toml", "--seeds", "0"]):
        result = sim(*args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_small_run_writes_dataset_and_figure_and_refuses_to_overwrite(tmp_path):
    result = sim("run", str(DATA / "valid_small.toml"), "--scale", "0.01", "--seeds", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "manufacturing_va" in result.stdout and "2035" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.nc", "tiny.png"]
    with xr.open_dataset(tmp_path / "tiny.nc") as dataset:
        assert dataset.sizes["run"] == 2 and list(dataset["seed"].values) == [1, 2]
        assert dataset.attrs["scenario"] == "tiny" and "share_selection_strength=2.5" in dataset.attrs["parameter_overrides"]
    before = (tmp_path / "tiny.nc").read_bytes()
    again = sim("run", str(DATA / "valid_small.toml"), "--scale", "0.01", "--out", str(tmp_path))
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert (tmp_path / "tiny.nc").read_bytes() == before


def test_check_accepts_every_scenario_file():
    for path in Path("scenarios").glob("*.toml"):
        result = sim("check", str(path))
        assert result.returncode == 0, result.stderr


def test_assumptions_lists_labelled_assumptions():
    result = sim("assumptions")
    assert result.returncode == 0
    assert "labour_cost_2012" in result.stdout and "industry_co2_2012" in result.stdout


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`sim assumptions | head -1`: no traceback and no 'internal error' when the pipe closes."""
    process = subprocess.Popen([sys.executable, "-m", "sim", "assumptions"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               bufsize=0)
    process.stdout.close()  # the reader is gone before the command writes
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert stderr == ""


def test_check_names_the_levers_and_assumptions_show_the_calibrated_value_in_use():
    from sim.parameters import calibrated_values, load_declaration

    scenarios = Path(__file__).resolve().parent.parent / "scenarios"
    result = sim("check", str(scenarios / "rd_superdeduction.toml"))
    assert result.returncode == 0 and "levers: rd_superdeduction=0.5 (2024-2035; industry=manufacturing)" in result.stdout
    assert "levers: none" in sim("check", str(scenarios / "baseline.toml")).stdout
    listed = sim("assumptions").stdout
    name, value = next((n, v) for n, v in calibrated_values().items() if load_declaration()[n].is_assumption)
    default = load_declaration()[name].default
    assert f"- {name} = {value:g} in use (calibrated; declared default {default:g})" in listed
