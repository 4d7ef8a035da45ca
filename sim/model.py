"""IndustryModel: a thin Mesa model that calls the firm rules in a documented order.

The model is a pure function of (scenario, parameters, seed, scale): `simulate()` builds the 2012
population, steps to 2035 and returns an xarray Dataset. Mesa's `Model` owns the run's seed and
orchestrates the yearly steps; firms are rows of numpy columns (sim.firms), not Mesa agents.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import taxonomy
from sim.calibration_data import load_initial_state
from sim.indicators import YearContext, measure
from sim.levers import LEVER_NAMES
from sim.macro import FIRST_YEAR, LAST_YEAR, MacroPaths
from sim.population import build_population
from sim.randomness import stream
from sim.rules import digital, energy, entry_exit, finance, innovation, ladder, market, production, trade
from sim.weighted import draw_peers, group_sum

N_SEGMENTS = len(taxonomy.SEGMENTS)


class IndustryModel(mesa.Model):
    """Industrial firms of China, 2012 to 2035, one step per year.

    Order of the rules within a year (each a pure function in sim/rules/):
      1. entry_exit.exit_mask   firms that failed last year leave (low share, negative net worth, illiquid)
      2. market demand          domestic demand grows with GDP; export demand with world demand and costs
      3. entry_exit entrants    new small firms copy incumbents of growing markets
      4. market.replicator      market shares move toward the more competitive; revenue = share x demand
      5. trade.export_shares    the market's export demand is shared by export orientation
      6. production             value added and employment
      7. innovation             R&D; innovation and imitation draws (productivity of next year); patents
      8. digital                moves up digital stages
      9. finance                profit, tax, receivables, investment under the credit ceiling
     10. energy                 energy intensity, energy use, carbon
     11. ladder                 SRDI, little-giant and champion recognition
     12. size class             private firms crossing the SME revenue limit change class
     13. indicators             national aggregates of the year
    """

    def __init__(self, params: dict[str, float], macro: MacroPaths, seed: int, scale: float):
        super().__init__(rng=seed)
        self.seed = int(seed)
        self.params = params
        self.macro = macro
        self.scale = scale
        self.year = FIRST_YEAR
        self.industries = taxonomy.load_industries()
        self.assumptions = load_initial_state().assumptions
        self.firms, self.calibration = build_population(params, self.seed, scale)
        self.wage = self.calibration.wage
        self.price_index = 1.0
        self.world_mfg_va = self.calibration.world_mfg_va

        n_industries = len(self.industries)
        self.n_markets = n_industries * N_SEGMENTS
        market_industry = np.repeat(np.arange(n_industries), N_SEGMENTS)
        market_emerging = np.tile(np.arange(N_SEGMENTS), n_industries)
        self.market_elasticity_base = self.industries["income_elasticity"][market_industry]
        self.market_emerging = market_emerging.astype(bool)
        self.market_industry = market_industry

        f = self.firms
        market_of = self._markets()
        weighted_revenue = np.where(f.alive, f.weight * f.revenue.astype(np.float64), 0.0)
        self.demand = group_sum(weighted_revenue, market_of, self.n_markets)
        self.export_demand = group_sum(weighted_revenue * f.export_share, market_of, self.n_markets)
        self.domestic_demand = self.demand - self.export_demand
        self.demand_growth = np.zeros(self.n_markets)
        self.market_productivity = [self._market_productivity(market_of)] * 2
        f.competitiveness[:] = market.competitiveness(f.productivity, f.patent_stock, f.revenue, self._firm_wages(market_of),
                                                      params["markup"], params["quality_weight"])
        self.illiquid = np.zeros(f.capacity, dtype=bool)
        self.records: list[dict] = []
        self._record(entries=0.0, exits=0.0, patents=self._patents_2012(), price_change=1.0, growth_input=self.calibration.above_scale_va_growth)

    # ------------------------------------------------------------------ helpers
    def _markets(self) -> np.ndarray:
        return self.firms.industry.astype(np.intp) * N_SEGMENTS + self.firms.emerging

    def _market_productivity(self, market_of) -> np.ndarray:
        f = self.firms
        weight = np.where(f.alive, f.weight, 0.0).astype(np.float64)
        real_va = group_sum(weight * f.value_added / self.price_index, market_of, self.n_markets)
        workers = group_sum(weight * f.employment, market_of, self.n_markets)
        return np.divide(real_va, workers, out=np.ones(self.n_markets), where=workers > 0)

    def _firm_wages(self, market_of) -> np.ndarray:
        return market.firm_wage(self.firms.productivity, self.market_productivity[-1][market_of], self.wage,
                                self.params["wage_productivity_elasticity"])

    def _patents_2012(self) -> float:
        f = self.firms
        return float(np.sum(np.where(f.alive, f.weight * f.rd_spending.astype(np.float64), 0.0)) * self.calibration.patent_yield)

    def _firms_in_market(self, market_of) -> np.ndarray:
        f = self.firms
        return group_sum(np.where(f.alive, f.weight, 0.0).astype(np.float64), market_of, self.n_markets)

    def _record(self, entries, exits, patents, price_change, growth_input=None) -> None:
        context = YearContext(
            year=self.year,
            gdp=float(self.macro.gdp_nominal[self.year - FIRST_YEAR]),
            world_mfg_va=self.world_mfg_va,
            price_index=self.price_index,
            price_change=price_change,
            patent_applications=patents,
            threshold=self.params["threshold_revenue"],
            sei_industrial_fraction=float(self.assumptions["sei_industrial_fraction"]),
            growth_input=growth_input,
            entries=entries,
            exits=exits,
            fiscal_cost=np.zeros(len(LEVER_NAMES)),
        )
        values = measure(self.firms, context, self.industries["manufacturing"], self.industries["equipment"],
                         self.industries.index("new_energy_products"), len(self.industries))
        self.records.append(values)

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        self.year += 1
        year, p, f, macro = self.year, self.params, self.firms, self.macro
        wage_growth = macro.rate("wage_growth", year)
        price_change = 1.0 + macro.rate("industrial_deflator", year)
        self.wage *= 1.0 + wage_growth
        self.price_index *= price_change
        self.world_mfg_va *= 1.0 + macro.rate("world_mfg_growth", year)
        labour_cost_index = self.wage / self.calibration.wage

        # 1. exit of last year's failures
        worth = finance.net_worth(f.capital, f.cash, f.receivables, f.debt)
        leaving = entry_exit.exit_mask(f.revenue / (self.price_index / price_change), worth, self.illiquid, f.alive, p["exit_revenue"])
        exits = float(f.weight[leaving].sum(dtype=np.float64))
        f.alive[leaving] = False
        f.weight[leaving] = 0.0
        f.market_share[leaving] = 0.0
        market_of = self._markets()
        firms_in_market = self._firms_in_market(market_of)

        # 2. demand by market
        elasticity = p["domestic_demand_elasticity_scale"] * self.market_elasticity_base + p["emerging_elasticity_premium"] * self.market_emerging
        self.domestic_demand = self.domestic_demand * market.domestic_demand_factor(macro.rate("gdp_nominal_growth", year), elasticity)
        productivity_growth = self.market_productivity[-1] / self.market_productivity[-2]
        unit_labour_cost_growth = (1.0 + wage_growth) / productivity_growth - 1.0
        self.export_demand = self.export_demand * trade.export_demand_factor(
            macro.rate("world_demand_growth", year), macro.rate("world_price_growth", year), unit_labour_cost_growth, p["export_price_elasticity"]
        )
        demand = self.domestic_demand + self.export_demand
        self.demand_growth = np.divide(demand, self.demand, out=np.zeros(self.n_markets), where=self.demand > 0) - 1.0
        self.demand = demand

        # 3. entry
        entries = self._enter(firms_in_market, stream(self.seed, "entry_exit", year))
        f = self.firms
        market_of = self._markets()

        # 4. market shares and revenue
        rng = stream(self.seed, "market", year)
        wages = self._firm_wages(market_of)
        fitness = market.competitiveness(f.productivity, f.patent_stock, f.revenue, wages, p["markup"], p["quality_weight"])
        sd = market.shock_sd(f.revenue, p["demand_shock_sd"], p["shock_size_exponent"], p["shock_reference_revenue"])
        shock = sd * rng.standard_normal(f.capacity, dtype=np.float32) - 0.5 * sd * sd
        weight = np.where(f.alive, f.weight, 0.0)
        f.market_share[:] = market.replicator_shares(f.market_share, fitness - f.competitiveness, market_of, weight,
                                                     self.n_markets, p["share_selection_strength"], shock)
        f.competitiveness[:] = fitness
        f.revenue[:] = f.market_share * demand[market_of]

        # 5. exports
        f.export_share[:] = trade.export_shares(f.export_propensity, f.revenue, weight, market_of, self.export_demand)

        # 6. production
        f.previous_value_added[:] = f.value_added
        f.value_added[:] = production.value_added(f.revenue, self.industries["va_to_revenue"][f.industry])
        f.employment[:] = production.employment(f.value_added, f.productivity, self.price_index)

        # 7. innovation (productivity of next year), patents
        rng = stream(self.seed, "innovation", year)
        f.rd_spending[:] = f.rd_propensity * f.revenue
        new_productivity, _ = innovation.innovate(f.productivity, f.rd_spending, self.wage, market_of, weight, f.alive, p, rng)
        applications = innovation.patent_applications(f.rd_spending, weight, self.calibration.patent_yield, rng)
        per_firm = np.divide(applications, weight, out=np.zeros_like(applications), where=weight > 0)
        f.patent_stock[:] = innovation.patent_stock(f.patent_stock, per_firm, p["patent_depreciation"])

        # 8. digital stages
        rng = stream(self.seed, "digital", year)
        wage_bill = f.employment * wages
        cost = digital.upgrade_cost(f.revenue, labour_cost_index, p["digital_cost_fixed"], p["digital_cost_share"])
        benefit = p["digital_productivity_gain"] * wage_bill * p["digital_payback_years"]
        n_stages = len(taxonomy.DIGITAL_STAGES)
        cell = f.industry.astype(np.intp) * len(taxonomy.REGIONS) + f.region
        peers = digital.peer_share_above(f.digital_stage, cell, weight, f.alive, len(self.industries) * len(taxonomy.REGIONS), n_stages)
        ceiling = np.where(f.firm_class == taxonomy.STATE_OWNED, p["leverage_ceiling_soe"], p["leverage_ceiling_private"])
        room = finance.credit_room(f.capital, f.cash, f.receivables, f.debt, ceiling)
        affordable = (f.cash - p["cash_buffer_share"] * f.revenue + room) >= cost
        chance = digital.upgrade_probability(benefit, cost, peers, p["digital_max_rate"], p["digital_peer_effect"])
        upgrades = f.alive & (f.digital_stage < n_stages - 1) & affordable & (rng.random(f.capacity, dtype=np.float32) < chance)
        f.digital_stage[upgrades] += 1
        new_productivity[upgrades] *= np.exp(p["digital_productivity_gain"])
        f.energy_intensity[upgrades] *= 1.0 - p["digital_energy_saving"]
        paid_from_cash = np.minimum(np.maximum(f.cash - p["cash_buffer_share"] * f.revenue, 0.0), cost)
        f.cash[upgrades] -= paid_from_cash[upgrades]
        f.debt[upgrades] += (cost - paid_from_cash)[upgrades]

        # 9. finance
        days = p["receivable_days"] + p["overdue_days_sme"] * (f.firm_class == taxonomy.SME)
        desired_capital = self.calibration.capital_to_revenue[f.industry] * f.revenue * (1.0 + self.demand_growth[market_of])
        capital_before = f.capital.copy()
        result = finance.finance_step(f.value_added, wage_bill, f.rd_spending, f.revenue, desired_capital, f.capital, f.cash,
                                      f.debt, f.receivables, days, ceiling, p)
        alive = f.alive
        f.capital[alive] = result.capital[alive]
        f.cash[alive] = result.cash[alive]
        f.debt[alive] = result.debt[alive]
        f.receivables[alive] = result.receivables[alive]
        new_productivity *= np.exp(finance.embodied_gain(result.investment, capital_before, p["embodiment_rate"]))
        f.energy_intensity[:] *= np.exp(-finance.embodied_gain(result.investment, capital_before, p["energy_embodiment"]))
        f.productivity[alive] = new_productivity[alive]
        self.illiquid = result.illiquid & alive

        # 10. energy
        f.energy_intensity[:] = energy.energy_intensity(f.energy_intensity, p["energy_efficiency_trend"])
        f.carbon_intensity[:] = energy.carbon_intensity(f.carbon_intensity, macro.rate("carbon_factor_change", year))
        f.energy_use[:] = energy.energy_use(f.energy_intensity, f.value_added, self.price_index)

        # 11. ladder
        rng = stream(self.seed, "ladder", year)
        relative_share = f.market_share * self._firms_in_market(market_of)[market_of]
        sme = f.alive & (f.firm_class == taxonomy.SME)
        sme_revenue = group_sum(np.where(sme, f.weight * f.revenue.astype(np.float64), 0.0), market_of, self.n_markets)
        sme_count = group_sum(np.where(sme, f.weight, 0.0).astype(np.float64), market_of, self.n_markets)
        niche = f.revenue / np.divide(sme_revenue, sme_count, out=np.ones(self.n_markets), where=sme_count > 0)[market_of]
        rd_intensity = np.divide(f.rd_spending, f.revenue, out=np.zeros(f.capacity, dtype=np.float32), where=f.revenue > 0)
        f.ladder_rung[:] = ladder.promote(f.ladder_rung, f.firm_class, f.revenue, rd_intensity, relative_share, niche,
                                          self.industries["manufacturing"][f.industry], f.alive, year, p, rng)

        # 12. size class of private firms
        private = (f.firm_class == taxonomy.SME) | (f.firm_class == taxonomy.LARGE_PRIVATE)
        f.firm_class[private] = np.where(f.revenue[private] >= p["sme_revenue_limit"], taxonomy.LARGE_PRIVATE, taxonomy.SME)
        f.age[f.alive] += 1

        # 13. indicators
        self.market_productivity = [self.market_productivity[-1], self._market_productivity(market_of)]
        self._record(entries=entries, exits=exits, patents=float(applications.sum()), price_change=price_change)

    def _enter(self, firms_in_market, rng: np.random.Generator) -> float:
        """Entrants of the year: small firms that copy a random incumbent of their market."""
        p, f = self.params, self.firms
        expected = entry_exit.expected_entrants(firms_in_market, self.demand_growth, p["entry_rate"], p["entry_demand_sensitivity"])
        row_weight = self.calibration.entrant_row_weight[self.market_industry]
        rows_per_market = entry_exit.entrant_rows(expected, row_weight, rng)
        total = int(rows_per_market.sum())
        if total == 0:
            return 0.0
        rows = f.free_rows(total)
        if f.capacity != self.illiquid.size:
            self.illiquid = np.concatenate([self.illiquid, np.zeros(f.capacity - self.illiquid.size, dtype=bool)])
        f = self.firms
        new_market = np.repeat(np.arange(self.n_markets), rows_per_market)
        market_of = self._markets()
        market_of[rows] = new_market
        peers = draw_peers(market_of, np.where(f.alive, f.weight, 0.0), f.alive, rows, rng)
        has_peer = peers >= 0
        rows, peers, new_market = rows[has_peer], peers[has_peer], new_market[has_peer]
        n = rows.size
        floor, threshold = p["band_floor_revenue"], p["threshold_revenue"]
        revenue = floor * (threshold / floor) ** rng.random(n)
        industry = new_market // N_SEGMENTS
        f.alive[rows] = True
        f.weight[rows] = row_weight[new_market]
        f.industry[rows] = industry
        f.emerging[rows] = new_market % N_SEGMENTS == 1
        for column in ("high_tech", "region", "rd_propensity", "energy_intensity", "carbon_intensity", "export_propensity"):
            getattr(f, column)[rows] = getattr(f, column)[peers]
        f.firm_class[rows] = np.where(rng.random(n) < p["foreign_share"], taxonomy.FOREIGN_FUNDED, taxonomy.SME)
        f.ladder_rung[rows] = taxonomy.RUNG_NONE
        f.digital_stage[rows] = 0
        f.age[rows] = 0
        f.productivity[rows] = f.productivity[peers] * np.exp(-p["entrant_productivity_gap"])
        f.revenue[rows] = revenue
        f.market_share[rows] = revenue / np.maximum(self.demand[new_market], 1e-9)
        entrant_wages = market.firm_wage(f.productivity[rows], self.market_productivity[-1][new_market], self.wage,
                                         p["wage_productivity_elasticity"])
        f.competitiveness[rows] = market.competitiveness(f.productivity[rows], 0.0, revenue, entrant_wages, p["markup"], p["quality_weight"])
        va = revenue * self.industries["va_to_revenue"][industry]
        f.value_added[rows] = va
        f.previous_value_added[rows] = 0.0
        f.employment[rows] = va / self.price_index / f.productivity[rows]
        f.rd_spending[rows] = f.rd_propensity[rows] * revenue
        f.patent_stock[rows] = 0.0
        f.energy_use[rows] = f.energy_intensity[rows] * va / self.price_index
        f.export_share[rows] = 0.0
        f.capital[rows] = self.calibration.capital_to_revenue[industry] * revenue
        f.cash[rows] = float(self.assumptions["cash_to_revenue"]) * revenue
        f.debt[rows] = float(self.assumptions["debt_to_capital"]) * f.capital[rows]
        f.receivables[rows] = revenue * p["receivable_days"] / 365.0
        self.illiquid[rows] = False
        return float(f.weight[rows].sum(dtype=np.float64))

    def run_to_end(self) -> None:
        while self.year < LAST_YEAR:
            self.step()
