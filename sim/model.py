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
from sim.allocator import keep_freed_memory
from sim.population import build_population
from sim.randomness import stream, stream_key
from sim.rules import (demand, digital, energy, entry_exit, finance, innovation, ladder, location, market, parameters_for, production,
                       size_class, trade, trend)
from sim.weighted import weighted_sum
from sim.year import RuleParams, YearArrays, YearInputs, firm_year

N_SEGMENTS = taxonomy.N_SEGMENTS
MAX_ENTRY_MULTIPLE = 2.0  # more entrants in a year than twice the 2012 firms means the run has diverged
MIN_TECHNOLOGY_LEVEL = 1e-3  # a market whose patents per unit of revenue fell a thousandfold counts as at a thousandth


class Demand(NamedTuple):
    """A year's prices and demand by market (M RMB; prices 2012 = 1)."""

    domestic: np.ndarray  # revenue served: domestic demand for value added over the value-added ratio, up to capacity
    exports: np.ndarray  # exports served: the world's demand for China's goods (the trade shock included), up to capacity
    export_path: np.ndarray  # the same without this year's trade shock (next year starts from it)
    world_exports: np.ndarray  # the world's import demand for the market's goods
    economy: demand.Economy  # domestic demand for value added, GDP (sim.rules.demand.close)
    va_price: np.ndarray
    output_price: np.ndarray
    world_price: float
    markup_factor: np.ndarray  # by market: the markup at last year's capacity utilisation over the normal markup


def next_demand(model, year: int, capacity, export_shock=None) -> Demand:
    """This year's prices and demand by market, from last year's state (sim.rules.demand, sim.rules.trade):
      1. prices: the value-added price from last year's wage (prices are set on the year's costs as
         known when it starts), this year's productivity of the market, its markup
         at last year's capacity utilisation and last year's carbon charges; the output price from it
         and world input prices;
      2. exports: China's share of world demand closes part of its gap to the share its relative
         price and technology level call for; `export_shock` (by market) scales them (trade_shock);
      3. domestic demand for value added and GDP, solved together with the rest of the economy, and
         what each market's `capacity` (revenue at full utilisation) serves of its demand (the rest is imported).
    `model` supplies last year's state (IndustryModel, or the Mesa reference)."""
    p, dp, macro = model.params, model.demand_params, model.macro
    va_ratio = model.va_ratio[model.market_industry]
    factor = demand.markup_factor(model.utilization, dp)
    markup = p["markup"] * factor
    va_price = demand.value_added_price(markup, p["markup"], model.wage_before / model.wage_2012,
                                        model.productivity_index, model.carbon_share)
    input_price_change = 1.0 + macro.rate("world_price_growth", year)
    output_price = model.output_price * demand.output_price_change(va_price / model.economy.va_price, input_price_change,
                                                                   va_ratio)
    world_price = model.world_price * input_price_change
    target = trade.target_log_odds(model.export_log_odds_2012, output_price / world_price, technology_level(model),
                                   p["export_price_elasticity"], p["export_technology_elasticity"])
    exports, world = trade.exports_from_share(model.export_demand, model.world_export_demand, target,
                                              p["export_adjustment_rate"], macro.rate("world_demand_growth", year))
    shocked = exports if export_shock is None else exports * export_shock
    rest_real_growth = 1.0 + macro.rate("rest_real_growth", year)
    rest = model.economy.rest * rest_real_growth * (1.0 + macro.rate("rest_deflator", year))
    rest_real = model.economy.rest_real * rest_real_growth
    premium = trend.rate_in(1.0, year - FIRST_YEAR, p["trend_half_life"])  # the emerging premium's catch-up, halving
    elasticity = demand.income_elasticities(model.market_elasticity_base, model.market_emerging, dp, premium)
    closed = demand.close(model.economy, va_price, rest, rest_real, shocked, va_ratio, capacity, elasticity, dp)
    economy = closed.economy
    return Demand(closed.served * economy.domestic_value_added / va_ratio, closed.served * shocked, exports, world, economy,
                  va_price, output_price, world_price, factor)


def world_export_demand_2012(export_demand: np.ndarray, macro: MacroPaths) -> np.ndarray:
    """World import demand by market in 2012 (M RMB): China's exports of the market over China's share
    of world goods imports, the same share in every market (assumption, calibration/macro_baseline.toml)."""
    return export_demand * macro.world_goods_imports_2012 * 1e6 / export_demand.sum()


def start_markets(model, sums, macro) -> None:
    """The 2012 state of the demand closure (sim.rules.demand) and of export competitiveness, set on
    `model` (IndustryModel or the Mesa reference) from its 2012 sums by market (market_sums_2012): prices
    at 1, each market at normal utilisation (its 2012 capital per unit of revenue is the one it
    needs), GDP from the macro input, the rest of the economy what industry leaves of it."""
    n, mi = model.n_markets, model.market_industry
    model.productivity_index = np.ones(n)
    model.rd_return = np.ones(n)
    model.capital_by_market = sums[5]
    model.capital_need_2012 = np.divide(sums[5], sums[0], out=model.capital_to_revenue_2012[mi].copy(), where=sums[0] > 0)
    model.utilization = np.full(n, model.demand_params.normal_utilization)
    model.carbon_share = np.zeros(n)
    model.va_price, model.output_price, model.world_price = np.ones(n), np.ones(n), 1.0
    model.export_log_odds_2012 = trade.log_odds_of(model.export_demand, model.world_export_demand)
    model.patents_per_revenue_2012 = np.divide(sums[6], sums[0], out=np.zeros(n), where=sums[0] > 0)
    model.patents_per_revenue = model.patents_per_revenue_2012
    domestic_value_added = (model.demand - model.export_demand) * model.va_ratio[mi]
    gdp = macro.gdp_nominal_2012 * 1e6  # M RMB
    rest = gdp - float(np.sum(model.demand * model.va_ratio[mi]))
    if not rest > 0.0:
        raise ModelDivergence(f"2012: modelled industry's value added is not below GDP ({gdp / 1e6:.4g} trillion RMB)")
    model.economy = demand.Economy(domestic_value_added, model.va_price, gdp, gdp, rest, rest)
    # 2012 investment: the replacement of depreciation (the 2012 state records no demand growth, so firms'
    # desired capital is the capital they hold)
    model.investment = model.params["depreciation_rate"] * float(sums[5].sum())



def next_rd_returns(model, opened: OpenedYear) -> np.ndarray:
    """This year's factor on firms' R&D shares by market (sim.rules.innovation): last year's, moved
    toward the expected return that this year's markups and demand growth against GDP's imply."""
    p = model.params
    target = innovation.rd_returns(opened.demand.markup_factor, p["markup"], model.demand_growth,
                                   opened.demand.economy.gdp / model.economy.gdp - 1.0, p["interest_rate"],
                                   p["patent_depreciation"])
    return innovation.adjusted_rd_returns(model.rd_return, target, p["rd_adjustment_rate"])


def technology_level(model) -> np.ndarray:
    """Each market's patent stock per unit of revenue relative to 2012 (1 where it had none), at least
    MIN_TECHNOLOGY_LEVEL: the technology level of export competitiveness (sim.rules.trade)."""
    level = np.divide(model.patents_per_revenue, model.patents_per_revenue_2012, out=np.ones(model.n_markets),
                      where=model.patents_per_revenue_2012 > 0)
    return np.maximum(level, MIN_TECHNOLOGY_LEVEL)

def capital_need(model) -> np.ndarray:
    """Capital per unit of revenue each market needs at normal utilisation this year: its 2012 ratio
    moved with the value-added ratio (as firms' desired capital, sim.rules.production)."""
    mi = model.market_industry
    return model.capital_need_2012 * model.va_ratio[mi] / model.va_ratio_2012[mi]


class OpenedYear(NamedTuple):
    """What open_markets leaves for the rest of the year."""

    exports: np.ndarray  # by market: export demand served this year, M RMB
    demand: Demand
    capital_need: np.ndarray  # by market: capital per unit of revenue at normal utilisation
    va_price_before: np.ndarray  # by market: last year's value-added prices
    ppi: float  # % change of industrial producer prices


def open_markets(model, year: int, shock=None) -> OpenedYear:
    """Step 2 of the year on `model` (IndustryModel or the Mesa reference): this year's prices and
    demand (next_demand), served up to each market's capacity (demand beyond it is imported); the
    producer-price index moves by the revenue-weighted change of the output prices. Sets the
    model's demand, demand growth, prices and export path."""
    need = capital_need(model)
    n = model.n_markets
    # The 2012 state holds no growth provision: its capital is taken as the capacity the 2013 demand
    # needs at normal utilisation (no limit in the closure, then the capital that serves it).
    first_year = year == FIRST_YEAR + 1
    capacity = np.full(n, np.inf) if first_year else demand.full_capacity(model.capital_by_market, need,
                                                                          model.demand_params.normal_utilization)
    year_demand = next_demand(model, year, capacity, shock)
    served = year_demand.domestic + year_demand.exports
    if first_year:
        model.capital_by_market = model.capital_by_market * np.divide(served, model.demand, out=np.ones(n), where=model.demand > 0)
    ppi = demand.price_index_change(year_demand.output_price / model.output_price, model.demand)
    model.price_index *= ppi
    va_price_before, model.va_price, model.output_price = model.va_price, year_demand.va_price, year_demand.output_price
    model.export_demand = year_demand.export_path
    model.world_export_demand = year_demand.world_exports
    model.demand_growth = np.divide(served, model.demand, out=np.zeros(n), where=model.demand > 0) - 1.0
    model.demand = served
    return OpenedYear(year_demand.exports, year_demand, need, va_price_before, 100.0 * (ppi - 1.0))


def close_markets(model, sums, opened: OpenedYear) -> tuple[float, float]:
    """Step 13 of the year on `model`, from the sums by market after the firms' year (sim.year.MarketSums):
    capacity utilisation (by market, for next year's markups, and national, %), capital, carbon charges
    per unit of value added and patents per unit of revenue for next year's prices and exports, the
    market productivity (mean, the norm of relative productivity) and productivity index (chained on
    continuing firms, for next year's prices), and GDP: the rest of the economy plus the value added the firms produced.
    Returns (national utilisation %, real GDP growth %)."""
    normal = model.demand_params.normal_utilization
    capacity = demand.full_capacity(model.capital_by_market, opened.capital_need, normal)
    model.utilization = demand.utilization(sums.revenue, model.capital_by_market, opened.capital_need, normal)
    measured = np.isfinite(capacity)  # markets with capital
    utilization = 100.0 * float(sums.revenue[measured].sum() / capacity[measured].sum())
    n = model.n_markets
    model.capital_by_market = sums.capital
    model.investment = float(sums.investment.sum())
    model.carbon_share = np.divide(sums.carbon_charges, sums.value_added, out=np.zeros(n), where=sums.value_added > 0)
    model.patents_per_revenue = np.divide(sums.patent_stock, sums.revenue, out=model.patents_per_revenue.copy(),
                                          where=sums.revenue > 0)
    model.market_productivity = [model.market_productivity[-1], sums.productivity(model.market_productivity[-1])]
    model.productivity_index = model.productivity_index * sums.productivity_index_change()
    closed = opened.demand.economy
    real_gdp = closed.rest_real + float(np.sum(sums.value_added / model.va_price))
    real_gdp_growth = 100.0 * (real_gdp / model.economy.real_gdp - 1.0)
    model.economy = closed._replace(gdp=closed.rest + float(sums.value_added.sum()), real_gdp=real_gdp)
    model.world_price = opened.demand.world_price
    return utilization, real_gdp_growth


@njit(cache=True, nogil=True)
def market_sums_2012(market_of, alive, weight, revenue, export_share, employment, productivity, rd_spending, capital,
                     patent_stock, energy_use, n_markets):
    """Sums by market over live rows, in row order, in float64: revenue, exports, employment,
    employment x productivity, R&D, capital, patent stock, energy use (rows 0 to 7)."""
    sums = np.zeros((8, n_markets))
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
            sums[5, m] += np.float64(weight[i]) * np.float64(capital[i])
            sums[6, m] += np.float64(weight[i]) * np.float64(patent_stock[i])
            sums[7, m] += np.float64(weight[i]) * np.float64(energy_use[i])
    return sums


class IndustryModel(mesa.Model):
    """Industrial firms of China, 2012 to 2035, one step per year.

    Order of the rules within a year (each a pure function in sim/rules/):
      1. entry_exit.exit_mask   firms that failed last year leave (low real revenue, negative net worth, illiquid);
                                location.relocate_abroad: export-oriented firms move abroad (relocation lever)
      2. open_markets           prices and demand by market (sim.rules.demand, sim.rules.trade): value-added
                                price = unit labour cost x markup (lower below normal utilisation) x carbon
                                charges; exports: China's CES share of world demand, moved toward what relative
                                price and technology level call for (trade.export_demand_shock: the trade_shock
                                lever); domestic demand and GDP solved together with the rest of the economy;
                                demand served up to capacity; the producer-price index
      3. entry_exit entrants    new small firms copy incumbents of growing markets;
                                location.transfer_inland: eastern firms move inland (regional_transfer lever)
      4. market.replicator      market shares move toward the more competitive; revenue = share x demand
      5. trade.export_shares    the market's export demand is shared by export orientation
      6. production             value added and employment (real value added at the market's price)
      7. innovation             R&D (own share x the market's expected return: margin and relative demand
                                growth; funded internally); innovation and imitation draws; patents
      8. digital                moves up digital stages
      9. finance                profit, tax, receivables, investment under the credit ceiling
     10. energy                 energy intensity, energy use, carbon
     11. ladder                 SRDI, little-giant and champion recognition
     12. size class             private firms crossing the SME revenue limit change class
     13. close_markets          capacity utilisation, next year's cost and technology state, GDP; the
                                national aggregates of the year, with each lever's fiscal cost
    Levers (calibration/levers.toml, sim/levers.py) reach the rules as one small table per year.
    """

    def __init__(self, params: dict[str, float], macro: MacroPaths, seed: int, scale: float, levers=None,
                 threads: int | None = None, coverage: str = "industrial"):
        super().__init__(rng=seed)
        keep_freed_memory()  # a pass's freed temporaries serve the next pass (sim.allocator)
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
        modules = {"demand": demand, "trend": trend, "market": market, "innovation": innovation, "digital": digital, "finance": finance, "energy": energy,
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
        self.wage = self.wage_2012 = self.calibration.wage
        self.price_index = 1.0  # industrial producer prices (the PPI's index), 2012 = 1
        self.demand_params = self.rule_params["demand"]
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
                                f.rd_spending, f.capital, f.patent_stock, f.energy_use, self.n_markets)  # one pass: no column-sized temporaries
        self.demand, self.export_demand = sums[0], sums[1]
        self.world_export_demand = world_export_demand_2012(self.export_demand, macro)
        self.demand_growth = np.zeros(self.n_markets)
        # employment-weighted mean productivity by market (the firm wage norm, unit labour cost)
        self.market_productivity = [np.divide(sums[3], sums[2], out=np.ones(self.n_markets), where=sums[2] > 0)] * 2
        start_markets(self, sums, macro)
        run_chunks(market.competitiveness_rows, f.capacity, f.bundle(), self.market_productivity[-1],
                   market.log_unit_costs(params["markup"], self.wage, self.market_productivity[-1]), self.rule_params["market"],
                   threads=self.threads)
        self.workspace = Workspace()  # the passes' temporaries, kept from year to year
        self.export_factor = np.zeros(self.n_markets)  # last year's export-share scale factors (trade.export_shares)
        self.initial_firms = float(np.sum(f.weight[f.alive], dtype=np.float64))
        self.reference_firms = self._firms_in_market(market_of)  # 2012 firms by market (entry crowding)
        self.records: list[dict] = []
        self._record(entries=0.0, exits=0.0, patents=self._patents_2012(), va_price_before=self.va_price,
                     growth_input=self.calibration.above_scale_va_growth, ppi=self.calibration.industrial_ppi,
                     utilization=100.0 * self.demand_params.normal_utilization, real_gdp_growth=math.nan,
                     by_market=(self.params["depreciation_rate"] * sums[5], sums[0] * self.va_ratio[market_industry], sums[7],
                                sums[2]))

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

    def _record(self, entries, exits, patents, va_price_before, ppi, utilization, real_gdp_growth, by_market,
                growth_input=None, fiscal_cost=None) -> None:
        """The year's indicators (sim.indicators.measure); `by_market`: (investment, value added, energy
        use, employment) by market after the year, for the by-industry diagnostics."""
        mi, n_industries = self.market_industry, len(self.industries)
        investment, value_added, energy_use, employment = by_market
        by_industry = lambda values: np.bincount(mi, weights=values, minlength=n_industries)  # noqa: E731
        real_va = (self.economy.real_gdp - self.economy.rest_real) / 1e6
        context = YearContext(
            year=self.year,
            gdp=self.economy.gdp / 1e6,
            rest_of_world_mfg_va=self.rest_of_world_mfg_va,
            va_price=self.va_price,
            va_price_before=va_price_before,
            ppi=ppi,
            investment=self.investment / 1e6,
            utilization=utilization,
            real_gdp_growth=real_gdp_growth,
            industrial_va_real=real_va,
            labour_productivity=real_va * 1e9 / max(float(np.sum(employment)), 1e-300),  # trillion RMB -> thousand RMB per person
            investment_by_industry=by_industry(investment) / 1e6,
            real_va_by_industry=by_industry(value_added / self.va_price) / 1e6,
            energy_by_industry=by_industry(energy_use) / 1e6,
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
        self.wage_before = self.wage
        self.wage *= 1.0 + macro.rate("wage_growth", year)
        self.rest_of_world_mfg_va *= 1.0 + macro.rate("rest_of_world_mfg_growth", year)
        labour_cost_index = self.wage / self.calibration.wage
        years, half_life = year - FIRST_YEAR, p["trend_half_life"]
        self.va_ratio = production.value_added_ratios(self.va_ratio_2012, p["value_added_ratio_trend"], years, half_life)
        self.capital_to_revenue = production.capital_to_revenue_ratios(self.capital_to_revenue_2012, self.va_ratio, self.va_ratio_2012)

        levers = self.levers.table(year)
        lever_params = self.rule_params["levers"]
        key_levers = stream_key(self.seed, "levers", year)
        fiscal = np.zeros(N_LEVERS)  # M RMB

        # 1. exit of last year's failures (real revenue at last year's producer prices), and relocation abroad
        exits = entry_exit.apply_exits(f.alive, f.weight, f.market_share, f.revenue, f.capital, f.cash, f.receivables,
                                       f.debt, self.illiquid, self.price_index, self.exit_revenue, threads=self.threads)
        if levers[RELOCATION, 0] != 0.0:
            lost_exports = np.zeros(self.n_markets)
            exits += location.relocate_abroad(f.alive, f.weight, f.market_share, f.revenue, f.export_share, self.market_of,
                                              f.firm_class, f.region, f.industry, f.ladder_rung, levers, RELOCATION, key_levers,
                                              lever_params.relocation_min_export_share, lost_exports)
            self.export_demand = np.maximum(self.export_demand - lost_exports, 0.0)

        # 2. prices and demand by market (sim.rules.demand, sim.rules.trade), served up to capacity
        shock = None
        if levers[TRADE_SHOCK, 0] != 0.0:
            shock = trade.export_demand_shock(self.market_industry, self.levers.industry_mask(TRADE_SHOCK), levers[TRADE_SHOCK, 0])
        opened = open_markets(self, year, shock)

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
                                      f.revenue, self.market_productivity[-1], self.demand, self.n_markets, self.wage,
                                      self.wage_factor, stream_key(self.seed, "market", year), self.rule_params["market"],
                                      threads=self.threads, wages=wages, workspace=self.workspace)

        # 5. exports
        trade.export_shares(f.export_propensity, f.revenue, f.weight, market_of, opened.exports, self.workspace, out=f.export_share,
                            factor=self.export_factor)

        # 6-12. production, innovation, digital, finance, energy, ladder, size class (sim/year.py)
        rd_trend_rate = trend.rate_in(p["rd_propensity_trend"], years, half_life)
        year_inputs = YearInputs(year, self.wage, labour_cost_index, rd_trend_rate, macro.rate("carbon_factor_change", year),
                                 self.calibration.patent_yield, p["threshold_revenue"],
                                 stream_key(self.seed, "innovation", year), stream_key(self.seed, "digital", year),
                                 stream_key(self.seed, "ladder", year), key_levers)
        self.rd_return = next_rd_returns(self, opened)
        arrays = YearArrays(self.va_ratio, self.capital_to_revenue, self.industries["manufacturing"], self.demand_growth,
                            self.va_price, self.rd_return, wages, self.innovation_draws)
        patents, sums, spent = firm_year(f.bundle(), year_inputs, arrays, self.year_params, levers, self.n_markets,
                                         len(self.industries), self.threads, self.workspace)
        fiscal += spent
        # innovation centres cost the budget per centre, not per firm
        fiscal[INNOVATION_CENTERS] += self.levers.nominal(year)[INNOVATION_CENTERS] * lever_params.innovation_center_cost
        # National patent applications: a Poisson draw on the firms' expected applications (a sum of
        # independent Poisson counts is Poisson); firms' stocks accumulate their expected applications.
        applications = float(stream(self.seed, "innovation", year).poisson(patents))

        # 13. the year's close: capacity utilisation, the state next year's prices read, GDP; indicators
        utilization, real_gdp_growth = close_markets(self, sums, opened)
        self._record(entries=entries, exits=exits, patents=applications, va_price_before=opened.va_price_before,
                     ppi=opened.ppi, utilization=utilization, real_gdp_growth=real_gdp_growth,
                     by_market=(sums.investment, sums.value_added, sums.energy, sums.employment),
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
                                         self.capital_to_revenue, self.price_index, self.va_price)
        return entry_exit.place_entrants(f.bundle(), entrants, terms, economy, threads=self.threads)

    def run_to_end(self) -> None:
        while self.year < LAST_YEAR:
            self.step()
