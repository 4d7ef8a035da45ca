"""The model as a whole: conservation, accounting, determinism, the baseline at a small scale."""

import numpy as np
import pytest
import xarray as xr

from sim.indicators import CONTRACT, VARIABLES
from sim.output import run_dataset
from sim.runner import simulate
from sim.scenario import load_scenario


def test_aggregates_equal_weighted_sums_of_firms(small_model):
    f = small_model.firms
    record = small_model.records[-1]
    w = np.where(f.alive, f.weight, 0.0).astype(np.float64)
    assert record["industrial_va"] == pytest.approx(np.sum(w * f.value_added) / 1e6, rel=1e-9)
    assert record["n_above_scale"] == pytest.approx(np.sum(w[f.revenue >= 20.0]), rel=1e-9)
    assert record["exports"] == pytest.approx(np.sum(w * f.revenue * f.export_share) / 1e6, rel=1e-6)
    assert record["n_firms"] == pytest.approx(w.sum(), rel=1e-9)
    assert record["va_by_industry"].sum() == pytest.approx(record["industrial_va"], rel=1e-9)
    assert record["sme_digital_stage_share"].sum() == pytest.approx(1.0)


def test_firm_accounting_start_plus_entries_minus_exits(small_model):
    records = small_model.records
    for before, after in zip(records, records[1:]):
        assert after["n_firms"] == pytest.approx(before["n_firms"] + after["n_entries"] - after["n_exits"], rel=1e-6)
    assert sum(r["n_exits"] for r in records) > 0 and sum(r["n_entries"] for r in records) > 0


def test_exit_removes_exactly_its_weight(small_model):
    f = small_model.firms
    assert np.all(f.weight[~f.alive] == 0.0)
    assert np.all(f.market_share[~f.alive] == 0.0)


def test_market_shares_sum_to_one(small_model):
    f = small_model.firms
    markets = small_model._markets()
    held = np.bincount(markets, weights=np.where(f.alive, f.weight * f.market_share.astype(np.float64), 0.0), minlength=small_model.n_markets)
    occupied = held > 0
    np.testing.assert_allclose(held[occupied], 1.0, rtol=1e-5)


def test_same_seed_same_dataset_bit_for_bit():
    scenario = load_scenario("scenarios/baseline.toml")
    first = simulate(scenario, seed=11, scale=0.01)
    second = simulate(scenario, seed=11, scale=0.01)
    xr.testing.assert_identical(first, second)
    other = simulate(scenario, seed=12, scale=0.01)
    assert not other["industrial_va"].equals(first["industrial_va"])


def test_threads_do_not_change_results():
    """Row chunks run on threads sum into their own slots, added in chunk order (sim/parallel.py)."""
    from sim import parallel
    from sim.macro import build_macro
    from sim.model import IndustryModel
    from sim.parameters import resolve

    runs = []
    for threads in (1, 2):
        model = IndustryModel(resolve(), build_macro(), seed=5, scale=0.12, threads=threads)
        for _ in range(3):
            model.step()
        runs.append(model)
    assert runs[0].firms.capacity > 2 * parallel.CHUNK_ROWS  # several chunks, so threads really share the work
    for name, column in runs[0].firms.columns():
        np.testing.assert_array_equal(column, getattr(runs[1].firms, name), err_msg=name)
    for first, second in zip(runs[0].records, runs[1].records):
        for key in first:
            np.testing.assert_array_equal(first[key], second[key], err_msg=key)


def test_baseline_dataset_meets_the_data_contract(small_model):
    dataset = run_dataset(small_model.records, small_model.seed)
    assert list(dataset["year"].values) == list(range(2012, 2036))
    for name in CONTRACT:
        assert name in dataset, name
        assert dataset[name].attrs["units"] and dataset[name].attrs["long_name"]
        assert dataset[name].dims[:2] == ("run", "year")
        assert not np.isnan(dataset[name].values).any(), name
    assert set(VARIABLES) <= set(dataset.data_vars)


def test_baseline_is_plausible_in_order_of_magnitude(small_model):
    first, y2022 = small_model.records[0], small_model.records[10]
    assert first["n_above_scale"] == pytest.approx(344_000, rel=1e-6)
    assert first["manufacturing_va"] == pytest.approx(16.75, rel=1e-6)
    # 2022 within a factor of two of the documents' figures (calibration tightens this).
    for name, document in [("manufacturing_va", 33.5), ("n_above_scale", 451_000), ("exports", 24.0), ("industrial_va", 40.16)]:
        assert document / 2 < y2022[name] < document * 2, name
    for record in small_model.records:
        assert 0 < record["hightech_share"] < 100 and 0 < record["manufacturing_share_gdp"] < 100
        assert -30 < record["above_scale_va_growth"] < 40


def test_compiled_rules_are_cached_per_version_of_the_sources(tmp_path):
    """Numba checks only a function's own file, so the cache directory is keyed by every source file:
    editing any rule starts a fresh cache (a stale caller of an edited rule cannot be loaded)."""
    import sim

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "market.py").write_text("x = 1\n")
    (tmp_path / "model.py").write_text("y = 1\n")
    before = sim._compiled_cache_dir(tmp_path)
    assert sim._compiled_cache_dir(tmp_path) == before
    (tmp_path / "rules" / "market.py").write_text("x = 2\n")
    assert sim._compiled_cache_dir(tmp_path) != before


def test_first_year_prices_move_with_world_input_prices_only():
    """Nothing is known of productivity growth before 2012, and prices are set on last year's wage,
    so in 2013 every market's value-added price stays at 1 (before the fix, wage growth alone raised
    unit labour cost by 11.5% and cut 2013 exports by an eighth): output prices move with world input
    prices at the intermediate share, China's export shares by exactly what that relative price
    asks. From 2014 on markets' prices move apart with their productivity."""
    from sim.macro import build_macro
    from sim.model import IndustryModel
    from sim.parameters import resolve
    from sim.rules import trade

    macro, params = build_macro(), resolve()
    model = IndustryModel(params, macro, seed=1, scale=0.005)
    exports_2012, world_2012 = model.export_demand.copy(), model.world_export_demand.copy()
    model.step()
    np.testing.assert_array_equal(model.va_price, np.ones(model.n_markets))
    va_ratio = model.va_ratio[model.market_industry]
    world_inputs = 1.0 + macro.rate("world_price_growth", 2013)
    np.testing.assert_allclose(model.output_price, world_inputs ** (1.0 - va_ratio), rtol=1e-12)
    target = trade.target_log_odds(trade.log_odds_of(exports_2012, world_2012), model.output_price / world_inputs,
                                   np.ones(model.n_markets), params["export_price_elasticity"], params["export_technology_elasticity"])
    expected, _ = trade.exports_from_share(exports_2012, world_2012, target, params["export_adjustment_rate"],
                                           macro.rate("world_demand_growth", 2013))
    np.testing.assert_allclose(model.export_demand, expected, rtol=1e-12)
    model.step()
    assert np.ptp(model.va_price) > 1e-3  # markets' prices now move apart
