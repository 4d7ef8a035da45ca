"""Production: value added from revenue, employment from productivity.

Value added is revenue times the industry's value-added ratio (input-output share, an assumption
in calibration/industries.toml), which moves with a common catch-up trend (upgrading;
value_added_ratio_trend, calibrated on 2012-2022 and halving every trend_half_life years:
sim.rules.trend). Labour productivity is real value added per worker, so employment = (value added
/ the market's value-added price) / productivity (the price from sim.rules.demand).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.processes import Process, parameter_tuple
from sim.rules.trend import cumulative_factor

PROCESS = Process(
    name="production",
    description="Value added = revenue x value-added ratio; employment = real value added / productivity.",
    reads=("revenue", "productivity", "industry"),
    writes=("value_added", "previous_value_added", "employment"),
    parameters=("value_added_ratio_trend",),
)
MAX_VALUE_ADDED_RATIO = 0.6
Params = parameter_tuple(PROCESS, __name__)


@njit(cache=True)
def value_added(revenue, va_ratio):
    """Value added (M RMB, current prices): revenue times the industry's value-added ratio."""
    return revenue * va_ratio


@njit(cache=True)
def employment(value_added_, productivity, va_price):
    """Workers: real value added (value added over the market's value-added price, 2012 = 1) over
    labour productivity (M RMB of 2012 per person)."""
    return value_added_ / va_price / productivity


@njit(cache=True)
def wage_bill(workers, wage_per_worker):
    """Labour cost of the year (M RMB): workers times the firm's labour cost per worker
    (sim.rules.market: the national wage scaled by the firm's relative productivity)."""
    return workers * wage_per_worker


@njit(cache=True, inline="always")
def produce(f, i, va_ratio, va_price):
    """Row i's year of production: last year's value added kept, this year's value added and
    employment written; returns them (float64, as the later rules use them)."""
    f.previous_value_added[i] = f.value_added[i]
    va = value_added(f.revenue[i], va_ratio)
    f.value_added[i] = va
    workers = employment(va, f.productivity[i], va_price)
    f.employment[i] = workers
    return va, workers


def value_added_ratios(base: np.ndarray, trend: float, years_since_2012: int, half_life: float) -> np.ndarray:
    """The industries' value-added ratios of a year: the 2012 ratios moved by the trend (its 2013 rate,
    halving every `half_life` years: sim.rules.trend), capped."""
    return np.minimum(base * cumulative_factor(trend, years_since_2012, half_life), MAX_VALUE_ADDED_RATIO)


def capital_to_revenue_ratios(base: np.ndarray, va_ratio: np.ndarray, va_ratio_2012: np.ndarray) -> np.ndarray:
    """Desired capital per unit of revenue in each industry this year: the 2012 ratio moved with the
    value-added ratio, so that capital per unit of value added stays at its 2012 level (a stable
    capital-output ratio, Kaldor 1961): upgrading toward higher value added does not by itself make
    firms less capital-intensive."""
    return base * va_ratio / va_ratio_2012
