"""The shortcuts of the compiled loops give exactly the answers of the plain computations they stand for."""

import numpy as np

from sim.rules import digital, entry_exit, innovation


def test_decided_draws_equal_the_exact_comparisons():
    rng = np.random.default_rng(3)
    u = rng.random(20000)
    effort = np.concatenate([[0.0, 1e-300, np.inf], 10.0 ** rng.uniform(-8, 2, u.size - 3)])
    near = u.copy()
    near[::2] = -np.expm1(-0.7 * effort[::2])  # draws on the probability itself
    for draw, x in zip(np.concatenate([u, near]), np.concatenate([effort, effort])):
        assert innovation.succeeds(draw, x, 0.7) == (draw < innovation.success_probability(x, 0.7))
        exact = draw < digital.upgrade_probability(x, 1.0, 0.4, 0.3, 1.5)
        assert digital.upgrades(draw, x, 1.0, 0.4, 0.3, 1.5) == exact


def test_market_slots_are_the_same_for_any_number_of_threads():
    rng = np.random.default_rng(4)
    n = 3 * (1 << 15) + 17  # several row chunks
    market = rng.integers(0, 5, n)
    weight = np.where(rng.random(n) < 0.8, rng.random(n).astype(np.float32) + 0.5, 0.0).astype(np.float32)
    values = rng.random(n).astype(np.float32)
    one, two = (entry_exit.market_slots(market, weight, values, 6, threads) for threads in (1, 2))
    for a, b in zip(one, two):
        assert np.array_equal(a, b)
    live = np.flatnonzero(weight > 0)
    assert np.array_equal(one.rows, live[np.argsort(market[live], kind="stable")])  # a stable sort by market
    assert np.array_equal(one.slot_value, values[one.rows]) and np.array_equal(one.slot_weight, weight[one.rows])
    assert one.starts[-1] == live.size and one.heaviest[5] == 0.0 and one.lightest[5] == np.inf
    for m in range(5):
        in_market = weight[live][market[live] == m]
        assert one.heaviest[m] == in_market.max() and one.lightest[m] == in_market.min()
