"""One compiled loop over the firm columns per year: the rules of sim/rules/ in their order.

For each live firm, in this order (each line a rule of its own module):
  production   value added and employment                         (sim.rules.production)
  innovation   R&D; innovation and imitation; patent applications (sim.rules.innovation)
  digital      moving up a digital stage                          (sim.rules.digital)
  finance      profit, tax, receivables, investment, credit       (sim.rules.finance)
  energy       energy intensity and use, carbon intensity         (sim.rules.energy)
  ladder       SRDI, little-giant and champion recognition        (sim.rules.ladder)
  size class   private firms crossing the SME revenue limit change class
Market-level inputs the rules need (peers' digital stages by industry and region, SMEs' mean
revenue by market, firms per market) are gathered in a first pass, so that every firm sees the
same start-of-year state whatever its row; productivity is written to a new column for the same
reason (imitators copy last year's technology).

Why compiled: written as numpy column operations the year takes about a hundred passes over the
columns; fused into one numba loop it takes two, and the per-firm pass runs on every core (rows are
independent; sums are taken afterwards in row order, so results do not depend on the thread count).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim import taxonomy
from sim.randomness import uniform
from sim.rules import digital, energy, finance, innovation, ladder, market, production
from sim.rules.entry_exit import draw_peer, market_index

N_STAGES = len(taxonomy.DIGITAL_STAGES)
N_REGIONS = len(taxonomy.REGIONS)
STATE_OWNED, LARGE_PRIVATE, SME = taxonomy.STATE_OWNED, taxonomy.LARGE_PRIVATE, taxonomy.SME
PEER_DRAW = 10


@njit(cache=True)
def firm_year(alive, weight, firm_class, ladder_rung, industry, emerging, region, digital_stage, age, market_share,
              revenue, previous_value_added, value_added, capital, employment, productivity, rd_propensity, rd_spending,
              patent_stock, energy_intensity, energy_use, carbon_intensity, cash, debt, receivables, illiquid,
              va_ratio, capital_to_revenue, manufacturing, market_productivity, demand_growth, n_markets, n_industries,
              year, wage, labour_cost_index, price_index, carbon_factor_change, patent_yield, sme_revenue_limit,
              innovation_draws, key_innovation, key_digital, key_ladder, p_market, p_innovation, p_digital, p_finance,
              p_energy, p_ladder):
    """Advance every live firm by one year (columns updated in place).

    Returns (expected invention patent applications, real value added by market, employment by market)."""
    n = alive.size
    segments = n_markets // n_industries
    market_of = np.empty(n, dtype=np.int64)
    stage_counts = np.zeros((n_industries * N_REGIONS, N_STAGES))
    sme_revenue = np.zeros(n_markets)
    sme_firms = np.zeros(n_markets)
    firms_in_market = np.zeros(n_markets)
    for i in range(n):
        market_of[i] = industry[i] * segments + emerging[i]
        if alive[i]:
            m = market_of[i]
            stage_counts[industry[i] * N_REGIONS + region[i], digital_stage[i]] += weight[i]
            firms_in_market[m] += weight[i]
            if firm_class[i] == SME:
                sme_revenue[m] += weight[i] * revenue[i]
                sme_firms[m] += weight[i]
    peers_above = digital.peer_share_table(stage_counts)
    rows, starts, heaviest = market_index(market_of, weight, n_markets)

    wage_elasticity = p_market.wage_productivity_elasticity
    new_productivity = productivity.copy()
    patents_of = np.zeros(n)
    for i in range(n):  # rows are independent: each writes only its own row
        if not alive[i]:
            continue
        m = market_of[i]
        ind = industry[i]
        # production
        previous_value_added[i] = value_added[i]
        va = production.value_added(revenue[i], va_ratio[ind])
        value_added[i] = va
        workers = production.employment(va, productivity[i], price_index)
        employment[i] = workers
        # innovation
        rd = rd_propensity[i] * revenue[i]
        rd_spending[i] = rd
        imitated = innovation.imitates(rd, wage, key_innovation, i, p_innovation)
        peer = draw_peer(m, rows, starts, heaviest, weight, key_innovation, i, PEER_DRAW) if imitated else -1
        peer_productivity = productivity[peer] if peer >= 0 else 0.0
        a = innovation.innovate(productivity[i], rd, wage, imitated, peer_productivity, innovation_draws, key_innovation, i,
                                p_innovation)
        applications = patent_yield * rd
        patents_of[i] = weight[i] * applications
        patent_stock[i] = innovation.patent_stock(patent_stock[i], applications, p_innovation.patent_depreciation)
        # digital
        firm_wage = market.firm_wage(productivity[i], market_productivity[m], wage, wage_elasticity)
        wage_bill = workers * firm_wage
        ceiling = p_finance.leverage_ceiling_soe if firm_class[i] == STATE_OWNED else p_finance.leverage_ceiling_private
        stage = digital_stage[i]
        intensity = energy_intensity[i]
        if stage < N_STAGES - 1:
            cost = digital.upgrade_cost(revenue[i], labour_cost_index, p_digital.digital_cost_fixed, p_digital.digital_cost_share)
            benefit = p_digital.digital_productivity_gain * wage_bill * p_digital.digital_payback_years
            room = finance.credit_room(capital[i], cash[i], receivables[i], debt[i], ceiling)
            own = max(cash[i] - p_finance.cash_buffer_share * revenue[i], 0.0)
            if own + room >= cost:
                chance = digital.upgrade_probability(benefit, cost, peers_above[ind * N_REGIONS + region[i], stage],
                                                     p_digital.digital_max_rate, p_digital.digital_peer_effect)
                if uniform(key_digital, i, 0) < chance:
                    digital_stage[i] = stage + 1
                    a *= math.exp(p_digital.digital_productivity_gain)
                    intensity *= 1.0 - p_digital.digital_energy_saving
                    from_cash = min(own, cost)
                    cash[i] -= from_cash
                    debt[i] += cost - from_cash
        # finance
        days = p_finance.receivable_days + (p_finance.overdue_days_sme if firm_class[i] == SME else 0.0)
        desired = capital_to_revenue[ind] * revenue[i] * (1.0 + demand_growth[m])
        before = capital[i]
        k, c, d, r, invest, profit, tax, short = finance.finance_year(va, wage_bill, rd, revenue[i], desired, capital[i],
                                                                       cash[i], debt[i], receivables[i], days, ceiling, p_finance)
        capital[i], cash[i], debt[i], receivables[i], illiquid[i] = k, c, d, r, short
        a *= math.exp(finance.embodied_gain(invest, before, p_finance.embodiment_rate))
        intensity *= math.exp(-finance.embodied_gain(invest, before, p_finance.energy_embodiment))
        new_productivity[i] = a
        # energy
        intensity = energy.energy_intensity(intensity, p_energy.energy_efficiency_trend)
        energy_intensity[i] = intensity
        carbon_intensity[i] = energy.carbon_intensity(carbon_intensity[i], carbon_factor_change)
        energy_use[i] = energy.energy_use(intensity, va, price_index)
        # ladder
        relative_share = market_share[i] * firms_in_market[m]
        niche = revenue[i] * sme_firms[m] / sme_revenue[m] if sme_revenue[m] > 0.0 else 0.0
        intensity_rd = rd / revenue[i] if revenue[i] > 0.0 else 0.0
        ladder_rung[i] = ladder.promote(ladder_rung[i], firm_class[i], revenue[i], intensity_rd, relative_share, niche,
                                        manufacturing[ind], year, p_ladder, key_ladder, i)
        # size class of private firms
        if firm_class[i] == SME or firm_class[i] == LARGE_PRIVATE:
            firm_class[i] = LARGE_PRIVATE if revenue[i] >= sme_revenue_limit else SME
        age[i] += 1
    # Sums in row order, in one thread, so that results never depend on the number of threads.
    patents = 0.0
    real_va_by_market = np.zeros(n_markets)
    workers_by_market = np.zeros(n_markets)
    for i in range(n):
        if alive[i]:
            productivity[i] = new_productivity[i]
            patents += patents_of[i]
            real_va_by_market[market_of[i]] += weight[i] * value_added[i] / price_index
            workers_by_market[market_of[i]] += weight[i] * employment[i]
    return patents, real_va_by_market, workers_by_market
