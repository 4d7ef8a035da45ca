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
the share moves toward firms that innovate, invest or digitalise faster than their rivals.
"""

from __future__ import annotations

import numpy as np

from sim.rules import Process

PROCESS = Process(
    name="market",
    description="Demand by market and replicator dynamics of market shares; revenue = share x demand.",
    reads=("productivity", "patent_stock", "revenue", "market_share", "competitiveness", "weight", "alive"),
    writes=("market_share", "competitiveness", "revenue"),
    parameters=("share_selection_strength", "quality_weight", "demand_shock_sd", "shock_size_exponent",
                "shock_reference_revenue", "markup", "wage_productivity_elasticity", "domestic_demand_elasticity_scale", "emerging_elasticity_premium"),
)


def domestic_demand_factor(gdp_growth: float, elasticity: np.ndarray) -> np.ndarray:
    """Growth factor of nominal domestic demand: (1 + nominal GDP growth) ** income elasticity."""
    return (1.0 + gdp_growth) ** elasticity


def firm_wage(productivity, market_productivity, wage: float, elasticity: float) -> np.ndarray:
    """Labour cost per worker: the national level, higher in more productive firms (skill mix and
    rent sharing), wage_j = wage * (A_j / A_market) ** elasticity."""
    return wage * (productivity / market_productivity) ** elasticity


def competitiveness(productivity, patent_stock, revenue, firm_wages, markup: float, quality_weight: float) -> np.ndarray:
    """E = -log(price) + quality_weight * log(1 + patents per M RMB of revenue)."""
    price = (1.0 + markup) * firm_wages / productivity
    quality = np.log1p(patent_stock / np.maximum(revenue, 1e-6))
    return -np.log(price) + quality_weight * quality


def shock_sd(revenue, sd_at_reference: float, size_exponent: float, reference_revenue: float) -> np.ndarray:
    """Idiosyncratic shock sd falling with size (Amaral et al. 1997)."""
    return sd_at_reference * (np.maximum(revenue, 1e-6) / reference_revenue) ** (-size_exponent)


def replicator_shares(shares, fitness, market, weight, n_markets: int, strength: float, shock=None) -> np.ndarray:
    """Replicator dynamics within each market; returns per-firm shares with sum(weight * share) = 1 per market.

    `fitness` is the gain in competitiveness; `shock` an optional log multiplier per firm. Rows
    with zero weight keep zero share.
    """
    held = weight * shares
    market_fitness = np.bincount(market, weights=held * fitness, minlength=n_markets) / np.maximum(
        np.bincount(market, weights=held, minlength=n_markets), 1e-300
    )
    log_multiplier = strength * (fitness - market_fitness[market])
    if shock is not None:
        log_multiplier = log_multiplier + shock
    updated = shares * np.exp(np.clip(log_multiplier, -30.0, 30.0))
    totals = np.bincount(market, weights=weight * updated, minlength=n_markets)
    return np.where(weight > 0, updated / np.maximum(totals[market], 1e-300), 0.0)
