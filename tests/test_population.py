"""The synthetic 2012 population reproduces the documents' 2012 figures it is built from."""

import numpy as np
import pytest

from sim.calibration_data import load_initial_state
from sim.firms import FIRM_STATE
from sim.parameters import resolve
from sim.population import build_population, lomax_stratum_mean

DOC = load_initial_state().documents


@pytest.fixture(scope="module", params=[1.0, 0.05])
def population(request):
    firms, calibration = build_population(resolve(), seed=3, scale=request.param)
    return request.param, firms, calibration


def totals(firms):
    alive, w = firms.alive, firms.weight.astype(np.float64)
    above = alive & (firms.revenue >= 20.0)
    return alive, w, above


def test_counts_and_value_added_match_2012_figures(population):
    scale, firms, _ = population
    alive, w, above = totals(firms)
    assert w[above].sum() == pytest.approx(DOC["n_above_scale"], rel=1e-6)
    from sim.taxonomy import load_industries
    manufacturing = load_industries()["manufacturing"][firms.industry]
    assert np.sum((w * firms.value_added)[alive & manufacturing]) / 1e6 == pytest.approx(DOC["manufacturing_va"], rel=1e-5)


def test_full_scale_has_one_row_per_firm():
    firms, _ = build_population(resolve(), seed=1, scale=1.0)
    assert np.all(firms.weight[firms.alive] == 1.0)


def test_exports_rd_and_patents_match_2012_figures(population):
    _, firms, calibration = population
    alive, w, above = totals(firms)
    exports = w * firms.revenue * firms.export_share
    assert exports[alive].sum() / 1e6 == pytest.approx(DOC["exports"], rel=1e-3)
    assert exports[alive & firms.high_tech].sum() / 1e6 == pytest.approx(DOC["hightech_exports"], rel=1e-3)
    from sim.taxonomy import load_industries
    mfg_above = above & load_industries()["manufacturing"][firms.industry]
    intensity = np.sum((w * firms.rd_spending)[mfg_above]) / np.sum((w * firms.revenue)[mfg_above])
    assert 100 * intensity == pytest.approx(DOC["rd_intensity_mfg"], rel=1e-3)
    # above-scale firms only: the figure is NBS's survey of industrial enterprises above designated size
    assert calibration.patent_yield * np.sum((w * firms.rd_spending)[above]) == pytest.approx(DOC["invention_patent_apps"], rel=1e-6)


def test_top500_revenue_matches_and_tail_is_heavy(population):
    scale, firms, calibration = population
    from sim.taxonomy import load_industries
    from sim.weighted import top_rows
    alive, w, above = totals(firms)
    rows, counted = top_rows(firms.revenue.astype(np.float64), w, alive & load_industries()["manufacturing"][firms.industry], 500)
    assert np.sum(firms.revenue[rows] * counted) / 1e6 == pytest.approx(DOC["top500_revenue"], rel=1e-3)
    assets = firms.capital[rows].astype(float) + firms.cash[rows] + firms.receivables[rows]
    assert np.sum(assets * counted) / 1e6 == pytest.approx(DOC["top500_assets"], rel=1e-3)
    assert 1.0 < calibration.tail_exponent < 2.0  # Zipf-like (Axtell 2001)


def test_lomax_stratum_means_integrate_to_the_mean():
    edges = np.linspace(0, 1, 100_001)
    means = lomax_stratum_mean(edges[:-1], edges[1:], 20.0, 50.0, 1.5)
    assert means.mean() == pytest.approx(20.0 + 50.0 / 0.5, rel=1e-9)
    assert np.all(np.diff(means) > 0)


def test_state_fits_in_128_bytes_per_firm():
    """Every column a row holds: the firm state and the model's own columns (FIRM_STATE declares both)."""
    from sim.macro import build_macro
    from sim.model import IndustryModel
    from sim.parameters import resolve

    model = IndustryModel(resolve(), build_macro(), seed=1, scale=0.002)
    state = sum(np.dtype(spec[0]).itemsize for spec in FIRM_STATE.values())
    assert model.firms.bytes_per_firm() == state
    assert model.firms.bytes_per_firm() <= 128


def test_pareto_stratum_means_cover_the_whole_distribution():
    from sim.population import pareto_stratum_mean

    edges = np.linspace(0.0, 1.0, 1001)
    means = pareto_stratum_mean(edges[:-1], edges[1:], 0.1, 10.0)
    assert np.all(np.diff(means) > 0) and means[0] > 0.1 and means[-1] < 10.0
    # the mean of a Pareto of exponent 1 on [a, b): ln(b / a) / (1/a - 1/b)
    assert means.mean() == pytest.approx(np.log(100.0) / (10.0 - 0.1), rel=1e-9)


def test_whole_population_holds_the_documents_52_million_enterprises():
    from sim.calibration_data import load_targets

    params = resolve()
    firms, calibration = build_population(params, seed=3, scale=0.002, coverage="all_enterprises")
    alive, w, above = totals(firms)
    assert w[alive].sum() == pytest.approx(load_targets()["n_msme_2022"].value, rel=1e-6)
    assert w[above].sum() == pytest.approx(DOC["n_above_scale"], rel=1e-6)  # the above-scale firms are unchanged
    micro = alive & (firms.revenue < params["band_floor_revenue"])
    assert w[micro].sum() > 0.9 * w[alive].sum()
    assert firms.revenue[micro].min() >= load_initial_state().assumptions["micro_floor_revenue"]
    assert calibration.entrant_floor_revenue == load_initial_state().assumptions["micro_floor_revenue"]
    with pytest.raises(ValueError, match="coverage"):
        build_population(params, seed=3, scale=0.002, coverage="everyone")


def test_largest_firms_follow_the_rank_size_rule_and_no_firm_dominates_a_segment(population):
    """The census firms sit at the expected positions of the order statistics (the largest of each
    industry about 2^(1/alpha) times its runner-up, as Zipf's law has it), and the emerging /
    conventional split gives no firm more than the assumed 10% of its segment's value added unless
    it is larger than that share of both segments (then it sits in the larger one)."""
    _, firms, calibration = population
    from sim.taxonomy import load_industries
    industries = load_industries()
    alive, w, above = totals(firms)
    cap = load_initial_state().assumptions["max_segment_share_2012"]
    ratios = []
    for i in range(len(industries)):
        revenue = np.sort(firms.revenue[alive & (firms.industry == i)])[::-1]
        if revenue.size > 100:
            ratios.append((revenue[0] - 20.0) / (revenue[1] - 20.0))
        va = (w * firms.value_added)[above & (firms.industry == i)]
        emerging = firms.emerging[above & (firms.industry == i)]
        per_firm = firms.value_added[above & (firms.industry == i)]
        for flag in (True, False):
            segment = va[emerging == flag].sum()
            if segment > 0:
                other = va[emerging != flag].sum()
                largest = per_firm[emerging == flag].max()
                assert largest <= cap * segment * (1 + 1e-6) or largest > cap * other, (i, flag)
    expected = (2.0 ** (1.0 / calibration.tail_exponent))  # ((2/(N+1))/(1/(N+1)))^(1/alpha), the threshold aside
    assert np.median(ratios) == pytest.approx(expected, rel=0.02)


def test_emerging_segment_holds_its_fraction_at_every_size(population):
    """The dithered split keeps each industry's strategic-emerging fraction of value added among its
    largest firms as among the rest (size and segment independent, within the lumpiness of a firm)."""
    _, firms, _ = population
    from sim.taxonomy import load_industries
    industries = load_industries()
    alive, w, above = totals(firms)
    for i in np.flatnonzero((industries["sei_fraction"] > 0.05) & (industries["sei_fraction"] < 0.95)):
        members = np.flatnonzero(above & (firms.industry == i))
        order = members[np.argsort(-firms.value_added[members])]
        va = (w * firms.value_added)[order]
        half = np.searchsorted(np.cumsum(va), 0.5 * va.sum())
        for part in (slice(0, half), slice(half, None)):
            share = va[part][firms.emerging[order][part]].sum() / va[part].sum()
            assert share == pytest.approx(industries["sei_fraction"][i], abs=0.05), i
