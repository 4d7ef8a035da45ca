"""The demand closure (sim/rules/demand.py) and the decaying trends (sim/rules/trend.py) against
answers known in closed form: the structural-change mechanism (Ngai and Pissarides 2007), the GDP
identity, bounded shares, markups that fall with overcapacity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules import demand, trend
from sim.rules.demand import Economy

Params = demand.Params


def params(eta=0.5, kappa=2.0, normal=0.8):
    return Params(domestic_demand_elasticity_scale=1.0, emerging_elasticity_premium=0.0, domestic_price_elasticity=eta,
                  markup_utilization_elasticity=kappa, normal_utilization=normal)


def economy_2012():
    """Two markets of 10 and 20 (domestic value added) in a GDP of 100, of which 60 is the rest."""
    return Economy(np.array([10.0, 20.0]), np.ones(2), 100.0, 100.0, 60.0, 60.0)


def close(previous, va_price, rest_growth=1.05, eta=0.5, elasticity=np.ones(2), exports=(5.0, 5.0), capacity=(np.inf, np.inf)):
    """The closure with value-added ratios of 1 (revenue is value added) and the given capacity."""
    return demand.close(previous, np.asarray(va_price, dtype=float), previous.rest * rest_growth, previous.rest_real * rest_growth,
                        np.asarray(exports), np.ones(2), np.asarray(capacity, dtype=float), elasticity, params(eta)).economy


def test_unit_elasticities_and_unchanged_prices_keep_every_share_of_gdp():
    new = close(economy_2012(), [1.0, 1.0])
    assert new.domestic_value_added / new.gdp == pytest.approx([0.1, 0.2], rel=1e-9)
    # the GDP identity: rest + domestic value added + exports' value added
    assert new.gdp == pytest.approx(new.rest + new.domestic_value_added.sum() + 10.0, rel=1e-12)


def test_a_cheaper_market_sells_more_volume_at_a_smaller_nominal_share_when_demand_is_price_inelastic():
    before = economy_2012()
    base = close(before, [1.0, 1.0])
    cheaper = close(before, [0.9, 1.0])  # market 0's productivity rose 11%: its price fell 10%
    volume = lambda e: e.domestic_value_added / e.va_price  # noqa: E731
    assert volume(cheaper)[0] > volume(base)[0]  # Baumol: volume up ...
    assert cheaper.domestic_value_added[0] / cheaper.gdp < base.domestic_value_added[0] / base.gdp  # ... nominal share down
    assert cheaper.real_gdp > base.real_gdp  # and real GDP rises
    # eta = 1: the nominal share holds (relative to the deflator's own change) and volume moves one for one
    unit = close(before, [0.9, 1.0], eta=1.0)
    assert unit.domestic_value_added[0] / unit.gdp == pytest.approx(0.1, rel=1e-3)


def test_real_demand_moves_at_the_income_elasticity_with_real_gdp():
    before = economy_2012()
    rich = close(before, [1.0, 1.0], elasticity=np.array([2.0, 1.0]))
    growth = rich.real_gdp / before.real_gdp
    # the odds of market 0 against the rest grew as real GDP ** (2 - 1)
    odds = rich.domestic_value_added[0] / (rich.gdp - rich.domestic_value_added.sum())
    assert odds == pytest.approx(10.0 / 70.0 * growth, rel=1e-9)


def test_the_closure_has_converged_when_it_returns():
    before = economy_2012()
    new = close(before, [0.95, 1.02], elasticity=np.array([1.6, 0.8]))
    # one more pass from the solution changes nothing measurable: GDP = (rest + exports) / (1 - S)
    odds = demand.share_odds(before, new.real_gdp, new.gdp / new.real_gdp, new.va_price, np.array([1.6, 0.8]), params())
    gdp = (new.rest + 10.0) / (1.0 - odds.sum() / (1.0 + odds.sum()))
    assert gdp == pytest.approx(new.gdp, rel=1e-10)


def test_demand_beyond_capacity_is_imported_and_no_part_of_gdp():
    before = economy_2012()
    free = demand.close(before, np.ones(2), 63.0, 63.0, np.array([5.0, 5.0]), np.ones(2), np.full(2, np.inf), np.ones(2), params())
    # market 0 wants about 10.5 + 5 of revenue; give it capacity for 12 of it
    tight = demand.close(before, np.ones(2), 63.0, 63.0, np.array([5.0, 5.0]), np.ones(2), np.array([12.0, np.inf]), np.ones(2),
                         params())
    assert free.served == pytest.approx([1.0, 1.0])
    wanted = tight.economy.domestic_value_added[0] + 5.0
    assert tight.served[0] == pytest.approx(12.0 / wanted) and tight.served[1] == 1.0
    served_value_added = tight.served * (tight.economy.domestic_value_added + 5.0)
    assert tight.economy.gdp == pytest.approx(63.0 + served_value_added.sum(), rel=1e-10)
    assert tight.economy.gdp < free.economy.gdp


@pytest.mark.parametrize("rest_growth", [0.8, 1.0, 1.15])
def test_shares_stay_inside_zero_and_one_whatever_the_rest_of_the_economy_does(rest_growth):
    state = economy_2012()
    for _ in range(30):
        state = close(state, state.va_price * 0.97, rest_growth=rest_growth, elasticity=np.array([1.4, 0.9]))
        industry = state.domestic_value_added.sum() + 10.0  # nothing capacity-bound: all of demand is served
        assert 0.0 < industry / state.gdp < 1.0
        assert np.all(state.domestic_value_added > 0)


def test_markups_fall_with_overcapacity_and_prices_with_them():
    p = params(kappa=2.0, normal=0.8)
    assert 0.15 * demand.markup_factor(np.array([0.8]), p) == pytest.approx([0.15])
    assert 0.15 * demand.markup_factor(np.array([0.72]), p) == pytest.approx([0.15 * 0.81])
    assert 0.15 * demand.markup_factor(np.array([1.5]), p) == pytest.approx([0.15 * 1.25 ** 2])  # utilisation capped at 1
    low = demand.value_added_price(0.15 * demand.markup_factor(np.array([0.72]), p), 0.15, 1.0, 1.0, 0.0)
    assert low[0] == pytest.approx((1 + 0.15 * 0.81) / 1.15)
    # unit labour cost: wages up 10%, productivity up 10%: the price holds; a carbon charge of 3% of value added passes through
    assert demand.value_added_price(0.15, 0.15, 1.1, 1.1, 0.03) == pytest.approx(1.03)


def test_utilization_and_capacity():
    assert demand.utilization(np.array([100.0, 50.0]), np.array([150.0, 0.0]), np.array([1.2, 1.2]), 0.8) == pytest.approx([0.64, 0.8])
    # capacity 150 / (1.2 x 0.8) = 156.25; none measured without capital
    assert demand.full_capacity(np.array([150.0, 0.0]), np.array([1.2, 1.2]), 0.8) == pytest.approx([156.25, np.inf])


def test_output_prices_and_the_index():
    assert demand.output_price_change(1.1, 1.0, 0.25) == pytest.approx(1.1 ** 0.25)
    assert demand.price_index_change(np.array([1.1, 1.0]), np.array([1.0, 3.0])) == pytest.approx(1.025)


def test_trends_halve_every_half_life_and_their_effect_is_bounded():
    assert trend.rate_in(0.1, 1, 8.0) == pytest.approx(0.1)
    assert trend.rate_in(0.1, 9, 8.0) == pytest.approx(0.05)
    assert trend.cumulative_factor(0.1, 0, 8.0) == 1.0
    assert trend.cumulative_factor(0.1, 2, 8.0) == pytest.approx(1.1 * (1 + 0.1 * 2 ** (-1 / 8)))
    bound = math.exp(0.1 / (1 - 2 ** (-1 / 8)))  # the sum of all the rates
    assert trend.cumulative_factor(0.1, 500, 8.0) < bound
    assert trend.cumulative_factor(0.1, 23, 8.0) < (1.1 ** 23) / 2  # far below the open-ended trend by 2035


def test_a_closure_that_feeds_on_itself_is_refused_by_name():
    # industry as nine tenths of GDP with an income elasticity of 4 and no capacity limit: each pass raises real GDP further
    before = Economy(np.array([90.0]), np.ones(1), 100.0, 100.0, 10.0, 10.0)
    with pytest.raises(demand.ClosureDivergence, match="did not converge"):
        demand.close(before, np.ones(1), 10.5, 10.5, np.zeros(1), np.ones(1), np.full(1, np.inf), np.array([4.0]), params())


def test_the_emerging_premium_is_a_catch_up_that_halves_with_the_trends():
    p = Params(domestic_demand_elasticity_scale=0.8, emerging_elasticity_premium=1.5, domestic_price_elasticity=0.5,
               markup_utilization_elasticity=2.0, normal_utilization=0.8)
    base, emerging = np.array([1.0, 1.0]), np.array([False, True])
    assert demand.income_elasticities(base, emerging, p) == pytest.approx([0.8, 2.3])
    half = trend.rate_in(1.0, 9, 8.0)  # 2021: eight years after 2013
    assert demand.income_elasticities(base, emerging, p, half) == pytest.approx([0.8, 0.8 + 0.75])


def test_productivity_index_moves_with_the_continuing_firms_only():
    """The matched-sample rule: the index moves by the employment-weighted mean productivity of the
    firms alive both years; entrants and exits (absent from these sums) do not move it."""
    # market 0: continuing firms of 10 workers at 2.0 and 30 at 1.0 (mean 1.25) become 10 at 2.2 and 30 at 1.1
    before_l, before_t = np.array([40.0, 0.0]), np.array([10 * 2.0 + 30 * 1.0, 0.0])
    after_l, after_t = np.array([40.0, 5.0]), np.array([10 * 2.2 + 30 * 1.1, 5.0])
    change = demand.productivity_index_change(before_l, before_t, after_l, after_t)
    assert change[0] == pytest.approx(1.1, rel=1e-12)
    assert change[1] == 1.0  # no continuing firm: the index holds
