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
from sim.randomness import stream
from sim.rules.innovation import MAX_RD_PROPENSITY
from sim.weighted import fill_to_target, top_rows

TOP_N = 500  # "the top 500 Chinese manufacturing enterprises" (001 II (iv))


@dataclass(frozen=True)
class Calibration2012:
    """Scalars the builder derives from the 2012 figures; the model needs them later."""

    wage: float  # M RMB per person per year
    patent_yield: float  # invention patent applications per M RMB of R&D
    world_mfg_va: float  # trillion RMB
    tail_exponent: float
    above_scale_va_growth: float  # % real, reported for 2012
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


def _strata(count_real: int, rows: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Quantile bounds of `rows` equal strata over [lo, hi) standing for `count_real` firms, and the row weight."""
    edges = lo + (hi - lo) * np.arange(rows + 1) / rows
    return edges[:-1], edges[1:], count_real / rows


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

    # --- rows: census of the largest, stratified sample of the rest, the below-threshold band
    revenue, weight, industry, band_row_weight = [], [], [], np.ones(n_industries)
    band_ratio = threshold / params["band_floor_revenue"]
    if coverage not in COVERAGES:
        raise ValueError(f"coverage must be one of {COVERAGES}, got {coverage!r}")
    micro_counts = micro_firm_counts(counts + band_counts) if coverage == "all_enterprises" else np.zeros(n_industries, dtype=np.int64)
    micro_floor = float(assume["micro_floor_revenue"])
    for i in range(n_industries):
        census = census_count(counts[i], params["census_share"])
        sigma = lomax_scale(mean_revenue[i], counts[i], census, threshold, alpha)
        body = counts[i] - census
        body_rows = max(1, int(round(body * scale))) if body else 0
        lo, hi, body_weight = _strata(body, body_rows, 0.0, body / counts[i]) if body else (np.empty(0), np.empty(0), 1.0)
        above = np.concatenate([lomax_rank_revenue(np.arange(census, 0, -1), counts[i], threshold, sigma, alpha),
                                lomax_stratum_mean(lo, hi, threshold, sigma, alpha)])
        band_rows = max(1, int(round(band_counts[i] * scale)))
        lo, hi, band_weight = _strata(band_counts[i], band_rows, 0.0, 1.0)
        band_row_weight[i] = band_weight
        band = params["band_floor_revenue"] * (band_ratio**hi - band_ratio**lo) / (np.log(band_ratio) * (hi - lo))
        revenue += [above, band]
        weight += [np.ones(census), np.full(body_rows, body_weight), np.full(band_rows, band_weight)]
        industry.append(np.full(census + body_rows + band_rows, i))
        if micro_counts[i] > 0:
            micro_rows = max(1, int(round(micro_counts[i] * scale)))
            lo, hi, micro_weight = _strata(micro_counts[i], micro_rows, 0.0, 1.0)
            revenue.append(pareto_stratum_mean(lo, hi, micro_floor, params["band_floor_revenue"]))
            weight.append(np.full(micro_rows, micro_weight))
            industry.append(np.full(micro_rows, i))
    revenue = np.concatenate(revenue)
    weight = np.concatenate(weight)
    industry = np.concatenate(industry)
    n = revenue.size

    firms = Firms.empty(int(n * 1.05) + 64)
    rows = slice(0, n)
    firms.alive[rows] = True
    firms.weight[rows] = weight
    firms.industry[rows] = industry
    firms.revenue[rows] = revenue
    firms.age[rows] = rng.integers(1, 30, n)
    va = revenue * industries["va_to_revenue"][industry]
    firms.value_added[rows] = va
    firms.previous_value_added[rows] = va
    above_scale = revenue >= threshold

    # --- region and ownership class
    firms.region[rows] = rng.choice(len(taxonomy.REGIONS), n, p=np.asarray(assume["region_shares"]) / sum(assume["region_shares"]))
    large = revenue >= params["sme_revenue_limit"]
    u = rng.random(n)
    soe_share = np.where(large, params["soe_share_large"], params["soe_share_small"])
    firm_class = np.where(large, taxonomy.LARGE_PRIVATE, taxonomy.SME)
    firm_class = np.where(u < soe_share + params["foreign_share"], taxonomy.FOREIGN_FUNDED, firm_class)
    firm_class = np.where(u < soe_share, taxonomy.STATE_OWNED, firm_class)
    firms.firm_class[rows] = firm_class
    del large, u, soe_share  # the 52-million-firm build holds only the arrays it still needs

    # --- segment flags: emerging (SEI) and high-tech, set by value-added fractions per industry
    firms.emerging[rows] = _split_segments(va, weight, above_scale, industry, industries["sei_fraction"], rng.random(n),
                                           float(assume["max_segment_share_2012"]))
    # Rescale the industries' high-tech fractions (capped at 1) to the documents' 2012 share.
    hightech_fraction = fill_to_target(
        industries["hightech_fraction"], above_va, np.zeros(n_industries, dtype=np.intp),
        np.array([doc["hightech_share"] / 100.0 * above_va.sum()]), cap=1.0,
    )
    # High-tech firms are drawn mostly among emerging ones (the two groups overlap in the statistics).
    hightech_priority = rng.random(n) - 0.5 * firms.emerging[rows]
    firms.high_tech[rows] = _flag_by_value_share(hightech_priority, va, above_scale, industry, hightech_fraction)
    del hightech_priority

    # --- productivity: lognormal, correlated with size rank, lower for state-owned firms
    size_rank = np.empty(n)
    for i in range(n_industries):
        members = np.flatnonzero(industry == i)
        order = members[np.argsort(revenue[members], kind="stable")]
        cumulative = np.cumsum(weight[order])
        size_rank[order] = (cumulative - 0.5 * weight[order]) / cumulative[-1]
    rho = params["productivity_size_correlation"]
    z = rho * special.ndtri(size_rank) + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    del size_rank
    capital_intensity = industries["capital_to_revenue"] / industries["va_to_revenue"]
    log_productivity = params["productivity_dispersion"] * z + 0.5 * np.log(capital_intensity / capital_intensity.mean())[industry]
    log_productivity -= params["soe_productivity_gap"] * (firm_class == taxonomy.STATE_OWNED)
    del z
    employment_target = params["employment_above_scale_2012"] * 1e6
    shift = np.log(np.sum((weight * va * np.exp(-log_productivity))[above_scale]) / employment_target)
    productivity = np.exp(log_productivity + shift)
    del log_productivity
    firms.productivity[rows] = productivity
    firms.employment[rows] = va / productivity
    del productivity
    wage = params["labour_cost_2012"]

    # --- R&D: lognormal propensity around the industry's relative intensity, scaled to 001's 2012 figure
    propensity = industries["rd_intensity_weight"][industry] * np.exp(
        params["rd_propensity_dispersion"] * rng.standard_normal(n) - 0.5 * params["rd_propensity_dispersion"] ** 2
    ) * (revenue / threshold) ** params["rd_intensity_size_elasticity"]
    mfg_above = above_scale & manufacturing[industry]
    target_rd = doc["rd_intensity_mfg"] / 100.0 * np.sum((weight * revenue)[mfg_above])
    for _ in range(20):  # scale to the target; a few firms hit the 30% cap, the rest make up for them
        propensity = np.minimum(propensity * target_rd / np.sum((weight * revenue * propensity)[mfg_above]), MAX_RD_PROPENSITY)
    firms.rd_propensity[rows] = propensity
    rd = propensity * revenue
    firms.rd_spending[rows] = rd
    # 001's 176,000 applications "by industrial enterprises" are NBS's survey of above-scale industrial firms
    patent_yield = doc["invention_patent_apps"] / np.sum((weight * rd)[above_scale])
    firms.patent_stock[rows] = patent_yield * rd / params["patent_depreciation"]
    del propensity, rd

    # --- digital stages by size class
    sme_shares = np.asarray(assume["digital_stage_shares_sme"], dtype=float)
    other_shares = np.asarray(assume["digital_stage_shares_other"], dtype=float)
    u = rng.random(n)
    stage_sme = np.searchsorted(np.cumsum(sme_shares / sme_shares.sum()), u, side="right")
    stage_other = np.searchsorted(np.cumsum(other_shares / other_shares.sum()), u, side="right")
    firms.digital_stage[rows] = np.minimum(np.where(firm_class == taxonomy.SME, stage_sme, stage_other), len(taxonomy.DIGITAL_STAGES) - 1)
    del u, stage_sme, stage_other

    # --- balance sheet; capital level set so the top 500 manufacturers hold 001's 2012 assets
    capital = revenue * industries["capital_to_revenue"][industry] * np.exp(
        assume["capital_dispersion"] * rng.standard_normal(n) - 0.5 * assume["capital_dispersion"] ** 2
    )
    cash = assume["cash_to_revenue"] * revenue
    receivable_days = params["receivable_days"] + params["overdue_days_sme"] * (firm_class == taxonomy.SME)
    receivables = revenue * receivable_days / 365.0
    top = top_rows(revenue, weight, manufacturing[industry], TOP_N)
    top_weight = top[1]
    top_capital = np.sum(capital[top[0]] * top_weight)
    top_other = np.sum((cash + receivables)[top[0]] * top_weight)
    capital *= (doc["top500_assets"] * 1e6 - top_other) / top_capital
    firms.capital[rows] = capital
    firms.cash[rows] = cash
    firms.receivables[rows] = receivables
    firms.debt[rows] = assume["debt_to_capital"] * capital
    del cash, receivable_days, receivables

    # --- energy and carbon: industry weights scaled to industry's 2012 totals
    noise = np.exp(assume["energy_dispersion"] * rng.standard_normal(n) - 0.5 * assume["energy_dispersion"] ** 2)
    intensity = industries["energy_intensity_weight"][industry] * noise
    intensity *= assume["industry_energy_2012"] * 1e6 / np.sum(weight * va * intensity)
    firms.energy_intensity[rows] = intensity
    firms.energy_use[rows] = intensity * va
    carbon = industries["co2_per_tce"][industry] * np.ones(n)
    carbon *= assume["industry_co2_2012"] / assume["industry_energy_2012"] * np.sum(weight * va * intensity) / np.sum(weight * va * intensity * carbon)
    firms.carbon_intensity[rows] = carbon
    del noise, intensity, carbon, va

    # --- exports: orientation by class and firm; totals by industry group and for high-tech firms
    orientation = industries["export_propensity"][industry] * np.asarray(assume["export_class_multiplier"])[firm_class]
    orientation *= np.exp(assume["export_dispersion"] * rng.standard_normal(n) - 0.5 * assume["export_dispersion"] ** 2)
    firms.export_propensity[rows] = orientation
    export_target = _export_targets(industries, doc)
    hightech = firms.high_tech[rows]

    def shares_for(hightech_boost: float) -> np.ndarray:
        raw = orientation * (1.0 + hightech_boost * hightech)
        return fill_to_target(raw, weight * revenue, industry, export_target, cap=0.95)

    hightech_gap = lambda boost: np.sum((weight * revenue * shares_for(boost))[hightech]) - doc["hightech_exports"] * 1e6
    boost = optimize.brentq(hightech_gap, -0.99, 50.0) if hightech_gap(-0.99) < 0 < hightech_gap(50.0) else 0.0
    firms.export_share[rows] = shares_for(boost)
    del orientation, hightech, firm_class

    # --- market shares within each market (industry x segment), per real firm
    market = industry * 2 + firms.emerging[rows]
    market_revenue = np.bincount(market, weights=weight * revenue, minlength=2 * n_industries)
    firms.market_share[rows] = revenue / market_revenue[market]

    calibration = Calibration2012(
        wage=float(wage),
        patent_yield=float(patent_yield),
        world_mfg_va=doc["manufacturing_va"] / (doc["world_mfg_share"] / 100.0),
        tail_exponent=alpha,
        above_scale_va_growth=float(assume["above_scale_va_growth_2012"]),
        entrant_row_weight=band_row_weight,
        entrant_floor_revenue=micro_floor if coverage == "all_enterprises" else params["band_floor_revenue"],
        capital_to_revenue=np.bincount(industry, weights=weight * capital, minlength=n_industries)
        / np.bincount(industry, weights=weight * revenue, minlength=n_industries),
    )
    return firms, calibration


def _split_segments(va, weight, above_scale, industry, fraction, uniform_draw, max_share) -> np.ndarray:
    """Flag each industry's strategic-emerging firms so that they hold `fraction` of its above-scale
    value added at every size: walking down the firms by size, a firm is flagged with probability
    (the value added the segment is owed so far) / (its row's value added), clipped to [0, 1], so the
    flagged value added tracks fraction x the cumulative value added (a dithered proportional
    allocation; the size distribution of each segment is the industry's). A firm whose value added
    exceeds `max_share` of one segment's total goes to the other (the larger one if both). Firms
    below the threshold are flagged with probability `fraction`."""
    flags = uniform_draw < fraction[industry]
    for i in range(fraction.size):
        members = np.flatnonzero((industry == i) & above_scale)
        if members.size == 0 or fraction[i] <= 0.0 or fraction[i] >= 1.0:
            flags[members] = fraction[i] >= 1.0
            continue
        order = members[np.argsort(-va[members], kind="stable")]
        flags[order] = _dithered_allocation(va[order], weight[order].astype(np.float64), uniform_draw[order], fraction[i],
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


def _flag_by_value_share(priority, va, above_scale, industry, fraction) -> np.ndarray:
    """Flag firms in order of `priority` until they hold `fraction` of their industry's above-scale VA."""
    flags = np.zeros(priority.size, dtype=bool)
    for i in range(fraction.size):
        members = np.flatnonzero(industry == i)
        order = members[np.argsort(priority[members], kind="stable")]
        above = above_scale[order]
        held = np.cumsum(np.where(above, va[order], 0.0))
        total = held[-1] if held.size else 0.0
        if total <= 0 or fraction[i] <= 0:
            continue
        cutoff = np.searchsorted(held, fraction[i] * total, side="left")
        flags[order[: cutoff + 1 if fraction[i] >= 1.0 else cutoff]] = True
    return flags


def _export_targets(industries, doc) -> np.ndarray:
    """2012 exports by industry (M RMB): electromechanical total on equipment industries, rest on others."""
    weights = industries["export_weight"].astype(float)
    equipment = industries["equipment"]
    target = np.zeros(weights.size)
    target[equipment] = doc["electromechanical_exports"] * weights[equipment] / weights[equipment].sum()
    target[~equipment] = (doc["exports"] - doc["electromechanical_exports"]) * weights[~equipment] / weights[~equipment].sum()
    return target * 1e6
