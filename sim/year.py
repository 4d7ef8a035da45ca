"""A firm's year: the rules of sim/rules/ in their documented order, in one compiled loop over the rows.

For each live firm, in this order (each step a rule of its process's module):
  production   value added and employment                         (sim.rules.production)
  innovation   R&D; innovation and imitation; patent applications (sim.rules.innovation)
  digital      moving up a digital stage                          (sim.rules.digital)
  finance      profit, tax, receivables, investment, credit       (sim.rules.finance)
  energy       energy intensity and use, carbon intensity         (sim.rules.energy)
  ladder       SRDI, little-giant and champion recognition        (sim.rules.ladder)
  size class   private firms crossing the SME revenue limit       (sim.rules.size_class)
The formulas live in those modules; this file only reads each firm's lever intensities from the
year's lever table (sim/levers.py), passes values from one rule to the next, and adds up what the
levers cost the budget (M RMB by lever) and the sums by market the next year needs. A lever at
zero intensity is skipped by its rule, so it reproduces the baseline bit for bit.

The loop's inputs come in bundles: the firm columns (sim.firms.FirmColumns, generated from
FIRM_STATE), the year's scalars (YearInputs), the year's arrays by industry, market and row
(YearArrays), the start-of-year market facts (MarketFacts), the rules' parameters (RuleParams) and
the lever table. Market facts (peers' digital stages by industry and region, SMEs' revenue by
market, firms per market, large firms' productivity) are gathered in a first pass, so that every
firm sees the same start-of-year state whatever its row; imitators copy last year's technology
from the slot table's copy of it (sim.rules.entry_exit.market_slots), so that a firm's new
productivity can be written in place.

Why compiled: written as numpy column operations the year takes about a hundred passes over the
columns; fused into one numba loop it takes two. The rows are cut into fixed chunks run on threads
(sim/parallel.py): rows are independent, each chunk sums into its own slot, and slots are added in
chunk order, so the result is the same for any number of threads.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np
from numba import njit

from sim import taxonomy
from sim.levers import (AI_EMPOWERMENT, ARREARS_ENFORCEMENT, CARBON_CONSTRAINT, DIGITAL_SUBSIDY, EQUIPMENT_RENEWAL,
                        GRADIENT_CULTIVATION, HAND_IN_HAND, INNOVATION_CENTERS, N_LEVERS, RD_SUPERDEDUCTION, SOE_REFORM)
from sim.lever_table import intensity as lever
from sim.lever_table import intensity_any_rung, rung_targeted
from sim.parallel import concurrently, partial_sums, run_chunks
from sim.rules import demand, digital, energy, finance, innovation, ladder, production, size_class
from sim.rules.entry_exit import draw_slot, market_slots

N_STAGES = len(taxonomy.DIGITAL_STAGES)
N_REGIONS = len(taxonomy.REGIONS)
STATE_OWNED, SME = taxonomy.STATE_OWNED, taxonomy.SME
RUNG_NONE, RUNG_SRDI, RUNG_LITTLE_GIANT, RUNG_CHAMPION = (taxonomy.RUNG_NONE, taxonomy.RUNG_SRDI, taxonomy.RUNG_LITTLE_GIANT,
                                                  taxonomy.RUNG_CHAMPION)
# The sums by market after the year (rows of firm_year's table): employment, employment x
# productivity, R&D, revenue, capital, investment, carbon charges, value added, patent stock, energy use;
# then, over the continuing firms (those that were alive last year), employment and employment x
# productivity before the year and after it (the chained productivity index, sim.rules.demand).
MARKET_SUMS = ("employment", "technology", "rd", "revenue", "capital", "investment", "carbon_charges", "value_added",
               "patent_stock", "energy", "continuing_employment_before", "continuing_technology_before",
               "continuing_employment_after", "continuing_technology_after")
N_MARKET_SUMS = len(MARKET_SUMS)
# Each chunk's row of the fiscal and market sums is padded by this many float64 (512 bytes), so that
# no two chunks' sums share a cache line while two threads add to them.
PADDING = 64


class YearInputs(NamedTuple):
    """The year's scalars."""

    year: int
    wage: float  # national labour cost per worker, M RMB
    labour_cost_index: float  # wage over its 2012 level
    rd_trend_rate: float  # this year's rate of the R&D-propensity trend (sim.rules.trend)
    carbon_factor_change: float  # change of CO2 per tce this year (macro path)
    patent_yield: float  # invention patent applications per M RMB of R&D
    threshold_revenue: float  # "above designated size", M RMB
    key_innovation: np.uint64  # the year's keys of the random streams (sim.randomness.stream_key)
    key_digital: np.uint64
    key_ladder: np.uint64
    key_levers: np.uint64


class YearArrays(NamedTuple):
    """The year's arrays by industry, by market and by row."""

    va_ratio: np.ndarray  # by industry: value added over revenue
    capital_to_revenue: np.ndarray  # by industry: desired capital per unit of revenue
    manufacturing: np.ndarray  # by industry: counts as manufacturing
    demand_growth: np.ndarray  # by market: last change of demand
    va_price: np.ndarray  # by market: price of value added this year, 2012 = 1 (sim.rules.demand)
    rd_return: np.ndarray  # by market: expected return on R&D, the factor on firms' R&D shares (sim.rules.innovation.rd_returns)
    wages: np.ndarray  # by row: labour cost per worker this year (sim.rules.market.update_market_at_wages)
    innovation_draws: np.ndarray  # tabulated quantiles of an innovation's log productivity change


class MarketFacts(NamedTuple):
    """Start-of-year facts every firm of a market sees (market_inputs, market_slots)."""

    peers_above: np.ndarray  # by industry x region and stage: share of peers above the stage
    sme_revenue: np.ndarray  # by market: SMEs' revenue, M RMB
    sme_firms: np.ndarray  # by market: SMEs
    firms_in_market: np.ndarray  # by market: firms
    large_productivity: np.ndarray  # by market: mean productivity of firms that are not SMEs
    starts: np.ndarray  # the slot table of live rows by market (sim.rules.entry_exit.MarketSlots)
    heaviest: np.ndarray
    lightest: np.ndarray
    slot_weight: np.ndarray
    slot_productivity: np.ndarray  # last year's productivity of each slot's row


class MarketSums(NamedTuple):
    """Sums by market over the live firms after the year (M RMB, workers, patents)."""

    employment: np.ndarray
    technology: np.ndarray  # employment x productivity
    rd: np.ndarray
    revenue: np.ndarray
    capital: np.ndarray
    investment: np.ndarray
    carbon_charges: np.ndarray
    value_added: np.ndarray
    patent_stock: np.ndarray
    energy: np.ndarray  # tce
    continuing_employment_before: np.ndarray  # firms alive last year: their employment last year
    continuing_technology_before: np.ndarray  # their employment x productivity last year
    continuing_employment_after: np.ndarray  # the same after this year
    continuing_technology_after: np.ndarray

    def productivity(self, fallback):
        """Employment-weighted mean productivity by market (`fallback` where a market has no workers)."""
        return np.divide(self.technology, self.employment, out=np.array(fallback, dtype=np.float64), where=self.employment > 0.0)

    def productivity_index_change(self):
        """Change of each market's productivity index over the year (sim.rules.demand.productivity_index_change)."""
        return demand.productivity_index_change(self.continuing_employment_before, self.continuing_technology_before,
                                                self.continuing_employment_after, self.continuing_technology_after)

    def rd_intensity(self):
        """R&D over revenue by market (0 where a market has no revenue)."""
        return np.divide(self.rd, self.revenue, out=np.zeros(self.revenue.size), where=self.revenue > 0.0)


class RuleParams(NamedTuple):
    """The rules' parameters (each a Params tuple of its module; sim.rules.parameters_for)."""

    innovation: tuple
    digital: tuple
    finance: tuple
    energy: tuple
    ladder: tuple
    size_class: tuple
    levers: tuple


@njit(cache=True, nogil=True)
def market_inputs(f, n_markets, n_industries):
    """MarketFacts' sums over live rows (peers above each digital stage by industry and region; SMEs'
    revenue and count, firms, and large firms' mean productivity by market), in row order."""
    # the columns taken out of the bundle once, not per row (each take counts a reference: see firm_rows)
    alive, market_of, weight, industry, region, digital_stage, firm_class, revenue, productivity = (
        f.alive, f.market_of, f.weight, f.industry, f.region, f.digital_stage, f.firm_class, f.revenue, f.productivity)
    stage_counts = np.zeros((n_industries * N_REGIONS, N_STAGES))
    sme_revenue = np.zeros(n_markets)
    sme_firms = np.zeros(n_markets)
    firms_in_market = np.zeros(n_markets)
    large_productivity = np.zeros(n_markets)  # weighted sums, then means, over non-SMEs (hand-in-hand)
    large_firms = np.zeros(n_markets)
    for i in range(alive.size):
        if alive[i]:
            m = market_of[i]
            w = weight[i]
            stage_counts[industry[i] * N_REGIONS + region[i], digital_stage[i]] += w
            firms_in_market[m] += w
            if firm_class[i] == SME:
                sme_revenue[m] += w * revenue[i]
                sme_firms[m] += w
            else:
                large_productivity[m] += w * productivity[i]
                large_firms[m] += w
    for m in range(n_markets):
        if large_firms[m] > 0.0:
            large_productivity[m] /= large_firms[m]
    return digital.peer_share_table(stage_counts), sme_revenue, sme_firms, firms_in_market, large_productivity


@njit(cache=True, nogil=True, _nrt=False)
def firm_rows(start, stop, chunk, f, y, arrays, facts, p, levers, fiscal, patents, sums):
    """The year of rows [start, stop): every rule in order for each live firm. The chunk's fiscal
    cost by lever (M RMB), the expected patent applications of its above-scale firms and its sums
    by market (N_MARKET_SUMS, after the year) are added up in row `chunk` of `fiscal`, `patents`
    and `sums` (rows padded apart: see PADDING).

    Compiled without numba's reference counting (_nrt=False, so nothing here allocates): with it,
    every read of a column out of the bundle counts a reference, which made the loop 4x slower."""
    spent = fiscal[chunk]
    expected = 0.0
    by_market = sums[chunk]
    pl = p.levers
    for i in range(start, stop):  # rows are independent: each writes only its own row
        if not f.alive[i]:
            continue
        m, ind, cls, reg, rung, w = f.market_of[i], f.industry[i], f.firm_class[i], f.region[i], f.ladder_rung[i], f.weight[i]
        continuing = f.age[i] > 0  # alive last year (this year's entrants are at age 0)
        workers_before, productivity_before = f.employment[i], f.productivity[i]

        # production
        va, workers = production.produce(f, i, arrays.va_ratio[ind], arrays.va_price[m])

        # innovation: R&D, its effective effort, imitation of a peer, innovation, hand-in-hand, patents
        wage_bill = production.wage_bill(workers, arrays.wages[i])
        deduction = lever(levers, RD_SUPERDEDUCTION, cls, reg, ind, rung)
        funds = finance.internal_funds(f.cash[i], f.revenue[i], p.finance.cash_buffer_share, va, wage_bill)
        rd = innovation.spend_on_rd(f, i, y.rd_trend_rate, arrays.rd_return[m], funds, p.finance.corporate_tax_rate, deduction,
                                    pl.rd_user_cost_elasticity)
        reform = lever(levers, SOE_REFORM, cls, reg, ind, rung) if cls == STATE_OWNED else 0.0
        centres = lever(levers, INNOVATION_CENTERS, cls, reg, ind, rung)
        imitation_effort, innovation_effort = innovation.rd_effort(rd, cls == STATE_OWNED, p.innovation, reform,
                                                                   pl.soe_reform_innovation_gain, centres,
                                                                   pl.innovation_center_effect)
        imitated = innovation.imitates(imitation_effort, y.wage, y.key_innovation, i, p.innovation)
        peer = draw_slot(m, facts.starts, facts.heaviest, facts.lightest, facts.slot_weight, y.key_innovation, i,
                         innovation.DRAW_PEER) if imitated else -1
        peer_productivity = facts.slot_productivity[peer] if peer >= 0 else 0.0
        a = innovation.innovate(f.productivity[i], innovation_effort, y.wage, imitated, peer_productivity,
                                arrays.innovation_draws, y.key_innovation, i, p.innovation)
        partner = lever(levers, HAND_IN_HAND, cls, reg, ind, rung) if cls == SME else 0.0
        if partner != 0.0:
            a, cost = innovation.hand_in_hand(a, f.productivity[i], facts.large_productivity[m], partner, y.key_levers, i,
                                              pl.hand_in_hand_success, pl.hand_in_hand_cost, p.innovation.imitation_absorption)
            if cost != 0.0:
                spent[HAND_IN_HAND] += w * cost
        applications = innovation.patent_applications(y.patent_yield, rd)
        if f.revenue[i] >= y.threshold_revenue:  # the national figure counts above-scale firms (NBS's survey of them)
            expected += w * applications
        f.patent_stock[i] = innovation.patent_stock(f.patent_stock[i], applications, p.innovation.patent_depreciation)

        # digital
        ceiling = finance.credit_ceiling(cls == STATE_OWNED, reform, p.finance)
        intensity = f.energy_intensity[i]
        subsidy = lever(levers, DIGITAL_SUBSIDY, cls, reg, ind, rung)
        ai = lever(levers, AI_EMPOWERMENT, cls, reg, ind, rung) if f.digital_stage[i] >= 1 else 0.0  # top two stages
        upgraded, gain, paid = digital.upgrade(f, i, y.key_digital, facts.peers_above, ind * N_REGIONS + reg,
                                               y.labour_cost_index, wage_bill, ceiling, p.finance.cash_buffer_share,
                                               subsidy, ai, pl.ai_productivity_boost, p.digital)
        if upgraded:
            a *= math.exp(gain)
            intensity *= 1.0 - p.digital.digital_energy_saving
            if subsidy != 0.0 or ai != 0.0:
                to_subsidy, to_ai = digital.lever_payments(w, paid, subsidy, ai)
                spent[DIGITAL_SUBSIDY] += to_subsidy
                spent[AI_EMPOWERMENT] += to_ai

        # finance
        days = finance.receivable_days_of(p.finance.receivable_days, p.finance.overdue_days_sme, cls == SME,
                                          lever(levers, ARREARS_ENFORCEMENT, cls, reg, ind, rung))
        grant = lever(levers, EQUIPMENT_RENEWAL, cls, reg, ind, rung)
        desired = finance.desired_capital(arrays.capital_to_revenue[ind], f.revenue[i], arrays.demand_growth[m], grant,
                                          pl.capital_user_cost_elasticity)
        carbon_price = lever(levers, CARBON_CONSTRAINT, cls, reg, ind, rung)
        carbon_cost = energy.carbon_charge(f, i, carbon_price)
        support = intensity_any_rung(levers, GRADIENT_CULTIVATION, cls, reg, ind)
        income = 0.0  # gradient-cultivation support for a firm on a supported rung
        if support != 0.0 and rung != RUNG_NONE and rung_targeted(levers, GRADIENT_CULTIVATION, rung):
            income = ladder.support_income(support, f.revenue[i])
        invest, profit, tax, before = finance.settle_accounts(f, i, va, wage_bill, rd, desired, days, ceiling, p.finance,
                                                              carbon_cost, income, deduction * rd, grant)
        if deduction != 0.0:
            spent[RD_SUPERDEDUCTION] += finance.forgone_tax(w, profit, tax, p.finance.corporate_tax_rate)
        if grant != 0.0:
            spent[EQUIPMENT_RENEWAL] += finance.grant_cost(w, grant, invest)
        if carbon_price != 0.0:  # revenue: a negative cost
            spent[CARBON_CONSTRAINT] -= w * carbon_cost
        if income != 0.0:
            spent[GRADIENT_CULTIVATION] += w * income
        a, intensity = finance.embodied_change(a, intensity, invest, before, p.finance)
        f.productivity[i] = a

        # energy
        energy.use_energy(f, i, intensity, va, arrays.va_price[m], y.carbon_factor_change, carbon_price,
                          pl.carbon_abatement_response, p.energy)

        # ladder
        rd_intensity, relative_share, niche = ladder.ladder_inputs(f, i, facts.firms_in_market[m], facts.sme_firms[m],
                                                                   facts.sme_revenue[m], rd)
        srdi_boost = little_giant_boost = champion_boost = 1.0
        if support != 0.0:  # gradient cultivation: recognition into a supported rung is more frequent
            boost = ladder.recognition_boost(support, pl.gradient_recognition_response)
            srdi_boost = boost if rung_targeted(levers, GRADIENT_CULTIVATION, RUNG_SRDI) else 1.0
            little_giant_boost = boost if rung_targeted(levers, GRADIENT_CULTIVATION, RUNG_LITTLE_GIANT) else 1.0
            champion_boost = boost if rung_targeted(levers, GRADIENT_CULTIVATION, RUNG_CHAMPION) else 1.0
        f.ladder_rung[i] = ladder.promote(f.ladder_rung[i], cls, f.revenue[i], rd_intensity, relative_share, niche,
                                          arrays.manufacturing[ind], y.year, p.ladder, y.key_ladder, i, srdi_boost,
                                          little_giant_boost, champion_boost)

        # size class, age
        f.firm_class[i] = size_class.size_class(cls, f.revenue[i], p.size_class)
        f.age[i] += 1

        # the sums by market after the year, in row order within the chunk
        by_market[0, m] += w * f.employment[i]
        by_market[1, m] += w * f.employment[i] * f.productivity[i]
        by_market[2, m] += w * f.rd_spending[i]
        by_market[3, m] += w * f.revenue[i]
        by_market[4, m] += w * f.capital[i]
        by_market[5, m] += w * invest
        by_market[6, m] += w * carbon_cost
        by_market[7, m] += w * va
        by_market[8, m] += w * f.patent_stock[i]
        by_market[9, m] += w * f.energy_use[i]
        if continuing:
            by_market[10, m] += w * workers_before
            by_market[11, m] += w * workers_before * productivity_before
            by_market[12, m] += w * f.employment[i]
            by_market[13, m] += w * f.employment[i] * f.productivity[i]
    patents[chunk] = expected


def firm_year(f, year: YearInputs, arrays: YearArrays, params: RuleParams, levers: np.ndarray, n_markets: int,
              n_industries: int, threads: int = 1, workspace=None):
    """Advance every live firm by one year (columns of `f`, a sim.firms.FirmColumns, updated in
    place), in row chunks on `threads` threads. levers: the year's lever table
    (sim.levers.LeverSchedule.table); workspace: a sim.parallel.Workspace for the temporaries.

    Returns (expected invention patent applications of above-scale firms, the sums by market after
    the year (MarketSums), the fiscal cost by lever in M RMB)."""
    n = f.alive.size
    # The market sums (one pass in row order) on one thread while the others build the slot tables.
    market, slots = concurrently(lambda: market_inputs(f, n_markets, n_industries),
                                 lambda: market_slots(f.market_of, f.weight, f.productivity, n_markets, threads, workspace),
                                 threads=threads)
    facts = MarketFacts(*market, slots.starts, slots.heaviest, slots.lightest, slots.slot_weight, slots.slot_value)
    fiscal = partial_sums(n, N_LEVERS + PADDING)
    patents = partial_sums(n)
    padding_rows = math.ceil(PADDING / n_markets)  # rows of n_markets float64 that hold at least PADDING
    sums = partial_sums(n, N_MARKET_SUMS + padding_rows, n_markets)
    run_chunks(firm_rows, n, f, year, arrays, facts, params, levers, fiscal, patents, sums, threads=threads)
    fiscal = fiscal[:, :N_LEVERS]
    by_market = MarketSums(*sums[:, :N_MARKET_SUMS].sum(axis=0))
    return float(patents.sum()), by_market, fiscal.sum(axis=0)


def rules_compiled() -> bool:
    """Whether numba's cache already holds the firm rules compiled: the index file of the yearly loop's
    kernel, into which the rules compile, exists (in NUMBA_CACHE_DIR, one per version of the sources)."""
    try:
        return os.path.exists(firm_rows._cache._cache_file._index_path)
    except AttributeError:  # another numba's internals: rather no notice than a wrong one
        return True
