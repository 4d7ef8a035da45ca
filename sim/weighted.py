"""Weighted statistics over firm rows (each row stands for `weight` real firms)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.parallel import chunk_count, run_chunks


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def top_rows(revenue, weight, eligible, top_n) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the top_n real firms by revenue among `eligible`, and the weight each row counts with.

    Taken through a short list (largest_candidates) when its top_n + 1 largest values are distinct,
    so that no tie can make the rows or their order differ from those over every eligible row."""
    eligible = np.asarray(eligible, dtype=np.bool_)
    if eligible.size:
        short = largest_candidates(revenue, eligible, eligible.view(np.uint8), np.array([False, True]), top_n + 1)
        values = revenue[short]
        leading = np.sort(values)[::-1][:top_n + 1]
        if not np.isnan(values).any() and np.all(leading[1:] < leading[:-1]):
            return top_of(revenue, weight, short, top_n)
    return top_of(revenue, weight, np.flatnonzero(eligible), top_n)


def top_of(revenue, weight, candidates, top_n) -> tuple[np.ndarray, np.ndarray]:
    """top_rows among the rows `candidates` (ascending)."""
    keep = min(candidates.size, top_n)
    if keep == 0:
        return candidates, np.empty(0)
    biggest = candidates[np.argpartition(revenue[candidates], -keep)[-keep:]]
    biggest = biggest[np.argsort(revenue[biggest])[::-1]]
    cumulative = np.cumsum(weight[biggest])
    counted = np.clip(top_n - (cumulative - weight[biggest]), 0.0, weight[biggest])
    used = counted > 0
    return biggest[used], counted[used]


def largest_candidates(values, alive, group, in_group, count, threads=None) -> np.ndarray:
    """Rows (ascending) of live rows whose group is flagged, among them every row with one of the
    `count` largest values: those whose top 16 bits (sign, exponent and 7 bits of mantissa for
    float32, 4 for float64: ordered as the values are, for values >= 0) reach the bucket of the
    count-th largest. A short list for top_of in place of every eligible row. Two passes over the
    rows in chunks on `threads` threads (a histogram of the buckets per chunk, then each chunk's
    rows at its offset): integer counts, so the same rows for any number of threads."""
    bits, shift = (values.view(np.int32), 16) if values.dtype == np.float32 else (values.view(np.int64), 48)
    histograms = np.zeros((chunk_count(bits.size, CANDIDATE_CHUNK_ROWS), CANDIDATE_BUCKETS), dtype=np.int64)
    run_chunks(_bucket_histogram_rows, bits.size, bits, shift, alive, group, in_group, histograms, threads=threads,
               chunk_rows=CANDIDATE_CHUNK_ROWS)
    cut = _cut_bucket(histograms.sum(axis=0), count)
    in_chunk = histograms[:, cut:].sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(in_chunk)]).astype(np.int64)
    rows = np.empty(int(offsets[-1]), dtype=np.int64)
    run_chunks(_candidate_rows, bits.size, bits, shift, alive, group, in_group, cut, offsets, rows, threads=threads,
               chunk_rows=CANDIDATE_CHUNK_ROWS)
    return rows


CANDIDATE_BUCKETS = 1 << 15  # the top 16 bits of a value >= 0
CANDIDATE_CHUNK_ROWS = 1 << 21  # long chunks: a histogram (256 kB) per chunk


@njit(cache=True, nogil=True)
def _bucket_histogram_rows(start, stop, chunk, bits, shift, alive, group, in_group, histograms):
    """Rows [start, stop) of largest_candidates: live flagged rows by bucket into histograms[chunk]."""
    histogram = np.zeros(histograms.shape[1], dtype=np.int64)
    for i in range(start, stop):
        if alive[i] and in_group[group[i]]:
            histogram[max(bits[i] >> shift, 0)] += 1
    histograms[chunk] = histogram


@njit(cache=True)
def _cut_bucket(histogram, count):
    """The highest bucket at or above which `count` rows lie (0 when fewer rows)."""
    total = 0
    for b in range(histogram.size - 1, -1, -1):
        total += histogram[b]
        if total >= count:
            return b
    return 0


@njit(cache=True, nogil=True)
def _candidate_rows(start, stop, chunk, bits, shift, alive, group, in_group, cut, offsets, rows):
    """Rows [start, stop) of largest_candidates: live flagged rows at or above the cut bucket, in
    order, from rows[offsets[chunk]]."""
    j = offsets[chunk]
    for i in range(start, stop):
        if alive[i] and in_group[group[i]] and max(bits[i] >> shift, 0) >= cut:
            rows[j] = i
            j += 1


def fill_to_target(raw, size, group, target, cap, rounds=50, out=None, floor=None, factor_out=None) -> np.ndarray:
    """Shares proportional to `raw` within each group, scaled so that sum(size * share) meets `target`,
    capped at `cap`, with what the capped rows cannot take handed to the others (water filling).

    Each round caps the rows whose scaled share would pass the cap and rescales the rest; only the
    newly capped rows are summed again. Compiled (fill_caps): the sums by group in row order, the
    arithmetic in the inputs' own precision (as numpy would do it). `out`: an array of the shares'
    dtype to write them into; `floor`: see fill_caps; `factor_out`: an array (one entry per group)
    that receives the scale factors, for the fill_floor of a similar later call.
    """
    dtype = np.result_type(raw.dtype, np.float32)
    share = np.empty(raw.shape, dtype=dtype) if out is None else out
    if share.dtype != dtype or share.shape != raw.shape:
        raise ValueError(f"out must be a {dtype} array of raw's shape")
    capped, factor = fill_caps(raw, size, group, target, cap, rounds, floor)
    _fill_shares(raw, group, capped, factor, float(cap), None, share)
    if factor_out is not None:
        factor_out[:] = factor
    return share


def fill_caps(raw, size, group, target, cap, rounds=50, floor=None) -> tuple[np.ndarray, np.ndarray]:
    """fill_to_target's capped rows and scale factor by group: share = cap if capped, else
    min(raw * factor, cap) in the precision of the shares (fill_shares_at). `floor`, by group: a
    guess below the lowest raw the cap will reach, e.g. half of cap / factor of a similar call; a
    good one spares _fill a pass over the rows, a wrong one costs only that pass."""
    capped = np.zeros(raw.size, dtype=np.bool_)
    floor = np.full(len(target), np.inf) if floor is None else np.asarray(floor, dtype=np.float64)
    factor = _fill(raw, size, group, np.asarray(target, dtype=np.float64), float(cap), rounds, capped, floor)
    return capped, factor


def fill_floor(factor, cap) -> np.ndarray:
    """fill_caps' floor for a call like the one that gave `factor`: half the raw its cap reached."""
    return np.divide(0.5 * cap, factor, out=np.full(factor.shape, np.inf), where=factor > 0)


def fill_shares_at(raw, group, capped, factor, cap, rows) -> np.ndarray:
    """fill_to_target's shares of the rows `rows` only, from fill_caps."""
    share = np.empty(rows.size, dtype=np.result_type(raw.dtype, np.float32))
    _fill_shares(raw, group, capped, factor, float(cap), rows, share)
    return share


@njit(cache=True)
def _fill(raw, size, group, target, cap, rounds, capped, floor):
    """A round reads only the rows that can pass the cap: a watch list of each group's uncapped rows
    above its floor, in row order, with their raw and size. The first pass over the rows (the sums)
    lists the rows above the floors given; a group is listed again, over the rows from its first to
    its last, with half its limit as floor, when its limit falls below its floor. Should the list
    overflow, every round scans every row."""
    groups = target.size
    cap_of_size = np.empty(1, dtype=size.dtype)  # cap in the precision of size
    cap_of_size[0] = cap
    capacity = min(raw.size, max(1 << 16, raw.size // 16))
    rows = np.empty(capacity, dtype=np.int64)
    watch_raw = np.empty(capacity, dtype=raw.dtype)
    watch_size = np.empty(capacity, dtype=size.dtype)
    watch_group = np.empty(capacity, dtype=group.dtype)
    free = np.zeros(groups)
    first = np.full(groups, raw.size)
    last = np.full(groups, -1)
    floor = floor.copy()
    watched = 0
    current, running = -1, 0.0  # the group's sum in a register while the rows stay in one group
    for i in range(raw.size):
        if group[i] != current:
            if current >= 0:
                free[current] = running
                last[current] = i - 1
            current = group[i]
            running = free[current]
            first[current] = min(first[current], i)
        running += size[i] * raw[i]
        if raw[i] > floor[current] and watched < capacity:
            rows[watched], watch_raw[watched], watch_size[watched], watch_group[watched] = i, raw[i], size[i], current
            watched += 1
    if current >= 0:
        free[current] = running
        last[current] = raw.size - 1
    relist = np.zeros(groups, dtype=np.bool_)
    if watched == capacity:
        watched = 0
        relist[:] = True
    fixed = np.zeros(groups)
    factor = np.zeros(groups)
    limit = np.empty(groups)
    scan_floor = np.empty(groups)
    every_row = False
    fixed_gain = np.empty(groups)
    free_loss = np.empty(groups)
    for _ in range(rounds):
        for g in range(groups):
            factor[g] = (target[g] - fixed[g]) / free[g] if free[g] > 0 else 0.0
            limit[g] = cap / factor[g] if factor[g] > 0 else np.inf
            relist[g] = relist[g] or not limit[g] >= floor[g]
        if not every_row and relist.any():
            kept = 0  # the other groups' rows stay on the list
            for j in range(watched):
                if not relist[watch_group[j]]:
                    _move(j, kept, rows, watch_raw, watch_size, watch_group)
                    kept += 1
            watched = kept
            start, stop = raw.size, 0
            for g in range(groups):
                if relist[g]:
                    floor[g] = 0.5 * limit[g] if limit[g] > 0 else limit[g]
                    start, stop = min(start, first[g]), max(stop, last[g] + 1)
                scan_floor[g] = floor[g] if relist[g] else np.inf
            watched = _list_rows(raw, size, group, capped, scan_floor, start, stop, rows, watch_raw, watch_size, watch_group, watched)
            every_row = watched < 0
            relist[:] = False
        fixed_gain[:] = 0.0
        free_loss[:] = 0.0
        newly = 0
        if every_row:
            for i in range(raw.size):
                g = group[i]
                if raw[i] > limit[g] and not capped[i]:
                    capped[i] = True
                    newly += 1
                    fixed_gain[g] += size[i] * cap_of_size[0]
                    free_loss[g] += size[i] * raw[i]
        else:
            kept = 0
            for j in range(watched):
                g = watch_group[j]
                if watch_raw[j] > limit[g]:
                    capped[rows[j]] = True
                    newly += 1
                    fixed_gain[g] += watch_size[j] * cap_of_size[0]
                    free_loss[g] += watch_size[j] * watch_raw[j]
                else:
                    _move(j, kept, rows, watch_raw, watch_size, watch_group)
                    kept += 1
            watched = kept
        if newly == 0:
            break
        for g in range(groups):
            fixed[g] += fixed_gain[g]
            free[g] -= free_loss[g]
    return factor


@njit(cache=True)
def _move(source, target, rows, watch_raw, watch_size, watch_group):
    """Watch list entry `source` to position `target`."""
    rows[target], watch_raw[target], watch_size[target], watch_group[target] = (
        rows[source], watch_raw[source], watch_size[source], watch_group[source])


@njit(cache=True)
def _list_rows(raw, size, group, capped, floor, start, stop, rows, watch_raw, watch_size, watch_group, listed):
    """Append to the watch list the uncapped rows start:stop with raw above their group's floor
    (branch-free: each row is written, and kept if it counts); its new length, or -1 if full."""
    for i in range(start, stop):
        if listed == rows.size:
            return -1
        rows[listed], watch_raw[listed], watch_size[listed], watch_group[listed] = i, raw[i], size[i], group[i]
        listed += (raw[i] > floor[group[i]]) & ~capped[i]
    return listed


@njit(cache=True)
def _fill_shares(raw, group, capped, factor, cap, rows, share):
    """share[j] for row rows[j] (row j if rows is None)."""
    cap_of_share = np.empty(1, dtype=share.dtype)  # cap in the precision of share
    cap_of_share[0] = cap
    scale = np.empty(factor.size, dtype=share.dtype)
    scale[:] = factor
    for j in range(share.size):
        i = j if rows is None else rows[j]
        share[j] = cap_of_share[0] if capped[i] else min(raw[i] * scale[group[i]], cap_of_share[0])


def weighted_sum(mask, weight, values, threads=None) -> float:
    """sum(where(mask, weight * values, 0)) in float64: numpy's pairwise sum of the same products,
    formed in one pass on `threads` threads instead of three whole-column temporaries."""
    products = np.empty(mask.size)
    run_chunks(_masked_products_rows, mask.size, mask, weight, values, products, threads=threads)
    return float(np.sum(products))


@njit(cache=True, nogil=True)
def _masked_products_rows(start, stop, chunk, mask, weight, values, products):
    for i in range(start, stop):
        products[i] = np.float64(weight[i]) * np.float64(values[i]) if mask[i] else 0.0


def group_sum(values: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """Sum of `values` (already weighted) by group code, in float64."""
    return np.bincount(group, weights=values, minlength=groups)


def draw_peers(group: np.ndarray, weight: np.ndarray, eligible: np.ndarray, who: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row in `who`, a row of the same group drawn with probability proportional to weight
    among `eligible` rows (a random competitor, as imitators and entrants pick in K+S).
    Returns -1 where the group has no eligible row."""
    candidates = np.flatnonzero(eligible)
    key = group[candidates]
    key = key.astype(np.uint8) if key.size and key.max() < 256 else key  # radix sort for small keys
    order = candidates[np.argsort(key, kind="stable")]
    cumulative = np.cumsum(weight[order], dtype=np.float64)
    groups = int(group.max()) + 1 if group.size else 0
    totals = np.bincount(group[order], weights=weight[order], minlength=groups)
    starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    g = group[who]
    point = starts[g] + rng.random(who.size) * totals[g]
    index = np.minimum(np.searchsorted(cumulative, point, side="right"), max(order.size - 1, 0))
    peers = order[index] if order.size else np.full(who.size, -1)
    return np.where(totals[g] > 0, peers, -1)
