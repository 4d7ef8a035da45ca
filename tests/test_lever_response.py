"""The lever-response table (sim/lever_response.py) on made-up comparison results with known answers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from sim import lever_response
from sim.levers import LeverSetting
from sim.rules.innovation import rd_user_cost_ratio
from sim.taxonomy import load_industries

YEARS = np.arange(2012, 2036)
INDUSTRIES = load_industries().keys
N_INDUSTRIES = len(INDUSTRIES)
STEEL = INDUSTRIES.index("steel")


def comparison(rd_factor=1.0, investment_factor=1.0):
    """Two scenarios (base, policy), two runs: the policy's R&D and the steel industry's investment
    are the base's times the factors from 2024 on; everything else equal."""
    after = (YEARS >= 2024)[None, :]
    base_rd = np.full((2, YEARS.size), 10.0)
    base_investment = np.full((2, YEARS.size, N_INDUSTRIES), 5.0)
    policy_investment = base_investment.copy()
    policy_investment[:, :, STEEL] *= np.where(after[0], investment_factor, 1.0)
    level = np.full((2, YEARS.size), 100.0)
    data = {
        "rd_spend_mfg": (("scenario", "run", "year"), np.stack([base_rd, base_rd * np.where(after, rd_factor, 1.0)])),
        "investment_by_industry": (("scenario", "run", "year", "industry"), np.stack([base_investment, policy_investment])),
        "real_va_by_industry": (("scenario", "run", "year", "industry"), np.stack([base_investment, base_investment])),
        "energy_by_industry": (("scenario", "run", "year", "industry"), np.stack([base_investment, base_investment])),
        "industrial_va_real": (("scenario", "run", "year"), np.stack([level, level * 1.01])),
        "labour_productivity": (("scenario", "run", "year"), np.stack([level, level])),
    }
    return xr.Dataset(data, coords={"scenario": ["base", "policy"], "run": [0, 1], "year": YEARS})


def scenario(name, **levers):
    return SimpleNamespace(name=name, levers=levers)


def test_the_rd_user_cost_elasticity_is_read_back():
    cost = rd_user_cost_ratio(0.25, 0.5)
    dataset = comparison(rd_factor=cost ** -1.5)
    policy = scenario("policy", rd_superdeduction=LeverSetting("rd_superdeduction", 0.5, 2024, 2035))
    rows = lever_response.responses(dataset, [scenario("base"), policy], {"corporate_tax_rate": 0.25}, N_INDUSTRIES)
    by_name = {row.measure.name: row for row in rows}
    assert by_name["R&D elasticity to its user cost"].values == pytest.approx([1.5, 1.5])
    assert by_name["R&D elasticity to its user cost"].within
    assert by_name["real industrial value added"].values == pytest.approx([1.0, 1.0])
    assert by_name["labour productivity of industry"].values == pytest.approx([0.0, 0.0])
    assert not by_name["labour productivity of industry"].within  # 0 is outside the published 1-2%


def test_treated_investment_reads_the_targeted_industries_only():
    dataset = comparison(investment_factor=1.3)
    grant = LeverSetting("equipment_renewal", 0.05, 2024, 2027, (("industry", ("steel",)),))
    policy = scenario("policy", equipment_renewal=grant)
    rows = lever_response.responses(dataset, [scenario("base"), policy], {"corporate_tax_rate": 0.25}, N_INDUSTRIES)
    treated = [row for row in rows if row.measure.name == "investment of the treated industries"]
    assert len(treated) == 1
    # only steel's investment rose 30%: a mask over every industry would read 30% / 12
    assert treated[0].values == pytest.approx([30.0, 30.0])
    assert treated[0].within


def test_the_table_is_stored_and_printed_from_the_result():
    dataset = comparison(rd_factor=1.2)
    policy = scenario("policy", rd_superdeduction=LeverSetting("rd_superdeduction", 0.5, 2024, 2035))
    rows = lever_response.responses(dataset, [scenario("base"), policy], {"corporate_tax_rate": 0.25}, N_INDUSTRIES)
    stored = dataset.merge(lever_response.to_dataset(rows))
    text = lever_response.table(stored)
    assert "policy: rd_superdeduction: R&D elasticity to its user cost (1)" in text
    elasticity = math.log(1.2) / -math.log(rd_user_cost_ratio(0.25, 0.5))
    assert f"{elasticity:+.3g}" in text
    assert lever_response.table(comparison()) == ""  # no lever responses: no table


def test_a_measure_another_lever_would_mix_into_is_read_only_when_its_lever_acts_alone():
    dataset = comparison(rd_factor=1.2)
    both = scenario("policy", rd_superdeduction=LeverSetting("rd_superdeduction", 0.5, 2024, 2035),
                    carbon_constraint=LeverSetting("carbon_constraint", 100.0, 2025, 2035))
    names = {row.measure.name for row in lever_response.responses(dataset, [scenario("base"), both], {"corporate_tax_rate": 0.25},
                                                                   N_INDUSTRIES)}
    assert "real industrial value added" not in names and "R&D elasticity to its user cost" not in names


def test_the_gain_per_digital_stage_is_the_wald_estimate_on_the_smes_the_subsidy_moved():
    """The policy moves a quarter of the SMEs up one stage (mean stage +0.25) and their productivity
    by 4 log points each: SMEs' productivity rises by exp(0.25 x 0.04), 1 log point, and the gain per
    stage gained reads back 4 (log points x 100)."""
    dataset = comparison()
    classes = ["state_owned", "large_private", "foreign_funded", "sme"]
    after = (YEARS >= 2024)[None, :, None]
    productivity = np.full((2, YEARS.size, len(classes)), 50.0)
    policy_productivity = productivity * np.where(after & (np.arange(4) == 3), math.exp(0.25 * 0.04), 1.0)
    stages = np.zeros((2, YEARS.size, 4))
    stages[..., 0] = 1.0
    policy_stages = stages.copy()
    policy_stages[:, YEARS >= 2024, 0], policy_stages[:, YEARS >= 2024, 1] = 0.75, 0.25
    dataset = dataset.assign(
        labour_productivity_by_class=(("scenario", "run", "year", "firm_class"), np.stack([productivity, policy_productivity])),
        sme_digital_stage_share=(("scenario", "run", "year", "digital_stage"), np.stack([stages, policy_stages])),
    ).assign_coords(firm_class=classes, digital_stage=["a", "b", "c", "d"])
    policy = scenario("policy", digital_subsidy=LeverSetting("digital_subsidy", 0.3, 2024, 2030, (("firm_class", ("sme",)),)))
    rows = lever_response.responses(dataset, [scenario("base"), policy], {"corporate_tax_rate": 0.25}, N_INDUSTRIES)
    by_name = {row.measure.name: row for row in rows}
    assert by_name["SMEs' labour productivity per digital stage gained"].values == pytest.approx([4.0, 4.0])
    assert by_name["SMEs' labour productivity per digital stage gained"].within
    assert by_name["labour productivity of SMEs"].values == pytest.approx([100 * math.expm1(0.01)] * 2)
