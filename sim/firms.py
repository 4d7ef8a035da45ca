"""Firms as a struct of numpy arrays: a firm is a row, every rule updates whole columns.

Each row carries a `weight`: how many real firms it stands for (1.0 at full scale). Rows of dead
firms are kept (alive = False, weight 0) and reused by entrants, so arrays are rarely resized.
float32 holds firm state (enough for 7 significant digits); every aggregate sums in float64.

Each column is a view of the first `rows` rows of a longer buffer (`reserved` rows). Entrants take
the first dead rows, so the rows ever used stay near the largest live count; the passes over the
columns go over those rows only, and the reserve past them is neither read nor, its pages never
touched, backed by memory. Taking more rows moves the views' end; only past the reserve are the
buffers copied into longer ones.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from sim.allocator import release_freed_memory
from sim.memory import touch_pages

# name: (dtype, unit, description). The only place the per-row state is declared: the firm's own
# state, then the model's columns of a row (its market, last year's illiquidity, the labour-cost
# factor of a firm that moved inland). The dataclass `Firms` and the bundle the compiled rules take
# (`FirmColumns`) are both generated from it.
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
    # the model's columns of a row
    "market_of": (np.uint8, "code", "market: industry x segments + emerging (sim.taxonomy.market_index); one byte, "
                                    "as every pass reads it (at most 256 markets)"),
    "illiquid": (np.bool_, "1", "ran out of cash last year (exits at the start of this one)"),
    "wage_factor": (np.float64, "1", "labour-cost factor: 1, or the regional wage ratio of a firm that moved inland"),
}


DEAD_ROW = {"productivity": 1.0, "wage_factor": 1.0}  # a dead row's value where it is not 0: harmless in whole-column arithmetic

# The firm columns as one argument of the compiled rules (sim/year.py, sim/rules/): a namedtuple
# bound at module level, so that numba's on-disk cache finds its type again in a new process.
FirmColumns = namedtuple("FirmColumns", tuple(FIRM_STATE), module=__name__)


class Firms:
    """Columns of the firm population: one attribute per FIRM_STATE entry, each a view of the rows
    in use of a longer buffer. Construct with :meth:`empty`."""

    @classmethod
    def empty(cls, rows: int, reserve: int | None = None) -> "Firms":
        """`rows` dead rows, in buffers of max(rows, reserve) rows (zeroed lazily by the kernel)."""
        reserved = max(rows, rows if reserve is None else int(reserve))
        firms = cls()
        firms._buffers = {name: np.zeros(reserved, dtype=spec[0]) for name, spec in FIRM_STATE.items()}
        firms._blanks = {name: DEAD_ROW.get(name, 0) for name in FIRM_STATE}
        firms._rows = 0
        firms._use_rows(rows)
        return firms

    def bundle(self) -> FirmColumns:
        """The columns as one FirmColumns (views of the rows in use: take a new bundle after rows
        are added, see free_rows)."""
        return FirmColumns(*(getattr(self, name) for name in FIRM_STATE))

    @property
    def capacity(self) -> int:
        """Rows the columns hold (live and dead): the length of every pass over them."""
        return self.alive.shape[0]

    @property
    def reserved(self) -> int:
        """Rows the buffers behind the columns hold."""
        return self._buffers["alive"].shape[0]

    def columns(self):
        return ((name, getattr(self, name)) for name in FIRM_STATE)

    def bytes_per_firm(self) -> int:
        """Bytes a row holds over every column."""
        return sum(column.itemsize for column in self._buffers.values())

    def _use_rows(self, rows: int) -> None:
        """Columns of `rows` rows; rows new to them are dead rows."""
        if rows > self.reserved:  # one column at a time, so that old buffers are freed as new ones are made
            reserved = max(rows, self.reserved + self.reserved // 4)
            for name in list(self._buffers):
                column = self._buffers[name]
                grown = np.zeros(reserved, dtype=column.dtype)
                grown[:self._rows] = column[:self._rows]
                self._buffers[name] = grown
                setattr(self, name, grown[:self._rows])  # the attribute's view held the old buffer too
                del column, grown
                release_freed_memory()  # the replaced column's pages go back before the next is made
        for name in self._buffers:
            column = self._buffers[name]
            touch_pages(column[self._rows:rows])
            if self._blanks[name] != 0:
                column[self._rows:rows] = self._blanks[name]
            setattr(self, name, column[:rows])
        self._rows = rows

    def free_rows(self, count: int, out: np.ndarray | None = None) -> np.ndarray:
        """Indices of the first `count` dead rows for entrants (ascending), taking rows past the
        columns' end if needed; into `out` (int64, at least `count` long) when given."""
        out = np.empty(count, dtype=np.int64) if out is None else out[:count]
        found = first_dead_rows(self.alive, out)
        if found < count:
            start = self.capacity
            self._use_rows(start + count - found)
            out[found:] = np.arange(start, self.capacity)
        return out


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
