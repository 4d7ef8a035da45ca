"""The baseline written the classic Mesa way: one `mesa.Agent` per firm, each with its own `step()`.

A yardstick, not part of `sim`: what a Mesa user would write for the same rules. It serves speed
comparisons (firm-years per second against sim's compiled column loops) and a statistical
cross-check (tests/test_mesa_reference.py: the same aggregate distributions over seeds).

    python benchmarks/mesa_reference.py --scale 0.002 --seed 1            # the reference alone
    python benchmarks/mesa_reference.py --scale 0.002 --seed 1 --sim      # and sim on the same seed
    python benchmarks/mesa_reference.py --scale 0.002 --check 20          # 20 seeds of each, compared

From Python: run_reference(scale, seed, last_year) and run_sim(scale, seed, last_year) return the
same dict (aggregates by year, firm-years, seconds of simulation); cross_check compares two sets of
runs. The reference runs the whole baseline firm year, energy and the ladder included, so that
speeds compare like with like.

What is reused from sim, and what is written here:
- The 2012 population is sim's own (sim.model.IndustryModel built on the same parameters, seed and
  scale): each live row of its firm columns becomes one FirmAgent with the row's values as Python
  floats and ints; the model-level state the build derives (demand by market, market productivity
  and R&D intensity, the wage, the 2012 calibration scalars) is copied from it. The build is not timed.
- Per-firm rules are the functions of sim/rules/*.py, called in sim's order (sim/model.py step,
  sim/year.py firm_rows) but as plain Python: `plain(f)` is f's `py_func` with the numba functions
  it calls replaced by their own plain versions. One exception stays compiled: the counter-based
  uniform draw `sim.randomness.uniform`, which the rules that draw for themselves use internally
  (innovation.imitates, innovation.innovate through randomness.from_table, ladder.promote); in
  plain Python its 64-bit integer mixing would cost more than the rest of the firm's year.
- Written out here, because sim has them only as array kernels or model code: the replicator's
  share update and normalisation by market (sim.rules.market.replicate_rows), the composition of
  the firm's year (sim.year.firm_rows, baseline branch: no lever code), exits, and the entrants of
  sim.model.IndustryModel._enter. Market-level quantities are sim's own functions on the reference's
  state: prices, demand, capacity and GDP by sim.model.open_markets and close_markets (the demand
  closure), export shares by market with sim.rules.trade.export_shares, expected entrants with
  sim.rules.entry_exit.expected_entrants; macro paths, wage and value-added ratios as in sim.
- Randomness is the reference's own: Mesa's `model.random` (market shocks, digital upgrades,
  peers of imitators and entrants, entrants' revenue and class) and `model.rng` (entrant counts,
  national patent applications, and each year's keys for the rules that draw for themselves; their
  row is the agent's unique_id). Same distributions as sim, different draws.
- Baseline only: no policy levers (sim's lever branches are all skipped at zero intensity).
"""

from __future__ import annotations

import argparse
import json
import math
import time
import types

import mesa
import numpy as np
from numba.core.dispatcher import Dispatcher

from sim import taxonomy
from sim.errors import ModelDivergence
from sim.firms import FIRM_STATE
from sim.macro import FIRST_YEAR, LAST_YEAR, build_macro
from sim.model import MAX_ENTRY_MULTIPLE, N_SEGMENTS, IndustryModel, close_markets, next_rd_returns, open_markets
from sim.year import MarketSums
from sim.parameters import resolve
from sim.randomness import uniform
from sim.rules import digital, energy, entry_exit, finance, innovation, ladder, market, production, trade, trend

N_STAGES = len(taxonomy.DIGITAL_STAGES)
N_REGIONS = len(taxonomy.REGIONS)
STATE_OWNED, LARGE_PRIVATE, FOREIGN_FUNDED, SME = (taxonomy.STATE_OWNED, taxonomy.LARGE_PRIVATE, taxonomy.FOREIGN_FUNDED,
                                                   taxonomy.SME)
RUNG_SRDI, RUNG_LITTLE_GIANT = taxonomy.RUNG_SRDI, taxonomy.RUNG_LITTLE_GIANT
TRILLION = 1e6  # M RMB per trillion RMB
KEPT_COMPILED = (uniform,)  # see the module docstring

# Aggregates of a year, as sim/indicators.py defines them (the first six are the cross-check's).
AGGREGATES = ("n_firms", "n_above_scale", "manufacturing_va", "rd_intensity_mfg", "sme_digital_initial_share", "exports",
              "industrial_va", "employment_mfg", "industrial_energy", "n_srdi", "n_entries", "n_exits",
              "invention_patent_apps", "soe_productivity_gap")
UNITS = {"n_firms": "firms", "n_above_scale": "firms", "manufacturing_va": "trillion RMB", "rd_intensity_mfg": "%",
         "sme_digital_initial_share": "share", "exports": "trillion RMB", "industrial_va": "trillion RMB",
         "employment_mfg": "million", "industrial_energy": "Mtce", "n_srdi": "firms", "n_entries": "firms",
         "n_exits": "firms", "invention_patent_apps": "per year", "soe_productivity_gap": "log points"}


def plain(function, _done: dict | None = None):
    """The pure-Python version of a numba rule: its py_func, with every numba function it calls
    (through its module's globals) replaced by that function's plain version, except KEPT_COMPILED."""
    done = {} if _done is None else _done
    if function in done:
        return done[function]
    source = function.py_func
    names = dict(source.__globals__)
    result = types.FunctionType(source.__code__, names, source.__name__, source.__defaults__, source.__closure__)
    done[function] = result
    for name in source.__code__.co_names:
        value = names.get(name)
        if isinstance(value, Dispatcher) and value not in KEPT_COMPILED:
            names[name] = plain(value, done)
    return result


# The per-firm rules, plain Python.
value_added, employment = plain(production.value_added), plain(production.employment)
rd_propensity, imitates, innovate = plain(innovation.rd_propensity), plain(innovation.imitates), plain(innovation.innovate)
patent_stock = plain(innovation.patent_stock)
firm_wage, competitiveness, shock_sd = plain(market.firm_wage), plain(market.competitiveness), plain(market.shock_sd)
log_share_step, market_power_damping = plain(market.log_share_step), plain(market.market_power_damping)
upgrade_cost, upgrade_probability = plain(digital.upgrade_cost), plain(digital.upgrade_probability)
peer_share_table = plain(digital.peer_share_table)
credit_room, finance_year, embodied_gain = plain(finance.credit_room), plain(finance.finance_year), plain(finance.embodied_gain)
internal_funds = plain(finance.internal_funds)
net_worth, exits = plain(finance.net_worth), plain(entry_exit.exits)
receivable_days_of = plain(finance.receivable_days_of)
energy_intensity, energy_use, carbon_intensity = plain(energy.energy_intensity), plain(energy.energy_use), plain(energy.carbon_intensity)
promote = plain(ladder.promote)

STATE = tuple(name for name in FIRM_STATE if name != "alive")


class FirmAgent(mesa.Agent):
    """One firm (one row of sim's columns: `weight` real firms alike). Its attributes are sim's
    firm state (sim.firms.FIRM_STATE) plus `market`, `illiquid` and this year's scratch values."""

    def __init__(self, model: "ReferenceModel", state: dict) -> None:
        super().__init__(model)
        self.__dict__.update(state)
        self.market = self.industry * N_SEGMENTS + self.emerging
        self.illiquid = state.get("illiquid", False)
        self.new_productivity = self.productivity

    # ---- start of the year
    def leaves(self, previous_price_index: float, revenue_floor: float) -> bool:
        """sim.rules.entry_exit.apply_exits: low real revenue, negative net worth, or illiquid."""
        return exits(self.revenue / previous_price_index, net_worth(self.capital, self.cash, self.receivables, self.debt),
                     self.illiquid, revenue_floor)

    # ---- competition (sim.rules.market.update_market_at_wages, one firm at a time)
    def compete(self) -> None:
        """Change of competitiveness over the year and this year's demand shock."""
        m, p = self.model, self.model.p_market
        wage = firm_wage(self.productivity, m.productivity_norm[self.market], m.wage, p.wage_productivity_elasticity)
        fitness = competitiveness(self.productivity, self.patent_stock, self.revenue, wage, p.markup, p.quality_weight)
        self.gain = fitness - self.competitiveness
        self.competitiveness = fitness
        sd = shock_sd(self.revenue, p.demand_shock_sd, p.shock_size_exponent, p.shock_reference_revenue)
        self.shock = sd * self.random.gauss(0.0, 1.0)
        self.shock_variance = sd * sd

    def replicate(self, mean_gain: float) -> None:
        """Replicator step s exp(step), the step damped by market power and capped (market.log_share_step)."""
        step = log_share_step(self.gain - mean_gain, self.shock, self.shock_variance,
                              self.model.p_market.share_selection_strength, self.market_share)
        self.market_share *= math.exp(step)

    # ---- the firm's year (sim.year.firm_rows, baseline)
    def step(self) -> None:
        m = self.model
        pi, pd, pf = m.p_innovation, m.p_digital, m.p_finance
        ind, mk, row = self.industry, self.market, self.unique_id
        revenue, productivity = self.revenue, self.productivity
        self.continuing = self.age > 0  # alive last year (sim.year.firm_rows)
        self.employment_before, self.productivity_before = self.employment, productivity
        # production
        self.previous_value_added = self.value_added
        va = value_added(revenue, m.va_ratio_of[ind])
        self.value_added = va
        workers = employment(va, productivity, m.va_price_of[mk])
        self.employment = workers
        # R&D (the firm's share times its market's expected return, funded internally), innovation and
        # imitation (of last year's technology of a peer), patents
        wage_bill = workers * firm_wage(productivity, m.productivity_norm[mk], m.wage, m.p_market.wage_productivity_elasticity)
        self.rd_propensity = rd_propensity(self.rd_propensity, m.rd_trend_rate)
        rd = min(min(self.rd_propensity * m.rd_return_of[mk], innovation.MAX_RD_PROPENSITY) * revenue,
                 internal_funds(self.cash, revenue, pf.cash_buffer_share, va, wage_bill))
        self.rd_spending = rd
        effort = rd * pi.soe_innovation_efficiency if self.firm_class == STATE_OWNED else rd  # effective R&D effort
        imitated = imitates(effort, m.wage, m.key_innovation, row, pi)
        peer_productivity = m.draw_peer(mk).productivity if imitated else 0.0
        a = innovate(productivity, effort, m.wage, imitated, peer_productivity, m.innovation_draws, m.key_innovation, row, pi)
        applications = m.patent_yield * rd
        if revenue >= m.params["threshold_revenue"]:  # above-scale firms, as sim/year.py counts them
            m.expected_patents += self.weight * applications
        self.patent_stock = patent_stock(self.patent_stock, applications, pi.patent_depreciation)
        # digital stages
        ceiling = pf.leverage_ceiling_soe if self.firm_class == STATE_OWNED else pf.leverage_ceiling_private
        intensity = self.energy_intensity
        stage = self.digital_stage
        if stage < N_STAGES - 1:
            cost = upgrade_cost(revenue, m.labour_cost_index, pd.digital_cost_fixed, pd.digital_cost_share)
            benefit = pd.digital_productivity_gain * wage_bill * pd.digital_payback_years
            room = credit_room(self.capital, self.cash, self.receivables, self.debt, ceiling)
            own = max(self.cash - pf.cash_buffer_share * revenue, 0.0)
            if own + room >= cost:
                chance = upgrade_probability(benefit, cost, m.peers_above[ind * N_REGIONS + self.region][stage],
                                             pd.digital_max_rate, pd.digital_peer_effect)
                if self.random.random() < chance:
                    self.digital_stage = stage + 1
                    a *= math.exp(pd.digital_productivity_gain)
                    intensity *= 1.0 - pd.digital_energy_saving
                    from_cash = min(own, cost)
                    self.cash -= from_cash
                    self.debt += cost - from_cash
        # finance: profit, tax, receivables, investment under the credit ceiling; embodied technical change
        days = receivable_days_of(pf.receivable_days, pf.overdue_days_sme, self.firm_class == SME, 0.0)
        desired = m.capital_to_revenue[ind] * revenue * (1.0 + m.demand_growth[mk])
        before = self.capital
        (self.capital, self.cash, self.debt, self.receivables, investment, _, _, self.illiquid) = finance_year(
            va, wage_bill, rd, revenue, desired, before, self.cash, self.debt, self.receivables, days, ceiling, pf)
        self.investment = investment
        a *= math.exp(embodied_gain(investment, before, pf.embodiment_rate))
        intensity *= math.exp(-embodied_gain(investment, before, pf.energy_embodiment))
        self.new_productivity = a
        # energy
        intensity = energy_intensity(intensity, m.p_energy.energy_efficiency_trend)
        self.energy_intensity = intensity
        self.carbon_intensity = carbon_intensity(self.carbon_intensity, m.carbon_factor_change)
        self.energy_use = energy_use(intensity, va, m.va_price_of[mk])
        # ladder
        relative_share = self.market_share * m.firms_in_market[mk]
        niche = revenue * m.sme_firms[mk] / m.sme_revenue[mk] if m.sme_revenue[mk] > 0.0 else 0.0
        rd_intensity = rd / revenue if revenue > 0.0 else 0.0
        self.ladder_rung = promote(self.ladder_rung, self.firm_class, revenue, rd_intensity, relative_share, niche,
                                   m.manufacturing[ind], m.year, m.p_ladder, m.key_ladder, row)
        # size class of private firms
        if self.firm_class == SME or self.firm_class == LARGE_PRIVATE:
            self.firm_class = LARGE_PRIVATE if revenue >= m.params["sme_revenue_limit"] else SME
        self.age += 1

    def commit(self) -> None:
        """Adopt this year's productivity (imitators copied last year's)."""
        self.productivity = self.new_productivity


class ReferenceModel(mesa.Model):
    """sim's baseline year (sim/model.py IndustryModel.step) over FirmAgents."""

    def __init__(self, scale: float, seed: int, overrides: dict | None = None) -> None:
        super().__init__(rng=seed)
        params = resolve(overrides)
        source = IndustryModel(params, build_macro(), seed, scale)  # sim's builder: the same 2012 population
        self.params, self.macro, self.year = params, source.macro, source.year
        self.p_market, self.p_innovation, self.p_digital, self.p_finance, self.p_energy, self.p_ladder = (
            source.rule_params[name] for name in ("market", "innovation", "digital", "finance", "energy", "ladder"))
        self.innovation_draws = source.innovation_draws
        self.n_markets = source.n_markets
        self.market_industry = source.market_industry
        self.market_elasticity_base, self.market_emerging = source.market_elasticity_base, source.market_emerging
        self.manufacturing = source.industries["manufacturing"].tolist()
        self.va_ratio_2012 = source.va_ratio_2012
        self.va_ratio = self.va_ratio_2012.copy()
        self.va_ratio_of = self.va_ratio.tolist()
        self.capital_to_revenue_2012 = source.capital_to_revenue_2012
        self.capital_to_revenue = source.capital_to_revenue.tolist()
        self.calibration = source.calibration
        self.patent_yield = source.calibration.patent_yield
        self.assumptions = source.assumptions
        self.wage, self.price_index, self.rest_of_world_mfg_va = source.wage, source.price_index, source.rest_of_world_mfg_va
        self.demand, self.export_demand = source.demand.copy(), source.export_demand.copy()
        self.world_export_demand = source.world_export_demand.copy()
        self.demand_growth = source.demand_growth.tolist()
        self.market_productivity = [a.copy() for a in source.market_productivity]
        # the demand closure's 2012 state (sim.model.start_markets), which open_markets and close_markets carry on
        for name in ("wage_2012", "demand_params", "productivity_index", "rd_return", "capital_by_market",
                     "capital_need_2012", "utilization", "carbon_share", "va_price", "output_price", "world_price",
                     "export_log_odds_2012", "patents_per_revenue_2012", "patents_per_revenue", "economy", "investment"):
            setattr(self, name, getattr(source, name))
        self.va_price_of = self.va_price.tolist()
        self.reference_firms = getattr(source, "reference_firms", None)
        self.initial_firms = source.initial_firms
        self.exit_revenue = source.exit_revenue  # real revenue below which a firm exits

        f = source.firms
        rows = np.flatnonzero(f.alive)
        columns = {name: getattr(f, name)[rows].tolist() for name in STATE}
        for i in range(rows.size):
            FirmAgent(self, {name: values[i] for name, values in columns.items()})

        self.datacollector = mesa.DataCollector(model_reporters={name: (lambda model, n=name: model.current[n])
                                                                 for name in AGGREGATES})
        self.firm_years = 0
        self._measure(entries=0.0, exits=0.0, patents=float(source.records[0]["invention_patent_apps"]))

    # ---- market-level helpers
    def _firms_by_market(self) -> np.ndarray:
        counts = [0.0] * self.n_markets
        for agent in self.agents:
            counts[agent.market] += agent.weight
        return np.array(counts)

    def draw_peer(self, market_of: int) -> FirmAgent:
        """A live firm of the market drawn with probability proportional to its weight."""
        members, cumulative = self.peers[market_of]
        return self.random.choices(members, cum_weights=cumulative)[0]

    def _index_peers(self) -> None:
        members = [[] for _ in range(self.n_markets)]
        for agent in self.agents:
            members[agent.market].append(agent)
        self.peers = [(group, np.cumsum([a.weight for a in group]).tolist()) for group in members]

    def _market_inputs(self) -> None:
        """Start-of-year facts every firm of a market sees (sim.year.market_inputs): the share of
        peers (same industry and region) above each digital stage; firms, SMEs and SMEs' revenue by
        market; and the live firms of each market, for imitators to copy."""
        counts = np.zeros((len(self.manufacturing) * N_REGIONS, N_STAGES))
        firms, sme_firms, sme_revenue = [0.0] * self.n_markets, [0.0] * self.n_markets, [0.0] * self.n_markets
        for agent in self.agents:
            w, mk = agent.weight, agent.market
            counts[agent.industry * N_REGIONS + agent.region, agent.digital_stage] += w
            firms[mk] += w
            if agent.firm_class == SME:
                sme_firms[mk] += w
                sme_revenue[mk] += w * agent.revenue
        self.peers_above = peer_share_table(counts).tolist()
        self.firms_in_market, self.sme_firms, self.sme_revenue = firms, sme_firms, sme_revenue
        self._index_peers()

    # ---- the year
    def step(self) -> None:
        self.year += 1
        year, p, macro = self.year, self.params, self.macro
        self.wage_before = self.wage
        self.wage *= 1.0 + macro.rate("wage_growth", year)
        self.rest_of_world_mfg_va *= 1.0 + macro.rate("rest_of_world_mfg_growth", year)
        self.labour_cost_index = self.wage / self.calibration.wage
        years, half_life = year - FIRST_YEAR, p["trend_half_life"]
        va_ratio = production.value_added_ratios(self.va_ratio_2012, p["value_added_ratio_trend"], years, half_life)
        self.va_ratio, self.va_ratio_of = va_ratio, va_ratio.tolist()
        self.rd_trend_rate = trend.rate_in(p["rd_propensity_trend"], years, half_life)
        self.capital_to_revenue = production.capital_to_revenue_ratios(self.capital_to_revenue_2012, va_ratio,
                                                                        self.va_ratio_2012).tolist()
        self.carbon_factor_change = macro.rate("carbon_factor_change", year)

        # 1. exits of last year's failures
        leaving = [a for a in self.agents if a.leaves(self.price_index, self.exit_revenue)]
        exits_weight = sum(a.weight for a in leaving)
        for agent in leaving:
            agent.remove()

        # 2. prices and demand by market, served up to capacity (sim.model.open_markets)
        opened = open_markets(self, year)
        self.rd_return = next_rd_returns(self, opened)
        self.rd_return_of = self.rd_return.tolist()
        self.va_price_of, self.demand_growth = self.va_price.tolist(), self.demand_growth.tolist()

        # 3. entry
        entries_weight = self._enter()

        # 4. market shares and revenue: replicator dynamics within each market
        self.productivity_norm = self.market_productivity[-1].tolist()
        self.agents.do("compete")
        held, gained = [0.0] * self.n_markets, [0.0] * self.n_markets
        strength = self.p_market.share_selection_strength
        for agent in self.agents:  # the mean gain weighted by share held x market-power damping (sim.rules.market)
            held_by_agent = agent.weight * agent.market_share * market_power_damping(strength, agent.market_share)
            held[agent.market] += held_by_agent
            gained[agent.market] += held_by_agent * agent.gain
        mean_gain = [g / h if h > 0.0 else 0.0 for g, h in zip(gained, held)]
        total = [0.0] * self.n_markets
        for agent in self.agents:
            agent.replicate(mean_gain[agent.market])
            total[agent.market] += agent.weight * agent.market_share
        scale = [1.0 / t if t > 0.0 else 0.0 for t in total]
        demand_of = self.demand.tolist()
        for agent in self.agents:
            agent.market_share *= scale[agent.market]
            agent.revenue = agent.market_share * demand_of[agent.market]

        # 5. exports: each market's export demand shared by export orientation (sim.rules.trade)
        agents = list(self.agents)
        shares = trade.export_shares(np.array([a.export_propensity for a in agents]), np.array([a.revenue for a in agents]),
                                     np.array([a.weight for a in agents]), np.array([a.market for a in agents]),
                                     opened.exports)
        for agent, share in zip(agents, shares.tolist()):
            agent.export_share = share

        # 6-12. the firms' year: production, innovation, digital, finance, energy, ladder, size class
        self._market_inputs()
        self.key_innovation = np.uint64(self.rng.integers(2**63))
        self.key_ladder = np.uint64(self.rng.integers(2**63))
        self.expected_patents = 0.0
        self.agents.shuffle_do("step")
        self.agents.do("commit")
        self.firm_years += len(self.agents)
        applications = float(self.rng.poisson(self.expected_patents))

        # 13. the sums by market after the year (sim.year.MARKET_SUMS; no carbon charges in the baseline), the
        # year's close (sim.model.close_markets), then the year's aggregates
        sums = [[0.0] * len(MarketSums._fields) for _ in range(self.n_markets)]
        for agent in self.agents:
            row, w = sums[agent.market], agent.weight
            row[0] += w * agent.employment
            row[1] += w * agent.employment * agent.productivity
            row[2] += w * agent.rd_spending
            row[3] += w * agent.revenue
            row[4] += w * agent.capital
            row[5] += w * agent.investment
            row[7] += w * agent.value_added
            row[8] += w * agent.patent_stock
            if agent.continuing:  # the chained productivity index (sim.year.MARKET_SUMS)
                row[10] += w * agent.employment_before
                row[11] += w * agent.employment_before * agent.productivity_before
                row[12] += w * agent.employment
                row[13] += w * agent.employment * agent.productivity
        close_markets(self, MarketSums(*np.array(sums).T), opened)
        self._measure(entries_weight, exits_weight, applications)

    def _enter(self) -> float:
        """sim.model.IndustryModel._enter: Poisson entrant rows per market, each a small firm that
        copies a live incumbent of its market drawn in proportion to weight."""
        p = self.params
        firms_in_market = self._firms_by_market()
        expected = entry_exit.expected_entrants(firms_in_market, np.asarray(self.demand_growth), p["entry_rate"],
                                                p["entry_demand_sensitivity"], self.reference_firms, p.get("entry_crowding", 0.0))
        row_weight = self.calibration.entrant_row_weight[self.market_industry]
        if not np.all(np.isfinite(expected)) or expected.sum() > MAX_ENTRY_MULTIPLE * self.initial_firms:
            raise ModelDivergence(f"{self.year}: {expected.sum():.3g} entrants expected; demand or entry has diverged")
        rows = entry_exit.entrant_rows(expected, row_weight, self.rng).tolist()
        self._index_peers()
        floor, threshold = self.calibration.entrant_floor_revenue, p["threshold_revenue"]
        elasticity, markup = p["wage_productivity_elasticity"], p["markup"]
        norm = self.market_productivity[-1]
        cash_ratio, debt_ratio = float(self.assumptions["cash_to_revenue"]), float(self.assumptions["debt_to_capital"])
        entered = 0.0
        for market_of, count in enumerate(rows):
            if count == 0 or not self.peers[market_of][0]:
                continue
            industry = market_of // N_SEGMENTS
            for _ in range(count):
                peer = self.draw_peer(market_of)
                revenue = floor * (threshold / floor) ** self.random.random() * self.price_index
                productivity = peer.productivity * math.exp(-p["entrant_productivity_gap"])
                wage = firm_wage(productivity, norm[market_of], self.wage, elasticity)
                va = revenue * self.va_ratio_of[industry]
                capital = self.capital_to_revenue[industry] * revenue
                state = {name: getattr(peer, name) for name in ("high_tech", "region", "rd_propensity", "energy_intensity",
                                                                "carbon_intensity", "export_propensity")}
                state.update(
                    weight=float(row_weight[market_of]), industry=industry, emerging=market_of % N_SEGMENTS == 1,
                    firm_class=FOREIGN_FUNDED if self.random.random() < p["foreign_share"] else SME,
                    ladder_rung=taxonomy.RUNG_NONE, digital_stage=0, age=0, productivity=productivity, revenue=revenue,
                    market_share=revenue / max(self.demand[market_of], 1e-9),
                    competitiveness=competitiveness(productivity, 0.0, revenue, wage, markup, 0.0),
                    value_added=va, previous_value_added=0.0, employment=va / self.va_price_of[market_of] / productivity,
                    rd_spending=state["rd_propensity"] * revenue, patent_stock=0.0,
                    energy_use=state["energy_intensity"] * va / self.va_price_of[market_of], export_share=0.0, capital=capital,
                    cash=cash_ratio * revenue, debt=debt_ratio * capital, receivables=revenue * p["receivable_days"] / 365.0,
                    illiquid=False, investment=0.0)
                FirmAgent(self, state)
                entered += state["weight"]
        return entered

    def _measure(self, entries: float, exits: float, patents: float) -> None:
        """The year's aggregates (sim/indicators.py definitions), one pass over the agents."""
        p = self.params
        threshold = p["threshold_revenue"]
        n = above = va = mfg_va = rd_mfg = revenue_mfg = exports = workers_mfg = energy_ = srdi = sme = sme_initial = 0.0
        log_productivity = {STATE_OWNED: [0.0, 0.0], LARGE_PRIVATE: [0.0, 0.0], SME: [0.0, 0.0]}  # above scale: weight, sum
        for a in self.agents:
            w = a.weight
            n += w
            manufacturing = self.manufacturing[a.industry]
            va += w * a.value_added
            exports += w * a.revenue * a.export_share
            energy_ += w * a.energy_intensity * a.value_added / self.va_price_of[a.market]
            if manufacturing:
                mfg_va += w * a.value_added
                workers_mfg += w * a.employment
            if a.revenue >= threshold:
                above += w
                if a.firm_class in log_productivity:
                    log_productivity[a.firm_class][0] += w
                    log_productivity[a.firm_class][1] += w * math.log(a.productivity)
                if manufacturing:
                    rd_mfg += w * a.rd_spending
                    revenue_mfg += w * a.revenue
            if a.firm_class == SME:
                sme += w
                if a.digital_stage == 0:
                    sme_initial += w
            if a.ladder_rung == RUNG_SRDI or a.ladder_rung == RUNG_LITTLE_GIANT:
                srdi += w
        self.current = {
            "n_firms": n, "n_above_scale": above, "manufacturing_va": mfg_va / TRILLION,
            "rd_intensity_mfg": 100.0 * rd_mfg / revenue_mfg, "sme_digital_initial_share": sme_initial / max(sme, 1e-300),
            "exports": exports / TRILLION, "industrial_va": va / TRILLION, "employment_mfg": workers_mfg / 1e6,
            "industrial_energy": energy_ / 1e6, "n_srdi": srdi, "n_entries": entries, "n_exits": exits,
            "invention_patent_apps": patents,
            "soe_productivity_gap": ((log_productivity[LARGE_PRIVATE][1] + log_productivity[SME][1])
                                     / (log_productivity[LARGE_PRIVATE][0] + log_productivity[SME][0])
                                     - log_productivity[STATE_OWNED][1] / log_productivity[STATE_OWNED][0]),
        }
        self.datacollector.collect(self)


def _result(name: str, scale: float, seed: int, years: list[int], series: dict, firm_years: int, seconds: float) -> dict:
    return {"model": name, "scale": scale, "seed": seed, "years": years,
            "series": {k: [float(v) for v in series[k]] for k in AGGREGATES}, "firm_years": int(firm_years),
            "seconds": seconds, "firm_years_per_s": firm_years / seconds if seconds > 0 else float("nan")}


def run_reference(scale: float, seed: int, last_year: int = LAST_YEAR, overrides: dict | None = None) -> dict:
    """The Mesa reference from 2012 to last_year: aggregates by year (AGGREGATES), firm-years
    simulated (agents stepped, summed over years) and seconds of simulation (the build excluded).
    overrides: parameter values over sim.parameters.resolve() (a perturbed reference)."""
    model = ReferenceModel(scale, seed, overrides)
    started = time.perf_counter()
    while model.year < last_year:
        model.step()
    seconds = time.perf_counter() - started
    frame = model.datacollector.get_model_vars_dataframe()
    return _result("mesa_reference", scale, seed, list(range(FIRST_YEAR, last_year + 1)),
                   {k: frame[k].tolist() for k in AGGREGATES}, model.firm_years, seconds)


def sim_aggregates(record: dict) -> dict:
    """The AGGREGATES of one of IndustryModel's yearly records."""
    values = {k: record[k] for k in AGGREGATES if k in record}
    values["sme_digital_initial_share"] = float(record["sme_digital_stage_share"][0])
    return values


def run_sim(scale: float, seed: int, last_year: int = LAST_YEAR, overrides: dict | None = None,
            threads: int | None = None) -> dict:
    """The same aggregates, firm-years (live rows after each year, summed) and seconds of
    simulation from sim's IndustryModel (threads: sim's default when None)."""
    extra = {} if threads is None else {"threads": threads}
    model = IndustryModel(resolve(overrides), build_macro(), seed, scale, **extra)
    firm_years = 0
    started = time.perf_counter()
    while model.year < last_year:
        model.step()
        firm_years += int(model.firms.alive.sum())
    seconds = time.perf_counter() - started
    rows = [sim_aggregates(r) for r in model.records]
    return _result("sim", scale, seed, list(range(FIRST_YEAR, last_year + 1)), {k: [r[k] for r in rows] for k in AGGREGATES},
                   firm_years, seconds)


def run(kind: str, scale: float, seed: int, last_year: int = LAST_YEAR, overrides: dict | None = None) -> dict:
    """run_reference ("reference") or run_sim ("sim", one thread): a job for a process pool."""
    if kind == "reference":
        return run_reference(scale, seed, last_year, overrides)
    return run_sim(scale, seed, last_year, overrides, threads=1)


def run_many(jobs: list[tuple], workers: int) -> list[dict]:
    """run(*job) for each job, on `workers` fresh processes (spawned: no threads are forked)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(run, *zip(*jobs)))


def cross_check(runs: list[dict], baseline: list[dict], variables=AGGREGATES[:6], years=(2015, 2022, 2035),
                z: float = 4.0, rel: float = 0.01) -> list[dict]:
    """Means over seeds of `runs` against `baseline`, variable by variable and year by year.

    A row agrees when |mean difference| <= z x SE + rel x |baseline mean|, where SE is the standard
    error of the difference of two means with the variance pooled over both sets of seeds (the two
    models have the same variance when they have the same rules; seeds of the two sets must differ)."""
    rows = []
    for name in variables:
        for year in years:
            a = np.array([r["series"][name][r["years"].index(year)] for r in runs])
            b = np.array([r["series"][name][r["years"].index(year)] for r in baseline])
            pooled = ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
            se = math.sqrt(pooled * (1.0 / a.size + 1.0 / b.size))
            difference = a.mean() - b.mean()
            bound = z * se + rel * abs(b.mean())
            z_score = difference / se if se > 0 else (0.0 if difference == 0 else math.copysign(math.inf, difference))
            rows.append({"variable": name, "year": year, "mean": float(a.mean()), "baseline_mean": float(b.mean()),
                         "se": se, "z": z_score, "bound": bound, "agrees": bool(abs(difference) <= bound)})
    return rows


def check_table(rows: list[dict]) -> str:
    lines = [f"{'variable':28} {'year':>5} {'reference':>12} {'sim':>12} {'diff %':>8} {'SE':>10} {'z':>7}  agrees"]
    for r in rows:
        lines.append(f"{r['variable']:28} {r['year']:>5} {r['mean']:>12.6g} {r['baseline_mean']:>12.6g} "
                     f"{100 * (r['mean'] / r['baseline_mean'] - 1) if r['baseline_mean'] else float('nan'):>8.2f} "
                     f"{r['se']:>10.3g} {r['z']:>7.2f}  {'yes' if r['agrees'] else 'NO'}")
    return "\n".join(lines)


def table(result: dict, names=AGGREGATES[:6] + ("n_entries", "n_exits")) -> str:
    lines = [f"{result['model']} (scale {result['scale']}, seed {result['seed']})",
             "year " + " ".join(f"{n:>26}" for n in names),
             "     " + " ".join(f"{'(' + UNITS[n] + ')':>26}" for n in names)]
    for i, year in enumerate(result["years"]):
        lines.append(f"{year} " + " ".join(f"{result['series'][n][i]:>26.6g}" for n in names))
    lines.append(f"{result['firm_years']} firm-years in {result['seconds']:.2f} s: {result['firm_years_per_s']:,.0f} firm-years/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.002)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--last-year", type=int, default=LAST_YEAR)
    parser.add_argument("--sim", action="store_true", help="also run sim on the same seed and scale")
    parser.add_argument("--check", type=int, metavar="N", help="cross-check instead: N seeds of each (reference "
                        "seeds --seed.., sim seeds --seed+1000..), means and SEs by variable")
    parser.add_argument("--workers", type=int, default=2, help="processes for --check")
    args = parser.parse_args(argv)
    if args.check:
        seeds = range(args.seed, args.seed + args.check)
        runs = run_many([("reference", args.scale, s, args.last_year) for s in seeds]
                        + [("sim", args.scale, s + 1000, args.last_year) for s in seeds], args.workers)
        years = [y for y in (2013, 2015, 2018, 2022, 2028, 2035) if y <= args.last_year]
        rows = cross_check(runs[:args.check], runs[args.check:], AGGREGATES, years)
        print(check_table(rows))
        print(json.dumps({"scale": args.scale, "seeds": args.check, "rows": rows}))
        return
    results = {"reference": run_reference(args.scale, args.seed, args.last_year)}
    if args.sim:
        results["sim"] = run_sim(args.scale, args.seed, args.last_year)
    for result in results.values():
        print(table(result))
        print()
    print(json.dumps(results if args.sim else results["reference"]))


if __name__ == "__main__":
    main()
