"""Catch-up trends that slow down: the calibrated 2012-2022 trends converge instead of running to 2035.

Three quantities carry a trend that the firm rules do not explain: the firms' R&D share of revenue
(rd_propensity_trend, sim.rules.innovation), the industries' value added per unit of revenue
(value_added_ratio_trend, sim.rules.production) and the strategic-emerging segments' extra income
elasticity (emerging_elasticity_premium, sim.rules.demand). Each is calibrated on 2012-2022 as its 2013 rate;
the rate halves every `trend_half_life` years (catch-up slows as the gap to the frontier closes,
the convergence reading of Gerschenkron and of Barro and Sala-i-Martin), so the trend's cumulative
effect is bounded: at most rate x half-life / ln 2 in log terms, whatever the horizon.
"""

from __future__ import annotations

import math

from sim.processes import Process, parameter_tuple

PROCESS = Process(
    name="trend",
    description="The yearly rate of a calibrated catch-up trend, halving every trend_half_life years from 2013.",
    reads=(),
    writes=(),
    parameters=("trend_half_life",),
)
Params = parameter_tuple(PROCESS, __name__)


def rate_in(first_rate: float, years_since_2012: int, half_life: float) -> float:
    """The trend's rate in year 2012 + years_since_2012 (>= 1): first_rate x 2 ** -((years - 1) / half_life)."""
    return first_rate * 2.0 ** (-(years_since_2012 - 1) / half_life)


def cumulative_factor(first_rate: float, years_since_2012: int, half_life: float) -> float:
    """The product of (1 + rate) over the years 2013 to 2012 + years_since_2012 (1 in 2012)."""
    return math.prod(1.0 + rate_in(first_rate, k, half_life) for k in range(1, years_since_2012 + 1))
