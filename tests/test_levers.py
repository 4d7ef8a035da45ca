"""Policy levers: the declaration, scenario validation, zero intensity = baseline bit for bit, the
direction of each lever's first-order indicator over seeds (common random numbers), fiscal costs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from sim import taxonomy
from sim.cli import main
from sim.levers import LEVER_NAMES, LeverSchedule, lever_sources, load_levers, parse_levers
from sim.macro import build_macro
from sim.model import IndustryModel
from sim.output import run_dataset
from sim.parameters import load_declaration, resolve
from sim.runner import simulate
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "levers"
ZERO_SCALE, SCALE = 0.01, 0.02
SEEDS = (1, 2, 3, 4)
T_CRITICAL = stats.t.ppf(0.95, len(SEEDS) - 1)  # one-sided 5% paired test over the seeds


pytestmark = pytest.mark.usefixtures("declared_defaults")


def run(levers=None, seed=1, scale=SCALE, until=None, overrides=None):
    model = IndustryModel(resolve(overrides), build_macro(), seed=seed, scale=scale, levers=levers)
    if until is None:
        model.run_to_end()
    while until is not None and model.year < until:
        model.step()
    return model, run_dataset(model.records, seed)


# ---------------------------------------------------------------- declaration
def test_every_lever_is_declared_with_its_sentences_and_parameters():
    declared = load_levers()
    assert tuple(declared) == LEVER_NAMES
    sources, parameters = lever_sources(), load_declaration()
    for name, lever in declared.items():
        assert lever.default == 0.0 and lever.lower <= 0.0 <= lever.upper, name
        assert lever.unit and lever.mechanism and lever.fiscal_cost and lever.first_order and lever.sentences, name
        for sentence in lever.sentences:
            assert any(sentence in quote for quote in sources[name]), (name, sentence)
        for parameter in lever.parameters:
            assert parameters[parameter].process == "levers" and parameters[parameter].source.startswith("assumption"), parameter


def test_a_sentence_missing_from_lever_sources_is_refused(tmp_path, monkeypatch):
    from sim import levers

    text = levers.LEVERS_FILE.read_text(encoding="utf-8").replace(
        '"build five to ten new national manufacturing innovation centers for key fields"', '"build fifty new centres"')
    path = tmp_path / "levers.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="not in a quote of innovation_centers"):
        levers._parse_declaration(path)


def test_targets_merge_with_the_default_and_extends_merges_field_by_field(tmp_path):
    levers = parse_levers({"digital_subsidy": {"intensity": 0.3, "target": {"region": ["central"]}}}, "x.toml")
    assert dict(levers["digital_subsidy"].target) == {"firm_class": ("sme",), "region": ("central",)}
    lifted = parse_levers({"digital_subsidy": {"intensity": 0.3, "target": {"firm_class": ["all"]}}}, "x.toml")
    assert lifted["digital_subsidy"].target == ()
    parent = tmp_path / "parent.toml"
    parent.write_text(f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n[levers.carbon_constraint]\nstart_year = 2026\n'
                      'intensity = 100.0\n[levers.soe_reform]\nintensity = 0.5\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n[levers.carbon_constraint]\nintensity = 200.0\n')
    scenario = load_scenario(child)
    carbon = scenario.levers["carbon_constraint"]
    assert (carbon.intensity, carbon.start_year, carbon.end_year) == (200.0, 2026, 2035)
    assert scenario.levers["soe_reform"].intensity == 0.5
    assert "carbon_constraint=200" in scenario.lever_summary()


def test_schedule_table_holds_intensity_in_its_years_and_target_masks():
    levers = parse_levers({"carbon_constraint": {"start_year": 2025, "end_year": 2030, "intensity": 100.0},
                           "innovation_centers": {"intensity": 9.0}}, "x.toml")
    industries = taxonomy.load_industries()
    schedule = LeverSchedule(levers, len(industries))
    carbon = LEVER_NAMES.index("carbon_constraint")
    assert schedule.table(2024)[carbon, 0] == 0.0 and schedule.table(2031)[carbon, 0] == 0.0
    assert schedule.table(2025)[carbon, 0] == 100.0
    assert schedule.industry_mask(carbon).sum() == 4 and schedule.industry_mask(carbon)[industries.index("steel")]
    # nine centres over the three strategic-emerging industries: three per industry
    assert schedule.table(2024)[LEVER_NAMES.index("innovation_centers"), 0] == pytest.approx(3.0)


# ---------------------------------------------------------------- zero intensity reproduces the baseline
@pytest.fixture(scope="module")
def zero_baseline():
    return run(seed=5, scale=ZERO_SCALE)[1]


@pytest.mark.parametrize("name", LEVER_NAMES)
def test_lever_at_zero_intensity_reproduces_the_baseline_bit_for_bit(zero_baseline, name):
    target = {"industry": ["manufacturing"]} if "industry" in load_levers()[name].targets else {}
    levers = parse_levers({name: {"start_year": 2013, "end_year": 2035, "intensity": 0.0, "target": target}}, "zero.toml")
    xr.testing.assert_identical(run(levers, seed=5, scale=ZERO_SCALE)[1], zero_baseline)


def test_scenario_with_every_lever_at_zero_reproduces_the_baseline():
    baseline = simulate(load_scenario(ROOT / "scenarios" / "baseline.toml"), 6, ZERO_SCALE)
    zero = simulate(load_scenario(DATA / "valid_levers.toml"), 6, ZERO_SCALE)
    assert len(load_scenario(DATA / "valid_levers.toml").levers) == len(LEVER_NAMES)
    xr.testing.assert_identical(zero, baseline)
    assert not np.any(zero["fiscal_cost"].values)


# ---------------------------------------------------------------- each lever moves its first-order indicator
def by_weight(model, mask, values):
    f = model.firms
    mask = mask & f.alive
    return float(np.sum(f.weight[mask] * values[mask]) / np.sum(f.weight[mask]))


def industries_mask(model, keys):
    return np.isin(model.firms.industry, [model.industries.index(k) for k in keys])


def sme_receivable_ratio(model, dataset):
    f = model.firms
    sme = f.alive & (f.firm_class == taxonomy.SME)
    return float(np.sum(f.weight[sme] * f.receivables[sme]) / np.sum(f.weight[sme] * f.revenue[sme]))


def soe_debt_to_assets(model, dataset):
    f = model.firms
    soe = f.alive & (f.firm_class == taxonomy.STATE_OWNED)
    assets = f.capital[soe] + f.cash[soe] + f.receivables[soe]
    return float(np.sum(f.weight[soe] * f.debt[soe]) / np.sum(f.weight[soe] * assets))


def in_2030(variable, **selection):
    return lambda model, dataset: float(dataset[variable].sel(year=2030, **selection).squeeze())


EMERGING = ("electronics_ict", "new_energy_products", "pharma_medical")
LABOUR_INTENSIVE = ("light_textiles_food", "electronics_ict")
# lever: (its setting from 2020, first-order indicator in 2030, expected sign of the change)
UNTIL = 2030
CASES = {
    "digital_subsidy": ({"intensity": 0.5}, in_2030("sme_digital_stage_share", digital_stage="initial_exploration"), -1),
    "rd_superdeduction": ({"intensity": 1.0}, in_2030("rd_intensity_mfg"), +1),
    # energy per unit of real value added: with prices from costs the grant's extra output (cheaper, more productive
    # capacity sells more) can raise total energy use (a rebound) while every unit of output uses less
    "equipment_renewal": ({"intensity": 0.2}, lambda m, d: in_2030("industrial_energy")(m, d) / in_2030("industrial_va_real")(m, d), -1),
    "carbon_constraint": ({"intensity": 200.0}, in_2030("industrial_co2"), -1),
    "gradient_cultivation": ({"intensity": 1.0}, in_2030("n_srdi"), +1),
    "arrears_enforcement": ({"intensity": 1.0}, sme_receivable_ratio, -1),
    "hand_in_hand": ({"intensity": 0.3},
                     lambda m, d: by_weight(m, m.firms.firm_class == taxonomy.SME, np.log(m.firms.productivity)), +1),
    "ai_empowerment": ({"intensity": 0.5}, in_2030("sme_digital_stage_share", digital_stage="intelligent_innovation"), +1),
    "soe_reform": ({"intensity": 1.0, "start_year": 2014}, soe_debt_to_assets, -1),  # the credit ceiling binds slowly
    "innovation_centers": ({"intensity": 30.0},
                           lambda m, d: by_weight(m, industries_mask(m, EMERGING), np.log(m.firms.productivity)), +1),
    "trade_shock": ({"intensity": -30.0}, in_2030("exports"), -1),
    "relocation": ({"intensity": 0.1}, in_2030("exports"), -1),
    "regional_transfer": ({"intensity": 0.1},
                          lambda m, d: by_weight(m, industries_mask(m, LABOUR_INTENSIVE), m.firms.region == 0), -1),
}
# The SOE reform's mechanism is a harder credit ceiling; at the declared ceilings (3 and 1.5 times net worth)
# state-owned firms borrow about a tenth of their assets and never reach either, so the lever has nothing to bind
# (8 seeds at scale 0.05: -0.07 points of debt over assets, t = -0.8; calibration/levers.toml says so). Its
# first-order effect is measured where the ceilings bind: 0.6 for state-owned firms, 0.2 for the others.
CASE_PARAMETERS = {"soe_reform": {"leverage_ceiling_soe": 0.6, "leverage_ceiling_private": 0.2}}
SPENDING = {"digital_subsidy", "rd_superdeduction", "equipment_renewal", "gradient_cultivation", "hand_in_hand",
            "ai_empowerment", "innovation_centers", "regional_transfer"}


@pytest.fixture(scope="module")
def baselines():
    return {seed: run(seed=seed, until=UNTIL) for seed in SEEDS}


def test_every_lever_has_a_direction_case():
    assert set(CASES) == set(LEVER_NAMES)


@pytest.mark.parametrize("name", LEVER_NAMES)
def test_lever_moves_its_first_order_indicator_significantly(baselines, name):
    setting, indicator, sign = CASES[name]
    levers = parse_levers({name: {"start_year": 2020, **setting}}, "test.toml")
    differences, costs = [], []
    overrides = CASE_PARAMETERS.get(name)
    for seed in SEEDS:
        model, dataset = run(levers, seed=seed, until=UNTIL, overrides=overrides)
        base_model, base_dataset = baselines[seed] if overrides is None else run(seed=seed, until=UNTIL, overrides=overrides)
        differences.append(indicator(model, dataset) - indicator(base_model, base_dataset))
        costs.append(dataset["fiscal_cost"].sel(year=2030).squeeze())
    differences = sign * np.array(differences)  # positive when the lever moves the indicator the expected way
    spread = differences.std(ddof=1)
    t = differences.mean() / (spread / np.sqrt(len(SEEDS))) if spread > 0 else np.inf * np.sign(differences.mean())
    assert np.all(differences > 0) and t > T_CRITICAL, (name, differences, t)
    # fiscal cost: only this lever's entry; positive when it spends, negative for the carbon price, else zero
    costs = xr.concat(costs, "run")
    others = costs.drop_sel(lever=name)
    assert not np.any(others.values)
    own = costs.sel(lever=name).values
    if name in SPENDING:
        assert np.all(own > 0), (name, own)
    elif name == "carbon_constraint":
        assert np.all(own < 0)
    else:
        assert not np.any(own)


# ---------------------------------------------------------------- malformed scenario files
BAD_LEVER_FILES = {
    "unknown_lever.toml": "unknown lever (did you mean 'digital_subsidy'?)",
    "unknown_field.toml": "unknown field (did you mean 'intensity'?)",
    "wrong_type.toml": "must be a number",
    "out_of_bounds.toml": "1.5 is out of bounds: allowed 0 to 0.9",
    "negative_intensity.toml": "-0.1 is out of bounds: allowed 0 to 0.5",
    "start_after_end.toml": "start_year 2030 is after end_year 2025",
    "year_outside.toml": "2040 is outside the years a lever may act: 2013-2035",
    "year_not_whole.toml": "must be a whole year",
    "unknown_industry.toml": "unknown industry 'steal' (did you mean 'steel'?)",
    "unknown_region.toml": "unknown region 'centre' (did you mean 'central'?)",
    "unknown_firm_class.toml": "unknown firm_class 'smes' (did you mean 'sme'?)",
    "unknown_rung.toml": "unknown ladder_rung 'little_giants' (did you mean 'little_giant'?)",
    "unknown_target_dimension.toml": "unknown target dimension (did you mean 'firm_class'?)",
    "target_not_allowed.toml": "trade_shock cannot be targeted by region; allowed: industry",
    "target_not_a_list.toml": "must be a non-empty list of region names",
    "all_not_alone.toml": '"all" stands alone',
    "missing_intensity.toml": "levers.hand_in_hand.intensity: missing",
    "lever_not_a_table.toml": "levers.digital_subsidy: must be a table",
    "levers_not_a_table.toml": "levers: must be a table of [levers.NAME] sections",
    "extends_bad_lever.toml": "unknown_lever.toml: levers.digital_subsidi: unknown lever",
}


def test_the_corpus_covers_every_bad_file():
    assert {p.name for p in DATA.glob("*.toml")} == set(BAD_LEVER_FILES) | {"valid_levers.toml"}


@pytest.mark.parametrize("name,message", BAD_LEVER_FILES.items())
def test_bad_lever_file_gives_one_line_exit_2_and_writes_nothing(tmp_path, capsys, name, message):
    path = str(DATA / name)
    baseline = str(ROOT / "scenarios" / "baseline.toml")
    for command in (["check", path], ["run", path, "--out", str(tmp_path), "--scale", "0.01"],
                    ["compare", baseline, path, "--out", str(tmp_path), "--scale", "0.01"]):
        assert main(command) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (command, lines)
        assert lines[0].startswith("sim: error: ") and ".toml" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_bad_lever_file_from_the_shell(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sim", "run", str(DATA / "unknown_region.toml"), "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "did you mean 'central'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_accepts_every_scenario_of_the_library():
    names = {p.stem for p in (ROOT / "scenarios").glob("*.toml")}
    assert {"baseline", "digital_empowerment", "rd_superdeduction", "equipment_renewal", "green_transition",
            "gradient_cultivation", "arrears_enforcement", "hand_in_hand", "ai_empowerment", "trade_shock",
            "relocation_pressure", "regional_transfer", "new_industrialization"} <= names
    for path in (ROOT / "scenarios").glob("*.toml"):
        scenario = load_scenario(path)
        text = path.read_text(encoding="utf-8")
        if scenario.name != "baseline":
            assert text.startswith("#") and 'extends = "baseline.toml"' in text and scenario.levers, path.name
            assert '"' in text.split("extends")[0], f"{path.name}: the opening comment quotes no sentence"
