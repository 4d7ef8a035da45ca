"""One compiled loop over the firm columns per year: the rules of sim/rules/ in their order.

For each live firm, in this order (each line a rule of its own module):
  production   value added and employment                         (sim.rules.production)
  innovation   R&D; innovation and imitation; patent applications (sim.rules.innovation)
  digital      moving up a digital stage                          (sim.rules.digital)
  finance      profit, tax, receivables, investment, credit       (sim.rules.finance)
  energy       energy intensity and use, carbon intensity         (sim.rules.energy)
  ladder       SRDI, little-giant and champion recognition        (sim.rules.ladder)
  size class   private firms crossing the SME revenue limit change class
Policy levers (sim/levers.py) arrive as one small table per year (intensity and target masks per
lever): each rule reads the intensity that applies to the firm with `lever(...)` and skips the
lever's code when it is 0, so a lever at zero intensity reproduces the baseline bit for bit. What a
lever costs the budget is added up here, firm by firm, in M RMB by lever.
Market-level inputs the rules need (peers' digital stages by industry and region, SMEs' mean
revenue by market, firms per market) are gathered in a first pass, so that every firm sees the
same start-of-year state whatever its row. For the same reason imitators copy last year's
technology from the peer table's copy of it (sim.rules.entry_exit.market_slots, built in that first
pass too), so that a firm's new productivity can be written in place.

Why compiled: written as numpy column operations the year takes about a hundred passes over the
columns; fused into one numba loop it takes two (the market facts and peer tables, then the
firms). The rows are cut into fixed chunks run on threads (sim/parallel.py): rows are
independent, each chunk sums into its own slot, and slots are added in chunk order, so the result
is the same for any number of threads.
"""

from __future__ import annotations

import inspect
import os
import math

import numpy as np
from numba import njit

from sim import taxonomy
from sim.levers import (AI_EMPOWERMENT, ARREARS_ENFORCEMENT, CARBON_CONSTRAINT, DIGITAL_SUBSIDY, EQUIPMENT_RENEWAL,
                        GRADIENT_CULTIVATION, HAND_IN_HAND, INNOVATION_CENTERS, N_LEVERS, RD_SUPERDEDUCTION, SOE_REFORM)
from sim.levers import intensity as lever
from sim.levers import intensity_any_rung, rung_targeted
from sim.parallel import concurrently, partial_sums, run_chunks
from sim.randomness import uniform
from sim.rules import digital, energy, finance, innovation, ladder, production
from sim.rules.entry_exit import draw_slot, market_slots

N_STAGES = len(taxonomy.DIGITAL_STAGES)
N_REGIONS = len(taxonomy.REGIONS)
STATE_OWNED, LARGE_PRIVATE, SME = taxonomy.STATE_OWNED, taxonomy.LARGE_PRIVATE, taxonomy.SME
PEER_DRAW = 10
# Draw numbers of the "levers" stream (sim/rules/location.py uses 2 to 4).
DRAW_PARTNER, DRAW_PARTNER_SUCCESS = 0, 1
RUNG_NONE, RUNG_SRDI, RUNG_LITTLE_GIANT, RUNG_CHAMPION = (taxonomy.RUNG_NONE, taxonomy.RUNG_SRDI, taxonomy.RUNG_LITTLE_GIANT,
                                                  taxonomy.RUNG_CHAMPION)


@njit(cache=True, nogil=True)
def market_inputs(market_of, alive, weight, firm_class, industry, region, digital_stage, revenue, productivity, n_markets,
                  n_industries):
    """Start-of-year facts every firm of a market sees (market_of: each row's market, returned
    first): the share of peers (same industry and region) above each digital stage; SMEs' revenue
    and count, firms, and large firms' mean productivity by market."""
    n = alive.size
    stage_counts = np.zeros((n_industries * N_REGIONS, N_STAGES))
    sme_revenue = np.zeros(n_markets)
    sme_firms = np.zeros(n_markets)
    firms_in_market = np.zeros(n_markets)
    large_productivity = np.zeros(n_markets)  # weighted sums, then means, over non-SMEs (hand-in-hand)
    large_firms = np.zeros(n_markets)
    for i in range(n):
        if alive[i]:
            m = market_of[i]
            stage_counts[industry[i] * N_REGIONS + region[i], digital_stage[i]] += weight[i]
            firms_in_market[m] += weight[i]
            if firm_class[i] == SME:
                sme_revenue[m] += weight[i] * revenue[i]
                sme_firms[m] += weight[i]
            else:
                large_productivity[m] += weight[i] * productivity[i]
                large_firms[m] += weight[i]
    for m in range(n_markets):
        if large_firms[m] > 0.0:
            large_productivity[m] /= large_firms[m]
    return market_of, digital.peer_share_table(stage_counts), sme_revenue, sme_firms, firms_in_market, large_productivity


@njit(cache=True, nogil=True)
def firm_rows(start, stop, chunk, alive, weight, firm_class, ladder_rung, industry, emerging, region, digital_stage, age, market_share,
              revenue, previous_value_added, value_added, capital, employment, productivity, rd_propensity, rd_spending,
              patent_stock, energy_intensity, energy_use, carbon_intensity, cash, debt, receivables, illiquid,
              va_ratio, capital_to_revenue, manufacturing, demand_growth, n_markets, n_industries,
              year, wage, labour_cost_index, price_index, carbon_factor_change, patent_yield, threshold_revenue, sme_revenue_limit,
              innovation_draws, key_innovation, key_digital, key_ladder, p_innovation, p_digital, p_finance,
              p_energy, p_ladder, levers, wage_factor, wages, key_levers, p_levers,
              market_of, peers_above, sme_revenue, sme_firms, firms_in_market, large_productivity, starts, heaviest,
              lightest, slot_weight, slot_productivity, fiscal, patents, sums):
    """The year of rows [start, stop): every rule in order for each live firm. Imitators read
    last year's productivity of their peer from the slot table's copy (slot_productivity), so a
    row's new productivity is written in place. The chunk's fiscal cost by lever (M RMB), the
    expected patent applications of its above-scale firms and its sums by market (employment,
    employment x productivity, R&D, revenue, after the year) go to row `chunk` of `fiscal`,
    `patents` and `sums`."""
    # The chunk's sums are kept here and written once at the end: neighbouring chunks' slots share
    # cache lines, and a store per firm into them would make the two cores fight over those lines.
    spent = np.zeros(fiscal.shape[1])
    expected = 0.0
    by_market = np.zeros(sums.shape[1:])
    for i in range(start, stop):  # rows are independent: each writes only its own row
        if not alive[i]:
            continue
        m = market_of[i]
        ind = industry[i]
        cls, reg, rung = firm_class[i], region[i], ladder_rung[i]
        w = weight[i]
        # production
        previous_value_added[i] = value_added[i]
        va = production.value_added(revenue[i], va_ratio[ind])
        value_added[i] = va
        workers = production.employment(va, productivity[i], price_index)
        employment[i] = workers
        # innovation
        propensity = innovation.rd_propensity(rd_propensity[i], p_innovation.rd_propensity_trend)
        rd_propensity[i] = propensity
        deduction = lever(levers, RD_SUPERDEDUCTION, cls, reg, ind, rung)
        if deduction != 0.0:  # the firm's own propensity is kept; the deduction lifts this year's R&D
            rd = innovation.superdeduction_propensity(propensity, p_finance.corporate_tax_rate, deduction,
                                                      p_levers.rd_user_cost_elasticity) * revenue[i]
        else:
            rd = propensity * revenue[i]
        rd_spending[i] = rd
        # Effective R&D effort for the success draws (the same as scaling zeta): SOE reform, innovation centres.
        # State-owned firms turn R&D into technology less efficiently (p_innovation.soe_innovation_efficiency).
        imitation_effort = rd * p_innovation.soe_innovation_efficiency if cls == STATE_OWNED else rd
        innovation_effort = imitation_effort
        reform = lever(levers, SOE_REFORM, cls, reg, ind, rung) if cls == STATE_OWNED else 0.0
        if reform != 0.0:
            imitation_effort = imitation_effort * (1.0 + reform * p_levers.soe_reform_innovation_gain)
            innovation_effort = imitation_effort
        centres = lever(levers, INNOVATION_CENTERS, cls, reg, ind, rung)
        if centres != 0.0:
            imitation_effort = imitation_effort * (1.0 + p_levers.innovation_center_effect * centres)
            innovation_effort = innovation_effort * (1.0 + p_levers.innovation_center_effect * centres)
        imitated = innovation.imitates(imitation_effort, wage, key_innovation, i, p_innovation)
        peer = draw_slot(m, starts, heaviest, lightest, slot_weight, key_innovation, i, PEER_DRAW) if imitated else -1
        peer_productivity = slot_productivity[peer] if peer >= 0 else 0.0
        a = innovation.innovate(productivity[i], innovation_effort, wage, imitated, peer_productivity, innovation_draws,
                                key_innovation, i, p_innovation)
        partner = lever(levers, HAND_IN_HAND, cls, reg, ind, rung) if cls == SME else 0.0
        if partner != 0.0 and uniform(key_levers, i, DRAW_PARTNER) < partner:
            spent[HAND_IN_HAND] += w * p_levers.hand_in_hand_cost
            a = max(a, innovation.partner_imitation(productivity[i], large_productivity[m],
                                                    uniform(key_levers, i, DRAW_PARTNER_SUCCESS),
                                                    p_levers.hand_in_hand_success, p_innovation.imitation_absorption))
        applications = patent_yield * rd
        if revenue[i] >= threshold_revenue:  # the national figure counts above-scale firms (NBS's survey of them)
            expected += w * applications
        patent_stock[i] = innovation.patent_stock(patent_stock[i], applications, p_innovation.patent_depreciation)
        # digital
        wage_bill = workers * wages[i]  # labour cost per worker, from the market step
        ceiling = p_finance.leverage_ceiling_soe if firm_class[i] == STATE_OWNED else p_finance.leverage_ceiling_private
        if reform != 0.0:
            ceiling = finance.soe_ceiling(p_finance.leverage_ceiling_soe, p_finance.leverage_ceiling_private, reform)
        stage = digital_stage[i]
        intensity = energy_intensity[i]
        below_top = stage < N_STAGES - 1
        draw = uniform(key_digital, i, 0) if below_top else 1.0
        peer_share = peers_above[ind * N_REGIONS + reg, stage] if below_top else 0.0
        # most draws fail whatever the upgrade would cost and bring: those firms skip the working out
        if below_top and not digital.out_of_reach(draw, peer_share, p_digital.digital_max_rate,
                                                  p_digital.digital_peer_effect):
            cost = digital.upgrade_cost(revenue[i], labour_cost_index, p_digital.digital_cost_fixed, p_digital.digital_cost_share)
            gain = p_digital.digital_productivity_gain
            subsidy = lever(levers, DIGITAL_SUBSIDY, cls, reg, ind, rung)
            ai = lever(levers, AI_EMPOWERMENT, cls, reg, ind, rung) if stage >= 1 else 0.0  # into the top two stages
            own_cost = cost
            if subsidy != 0.0 or ai != 0.0:
                own_cost = cost * (1.0 - digital.state_share(subsidy, ai))
                if ai != 0.0:
                    gain = gain * (1.0 + p_levers.ai_productivity_boost)
            benefit = gain * wage_bill * p_digital.digital_payback_years
            room = finance.credit_room(capital[i], cash[i], receivables[i], debt[i], ceiling)
            own = max(cash[i] - p_finance.cash_buffer_share * revenue[i], 0.0)
            if own + room >= own_cost:
                if digital.upgrades(draw, benefit, own_cost, peer_share, p_digital.digital_max_rate, p_digital.digital_peer_effect):
                    digital_stage[i] = stage + 1
                    a *= math.exp(gain)
                    intensity *= 1.0 - p_digital.digital_energy_saving
                    from_cash = min(own, own_cost)
                    cash[i] -= from_cash
                    debt[i] += own_cost - from_cash
                    if subsidy != 0.0 or ai != 0.0:  # the state's share, split between the two levers
                        paid = cost - own_cost
                        spent[DIGITAL_SUBSIDY] += w * paid * subsidy / (subsidy + ai)
                        spent[AI_EMPOWERMENT] += w * paid * ai / (subsidy + ai)
        # finance
        arrears = lever(levers, ARREARS_ENFORCEMENT, cls, reg, ind, rung)
        if arrears != 0.0:
            days = finance.receivable_days_of(p_finance.receivable_days, p_finance.overdue_days_sme, firm_class[i] == SME,
                                              arrears)
        else:
            days = p_finance.receivable_days + (p_finance.overdue_days_sme if firm_class[i] == SME else 0.0)
        desired = capital_to_revenue[ind] * revenue[i] * (1.0 + demand_growth[m])
        grant = lever(levers, EQUIPMENT_RENEWAL, cls, reg, ind, rung)
        if grant != 0.0:
            desired = finance.desired_capital_with_grant(desired, grant, p_levers.capital_user_cost_elasticity)
        carbon_price = lever(levers, CARBON_CONSTRAINT, cls, reg, ind, rung)
        carbon_cost = energy.carbon_cost(energy_use[i], carbon_intensity[i], carbon_price) if carbon_price != 0.0 else 0.0
        support = intensity_any_rung(levers, GRADIENT_CULTIVATION, cls, reg, ind)
        income = 0.0  # gradient-cultivation support for a firm on a supported rung
        if support != 0.0 and rung != RUNG_NONE and rung_targeted(levers, GRADIENT_CULTIVATION, rung):
            income = support / 100.0 * revenue[i]
        before = capital[i]
        k, c, d, r, invest, profit, tax, short = finance.finance_year(va, wage_bill, rd, revenue[i], desired, capital[i],
                                                                       cash[i], debt[i], receivables[i], days, ceiling, p_finance,
                                                                       carbon_cost, income, deduction * rd, grant)
        capital[i], cash[i], debt[i], receivables[i], illiquid[i] = k, c, d, r, short
        if deduction != 0.0:  # forgone tax
            spent[RD_SUPERDEDUCTION] += w * (p_finance.corporate_tax_rate * max(profit, 0.0) - tax)
        if grant != 0.0:
            spent[EQUIPMENT_RENEWAL] += w * grant * invest
        if carbon_price != 0.0:
            spent[CARBON_CONSTRAINT] -= w * carbon_cost
        if income != 0.0:
            spent[GRADIENT_CULTIVATION] += w * income
        if invest != 0.0:  # no investment, no vintage gain (exp(0) = 1 exactly)
            a *= math.exp(finance.embodied_gain(invest, before, p_finance.embodiment_rate))
            intensity *= math.exp(-finance.embodied_gain(invest, before, p_finance.energy_embodiment))
        productivity[i] = a
        # energy
        intensity = energy.energy_intensity(intensity, p_energy.energy_efficiency_trend)
        if carbon_price != 0.0:
            intensity = energy.carbon_abatement(intensity, carbon_price, p_levers.carbon_abatement_response)
        energy_intensity[i] = intensity
        carbon_intensity[i] = energy.carbon_intensity(carbon_intensity[i], carbon_factor_change)
        energy_use[i] = energy.energy_use(intensity, va, price_index)
        # ladder
        relative_share = market_share[i] * firms_in_market[m]
        niche = revenue[i] * sme_firms[m] / sme_revenue[m] if sme_revenue[m] > 0.0 else 0.0
        intensity_rd = rd / revenue[i] if revenue[i] > 0.0 else 0.0
        if support != 0.0:  # gradient cultivation: recognition into a supported rung is more frequent
            boost = 1.0 + p_levers.gradient_recognition_response * support
            ladder_rung[i] = ladder.promote(ladder_rung[i], firm_class[i], revenue[i], intensity_rd, relative_share, niche,
                                            manufacturing[ind], year, p_ladder, key_ladder, i,
                                            boost if rung_targeted(levers, GRADIENT_CULTIVATION, RUNG_SRDI) else 1.0,
                                            boost if rung_targeted(levers, GRADIENT_CULTIVATION, RUNG_LITTLE_GIANT) else 1.0,
                                            boost if rung_targeted(levers, GRADIENT_CULTIVATION, RUNG_CHAMPION) else 1.0)
        else:
            ladder_rung[i] = ladder.promote(ladder_rung[i], firm_class[i], revenue[i], intensity_rd, relative_share, niche,
                                            manufacturing[ind], year, p_ladder, key_ladder, i)
        # size class of private firms
        if firm_class[i] == SME or firm_class[i] == LARGE_PRIVATE:
            firm_class[i] = LARGE_PRIVATE if revenue[i] >= sme_revenue_limit else SME
        age[i] += 1
        # the sums by market after the year, in row order within the chunk
        by_market[0, m] += weight[i] * employment[i]
        by_market[1, m] += weight[i] * employment[i] * productivity[i]
        by_market[2, m] += weight[i] * rd_spending[i]
        by_market[3, m] += weight[i] * revenue[i]
    fiscal[chunk] = spent
    patents[chunk] = expected
    sums[chunk] = by_market


# The year's inputs, in order: firm_rows' parameters between the chunk bounds and what firm_year computes.
_PARAMETERS = tuple(inspect.signature(firm_rows.py_func).parameters)
FIRM_YEAR_INPUTS = _PARAMETERS[3:_PARAMETERS.index("market_of")]


def firm_year(*inputs, threads=1, market_of=None, workspace=None):
    """Advance every live firm by one year (columns updated in place), in row chunks on `threads` threads.

    inputs: the firm columns, market arrays, scalars, random keys and rule parameters named in
    FIRM_YEAR_INPUTS (the parameters of firm_rows), among them levers: the year's lever table
    (sim.levers.LeverSchedule.table); wage_factor: labour-cost factor per row (1 except for firms
    that moved inland); wages: each row's labour cost per worker this year (float64, written by
    sim.rules.market.update_market_at_wages); key_levers: key of the "levers" stream. market_of:
    each row's market (industry x segments + emerging), computed here when not given. workspace: a
    sim.parallel.Workspace for the temporaries.

    Returns (expected invention patent applications of above-scale firms, and by market: the employment-weighted mean
    productivity after this year's gains, and R&D spending over revenue; then the fiscal cost by
    lever in M RMB)."""
    named = dict(zip(FIRM_YEAR_INPUTS, inputs, strict=True))
    alive, weight, productivity = (named[name] for name in ("alive", "weight", "productivity"))
    n_markets = named["n_markets"]
    n = alive.size
    if market_of is None:
        market_of = named["industry"].astype(np.intp) * (n_markets // named["n_industries"]) + named["emerging"]
    # The market sums (one pass in row order) on one thread while the others build the slot tables.
    market, slots = concurrently(
        lambda: market_inputs(market_of, *(named[name] for name in ("alive", "weight", "firm_class", "industry", "region",
                                                                    "digital_stage", "revenue", "productivity", "n_markets",
                                                                    "n_industries"))),
        lambda: market_slots(market_of, weight, productivity, n_markets, threads, workspace), threads=threads)
    fiscal = partial_sums(n, N_LEVERS)
    patents = partial_sums(n)
    sums = partial_sums(n, 4, n_markets)
    run_chunks(firm_rows, n, *inputs, *market, *slots[1:], fiscal, patents, sums, threads=threads)
    workers, technology, rd, sales = sums.sum(axis=0)
    technology_by_market = np.divide(technology, workers, out=np.zeros(n_markets), where=workers > 0.0)
    rd_by_market = np.divide(rd, sales, out=np.zeros(n_markets), where=sales > 0.0)
    return float(patents.sum()), technology_by_market, rd_by_market, fiscal.sum(axis=0)


def rules_compiled() -> bool:
    """Whether numba's cache already holds the firm rules compiled: the index file of the yearly loop's
    kernel, into which the rules compile, exists (in NUMBA_CACHE_DIR, one per version of the sources)."""
    try:
        return os.path.exists(firm_rows._cache._cache_file._index_path)
    except AttributeError:  # another numba's internals: rather no notice than a wrong one
        return True
