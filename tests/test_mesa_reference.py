"""sim against its Mesa yardstick (benchmarks/mesa_reference.py): one mesa.Agent per firm running
sim's rules as plain Python, on sim's own 2012 population, with its own random numbers. The two
must give the same distributions of the national aggregates: for each variable and year, the
means over seeds differ by less than Z standard errors of the difference plus REL_TOL.

Seeds: the reference and sim use different seeds, so that the two sets are independent (the
reference starts from the population sim builds on the same seed). Sim is cheap, so it gets more
seeds; the variance is pooled over both sets (the same rules give the same variance).

REL_TOL (1% of the sim mean) is added to the Z-SE band because (a) sim keeps firm state in float32
and the reference in float64, and (b) some aggregates are almost deterministic in the early years
(value added, exports pinned to the export demand path), where the SE from a few seeds is tiny or
underestimated and rounding alone could otherwise fail the check. 1% is well below the differences
a changed rule produces (doubling the entry rate moves the firm count by tens of percent, see
test_perturbed_reference_is_detected) and below the MC standard error of most aggregates after
2015 at this scale. With 20 seeds of each (`python benchmarks/mesa_reference.py --check 20`), every
aggregate of reference.AGGREGATES in every year 2014-2035 agreed within 2.6 standard errors.

What it cannot see: rule differences too small for the Monte Carlo noise at this scale. Leaving out
the state-owned firms' R&D efficiency (soe_innovation_efficiency 0.6 taken as 1) moves
soe_productivity_gap by about 0.07 log points, 1.6 standard errors with 10 and 20 seeds: not detected.

About 35 s on two idle cores: five reference runs (about 7 s each), two perturbed ones to 2015
(3 s) and twelve sim runs (about a second each with the build), in two spawned processes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.macro import LAST_YEAR
from sim.parameters import resolve
from sim.rules import digital, finance, innovation, ladder, market, parameters_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import mesa_reference as reference  # noqa: E402

SCALE = 0.002
REFERENCE_SEEDS = tuple(range(101, 106))
SIM_SEEDS = tuple(range(1, 13))
PERTURBED_SEEDS = (201, 202)
PERTURBED_LAST_YEAR = 2015
YEARS = (2015, 2022, 2035)
VARIABLES = reference.AGGREGATES[:6] + ("industrial_va", "employment_mfg", "n_srdi", "n_exits", "soe_productivity_gap")
Z = 4.0
REL_TOL = 0.01


@pytest.fixture(scope="module")
def runs():
    doubled_entry = {"entry_rate": 2.0 * resolve()["entry_rate"]}
    jobs = ([("reference", SCALE, seed, LAST_YEAR, None) for seed in REFERENCE_SEEDS]
            + [("reference", SCALE, seed, PERTURBED_LAST_YEAR, doubled_entry) for seed in PERTURBED_SEEDS]
            + [("sim", SCALE, seed, LAST_YEAR, None) for seed in SIM_SEEDS])
    results = reference.run_many(jobs, workers=min(2, os.cpu_count() or 1))
    n, m = len(REFERENCE_SEEDS), len(PERTURBED_SEEDS)
    return {"reference": results[:n], "perturbed": results[n:n + m], "sim": results[n + m:]}


def test_plain_rules_compute_what_the_compiled_rules_compute():
    params = resolve()
    p_finance, p_innovation, p_ladder = (parameters_for(m, params) for m in (finance, innovation, ladder))
    draws = innovation.draw_table(p_innovation)
    rng = np.random.default_rng(0)
    key = np.uint64(12345)
    for row in range(50):
        x = rng.lognormal(0.0, 1.0, 12)
        accounts = (x[0], 0.3 * x[1], 0.05 * x[2], 4 * x[3], 3 * x[4], 2 * x[5], x[6] - 1, x[7], x[8], 60.0, 1.5, p_finance)
        assert reference.finance_year(*accounts) == pytest.approx(finance.finance_year(*accounts), rel=1e-12)
        effort = (x[0], 0.5 * x[1], 0.05, bool(row % 2), x[2], draws, key, row, p_innovation)
        assert reference.innovate(*effort) == pytest.approx(innovation.innovate(*effort), rel=1e-12)
        recognition = (row % 3, 3, 100 * x[0], 0.02 * x[1], 50 * x[2], x[3], True, 2020, p_ladder, key, row)
        assert reference.promote(*recognition) == ladder.promote(*recognition)
        assert reference.upgrade_probability(x[0], x[1], 0.3, 0.1, 2.0) == pytest.approx(
            digital.upgrade_probability(x[0], x[1], 0.3, 0.1, 2.0), rel=1e-12)
        assert reference.competitiveness(x[0], x[1], x[2], x[3], 0.2, 0.1) == pytest.approx(
            market.competitiveness(x[0], x[1], x[2], x[3], 0.2, 0.1), rel=1e-12)


def test_reference_starts_from_sims_population(runs):
    first = runs["reference"][0]
    built = reference.run_sim(SCALE, first["seed"], last_year=2012, threads=1)
    for name in reference.AGGREGATES:
        assert first["series"][name][0] == pytest.approx(built["series"][name][0], rel=1e-6), name


def test_firm_years_are_counted(runs):
    for run in runs["reference"] + runs["sim"]:
        assert run["firm_years"] > 23 * 4000 and run["seconds"] > 0


def test_reference_and_sim_agree_within_monte_carlo_error(runs):
    rows = reference.cross_check(runs["reference"], runs["sim"], VARIABLES, YEARS, z=Z, rel=REL_TOL)
    disagree = [r for r in rows if not r["agrees"]]
    assert not disagree, "reference and sim differ:\n" + reference.check_table(disagree)


def test_perturbed_reference_is_detected(runs):
    """The check can fail: a reference with twice the entry rate is told apart from sim."""
    rows = reference.cross_check(runs["perturbed"], runs["sim"], VARIABLES, (PERTURBED_LAST_YEAR,), z=Z, rel=REL_TOL)
    flagged = {r["variable"] for r in rows if not r["agrees"]}
    assert "n_firms" in flagged, reference.check_table(rows)
