"""Exports: export demand per market and each firm's export share.

Export demand grows with world demand and falls with the market's unit labour cost relative to
world prices (price elasticity); it is shared among the market's firms in proportion to their
export orientation (foreign-funded firms most), capped at 95% of a firm's revenue. 001 II (ii)
gives goods exports of RMB 12.9 trillion in 2012 and 24 trillion in 2022.
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
    parameters=("export_price_elasticity",),
)
Params = parameter_tuple(PROCESS, __name__)
EXPORT_SHARE_CAP = 0.95


def export_demand_factor(world_demand_growth: float, world_price_growth: float, unit_labour_cost_growth, price_elasticity: float):
    """Growth factor of a market's export demand."""
    relative_price = (1.0 + unit_labour_cost_growth) / (1.0 + world_price_growth)
    return (1.0 + world_demand_growth) * relative_price ** (-price_elasticity)


def export_shares(propensity, revenue, weight, market, export_demand) -> np.ndarray:
    return fill_to_target(propensity, weight * revenue, market, export_demand, cap=EXPORT_SHARE_CAP)
