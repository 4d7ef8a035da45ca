"""Calibration: moments measured as the statistics define them, the optimizer on a known answer,
the committed calibrated set within bounds, and the calibrated baseline near the documents."""

import tomllib

import numpy as np
import pytest
import xarray as xr

from sim import calibrate as calibration
from sim.calibration_data import Target
from sim.parameters import CALIBRATED_FILE, load_declaration


def target(**fields):
    base = dict(key="k", value=1.0, unit="trillion RMB", year="2022", document="d", quote="q", measure="exports",
                role="fit", derivation="")
    return Target(**{**base, **fields})


def tiny_dataset():
    years = np.arange(2012, 2036)
    runs = [1, 2]
    growth = np.linspace(1.0, 2.0, years.size)
    data = {
        "exports": (("run", "year"), np.vstack([10 * growth, 12 * growth]), {"units": "trillion RMB"}),
        "rd_spend_mfg": (("run", "year"), np.vstack([growth, 2 * growth]), {"units": "trillion RMB"}),
        "sme_digital_stage_share": (("run", "year", "digital_stage"), np.full((2, years.size, 2), 0.5), {"units": "share"}),
    }
    return xr.Dataset(data, coords={"run": runs, "year": years, "digital_stage": ["initial_exploration", "other"]})


def test_measure_reads_levels_ratios_and_stage_shares():
    dataset = tiny_dataset()
    assert calibration.measure(dataset, target(measure="exports", year="2012")) == pytest.approx([10, 12])
    ratio = calibration.measure(dataset, target(measure="stat:rd_spend_mfg_ratio_2022_2012", year="2012-2022", unit="ratio"))
    expected = np.interp(2022, dataset.year, np.linspace(1.0, 2.0, 24)) / 1.0
    assert ratio == pytest.approx([expected, expected])
    share = calibration.measure(dataset, target(measure="sme_digital_stage_share[initial_exploration]", unit="%",
                                                year="present (2023)"))
    assert share == pytest.approx([50.0, 50.0])
    with pytest.raises(KeyError):
        calibration.measure(dataset, target(measure="none"))


def test_target_years_and_tolerances():
    settings = calibration.load_settings(quick=True)
    assert calibration.target_year(target(year="2023 Q1-Q3")) == 2023
    assert calibration.target_year(target(year="present (2023)")) == 2023
    assert calibration.tolerance(target(unit="%", value=30.0), settings) == 1.0
    assert calibration.tolerance(target(unit="count", value=200.0), settings) == pytest.approx(10.0)


def test_every_fit_target_is_measurable_on_a_result():
    from sim.indicators import VARIABLES

    for t in calibration.fit_targets():
        name = t.measure.split(":")[1] if t.measure.startswith("mean:") else t.measure.partition("[")[0]
        assert name in VARIABLES or name in calibration.DERIVED_PATHS or name in (
            "stat:rd_spend_mfg_ratio_2022_2012", "stat:electromechanical_exports"), t.key


def test_firm_turnover_is_a_share_of_last_years_firms_and_a_moment_keeps_its_own_tolerance():
    years = np.arange(2012, 2016)
    dataset = xr.Dataset({"n_firms": (("run", "year"), [[100.0, 110.0, 120.0, 100.0]]),
                          "n_entries": (("run", "year"), [[0.0, 20.0, 22.0, 12.0]]),
                          "n_exits": (("run", "year"), [[0.0, 10.0, 12.0, 30.0]])}, coords={"run": [1], "year": years})
    entry = calibration.DERIVED_PATHS["firm_entry_rate"](dataset)
    assert list(entry["year"].values) == [2013, 2014, 2015] and entry.values[0] == pytest.approx([20.0, 20.0, 10.0])
    assert calibration.DERIVED_PATHS["firm_exit_rate"](dataset).values[0] == pytest.approx([10.0, 12.0 / 1.1, 25.0])
    moment = [t for t in calibration.literature_targets() if t.key == "firm_entry_rate_mean_2013_2022"][0]
    assert moment.measure == "mean:firm_entry_rate:2013:2022" and moment.role == "check"
    assert moment not in calibration.fit_targets()  # a check is reported, not fitted
    assert calibration.tolerance(moment, calibration.load_settings()) == 5.0  # its range, not the 1-point rule of shares
    yearly = np.concatenate([[0.0], np.full(23, 12.0)])
    wide = xr.Dataset({"n_firms": (("run", "year"), [np.full(24, 100.0)]), "n_entries": (("run", "year"), [yearly]),
                       "n_exits": (("run", "year"), [yearly])}, coords={"run": [1], "year": np.arange(2012, 2036)})
    assert calibration.measure(wide, moment) == pytest.approx([12.0])


def test_optimizer_finds_a_known_minimum(monkeypatch):
    """Sobol search and block Nelder-Mead on a quadratic distance with a known minimum."""
    declared = load_declaration()
    free = ("entry_rate", "exit_revenue", "digital_max_rate")
    optimum = {name: declared[name].lower + 0.37 * (declared[name].upper - declared[name].lower) for name in free}

    def fake_run(args):
        values, seed, scale = args
        return values

    def fake_score(runs, settings):
        values = runs[0]
        errors = np.array([(values[n] - optimum[n]) / (declared[n].upper - declared[n].lower) for n in free])
        return float(np.sum(errors**2)), errors

    monkeypatch.setattr(calibration, "_run_task", fake_run)
    monkeypatch.setattr(calibration, "score", fake_score)
    settings = calibration.Settings(free=free, seeds=(1,), scale=0.01, search_points=32, rounds=3, block_evaluations=60,
                                    blocks=(free[:2], free[2:]), relative_tolerance=0.05, share_tolerance=1.0,
                                    small_share_tolerance=0.1)
    result = calibration.calibrate(settings, workers=1, progress=lambda message: None)
    for name in free:
        span = declared[name].upper - declared[name].lower
        assert result.values[name] == pytest.approx(optimum[name], abs=0.01 * span)
    assert result.loss < 1e-3


@pytest.mark.skipif(not CALIBRATED_FILE.exists(), reason="no calibrated parameter set committed yet")
def test_calibrated_parameters_lie_within_their_bounds():
    with open(CALIBRATED_FILE, "rb") as handle:
        raw = tomllib.load(handle)
    declared = load_declaration()
    assert raw["values"], "empty calibrated set"
    for name, value in raw["values"].items():
        assert declared[name].lower <= value <= declared[name].upper, name
    for field in ("date", "distance", "git_commit", "seeds", "scale"):
        assert field in raw["meta"]


# An out-of-sample check of the committed calibration: its scale (0.02) but five seeds it never saw
# (6-10). Single runs vary a lot (one large firm can move a market's growth or the SEI share by
# points), so the stated tolerance here is three times the calibration's (5% of levels, 1 point of
# shares, at most 10% of a small share). Scale 0.01 is too coarse for this: the emerging segments
# then hold too few rows (SEI share 14-15% there against 11-13% at 0.02 to 0.5, seeds 4 and 5).
LOOSER = 3.0
FRESH_SEEDS = (6, 7, 8, 9, 10)


@pytest.mark.skipif(not CALIBRATED_FILE.exists(), reason="no calibrated parameter set committed yet")
def test_calibrated_baseline_hits_the_fit_targets_on_fresh_seeds():
    from sim.runner import simulate
    from sim.scenario import load_scenario

    scenario = load_scenario("scenarios/baseline.toml")
    scale = calibration.load_settings().scale
    dataset = xr.concat([simulate(scenario, seed, scale=scale) for seed in FRESH_SEEDS], dim="run")
    rows = [row for row in calibration.fit_table(dataset, calibration.load_settings()) if row.role == "fit"]
    assert len(rows) == len(calibration.fit_targets())
    missed = [f"{row.key}: model {row.model_mean:.4g} vs document {row.document:.4g} ({row.standardized:+.1f} tolerances)"
              for row in rows if abs(row.standardized) > LOOSER]
    assert not missed, missed
