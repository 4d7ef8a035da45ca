"""Experiments (policies x uncertainties), macro values as sweep inputs, and PRIM scenario discovery.

PRIM is pinned to a function with a known answer: outcomes that fail exactly where one input is
high under two of three policies (plus label noise) must give that box back."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim.cli import main
from sim.sweep import load_sweep, run_sweep
from sim.sweep.design import build_design, sample_count, sample_seeds
from sim.sweep.discovery import MIN_COVERAGE, choose_box, find_failure_box
from sim.sweep.spec import SweepError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SCALE = 0.005

POLICIES = """
[policies.none]
[policies.digital]
description = "SME digital subsidy"
[policies.digital.levers.digital_subsidy]
intensity = 0.3
"""
UNCERTAINTIES = """
[inputs."macro.world_demand_growth.2023-2035"]
bounds = [0.0, 7.0]
[inputs.entry_rate]
bounds = [0.06, 0.3]
"""
OUTPUTS = """
[[outputs]]
variable = "industrial_va_real"
year = 2030
"""


def experiment_file(tmp_path, policies=POLICIES, inputs=UNCERTAINTIES, header="", samples=2, seeds=1, outputs=OUTPUTS):
    path = tmp_path / "experiment.toml"
    path.write_text(f'scenario = "{BASELINE}"\nmethod = "experiment"\nscale = {SCALE}\nseeds = {seeds}\nsampler_seed = 5\n'
                    f"{header}\n[options]\nsamples = {samples}\n{policies}{inputs}{outputs}")
    return path


# ---------------------------------------------------------------- PRIM against a known answer
def known_failures(n=3000, noise=0.02, seed=11):
    rng = np.random.default_rng(seed)
    inputs = pd.DataFrame({"a": rng.random(n), "b": rng.random(n),
                           "policy": pd.Categorical(rng.choice(["p0", "p1", "p2"], n))})
    fails = ((inputs["a"] > 0.7) & (inputs["policy"] != "p0")).to_numpy()
    return inputs, fails ^ (rng.random(n) < noise)


def test_prim_finds_the_box_where_the_outcome_fails():
    inputs, fails = known_failures()
    box = find_failure_box(inputs, fails)
    limits = {limit.name: limit for limit in box.limits}
    assert set(limits) == {"a", "policy"}  # b has no bearing on failure: its restriction is dropped
    assert limits["a"].low == pytest.approx(0.7, abs=0.03) and limits["a"].high is None  # open above
    assert limits["a"].text() == f"{limits['a'].low:.4g} <= a"
    assert limits["policy"].categories == ("p1", "p2")
    assert box.coverage >= MIN_COVERAGE and box.coverage > 0.8 and box.density > 0.9
    assert box.mass == pytest.approx(0.2, abs=0.03)  # 0.3 x 2/3 of the runs
    assert all(limit.quasi_p < 1e-10 for limit in box.limits)
    assert box.runs_in_box == round(box.mass * len(inputs)) and box.failures_in_box == round(box.density * box.runs_in_box)


def test_prim_finds_no_region_in_pure_noise():
    rng = np.random.default_rng(3)
    inputs = pd.DataFrame({"a": rng.random(1500), "b": rng.random(1500)})
    box = find_failure_box(inputs, rng.random(1500) < 0.3)
    assert box.limits == () and box.coverage == 1.0 and box.density == pytest.approx(0.3, abs=0.03)


def test_prim_needs_both_outcomes():
    inputs, _ = known_failures(200)
    for fails in (np.zeros(200, bool), np.ones(200, bool)):
        with pytest.raises(ValueError, match="runs that fail and runs that do not"):
            find_failure_box(inputs, fails)


def test_the_chosen_box_balances_coverage_and_density_and_covers_half_the_failures():
    trajectory = pd.DataFrame({"coverage": [1.0, 0.9, 0.8, 0.8, 0.45], "density": [0.3, 0.6, 0.7, 0.7, 1.0],
                               "res_dim": [0, 1, 2, 1, 3]})
    # harmonic means 0.46, 0.72, 0.747, 0.747, 0.62: the tie goes to the box restricting fewer inputs
    assert choose_box(trajectory) == 3
    assert choose_box(trajectory, min_coverage=0.95) == 0
    dense = trajectory.assign(coverage=[1.0, 0.9, 0.8, 0.8, 0.7])  # now the last is eligible and best (0.82)
    assert choose_box(dense) == 4


# ---------------------------------------------------------------- the experiment's file and design
def test_an_experiment_crosses_every_policy_with_the_same_uncertainty_samples_and_seeds(tmp_path):
    spec = load_sweep(experiment_file(tmp_path, samples=5, seeds=3, header='seed_policy = "independent"'))
    assert spec.policies == ("none", "digital") and spec.names[0] == "policy"
    design = build_design(spec)
    assert design.shape == (10, 3) == (sample_count(spec), len(spec.inputs))
    assert list(design[:, 0]) == [0.0] * 5 + [1.0] * 5
    np.testing.assert_array_equal(design[:5, 1:], design[5:, 1:])  # the same samples under each policy
    assert len(np.unique(design[:5, 1])) == 5  # a Latin hypercube: one point per stratum
    assert 0.0 <= design[:, 1].min() and design[:, 1].max() <= 7.0
    assert [sample_seeds(spec, i) for i in range(5)] == [sample_seeds(spec, i) for i in range(5, 10)]
    assert sample_seeds(spec, 0) != sample_seeds(spec, 1)  # independent across samples, common across policies
    assert spec.model.policies[1][1]["digital_subsidy"].intensity == 0.3 and spec.model.policies[0][1] == {}


BAD_EXPERIMENTS = {
    "no policies": ({"policies": ""}, "policies", "missing: a table [policies.NAME]"),
    "unknown lever": ({"policies": "[policies.x.levers.digital_subsidyy]\nintensity = 0.3\n"},
                      "policies.x.levers.digital_subsidyy", "did you mean 'digital_subsidy'"),
    "lever out of range": ({"policies": "[policies.x.levers.digital_subsidy]\nintensity = 3.0\n"},
                           "policies.x.levers.digital_subsidy.intensity", "out of bounds"),
    "unknown policy key": ({"policies": "[policies.x]\nlever = {}\n"}, "policies.x.lever", "did you mean 'levers'"),
    "lever as uncertainty": ({"inputs": UNCERTAINTIES + '[inputs."levers.digital_subsidy.intensity"]\n'},
                             "inputs.levers.digital_subsidy.intensity", "set by its [policies]"),
    "unknown goal": ({"header": 'goals = ["carbon_peek"]'}, "goals", "did you mean 'carbon_peak'"),
    "unmeasured goal": ({"header": 'goals = ["carbon_neutrality_goal"]'}, "goals", "is not measured"),
    "unknown macro path": ({"inputs": '[inputs."macro.world_demand_grwth.2023-2035"]\nbounds = [0, 5]\n'},
                           'inputs.macro.world_demand_grwth.2023-2035', "did you mean 'world_demand_growth'"),
    "macro years": ({"inputs": '[inputs."macro.world_demand_growth.2023-2040"]\nbounds = [0, 5]\n'},
                    "inputs.macro.world_demand_growth.2023-2040", "years must lie in 2013-2035"),
    "macro bound": ({"inputs": '[inputs."macro.world_demand_growth.2023-2035"]\nbounds = [0, 50]\n'},
                    "inputs.macro.world_demand_growth.2023-2035.bounds", "out of bounds: allowed -30 to 40"),
    "macro without years": ({"inputs": '[inputs."macro.world_demand_growth"]\nbounds = [0, 5]\n'},
                            "inputs.macro.world_demand_growth", "name the years"),
}


@pytest.mark.parametrize("case", BAD_EXPERIMENTS)
def test_a_bad_experiment_gives_one_line_naming_file_and_key(tmp_path, capsys, case):
    changes, key, message = BAD_EXPERIMENTS[case]
    path = experiment_file(tmp_path, **changes)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and str(path) in line and key in line and message in line, line
    assert not (tmp_path / "out").exists()


def test_policies_and_goals_belong_to_experiments(tmp_path):
    path = tmp_path / "lhs.toml"
    path.write_text(f'scenario = "{BASELINE}"\nmethod = "lhs"\ngoals = ["carbon_peak"]\n{UNCERTAINTIES}{OUTPUTS}')
    with pytest.raises(SweepError, match="goals: goals belong to method 'experiment'"):
        load_sweep(path)


# ---------------------------------------------------------------- macro values as sweep inputs
def test_a_macro_input_runs_as_the_same_macro_override_in_a_scenario_file(tmp_path):
    path = tmp_path / "macro.toml"
    path.write_text(f'scenario = "{BASELINE}"\nmethod = "lhs"\nscale = {SCALE}\n[options]\nsamples = 2\n'
                    '[inputs."macro.world_demand_growth.2023-2035"]\nbounds = [0.0, 7.0]\n' + OUTPUTS)
    spec = load_sweep(path)
    baseline = spec.model.scenario.macro().growth["world_demand_growth"]
    assert spec.inputs[0].base == pytest.approx(100 * baseline[2023 - 2012:].mean())  # the scenario's own path
    swept = spec.model.evaluate({"macro.world_demand_growth.2023-2035": 1.5}, 2)
    scenario = tmp_path / "slow_world.toml"
    scenario.write_text(f'extends = "{BASELINE}"\n[macro.world_demand_growth]\n"2023-2035" = 1.5\n')
    from sim.runner import simulate
    from sim.scenario import load_scenario

    direct = simulate(load_scenario(scenario), 2, SCALE)
    for name in ("industrial_va_real", "exports"):
        np.testing.assert_array_equal(swept[name], direct[name].values[0])
    assert swept["exports"][-1] < spec.model.evaluate({"macro.world_demand_growth.2023-2035": 6.0}, 2)["exports"][-1]


# ---------------------------------------------------------------- a whole experiment, tiny
@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("experiment")
    path = experiment_file(tmp_path, header='goals = ["manufacturing_share_held", "carbon_peak"]')
    out = tmp_path / "out"
    status = main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    return path, out / "experiment", status


def test_an_experiment_writes_one_dataset_by_policy_sample_and_run(experiment):
    path, directory, status = experiment
    assert status == 0
    dataset = xr.load_dataset(directory / "results.nc")
    assert dataset["industrial_va_real"].dims == ("policy", "sample", "run", "year")
    assert list(dataset["policy"].values) == ["none", "digital"] and dataset.sizes["sample"] == 2
    spec = load_sweep(path)
    design = build_design(spec)
    np.testing.assert_array_equal(dataset["entry_rate"].values, design[:2, 2])  # uncertainty values along sample
    # the no-lever policy is the base scenario under the sample's uncertainties, bit for bit
    inputs = {name: float(dataset[name].values[1]) for name in spec.names[1:]}
    alone = spec.model.evaluate({"policy": 0.0, **inputs}, 1)
    np.testing.assert_array_equal(dataset["industrial_va_real"].sel(policy="none").values[1, 0], alone["industrial_va_real"])
    assert not np.array_equal(dataset["industrial_va_real"].sel(policy="digital").values,
                              dataset["industrial_va_real"].sel(policy="none").values)  # the lever is pulled


def test_an_experiment_reports_policies_goals_and_where_goals_fail(experiment):
    path, directory, _ = experiment
    table = pd.read_csv(directory / "experiment.csv")
    assert list(table["policy"]) == ["none", "digital"]
    assert table.loc[0, "difference_mean"] == 0.0 and table.loc[1, "difference_mean"] != 0.0
    goals = pd.read_csv(directory / "experiment_goals.csv")
    assert set(goals["goal"]) == {"manufacturing_share_held", "carbon_peak"} and (goals["runs"] == 2).all()
    prim = pd.read_csv(directory / "experiment_prim.csv", keep_default_na=False)
    assert set(prim["goal"]) == {"manufacturing_share_held", "carbon_peak"}
    report = (directory / "report.html").read_text()
    for section in ("Outcomes by policy", "Where goals fail (PRIM)", "coverage", "density", "digital_subsidy=0.3"):
        assert section in report
    assert (directory / "outcomes.png").stat().st_size > 10_000


def test_an_experiment_resumes_without_running_again(experiment, capsys):
    path, directory, _ = experiment
    before = xr.load_dataset(directory / "results.nc")
    result = run_sweep(load_sweep(path), directory.parent, resume=True, progress=False, workers=1)
    assert result.evaluated == 0 and result.reused == 4
    xr.testing.assert_identical(result.dataset.drop_attrs(), before.drop_attrs())


def test_an_experiment_on_the_process_pool_and_on_dask_equals_the_serial_one(experiment, tmp_path):
    from distributed import LocalCluster

    path, directory, _ = experiment
    serial = xr.load_dataset(directory / "results.nc")
    spec = load_sweep(path)
    pooled = run_sweep(spec, tmp_path / "pool", workers=2, progress=False, checkpoint=0)
    assert pooled.executor.startswith("process pool")
    xr.testing.assert_identical(pooled.dataset, serial)
    # a scheduler and one worker process of their own on 127.0.0.1 (the machine has two cores)
    with LocalCluster(host="127.0.0.1", n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        distributed = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert distributed.executor.startswith("dask") and distributed.dataset["industrial_va_real"].dims[0] == "policy"
    xr.testing.assert_identical(distributed.dataset, serial)
