"""Exports: China's share of world demand by market, and each firm's export share.

Each market faces a world import demand that grows with world trade (a macro path). China's share
of it is a CES (Armington) share, s = a p^(1-sigma) / (a p^(1-sigma) + (1 - a) p_w^(1-sigma)): in odds
form, the target odds of the share are the 2012 odds times the market's output price relative to
world prices (both 2012 = 1) to the minus price elasticity and its technology level (patent stock
per unit of revenue relative to 2012) to the technology elasticity: technological competitiveness
in levels (Fagerberg 1988 relates export shares to relative innovative effort; Dosi, Pavitt and
Soete 1990). The odds close a share of their gap to the target each year (export_adjustment_rate:
trade responds to prices with lags). While the share is small this is the constant-elasticity
export demand of the K+S family; unlike it, exports can never pass the world's demand. The
market's exports are shared among its firms in proportion to their export orientation
(foreign-funded firms most), capped at 95% of a firm's revenue. 001 II (ii) gives goods exports of
RMB 12.9 trillion in 2012 and 24 trillion in 2022. A trade shock (lever) shifts the export demand of
targeted industries' markets by a percentage while it lasts.
"""

from __future__ import annotations

import numpy as np

from sim.parallel import array_in
from sim.processes import Process, parameter_tuple
from sim.weighted import fill_floor, fill_to_target

PROCESS = Process(
    name="trade",
    description="China's CES share of world demand by market, from relative prices and technology levels; firm export shares.",
    reads=("export_propensity", "revenue", "weight", "alive"),
    writes=("export_share",),
    parameters=("export_price_elasticity", "export_technology_elasticity", "export_adjustment_rate"),
)
Params = parameter_tuple(PROCESS, __name__)
EXPORT_SHARE_CAP = 0.95
MAX_WORLD_SHARE = 1.0 - 1e-9  # keeps the odds finite when a market's share rounds to 1


def target_log_odds(log_odds_2012, relative_price, technology, price_elasticity: float, technology_elasticity: float):
    """The log odds of China's share of each market's world demand that its relative price and
    technology level call for: log o_2012 - price elasticity x log(relative price) + technology
    elasticity x log(technology level), both relative to 2012."""
    return log_odds_2012 - price_elasticity * np.log(relative_price) + technology_elasticity * np.log(technology)


def exports_from_share(exports, world_demand, target, adjustment_rate: float, world_demand_growth: float):
    """This year's exports and world demand by market from last year's: the log odds of the share
    exports / world demand close `adjustment_rate` of their gap to `target` (log odds), world demand
    grows at `world_demand_growth`. Markets with no world demand or no exports export nothing."""
    world = world_demand * (1.0 + world_demand_growth)
    share = np.divide(exports, world_demand, out=np.zeros(np.shape(world_demand)), where=world_demand > 0)
    share = np.clip(share, 0.0, MAX_WORLD_SHARE)
    exporting = share > 0.0
    log_odds = np.log(np.where(exporting, share, 0.5) / (1.0 - share))
    log_odds = log_odds + adjustment_rate * (np.where(exporting, target, log_odds) - log_odds)
    odds = np.where(exporting, np.exp(log_odds), 0.0)
    return world * odds / (1.0 + odds), world


def log_odds_of(exports, world_demand):
    """log(s / (1 - s)) of China's share s = exports / world demand (-inf where it exports nothing)."""
    share = np.clip(np.divide(exports, world_demand, out=np.zeros(np.shape(world_demand)), where=world_demand > 0), 0.0,
                    MAX_WORLD_SHARE)
    with np.errstate(divide="ignore"):
        return np.log(share / (1.0 - share))


def export_demand_shock(market_industry, targeted_industry, percent_change: float) -> np.ndarray:
    """trade_shock lever: factor on each market's export demand, 1 + percent_change / 100 for the
    markets of targeted industries, 1 elsewhere."""
    return np.where(targeted_industry[market_industry], 1.0 + percent_change / 100.0, 1.0)


def export_shares(propensity, revenue, weight, market, export_demand, workspace=None, out=None, factor=None) -> np.ndarray:
    """Each firm's export share: its market's export demand shared in proportion to export
    orientation, capped at EXPORT_SHARE_CAP (weighted.fill_to_target). `workspace`: a
    sim.parallel.Workspace for the temporaries; `out`: the array to write the shares into;
    `factor`, by market: the scale factors of last year's call (zeros: none yet), replaced by this
    year's. Last year's factors only tell the filling which rows it may pass over (a pass over every
    row saved when they are close to this year's, as from one year to the next); the shares are
    the same with or without them."""
    size = np.multiply(weight, revenue, out=array_in(workspace, "trade.size", weight.size, np.result_type(weight, revenue)))
    floor = None if factor is None else fill_floor(factor, EXPORT_SHARE_CAP)  # no floor (inf) where a factor is 0
    return fill_to_target(propensity, size, market, export_demand, cap=EXPORT_SHARE_CAP, out=out, floor=floor,
                          factor_out=factor)
