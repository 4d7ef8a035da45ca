"""Weighted statistics over firm rows (each row stands for `weight` real firms)."""

from __future__ import annotations

import numpy as np


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def top_rows(revenue, weight, eligible, top_n) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the top_n real firms by revenue among `eligible`, and the weight each row counts with."""
    candidates = np.flatnonzero(eligible)
    keep = min(candidates.size, top_n)
    if keep == 0:
        return candidates, np.empty(0)
    biggest = candidates[np.argpartition(revenue[candidates], -keep)[-keep:]]
    biggest = biggest[np.argsort(revenue[biggest])[::-1]]
    cumulative = np.cumsum(weight[biggest])
    counted = np.clip(top_n - (cumulative - weight[biggest]), 0.0, weight[biggest])
    used = counted > 0
    return biggest[used], counted[used]


def fill_to_target(raw, size, group, target, cap, rounds=50) -> np.ndarray:
    """Shares proportional to `raw` within each group, scaled so that sum(size * share) meets `target`,
    capped at `cap`, with what the capped rows cannot take handed to the others (water filling).

    Each round caps the rows whose scaled share would pass the cap and rescales the rest; only the
    newly capped rows are summed again, so a round costs one comparison over all rows.
    """
    groups = target.size
    sized = size * raw
    free = np.bincount(group, weights=sized, minlength=groups)
    fixed = np.zeros(groups)
    capped = np.zeros(raw.size, dtype=bool)
    for _ in range(rounds):
        factor = np.divide(target - fixed, free, out=np.zeros(groups), where=free > 0)
        limit = np.divide(cap, factor, out=np.full(groups, np.inf), where=factor > 0)
        newly = np.flatnonzero((raw > limit[group]) & ~capped)
        if newly.size == 0:
            break
        capped[newly] = True
        fixed += np.bincount(group[newly], weights=size[newly] * cap, minlength=groups)
        free -= np.bincount(group[newly], weights=sized[newly], minlength=groups)
    share = raw * factor[group].astype(raw.dtype)
    share[capped] = cap
    return np.minimum(share, cap)


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
