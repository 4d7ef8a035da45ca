"""Exports: export demand per market and each firm's export share.

Export demand grows with world demand, falls with the market's unit labour cost relative to
world prices (price elasticity) and rises with its R&D intensity (technological competitiveness:
Fagerberg 1988 relates export shares to relative innovative effort); it is shared among the market's firms in proportion to their
export orientation (foreign-funded firms most), capped at 95% of a firm's revenue. 001 II (ii)
gives goods exports of RMB 12.9 trillion in 2012 and 24 trillion in 2022. A trade shock (lever)
shifts the export demand of targeted industries' markets by a percentage while it lasts.
"""

from __future__ import annotations

import numpy as np

from sim.rules import Process, parameter_tuple
from sim.weighted import fill_to_target

PROCESS = Process(
    name="trade",
    description="Export demand by market from world demand and relative unit labour cost; firm export shares.",
    reads=("export_propensity", "revenue", "weight", "alive"),
    writes=("export_share",),
    parameters=("export_price_elasticity", "export_technology_elasticity"),
)
Params = parameter_tuple(PROCESS, __name__)
EXPORT_SHARE_CAP = 0.95


def export_demand_factor(world_demand_growth: float, world_price_growth: float, unit_labour_cost_growth, price_elasticity: float,
                         technology_growth=0.0, technology_elasticity: float = 0.0):
    """Growth factor of a market's export demand: world demand, times relative unit labour cost to the
    minus price elasticity, times the growth of the market's R&D intensity to the technology
    elasticity (Fagerberg 1988)."""
    relative_price = (1.0 + unit_labour_cost_growth) / (1.0 + world_price_growth)
    return (1.0 + world_demand_growth) * relative_price ** (-price_elasticity) * (1.0 + technology_growth) ** technology_elasticity


def export_demand_shock(market_industry, targeted_industry, percent_change: float) -> np.ndarray:
    """trade_shock lever: factor on each market's export demand, 1 + percent_change / 100 for the
    markets of targeted industries, 1 elsewhere."""
    return np.where(targeted_industry[market_industry], 1.0 + percent_change / 100.0, 1.0)


def export_shares(propensity, revenue, weight, market, export_demand) -> np.ndarray:
    return fill_to_target(propensity, weight * revenue, market, export_demand, cap=EXPORT_SHARE_CAP)
