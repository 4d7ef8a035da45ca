"""Scale invariance (issue 8): a run at scale 0.01 (one row per hundred firms below the census of the
largest) and one at scale 0.1 estimate the same national trajectories, within Monte Carlo error."""

import numpy as np
import pytest

from sim.macro import build_macro
from sim.model import IndustryModel
from sim.parameters import resolve

VARIABLES = ("n_firms", "n_above_scale", "manufacturing_va", "exports", "rd_intensity_mfg", "hightech_share",
             "n_srdi", "industrial_co2")
YEARS = (2015, 2022, 2035)
# Differences within 4 standard errors of the difference, plus 2% of the level: rows at scale 0.01
# carry 100 firms each, so the coarse population rounds counts and shares by a little more than
# the seed-to-seed noise of a few runs reveals.
Z, RELATIVE = 4.0, 0.02


def trajectories(scale: float, seeds) -> dict[str, np.ndarray]:
    values = {name: [] for name in VARIABLES}
    for seed in seeds:
        model = IndustryModel(resolve(), build_macro(), seed=seed, scale=scale)
        model.run_to_end()
        for name in VARIABLES:
            values[name].append([model.records[year - 2012][name] for year in YEARS])
    return {name: np.array(rows) for name, rows in values.items()}


@pytest.fixture(scope="module")
def coarse_and_fine():
    return trajectories(0.01, range(1, 9)), trajectories(0.1, range(101, 104))


@pytest.mark.parametrize("name", VARIABLES)
def test_two_scales_agree_within_monte_carlo_error(coarse_and_fine, name):
    coarse, fine = coarse_and_fine[0][name], coarse_and_fine[1][name]
    difference = coarse.mean(axis=0) - fine.mean(axis=0)
    error = np.sqrt(coarse.var(axis=0, ddof=1) / len(coarse) + fine.var(axis=0, ddof=1) / len(fine))
    allowed = Z * error + RELATIVE * np.abs(fine.mean(axis=0))
    assert np.all(np.abs(difference) <= allowed), (
        f"{name} in {YEARS}: scale 0.01 {coarse.mean(axis=0)} vs scale 0.1 {fine.mean(axis=0)} (allowed {allowed})")
