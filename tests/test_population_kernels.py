"""The builder's compiled shortcuts give exactly what the plain numpy steps they replace give."""

import numpy as np
import pytest
from numba import njit

from sim.population import _flag_by_value_share, _size_rank
from sim import weighted
from sim.weighted import fill_caps, fill_floor, fill_shares_at, fill_to_target, largest_candidates, top_of, top_rows


@njit
def plain_fill(raw, size, group, target, cap, rounds, share):
    """fill_to_target as it was: every round scans every row."""
    groups = target.size
    cap_of_size = np.empty(1, dtype=size.dtype)
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


def fill_cases():
    rng = np.random.default_rng(11)
    for n, groups, dtype, blocks, spread in [(5_000, 3, np.float64, True, 1.5), (80_000, 7, np.float32, False, 1.0),
                                             (100_000, 4, np.float64, True, 0.0), (30_000, 12, np.float32, True, 2.5)]:
        group = np.sort(rng.integers(0, groups, n)) if blocks else rng.integers(0, groups, n)
        raw = np.exp(spread * rng.standard_normal(n)).astype(dtype)  # spread 0: every row alike, the watch list overflows
        size = np.exp(rng.standard_normal(n)).astype(dtype)
        target = np.bincount(group, weights=size * raw.astype(np.float64), minlength=groups + 1) * 0.2 / raw.mean()
        target[-1] = 1.0  # a group without rows
        yield raw, size, group.astype(np.uint8 if blocks else np.int64), target


@pytest.mark.parametrize("case", range(4))
def test_water_filling_gives_the_plain_rounds_shares(case):
    raw, size, group, target = list(fill_cases())[case]
    expected = np.empty(raw.size, dtype=np.result_type(raw.dtype, np.float32))
    plain_fill(raw, size, group, target, 0.95, 50, expected)
    assert np.array_equal(fill_to_target(raw, size, group, target, cap=0.95), expected)
    capped, factor = fill_caps(raw, size, group, target, 0.95)
    for floor in (fill_floor(factor, 0.95), 4.0 * fill_floor(factor, 0.95), np.zeros(target.size), np.full(target.size, np.nan)):
        assert np.array_equal(fill_to_target(raw, size, group, target, cap=0.95, floor=floor), expected)
    rows = np.flatnonzero(np.arange(raw.size) % 3 == 0)
    assert np.array_equal(fill_shares_at(raw, group, capped, factor, 0.95, rows), expected[rows])


def test_top_rows_take_the_rows_and_order_of_a_scan_of_every_eligible_row():
    rng = np.random.default_rng(5)
    for ties in (False, True):
        revenue = np.exp(3 * rng.standard_normal(200_000))
        if ties:
            revenue = np.round(revenue, 1)  # many equal values, among them the largest
        weight = rng.choice([1.0, 2.5, 40.0], revenue.size)
        eligible = rng.random(revenue.size) < 0.7
        for top_n in (1, 500, 5_000):
            for got, expected in zip(top_rows(revenue, weight, eligible, top_n),
                                     top_of(revenue, weight, np.flatnonzero(eligible), top_n)):
                assert np.array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_largest_candidates_are_the_flagged_rows_of_the_top_buckets_for_any_chunks_and_threads(monkeypatch, dtype):
    rng = np.random.default_rng(8)
    values = np.exp(4 * rng.standard_normal(300_000)).astype(dtype)
    values[:50] = 0.0
    alive = rng.random(values.size) < 0.8
    group = rng.integers(0, 6, values.size).astype(np.uint8)
    in_group = np.array([True, False, True, True, False, True])
    flagged = alive & in_group[group]
    bits, shift = (values.view(np.int32), 16) if dtype == np.float32 else (values.view(np.int64), 48)
    buckets = np.maximum(bits >> shift, 0)
    for count in (1, 500, 10**7):
        ranked = np.sort(buckets[flagged])[::-1]
        cut = ranked[count - 1] if count <= ranked.size else 0
        expected = np.flatnonzero(flagged & (buckets >= cut))
        assert np.all(np.isin(np.argsort(np.where(flagged, values, -1))[::-1][:min(count, flagged.sum())], expected))
        for chunk_rows in (1 << 21, 7_001):
            monkeypatch.setattr(weighted, "CANDIDATE_CHUNK_ROWS", chunk_rows)
            for threads in (1, 2):
                np.testing.assert_array_equal(largest_candidates(values, alive, group, in_group, count, threads), expected)


def test_high_tech_flags_are_those_of_a_stable_sort_of_every_row():
    rng = np.random.default_rng(3)
    sizes = [0, 1, 40, 3_000, 20_000, 7]
    starts = np.cumsum([0] + sizes)
    n = starts[-1]
    industry = np.repeat(np.arange(len(sizes)), sizes)
    priority = np.round(rng.random(n) - 0.5 * (rng.random(n) < 0.3), 2)  # ties
    va = np.exp(2 * rng.standard_normal(n))
    above = rng.random(n) < 0.4
    for fraction in (np.array([0.3, 0.5, 0.0, 0.25, 1.0, 0.6]), np.array([1.0, 1.0, 0.999, 0.01, 0.4, 0.0])):
        expected = np.zeros(n, dtype=bool)
        for i in range(fraction.size):  # the plain steps
            members = np.flatnonzero(industry == i)
            order = members[np.argsort(priority[members], kind="stable")]
            held = np.cumsum(np.where(above[order], va[order], 0.0))
            total = held[-1] if held.size else 0.0
            if total <= 0 or fraction[i] <= 0:
                continue
            cutoff = np.searchsorted(held, fraction[i] * total, side="left")
            expected[order[: cutoff + 1 if fraction[i] >= 1.0 else cutoff]] = True
        assert np.array_equal(_flag_by_value_share(priority, va, np.ones(len(sizes)), above, starts, fraction), expected)


def test_size_ranks_merged_from_sorted_runs_equal_those_of_a_stable_sort():
    rng = np.random.default_rng(8)
    for runs in (1, 2, 4, 8, 9, 50):
        pieces = [np.sort(np.round(rng.exponential(10.0, rng.integers(0, 2_000)), 1)) for _ in range(runs)]
        revenue = np.concatenate(pieces + [np.array([5.0])])  # rounded: ties within and across runs
        weight = rng.choice([1.0, 3.0, 0.5], revenue.size)
        order = np.argsort(revenue, kind="stable")
        cumulative = np.cumsum(weight[order])
        expected = np.empty(revenue.size)
        expected[order] = (cumulative - 0.5 * weight[order]) / cumulative[-1]
        got = np.full(revenue.size + 2, -1.0)
        merged = _size_rank(np.concatenate([[1.0], revenue, [0.0]]), np.concatenate([[1.0], weight, [1.0]]), 1,
                            revenue.size + 1, got)
        assert merged or runs > 4  # at most runs + 1 ascending runs; more than 8: left to the caller
        assert not merged or runs < 50
        if merged:
            assert np.array_equal(got[1:-1], expected) and got[0] == got[-1] == -1.0


def test_draws_in_pieces_are_the_draws_of_one_call():
    """The builder draws firm ages in chunks and regions as rng.choice does (searchsorted in the cdf)."""
    n = 3_000_017
    one = np.random.default_rng(5).integers(1, 30, n)
    rng = np.random.default_rng(5)
    assert np.array_equal(one, np.concatenate([rng.integers(1, 30, m) for m in (1, 7, 999_999, 1_000_003, n - 2_000_010)]))
    p = np.array([0.6, 0.2, 0.13, 0.07])
    choice = np.random.default_rng(9).choice(p.size, n, p=p)
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    assert np.array_equal(choice, np.searchsorted(cdf, np.random.default_rng(9).random(n), side="right"))
