"""`sim calibrate --report`: the fit figure (one panel per measured fit and check target), the
stylized facts printed and drawn, and known answers for the statistics behind them."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.image import imread

from sim.calibrate import fit_table, load_settings, measure, measured_year, moment_targets, trajectory
from sim.calibration_data import load_targets
from sim.calibration_report import facts_figure, facts_text, fit_figure, growth_verdict, measured_targets
from sim.cli import main
from sim.commands.calibrate import FACTS_FIGURE, FIT_FIGURE, FIT_TABLE
from sim.runner import simulate
from sim.scenario import load_scenario
from sim.stylized_facts import growth_fit, hill_tail_exponent, volatility_size_slope

SCALE, SEEDS = 0.005, ("--seeds", "2")
FACT_NAMES = ("firm size tail exponent", "excess kurtosis", "Laplace minus normal log-likelihood", "volatility vs size",
              "90/10 ratio", "private minus state-owned")


@pytest.fixture(scope="module")
def dataset():
    scenario = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml")
    return xr.concat([simulate(scenario, seed, SCALE) for seed in (1, 2)], dim="run")


def test_measure_reads_the_trajectory_at_the_targets_year(dataset):
    for target, path in measured_targets(dataset):
        if target.measure.startswith("mean:"):  # a history or literature moment: the path's mean over its years
            _, _, first, last = target.measure.split(":")
            expected = path.sel(year=slice(int(first), int(last))).mean("year").values
        else:
            expected = path.sel(year=measured_year(target)).values
        assert np.array_equal(measure(dataset, target), expected, equal_nan=True), target.key
    ratio = load_targets()["rd_spend_mfg_ratio_2022_2012"]
    spend = dataset["rd_spend_mfg"]
    assert np.allclose(measure(dataset, ratio), spend.sel(year=2022) / spend.sel(year=2012))
    assert np.allclose(trajectory(dataset, ratio).sel(year=2012), 1.0)


def test_fit_figure_has_one_panel_per_measured_fit_and_check_target(dataset):
    rows = fit_table(dataset, load_settings())
    figure = fit_figure(dataset, "fit")
    titles = [axis.get_title().splitlines()[0] for axis in figure.axes]
    assert sorted(titles) == sorted(row.key for row in rows)
    assert {"manufacturing_va_2022", "n_srdi_2023", "rd_spend_mfg_ratio_2022_2012", "hightech_share_2023q1q3"} <= set(titles)
    roles = {t.key: t.role for t in [*load_targets().values(), *moment_targets()]}
    assert all(roles[key] in ("fit", "check") for key in titles)
    first = figure.axes[titles.index("manufacturing_va_2022")]
    assert first.get_ylabel() == "trillion RMB" and len(first.collections) >= 1  # the band over runs


def test_facts_figure_and_text(dataset):
    figure = facts_figure(dataset, "facts")
    assert len(figure.axes) == 6
    size_axis, growth_axis = figure.axes[:2]
    assert size_axis.get_xscale() == "log" and size_axis.get_yscale() == "log"
    assert {"normal, fitted", "Laplace, fitted"} <= {line.get_label() for line in growth_axis.get_lines()}
    text = facts_text(dataset)
    for name in FACT_NAMES:
        assert name in text
    assert "fits better" in growth_verdict(dataset)


def test_report_writes_the_table_and_both_figures(tmp_path, capsys):
    assert main(["calibrate", "--report", *SEEDS, "--scale", str(SCALE), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for name in (*FACT_NAMES, "Axtell (2001)", "Hsieh and Klenow (2009)", "fit targets within tolerance"):
        assert name in printed
    for name in (FIT_FIGURE, FACTS_FIGURE):
        path = tmp_path / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert imread(path).shape[0] > 500
    assert (tmp_path / FIT_TABLE).is_file()


def test_an_existing_figure_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / FACTS_FIGURE).write_bytes(b"earlier")
    assert main(["calibrate", "--report", *SEEDS, "--scale", str(SCALE), "--out", str(tmp_path)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [FACTS_FIGURE] and (tmp_path / FACTS_FIGURE).read_bytes() == b"earlier"


# ---------------------------------------------------------------- known answers
def test_growth_fit_tells_a_laplace_from_a_normal():
    rng = np.random.default_rng(20240101)
    ones = np.ones(20000)
    laplace = growth_fit(rng.laplace(0.05, 0.2, ones.size), ones)
    normal = growth_fit(rng.normal(0.05, 0.2, ones.size), ones)
    assert laplace.laplace_gain > 0.02 and normal.laplace_gain < -0.02
    assert laplace.excess_kurtosis == pytest.approx(3.0, abs=0.6) and normal.excess_kurtosis == pytest.approx(0.0, abs=0.15)
    assert laplace.median == pytest.approx(0.05, abs=0.01) and laplace.laplace_scale == pytest.approx(0.2, rel=0.03)
    assert normal.mean == pytest.approx(0.05, abs=0.01) and normal.sd == pytest.approx(0.2, rel=0.03)
    sample = rng.laplace(0.0, 0.2, 1001)  # a weight of 2 counts a firm twice
    doubled = growth_fit(np.concatenate([sample, sample]), np.ones(2002))
    weighted = growth_fit(sample, np.full(1001, 2.0))
    assert weighted.sd == pytest.approx(doubled.sd) and weighted.excess_kurtosis == pytest.approx(doubled.excess_kurtosis)
    assert weighted.laplace_scale == pytest.approx(doubled.laplace_scale)


def test_hill_exponent_and_volatility_slope_known_answers():
    rng = np.random.default_rng(7)
    pareto = 1.0 + rng.pareto(1.5, 40000)  # Pareto with exponent 1.5 above 1
    assert hill_tail_exponent(pareto, np.ones(pareto.size)) == pytest.approx(1.5, rel=0.08)
    size = np.exp(rng.uniform(0.0, 10.0, 40000))
    growth = rng.normal(0.0, 0.5 * size ** -0.2)  # sd falls with size with exponent 0.2
    assert volatility_size_slope(growth, size, np.ones(size.size)) == pytest.approx(-0.2, abs=0.02)
    assert np.isnan(volatility_size_slope(growth[:30], size[:30], np.ones(30)))  # too few firms per bin
