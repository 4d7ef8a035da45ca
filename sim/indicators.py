"""National indicators aggregated from firms exactly as the statistics define them.

"Above designated size" is revenue of at least the threshold (RMB 20 million); shares are of
above-scale industrial value added; every total is a weighted sum over firm rows (weight = real
firms per row), summed in float64. The data contract (BRIEF.md) fixes names and units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import taxonomy
from sim.firms import Firms
from sim.levers import LEVER_NAMES
from sim.weighted import top_rows

TRILLION = 1e6  # M RMB per trillion RMB
TOP_N = 500


@dataclass(frozen=True)
class Variable:
    units: str
    long_name: str
    dims: tuple[str, ...] = ()


# Contract variables (BRIEF.md) first, then diagnostics. dims beyond (run, year).
VARIABLES: dict[str, Variable] = {
    "industrial_va": Variable("trillion RMB, current prices", "value added of all industry (mining, manufacturing, utilities)"),
    "manufacturing_va": Variable("trillion RMB, current prices", "value added of manufacturing"),
    "industry_share_gdp": Variable("%", "industrial value added, share of GDP"),
    "manufacturing_share_gdp": Variable("%", "manufacturing value added, share of GDP"),
    "above_scale_va_growth": Variable("% real, year on year", "growth of above-scale industrial value added (same firms, deflated; 2012 is the reported input)"),
    "hightech_share": Variable("%", "high-tech manufacturing, share of above-scale industrial value added"),
    "equipment_share": Variable("%", "equipment manufacturing, share of above-scale industrial value added"),
    "sei_share_gdp": Variable("%", "strategic emerging industries' value added, share of GDP"),
    "world_mfg_share": Variable("%", "share of world manufacturing value added"),
    "rd_spend_mfg": Variable("trillion RMB", "R&D spending of above-scale manufacturing firms"),
    "rd_intensity_mfg": Variable("%", "R&D spending of above-scale manufacturing firms over their revenue"),
    "invention_patent_apps": Variable("count per year", "invention patent applications by industrial firms"),
    "n_above_scale": Variable("count", "above-scale industrial firms (revenue >= RMB 20 million)"),
    "n_srdi": Variable("count", "SRDI SMEs, little giants included (as officially counted)"),
    "n_little_giant": Variable("count", "'little giant' firms"),
    "n_single_champion": Variable("count", "single-item champion firms"),
    "top500_revenue": Variable("trillion RMB", "revenue of the 500 largest manufacturing firms"),
    "top500_assets": Variable("trillion RMB", "assets (capital, cash, receivables) of the 500 largest manufacturing firms"),
    "exports": Variable("trillion RMB", "goods exports"),
    "hightech_exports": Variable("trillion RMB", "exports of high-tech firms"),
    "new_three_exports": Variable("trillion RMB", "exports of new-energy vehicles, lithium batteries and photovoltaic products"),
    "sme_digital_stage_share": Variable("share", "SMEs by digital-transformation stage", ("digital_stage",)),
    "industrial_energy": Variable("Mtce", "energy use of industry"),
    "industrial_co2": Variable("Mt CO2", "CO2 emissions of industry"),
    "employment_mfg": Variable("million persons", "employment of modelled manufacturing firms"),
    "fiscal_cost": Variable("billion RMB", "budget cost of each lever in the year", ("lever",)),
    # diagnostics
    "gdp": Variable("trillion RMB, current prices", "GDP (scenario input)"),
    "electromechanical_exports": Variable("trillion RMB", "exports of equipment industries (electromechanical products)"),
    "n_firms": Variable("count", "modelled firms, below-threshold band included"),
    "n_entries": Variable("count", "firms entering in the year"),
    "n_exits": Variable("count", "firms exiting at the start of the year"),
    "va_by_industry": Variable("trillion RMB, current prices", "value added by industry", ("industry",)),
    "firms_by_class": Variable("count", "above-scale firms by ownership and size class", ("firm_class",)),
    "productivity_90_10": Variable("ratio", "90th over 10th percentile of labour productivity, above-scale manufacturing"),
    "soe_productivity_gap": Variable("log points", "mean log productivity of private minus state-owned above-scale firms"),
}
CONTRACT = tuple(list(VARIABLES)[: list(VARIABLES).index("fiscal_cost") + 1])

COORDINATES = {
    "digital_stage": list(taxonomy.DIGITAL_STAGES),
    "lever": list(LEVER_NAMES),
    "firm_class": list(taxonomy.FIRM_CLASSES),
}


@dataclass(frozen=True)
class YearContext:
    """What aggregation needs besides the firms."""

    year: int
    gdp: float  # trillion RMB
    world_mfg_va: float  # trillion RMB
    price_index: float  # industrial deflator, 2012 = 1
    price_change: float  # this year's deflator over last year's
    patent_applications: float
    threshold: float  # M RMB
    sei_industrial_fraction: float
    growth_input: float | None  # % real, for the first year only
    entries: float
    exits: float
    fiscal_cost: np.ndarray  # billion RMB by lever


# Bits of the category code every firm gets each year; one bincount per weighted quantity then gives
# its sum over every combination of categories.
ABOVE, MANUFACTURING, HIGH_TECH, EQUIPMENT, EMERGING, NEW_THREE, STATE_OWNED, PRIVATE = (1 << k for k in range(8))
N_CODES = 1 << 8
CODES = np.arange(N_CODES)


def over(sums: np.ndarray, *bits: int) -> float:
    """Sum over all codes that have every one of `bits`."""
    mask = np.bitwise_or.reduce(bits) if bits else 0
    return float(sums[(CODES & mask) == mask].sum())


def histogram_percentile(log_values, weights, q, bins=4096) -> float:
    """Weighted percentile from a fine histogram (O(n), within one bin width of the exact value)."""
    if log_values.size == 0:
        return float("nan")
    low, high = float(log_values.min()), float(log_values.max()) + 1e-9
    counts, edges = np.histogram(log_values, bins=bins, range=(low, high), weights=weights)
    cumulative = np.cumsum(counts)
    index = min(int(np.searchsorted(cumulative, q * cumulative[-1])), bins - 1)
    return float(0.5 * (edges[index] + edges[index + 1]))


def measure(firms: Firms, context: YearContext, manufacturing: np.ndarray, equipment: np.ndarray,
            new_energy_industry: int, n_industries: int) -> dict[str, float | np.ndarray]:
    """Every indicator of the year from the firm columns."""
    alive = firms.alive
    weight = np.where(alive, firms.weight, np.float32(0.0))
    revenue = firms.revenue
    industry = firms.industry
    firm_class = firms.firm_class
    above = alive & (revenue >= context.threshold)
    code = (
        above * ABOVE
        + manufacturing[industry] * MANUFACTURING
        + firms.high_tech * HIGH_TECH
        + equipment[industry] * EQUIPMENT
        + firms.emerging * EMERGING
        + (industry == new_energy_industry) * NEW_THREE
        + (firm_class == taxonomy.STATE_OWNED) * STATE_OWNED
        + ((firm_class == taxonomy.LARGE_PRIVATE) | (firm_class == taxonomy.SME)) * PRIVATE
    ).astype(np.intp)

    def sums(values) -> np.ndarray:
        return np.bincount(code, weights=values, minlength=N_CODES)

    wva = weight * firms.value_added
    va = sums(wva)
    counts = sums(weight)
    exports = sums(weight * revenue * firms.export_share)
    energy = weight * firms.energy_intensity * firms.value_added / np.float32(context.price_index)
    energy_sums = sums(energy)
    co2 = sums(energy * firms.carbon_intensity)
    rd = sums(weight * firms.rd_spending)
    sales = sums(weight * revenue)
    workers = sums(weight * firms.employment)

    industrial_va = va.sum() / TRILLION
    manufacturing_va = over(va, MANUFACTURING) / TRILLION
    above_va = over(va, ABOVE)
    if context.growth_input is not None:
        growth = context.growth_input
    else:
        panel = above & (firms.age > 0)
        previous = np.sum(np.where(panel, weight * firms.previous_value_added, np.float32(0.0)), dtype=np.float64)
        nominal = np.sum(np.where(panel, wva, np.float32(0.0)), dtype=np.float64) / previous
        growth = 100.0 * (nominal / context.price_change - 1.0)
    rd_mfg = over(rd, ABOVE, MANUFACTURING)
    is_sme = alive & (firm_class == taxonomy.SME)
    stage_counts = np.bincount(firms.digital_stage[is_sme], weights=weight[is_sme], minlength=len(taxonomy.DIGITAL_STAGES))
    rows, counted = top_rows(revenue, weight, alive & manufacturing[industry], TOP_N)
    assets = firms.capital[rows].astype(np.float64) + firms.cash[rows] + firms.receivables[rows]
    rung = np.where(alive, firms.ladder_rung, 255)
    rung_counts = np.bincount(rung, weights=weight, minlength=256)
    log_productivity = np.log(firms.productivity)
    mfg_above = np.flatnonzero(above & manufacturing[industry])
    state = np.flatnonzero(above & (firm_class == taxonomy.STATE_OWNED))
    private = np.flatnonzero(above & ((firm_class == taxonomy.LARGE_PRIVATE) | (firm_class == taxonomy.SME)))
    return {
        "industrial_va": industrial_va,
        "manufacturing_va": manufacturing_va,
        "industry_share_gdp": 100.0 * industrial_va / context.gdp,
        "manufacturing_share_gdp": 100.0 * manufacturing_va / context.gdp,
        "above_scale_va_growth": float(growth),
        "hightech_share": 100.0 * over(va, ABOVE, HIGH_TECH) / above_va,
        "equipment_share": 100.0 * over(va, ABOVE, EQUIPMENT) / above_va,
        "sei_share_gdp": 100.0 * over(va, EMERGING) / TRILLION / context.sei_industrial_fraction / context.gdp,
        "world_mfg_share": 100.0 * manufacturing_va / context.world_mfg_va,
        "rd_spend_mfg": rd_mfg / TRILLION,
        "rd_intensity_mfg": 100.0 * rd_mfg / over(sales, ABOVE, MANUFACTURING),
        "invention_patent_apps": float(context.patent_applications),
        "n_above_scale": over(counts, ABOVE),
        "n_srdi": float(rung_counts[taxonomy.RUNG_SRDI] + rung_counts[taxonomy.RUNG_LITTLE_GIANT]),
        "n_little_giant": float(rung_counts[taxonomy.RUNG_LITTLE_GIANT]),
        "n_single_champion": float(rung_counts[taxonomy.RUNG_CHAMPION]),
        "top500_revenue": float(np.sum(revenue[rows] * counted)) / TRILLION,
        "top500_assets": float(np.sum(assets * counted)) / TRILLION,
        "exports": exports.sum() / TRILLION,
        "hightech_exports": over(exports, HIGH_TECH) / TRILLION,
        "new_three_exports": over(exports, NEW_THREE) / TRILLION,
        "sme_digital_stage_share": stage_counts / max(stage_counts.sum(), 1e-300),
        "industrial_energy": energy_sums.sum() / 1e6,
        "industrial_co2": co2.sum() / 1e6,
        "employment_mfg": over(workers, MANUFACTURING) / 1e6,
        "fiscal_cost": context.fiscal_cost,
        "gdp": context.gdp,
        "electromechanical_exports": over(exports, EQUIPMENT) / TRILLION,
        "n_firms": counts.sum(),
        "n_entries": context.entries,
        "n_exits": context.exits,
        "va_by_industry": np.bincount(industry, weights=wva, minlength=n_industries) / TRILLION,
        "firms_by_class": np.bincount(firm_class[above], weights=weight[above], minlength=len(taxonomy.FIRM_CLASSES)),
        "productivity_90_10": float(np.exp(
            histogram_percentile(log_productivity[mfg_above], weight[mfg_above], 0.9)
            - histogram_percentile(log_productivity[mfg_above], weight[mfg_above], 0.1)
        )),
        "soe_productivity_gap": float(
            np.average(log_productivity[private], weights=weight[private]) - np.average(log_productivity[state], weights=weight[state])
        ),
    }
