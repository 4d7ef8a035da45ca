"""Market shares: replicator dynamics of the firms' shares of their market's demand.

A market is an industry x segment (conventional / strategic-emerging). Its demand (revenue, M RMB)
is domestic plus export demand, from prices and volumes (sim.rules.demand, sim.rules.trade): the
domestic part is demand for value added over the value-added ratio (input-output consistency: a
higher value-added ratio means less intermediate demand for the same final demand). Shares move
by replicator dynamics toward the firms whose competitiveness improved most (Dosi, Fagiolo and
Roventini 2010, K+S), damped by the firm's market power:
    s_j' = s_j exp(D_j (chi (dE_j - dE_bar) + shock_j)) / normaliser,   D_j = (1 - s_j) / (1 + (chi - 1) s_j),
with competitiveness E = -log(price) + quality, price = (1 + markup) * unit labour cost, dE its
change over the year and dE_bar its mean weighted by s_j D_j. D is the variable markup of Atkeson
and Burstein (2008): under Cournot competition in a nested CES with unit elasticity between
markets, a firm holding share s of its market sets the markup sigma / ((sigma - 1)(1 - s)), sigma =
chi + 1, so its share solves s = u (1 - s)^chi / Z for its demand shifter u (which moves as u^chi
with its competitiveness); D is d log s / d log u at given Z, and the weights s D make the step
the linearised equilibrium. A firm that grows large prices higher, so its share stops short of the
market (log odds y against a fringe move as dy = chi dL / (1 + chi s) with its cost lead L).
At small shares the rule is the plain replicator. Applied to changes, the rule is the CES demand
law with elasticity of substitution chi + 1 and a persistent firm-specific demand shifter held in
the share itself
(Melitz 2003; Hsieh and Klenow 2009): large and small firms coexist in a stationary market, and
shares move toward firms that innovate, invest or digitalise faster than their rivals.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.parallel import array_in, partial_sums, run_chunks
from sim.randomness import draw_number, normal
from sim.processes import Process, parameter_tuple

PROCESS = Process(
    name="market",
    description="Replicator dynamics of market shares; revenue = share x the market's demand.",
    reads=("productivity", "patent_stock", "revenue", "market_share", "competitiveness", "market_of", "wage_factor", "weight",
           "alive"),
    writes=("market_share", "competitiveness", "revenue"),
    parameters=("share_selection_strength", "quality_weight", "demand_shock_sd", "shock_size_exponent",
                "shock_reference_revenue", "markup", "wage_productivity_elasticity"),
)
Params = parameter_tuple(PROCESS, __name__)
DRAW_DEMAND_SHOCK = draw_number("market", "demand_shock")
MAX_LOG_STEP = 2.0  # a firm's share can change at most e^2 (about 7x) in a year: keeps outliers from exploding


@njit(cache=True)
def firm_wage(productivity, market_productivity, wage, elasticity):
    """Labour cost per worker: the national level, higher in more productive firms (skill mix and
    rent sharing): wage * (A / A_market) ** elasticity."""
    return wage * math.exp(elasticity * math.log(productivity / market_productivity))


@njit(cache=True)
def competitiveness(productivity, patent_stock, revenue, wage_of_firm, markup, quality_weight):
    """E = -log(price) + quality_weight * log(1 + patents per M RMB of revenue)."""
    price = (1.0 + markup) * wage_of_firm / productivity
    return -math.log(price) + quality_weight * math.log1p(patent_stock / max(revenue, 1e-6))


@njit(cache=True)
def shock_sd(revenue, sd_at_reference, size_exponent, reference_revenue):
    """Idiosyncratic shock sd falling with size (Amaral et al. 1997): sd_at_reference x
    (revenue / reference_revenue) ** -size_exponent."""
    return sd_at_reference * math.exp(-size_exponent * math.log(max(revenue, 1e-6) / reference_revenue))


@njit(cache=True)
def market_power_damping(strength, share):
    """D = (1 - s) / (1 + (chi - 1) s): the elasticity of a firm's share to its demand shifter under
    the Atkeson-Burstein markup (see the module docstring); 1 for a small firm."""
    s = min(max(share, 0.0), 1.0)
    return (1.0 - s) / (1.0 + (strength - 1.0) * s)


@njit(cache=True)
def log_share_step(gain_over_mean, shock, shock_variance, strength, share):
    """A firm's replicator step in log share: D (chi (dE - dE_bar) + shock), less half the damped
    shock's variance (the shock leaves expected shares unchanged), capped at MAX_LOG_STEP. `shock`
    is the undamped normal shock, `shock_variance` its variance."""
    step = damped_step(market_power_damping(strength, share), strength, gain_over_mean, shock, shock_variance)
    return min(max(step, -MAX_LOG_STEP), MAX_LOG_STEP)


@njit(cache=True, inline="always")
def damped_step(damping, strength, gain, shock, shock_variance):
    """D (chi gain + shock) - D^2 var / 2: the uncapped log step at a gain."""
    return damping * (strength * gain + shock) - 0.5 * damping * damping * shock_variance


@njit(cache=True, inline="always")
def step_terms(share, gain, shock, shock_variance, strength):
    """log_share_step of a row as slope x (-dE_bar) + offset: (slope, offset, held) with slope = D chi,
    offset = D (chi dE + shock) - D^2 var / 2 (dE_bar is known only when every row is in) and held =
    s D, the row's weight in dE_bar (the ratio of the market's sums of held x weight and held x
    weight x dE)."""
    damping = market_power_damping(strength, share)
    return damping * strength, damped_step(damping, strength, gain, shock, shock_variance), share * damping


@njit(cache=True, nogil=True)
def step_term_rows(start, stop, chunk, market, weight, shares, fitness_gain, strength, shock, shock_variance, slope, offset,
                   held_gained):
    """step_terms for rows [start, stop) given each row's gain and shock (replicator_shares)."""
    for i in range(start, stop):
        if weight[i] > 0.0:
            m = market[i]
            slope[i], offset[i], held = step_terms(shares[i], fitness_gain[i], shock[i], shock_variance[i], strength)
            held_gained[chunk, 0, m] += weight[i] * held
            held_gained[chunk, 1, m] += weight[i] * held * fitness_gain[i]


@njit(cache=True, nogil=True)
def replicate_rows(start, stop, chunk, market, weight, shares, slope, offset, mean_gain, updated, totals):
    """s_j exp(log_share_step) for rows [start, stop) (`updated` may be `offset` itself); the weighted
    sums of the new shares by market go to totals[chunk]."""
    for i in range(start, stop):
        if weight[i] > 0.0:
            m = market[i]
            step = min(max(offset[i] - slope[i] * mean_gain[m], -MAX_LOG_STEP), MAX_LOG_STEP)
            updated[i] = shares[i] * math.exp(step)
            totals[chunk, m] += weight[i] * updated[i]
        else:
            updated[i] = 0.0


def _replicate(shares, market, weight, n_markets, slope, offset, held_gained, threads=1):
    """The replicator's unnormalised new shares (written over `offset`) and each market's normaliser,
    from the step terms and the sums by market of step_terms."""
    n = shares.size
    held, gained = held_gained.sum(axis=0)
    mean_gain = np.divide(gained, held, out=np.zeros(n_markets), where=held > 0.0)
    totals = partial_sums(n, n_markets)
    run_chunks(replicate_rows, n, market, weight, shares, slope, offset, mean_gain, offset, totals, threads=threads)
    total = totals.sum(axis=0)
    return offset, np.divide(1.0, total, out=np.zeros(n_markets), where=total > 0.0)


def replicator_shares(shares, fitness_gain, market, weight, n_markets, strength, shock, shock_variance=None, threads=1):
    """Replicator dynamics within each market; returns per-firm shares with sum(weight * share) = 1
    in every occupied market. `shock` is a normal log shock per firm with variance `shock_variance`
    (zero if not given); zero-weight rows get zero."""
    n = shares.size
    shock_variance = np.zeros(n) if shock_variance is None else shock_variance
    slope, offset = np.zeros(n), np.zeros(n)
    held_gained = partial_sums(n, 2, n_markets)
    run_chunks(step_term_rows, n, market, weight, shares, fitness_gain, strength, shock, shock_variance, slope, offset,
               held_gained, threads=threads)
    updated, scale = _replicate(shares, market, weight, n_markets, slope, offset, held_gained, threads)
    return updated * np.where(weight > 0.0, scale[market], 0.0)


def update_market(market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
                  market_productivity, demand, n_markets, wage, key, p):
    """One year of competition: new shares, competitiveness and revenue (arrays updated in place)."""
    update_market_at_wages(market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
                           market_productivity, demand, n_markets, wage, np.ones(share.size), key, p)


@njit(cache=True, inline="always")
def log_relative_productivity(productivity, market_productivity):
    """r = log(A / A_market): the firm's productivity over its market's wage norm, in logs."""
    return math.log(productivity / market_productivity)


@njit(cache=True, inline="always")
def log_wage_factor(factor):
    """log f of a row's labour-cost factor (0 for the usual factor 1)."""
    return math.log(factor) if factor != 1.0 else 0.0


@njit(cache=True, inline="always")
def wage_of(wage, elasticity, relative, log_factor):
    """firm_wage in log form: wage x exp(elasticity r) x f."""
    return wage * math.exp(elasticity * relative + log_factor)


def log_unit_costs(markup, wage, market_productivity) -> np.ndarray:
    """log((1 + markup) wage / A_market) by market: the log price of a firm at its market's norm."""
    return np.log((1.0 + markup) * wage / np.asarray(market_productivity, dtype=np.float64))


@njit(cache=True, inline="always")
def log_competitiveness(log_unit_cost, relative, log_factor, elasticity, quality_weight, sales, log_sales, patents):
    """The live form of `competitiveness` (which tests pin it to): -log(price) + quality, with
    -log(price) = -(log_unit_cost[m] + (elasticity - 1) r + log f) and quality
    quality_weight x log1p(patents / sales) written as log(sales + patents) - log(sales), the
    second log shared with the demand shock. `sales` is revenue floored at 1e-6 M RMB."""
    return quality_weight * (math.log(sales + patents) - log_sales) - (log_unit_cost + (elasticity - 1.0) * relative + log_factor)


@njit(cache=True, nogil=True, _nrt=False)  # no reference counting of the bundle's columns (sim/year.py firm_rows)
def competitiveness_rows(start, stop, chunk, f, market_productivity, log_unit_cost, p):
    """Rows [start, stop) of the live rows of `f` (sim.firms.FirmColumns): competitiveness at
    this year's wages, written (the state a first market step compares with)."""
    for i in range(start, stop):
        if f.weight[i] > 0.0:
            m = f.market_of[i]
            sales = max(f.revenue[i], 1e-6)
            f.competitiveness[i] = log_competitiveness(
                log_unit_cost[m], log_relative_productivity(f.productivity[i], market_productivity[m]), 0.0,
                p.wage_productivity_elasticity, p.quality_weight, sales, math.log(sales), f.patent_stock[i])


@njit(cache=True, nogil=True)
def competition_rows(start, stop, chunk, market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
                     market_productivity, log_unit_cost, wage, wage_factor, key, p, slope, offset, held_gained, wages):
    """Rows [start, stop): the change of competitiveness over the year (old_competitiveness is
    replaced by the new value), the firm's demand shock, their step terms (step_terms), and its
    labour cost per worker (`wages`, which the firm year reuses).

    firm_wage, competitiveness and shock_sd in log form (three logs and two exps a firm; tests pin them
    to the plain forms): wage_of, log_competitiveness, and the shock sd below."""
    elasticity = p.wage_productivity_elasticity
    log_reference = math.log(p.shock_reference_revenue)
    for i in range(start, stop):
        if weight[i] > 0.0:
            m = market[i]
            relative = log_relative_productivity(productivity[i], market_productivity[m])
            factor = log_wage_factor(wage_factor[i])
            wages[i] = wage_of(wage, elasticity, relative, factor)
            sales = max(revenue[i], 1e-6)
            log_sales = math.log(sales)
            fitness = log_competitiveness(log_unit_cost[m], relative, factor, elasticity, p.quality_weight, sales, log_sales,
                                          patent_stock[i])
            gain = fitness - old_competitiveness[i]
            old_competitiveness[i] = fitness
            sd = p.demand_shock_sd * math.exp(-p.shock_size_exponent * (log_sales - log_reference))  # shock_sd
            slope[i], offset[i], held = step_terms(share[i], gain, sd * normal(key, i, DRAW_DEMAND_SHOCK), sd * sd,
                                                   p.share_selection_strength)
            held_gained[chunk, 0, m] += weight[i] * held
            held_gained[chunk, 1, m] += weight[i] * held * gain


@njit(cache=True, nogil=True)
def revenue_rows(start, stop, chunk, market, weight, updated, scale, demand, share, revenue):
    """Rows [start, stop): the normalised new share (updated x the market's normaliser) and revenue."""
    for i in range(start, stop):
        if weight[i] > 0.0:
            m = market[i]
            new_share = updated[i] * scale[m]
            share[i] = new_share
            revenue[i] = new_share * demand[m]


def update_market_at_wages(market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
                           market_productivity, demand, n_markets, wage, wage_factor, key, p, threads=1, wages=None,
                           workspace=None):
    """update_market with a factor per firm on its labour cost (1, or the regional wage ratio of a
    firm that moved inland under the regional_transfer lever). `wages` (float64 per row, optional)
    receives each firm's labour cost per worker. Three passes over the rows: competitiveness and
    step terms, the replicator step, the normalised shares and revenue. `workspace`: a
    sim.parallel.Workspace for the temporaries."""
    n = share.size
    slope, offset = array_in(workspace, "market.slope", n), array_in(workspace, "market.offset", n)
    wages = np.empty(n) if wages is None else wages
    held_gained = partial_sums(n, 2, n_markets)
    log_unit_cost = log_unit_costs(p.markup, wage, market_productivity)
    run_chunks(competition_rows, n, market, weight, share, old_competitiveness, productivity, patent_stock, revenue,
               market_productivity, log_unit_cost, wage, wage_factor, key, p, slope, offset, held_gained, wages,
               threads=threads)
    updated, scale = _replicate(share, market, weight, n_markets, slope, offset, held_gained, threads)
    run_chunks(revenue_rows, n, market, weight, updated, scale, demand, share, revenue, threads=threads)
