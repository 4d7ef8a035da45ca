"""The random policy: one seed per run; an independent stream per (rule, year).

Two forms of the same policy:
- `stream(seed, rule, year)`: a numpy Generator, for work outside the compiled loops (building the
  2012 population, entry);
- `stream_key(seed, rule, year)` with `uniform(key, row, draw)`: a counter-based generator for the
  compiled per-firm loops (normal draws by inversion; other laws from a tabulated quantile function). A draw is a pure function of (key, row, draw index), computed with the
  SplitMix64 mixing function (Steele, Lea and Flood 2014), so loops need no generator state and a
  firm row gets the same numbers in every scenario run on the same seed (common random numbers).

Streams are keyed by name, not by call order, so adding a draw to one rule never shifts another
rule's numbers. Within a stream's key, the draw numbers of every use are allocated in one table,
DRAW_NUMBERS (first number and how many), and `draw_number` refuses a table in which two uses
overlap: two rules cannot share a draw by accident.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
from numba import njit

STREAMS = ("population", "market", "innovation", "digital", "finance", "entry_exit", "ladder", "trade", "energy", "levers")


# Per stream key: use -> (first draw number, numbers it takes). A use that takes several numbers
# (rejection sampling) owns the whole range. "entrants" and "entrant_peers" are the two keys the
# year's entry draws from its "entry_exit" Generator (sim.model.IndustryModel._enter).
# Rejection-sampling attempts of a weighted peer draw (sim.rules.entry_exit.draw_slot), two draws
# each: 45, so that an imitator's peer draws (10 to 99) stop below its innovation-size draw (100).
# (Until this table existed they were 64 and could reach 137: in a market of very unequal row
# weights, at scales of 0.01 and below, the 46th attempt reused the size draw.)
MAX_PEER_TRIES = 45
DRAW_NUMBERS: dict[str, dict[str, tuple[int, int]]] = {
    "market": {"demand_shock": (0, 1)},
    "innovation": {"innovates": (0, 1), "imitates": (1, 1), "peer": (10, 2 * MAX_PEER_TRIES), "size": (100, 1)},
    "digital": {"upgrade": (0, 1)},
    "ladder": {"recognition": (0, 1)},
    "levers": {"partner": (0, 1), "partner_success": (1, 1), "relocation": (2, 1), "transfer": (3, 1), "destination": (4, 1)},
    "entrants": {"revenue": (0, 1), "class": (1, 1)},
    "entrant_peers": {"peer": (0, 2 * MAX_PEER_TRIES)},
}


def check_draw_numbers(table: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Raise ValueError if two uses of one stream key share a draw number."""
    for key, uses in table.items():
        taken = sorted((first, first + count, use) for use, (first, count) in uses.items())
        for (_, end, use), (start, _, other) in zip(taken, taken[1:]):
            if start < end:
                raise ValueError(f"draw numbers of {key!r}: {use!r} and {other!r} overlap")


check_draw_numbers(DRAW_NUMBERS)


def draw_number(key: str, use: str) -> int:
    """The first draw number of `use` under stream key `key` (a compile-time constant where a
    compiled rule binds it at module level)."""
    return DRAW_NUMBERS[key][use][0]


def _sequence(seed: int, name: str, year: int) -> np.random.SeedSequence:
    if name not in STREAMS:
        raise KeyError(f"unknown random stream {name!r}")
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(zlib.crc32(name.encode()), int(year)))


def stream(seed: int, name: str, year: int = 0) -> np.random.Generator:
    """Generator for rule `name` in `year`, derived from the run's seed only."""
    return np.random.default_rng(_sequence(seed, name, year))


def stream_key(seed: int, name: str, year: int = 0) -> np.uint64:
    """64-bit key of rule `name` in `year` for the counter-based draws of the compiled loops."""
    return np.uint64(_sequence(seed, name, year).generate_state(1, np.uint64)[0])


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ROW = np.uint64(0xD1B54A32D192ED03)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _splitmix(value):
    z = value + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def uniform(key, row, draw):
    """Uniform on (0, 1): draw number `draw` of firm row `row` under `key`."""
    bits = _splitmix(key ^ _splitmix(np.uint64(row) * _ROW + np.uint64(draw)))
    return ((bits >> np.uint64(11)) + 0.5) * _TO_UNIT


# Acklam's rational approximation of the inverse normal CDF (relative error below 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_TAIL = 0.02425


@njit(cache=True)
def normal_quantile(p):
    """Inverse of the standard normal CDF (Acklam's algorithm)."""
    if p < _TAIL or p > 1.0 - _TAIL:  # the tails, by symmetry: the lower one's formula at min(p, 1 - p)
        q = math.sqrt(-2.0 * math.log(p if p < _TAIL else 1.0 - p))
        tail = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
        return tail if p < _TAIL else -tail
    q = p - 0.5
    r = q * q
    return (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / (
        ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)


@njit(cache=True)
def normal(key, row, draw):
    """Standard normal by inversion of the uniform draw `draw`."""
    return normal_quantile(uniform(key, row, draw))


def quantile_table(quantile_function, points: int = 4097) -> np.ndarray:
    """A distribution's quantile function tabulated on an even grid of (0, 1), for `from_table`."""
    grid = np.linspace(0.0, 1.0, points)
    grid[0], grid[-1] = 0.5 / points, 1.0 - 0.5 / points
    return np.asarray(quantile_function(grid), dtype=np.float64)


@njit(cache=True, _nrt=False)
def from_table(table, key, row, draw):
    """A draw by inversion, interpolating a tabulated quantile function linearly."""
    position = uniform(key, row, draw) * (table.size - 1)
    index = min(int(position), table.size - 2)
    fraction = position - index
    return table[index] + fraction * (table[index + 1] - table[index])


_BOUND_MARGIN = 1e-9  # relative; far above the rounding of expm1 and of the products around it


@njit(cache=True, inline="always")
def above_saturation(u, factor):
    """Whether u >= factor * (1 - exp(-x)) for every x: u at or above the bound `factor` (with the
    margin of below_saturation), so that the draw fails whatever x is and x need not be computed."""
    return factor >= 0.0 and u >= factor * (1.0 + _BOUND_MARGIN)


@njit(cache=True, inline="always")
def below_saturation(u, x, factor):
    """Whether u < factor * (1 - exp(-x)), when bounds decide it: x / (1 + x) <= 1 - exp(-x) <= min(x, 1)
    for x >= 0. Returns 1 (yes), 0 (no) or -1 (u is too close to call: compute the probability). A
    draw decided here is the draw the exact comparison makes, and most draws are decided here."""
    if x >= 0.0 and factor >= 0.0:  # false for NaN: the exact comparison decides
        if u >= factor * min(x, 1.0) * (1.0 + _BOUND_MARGIN):
            return 0
        if u < factor * (x / (1.0 + x)) * (1.0 - _BOUND_MARGIN):
            return 1
    return -1
