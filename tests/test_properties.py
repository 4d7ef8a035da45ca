"""Property-based tests (issue 8, item 4), with hypothesis.

(a) Any valid scenario (a few uncertain parameters anywhere within their declared bounds, perhaps a
    lever at any valid intensity and years) runs at a tiny scale with the model's invariants holding
    every year: no negative stocks or flows where the model forbids them, shares within 0-100,
    ladder counts as defined, firm accounting, and aggregates equal to weighted sums of firms.
(b) The scenario parser, fed arbitrary TOML documents, text or bytes, raises nothing but the
    project's InputError subclasses.
Both are derandomized: every run of the suite draws the same examples, so that a red CI is a
failure anyone can reproduce (hypothesis's shrinking still reports the smallest failing input).
"""

from __future__ import annotations

import datetime
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import taxonomy
from sim.errors import InputError, ModelDivergence
from sim.levers import FIELDS, TARGET_DIMS, categories, load_levers, parse_levers
from sim.macro import GROWTH_PATHS, LAST_YEAR, build_macro
from sim.model import IndustryModel
from sim.output import run_dataset
from sim.parameters import load_declaration, resolve, validate_value
from sim.scenario import TOP_LEVEL_KEYS, load_scenario

TINY_SCALE = 0.002
UNCERTAIN = sorted(name for name, p in load_declaration().items() if p.kind == "uncertainty" and p.lower < p.upper)
LEVERS = tuple(load_levers())


# ----------------------------------------------------------------------------- (a) the model
@st.composite
def valid_scenarios(draw):
    """(parameter overrides, levers, seed), validated by the scenario code itself."""
    names = draw(st.lists(st.sampled_from(UNCERTAIN), min_size=1, max_size=4, unique=True))
    declared = load_declaration()
    values = {}
    for name in names:
        p = declared[name]
        value = draw(st.integers(math.ceil(p.lower), math.floor(p.upper)) if p.is_integer
                     else st.floats(p.lower, p.upper, allow_nan=False))
        values[name] = validate_value(name, value, "<hypothesis>", f"parameters.{name}")
    levers = {}
    lever = draw(st.none() | st.sampled_from(LEVERS))
    if lever is not None:
        declaration = load_levers()[lever]
        start = draw(st.integers(2013, LAST_YEAR))
        table = {"intensity": draw(st.floats(declaration.lower, declaration.upper, allow_nan=False)),
                 "start_year": start, "end_year": draw(st.integers(start, LAST_YEAR))}
        levers = parse_levers({lever: table}, "<hypothesis>")
    return values, levers, draw(st.integers(1, 10_000))


NON_NEGATIVE = ("capital", "value_added", "previous_value_added", "employment", "revenue", "debt", "receivables",
                "rd_spending", "patent_stock", "energy_use", "energy_intensity", "market_share")


def check_firms(model: IndustryModel) -> None:
    f, alive = model.firms, model.firms.alive
    for name, column in f.columns():
        assert np.all(np.isfinite(column[alive])), f"{model.year}: {name} not finite"
    for name in NON_NEGATIVE:
        assert getattr(f, name)[alive].min(initial=0.0) >= 0.0, f"{model.year}: negative {name}"
    assert np.all(f.weight[alive] > 0) and np.all(f.productivity[alive] > 0)
    assert np.all((f.export_share[alive] >= 0) & (f.export_share[alive] <= 1))
    # Cash may fall below zero only in a firm found illiquid this year, which exits next year.
    assert np.all((f.cash[alive] >= 0) | model.illiquid[: f.capacity][alive]), f"{model.year}: negative cash, not illiquid"
    assert np.all(f.weight[~alive] == 0) and np.all(f.market_share[~alive] == 0)


def check_record(model: IndustryModel) -> None:
    """The year's aggregates are weighted sums of its firms, and the ladder counts as defined."""
    f, record = model.firms, model.records[-1]
    w = np.where(f.alive, f.weight, 0.0).astype(np.float64)
    manufacturing = model.industries["manufacturing"][f.industry]
    rung = f.ladder_rung
    expected = {
        "industrial_va": np.sum(w * f.value_added) / 1e6,
        "exports": np.sum(w * f.revenue * f.export_share) / 1e6,
        "employment_mfg": np.sum(w * f.employment * manufacturing) / 1e6,
        "n_firms": w.sum(),
        "n_above_scale": w[f.revenue >= model.params["threshold_revenue"]].sum(),
        "n_srdi": w[(rung == taxonomy.RUNG_SRDI) | (rung == taxonomy.RUNG_LITTLE_GIANT)].sum(),
        "n_little_giant": w[rung == taxonomy.RUNG_LITTLE_GIANT].sum(),
        "n_single_champion": w[rung == taxonomy.RUNG_CHAMPION].sum(),
    }
    for name, value in expected.items():
        assert record[name] == pytest.approx(value, rel=1e-5, abs=1e-9), f"{model.year}: {name}"
    assert record["n_little_giant"] <= record["n_srdi"]
    assert record["n_srdi"] + record["n_single_champion"] <= record["n_firms"] * (1 + 1e-9)
    assert record["n_above_scale"] <= record["n_firms"] * (1 + 1e-9)
    assert record["firms_by_class"].sum() == pytest.approx(record["n_above_scale"], rel=1e-9)
    assert record["va_by_industry"].sum() == pytest.approx(record["industrial_va"], rel=1e-9)
    if len(model.records) > 1:  # start + entries - exits = end
        before = model.records[-2]["n_firms"]
        assert record["n_firms"] == pytest.approx(before + record["n_entries"] - record["n_exits"], rel=1e-6)


def check_dataset(model: IndustryModel) -> None:
    dataset = run_dataset(model.records, model.seed)
    for name, variable in dataset.data_vars.items():
        if variable.attrs.get("units") == "%":
            assert float(variable.min()) >= 0.0, name
            assert float(variable.max()) <= 100.0, name
        if variable.attrs.get("units") == "share":
            assert float(variable.min()) >= 0.0 and float(variable.max()) <= 1.0, name
    for name in ("n_entries", "n_exits", "invention_patent_apps", "industrial_energy", "industrial_co2"):
        assert float(dataset[name].min()) >= 0.0, name  # (fiscal_cost may be negative: the carbon price is revenue)


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(valid_scenarios())
def test_valid_scenarios_keep_the_invariants_every_year(scenario):
    values, levers, seed = scenario
    model = IndustryModel(resolve(values), build_macro(), seed=seed, scale=TINY_SCALE, levers=levers)
    check_firms(model)
    check_record(model)
    try:
        while model.year < LAST_YEAR:
            model.step()
            check_firms(model)
            check_record(model)
    except ModelDivergence:  # a named outcome for parameter sets that blow the model up (sweeps skip them)
        pass
    check_dataset(model)


# Corners of the declared bounds where shares of the scenario's totals (GDP, world manufacturing) passed
# 100% under the constant-elasticity demand of commit 5ed517d: exports exploding through the price
# elasticity; value added outgrowing GDP through the value-added ratio and the income elasticity. The
# logit share of GDP (sim/rules/market.py), China's CES share of world demand and the rest of the
# world's manufacturing (sim/rules/trade.py, sim/model.py) now bound them.
SHARES_OF_SCENARIO_TOTALS = ("industry_share_gdp", "manufacturing_share_gdp", "sei_share_gdp", "world_mfg_share")


@pytest.mark.parametrize("values", [
    {"innovation_draw_high": 0.5, "export_price_elasticity": 3.0},
    {"innovation_draw_high": 0.5, "export_price_elasticity": 4.0, "export_technology_elasticity": 3.0},
    {"value_added_ratio_trend": 0.04, "domestic_demand_elasticity_scale": 1.5},
    {"value_added_ratio_trend": 0.04, "domestic_demand_elasticity_scale": 1.5, "emerging_elasticity_premium": 2.0},
])
def test_shares_of_scenario_totals_stay_below_100_percent_at_corners_of_the_bounds(values):
    model = IndustryModel(resolve(values), build_macro(), seed=1, scale=TINY_SCALE)
    model.run_to_end()
    for share in SHARES_OF_SCENARIO_TOTALS:
        assert 0.0 < max(record[share] for record in model.records) < 100.0, share


# Corners of the macro paths a scenario may set (calibration/macro_baseline.toml `allowed`), from 2023:
# GDP is the rest of the economy plus industry (sim/rules/demand.py), so a collapsing or booming rest
# of the economy moves industry's share of GDP but can never push it past 100% (before the closure,
# GDP growth of -20% a year from 2023 gave manufacturing 365% of GDP).
@pytest.mark.parametrize("paths", [
    {"rest_real_growth": -20.0, "rest_deflator": -10.0},
    {"rest_real_growth": -20.0, "rest_deflator": 20.0},
    {"rest_real_growth": 20.0, "rest_deflator": 20.0, "wage_growth": -10.0},
    {"rest_real_growth": 20.0, "rest_deflator": -10.0, "world_demand_growth": 40.0},
])
def test_shares_of_gdp_stay_below_100_percent_at_corners_of_the_macro_paths(paths):
    macro = build_macro({name: {"2023-2035": value} for name, value in paths.items()})
    model = IndustryModel(resolve(), macro, seed=1, scale=0.005)
    model.run_to_end()
    for share in SHARES_OF_SCENARIO_TOTALS:
        assert 0.0 < min(record[share] for record in model.records), share
        assert max(record[share] for record in model.records) < 100.0, share


# ----------------------------------------------------------------------------- (b) the parser
NOISE = st.text(max_size=10)  # any characters, control characters included
NAMES = (*TOP_LEVEL_KEYS, *UNCERTAIN, *LEVERS, *FIELDS, *TARGET_DIMS, *GROWTH_PATHS, *taxonomy.REGIONS,
         *taxonomy.FIRM_CLASSES, *taxonomy.LADDER_RUNGS, *categories("industry"), "all", "2026", "2026-2030", "2030-2026")
ANY = st.recursive(
    st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats() | NOISE | st.sampled_from(NAMES) | st.dates() | st.datetimes()
    | st.times(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(NAMES) | NOISE, inner, max_size=4),
    max_leaves=10)
NUMBER = st.integers(-5, 3000) | st.floats(-10.0, 1000.0) | st.floats()


def table(keys, values):
    """A table keyed mostly by real names (and now and then by any string), of plausible or any values."""
    return st.dictionaries(st.sampled_from(keys) | NOISE, values | ANY, max_size=4)


LEVER_TABLE = st.fixed_dictionaries({}, optional={
    "intensity": NUMBER | ANY, "start_year": st.integers(2010, 2040) | ANY, "end_year": st.integers(2010, 2040) | ANY,
    "target": table(TARGET_DIMS, st.lists(st.sampled_from(NAMES), max_size=3)),
})
SCENARIO_TABLE = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(("fuzzed", "", "../out", ".hidden")) | NOISE,
    "description": NOISE | ANY,
    "extends": st.sampled_from(("base.toml", "fuzzed.toml", "missing.toml", "", ".", "..", "/dev/null")) | NOISE,
    "seeds": NUMBER | ANY, "scale": NUMBER | ANY,
    "parameters": table(UNCERTAIN, NUMBER),
    "macro": table(GROWTH_PATHS, table(("2013", "2026", "2026-2030", "2030-2026", "2040", "x"), NUMBER)),
    "levers": table(LEVERS, LEVER_TABLE),
}) | st.dictionaries(st.sampled_from(NAMES) | NOISE, ANY, max_size=5)


def quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string (rarely invalid TOML: bad input too)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, (int, datetime.date, datetime.time)):
        return value.isoformat() if not isinstance(value, int) else str(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{quoted(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(document: dict) -> bytes:
    return "".join(f"{quoted(key)} = {toml_value(value)}\n" for key, value in document.items()).encode("utf-8", "surrogatepass")


DOCUMENTS = st.one_of(SCENARIO_TABLE.map(toml_document), SCENARIO_TABLE.map(toml_document),
                      st.text(max_size=200).map(str.encode), st.binary(max_size=200))
BASE = b'name = "base"\n[parameters]\nmarkup = 0.15\n[levers.digital_subsidy]\nintensity = 0.3\n'


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_the_scenario_parser_raises_only_input_errors(document):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzzed.toml"
        path.write_bytes(document)
        (Path(directory) / "base.toml").write_bytes(BASE)  # a valid file to extend
        try:
            load_scenario(path)
        except InputError as error:
            assert "\n" not in error.one_line()


def test_the_command_line_on_a_fuzzed_file(tmp_path):
    """A sanity run of the real command on a document of the kind the parser test makes."""
    path = tmp_path / "fuzzed.toml"
    path.write_bytes(toml_document({"levers": {"digital_subsidy": {"target": {"region": [float("nan"), "\x00"]}}},
                                    "parameters": {"": datetime.date(2030, 1, 1)}}))
    result = subprocess.run([sys.executable, "-m", "sim", "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "fuzzed.toml" in result.stderr, result.stderr
