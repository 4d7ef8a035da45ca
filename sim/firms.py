"""Firms as a struct of numpy arrays: a firm is a row, every rule updates whole columns.

Each row carries a `weight`: how many real firms it stands for (1.0 at full scale). Rows of dead
firms are kept (alive = False, weight 0) and reused by entrants, so arrays are rarely resized.
float32 holds firm state (enough for 7 significant digits); every aggregate sums in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numba import njit

# name: (dtype, unit, description). The only place the firm state is declared.
FIRM_STATE: dict[str, tuple[type, str, str]] = {
    "alive": (np.bool_, "1", "row holds a live firm"),
    "weight": (np.float32, "firms", "real firms this row stands for"),
    "firm_class": (np.uint8, "code", "ownership and size class, sim.taxonomy.FIRM_CLASSES"),
    "ladder_rung": (np.uint8, "code", "gradient-cultivation rung, sim.taxonomy.LADDER_RUNGS"),
    "industry": (np.uint8, "code", "industry, calibration/industries.toml order"),
    "emerging": (np.bool_, "1", "in the strategic-emerging segment of its industry"),
    "high_tech": (np.bool_, "1", "counted as high-tech manufacturing"),
    "region": (np.uint8, "code", "region, sim.taxonomy.REGIONS"),
    "digital_stage": (np.uint8, "code", "digital-transformation stage, sim.taxonomy.DIGITAL_STAGES"),
    "age": (np.uint16, "year", "years since entry"),
    "market_share": (np.float32, "1", "share of its market (industry x segment) per real firm"),
    "competitiveness": (np.float32, "log points", "competitiveness (minus log price, plus quality) at the last share update"),
    "revenue": (np.float32, "M RMB", "revenue, current prices"),
    "previous_value_added": (np.float32, "M RMB", "value added of the previous year"),
    "value_added": (np.float32, "M RMB", "value added, current prices"),
    "capital": (np.float32, "M RMB", "fixed capital"),
    "employment": (np.float32, "persons", "employment"),
    "productivity": (np.float32, "M RMB per person, 2012 prices", "labour productivity"),
    "rd_propensity": (np.float32, "share of revenue", "R&D spending over revenue the firm aims at"),
    "rd_spending": (np.float32, "M RMB", "R&D spending of the year"),
    "patent_stock": (np.float32, "applications", "depreciated stock of invention patent applications"),
    "energy_intensity": (np.float32, "tce per M RMB (2012 prices)", "energy use per real value added"),
    "energy_use": (np.float32, "tce", "energy use of the year"),
    "carbon_intensity": (np.float32, "t CO2 per tce", "emissions per unit of energy"),
    "export_propensity": (np.float32, "share of revenue", "relative export orientation"),
    "export_share": (np.float32, "share of revenue", "exports over revenue"),
    "cash": (np.float32, "M RMB", "cash and deposits"),
    "debt": (np.float32, "M RMB", "interest-bearing debt"),
    "receivables": (np.float32, "M RMB", "accounts receivable, overdue ones included"),
}


@dataclass
class Firms:
    """Columns of the firm population. Construct with :meth:`empty`."""

    alive: np.ndarray
    weight: np.ndarray
    firm_class: np.ndarray
    ladder_rung: np.ndarray
    industry: np.ndarray
    emerging: np.ndarray
    high_tech: np.ndarray
    region: np.ndarray
    digital_stage: np.ndarray
    age: np.ndarray
    market_share: np.ndarray
    competitiveness: np.ndarray
    revenue: np.ndarray
    previous_value_added: np.ndarray
    value_added: np.ndarray
    capital: np.ndarray
    employment: np.ndarray
    productivity: np.ndarray
    rd_propensity: np.ndarray
    rd_spending: np.ndarray
    patent_stock: np.ndarray
    energy_intensity: np.ndarray
    energy_use: np.ndarray
    carbon_intensity: np.ndarray
    export_propensity: np.ndarray
    export_share: np.ndarray
    cash: np.ndarray
    debt: np.ndarray
    receivables: np.ndarray

    @classmethod
    def empty(cls, capacity: int) -> "Firms":
        firms = cls(**{name: np.zeros(capacity, dtype=spec[0]) for name, spec in FIRM_STATE.items()})
        firms.productivity[:] = 1.0  # dead rows stay harmless in whole-column arithmetic
        return firms

    @property
    def capacity(self) -> int:
        return self.alive.shape[0]

    def columns(self):
        return ((f.name, getattr(self, f.name)) for f in fields(self))

    def bytes_per_firm(self) -> int:
        return sum(np.dtype(spec[0]).itemsize for spec in FIRM_STATE.values())

    def grow(self, extra: int) -> None:
        """Append `extra` dead rows (only when entrants outnumber free rows), one column at a time so
        that the old columns are freed as the new ones are made."""
        blank = Firms.empty(1)  # the value of a dead row in each column
        for name in FIRM_STATE:
            column = getattr(self, name)
            grown = np.empty(column.size + extra, dtype=column.dtype)
            grown[:column.size] = column
            grown[column.size:] = getattr(blank, name)[0]
            setattr(self, name, grown)
            del column, grown

    def free_rows(self, count: int, out: np.ndarray | None = None) -> np.ndarray:
        """Indices of the first `count` dead rows for entrants (ascending), growing the arrays if
        needed; into `out` (int64, at least `count` long) when given."""
        out = np.empty(count, dtype=np.int64) if out is None else out[:count]
        found = first_dead_rows(self.alive, out)
        if found < count:
            self.grow(max(count - found, self.capacity // 4))
            first_dead_rows(self.alive, out)
        return out

    def copy(self) -> "Firms":
        return Firms(**{name: column.copy() for name, column in self.columns()})


@njit(cache=True, nogil=True)
def first_dead_rows(alive, out):
    """The first out.size rows with alive False into `out`, in order; returns how many were found."""
    found = 0
    for i in range(alive.size):
        if found == out.size:
            break
        if not alive[i]:
            out[found] = i
            found += 1
    return found
