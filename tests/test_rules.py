"""Known-answer tests for each firm rule (pure functions in sim/rules/) and the random draws."""

import math

import numpy as np
import pytest
from scipy import special, stats

from sim import taxonomy
from sim.parameters import resolve
from sim.randomness import from_table, normal, normal_quantile, quantile_table, stream_key, uniform
from sim.rules import digital, energy, entry_exit, finance, innovation, ladder, market, parameters_for, production, trade

VALUES = resolve(use_calibrated=False)
KEY = np.uint64(20121123)


def params(module, **changes):
    return parameters_for(module, {**VALUES, **changes})


# ---------------------------------------------------------------- market
def test_replicator_shares_sum_to_one_per_market():
    rng = np.random.default_rng(0)
    n, markets = 1000, 5
    market_of = rng.integers(0, markets, n)
    weight = rng.uniform(0.5, 3.0, n)
    new = market.replicator_shares(rng.uniform(0.1, 1.0, n), rng.normal(size=n), market_of, weight, markets, 2.0,
                                   rng.normal(scale=0.1, size=n))
    np.testing.assert_allclose(np.bincount(market_of, weights=weight * new, minlength=markets), 1.0, rtol=1e-12)


def test_replicator_equal_gains_keep_shares_and_better_firms_gain():
    shares, weight, one_market, calm = np.array([0.5, 0.3, 0.2]), np.ones(3), np.zeros(3, dtype=np.int64), np.zeros(3)
    same = market.replicator_shares(shares, np.full(3, 0.1), one_market, weight, 1, 2.0, calm)
    np.testing.assert_allclose(same, shares, rtol=1e-12)
    gain = np.array([0.0, 0.2, 0.0])
    better = market.replicator_shares(shares, gain, one_market, weight, 1, 2.0, calm)
    damping = (1 - shares) / (1 + shares)  # Atkeson-Burstein, chi = 2
    mean = np.sum(shares * damping * gain) / np.sum(shares * damping)
    raw = shares * np.exp(damping * 2.0 * (gain - mean))  # exact: s_j' = s_j exp(D_j chi (dE_j - dE_bar)) / sum
    np.testing.assert_allclose(better, raw / raw.sum(), rtol=1e-12)
    assert better[1] > shares[1] and better[0] < shares[0]
    # small firms follow the plain replicator: s_j' = s_j exp(chi dE_j) / sum
    small = np.full(1000, 1e-3)
    lead = np.where(np.arange(1000) == 0, 0.2, 0.0)
    plain = small * np.exp(2.0 * lead)
    np.testing.assert_allclose(market.replicator_shares(small, lead, np.zeros(1000, dtype=np.int64), np.ones(1000), 1, 2.0,
                                                        np.zeros(1000)), plain / plain.sum(), rtol=5e-3)


def test_market_power_stops_a_leading_firm_short_of_the_market():
    """A firm against a fringe of small rivals, its cost lead growing 1% a year for 300 years: the
    plain replicator's log odds would track chi * lead (share 0.978); with the Atkeson-Burstein
    markup they follow y - chi log(1 - s) = chi * lead + constant (share 0.76), the equilibrium
    of Cournot competition in a nested CES (Atkeson and Burstein 2008)."""
    chi, n_fringe, years, step = 2.0, 900, 300, 0.01
    shares = np.concatenate([[0.1], np.full(n_fringe, 0.9 / n_fringe)])
    gain = np.where(np.arange(n_fringe + 1) == 0, step, 0.0)
    for _ in range(years):
        shares = market.replicator_shares(shares, gain, np.zeros(n_fringe + 1, dtype=np.int64), np.ones(n_fringe + 1), 1,
                                          chi, np.zeros(n_fringe + 1))
    fringe_share = 0.9 / n_fringe
    # the fringe firms stay alike, so the relation holds for the leader against one fringe firm (both terms exact)
    invariant = lambda s, other: math.log(s / other) - chi * math.log(1 - s) + chi * math.log(1 - other)
    expected = invariant(0.1, fringe_share) + chi * step * years
    assert invariant(shares[0], shares[1]) == pytest.approx(expected, abs=0.02)
    plain_odds = 0.1 / 0.9 * math.exp(chi * step * years)
    assert shares[0] == pytest.approx(0.761, abs=0.005) and plain_odds / (1 + plain_odds) > 0.97


def test_replicator_leaves_dead_rows_at_zero():
    new = market.replicator_shares(np.array([0.5, 0.5, 0.0]), np.zeros(3), np.zeros(3, dtype=np.int64),
                                   np.array([1.0, 1.0, 0.0]), 1, 1.0, np.zeros(3))
    assert new[2] == 0.0 and new[:2].sum() == pytest.approx(1.0)


def test_shock_sd_scales_with_size_exponent():
    assert market.shock_sd(20.0, 0.1, 0.2, 20.0) == pytest.approx(0.1)
    assert market.shock_sd(2000.0, 0.1, 0.2, 20.0) == pytest.approx(0.1 * 100 ** -0.2)


def test_firm_wage_and_competitiveness():
    assert market.firm_wage(4.0, 1.0, 0.05, 0.5) == pytest.approx(0.1)
    assert market.competitiveness(2.0, 0.0, 10.0, 0.1, 0.0, 0.3) == pytest.approx(-math.log(0.05))
    assert market.competitiveness(2.0, 10.0, 10.0, 0.1, 0.0, 0.3) == pytest.approx(-math.log(0.05) + 0.3 * math.log(2.0))


def test_market_step_is_the_plain_rules_in_log_form():
    """update_market_at_wages computes wages, competitiveness and shock sd in log form: the same
    numbers as firm_wage, competitiveness, shock_sd and the replicator, to rounding."""
    rng = np.random.default_rng(3)
    n, markets = 2000, 4
    p = params(market, demand_shock_sd=0.3)
    market_of = rng.integers(0, markets, n).astype(np.uint8)
    weight = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0.5, 3.0, n))
    productivity, patents = rng.lognormal(0.0, 0.5, n), np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(0.0, 2.0, n))
    revenue = np.where(rng.random(n) < 0.01, 0.0, rng.lognormal(2.0, 2.0, n))
    wage_factor = np.where(rng.random(n) < 0.2, 0.8, 1.0)
    market_productivity, demand, wage = rng.uniform(0.8, 1.2, markets), rng.uniform(1e3, 1e4, markets), 0.07
    share = weight * rng.random(n)
    share /= np.bincount(market_of, weights=weight * share, minlength=markets)[market_of]
    old = rng.normal(size=n)
    new_share, new_revenue, new_competitiveness, wages = share.copy(), revenue.copy(), old.copy(), np.zeros(n)
    market.update_market_at_wages(market_of, weight, new_share, new_competitiveness, productivity, patents, new_revenue,
                                  market_productivity, demand, markets, wage, wage_factor, KEY, p, wages=wages)
    live = weight > 0
    plain_wage = np.array([market.firm_wage(productivity[i], market_productivity[market_of[i]], wage,
                                            p.wage_productivity_elasticity) * wage_factor[i] for i in range(n)])
    plain_fitness = np.array([market.competitiveness(productivity[i], patents[i], revenue[i], plain_wage[i], p.markup,
                                                     p.quality_weight) for i in range(n)])
    sd = np.array([market.shock_sd(r, p.demand_shock_sd, p.shock_size_exponent, p.shock_reference_revenue) for r in revenue])
    shock = sd * np.array([normal(KEY, i, 0) for i in range(n)])
    plain_share = market.replicator_shares(share, np.where(live, plain_fitness - old, 0.0), market_of, weight, markets,
                                           p.share_selection_strength, np.where(live, shock, 0.0), np.where(live, sd**2, 0.0))
    np.testing.assert_allclose(wages[live], plain_wage[live], rtol=1e-12)
    np.testing.assert_allclose(new_competitiveness[live], plain_fitness[live], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(new_share[live], plain_share[live], rtol=1e-9)
    np.testing.assert_allclose(new_revenue[live], (plain_share * demand[market_of])[live], rtol=1e-9)
    assert np.all(new_competitiveness[~live] == old[~live])


def test_update_market_shares_follow_competitiveness_gains():
    """Two firms, no shocks: the one whose productivity rose gains exactly as the replicator says."""
    p = params(market, demand_shock_sd=0.0, wage_productivity_elasticity=0.0, quality_weight=0.0, markup=0.0)
    productivity = np.array([1.0, 1.1])
    share, weight = np.array([0.5, 0.5]), np.ones(2)
    old = np.array([-math.log(0.05), -math.log(0.05)])  # both had productivity 1 at wage 0.05
    revenue = np.array([50.0, 50.0])
    market.update_market(np.zeros(2, dtype=np.int64), weight, share, old, productivity, np.zeros(2), revenue,
                         np.ones(1), np.array([200.0]), 1, 0.05, KEY, p)
    chi = p.share_selection_strength
    damping = 0.5 / (1 + (chi - 1) * 0.5)  # the Atkeson-Burstein damping at share 1/2
    lead = math.log(1.1)
    raw = np.exp(damping * chi * np.array([-lead / 2, lead / 2]))  # each against the mean gain, lead / 2
    np.testing.assert_allclose(share, raw / raw.sum(), rtol=1e-12)
    np.testing.assert_allclose(revenue, 200.0 * share, rtol=1e-12)


# ---------------------------------------------------------------- production
def test_production_value_added_and_employment():
    assert production.value_added(100.0, 0.25) == pytest.approx(25.0)
    assert production.employment(25.0, 0.5, 1.25) == pytest.approx(40.0)


def test_capital_per_unit_of_value_added_stays_as_the_value_added_ratio_moves():
    base, va_2012 = np.array([1.2, 0.8]), np.array([0.2, 0.25])
    va = production.value_added_ratios(va_2012, 0.02, 10, 8.0)
    per_revenue = production.capital_to_revenue_ratios(base, va, va_2012)
    assert per_revenue / va == pytest.approx(base / va_2012)
    assert np.all(per_revenue > base)  # a rising value-added ratio needs more capital per unit of revenue


# ---------------------------------------------------------------- innovation
def test_innovation_success_probability_is_k_and_s():
    assert innovation.success_probability(0.0, 0.5) == 0.0
    assert innovation.success_probability(2.0, 0.5) == pytest.approx(1 - math.exp(-1.0))


def test_firm_with_fixed_innovation_gain_follows_compound_growth():
    """A firm that innovates every year with a fixed gain g follows A0 (1 + g)^t."""
    g, years = 0.05, 12
    p = params(innovation, innovation_zeta=1.0)
    fixed = np.full(9, math.log1p(g))  # every quantile of the gain equals log(1 + g)
    productivity = 0.2
    for year in range(years):
        productivity = innovation.innovate(productivity, 1e6, 0.05, False, 0.0, fixed, KEY, year, p)
    assert productivity == pytest.approx(0.2 * (1 + g) ** years, rel=1e-12)


def test_innovation_keeps_the_better_of_old_and_new():
    p = params(innovation, innovation_zeta=1.0)
    assert innovation.innovate(1.0, 1e6, 0.05, False, 0.0, np.full(9, -0.1), KEY, 0, p) == 1.0


def test_imitation_closes_part_of_the_gap_to_its_peer():
    p = params(innovation, innovation_zeta=0.0, imitation_absorption=0.5)
    assert innovation.innovate(1.0, 10.0, 0.05, True, 3.0, np.zeros(9), KEY, 0, p) == pytest.approx(2.0)
    assert innovation.innovate(3.0, 10.0, 0.05, True, 1.0, np.zeros(9), KEY, 0, p) == 3.0


def test_innovation_success_frequency_matches_its_probability():
    p = params(innovation, innovation_zeta=0.1, innovation_share_of_rd=0.5)
    rd, wage = 0.5, 0.05  # 10 researcher-years, 5 innovative: P = 1 - exp(-0.5)
    gains = np.array([innovation.innovate(1.0, rd, wage, False, 0.0, np.full(9, 0.1), KEY, row, p) > 1.0
                      for row in range(20000)])
    assert gains.mean() == pytest.approx(1 - math.exp(-0.5), abs=0.015)


def test_innovation_draw_table_is_the_rescaled_beta():
    p = params(innovation, innovation_draw_low=-0.1, innovation_draw_high=0.2, innovation_beta_shape=3.0)
    table = innovation.draw_table(p)
    assert table[0] > -0.1 and table[-1] < 0.2 and np.all(np.diff(table) > 0)
    assert table[table.size // 2] == pytest.approx(0.05, abs=1e-9)  # symmetric Beta: median at mid-support


def test_patent_stock_accumulates_with_depreciation():
    assert innovation.patent_stock(100.0, 10.0, 0.1) == pytest.approx(100.0)


# ---------------------------------------------------------------- digital
def test_peer_share_table_counts_higher_stages_in_the_cell():
    counts = np.array([[2.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    table = digital.peer_share_table(counts)
    np.testing.assert_allclose(table[0], [0.5, 0.25, 0.25, 0.0])
    np.testing.assert_allclose(table[1], [0.0, 0.0, 0.0, 0.0])


def test_upgrade_probability_is_bounded_and_rises_with_benefit():
    p0, p1, p2 = (digital.upgrade_probability(b, 1.0, 0.0, 0.2, 1.0) for b in (0.0, 1.0, 100.0))
    assert p0 == 0.0 and p0 < p1 < p2 <= 0.2
    assert digital.upgrade_probability(100.0, 1.0, 1.0, 0.9, 5.0) == 1.0
    assert digital.upgrade_cost(100.0, 2.0, 0.5, 0.01) == pytest.approx(2.0)


def test_a_draw_out_of_reach_never_upgrades_and_the_rest_are_left_to_upgrades():
    """out_of_reach (decided before cost and benefit are worked out) must never skip a firm that
    `upgrades` would move up: checked on draws at and around the bound, over benefits from none to
    a certain gain (1 - exp(-x) = 1 in floating point) and negative ones."""
    rng = np.random.default_rng(3)
    skipped = 0
    for max_rate, peer_effect in ((0.08, 0.93), (0.2, 0.0), (0.9, 5.0)):
        for peer_share in (0.0, 0.37, 1.0):
            bound = max_rate * (1.0 + peer_effect * peer_share)
            draws = np.concatenate([bound * np.array([1.0, 1.0 + 1e-12, 1.0 - 1e-12, 1.0 + 2e-9, 0.5]), rng.random(200)])
            for u in draws[(draws > 0.0) & (draws < 1.0)]:
                if digital.out_of_reach(u, peer_share, max_rate, peer_effect):
                    skipped += 1
                    for benefit in (-1.0, 0.0, 1e-6, 0.3, 1.0, 40.0, 1e6):
                        assert not digital.upgrades(u, benefit, 1.0, peer_share, max_rate, peer_effect)
                elif u < 0.5 * bound:  # well inside the bound a large benefit does upgrade
                    assert digital.upgrades(u, 1e6, 1.0, peer_share, max_rate, peer_effect)
    assert skipped > 100  # the shortcut does take most draws


# ---------------------------------------------------------------- finance
def test_finance_cash_flow_identity():
    """cash' = cash + profit - tax + depreciation - d(receivables) - repayment - investment + new debt."""
    p = params(finance)
    capital, cash, debt, receivables = 50.0, 10.0, 20.0, 15.0
    k, c, d, r, investment, profit, tax, illiquid = finance.finance_year(30.0, 10.0, 1.0, 100.0, 80.0, capital, cash, debt,
                                                                         receivables, 73.0, 1.5, p)
    depreciation = p.depreciation_rate * capital
    new_debt = d - debt * (1 - p.debt_repayment_rate)
    expected = cash + profit - tax + depreciation - (r - receivables) - p.debt_repayment_rate * debt - investment + new_debt
    assert c == pytest.approx(expected)
    assert k == pytest.approx(capital - depreciation + investment)
    assert r == pytest.approx(20.0) and profit == pytest.approx(30 - 10 - 1 - depreciation - p.interest_rate * debt)
    assert not illiquid


def test_finance_never_borrows_beyond_the_credit_ceiling():
    p = params(finance, fire_sale_discount=0.0)  # a fire sale at a discount would lower the net worth measured below
    rng = np.random.default_rng(3)
    borrowed_any = False
    for _ in range(500):
        capital, revenue = rng.uniform(10, 100), rng.uniform(10, 200)
        cash, debt = rng.uniform(0, 20), rng.uniform(0, 50)
        k, c, d, r, investment, *_ = finance.finance_year(0.25 * revenue, 0.1 * revenue, 0.01 * revenue, revenue,
                                                          2 * capital, capital, cash, debt, 0.2 * revenue, 73.0, 1.0, p)
        # Borrowing moves cash and debt together and investment turns cash into capital, so net worth
        # before depreciation is what the ceiling applied to.
        worth = finance.net_worth(k, c, r, d) + p.depreciation_rate * capital
        if d > debt * (1 - p.debt_repayment_rate) + 1e-9:
            borrowed_any = True
            assert d <= 1.0 * worth + 1e-6
        assert investment >= 0
    assert borrowed_any


def test_finance_covers_working_capital_before_it_invests():
    """A cash loss of 20 (the wage bill, nothing sold) with credit room 50: the shortfall is
    borrowed first, investment gets the rest."""
    p = params(finance)
    capital, receivables = 50.0, 20.0  # receivables unchanged: 100 of revenue at 73 days
    k, c, d, r, investment, profit, tax, illiquid = finance.finance_year(0.0, 20.0, 0.0, 100.0, 1000.0, capital, 0.0, 0.0,
                                                                         receivables, 73.0, 1.0, p)
    assert profit == pytest.approx(-20.0 - p.depreciation_rate * capital) and not illiquid and c == pytest.approx(0.0)
    assert investment == pytest.approx(50.0 - 20.0)  # room: 1.0 x net worth 50, less the 20 of cover
    assert d == pytest.approx(50.0) and k == pytest.approx(capital * (1 - p.depreciation_rate) + investment)


def test_fire_sale_covers_a_shortfall_beyond_credit_and_illiquidity_needs_capital_gone():
    """No credit and a cash loss of 20: capital is sold at the discount; the firm is illiquid only
    when all of it does not cover the loss."""
    p = params(finance)
    proceeds = 1 - p.fire_sale_discount
    for capital, expect_illiquid in ((50.0, False), (10.0, True)):
        k, c, d, r, investment, *_, illiquid = finance.finance_year(0.0, 20.0, 0.0, 100.0, 0.0, capital, 0.0, 0.0, 20.0,
                                                                     73.0, 0.0, p)
        left = capital * (1 - p.depreciation_rate)
        assert investment == 0.0 and d == 0.0 and illiquid == expect_illiquid
        if expect_illiquid:
            assert k == 0.0 and c == pytest.approx(-20.0 + left * proceeds) and c < 0
        else:
            assert k == pytest.approx(left - 20.0 / proceeds) and c == 0.0


def test_embodied_gain():
    assert finance.embodied_gain(10.0, 100.0, 0.2) == pytest.approx(0.02)


# ---------------------------------------------------------------- entry and exit
def test_exit_rule_on_size_worth_and_liquidity():
    assert not entry_exit.exits(10.0, 5.0, False, 5.0)
    assert entry_exit.exits(1.0, 5.0, False, 5.0)
    assert entry_exit.exits(10.0, -1.0, False, 5.0)
    assert entry_exit.exits(10.0, 5.0, True, 5.0)


def test_apply_exits_removes_exactly_their_weight():
    alive = np.array([True, True, True, False])
    weight = np.array([1.0, 2.0, 3.0, 0.0])
    share = np.full(4, 0.1)
    revenue = np.array([100.0, 1.0, 100.0, 100.0])
    left = entry_exit.apply_exits(alive, weight, share, revenue, np.full(4, 10.0), np.ones(4), np.ones(4), np.ones(4),
                                  np.array([False, False, True, False]), 1.0, 5.0)
    assert left == 5.0 and alive.tolist() == [True, False, False, False]
    assert weight.tolist() == [1.0, 0.0, 0.0, 0.0] and share[1] == 0.0


def test_expected_entrants_rise_with_demand_growth():
    assert entry_exit.expected_entrants(np.array([100.0, 100.0]), np.array([0.0, 0.1]), 0.05, 2.0) == pytest.approx([5.0, 6.0])


def test_entry_crowding_holds_entrants_to_the_markets_2012_size():
    firms, reference = np.array([100.0, 200.0, 400.0]), np.full(3, 100.0)
    stationary = entry_exit.expected_entrants(firms, np.zeros(3), 0.1, 0.0, reference, crowding=1.0)
    assert stationary == pytest.approx([10.0, 10.0, 10.0])  # a fuller market draws no more entrants
    strong = entry_exit.expected_entrants(firms, np.zeros(3), 0.1, 0.0, reference, crowding=2.0)
    assert strong == pytest.approx([10.0, 5.0, 2.5])
    assert entry_exit.expected_entrants(firms, np.zeros(3), 0.1, 0.0, reference, crowding=0.0) == pytest.approx(0.1 * firms)


def test_peers_are_drawn_in_proportion_to_weight_within_the_market():
    market_of = np.array([0, 0, 1, 0])
    weight = np.array([1.0, 3.0, 5.0, 0.0])  # row 3 is dead
    index = entry_exit.market_index(market_of, weight, 2)
    peers = entry_exit.draw_peers(np.zeros(40000, dtype=np.int64), *index, weight, KEY)
    assert set(np.unique(peers)) == {0, 1}
    assert (peers == 1).mean() == pytest.approx(0.75, abs=0.01)
    assert entry_exit.draw_peers(np.array([1]), *index, weight, KEY)[0] == 2
    assert np.all(np.diff(peers) >= 0)  # a market's peers come in row order
    equal = np.ones(4)  # equal weights: every first pick is accepted, whatever the weights read
    mixed = entry_exit.draw_peers(np.array([0, 0, 0, 1, 1]), *entry_exit.market_index(np.array([0, 1, 0, 1]), equal, 2), equal, KEY)
    assert list(mixed[:3]) == sorted(mixed[:3]) and set(mixed[:3]) <= {0, 2} and set(mixed[3:]) <= {1, 3}


# ---------------------------------------------------------------- ladder
def test_ladder_respects_start_years_and_criteria():
    p = params(ladder, srdi_recognition_rate=1.0, little_giant_recognition_rate=1.0, champion_recognition_rate=1.0)
    SME, LARGE = taxonomy.SME, taxonomy.LARGE_PRIVATE
    cases = [  # rung, class, revenue, rd intensity, relative share, niche -> rung in 2012, in 2020
        (0, SME, 50.0, 0.05, 1.0, 2.0, 0, taxonomy.RUNG_SRDI),
        (0, SME, 50.0, 0.01, 1.0, 2.0, 0, 0),  # too little R&D
        (taxonomy.RUNG_SRDI, SME, 150.0, 0.05, 1.0, 2.0, taxonomy.RUNG_SRDI, taxonomy.RUNG_LITTLE_GIANT),
        (0, LARGE, 5000.0, 0.0, 100.0, 50.0, 0, taxonomy.RUNG_CHAMPION),
        (0, LARGE, 5000.0, 0.05, 1.0, 50.0, 0, 0),  # a large firm is no SRDI SME
    ]
    for rung, cls, revenue, rd, relative, niche, in_2012, in_2020 in cases:
        assert ladder.promote(rung, cls, revenue, rd, relative, niche, True, 2012, p, KEY, 0) == in_2012
        assert ladder.promote(rung, cls, revenue, rd, relative, niche, True, 2020, p, KEY, 0) == in_2020


# ---------------------------------------------------------------- trade and energy
def test_export_shares_meet_market_demand_under_the_cap():
    propensity = np.array([0.1, 0.2, 5.0, 0.3])
    revenue = np.full(4, 100.0)
    shares = trade.export_shares(propensity, revenue, np.ones(4), np.array([0, 0, 0, 1]), np.array([150.0, 30.0]))
    assert np.all(shares <= trade.EXPORT_SHARE_CAP + 1e-12)
    assert (shares[:3] * revenue[:3]).sum() == pytest.approx(150.0)
    assert shares[3] * 100 == pytest.approx(30.0)


def test_export_shares_do_not_depend_on_last_years_factors():
    """The factors a call leaves (for the next year's call to skip a pass) change no share, whether
    they are close to this year's, far from them, or absent; and the call replaces them."""
    rng = np.random.default_rng(5)
    n, markets = 4000, 3
    propensity = rng.lognormal(0.0, 1.5, n).astype(np.float32)
    revenue = rng.lognormal(3.0, 1.0, n).astype(np.float32)
    weight = np.ones(n, dtype=np.float32)
    market = rng.integers(0, markets, n).astype(np.uint8)
    demand = np.array([0.3, 0.5, 0.7]) * np.bincount(market, weights=revenue, minlength=markets)
    factor = np.zeros(markets)
    expected = trade.export_shares(propensity, revenue, weight, market, demand, factor=factor)
    assert np.all(factor > 0) and np.any(expected == np.float32(trade.EXPORT_SHARE_CAP))
    for guess in (factor.copy(), 1.2 * factor, 0.2 * factor, 50.0 * factor):
        left = guess.copy()
        assert np.array_equal(trade.export_shares(propensity, revenue, weight, market, demand, factor=left), expected)
        assert np.array_equal(left, factor)
    assert np.array_equal(trade.export_shares(propensity, revenue, weight, market, demand), expected)


def test_export_target_odds_fall_with_relative_price_and_rise_with_technology():
    base = np.log(np.array([0.1, 0.1]))
    target = trade.target_log_odds(base, np.array([1.0, 1.1]), np.array([1.0, 1.0]), 2.0, 0.5)
    assert target == pytest.approx([math.log(0.1), math.log(0.1) - 2.0 * math.log(1.1)])
    assert trade.target_log_odds(base, np.ones(2), np.array([4.0, 1.0]), 2.0, 0.5)[0] == pytest.approx(math.log(0.1) + 0.5 * math.log(4.0))


def test_exports_are_a_ces_share_of_world_demand_closing_part_of_the_gap_each_year():
    world = np.array([100.0, 100.0, 0.0])
    # at its target the share stays; the world demand grows
    exports = np.array([20.0, 50.0, 0.0])
    held = trade.log_odds_of(exports, world)
    same, new_world = trade.exports_from_share(exports, world, held, 0.5, 0.05)
    assert new_world == pytest.approx([105.0, 105.0, 0.0])
    assert same == pytest.approx([21.0, 52.5, 0.0])
    # half the gap in log odds closes in a year: share 1/2 (odds 1) toward odds 4 -> odds 2, share 2/3
    moved, _ = trade.exports_from_share(exports, world, held + np.log(4.0), 0.5, 0.0)
    assert moved[1] == pytest.approx(100.0 * 2 / 3)
    assert moved[2] == 0.0
    # however competitive, exports never pass world demand
    exports, world = np.array([50.0]), np.array([100.0])
    for _ in range(100):
        exports, world = trade.exports_from_share(exports, world, np.array([30.0]), 1.0, 0.0)
    assert 99.0 < exports[0] <= world[0]


def test_energy_rules():
    assert energy.energy_intensity(2.0, 0.02) == pytest.approx(1.96)
    assert energy.energy_use(2.0, 30.0, 1.5) == pytest.approx(40.0)
    assert energy.carbon_intensity(2.5, -0.01) == pytest.approx(2.475)


# ---------------------------------------------------------------- random draws
def test_counter_based_uniforms_are_uniform_and_keyed():
    draws = np.array([uniform(KEY, row, 0) for row in range(50000)])
    assert 0.0 < draws.min() and draws.max() < 1.0
    assert stats.kstest(draws, "uniform").pvalue > 1e-3
    assert uniform(KEY, 7, 0) == uniform(KEY, 7, 0) != uniform(KEY, 7, 1)
    assert stream_key(1, "market", 2013) != stream_key(1, "digital", 2013) != stream_key(2, "market", 2013)


def test_normal_draws():
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, rel=1e-8)
    assert normal_quantile(0.001) == pytest.approx(-3.090232306167813, rel=1e-8)
    draws = np.array([normal(KEY, row, 0) for row in range(50000)])
    assert stats.kstest(draws, "norm").pvalue > 1e-3


def test_tabulated_draws_follow_their_law():
    table = quantile_table(lambda q: special.betaincinv(3.0, 3.0, q))
    draws = np.array([from_table(table, KEY, row, 0) for row in range(50000)])
    assert stats.kstest(draws, stats.beta(3, 3).cdf).pvalue > 1e-3


def test_rd_return_is_one_at_the_normal_markup_for_a_market_growing_with_the_economy():
    returns = innovation.rd_returns(np.array([1.0, 1.0]), 0.2, np.array([0.07, 0.07]), 0.07, 0.05, 0.10)
    assert returns == pytest.approx([1.0, 1.0], rel=1e-12)


def test_rd_return_follows_the_lerner_index_one_for_one_dorfman_steiner():
    # markup 0.1 (0.4 of the normal 0.25): Lerner 1/11 against 1/5
    returns = innovation.rd_returns(np.array([0.4]), 0.25, np.array([0.05]), 0.05, 0.05, 0.10)
    assert returns[0] == pytest.approx((0.1 / 1.1) / (0.25 / 1.25), rel=1e-12)
    # without a normal margin the ratio is its limit, the markup factor
    assert innovation.rd_returns(np.array([0.4]), 0.0, np.array([0.05]), 0.05, 0.05, 0.10)[0] == pytest.approx(0.4)


def test_rd_return_rises_with_growth_above_the_economy_as_the_value_of_a_growing_rent():
    # r + delta = 0.15; a market growing 5 points faster than GDP: 0.15 / (0.15 - 0.05) = 1.5
    faster, slower = innovation.rd_returns(np.array([1.0, 1.0]), 0.2, np.array([0.12, 0.02]), 0.07, 0.05, 0.10)
    assert faster == pytest.approx(1.5, rel=1e-12)
    assert slower == pytest.approx(0.15 / 0.20, rel=1e-12)
    # bounded: at most doubled, at least halved, whatever the growth
    extreme = innovation.rd_returns(np.array([1.0, 1.0]), 0.2, np.array([5.0, -0.9]), 0.0, 0.05, 0.10)
    assert extreme == pytest.approx([2.0, 0.5], rel=1e-12)


def test_rd_returns_adjust_geometrically_toward_the_target():
    previous, target = np.array([1.0, 2.0]), np.array([4.0, 0.5])
    assert innovation.adjusted_rd_returns(previous, target, 1.0) == pytest.approx(target)
    assert innovation.adjusted_rd_returns(previous, target, 0.0) == pytest.approx(previous)
    assert innovation.adjusted_rd_returns(previous, target, 0.5) == pytest.approx([2.0, 1.0])


def test_internal_funds_are_cash_above_the_buffer_and_the_operating_surplus():
    assert finance.internal_funds(10.0, 40.0, 0.1, 30.0, 20.0) == pytest.approx(6.0 + 10.0)
    assert finance.internal_funds(2.0, 40.0, 0.1, 10.0, 20.0) == 0.0  # under the buffer and in losses


def _rd_firm(propensity, revenue, cash):
    from sim.firms import Firms
    firms = Firms.empty(1)
    firms.alive[0], firms.weight[0] = True, 1.0
    firms.rd_propensity[0], firms.revenue[0], firms.cash[0] = propensity, revenue, cash
    return firms


def test_rd_is_the_own_share_times_the_market_return_funded_internally():
    firms = _rd_firm(0.02, 100.0, 0.0)
    rd = innovation.spend_on_rd(firms.bundle(), 0, 0.0, 1.5, 1e9, 0.25, 0.0, 1.69)
    assert rd == pytest.approx(0.02 * 1.5 * 100.0, rel=1e-6)
    assert firms.rd_propensity[0] == pytest.approx(0.02)  # the firm's own share is kept; the return is this year's
    # a firm whose funds fall short spends what it has
    assert innovation.spend_on_rd(firms.bundle(), 0, 0.0, 1.5, 1.0, 0.25, 0.0, 1.69) == pytest.approx(1.0)
    # the super-deduction raises the share by the user-cost ratio to the minus the elasticity
    deducted = innovation.spend_on_rd(firms.bundle(), 0, 0.0, 1.0, 1e9, 0.25, 1.0, 1.69)
    assert deducted == pytest.approx(2.0 * innovation.rd_user_cost_ratio(0.25, 1.0) ** -1.69, rel=1e-6)
