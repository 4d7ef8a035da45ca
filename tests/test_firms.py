"""Firm columns as views of reserved buffers (sim.firms): entrants' rows and what the reserve changes."""

import numpy as np
import pytest

from sim import population
from sim.firms import FIRM_STATE, Firms
from sim.macro import build_macro
from sim.model import IndustryModel
from sim.parameters import resolve


def test_columns_hold_the_rows_in_use_of_a_larger_reserve():
    firms = Firms.empty(5, reserve=8)
    assert firms.capacity == 5 and firms.reserved == 8
    assert all(column.size == 5 for _, column in firms.columns())
    assert np.all(firms.productivity == 1.0) and not firms.alive.any()


def test_entrants_take_dead_rows_first_then_rows_past_the_end():
    firms = Firms.empty(4, reserve=6)
    firms.alive[:] = [True, False, True, True]
    firms.revenue[:] = [1.0, 0.0, 3.0, 4.0]
    rows = firms.free_rows(3)
    np.testing.assert_array_equal(rows, [1, 4, 5])
    assert firms.capacity == 6 and firms.reserved == 6  # within the reserve: no new buffer
    assert np.all(firms.productivity[4:] == 1.0) and not firms.alive[4:].any()
    firms.alive[rows] = True
    rows = firms.free_rows(2)  # past the reserve: buffers grown, rows kept
    np.testing.assert_array_equal(rows, [6, 7])
    assert firms.capacity == 8 and firms.reserved >= 8
    np.testing.assert_array_equal(firms.revenue[:4], [1.0, 0.0, 3.0, 4.0])
    assert np.all(firms.productivity[6:] == 1.0)
    assert all(column.size == 8 and column.dtype == np.dtype(FIRM_STATE[name][0]) for name, column in firms.columns())


def test_every_declared_column_follows_the_rows_and_the_reserve():
    """The model's columns are declared with the firm state: new rows take their dead-row value
    (the labour-cost factor 1), within the reserve and past it."""
    firms = Firms.empty(3, reserve=4)
    np.testing.assert_array_equal(firms.wage_factor, [1.0, 1.0, 1.0])
    firms.alive[:] = True
    firms.wage_factor[:] = 2.0
    firms.market_of[:] = 7
    firms.free_rows(3)  # one row within the reserve, then past it
    np.testing.assert_array_equal(firms.wage_factor, [2.0, 2.0, 2.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(firms.market_of, [7, 7, 7, 0, 0, 0])
    assert firms.bytes_per_firm() == sum(np.dtype(spec[0]).itemsize for spec in FIRM_STATE.values())


def test_the_bundle_holds_every_declared_column_by_name():
    firms = Firms.empty(4)
    bundle = firms.bundle()
    assert bundle._fields == tuple(FIRM_STATE)
    assert all(getattr(bundle, name) is getattr(firms, name) for name in FIRM_STATE)


@pytest.mark.parametrize("headroom", [1.0, 3.0])
def test_the_reserve_changes_no_result(monkeypatch, headroom):
    """No reserve (the buffers grow as entrants come) or a large one: the same run, bit for bit."""
    def run():
        model = IndustryModel(resolve(), build_macro(), seed=4, scale=0.01)
        model.run_to_end()
        return model
    reference, default = run(), population.CAPACITY_HEADROOM
    monkeypatch.setattr(population, "CAPACITY_HEADROOM", headroom)
    other = run()
    assert (other.firms.reserved > reference.firms.reserved) == (headroom > default)
    assert other.firms.capacity == reference.firms.capacity
    for year, (before, after) in enumerate(zip(reference.records, other.records), start=2012):
        for name, value in before.items():
            np.testing.assert_array_equal(np.asarray(after[name]), np.asarray(value), err_msg=f"{name} in {year}")
