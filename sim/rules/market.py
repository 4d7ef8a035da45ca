"""Demand and market shares: nominal demand per market, replicator dynamics of shares.

A market is an industry x segment (conventional / strategic-emerging). Demand is domestic (growing
with nominal GDP at an income elasticity) plus export demand (see sim.rules.trade). Shares move
by replicator dynamics toward the firms whose competitiveness improved most (Dosi, Fagiolo and
Roventini 2010, K+S):
    s_j' = s_j exp(chi (dE_j - dE_bar) + shock_j) / normaliser,
with competitiveness E = -log(price) + quality, price = (1 + markup) * unit labour cost, and dE
its change over the year. Applied to changes, the rule is the CES demand law with elasticity of
substitution chi + 1 and a persistent firm-specific demand shifter held in the share itself
(Melitz 2003; Hsieh and Klenow 2009): large and small firms coexist in a stationary market, and
shares move toward firms that innovate, invest or digitalise faster than their rivals.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.randomness import normal
from sim.rules import Process, parameter_tuple

PROCESS = Process(
    name="market",
    description="Demand by market and replicator dynamics of market shares; revenue = share x demand.",
    reads=("productivity", "patent_stock", "revenue", "market_share", "competitiveness", "weight", "alive"),
    writes=("market_share", "competitiveness", "revenue"),
    parameters=("share_selection_strength", "quality_weight", "demand_shock_sd", "shock_size_exponent",
                "shock_reference_revenue", "markup", "wage_productivity_elasticity"),
)
Params = parameter_tuple(PROCESS, __name__)
MAX_LOG_STEP = 2.0  # a firm's share can change at most e^2 (about 7x) in a year: keeps outliers from exploding


def domestic_demand_factor(gdp_growth: float, elasticity: np.ndarray) -> np.ndarray:
    """Growth factor of nominal domestic demand: (1 + nominal GDP growth) ** income elasticity."""
    return (1.0 + gdp_growth) ** elasticity


@njit(cache=True)
def firm_wage(productivity, market_productivity, wage, elasticity):
    """Labour cost per worker: the national level, higher in more productive firms (skill mix and
    rent sharing): wage * (A / A_market) ** elasticity."""
    return wage * (productivity / market_productivity) ** elasticity


@njit(cache=True)
def competitiveness(productivity, patent_stock, revenue, wage_of_firm, markup, quality_weight):
    """E = -log(price) + quality_weight * log(1 + patents per M RMB of revenue)."""
    price = (1.0 + markup) * wage_of_firm / productivity
    return -math.log(price) + quality_weight * math.log1p(patent_stock / max(revenue, 1e-6))


@njit(cache=True)
def shock_sd(revenue, sd_at_reference, size_exponent, reference_revenue):
    """Idiosyncratic shock sd falling with size (Amaral et al. 1997)."""
    return sd_at_reference * (max(revenue, 1e-6) / reference_revenue) ** (-size_exponent)


@njit(cache=True)
def replicator_shares(shares, fitness_gain, market, weight, n_markets, strength, shock):
    """Replicator dynamics within each market; returns per-firm shares with sum(weight * share) = 1
    in every occupied market. `shock` is a log multiplier per firm; zero-weight rows get zero."""
    n = shares.size
    held = np.zeros(n_markets)
    gained = np.zeros(n_markets)
    for i in range(n):
        h = weight[i] * shares[i]
        held[market[i]] += h
        gained[market[i]] += h * fitness_gain[i]
    updated = np.zeros(n)
    total = np.zeros(n_markets)
    for i in range(n):
        if weight[i] > 0.0:
            m = market[i]
            mean_gain = gained[m] / held[m] if held[m] > 0.0 else 0.0
            step = strength * (fitness_gain[i] - mean_gain) + shock[i]
            step = min(max(step, -MAX_LOG_STEP), MAX_LOG_STEP)
            updated[i] = shares[i] * math.exp(step)
            total[m] += weight[i] * updated[i]
    for i in range(n):
        if weight[i] > 0.0 and total[market[i]] > 0.0:
            updated[i] /= total[market[i]]
    return updated


@njit(cache=True)
def update_market(market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
                  market_productivity, demand, n_markets, wage, key, p):
    """One year of competition: new shares, competitiveness and revenue (arrays updated in place)."""
    update_market_at_wages(market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
                           market_productivity, demand, n_markets, wage, np.ones(share.size), key, p)


@njit(cache=True)
def update_market_at_wages(market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
                           market_productivity, demand, n_markets, wage, wage_factor, key, p):
    """update_market with a factor per firm on its labour cost (1, or the regional wage ratio of a
    firm that moved inland under the regional_transfer lever)."""
    n = share.size
    gain = np.zeros(n)
    shock = np.zeros(n)
    for i in range(n):  # rows are independent
        if weight[i] > 0.0:
            m = market[i]
            w = firm_wage(productivity[i], market_productivity[m], wage, p.wage_productivity_elasticity) * wage_factor[i]
            fitness = competitiveness(productivity[i], patent_stock[i], revenue[i], w, p.markup, p.quality_weight)
            gain[i] = fitness - old_competitiveness[i]
            old_competitiveness[i] = fitness
            sd = shock_sd(revenue[i], p.demand_shock_sd, p.shock_size_exponent, p.shock_reference_revenue)
            shock[i] = sd * normal(key, i, 0) - 0.5 * sd * sd
    new = replicator_shares(share, gain, market, weight, n_markets, p.share_selection_strength, shock)
    for i in range(n):
        if weight[i] > 0.0:
            share[i] = new[i]
            revenue[i] = new[i] * demand[market[i]]
