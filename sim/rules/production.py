"""Production: value added from revenue, employment from productivity.

Value added is revenue times the industry's value-added ratio (input-output share, an assumption
in calibration/industries.toml), which moves with a common trend (upgrading; value_added_ratio_trend). Labour productivity is real value added per worker, so
employment = (value added / price index) / productivity.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.rules import Process, parameter_tuple

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
    return revenue * va_ratio


@njit(cache=True)
def employment(value_added_, productivity, price_index):
    return value_added_ / price_index / productivity


def value_added_ratios(base: np.ndarray, trend: float, years_since_2012: int) -> np.ndarray:
    """The industries' value-added ratios of a year: the 2012 ratios moved by the trend, capped."""
    return np.minimum(base * (1.0 + trend) ** years_since_2012, MAX_VALUE_ADDED_RATIO)


def capital_to_revenue_ratios(base: np.ndarray, va_ratio: np.ndarray, va_ratio_2012: np.ndarray) -> np.ndarray:
    """Desired capital per unit of revenue in each industry this year: the 2012 ratio moved with the
    value-added ratio, so that capital per unit of value added stays at its 2012 level (a stable
    capital-output ratio, Kaldor 1961): upgrading toward higher value added does not by itself make
    firms less capital-intensive."""
    return base * va_ratio / va_ratio_2012
