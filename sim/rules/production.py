"""Production: value added from revenue, employment from productivity.

Value added is revenue times the industry's value-added ratio (input-output share, an assumption
in calibration/industries.toml). Labour productivity is real value added per worker, so
employment = (value added / price index) / productivity.
"""

from __future__ import annotations

import numpy as np

from sim.rules import Process

PROCESS = Process(
    name="production",
    description="Value added = revenue x value-added ratio; employment = real value added / productivity.",
    reads=("revenue", "productivity", "industry"),
    writes=("value_added", "previous_value_added", "employment"),
)


def value_added(revenue, va_ratio) -> np.ndarray:
    return revenue * va_ratio


def employment(value_added, productivity, price_index: float) -> np.ndarray:
    return value_added / price_index / productivity
