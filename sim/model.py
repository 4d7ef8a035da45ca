"""IndustryModel: a thin Mesa model that calls the firm rules in a documented order.

The model is a pure function of (scenario, parameters, levers, seed, scale): `simulate()` builds the
2012 population, steps to 2035 and returns an xarray Dataset. Mesa's `Model` owns the run's seed and
orchestrates the yearly steps; firms are rows of numpy columns (sim.firms), not Mesa agents.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import mesa
import numpy as np
from numba import njit

from sim import taxonomy
from sim.calibration_data import load_initial_state
from sim.errors import ModelDivergence
from sim.indicators import YearContext, measure
from sim import levers as lever_module
from sim.levers import INNOVATION_CENTERS, N_LEVERS, REGIONAL_TRANSFER, RELOCATION, TRADE_SHOCK, LeverSchedule
from sim.parallel import Workspace, concurrently, default_threads, run_chunks
from sim.macro import FIRST_YEAR, LAST_YEAR, MacroPaths
from sim.memory import keep_freed_memory
from sim.population import build_population
from sim.randomness import stream, stream_key
from sim.rules import (digital, energy, entry_exit, finance, innovation, ladder, location, market, parameters_for, production, size_class,
                       trade)
from sim.weighted import weighted_sum
from sim.year import RuleParams, YearArrays, YearInputs, firm_year

N_SEGMENTS = taxonomy.N_SEGMENTS
MAX_ENTRY_MULTIPLE = 2.0  # more entrants in a year than twice the 2012 firms means the run has diverged


class Demand(NamedTuple):
    """A year's demand by market, M RMB."""

    domestic: np.ndarray  # revenue: domestic value added over the value-added ratio
    domestic_value_added: np.ndarray
    exports: np.ndarray
    world_exports: np.ndarray  # the world's import demand for the market's goods


def next_demand(model, year: int) -> Demand:
    """This year's demand by market from last year's: domestic demand for value added is a logit share
    of nominal GDP moving with each market's income elasticity (sim.rules.market), turned into revenue
    by this year's value-added ratio; exports are China's CES share of world demand, moved by
    relative unit labour cost and technology (sim.rules.trade). `model` supplies last year's demand,
    market productivity and R&D intensity, and this year's value-added ratios (IndustryModel, or the
    Mesa reference)."""
    p, macro = model.params, model.macro
    elasticity = p["domestic_demand_elasticity_scale"] * model.market_elasticity_base + p["emerging_elasticity_premium"] * model.market_emerging
    gdp_before, gdp_now = (float(macro.gdp_nominal[y - FIRST_YEAR]) * 1e6 for y in (year - 1, year))  # M RMB
    domestic_value_added = market.domestic_value_added(model.domestic_value_added, gdp_before, gdp_now, elasticity)
    domestic = domestic_value_added / np.asarray(model.va_ratio)[model.market_industry]
    if year == FIRST_YEAR + 1:  # no productivity growth is known before 2012: relative unit labour cost unchanged
        unit_labour_cost_growth = np.full(model.n_markets, macro.rate("world_price_growth", year))
    else:
        productivity_growth = model.market_productivity[-1] / model.market_productivity[-2]
        unit_labour_cost_growth = (1.0 + macro.rate("wage_growth", year)) / productivity_growth - 1.0
    technology_growth = np.divide(model.market_rd_intensity[-1], model.market_rd_intensity[-2],
                                  out=np.ones(model.n_markets), where=model.market_rd_intensity[-2] > 0) - 1.0
    odds_factor = trade.export_odds_factor(macro.rate("world_price_growth", year), unit_labour_cost_growth,
                                           p["export_price_elasticity"], technology_growth, p["export_technology_elasticity"])
    exports, world = trade.exports_from_share(model.export_demand, model.world_export_demand, odds_factor,
                                              macro.rate("world_demand_growth", year))
    return Demand(domestic, domestic_value_added, exports, world)


def world_export_demand_2012(export_demand: np.ndarray, macro: MacroPaths) -> np.ndarray:
    """World import demand by market in 2012 (M RMB): China's exports of the market over China's share
    of world goods imports, the same share in every market (assumption, calibration/macro_baseline.toml)."""
    return export_demand * macro.world_goods_imports_2012 * 1e6 / export_demand.sum()


@njit(cache=True, nogil=True)
def market_sums_2012(market_of, alive, weight, revenue, export_share, employment, productivity, rd_spending, n_markets):
    """Sums by market over live rows, in row order, in float64: revenue, exports, employment,
    employment x productivity, R&D (rows 0 to 4)."""
    sums = np.zeros((5, n_markets))
    for i in range(alive.size):
        if alive[i]:
            m = market_of[i]
            sales = np.float64(weight[i]) * np.float64(revenue[i])
            workers = np.float64(weight[i]) * np.float64(employment[i])
            sums[0, m] += sales
            sums[1, m] += sales * np.float64(export_share[i])
            sums[2, m] += workers
            sums[3, m] += workers * np.float64(productivity[i])
            sums[4, m] += np.float64(weight[i]) * np.float64(rd_spending[i])
    return sums


class IndustryModel(mesa.Model):
    """Industrial firms of China, 2012 to 2035, one step per year.

    Order of the rules within a year (each a pure function in sim/rules/):
      1. entry_exit.exit_mask   firms that failed last year leave (low share, negative net worth, illiquid);
                                location.relocate_abroad: export-oriented firms move abroad (relocation lever)
      2. market demand          domestic value added: a logit share of GDP moving with income elasticities;
                                exports: China's CES share of world demand, moved by unit labour cost and R&D
                                (trade.export_demand_shock: the trade_shock lever)
      3. entry_exit entrants    new small firms copy incumbents of growing markets;
                                location.transfer_inland: eastern firms move inland (regional_transfer lever)
      4. market.replicator      market shares move toward the more competitive; revenue = share x demand
      5. trade.export_shares    the market's export demand is shared by export orientation
      6. production             value added and employment
      7. innovation             R&D; innovation and imitation draws (productivity of next year); patents
      8. digital                moves up digital stages
      9. finance                profit, tax, receivables, investment under the credit ceiling
     10. energy                 energy intensity, energy use, carbon
     11. ladder                 SRDI, little-giant and champion recognition
     12. size class             private firms crossing the SME revenue limit change class
     13. indicators             national aggregates of the year, with each lever's fiscal cost
    Levers (calibration/levers.toml, sim/levers.py) reach the rules as one small table per year.
    """

    def __init__(self, params: dict[str, float], macro: MacroPaths, seed: int, scale: float, levers=None,
                 threads: int | None = None, coverage: str = "industrial"):
        super().__init__(rng=seed)
        keep_freed_memory()  # a pass's freed temporaries serve the next pass (sim.memory)
        self.threads = default_threads() if threads is None else int(threads)  # results do not depend on it
        self.seed = int(seed)
        self.params = params
        self.macro = macro
        self.scale = scale
        self.year = FIRST_YEAR
        self.industries = taxonomy.load_industries()
        self.assumptions = load_initial_state().assumptions
        self.firms, self.calibration = build_population(params, self.seed, scale, coverage)
        self.coverage = coverage
        # A firm exits below this real revenue: exit_revenue, moved down with the floor of the modelled
        # firms in a whole-population run (the micro floor instead of the band floor).
        self.exit_revenue = params["exit_revenue"] * self.calibration.entrant_floor_revenue / params["band_floor_revenue"]
        modules = {"market": market, "innovation": innovation, "digital": digital, "finance": finance, "energy": energy,
                   "ladder": ladder, "size_class": size_class}
        self.rule_params = {name: parameters_for(module, params) for name, module in modules.items()}
        self.rule_params["levers"] = parameters_for(lever_module, params)
        self.year_params = RuleParams(*(self.rule_params[name] for name in RuleParams._fields))
        self.levers = LeverSchedule(levers, len(self.industries))
        region_shares = np.asarray(self.assumptions["region_shares"], dtype=np.float64)
        self.central_share = float(region_shares[location.CENTRAL] / (region_shares[location.CENTRAL] + region_shares[location.WEST]))
        self.innovation_draws = innovation.draw_table(self.rule_params["innovation"])
        self.va_ratio_2012 = self.industries["va_to_revenue"].astype(np.float64)
        self.va_ratio = self.va_ratio_2012.copy()
        self.capital_to_revenue_2012 = np.asarray(self.calibration.capital_to_revenue, dtype=np.float64)
        self.capital_to_revenue = self.capital_to_revenue_2012.copy()
        self.wage = self.calibration.wage
        self.price_index = 1.0
        # World manufacturing = China's + the rest of the world's (an exogenous path), so China's share stays below 100%.
        self.rest_of_world_mfg_va = self.calibration.world_mfg_va - self._manufacturing_va()

        n_industries = len(self.industries)
        self.n_markets = n_industries * N_SEGMENTS
        market_industry = np.repeat(np.arange(n_industries), N_SEGMENTS)
        market_emerging = np.tile(np.arange(N_SEGMENTS), n_industries)
        self.market_elasticity_base = self.industries["income_elasticity"][market_industry]
        self.market_emerging = market_emerging.astype(bool)
        self.market_industry = market_industry

        f = self.firms
        if self.n_markets > np.iinfo(f.market_of.dtype).max + 1:
            raise ValueError(f"{self.n_markets} markets do not fit the firms' market column (sim.firms.FIRM_STATE)")
        market_of = self.market_of
        market_of[:] = self._markets()
        sums = market_sums_2012(market_of, f.alive, f.weight, f.revenue, f.export_share, f.employment, f.productivity,
                                f.rd_spending, self.n_markets)  # one pass: no column-sized temporaries
        self.demand, self.export_demand = sums[0], sums[1]
        self.world_export_demand = world_export_demand_2012(self.export_demand, macro)
        self.domestic_demand = self.demand - self.export_demand
        self.domestic_value_added = self.domestic_demand * self.va_ratio[market_industry]
        self.demand_growth = np.zeros(self.n_markets)
        # employment-weighted mean productivity (the firm wage norm, unit labour cost) and R&D intensity by market
        self.market_productivity = [np.divide(sums[3], sums[2], out=np.ones(self.n_markets), where=sums[2] > 0)] * 2
        self.market_rd_intensity = [np.divide(sums[4], sums[0], out=np.zeros(self.n_markets), where=sums[0] > 0)] * 2
        run_chunks(market.competitiveness_rows, f.capacity, f.bundle(), self.market_productivity[-1],
                   market.log_unit_costs(params["markup"], self.wage, self.market_productivity[-1]), self.rule_params["market"],
                   threads=self.threads)
        self.workspace = Workspace()  # the passes' temporaries, kept from year to year
        self.export_factor = np.zeros(self.n_markets)  # last year's export-share scale factors (trade.export_shares)
        self.initial_firms = float(np.sum(f.weight[f.alive], dtype=np.float64))
        self.reference_firms = self._firms_in_market(market_of)  # 2012 firms by market (entry crowding)
        self.records: list[dict] = []
        self._record(entries=0.0, exits=0.0, patents=self._patents_2012(), price_change=1.0, growth_input=self.calibration.above_scale_va_growth)

    # ------------------------------------------------------------------ helpers
    market_of = property(lambda self: self.firms.market_of, doc="each row's market (a column of the firms)")
    illiquid = property(lambda self: self.firms.illiquid, doc="whether the row's firm ran out of cash last year")
    wage_factor = property(lambda self: self.firms.wage_factor, doc="labour-cost factor of the row (1, or the regional wage ratio)")

    def _markets(self) -> np.ndarray:
        return taxonomy.market_index(self.firms.industry.astype(np.intp), self.firms.emerging)

    def _manufacturing_va(self) -> float:
        """China's manufacturing value added now (trillion RMB)."""
        f = self.firms
        manufacturing = self.industries["manufacturing"][f.industry]
        return weighted_sum(f.alive & manufacturing, f.weight, f.value_added, self.threads) / 1e6

    def _patents_2012(self) -> float:
        f = self.firms
        above = f.alive & (f.revenue >= self.params["threshold_revenue"])
        return weighted_sum(above, f.weight, f.rd_spending, self.threads) * self.calibration.patent_yield

    def _firms_in_market(self, market_of) -> np.ndarray:
        f = self.firms
        return entry_exit.firms_by_market(market_of, f.alive, f.weight, self.n_markets)

    def _record(self, entries, exits, patents, price_change, growth_input=None, fiscal_cost=None) -> None:
        context = YearContext(
            year=self.year,
            gdp=float(self.macro.gdp_nominal[self.year - FIRST_YEAR]),
            rest_of_world_mfg_va=self.rest_of_world_mfg_va,
            price_index=self.price_index,
            price_change=price_change,
            patent_applications=patents,
            threshold=self.params["threshold_revenue"],
            sei_industrial_fraction=float(self.assumptions["sei_industrial_fraction"]),
            growth_input=growth_input,
            entries=entries,
            exits=exits,
            fiscal_cost=np.zeros(N_LEVERS) if fiscal_cost is None else fiscal_cost,
        )
        values = measure(self.firms, context, self.industries["manufacturing"], self.industries["equipment"],
                         self.industries.index("new_energy_products"), len(self.industries), self.threads)
        self.records.append(values)

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        self.year += 1
        year, p, f, macro = self.year, self.params, self.firms, self.macro
        wage_growth = macro.rate("wage_growth", year)
        price_change = 1.0 + macro.rate("industrial_deflator", year)
        self.wage *= 1.0 + wage_growth
        self.price_index *= price_change
        self.rest_of_world_mfg_va *= 1.0 + macro.rate("rest_of_world_mfg_growth", year)
        labour_cost_index = self.wage / self.calibration.wage
        self.va_ratio = production.value_added_ratios(self.va_ratio_2012, p["value_added_ratio_trend"], year - FIRST_YEAR)
        self.capital_to_revenue = production.capital_to_revenue_ratios(self.capital_to_revenue_2012, self.va_ratio, self.va_ratio_2012)

        levers = self.levers.table(year)
        lever_params = self.rule_params["levers"]
        key_levers = stream_key(self.seed, "levers", year)
        fiscal = np.zeros(N_LEVERS)  # M RMB

        # 1. exit of last year's failures, and relocation abroad
        exits = entry_exit.apply_exits(f.alive, f.weight, f.market_share, f.revenue, f.capital, f.cash, f.receivables,
                                       f.debt, self.illiquid, self.price_index / price_change, self.exit_revenue,
                                       threads=self.threads)
        if levers[RELOCATION, 0] != 0.0:
            lost_exports = np.zeros(self.n_markets)
            exits += location.relocate_abroad(f.alive, f.weight, f.market_share, f.revenue, f.export_share, self.market_of,
                                              f.firm_class, f.region, f.industry, f.ladder_rung, levers, RELOCATION, key_levers,
                                              lever_params.relocation_min_export_share, lost_exports)
            self.export_demand = np.maximum(self.export_demand - lost_exports, 0.0)

        # 2. demand by market
        (self.domestic_demand, self.domestic_value_added, self.export_demand,
         self.world_export_demand) = next_demand(self, year)
        export_demand = self.export_demand  # the world's demand path; a trade shock shifts this year's level
        if levers[TRADE_SHOCK, 0] != 0.0:
            export_demand = export_demand * trade.export_demand_shock(self.market_industry, self.levers.industry_mask(TRADE_SHOCK),
                                                                      levers[TRADE_SHOCK, 0])
        demand = self.domestic_demand + export_demand
        self.demand_growth = np.divide(demand, self.demand, out=np.zeros(self.n_markets), where=self.demand > 0) - 1.0
        self.demand = demand

        # 3. entry
        entries = self._enter(stream(self.seed, "entry_exit", year))
        f = self.firms
        if levers[REGIONAL_TRANSFER, 0] != 0.0:
            subsidies, _ = location.transfer_inland(f.alive, f.weight, f.firm_class, f.region, f.industry, f.ladder_rung,
                                                    f.capital, f.cash, self.wage_factor, levers, REGIONAL_TRANSFER, key_levers,
                                                    self.central_share, lever_params)
            fiscal[REGIONAL_TRANSFER] += subsidies

        # 4. market shares and revenue
        market_of = self.market_of
        wages = self.workspace.array("market.wages", f.capacity)  # each live firm's labour cost per worker, for the firm year
        market.update_market_at_wages(market_of, f.weight, f.market_share, f.competitiveness, f.productivity, f.patent_stock,
                                      f.revenue, self.market_productivity[-1], demand, self.n_markets, self.wage,
                                      self.wage_factor, stream_key(self.seed, "market", year), self.rule_params["market"],
                                      threads=self.threads, wages=wages, workspace=self.workspace)

        # 5. exports
        trade.export_shares(f.export_propensity, f.revenue, f.weight, market_of, export_demand, self.workspace, out=f.export_share,
                            factor=self.export_factor)

        # 6-12. production, innovation, digital, finance, energy, ladder, size class (sim/year.py)
        year_inputs = YearInputs(year, self.wage, labour_cost_index, self.price_index, macro.rate("carbon_factor_change", year),
                                 self.calibration.patent_yield, p["threshold_revenue"],
                                 stream_key(self.seed, "innovation", year), stream_key(self.seed, "digital", year),
                                 stream_key(self.seed, "ladder", year), key_levers)
        arrays = YearArrays(self.va_ratio, self.capital_to_revenue, self.industries["manufacturing"], self.demand_growth, wages,
                            self.innovation_draws)
        patents, productivity_index, rd_intensity, spent = firm_year(f.bundle(), year_inputs, arrays, self.year_params, levers,
                                                                     self.n_markets, len(self.industries), self.threads,
                                                                     self.workspace)
        fiscal += spent
        # innovation centres cost the budget per centre, not per firm
        fiscal[INNOVATION_CENTERS] += self.levers.nominal(year)[INNOVATION_CENTERS] * lever_params.innovation_center_cost
        # National patent applications: a Poisson draw on the firms' expected applications (a sum of
        # independent Poisson counts is Poisson); firms' stocks accumulate their expected applications.
        applications = float(stream(self.seed, "innovation", year).poisson(patents))

        # 13. indicators
        self.market_productivity = [self.market_productivity[-1],
                                    np.where(productivity_index > 0, productivity_index, self.market_productivity[-1])]
        self.market_rd_intensity = [self.market_rd_intensity[-1],
                                    np.where(rd_intensity > 0, rd_intensity, self.market_rd_intensity[-1])]
        self._record(entries=entries, exits=exits, patents=applications, price_change=price_change,
                     fiscal_cost=fiscal / 1e3)  # M RMB -> billion RMB

    def _enter(self, rng: np.random.Generator) -> float:
        """Entrants of the year: small firms that copy a random incumbent of their market."""
        p, f = self.params, self.firms
        market_of = self.market_of
        # the firms by market (one pass in row order) on one thread while the others build the slot tables
        firms_in_market, slots = concurrently(
            lambda: self._firms_in_market(market_of),
            lambda: entry_exit.market_slots(market_of, f.weight, f.productivity, self.n_markets, self.threads,  # dead rows weigh 0
                                            self.workspace),
            threads=self.threads)
        expected = entry_exit.expected_entrants(firms_in_market, self.demand_growth, p["entry_rate"], p["entry_demand_sensitivity"],
                                                self.reference_firms, p["entry_crowding"])
        row_weight = self.calibration.entrant_row_weight[self.market_industry]
        if not np.all(np.isfinite(expected)) or expected.sum() > MAX_ENTRY_MULTIPLE * self.initial_firms:
            raise ModelDivergence(f"{self.year}: {expected.sum():.3g} entrants expected; demand or entry has diverged")
        rows_per_market = entry_exit.entrant_rows(expected, row_weight, rng)
        total = int(rows_per_market.sum())
        if total == 0:
            return 0.0
        new_market = self.workspace.array("entry.market", total, market_of.dtype)  # each entrant's market, in market order
        ends = np.cumsum(rows_per_market)
        for m in np.flatnonzero(rows_per_market):
            new_market[ends[m] - rows_per_market[m]:ends[m]] = m
        peers = entry_exit.draw_peers(new_market, *slots[:4], f.weight, np.uint64(rng.integers(2**63)), threads=self.threads,
                                      slot_weight=slots.slot_weight, workspace=self.workspace)
        if np.any(peers < 0):  # markets with no incumbent get no entrant
            has_peer = peers >= 0
            new_market, peers = new_market[has_peer], peers[has_peer]
        rows = f.free_rows(new_market.size, self.workspace.array("entry.rows", new_market.size, np.int64))
        floor = self.calibration.entrant_floor_revenue
        entrants = entry_exit.Entrants(rows, peers, new_market, row_weight, np.uint64(rng.integers(2**63)))
        terms = entry_exit.EntryTerms(floor, p["threshold_revenue"] / floor, math.exp(-p["entrant_productivity_gap"]),
                                      p["foreign_share"], float(self.assumptions["cash_to_revenue"]),
                                      float(self.assumptions["debt_to_capital"]), p["receivable_days"])
        economy = entry_exit.EntryMarket(self.market_productivity[-1],
                                         market.log_unit_costs(p["markup"], self.wage, self.market_productivity[-1]),
                                         p["wage_productivity_elasticity"], p["quality_weight"], self.demand, self.va_ratio,
                                         self.capital_to_revenue, self.price_index)
        return entry_exit.place_entrants(f.bundle(), entrants, terms, economy, threads=self.threads)

    def run_to_end(self) -> None:
        while self.year < LAST_YEAR:
            self.step()
