"""Exit and entry (K+S; Nelson and Winter 1982).

Exit: a firm leaves when its real revenue falls below a floor (its market share has all but
vanished: K+S exit on low share, stated in revenue because in a heavy-tailed market most firms hold
tiny shares), when its net worth turns negative, or when it cannot pay its way (cash below zero
with no credit left).
Entry: each market draws entrants in proportion to its firms and its last demand growth. An
entrant is small (revenue in the below-threshold band) and copies a random incumbent of its market
(technology, R&D habit, export orientation, energy use) with a productivity handicap.
"""

from __future__ import annotations

import numpy as np

from sim.rules import Process

PROCESS = Process(
    name="entry_exit",
    description="Exit on low share, negative net worth or illiquidity; entry per market copying incumbents.",
    reads=("revenue", "capital", "cash", "receivables", "debt", "weight", "alive"),
    writes=("alive", "weight", "every column of entrant rows"),
    parameters=("entry_rate", "entry_demand_sensitivity", "exit_revenue", "entrant_productivity_gap"),
)


def exit_mask(real_revenue, net_worth, illiquid, alive, revenue_floor: float) -> np.ndarray:
    """Firms that exit this year."""
    return alive & ((real_revenue < revenue_floor) | (net_worth < 0.0) | illiquid)


def expected_entrants(firms_in_market, demand_growth, entry_rate: float, sensitivity: float) -> np.ndarray:
    """Expected number of real entrant firms per market."""
    return entry_rate * firms_in_market * np.maximum(1.0 + sensitivity * demand_growth, 0.0)


def entrant_rows(expected, row_weight, rng: np.random.Generator) -> np.ndarray:
    """Rows of entrants per market: Poisson in expected firms over the weight each row carries."""
    return rng.poisson(expected / row_weight)
