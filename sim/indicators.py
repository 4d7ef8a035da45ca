"""National indicators aggregated from firms exactly as the statistics define them.

"Above designated size" is revenue of at least the threshold (RMB 20 million); shares are of
above-scale industrial value added; every total is a weighted sum over firm rows (weight = real
firms per row), summed in float64. The data contract (BRIEF.md) fixes names and units.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np
from numba import njit

from sim import taxonomy
from sim.firms import Firms
from sim.levers import LEVER_NAMES
from sim.parallel import CHUNK_ROWS, partial_sums, run_chunks
from sim.weighted import largest_candidates, top_of

TRILLION = 1e6  # M RMB per trillion RMB
N_STAGES, N_RUNGS, N_CLASSES = len(taxonomy.DIGITAL_STAGES), len(taxonomy.LADDER_RUNGS), len(taxonomy.FIRM_CLASSES)
SOE_CODE, LARGE_PRIVATE_CODE, SME_CODE = taxonomy.STATE_OWNED, taxonomy.LARGE_PRIVATE, taxonomy.SME
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
    "above_scale_va_growth": Variable("% real, year on year", "volume growth of above-scale industrial value added (same firms, each deflated by its market's value-added price; 2012 is the reported input)"),
    "hightech_share": Variable("%", "high-tech manufacturing, share of above-scale industrial value added"),
    "equipment_share": Variable("%", "equipment manufacturing, share of above-scale industrial value added"),
    "sei_share_gdp": Variable("%", "strategic emerging industries' value added, share of GDP"),
    "world_mfg_share": Variable("%", "share of world manufacturing value added"),
    "rd_spend_mfg": Variable("trillion RMB", "R&D spending of above-scale manufacturing firms"),
    "rd_intensity_mfg": Variable("%", "R&D spending of above-scale manufacturing firms over their revenue"),
    "invention_patent_apps": Variable("count per year", "invention patent applications by above-scale industrial firms"),
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
    "industrial_ppi": Variable("% year on year", "industrial producer-price index: revenue-weighted change of the markets' output prices (2012 is the reported input)"),
    "investment": Variable("trillion RMB", "investment of industrial firms in the year (2012: the replacement of depreciation)"),
    "capacity_utilization": Variable("%", "industrial capacity utilisation: revenue over capacity, capacity = capital / (capital per unit of revenue at normal utilisation x normal utilisation)"),
    "fiscal_cost": Variable("billion RMB", "budget cost of each lever in the year", ("lever",)),
    # diagnostics
    "gdp": Variable("trillion RMB, current prices", "GDP: the rest of the economy (scenario path) plus industry's value added"),
    "gdp_real_growth": Variable("% real, year on year", "growth of real GDP (2012 is NaN: no earlier year)"),
    "labour_productivity": Variable("thousand RMB of 2012 per person", "industrial value added in 2012 prices per worker of the modelled firms"),
    "investment_by_industry": Variable("trillion RMB", "investment of firms by industry (2012: the replacement of depreciation)", ("industry",)),
    "real_va_by_industry": Variable("trillion RMB of 2012", "value added by industry in 2012 prices", ("industry",)),
    "energy_by_industry": Variable("Mtce", "energy use by industry", ("industry",)),
    "industrial_va_real": Variable("trillion RMB of 2012", "value added of all industry in 2012 prices (each market's value added over its value-added price)"),
    "electromechanical_exports": Variable("trillion RMB", "exports of equipment industries (electromechanical products)"),
    "n_firms": Variable("count", "modelled firms, below-threshold band included"),
    "n_entries": Variable("count", "firms entering in the year"),
    "n_exits": Variable("count", "firms exiting at the start of the year"),
    "va_by_industry": Variable("trillion RMB, current prices", "value added by industry", ("industry",)),
    "firms_by_class": Variable("count", "above-scale firms by ownership and size class", ("firm_class",)),
    "productivity_90_10": Variable("ratio", "90th over 10th percentile of labour productivity, above-scale manufacturing"),
    "soe_productivity_gap": Variable("log points", "mean log productivity of private minus state-owned above-scale firms"),
    "labour_productivity_by_class": Variable("thousand RMB of 2012 per person", "value added in 2012 prices per worker of all modelled firms of each ownership and size class", ("firm_class",)),
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
    rest_of_world_mfg_va: float  # trillion RMB: world manufacturing value added outside China
    va_price: np.ndarray  # by market: this year's price of value added, 2012 = 1
    va_price_before: np.ndarray  # by market: last year's
    ppi: float  # % change of industrial producer prices
    investment: float  # trillion RMB
    utilization: float  # %
    real_gdp_growth: float  # %
    industrial_va_real: float  # trillion RMB of 2012
    labour_productivity: float  # thousand RMB of 2012 per person
    investment_by_industry: np.ndarray  # trillion RMB
    real_va_by_industry: np.ndarray  # trillion RMB of 2012
    energy_by_industry: np.ndarray  # Mtce
    patent_applications: float
    threshold: float  # M RMB
    sei_industrial_fraction: float
    growth_input: float | None  # % real, for the first year only
    entries: float
    exits: float
    fiscal_cost: np.ndarray  # billion RMB by lever


# Bits of the category code of a firm; sums by code then give totals over any combination.
ABOVE, MANUFACTURING, HIGH_TECH, EQUIPMENT, EMERGING, NEW_THREE, STATE_OWNED, PRIVATE = (1 << k for k in range(8))
N_CODES = 1 << 8
CODES = np.arange(N_CODES)
# Quantities summed by code (columns of the table `accumulate` returns).
Q_FIRMS, Q_VA, Q_EXPORTS, Q_ENERGY, Q_CO2, Q_RD, Q_REVENUE, Q_WORKERS, Q_PANEL_VA, Q_PANEL_PREVIOUS, Q_LOG_PRODUCTIVITY = range(11)
N_QUANTITIES = 11
# Histogram of log productivity (M RMB per person) of above-scale manufacturers, for percentiles.
LOG_PRODUCTIVITY_RANGE = (-12.0, 8.0)
HISTOGRAM_BINS = 16384
ACCUMULATE_CHUNK_ROWS = 8 * CHUNK_ROWS  # long chunks: each chunk's sums (the histogram above all) are added up after


@njit(cache=True, nogil=True)
def accumulate_rows(start, stop, chunk, alive, weight, revenue, value_added, previous_value_added, export_share, energy_intensity,
                    carbon_intensity, rd_spending, employment, productivity, firm_class, industry, high_tech, emerging, age,
                    digital_stage, ladder_rung, manufacturing, equipment, new_energy_industry, threshold, market_of, va_price,
                    va_price_before, tables, all_stages, all_rungs, all_classes, all_va_by_industry, histograms, all_class_output):
    """Rows [start, stop) of `accumulate`, into row `chunk` of each output (kept local and written
    once at the end, so that the threads do not share cache lines)."""
    table = np.zeros(tables.shape[1:])
    stages = np.zeros(all_stages.shape[1])
    rungs = np.zeros(all_rungs.shape[1])
    classes = np.zeros(all_classes.shape[1])
    va_by_industry = np.zeros(all_va_by_industry.shape[1])
    histogram = np.zeros(histograms.shape[1])
    class_output = np.zeros(all_class_output.shape[1:])  # by class: real value added, workers
    low, high = LOG_PRODUCTIVITY_RANGE
    for i in range(start, stop):
        if not alive[i]:
            continue
        w = np.float64(weight[i])  # products in float64: float32 x float32 would round each term
        ind = industry[i]
        above = revenue[i] >= threshold
        cls = firm_class[i]
        code = ((ABOVE if above else 0) + (MANUFACTURING if manufacturing[ind] else 0) + (HIGH_TECH if high_tech[i] else 0)
                + (EQUIPMENT if equipment[ind] else 0) + (EMERGING if emerging[i] else 0)
                + (NEW_THREE if ind == new_energy_industry else 0) + (STATE_OWNED if cls == SOE_CODE else 0)
                + (PRIVATE if cls == LARGE_PRIVATE_CODE or cls == SME_CODE else 0))
        va = value_added[i]
        m = market_of[i]
        real_va = va / va_price[m]
        energy = energy_intensity[i] * real_va
        # table[code, q] rather than a row view: a view per firm would cost two atomic reference counts
        table[code, Q_FIRMS] += w
        table[code, Q_VA] += w * va
        table[code, Q_EXPORTS] += w * revenue[i] * export_share[i]
        table[code, Q_ENERGY] += w * energy
        table[code, Q_CO2] += w * energy * carbon_intensity[i]
        table[code, Q_RD] += w * rd_spending[i]
        table[code, Q_REVENUE] += w * revenue[i]
        table[code, Q_WORKERS] += w * employment[i]
        if above and age[i] > 0:
            table[code, Q_PANEL_VA] += w * real_va
            table[code, Q_PANEL_PREVIOUS] += w * previous_value_added[i] / va_price_before[m]
        if cls == SME_CODE:
            stages[digital_stage[i]] += w
        rungs[ladder_rung[i]] += w
        if above:  # log productivity is read for above-scale firms only (the percentiles and the ownership gap)
            log_productivity = math.log(productivity[i])
            table[code, Q_LOG_PRODUCTIVITY] += w * log_productivity
            classes[cls] += w
            if manufacturing[ind]:
                position = int((log_productivity - low) / (high - low) * HISTOGRAM_BINS)
                histogram[min(max(position, 0), HISTOGRAM_BINS - 1)] += w
        va_by_industry[ind] += w * va
        class_output[cls, 0] += w * real_va
        class_output[cls, 1] += w * employment[i]
    tables[chunk] = table
    all_stages[chunk] = stages
    all_rungs[chunk] = rungs
    all_classes[chunk] = classes
    all_va_by_industry[chunk] = va_by_industry
    histograms[chunk] = histogram
    all_class_output[chunk] = class_output


def accumulate(*columns, n_industries, threads=1):
    """One pass over the firms: weighted sums by category code, plus the breakdowns the contract
    needs (table, stages, rungs, classes, value added by industry, log-productivity histogram, and
    real value added and workers by class).
    `columns`: accumulate_rows' inputs between the chunk bounds and the outputs. Sums by row chunk,
    on `threads` threads, added in chunk order: the same result for any number of threads."""
    n = columns[0].size
    outputs = tuple(partial_sums(n, *shape, chunk_rows=ACCUMULATE_CHUNK_ROWS) for shape in (
        (N_CODES, N_QUANTITIES), (N_STAGES,), (N_RUNGS,), (N_CLASSES,), (n_industries,), (HISTOGRAM_BINS,), (N_CLASSES, 2)))
    run_chunks(accumulate_rows, n, *columns, *outputs, threads=threads, chunk_rows=ACCUMULATE_CHUNK_ROWS)
    return tuple(output.sum(axis=0) for output in outputs)


def over(table: np.ndarray, quantity: int, *bits: int) -> float:
    """Sum of `quantity` over all codes that have every one of `bits`."""
    mask = int(np.bitwise_or.reduce(bits)) if bits else 0
    return float(table[(CODES & mask) == mask, quantity].sum())


def histogram_percentile(histogram: np.ndarray, q: float) -> float:
    """Weighted percentile (in log productivity) from the histogram: the centre of the bin reached."""
    cumulative = np.cumsum(histogram)
    index = min(int(np.searchsorted(cumulative, q * cumulative[-1])), histogram.size - 1)
    low, high = LOG_PRODUCTIVITY_RANGE
    return low + (index + 0.5) * (high - low) / histogram.size


def measure(firms: Firms, context: YearContext, manufacturing: np.ndarray, equipment: np.ndarray,
            new_energy_industry: int, n_industries: int, threads: int = 1) -> dict[str, float | np.ndarray]:
    """Every indicator of the year from the firm columns (the firm pass in row chunks on `threads` threads)."""
    f = firms
    table, stages, rungs, classes, va_by_industry, histogram, class_output = accumulate(
        f.alive, f.weight, f.revenue, f.value_added, f.previous_value_added, f.export_share, f.energy_intensity,
        f.carbon_intensity, f.rd_spending, f.employment, f.productivity, f.firm_class, f.industry, f.high_tech, f.emerging,
        f.age, f.digital_stage, f.ladder_rung, manufacturing, equipment, new_energy_industry, context.threshold, f.market_of,
        context.va_price, context.va_price_before, n_industries=n_industries, threads=threads)
    industrial_va = over(table, Q_VA) / TRILLION
    manufacturing_va = over(table, Q_VA, MANUFACTURING) / TRILLION
    above_va = over(table, Q_VA, ABOVE)
    if context.growth_input is not None:
        growth = context.growth_input
    else:
        growth = 100.0 * (over(table, Q_PANEL_VA) / over(table, Q_PANEL_PREVIOUS) - 1.0)
    rd_mfg = over(table, Q_RD, ABOVE, MANUFACTURING)
    candidates = largest_candidates(f.revenue, f.alive, f.industry, manufacturing, TOP_N, threads)  # a short list holding the largest
    rows, counted = top_of(f.revenue, f.weight, candidates, TOP_N)
    assets = f.capital[rows].astype(np.float64) + f.cash[rows] + f.receivables[rows]

    def mean_log(bit: int) -> float:
        """Mean log productivity of the above-scale firms of a class; NaN (undefined) when there are
        none (e.g. foreign_share = 1 leaves no private firm)."""
        firms = over(table, Q_FIRMS, ABOVE, bit)
        return over(table, Q_LOG_PRODUCTIVITY, ABOVE, bit) / firms if firms > 0 else math.nan

    return {
        "industrial_va": industrial_va,
        "manufacturing_va": manufacturing_va,
        "industry_share_gdp": 100.0 * industrial_va / context.gdp,
        "manufacturing_share_gdp": 100.0 * manufacturing_va / context.gdp,
        "above_scale_va_growth": float(growth),
        "hightech_share": 100.0 * over(table, Q_VA, ABOVE, HIGH_TECH) / above_va,
        "equipment_share": 100.0 * over(table, Q_VA, ABOVE, EQUIPMENT) / above_va,
        "sei_share_gdp": 100.0 * over(table, Q_VA, EMERGING) / TRILLION / context.sei_industrial_fraction / context.gdp,
        "world_mfg_share": 100.0 * manufacturing_va / (manufacturing_va + context.rest_of_world_mfg_va),
        "rd_spend_mfg": rd_mfg / TRILLION,
        "rd_intensity_mfg": 100.0 * rd_mfg / over(table, Q_REVENUE, ABOVE, MANUFACTURING),
        "invention_patent_apps": float(context.patent_applications),
        "n_above_scale": over(table, Q_FIRMS, ABOVE),
        "n_srdi": float(rungs[taxonomy.RUNG_SRDI] + rungs[taxonomy.RUNG_LITTLE_GIANT]),
        "n_little_giant": float(rungs[taxonomy.RUNG_LITTLE_GIANT]),
        "n_single_champion": float(rungs[taxonomy.RUNG_CHAMPION]),
        "top500_revenue": float(np.sum(f.revenue[rows] * counted)) / TRILLION,
        "top500_assets": float(np.sum(assets * counted)) / TRILLION,
        "exports": over(table, Q_EXPORTS) / TRILLION,
        "hightech_exports": over(table, Q_EXPORTS, HIGH_TECH) / TRILLION,
        "new_three_exports": over(table, Q_EXPORTS, NEW_THREE) / TRILLION,
        "sme_digital_stage_share": stages / max(stages.sum(), 1e-300),
        "industrial_energy": over(table, Q_ENERGY) / 1e6,
        "industrial_co2": over(table, Q_CO2) / 1e6,
        "employment_mfg": over(table, Q_WORKERS, MANUFACTURING) / 1e6,
        "industrial_ppi": context.ppi,
        "investment": context.investment,
        "capacity_utilization": context.utilization,
        "fiscal_cost": context.fiscal_cost,
        "gdp": context.gdp,
        "gdp_real_growth": context.real_gdp_growth,
        "industrial_va_real": context.industrial_va_real,
        "labour_productivity": context.labour_productivity,
        "investment_by_industry": context.investment_by_industry,
        "real_va_by_industry": context.real_va_by_industry,
        "energy_by_industry": context.energy_by_industry,
        "electromechanical_exports": over(table, Q_EXPORTS, EQUIPMENT) / TRILLION,
        "n_firms": over(table, Q_FIRMS),
        "n_entries": context.entries,
        "n_exits": context.exits,
        "va_by_industry": va_by_industry / TRILLION,
        "firms_by_class": classes,
        "productivity_90_10": float(np.exp(histogram_percentile(histogram, 0.9) - histogram_percentile(histogram, 0.1))),
        "soe_productivity_gap": mean_log(PRIVATE) - mean_log(STATE_OWNED),
        "labour_productivity_by_class": 1e3 * np.divide(class_output[:, 0], class_output[:, 1],  # M RMB -> thousand RMB
                                                        out=np.full(N_CLASSES, np.nan), where=class_output[:, 1] > 0),
    }
