"""Exit and entry (K+S; Nelson and Winter 1982).

Exit: a firm leaves when its real revenue falls below a floor (its market share has all but
vanished: K+S exit on low share, stated in revenue because in a heavy-tailed market most firms hold
tiny shares), when its net worth turns negative, or when it cannot pay its way (cash below zero
with no credit left). Entry: each market draws entrants in proportion to its firms and its last
demand growth, less as the market fills beyond its 2012 size (free entry). An entrant is small (revenue in the below-threshold band) and copies a random
incumbent of its market (technology, R&D habit, export orientation, energy use) with a
productivity handicap.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from sim import taxonomy
from sim.firms import FIRM_STATE
from sim.parallel import array_in, concurrently, partial_sums, run_chunks
from sim.randomness import MAX_PEER_TRIES, draw_number, uniform
from sim.processes import Process, parameter_tuple
from sim.rules.energy import energy_use
from sim.rules.finance import net_worth, receivables_of
from sim.rules.innovation import rd_spending_of
from sim.rules.market import log_competitiveness, log_relative_productivity
from sim.rules.production import employment, value_added

PROCESS = Process(
    name="entry_exit",
    description="Exit on low revenue, negative net worth or illiquidity; entry per market copying incumbents.",
    reads=("revenue", "capital", "cash", "receivables", "debt", "weight", "alive"),
    writes=tuple(FIRM_STATE),  # exit: alive, weight, market_share; an entrant: every column of its row
    parameters=("entry_rate", "entry_demand_sensitivity", "exit_revenue", "entrant_productivity_gap", "entry_crowding"),
)
Params = parameter_tuple(PROCESS, __name__)
DRAW_ENTRANT_REVENUE, DRAW_ENTRANT_CLASS = draw_number("entrants", "revenue"), draw_number("entrants", "class")
DRAW_ENTRANT_PEER = draw_number("entrant_peers", "peer")


class Entrants(NamedTuple):
    """The year's entrants (place_entrants): entrant j goes to dead row rows[j] of market
    new_market[j] and copies incumbent row peers[j]; it draws under `key`."""

    rows: np.ndarray
    peers: np.ndarray
    new_market: np.ndarray
    row_weight: np.ndarray  # by market: real firms an entrant row stands for
    key: np.uint64


class EntryTerms(NamedTuple):
    """What an entrant starts with (place_entrants)."""

    floor_revenue: float  # revenue is log-uniform from floor_revenue to floor_revenue x revenue_ratio (2012 prices)
    revenue_ratio: float
    productivity_factor: float  # the peer's productivity times this
    foreign_share: float  # probability an entrant is foreign-funded (else an SME)
    cash_to_revenue: float
    debt_to_capital: float
    receivable_days: float  # payment terms; an entrant has no overdue receivables yet


class EntryMarket(NamedTuple):
    """The year's economy an entrant enters."""

    market_productivity: np.ndarray  # by market: the wage norm's productivity
    log_unit_cost: np.ndarray  # by market: sim.rules.market.log_unit_costs at this year's wage
    wage_elasticity: float
    quality_weight: float
    demand: np.ndarray  # by market, M RMB
    va_ratio: np.ndarray  # by industry
    capital_to_revenue: np.ndarray  # by industry
    price_index: float  # industrial producer prices, 2012 = 1: the entry floor in this year's prices
    va_price: np.ndarray  # by market: price of value added, 2012 = 1 (sim.rules.demand)


@njit(cache=True)
def exits(real_revenue, worth, illiquid, revenue_floor):
    """Whether a live firm exits this year."""
    return real_revenue < revenue_floor or worth < 0.0 or illiquid


@njit(cache=True, nogil=True)
def exit_rows(start, stop, chunk, alive, weight, share, revenue, capital, cash, receivables, debt, illiquid, price_index,
              revenue_floor, left):
    """Rows [start, stop) of apply_exits; the weight that left into left[chunk]."""
    gone = 0.0
    for i in range(start, stop):
        if alive[i] and exits(revenue[i] / price_index, net_worth(capital[i], cash[i], receivables[i], debt[i]),
                              illiquid[i], revenue_floor):
            gone += weight[i]
            alive[i] = False
            weight[i] = 0.0
            share[i] = 0.0
    left[chunk] = gone


def apply_exits(alive, weight, share, revenue, capital, cash, receivables, debt, illiquid, price_index, revenue_floor, threads=1):
    """Mark this year's exits (weight and share to zero); return the weight that left (summed by row
    chunk, on `threads` threads)."""
    left = partial_sums(alive.size)
    run_chunks(exit_rows, alive.size, alive, weight, share, revenue, capital, cash, receivables, debt, illiquid, price_index,
               revenue_floor, left, threads=threads)
    return float(left.sum())


def expected_entrants(firms_in_market, demand_growth, entry_rate: float, sensitivity: float, reference_firms=None,
                      crowding: float = 0.0) -> np.ndarray:
    """Expected number of real entrant firms per market:
    entry_rate x firms x (1 + sensitivity x demand growth) x (reference firms / firms) ** crowding,
    where reference_firms is the market's firm count in 2012 (free entry: a fuller market does not
    draw proportionally more entrants; Hopenhayn 1992)."""
    expected = entry_rate * firms_in_market * np.maximum(1.0 + sensitivity * demand_growth, 0.0)
    if reference_firms is not None and crowding != 0.0:
        ratio = np.divide(reference_firms, firms_in_market, out=np.ones_like(expected), where=firms_in_market > 0)
        expected = expected * ratio ** crowding
    return expected


def entrant_rows(expected, row_weight, rng: np.random.Generator) -> np.ndarray:
    """Rows of entrants per market: Poisson in expected firms over the weight each row carries."""
    return rng.poisson(expected / row_weight)


@njit(cache=True, nogil=True)
def slot_counts(start, stop, chunk, market, weight, counts, heaviest, lightest):
    """Rows [start, stop) of market_slots: live rows by market into counts[chunk], and each market's
    largest and smallest weight into heaviest[chunk] and lightest[chunk]."""
    for i in range(start, stop):
        if weight[i] > 0.0:
            counts[chunk, market[i]] += 1
            heaviest[chunk, market[i]] = max(heaviest[chunk, market[i]], weight[i])
            lightest[chunk, market[i]] = min(lightest[chunk, market[i]], weight[i])


@njit(cache=True, nogil=True)
def slot_fill(start, stop, chunk, market, weight, values, offsets, rows, slot_weight, slot_value):
    """Rows [start, stop) of market_slots: each live row, its weight and its value into the next slot
    of its market, from the chunk's offsets (offsets[chunk, m])."""
    filled = offsets[chunk].copy()
    for i in range(start, stop):
        if weight[i] > 0.0:
            s = filled[market[i]]
            rows[s] = i
            slot_weight[s] = weight[i]
            slot_value[s] = values[i]
            filled[market[i]] = s + 1


class MarketSlots(NamedTuple):
    """Live rows grouped by market, in row order within a market (a stable counting sort): market m
    holds slots starts[m] to starts[m + 1]; each slot's row, weight and value (a column read in
    slot order, so that a draw touches one place in memory), and each market's largest and smallest
    weight (inf for an empty market)."""

    rows: np.ndarray
    starts: np.ndarray
    heaviest: np.ndarray
    lightest: np.ndarray
    slot_weight: np.ndarray
    slot_value: np.ndarray


def market_slots(market, weight, values, n_markets, threads=1, workspace=None) -> MarketSlots:
    """MarketSlots of the rows with weight > 0 (dead rows weigh 0), `values` a column (float32) read
    into the slots; in row chunks on `threads` threads, the same slots for any number of threads.
    With a sim.parallel.Workspace the slots live in its arrays (valid until the next call)."""
    n = market.size
    counts = partial_sums(n, n_markets).astype(np.int64)
    heaviest = partial_sums(n, n_markets)
    lightest = np.full(heaviest.shape, np.inf)
    run_chunks(slot_counts, n, market, weight, counts, heaviest, lightest, threads=threads)
    starts = np.zeros(n_markets + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=starts[1:])
    # a chunk's first slot in market m: the market's start plus the market's rows in earlier chunks
    offsets = starts[:-1] + np.cumsum(counts, axis=0) - counts
    size = int(starts[-1])
    row_type = np.int32 if n <= np.iinfo(np.int32).max else np.int64  # 4 bytes a slot less to write and read
    rows, slot_weight, slot_value = (array_in(workspace, f"slots.{name}", size, dtype) for name, dtype in (
        ("rows", row_type), ("weight", weight.dtype), ("value", values.dtype)))
    run_chunks(slot_fill, n, market, weight, values, offsets, rows, slot_weight, slot_value, threads=threads)
    return MarketSlots(rows, starts, heaviest.max(axis=0), lightest.min(axis=0), slot_weight, slot_value)


def market_index(market, weight, n_markets):
    """Rows of live firms grouped by market (counting sort): (rows, start offsets, largest weight,
    smallest weight)."""
    return market_slots(market, weight, weight, n_markets)[:4]


@njit(cache=True, _nrt=False)
def draw_slot(m, starts, heaviest, lightest, slot_weight, key, row, draw):
    """A slot of market m (see MarketSlots) drawn with probability proportional to its weight
    (rejection sampling on a uniform pick); -1 when the market is empty. A pick whose acceptance
    draw falls below the market's smallest weight is accepted without reading its weight (in a
    market of equal weights, always: the draw touches no memory)."""
    count = starts[m + 1] - starts[m]
    if count == 0:
        return -1
    for attempt in range(MAX_PEER_TRIES):
        pick = starts[m] + min(int(uniform(key, row, draw + 2 * attempt) * count), count - 1)
        accept = uniform(key, row, draw + 2 * attempt + 1) * heaviest[m]
        if accept <= lightest[m] or accept <= slot_weight[pick]:
            return pick
    return pick


@njit(cache=True, nogil=True)
def peer_slots(start, stop, chunk, markets, starts, heaviest, lightest, slot_weight, key, slots):
    """Rows [start, stop) of draw_peers: each entrant's peer slot (draw_slot), or -1."""
    for j in range(start, stop):
        slots[j] = draw_slot(markets[j], starts, heaviest, lightest, slot_weight, key, j, DRAW_ENTRANT_PEER)


@njit(cache=True, nogil=True)
def rows_of_slots(slots, rows):
    """slots[j] = rows[slots[j]] in place (-1 stays -1)."""
    for j in range(slots.size):
        if slots[j] >= 0:
            slots[j] = rows[slots[j]]


def draw_peers(markets, rows, starts, heaviest, lightest, weight, key, threads=1, slot_weight=None, workspace=None):
    """For each entry of `markets`, the row of a live firm of that market drawn with probability
    proportional to its weight (draw_slot), in chunks on `threads` threads; -1 for an empty market.
    `slot_weight`: weight[rows], when the caller has it (MarketSlots). Within each run of equal
    markets the peers come in row order (the entries of a run are alike, and copying from rows in
    order sweeps through memory instead of jumping: in a 52-million-row run, the difference
    between a cache hit and a trip to memory per copied column). `workspace`: a
    sim.parallel.Workspace to hold the result (valid until the next call)."""
    slot_weight = weight[rows] if slot_weight is None else slot_weight
    slots = array_in(workspace, "entry.peers", markets.size, np.int64)
    run_chunks(peer_slots, markets.size, markets, starts, heaviest, lightest, slot_weight, key, slots, threads=threads)
    bounds = np.concatenate([[0], np.flatnonzero(markets[1:] != markets[:-1]) + 1, [markets.size]])
    half = int(np.searchsorted(bounds, markets.size // 2))  # the runs in two halves of about equal size, one per thread

    def sort_runs(first, last):
        for begin, end in zip(bounds[first:last], bounds[first + 1:last + 1]):
            slots[begin:end].sort()  # slots of a market are in row order; numpy's sort releases the GIL

    concurrently(lambda: sort_runs(0, half), lambda: sort_runs(half, bounds.size - 1), threads=threads)
    rows_of_slots(slots, rows)
    return slots


@njit(cache=True, nogil=True)
def firms_by_market(market, alive, weight, n_markets):
    """Real firms (summed weight of live rows, in row order) by market."""
    firms = np.zeros(n_markets)
    for i in range(market.size):
        if alive[i]:
            firms[market[i]] += weight[i]
    return firms


@njit(cache=True, nogil=True, inline="always")
def copy_rows(column, rows, peers, start, stop):
    """column[rows[j]] = column[peers[j]] for j in [start, stop)."""
    for j in range(start, stop):
        column[rows[j]] = column[peers[j]]


@njit(cache=True, nogil=True, _nrt=False)  # no reference counting of the bundle's columns (sim/year.py firm_rows)
def place_entrant_rows(start, stop, chunk, f, entrants, terms, economy, entered):
    """Entrants [start, stop) of place_entrants; the weight that entered into entered[chunk].

    Entrant j is written into dead row entrants.rows[j] of market entrants.new_market[j], a copy of
    incumbent entrants.peers[j] (sim.model.IndustryModel._enter): its own revenue (log-uniform from
    the floor to floor x revenue_ratio, at this year's prices), class (foreign-funded with
    probability foreign_share, else an SME), productivity (the peer's times productivity_factor)
    and the competitiveness of that productivity at its wage (sim.rules.market); the peer's
    region, high-tech flag, R&D habit, energy and carbon intensity and export orientation; value
    added, employment, R&D and energy use by the production, innovation and energy rules; and a
    balance sheet in proportion to its revenue."""
    rows, peers = entrants.rows, entrants.peers
    # Column by column for what is copied from the peer: a short loop per column keeps many of the
    # reads of the peers' rows in flight at once.
    for column in (f.rd_propensity, f.energy_intensity, f.carbon_intensity, f.export_propensity):
        copy_rows(column, rows, peers, start, stop)
    copy_rows(f.high_tech, rows, peers, start, stop)
    copy_rows(f.region, rows, peers, start, stop)
    debt_ratio = np.float32(terms.debt_to_capital)  # float32 state times a plain number stays float32
    log_ratio = math.log(terms.revenue_ratio)
    price_index = economy.price_index
    total = 0.0
    for j in range(start, stop):
        r, m = rows[j], entrants.new_market[j]
        ind = taxonomy.market_industry(m)
        sales = terms.floor_revenue * math.exp(uniform(entrants.key, j, DRAW_ENTRANT_REVENUE) * log_ratio) * price_index
        technology = np.float32(f.productivity[peers[j]] * terms.productivity_factor)
        f.alive[r] = True
        f.weight[r] = entrants.row_weight[m]
        total += entrants.row_weight[m]
        f.market_of[r] = m
        f.industry[r] = ind
        f.emerging[r] = taxonomy.market_is_emerging(m)
        f.firm_class[r] = (taxonomy.FOREIGN_FUNDED if uniform(entrants.key, j, DRAW_ENTRANT_CLASS) < terms.foreign_share
                           else taxonomy.SME)
        f.ladder_rung[r] = taxonomy.RUNG_NONE
        f.digital_stage[r] = 0
        f.age[r] = 0
        f.productivity[r] = technology
        f.revenue[r] = sales
        f.market_share[r] = sales / max(economy.demand[m], 1e-9)
        floored = max(sales, 1e-6)  # an entrant has no patents: its competitiveness is minus its log price
        f.competitiveness[r] = log_competitiveness(
            economy.log_unit_cost[m], log_relative_productivity(np.float64(technology), economy.market_productivity[m]), 0.0,
            economy.wage_elasticity, economy.quality_weight, floored, math.log(floored), 0.0)
        va = value_added(sales, economy.va_ratio[ind])
        f.value_added[r] = va
        f.previous_value_added[r] = 0.0
        f.employment[r] = employment(va, np.float64(f.productivity[r]), economy.va_price[m])
        f.rd_spending[r] = rd_spending_of(np.float64(f.rd_propensity[r]), sales)
        f.patent_stock[r] = 0.0
        f.energy_use[r] = energy_use(np.float64(f.energy_intensity[r]), va, economy.va_price[m])
        f.export_share[r] = 0.0
        f.capital[r] = economy.capital_to_revenue[ind] * sales
        f.cash[r] = terms.cash_to_revenue * sales
        f.debt[r] = debt_ratio * f.capital[r]
        f.receivables[r] = receivables_of(sales, terms.receivable_days)
        f.illiquid[r] = False
        f.wage_factor[r] = 1.0
    entered[chunk] = total


def place_entrants(f, entrants: Entrants, terms: EntryTerms, economy: EntryMarket, threads=1) -> float:
    """place_entrant_rows over every entrant, in chunks on `threads` threads (entrants write
    distinct rows and read only live ones); returns the weight that entered."""
    entered = partial_sums(entrants.rows.size)
    run_chunks(place_entrant_rows, entrants.rows.size, f, entrants, terms, economy, entered, threads=threads)
    return float(entered.sum())
