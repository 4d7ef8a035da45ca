"""Weighted statistics over firm rows (each row stands for `weight` real firms)."""

from __future__ import annotations

import numpy as np
from numba import njit


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def top_rows(revenue, weight, eligible, top_n) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the top_n real firms by revenue among `eligible`, and the weight each row counts with."""
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


@njit(cache=True)
def largest_candidates(values, alive, group, in_group, count):
    """Rows (ascending) of live rows whose group is flagged, among them every row with one of the
    `count` largest values: those of the float32 `values` whose top 16 bits (sign, exponent and 7
    bits of mantissa: ordered as the values are, for values >= 0) reach the bucket of the
    count-th largest. A short list for top_of in place of every eligible row."""
    bucket = values.view(np.int32) >> 16
    histogram = np.zeros(1 << 15, dtype=np.int64)
    for i in range(values.size):
        if alive[i] and in_group[group[i]]:
            histogram[max(bucket[i], 0)] += 1
    cut, total = 0, 0
    for b in range(histogram.size - 1, -1, -1):
        total += histogram[b]
        if total >= count:
            cut = b
            break
    size = 0
    for b in range(cut, histogram.size):
        size += histogram[b]
    rows = np.empty(size, dtype=np.int64)
    j = 0
    for i in range(values.size):
        if alive[i] and in_group[group[i]] and max(bucket[i], 0) >= cut:
            rows[j] = i
            j += 1
    return rows


def fill_to_target(raw, size, group, target, cap, rounds=50) -> np.ndarray:
    """Shares proportional to `raw` within each group, scaled so that sum(size * share) meets `target`,
    capped at `cap`, with what the capped rows cannot take handed to the others (water filling).

    Each round caps the rows whose scaled share would pass the cap and rescales the rest; only the
    newly capped rows are summed again. Compiled (_fill): one pass over the rows per round, the sums
    by group in row order, the arithmetic in the inputs' own precision (as numpy would do it).
    """
    share = np.empty(raw.shape, dtype=np.result_type(raw.dtype, np.float32))
    _fill(raw, size, group, np.asarray(target, dtype=np.float64), float(cap), rounds, share)
    return share


@njit(cache=True)
def _fill(raw, size, group, target, cap, rounds, share):
    groups = target.size
    cap_of_size = np.empty(1, dtype=size.dtype)  # cap in the precision of size, of share
    cap_of_size[0] = cap
    cap_of_share = np.empty(1, dtype=share.dtype)
    cap_of_share[0] = cap
    free = np.zeros(groups)
    for i in range(raw.size):
        free[group[i]] += size[i] * raw[i]
    fixed = np.zeros(groups)
    factor = np.zeros(groups)
    limit = np.empty(groups)
    capped = np.zeros(raw.size, dtype=np.bool_)
    fixed_gain = np.empty(groups)
    free_loss = np.empty(groups)
    for _ in range(rounds):
        for g in range(groups):
            factor[g] = (target[g] - fixed[g]) / free[g] if free[g] > 0 else 0.0
            limit[g] = cap / factor[g] if factor[g] > 0 else np.inf
        fixed_gain[:] = 0.0
        free_loss[:] = 0.0
        newly = 0
        for i in range(raw.size):
            g = group[i]
            if raw[i] > limit[g] and not capped[i]:
                capped[i] = True
                newly += 1
                fixed_gain[g] += size[i] * cap_of_size[0]
                free_loss[g] += size[i] * raw[i]
        if newly == 0:
            break
        for g in range(groups):
            fixed[g] += fixed_gain[g]
            free[g] -= free_loss[g]
    scale = np.empty(groups, dtype=share.dtype)
    scale[:] = factor
    for i in range(raw.size):
        share[i] = cap_of_share[0] if capped[i] else min(raw[i] * scale[group[i]], cap_of_share[0])


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
