"""`sim compare`: common random numbers, differences with bands, goal checks, the NetCDF it writes."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sim.cli import main
from sim.goals import Goal, check_goal, load_goals, load_reading, met_before_projection, peak_year, series

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "calibration" / "documents"
BASELINE = ROOT / "scenarios" / "baseline.toml"


pytestmark = pytest.mark.usefixtures("declared_defaults")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """baseline, an identical copy under another name, and a digital-subsidy scenario: 2 seeds, scale 0.01."""
    folder = tmp_path_factory.mktemp("compare")
    copy = folder / "copy.toml"
    copy.write_text(f'extends = "{BASELINE}"\nname = "same_as_baseline"\n')
    subsidy = folder / "subsidy.toml"
    subsidy.write_text(f'extends = "{BASELINE}"\nname = "subsidy"\n[levers.digital_subsidy]\nstart_year = 2018\nintensity = 0.5\n')
    out = folder / "out"
    out.mkdir()
    args = ["compare", str(BASELINE), str(copy), str(subsidy), "--seeds", "2", "--scale", "0.01", "--out", str(out)]
    return args, out, out / "compare_baseline_vs_same_as_baseline_subsidy.nc"


def test_compare_prints_the_tables_and_writes_one_netcdf_with_a_scenario_dimension(compared, capsys):
    args, out, path = compared
    assert main(args) == 0
    printed = capsys.readouterr().out
    for text in ("Differences from 'baseline'", "2025", "2030", "2035", "[5%, 95%]", "sme_digital_stage_share[initial_exploration]",
                 "RMB of manufacturing value added per RMB of fiscal cost", "sei_share_gdp in 2025 at least 17 %",
                 "industrial_co2 peak year", "new industrialization basically achieved by 2035",
                 "industrial_ppi", "capacity_utilization", "Lever responses against 'baseline'",
                 "subsidy: digital_subsidy: labour productivity of industry (%)", "adopters' TFP +2-5%"):
        assert text in printed, text
    assert sorted(p.name for p in out.iterdir()) == [path.name]
    with xr.open_dataset(path) as dataset:
        assert list(dataset["scenario"].values) == ["baseline", "same_as_baseline", "subsidy"]
        assert list(dataset["seed"].values) == [1, 2] and dataset.attrs["reference_scenario"] == "baseline"
        assert dataset["manufacturing_va"].dims == ("scenario", "run", "year")
        assert dataset["goal_met"].dims == ("scenario", "run", "goal")
        assert "new_industrialization_basic_goal" in dataset["goal"].values
        assert dataset["fiscal_cost"].sel(scenario="subsidy", lever="digital_subsidy").sum() > 0
        # common random numbers: a scenario identical to the reference differs by exactly nothing
        for name in ("manufacturing_va", "industrial_co2", "sme_digital_stage_share"):
            xr.testing.assert_identical(dataset[name].sel(scenario="same_as_baseline", drop=True),
                                        dataset[name].sel(scenario="baseline", drop=True))
        assert np.all(np.isnan(dataset["cost_effectiveness"].sel(scenario=["baseline", "same_as_baseline"])))
        assert np.all(np.isfinite(dataset["cost_effectiveness"].sel(scenario="subsidy")))
        # the lever-response table is stored with the result: the subsidy's measures only, one value per run
        assert dataset["lever_response"].dims == ("response", "run")
        assert all(str(label).startswith("subsidy: digital_subsidy: ") for label in dataset["response"].values)
        assert np.all(np.isfinite(dataset["lever_response"]))
        first_stage = dataset["sme_digital_stage_share"].sel(digital_stage="initial_exploration", year=2030)
        assert np.all(first_stage.sel(scenario="subsidy") < first_stage.sel(scenario="baseline"))


def test_compare_refuses_to_overwrite_and_bad_calls_exit_2(compared, capsys):
    args, out, path = compared
    if not path.exists():
        assert main(args) == 0
    before = path.read_bytes()
    assert main(args) == 2 and "--overwrite" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert main(["compare", str(BASELINE), "--out", str(out)]) == 2
    assert "at least two scenario files" in capsys.readouterr().err
    assert main(["compare", str(BASELINE), str(BASELINE), "--out", str(out)]) == 2
    assert "given twice" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [path.name]


def goal(kind, variable, year, value):
    return Goal(key="g", kind=kind, variable=variable, year=year, value=value, unit="%", period=str(year), document="", quote="")


def test_one_goal_model_reads_every_kind_on_a_known_series():
    years = np.arange(2012, 2036)
    rising = xr.Dataset({"hightech_share": (("run", "year"), [np.linspace(9, 25, years.size), np.linspace(9, 20, years.size)]),
                         "industrial_co2": (("run", "year"), [np.where(years <= 2028, years - 2000.0, 20.0), years - 2000.0])},
                        coords={"run": [1, 2], "year": years})
    assert list(goal("at_least", "hightech_share", 2035, 21.7).met(rising).values) == [True, False]
    assert list(goal("at_most", "hightech_share", 2035, 21.7).met(rising).values) == [False, True]
    assert list(goal("min_from", "hightech_share", 2024, 15.0).met(rising).values) == [True, False]
    assert list(goal("stable", "hightech_share", 2034, 24.0).met(rising).values) == [True, False]  # 24.3, 25 vs 19.5, 20
    peak = goal("peak_by", "industrial_co2", 2030, 2030)
    assert list(peak_year(rising["industrial_co2"]).values) == [2028, 2035]
    assert list(peak.met(rising).values) == [True, False]  # a series still rising at the end has not peaked
    assert check_goal(peak, rising).share_met == 0.5 and not check_goal(peak, rising).before_projection
    # a peak in a back-cast year (to 2022) in every run: met before the projection starts, not a probability
    early = rising.assign(industrial_co2=(("run", "year"), [np.where(years <= 2016, years - 2000.0, 10.0)] * 2))
    assert list(met_before_projection(peak, early).values) == [True, True]
    assert check_goal(peak, early).before_projection and check_goal(peak, early).model_value == "peak in 2016, a back-cast year"
    assert not met_before_projection(goal("at_least", "hightech_share", 2035, 1.0), rising).any()  # a 2035 level is a projection
    assert list(goal("at_least", "hightech_share", 2040, 1.0).met(rising).values) == [False, False]  # not simulated
    assert series(rising, "hightech_share").equals(rising["hightech_share"])


def test_official_goals_and_the_2035_reading_are_one_kind_of_goal():
    every = [*load_goals(), *load_reading()]
    assert all(isinstance(g, Goal) for g in every)
    assert {g.kind for g in every} <= {"at_least", "at_most", "stable", "min_from", "peak_by", "unmeasured"}
    assert {g.kind for g in load_reading()} >= {"at_least", "min_from", "peak_by"}


def test_the_reading_of_2035_quotes_the_documents_verbatim():
    criteria = load_reading()
    assert len(criteria) >= 6 and len({c.key for c in criteria}) == len(criteria)
    for criterion in criteria:
        text = " ".join((DOCS / criterion.document).read_text(encoding="utf-8").split())
        assert " ".join(criterion.quote.split()) in text, criterion.key


def test_a_diverging_seed_is_dropped_from_every_scenario(monkeypatch):
    from sim import runner
    from sim.compare import run_comparison
    from sim.errors import ModelDivergence
    from sim.scenario import load_scenario

    real = runner.simulate

    def simulate(scenario, seed, scale=None, use_calibrated=True):
        if scenario.name == "zero_levers" and seed == 2:
            raise ModelDivergence("2027: nan entrants expected")
        return real(scenario, seed, scale)

    monkeypatch.setattr(runner, "simulate", simulate)
    warnings = []
    scenarios = [load_scenario(BASELINE), load_scenario(ROOT / "tests" / "data" / "levers" / "valid_levers.toml")]
    dataset = run_comparison(scenarios, [1, 2], 0.01, warn=warnings.append)
    assert list(dataset["seed"].values) == [1] and dataset.sizes["run"] == 1
    assert "2 (zero_levers: 2027" in dataset.attrs["dropped_seeds"] and "seed 2 diverged" in warnings[0]


def test_plot_and_report_read_a_comparison_as_differences_with_their_bands(compared, tmp_path, capsys):
    from sim.results import differences

    args, out, path = compared
    if not path.exists():
        assert main(args) == 0
    capsys.readouterr()
    with xr.open_dataset(path) as dataset:
        gaps = differences(dataset.load())
        assert list(gaps) == ["same_as_baseline - baseline", "subsidy - baseline"]
        assert float(abs(gaps["same_as_baseline - baseline"]["manufacturing_va"]).max()) == 0.0
        expected = dataset["manufacturing_va"].sel(scenario="subsidy", drop=True) - dataset["manufacturing_va"].sel(scenario="baseline", drop=True)
        xr.testing.assert_allclose(gaps["subsidy - baseline"]["manufacturing_va"], expected)
    figures = tmp_path / "figures"
    assert main(["plot", str(path), "--out", str(figures)]) == 0
    names = sorted(p.name for p in figures.iterdir())
    assert f"{path.stem}_differences_effects.png" in names and f"{path.stem}_differences_growth.png" in names
    report = tmp_path / "report.html"
    assert main(["report", str(path), "-o", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    for part in ("Lever responses", "Differences from the reference", "digital_subsidy", "subsidy: digital_subsidy: labour productivity",
                 "data:image/png;base64,", "Official goals"):
        assert part in text, part
    # a comparison is shown alone: mixed with another result it is refused, nothing written
    other = tmp_path / "other.nc"
    other.write_bytes(path.read_bytes())
    capsys.readouterr()
    assert main(["plot", str(path), str(other), "--out", str(tmp_path / "mixed")]) == 2
    assert "shown alone" in capsys.readouterr().err
    assert not (tmp_path / "mixed").exists()
