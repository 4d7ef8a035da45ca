"""The synthetic 2012 firm population, built from the documents' 2012 figures.

What the documents fix (calibration/initial_state.toml, [from_documents]): the number of
above-scale firms, manufacturing value added, the high-tech and equipment shares, exports (all,
electromechanical, high-tech), R&D intensity, invention patent applications, and the top 500
manufacturers' revenue and assets. What they do not (industry mix, ownership, size distribution
shape, below-threshold firms) are labelled assumptions.

Size distribution: revenue of above-scale firms in industry i is a Lomax (Pareto II) starting at
the threshold, x = T + sigma_i ((1 - u)^(-1/alpha) - 1). The common tail exponent alpha is solved so
that the 500 largest manufacturers earn the documents' 2012 revenue (001 II (iv)), and sigma_i so
that the industry's firms hold its documented revenue (its value added over the value-added ratio).

Sampling: the largest `census_share` of each industry are simulated one to one whatever the
scale; the rest are sampled at the scale, each row weighted by the firms it stands for. A census
firm of rank k takes the quantile at the expected position of the k-th largest of N draws,
1 - k / (N + 1) (a rank-size rule: x_1 / x_2 = 2^(1/alpha) in the tail, Zipf's law in Axtell's 2001
form); a sampled row takes the mean revenue of its quantile stratum. Totals are exact at any scale.
(Taking stratum means for the census too would give the largest firm the expected mass of the
whole tail beyond quantile 1 - 1/N: with alpha near 1, 10 to 30 times its runner-up and up to a
third of a market, an outlier no finite sample of firms has.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import optimize, special

from sim import taxonomy
from sim.calibration_data import load_initial_state, load_targets
from sim.firms import Firms
from sim.rules.finance import receivable_days_of, receivables_of
from sim.memory import touch_pages
from sim.randomness import stream
from sim.rules.innovation import MAX_RD_PROPENSITY
from sim.weighted import fill_caps, fill_floor, fill_shares_at, fill_to_target, top_rows

TOP_N = 500  # "the top 500 Chinese manufacturing enterprises" (001 II (iv))
CHUNK = 1 << 20  # rows per piece where a long column is made piece by piece (strata, draws straight into a column)


@dataclass(frozen=True)
class Calibration2012:
    """Scalars the builder derives from the 2012 figures; the model needs them later."""

    wage: float  # M RMB per person per year
    patent_yield: float  # invention patent applications per M RMB of R&D
    world_mfg_va: float  # trillion RMB
    tail_exponent: float
    above_scale_va_growth: float  # % real, reported for 2012
    industrial_ppi: float  # % per year, reported for 2012
    entrant_row_weight: np.ndarray  # by industry: real firms per row of the below-threshold band
    entrant_floor_revenue: float  # M RMB, 2012 prices: smallest entrant (the band floor; the micro floor in a whole-population run)
    capital_to_revenue: np.ndarray  # by industry: desired capital per M RMB of revenue


def lomax_stratum_mean(lo, hi, threshold: float, sigma: float, alpha: float) -> np.ndarray:
    """Mean revenue of the firms between quantiles lo and hi of a Lomax starting at `threshold`.

    Using stratum means rather than point quantiles keeps the mass of the heavy tail: with a tail
    exponent near 1 most revenue sits beyond the largest point quantile of a finite sample.
    """
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    power = 1.0 - 1.0 / alpha
    integral = ((1.0 - lo) ** power - (1.0 - hi) ** power) / power
    return threshold - sigma + sigma * integral / (hi - lo)


def lomax_rank_revenue(rank, count: int, threshold: float, sigma: float, alpha: float) -> np.ndarray:
    """Revenue of the firm ranked `rank` (1 = largest) of `count`: the Lomax quantile at its expected
    position 1 - rank / (count + 1) (rank-size rule)."""
    upper_tail = np.asarray(rank, dtype=float) / (count + 1.0)
    return threshold + sigma * (upper_tail ** (-1.0 / alpha) - 1.0)


def census_count(count: int, census_share: float) -> int:
    """Firms of an industry simulated one to one: the largest `census_share` of them."""
    return min(count, int(np.ceil(census_share * count)))


def lomax_scale(mean_revenue: float, count: int, census: int, threshold: float, alpha: float) -> float:
    """The Lomax scale sigma at which `count` firms (the census at their ranks, the rest as
    stratum means) hold `count * mean_revenue`: the rows' revenue is linear in sigma."""
    excess = np.sum(lomax_rank_revenue(np.arange(1, census + 1), count, 0.0, 1.0, alpha))
    body = count - census
    if body:
        excess += body * (lomax_stratum_mean(0.0, body / count, 1.0, 1.0, alpha) - 1.0)
    return float((mean_revenue - threshold) * count / excess)


def _top_revenue(mean_revenue, counts, manufacturing, threshold, alpha, census_share, top_n=TOP_N) -> float:
    """Revenue of the top_n manufacturers at the rank-size rule (deterministic)."""
    values = []
    for i in np.flatnonzero(manufacturing):
        sigma = lomax_scale(mean_revenue[i], counts[i], census_count(counts[i], census_share), threshold, alpha)
        values.append(lomax_rank_revenue(np.arange(1, min(top_n, counts[i]) + 1), counts[i], threshold, sigma, alpha))
    values = np.sort(np.concatenate(values))[::-1]
    return float(values[:top_n].sum())


def solve_tail_exponent(mean_revenue, counts, manufacturing, threshold, target_top_revenue, census_share) -> float:
    """The Lomax exponent at which the top 500 manufacturers earn `target_top_revenue` (M RMB)."""
    gap = lambda a: _top_revenue(mean_revenue, counts, manufacturing, threshold, a, census_share) - target_top_revenue
    return float(optimize.brentq(gap, 0.3, 20.0, xtol=1e-10))


def _strata(out, count_real: int, lo: float, hi: float, stratum_mean) -> float:
    """out[j] = stratum_mean(lower, upper quantile) of the j-th of out.size equal strata over [lo, hi),
    standing for `count_real` firms (chunk by chunk); returns the row weight."""
    rows = out.size
    for start in range(0, rows, CHUNK):
        stop = min(start + CHUNK, rows)
        edges = lo + (hi - lo) * np.arange(start, stop + 1) / rows
        out[start:stop] = stratum_mean(edges[:-1], edges[1:])
    return count_real / rows


# Rows reserved per row of 2012: room for entrants, which take dead rows first. Growing the buffers
# later copies every column into fresh memory (in the 52-million-firm run, about 14 s on this
# machine); reserved rows never used cost nothing (sim.firms: the passes stop at the rows in use, and
# the kernel backs a page only when it is first written).
CAPACITY_HEADROOM = 1.3
COVERAGES = ("industrial", "all_enterprises")


def pareto_stratum_mean(lo, hi, floor: float, ceiling: float) -> np.ndarray:
    """Mean revenue between quantiles lo and hi of a Pareto of exponent 1 (density x^-2) on [floor, ceiling)."""
    span = 1.0 / floor - 1.0 / ceiling
    at = lambda q: 1.0 / (1.0 / floor - np.asarray(q, dtype=float) * span)
    return np.log(at(hi) / at(lo)) / (span * (np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)))


def micro_firm_counts(modelled_counts: np.ndarray) -> np.ndarray:
    """Whole-population run: enterprises below the band by industry, so that all firms number the
    documents' 52 million SMEs plus the modelled firms' excess over them (001 II (iv), n_msme_2022)."""
    total = load_targets()["n_msme_2022"].value
    extra = max(total - modelled_counts.sum(), 0.0)
    return np.round(extra * modelled_counts / modelled_counts.sum()).astype(np.int64)


def build_population(params: dict[str, float], seed: int, scale: float, coverage: str = "industrial"
                     ) -> tuple[Firms, Calibration2012]:
    """Firms of end-2012 at `scale` (share of real firms simulated, census rows aside).

    coverage "industrial" (the default): above-scale firms and the below-threshold band, calibrated
    to the documents. "all_enterprises": also every smaller enterprise down to the micro floor, so
    that firms number the documents' 52 million SMEs. It exists to show the engine holds the whole
    enterprise population; the micro firms come on top of the documents' industry totals (their value
    added is not taken from them), so its national aggregates are not calibrated."""
    industries = taxonomy.load_industries()
    initial = load_initial_state()
    doc, assume = initial.documents, initial.assumptions
    rng = stream(seed, "population")
    threshold = params["threshold_revenue"]
    n_industries = len(industries)
    manufacturing = industries["manufacturing"]

    # --- counts and value added by industry (trillion RMB -> M RMB: x 1e6)
    weights = industries["firm_count_weight"] / industries["firm_count_weight"].sum()
    counts = np.maximum(np.round(doc["n_above_scale"] * weights).astype(int), 1)
    band_counts = np.round(counts * params["band_firms_per_above_scale"]).astype(int)
    band_mean_revenue = (threshold - params["band_floor_revenue"]) / np.log(threshold / params["band_floor_revenue"])
    band_va = band_counts * band_mean_revenue * industries["va_to_revenue"]

    manufacturing_va = doc["manufacturing_va"] * 1e6
    nonmanufacturing_va = manufacturing_va * assume["nonmanufacturing_to_manufacturing_va"]
    above_va_total = manufacturing_va + nonmanufacturing_va - band_va.sum()
    equipment = industries["equipment"]
    groups = [
        (~manufacturing, nonmanufacturing_va - band_va[~manufacturing].sum()),
        (equipment, doc["equipment_share"] / 100.0 * above_va_total),
    ]
    groups.append((manufacturing & ~equipment, above_va_total - groups[0][1] - groups[1][1]))
    above_va = np.zeros(n_industries)
    for members, total in groups:
        above_va[members] = total * industries["va_weight"][members] / industries["va_weight"][members].sum()
    mean_revenue = above_va / industries["va_to_revenue"] / counts

    alpha = solve_tail_exponent(mean_revenue, counts, manufacturing, threshold, doc["top500_revenue"] * 1e6,
                                params["census_share"])

    # --- rows: census of the largest, stratified sample of the rest, the below-threshold band; each
    # industry's rows are one block, starts[i]:starts[i + 1]
    band_row_weight = np.ones(n_industries)
    band_ratio = threshold / params["band_floor_revenue"]
    if coverage not in COVERAGES:
        raise ValueError(f"coverage must be one of {COVERAGES}, got {coverage!r}")
    micro_counts = micro_firm_counts(counts + band_counts) if coverage == "all_enterprises" else np.zeros(n_industries, dtype=np.int64)
    micro_floor = float(assume["micro_floor_revenue"])
    blocks = []
    for i in range(n_industries):
        census = census_count(counts[i], params["census_share"])
        body = counts[i] - census
        body_rows = max(1, int(round(body * scale))) if body else 0
        band_rows = max(1, int(round(band_counts[i] * scale)))
        micro_rows = max(1, int(round(micro_counts[i] * scale))) if micro_counts[i] > 0 else 0
        blocks.append((census, body, body_rows, band_rows, micro_rows))
    starts = np.cumsum([0] + [census + body_rows + band_rows + micro_rows for census, _, body_rows, band_rows, micro_rows in blocks])
    n = int(starts[-1])
    firms = Firms.empty(n, reserve=int(n * CAPACITY_HEADROOM) + 64)
    rows = slice(0, n)
    revenue, weight, industry = touch_pages(np.empty(n)), touch_pages(np.empty(n)), firms.industry[rows]
    band_floor = params["band_floor_revenue"]
    band_mean = lambda lo, hi: band_floor * (band_ratio**hi - band_ratio**lo) / (np.log(band_ratio) * (hi - lo))
    for i, (census, body, body_rows, band_rows, micro_rows) in enumerate(blocks):
        sigma = lomax_scale(mean_revenue[i], counts[i], census, threshold, alpha)
        at = starts[i]
        revenue[at:at + census] = lomax_rank_revenue(np.arange(census, 0, -1), counts[i], threshold, sigma, alpha)
        weight[at:at + census] = 1.0
        at += census
        if body:
            weight[at:at + body_rows] = _strata(revenue[at:at + body_rows], body, 0.0, body / counts[i],
                                                lambda lo, hi: lomax_stratum_mean(lo, hi, threshold, sigma, alpha))
        at += body_rows
        band_row_weight[i] = weight[at:at + band_rows] = _strata(revenue[at:at + band_rows], band_counts[i], 0.0, 1.0, band_mean)
        at += band_rows
        if micro_rows:
            weight[at:at + micro_rows] = _strata(revenue[at:at + micro_rows], micro_counts[i], 0.0, 1.0,
                                                 lambda lo, hi: pareto_stratum_mean(lo, hi, micro_floor, band_floor))
        industry[starts[i]:starts[i + 1]] = i

    firms.alive[rows] = True
    firms.weight[rows] = weight
    firms.revenue[rows] = revenue
    for start in range(0, n, CHUNK):  # the same draws as one call (the generator keeps its spare bits)
        stop = min(start + CHUNK, n)
        firms.age[start:stop] = rng.integers(1, 30, stop - start)
    va_to_revenue = industries["va_to_revenue"]  # value added: revenue x va_to_revenue[industry], computed where used
    _times_by_group(revenue, va_to_revenue, industry, firms.value_added[rows])
    firms.previous_value_added[rows] = firms.value_added[rows]
    above_scale = revenue >= threshold
    # Two scratch columns carry the draws and temporaries from section to section (the 52-million-
    # firm build holds only the arrays it still needs, and fresh memory is slow to come by).
    scratch, other = touch_pages(np.empty(n)), touch_pages(np.empty(n))

    # --- region and ownership class (the region drawn as rng.choice(p=...) draws it: random() in the cdf)
    cdf = np.cumsum(np.asarray(assume["region_shares"]) / sum(assume["region_shares"]))
    cdf /= cdf[-1]
    _searchsorted_right(cdf, rng.random(n, out=scratch), firms.region[rows])
    firm_class = firms.firm_class[rows]
    _firm_classes(revenue, rng.random(n, out=scratch), params["sme_revenue_limit"], params["soe_share_large"],
                  params["soe_share_small"], params["foreign_share"], firm_class)

    # --- segment flags: emerging (SEI) and high-tech, set by value-added fractions per industry
    emerging = firms.emerging[rows]
    emerging[:] = _split_segments(revenue, va_to_revenue, weight, above_scale, starts, industries["sei_fraction"],
                                  rng.random(n, out=scratch), float(assume["max_segment_share_2012"]))
    # Rescale the industries' high-tech fractions (capped at 1) to the documents' 2012 share.
    hightech_fraction = fill_to_target(
        industries["hightech_fraction"], above_va, np.zeros(n_industries, dtype=np.intp),
        np.array([doc["hightech_share"] / 100.0 * above_va.sum()]), cap=1.0,
    )
    # High-tech firms are drawn mostly among emerging ones (the two groups overlap in the statistics).
    hightech_priority = rng.random(n, out=scratch)
    np.subtract(hightech_priority, 0.5, out=hightech_priority, where=emerging)
    hightech = firms.high_tech[rows]
    hightech[:] = _flag_by_value_share(hightech_priority, revenue, va_to_revenue, above_scale, starts, hightech_fraction)

    # --- productivity: lognormal, correlated with size rank, lower for state-owned firms
    size_rank = scratch
    for i in range(n_industries):
        if not _size_rank(revenue, weight, starts[i], starts[i + 1], size_rank):  # more than a few sorted runs
            members = np.arange(starts[i], starts[i + 1])
            order = members[np.argsort(revenue[members], kind="stable")]
            cumulative = np.cumsum(weight[order])
            size_rank[order] = (cumulative - 0.5 * weight[order]) / cumulative[-1]
    rho = params["productivity_size_correlation"]
    capital_intensity = industries["capital_to_revenue"] / industries["va_to_revenue"]
    log_productivity = special.ndtri(size_rank, out=size_rank)
    _log_productivity(log_productivity, rng.standard_normal(n, out=other), rho, np.sqrt(1 - rho**2),
                      params["productivity_dispersion"], 0.5 * np.log(capital_intensity / capital_intensity.mean()), industry,
                      params["soe_productivity_gap"], firm_class, taxonomy.STATE_OWNED)
    employment_target = params["employment_above_scale_2012"] * 1e6
    labour = np.exp(np.negative(log_productivity, out=other), out=other)
    above_rows = np.flatnonzero(above_scale)
    above_va = revenue[above_rows] * va_to_revenue[industry[above_rows]]
    shift = np.log(np.sum(weight[above_rows] * above_va * labour[above_rows]) / employment_target)
    log_productivity += shift
    productivity = np.exp(log_productivity, out=log_productivity)
    firms.productivity[rows] = productivity
    _employment(revenue, va_to_revenue, industry, productivity, firms.employment[rows])
    wage = params["labour_cost_2012"]

    # --- R&D: lognormal propensity around the industry's relative intensity, scaled to 001's 2012 figure
    propensity = rng.standard_normal(n, out=scratch)
    propensity *= params["rd_propensity_dispersion"]
    propensity -= 0.5 * params["rd_propensity_dispersion"] ** 2
    np.exp(propensity, out=propensity)
    _times_by_group(propensity, industries["rd_intensity_weight"], industry, propensity)
    size_factor = np.divide(revenue, threshold, out=other)
    size_factor **= params["rd_intensity_size_elasticity"]
    propensity *= size_factor
    mfg_above = np.flatnonzero(above_scale & manufacturing[industry])  # the only rows the sums take
    sized = weight[mfg_above] * revenue[mfg_above]
    target_rd = doc["rd_intensity_mfg"] / 100.0 * np.sum(sized)
    members, divisors = propensity[mfg_above], []
    for _ in range(20):  # scale to the target; a few firms hit the 30% cap, the rest make up for them
        divisors.append(np.sum(sized * members))
        members = np.minimum(members * target_rd / divisors[-1], MAX_RD_PROPENSITY)
    _scale_and_cap(propensity, target_rd, np.array(divisors), MAX_RD_PROPENSITY)  # each row the same 20 steps
    del mfg_above, sized, members
    firms.rd_propensity[rows] = propensity
    rd = np.multiply(propensity, revenue, out=propensity)
    firms.rd_spending[rows] = rd
    # 001's 176,000 applications "by industrial enterprises" are NBS's survey of above-scale industrial firms
    patent_yield = doc["invention_patent_apps"] / np.sum(weight[above_rows] * rd[above_rows])
    rd *= patent_yield
    # the stock a flow growing at g keeps under depreciation d: flow / (d + g) (the perpetual-inventory start)
    np.divide(rd, params["patent_depreciation"] + float(assume["patent_stock_growth_2012"]), out=firms.patent_stock[rows])

    # --- digital stages by size class
    sme_shares = np.asarray(assume["digital_stage_shares_sme"], dtype=float)
    other_shares = np.asarray(assume["digital_stage_shares_other"], dtype=float)
    _digital_stages(rng.random(n, out=other), np.cumsum(sme_shares / sme_shares.sum()),
                    np.cumsum(other_shares / other_shares.sum()), firm_class, taxonomy.SME, len(taxonomy.DIGITAL_STAGES) - 1,
                    firms.digital_stage[rows])

    # --- balance sheet; capital level set so the top 500 manufacturers hold 001's 2012 assets
    noise = rng.standard_normal(n, out=other)
    noise *= assume["capital_dispersion"]
    noise -= 0.5 * assume["capital_dispersion"] ** 2
    np.exp(noise, out=noise)
    top, top_weight = top_rows(revenue, weight, manufacturing[industry], TOP_N)
    top_capital = np.sum(revenue[top] * industries["capital_to_revenue"][industry[top]] * noise[top] * top_weight)
    top_cash = assume["cash_to_revenue"] * revenue[top]
    top_receivables = np.array([receivables_of(revenue[t], receivable_days_of(params["receivable_days"], params["overdue_days_sme"],
                                                                               firm_class[t] == taxonomy.SME, 0.0)) for t in top])
    top_other = np.sum((top_cash + top_receivables) * top_weight)
    capital_by_industry = _balance_sheet(
        revenue, weight, noise, industry, industries["capital_to_revenue"], (doc["top500_assets"] * 1e6 - top_other) / top_capital,
        assume["debt_to_capital"], assume["cash_to_revenue"], params["receivable_days"], params["overdue_days_sme"],
        firm_class, taxonomy.SME, n_industries, firms.capital[rows], firms.debt[rows], firms.cash[rows], firms.receivables[rows],
    )

    # --- energy and carbon: industry weights scaled to industry's 2012 totals
    intensity = rng.standard_normal(n, out=scratch)
    intensity *= assume["energy_dispersion"]
    intensity -= 0.5 * assume["energy_dispersion"] ** 2
    np.exp(intensity, out=intensity)
    _times_by_group(intensity, industries["energy_intensity_weight"], industry, intensity)
    energy = _energy(weight, revenue, va_to_revenue, industry, intensity, None, other)  # weight x va x intensity
    intensity *= assume["industry_energy_2012"] * 1e6 / np.sum(energy)
    firms.energy_intensity[rows] = intensity
    energy = _energy(weight, revenue, va_to_revenue, industry, intensity, firms.energy_use[rows], other)
    energy_total = np.sum(energy)
    co2 = industries["co2_per_tce"]
    carbon = co2 * (assume["industry_co2_2012"] / assume["industry_energy_2012"] * energy_total
                    / np.sum(_times_by_group(energy, co2, industry, energy)))
    _fill_by_group(carbon, industry, firms.carbon_intensity[rows])

    # --- market shares within each market (industry x segment), per real firm
    sized = np.multiply(weight, revenue, out=other)
    revenue_by_industry = _market_shares(revenue, sized, industry, emerging, n_industries, firms.market_share[rows])

    # --- exports: orientation by class and firm; totals by industry group and for high-tech firms
    orientation = rng.standard_normal(n, out=scratch)
    orientation *= assume["export_dispersion"]
    orientation -= 0.5 * assume["export_dispersion"] ** 2
    np.exp(orientation, out=orientation)
    _orientation(orientation, industries["export_propensity"], industry, np.asarray(assume["export_class_multiplier"]), firm_class)
    firms.export_propensity[rows] = orientation
    export_target = _export_targets(industries, doc)
    hightech_rows = np.flatnonzero(hightech)
    hightech_sized = sized[hightech_rows]
    raw = revenue  # revenue is no longer needed; off the high-tech rows, orientation x (1 + boost x 0) = orientation
    raw[:] = orientation
    gaps, floor = {}, None  # gaps by boost (brentq evaluates the bracket's ends again); fill_caps' floor

    def hightech_gap(boost: float) -> float:
        nonlocal floor
        if boost not in gaps:
            _export_raw(orientation, hightech_rows, boost, raw)
            capped, factor = fill_caps(raw, sized, industry, export_target, cap=0.95, floor=floor)
            floor = fill_floor(factor, 0.95)
            shares = fill_shares_at(raw, industry, capped, factor, 0.95, hightech_rows)
            gaps[boost] = np.sum(hightech_sized * shares) - doc["hightech_exports"] * 1e6
        return gaps[boost]

    boost = optimize.brentq(hightech_gap, -0.99, 50.0) if hightech_gap(-0.99) < 0 < hightech_gap(50.0) else 0.0
    _export_raw(orientation, hightech_rows, boost, raw)
    firms.export_share[rows] = fill_to_target(raw, sized, industry, export_target, cap=0.95, out=scratch, floor=floor)
    del hightech_rows, hightech_sized, raw, revenue

    calibration = Calibration2012(
        wage=float(wage),
        patent_yield=float(patent_yield),
        world_mfg_va=doc["manufacturing_va"] / (doc["world_mfg_share"] / 100.0),
        tail_exponent=alpha,
        above_scale_va_growth=float(assume["above_scale_va_growth_2012"]),
        industrial_ppi=float(assume["industrial_ppi_2012"]),
        entrant_row_weight=band_row_weight,
        entrant_floor_revenue=micro_floor if coverage == "all_enterprises" else params["band_floor_revenue"],
        capital_to_revenue=capital_by_industry / revenue_by_industry,
    )
    return firms, calibration


def _split_segments(revenue, va_to_revenue, weight, above_scale, starts, fraction, uniform_draw, max_share) -> np.ndarray:
    """Flag each industry's strategic-emerging firms so that they hold `fraction` of its above-scale
    value added at every size: walking down the firms by size, a firm is flagged with probability
    (the value added the segment is owed so far) / (its row's value added), clipped to [0, 1], so the
    flagged value added tracks fraction x the cumulative value added (a dithered proportional
    allocation; the size distribution of each segment is the industry's). A firm whose value added
    exceeds `max_share` of one segment's total goes to the other (the larger one if both). Firms
    below the threshold are flagged with probability `fraction`. Industry i's rows: starts[i]:starts[i + 1],
    their value added revenue x va_to_revenue[i]."""
    flags = np.empty(revenue.size, dtype=bool)
    for i in range(fraction.size):
        block = slice(starts[i], starts[i + 1])
        flags[block] = uniform_draw[block] < fraction[i]
        members = starts[i] + np.flatnonzero(above_scale[block])
        if members.size == 0 or fraction[i] <= 0.0 or fraction[i] >= 1.0:
            flags[members] = fraction[i] >= 1.0
            continue
        va = revenue[members] * va_to_revenue[i]
        by_size = np.argsort(-va, kind="stable")
        order = members[by_size]
        flags[order] = _dithered_allocation(va[by_size], weight[order].astype(np.float64), uniform_draw[order], fraction[i],
                                            max_share)
    return flags


@njit(cache=True)
def _dithered_allocation(va, weight, uniform_draw, fraction, max_share):
    """_split_segments for one industry, rows in descending order of value added."""
    total = np.sum(va * weight)
    emerging_cap, conventional_cap = max_share * fraction * total, max_share * (1.0 - fraction) * total
    flags = np.zeros(va.size, dtype=np.bool_)
    cumulative, flagged = 0.0, 0.0
    for j in range(va.size):
        row_va = va[j] * weight[j]
        cumulative += row_va
        if va[j] > emerging_cap and va[j] > conventional_cap:
            flags[j] = fraction >= 0.5
        elif va[j] > emerging_cap:
            flags[j] = False
        elif va[j] > conventional_cap:
            flags[j] = True
        else:
            flags[j] = uniform_draw[j] * row_va < fraction * cumulative - flagged
        if flags[j]:
            flagged += row_va
    return flags


def _flag_by_value_share(priority, revenue, va_to_revenue, above_scale, starts, fraction) -> np.ndarray:
    """Flag firms in order of `priority` until they hold `fraction` of their industry's above-scale VA.

    Only the above-scale rows are sorted: the flags go to the rows that a stable sort of all the
    industry's rows by priority puts before the above-scale row that reaches the fraction."""
    flags = np.zeros(priority.size, dtype=bool)
    for i in range(fraction.size):
        members = starts[i] + np.flatnonzero(above_scale[starts[i]:starts[i + 1]])
        order = members[np.argsort(priority[members], kind="stable")]
        held = np.cumsum(revenue[order] * va_to_revenue[i])
        total = held[-1] if held.size else 0.0
        if total <= 0 or fraction[i] <= 0:
            continue
        cutoff = np.searchsorted(held, fraction[i] * total, side="left")
        if cutoff == held.size:
            flags[starts[i]:starts[i + 1]] = True
        else:
            _flag_ahead(priority, starts[i], starts[i + 1], order[cutoff], fraction[i] >= 1.0, flags)
    return flags


@njit(cache=True)
def _flag_ahead(priority, lo, hi, last, inclusive, flags):
    """Flag the rows lo:hi that a stable sort by priority puts before row `last` (and `last` if inclusive)."""
    cut = priority[last]
    for j in range(lo, hi):
        flags[j] = priority[j] < cut or (priority[j] == cut and (j < last or (inclusive and j == last)))


MAX_RUNS = 8


@njit(cache=True, error_model="numpy")  # x / 0 as numpy has it
def _size_rank(revenue, weight, lo, hi, out):
    """out[lo:hi]: each row's weighted mid-rank in (0, 1) by revenue, in the order of a stable sort,
    when the rows are at most MAX_RUNS ascending runs (merged here); False, nothing written, otherwise."""
    heads = np.empty(MAX_RUNS + 1, dtype=np.int64)
    heads[0], runs = lo, 1
    for j in range(lo, hi):
        if revenue[j] != revenue[j]:
            return False
        if j > lo and revenue[j] < revenue[j - 1]:
            if runs == MAX_RUNS:
                return False
            heads[runs] = j
            runs += 1
    heads[runs] = hi
    position = heads[:runs].copy()
    cumulative, done = 0.0, 0
    while done < hi - lo:
        best = -1
        for r in range(runs):
            if position[r] < heads[r + 1] and (best < 0 or revenue[position[r]] < revenue[position[best]]):
                best = r
        i = position[best]
        cumulative += weight[i]
        out[i] = cumulative
        # the run's rows below the other runs' heads follow at once
        bound = np.inf
        for r in range(runs):
            if r != best and position[r] < heads[r + 1]:
                bound = min(bound, revenue[position[r]])
        i += 1
        while i < heads[best + 1] and revenue[i] < bound:
            cumulative += weight[i]
            out[i] = cumulative
            i += 1
        done += i - position[best]
        position[best] = i
    for j in range(lo, hi):
        out[j] = (out[j] - 0.5 * weight[j]) / cumulative
    return True


@njit(cache=True)
def _times_by_group(values, by_group, group, out):
    for i in range(values.size):
        out[i] = values[i] * by_group[group[i]]
    return out


@njit(cache=True)
def _employment(revenue, va_to_revenue, industry, productivity, out):
    for i in range(revenue.size):
        out[i] = revenue[i] * va_to_revenue[industry[i]] / productivity[i]


@njit(cache=True)
def _energy(weight, revenue, va_to_revenue, industry, intensity, energy_use, out):
    """out = weight x va x intensity; energy_use = intensity x va unless None."""
    for i in range(revenue.size):
        va = revenue[i] * va_to_revenue[industry[i]]
        out[i] = weight[i] * va * intensity[i]
        if energy_use is not None:
            energy_use[i] = intensity[i] * va
    return out


@njit(cache=True)
def _fill_by_group(by_group, group, out):
    for i in range(group.size):
        out[i] = by_group[group[i]]


@njit(cache=True)
def _count_at_most(cdf, u):
    """np.searchsorted(cdf, u, side="right") for an ascending cdf."""
    k = 0
    while k < cdf.size and cdf[k] <= u:
        k += 1
    return k


@njit(cache=True)
def _searchsorted_right(cdf, u, out):
    for i in range(u.size):
        out[i] = _count_at_most(cdf, u[i])


@njit(cache=True)
def _firm_classes(revenue, u, sme_limit, soe_share_large, soe_share_small, foreign_share, out):
    for i in range(revenue.size):
        large = revenue[i] >= sme_limit
        soe_share = soe_share_large if large else soe_share_small
        firm_class = taxonomy.LARGE_PRIVATE if large else taxonomy.SME
        if u[i] < soe_share + foreign_share:
            firm_class = taxonomy.FOREIGN_FUNDED
        if u[i] < soe_share:
            firm_class = taxonomy.STATE_OWNED
        out[i] = firm_class


@njit(cache=True)
def _log_productivity(normal_rank, draws, rho, rest, dispersion, by_industry, industry, soe_gap, firm_class, state_owned):
    """In place of normal_rank: dispersion (rho normal_rank + rest draws) + by_industry, less soe_gap if state-owned."""
    for i in range(normal_rank.size):
        z = rho * normal_rank[i] + rest * draws[i]
        log_productivity = dispersion * z + by_industry[industry[i]]
        normal_rank[i] = log_productivity - soe_gap * (1.0 if firm_class[i] == state_owned else 0.0)


@njit(cache=True, error_model="numpy")  # x / 0 as numpy has it
def _scale_and_cap(propensity, target, divisors, cap):
    """propensity = min(propensity * target / divisor, cap) for each divisor in turn, block by block."""
    for start in range(0, propensity.size, 4096):
        stop = min(start + 4096, propensity.size)
        for d in divisors:
            for i in range(start, stop):
                scaled = propensity[i] * target / d
                propensity[i] = cap if scaled > cap else scaled


@njit(cache=True)
def _digital_stages(u, cdf_sme, cdf_other, firm_class, sme, last, out):
    for i in range(u.size):
        out[i] = min(_count_at_most(cdf_sme if firm_class[i] == sme else cdf_other, u[i]), last)


@njit(cache=True)
def _balance_sheet(revenue, weight, noise, industry, capital_to_revenue, level, debt_to_capital, cash_to_revenue,
                   receivable_days, overdue_days_sme, firm_class, sme, groups, capital, debt, cash, receivables):
    """The balance-sheet columns; returns the capital by industry (weighted)."""
    by_industry = np.zeros(groups)
    for i in range(revenue.size):
        row_capital = revenue[i] * capital_to_revenue[industry[i]] * noise[i]
        row_capital = row_capital * level
        capital[i] = row_capital
        debt[i] = debt_to_capital * row_capital
        cash[i] = cash_to_revenue * revenue[i]
        receivables[i] = receivables_of(revenue[i], receivable_days_of(receivable_days, overdue_days_sme, firm_class[i] == sme, 0.0))
        by_industry[industry[i]] += weight[i] * row_capital
    return by_industry


@njit(cache=True)
def _orientation(noise, export_propensity, industry, class_multiplier, firm_class):
    for i in range(noise.size):
        noise[i] = export_propensity[industry[i]] * class_multiplier[firm_class[i]] * noise[i]


@njit(cache=True)
def _export_raw(orientation, hightech_rows, boost, out):
    """out = orientation x (1 + boost x high_tech) on the high-tech rows."""
    for i in hightech_rows:
        out[i] = orientation[i] * (1.0 + boost * 1.0)


@njit(cache=True, error_model="numpy")  # x / 0 as numpy has it
def _market_shares(revenue, sized, industry, emerging, groups, out):
    """Market shares (industry x segment) per real firm into out; returns the revenue by industry (weighted)."""
    by_market, by_industry = np.zeros(taxonomy.N_SEGMENTS * groups), np.zeros(groups)
    for i in range(revenue.size):
        by_market[taxonomy.market_index(industry[i], emerging[i])] += sized[i]
        by_industry[industry[i]] += sized[i]
    for i in range(revenue.size):
        out[i] = revenue[i] / by_market[taxonomy.market_index(industry[i], emerging[i])]
    return by_industry


def _export_targets(industries, doc) -> np.ndarray:
    """2012 exports by industry (M RMB): electromechanical total on equipment industries, rest on others."""
    weights = industries["export_weight"].astype(float)
    equipment = industries["equipment"]
    target = np.zeros(weights.size)
    target[equipment] = doc["electromechanical_exports"] * weights[equipment] / weights[equipment].sum()
    target[~equipment] = (doc["exports"] - doc["electromechanical_exports"]) * weights[~equipment] / weights[~equipment].sum()
    return target * 1e6
