"""Demand closure: prices, volumes and capacity by market, and GDP from industry plus the rest.

A market (industry x segment) sells value added at a price and in a volume. Its value-added price
follows unit labour cost times the markup (cost-plus pricing, K+S):

    V_m = (1 + mu_m) / (1 + mu) x (w / w_2012) / (A_m / A_m,2012) x (1 + c_m)      (2012 = 1)

with w the national labour cost (a macro path), A_m the market's labour-productivity index, c_m last
year's carbon charges per unit of value added, and the markup mu_m falling
when capacity utilisation u_m runs below normal: mu_m = mu (u_m / u*) ** kappa (overcapacity and
price wars; Rotemberg and Saloner 1986). A_m is a chain index formed from the market's firms: each
year it moves by the change of the employment-weighted mean productivity of the firms that continue
(alive last year and this year), the matched-sample rule of statistical price and productivity
indices, so that the entry and exit of firms (which at full coverage churn millions of micro
firms a year) change the index through what the survivors do, not through the composition of the
sample. The market's output (producer) price moves with V_m at the
industry's value-added share and with world input prices for the rest (a Cobb-Douglas unit cost);
the industrial producer-price index is the revenue-weighted change of those prices.

Domestic demand for value added: the markets and the rest of the economy share nominal GDP as a
multinomial logit whose odds against the rest move with real GDP to the real income elasticity less
one and with the market's price relative to the GDP deflator to one less the price elasticity eta:

    o_m' = o_m (Y' / Y) ** (e_m - 1) (rho_m' / rho_m) ** (1 - eta),   rho = V_m / P_GDP,

so real demand d log q_m = e_m d log Y - eta d log rho_m. With eta < 1 a market whose productivity
grows faster gets cheaper, sells more volume and holds a smaller nominal share of GDP: the Baumol
/ Ngai and Pissarides (2007) mechanism sets the manufacturing share, not a trend. Shares stay
inside (0, 1) whatever the inputs, as in Kongsamut, Rebelo and Xie (2001).

Capacity: a market can sell at most its capital over the capital it needs per unit of revenue at
normal utilisation, divided by that utilisation (capital / (capital_to_revenue x u*)); demand
beyond it is not served (imports fill it) and shows next year as utilisation above normal, which
raises the markup.

GDP closes the loop: nominal GDP = rest of the economy (a scenario path in real terms with its own
deflator) + the value added industry serves, at home and abroad; real GDP likewise in 2012 prices.
Domestic demand is a share of GDP, and the year's GDP, real GDP and deflator enter it, so the
three are solved together by fixed-point passes (a contraction: domestic demand is a share below
one of GDP, and served value added is capped by capacity).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.errors import ModelDivergence
from sim.processes import Process, parameter_tuple


class ClosureDivergence(ModelDivergence):
    """The year's demand closure has no stable solution (sim.rules.demand.close)."""

PROCESS = Process(
    name="demand",
    description="Market prices from unit labour cost and capacity utilisation; domestic real demand from real GDP and relative "
                "prices; GDP from industry plus the rest of the economy.",
    reads=(),
    writes=(),
    parameters=("domestic_demand_elasticity_scale", "emerging_elasticity_premium", "domestic_price_elasticity",
                "markup_utilization_elasticity", "normal_utilization"),
)
Params = parameter_tuple(PROCESS, __name__)
MAX_CLOSURE_PASSES = 200  # fixed-point passes of the GDP closure at most (a few suffice while industry is a third of GDP)
CONVERGED = 1e-12  # relative change of real GDP in a pass at which the closure has converged
MAX_UTILIZATION = 1.0


class Economy(NamedTuple):
    """The closure's state of a year (M RMB; prices 2012 = 1)."""

    domestic_value_added: np.ndarray  # by market: nominal domestic demand for value added
    va_price: np.ndarray  # by market: price of value added
    gdp: float  # nominal GDP
    real_gdp: float  # GDP in 2012 prices
    rest: float  # nominal value added of the economy outside industry
    rest_real: float  # the same in 2012 prices


def productivity_index_change(employment_before, technology_before, employment_after, technology_after) -> np.ndarray:
    """Change of each market's productivity index A_m over a year: the employment-weighted mean
    productivity of its continuing firms after the year over the same before it (technology =
    employment x productivity summed over them); 1 where a market has no continuing firms."""
    before = np.divide(technology_before, employment_before, out=np.zeros(employment_before.size), where=employment_before > 0)
    after = np.divide(technology_after, employment_after, out=np.zeros(employment_after.size), where=employment_after > 0)
    return np.divide(after, before, out=np.ones(before.size), where=(before > 0) & (after > 0))


def income_elasticities(base: np.ndarray, emerging: np.ndarray, p, premium_factor: float = 1.0) -> np.ndarray:
    """Each market's real income elasticity: the industry's base elasticity (calibration/industries.toml)
    times the common scale, plus the premium of the strategic-emerging segment times `premium_factor`
    (the new products' catch-up: emerging_elasticity_premium is its 2013 level, and it halves every
    trend_half_life years, sim.rules.trend, so the segment's demand converges to its industry's)."""
    return p.domestic_demand_elasticity_scale * base + p.emerging_elasticity_premium * premium_factor * emerging


def utilization(revenue, capital, capital_to_revenue, normal):
    """Capacity utilisation: revenue over full_capacity. A market with no capital is at normal utilisation."""
    capacity = full_capacity(capital, capital_to_revenue, normal)
    return np.divide(revenue, capacity, out=np.full(np.shape(revenue), float(normal)), where=np.isfinite(capacity))


def markup_factor(utilization_, p):
    """(u / u*) ** kappa: the markup at a utilisation over the normal markup mu (u capped at
    MAX_UTILIZATION); the market's markup is mu times it, mu the market process's `markup`, the one
    firms' prices carry (sim.rules.market)."""
    return (np.minimum(utilization_, MAX_UTILIZATION) / p.normal_utilization) ** p.markup_utilization_elasticity


def value_added_price(markup_, normal_markup, wage_index, productivity_index, carbon_share):
    """V = (1 + markup) / (1 + mu) x wage index / productivity index x (1 + carbon charges per unit of
    value added): unit labour cost times the markup, 2012 = 1."""
    return (1.0 + markup_) / (1.0 + normal_markup) * wage_index / productivity_index * (1.0 + carbon_share)


def output_price_change(va_price_change, input_price_change, va_ratio):
    """Change of a market's output price: value-added price at the value-added share, intermediate
    inputs (world prices) at the rest (a Cobb-Douglas unit cost)."""
    return va_price_change ** va_ratio * input_price_change ** (1.0 - va_ratio)


def price_index_change(price_change, weights) -> float:
    """A price index's change: the markets' price changes weighted by last year's revenue (Laspeyres)."""
    return float(np.sum(price_change * weights) / np.sum(weights))


def share_odds(previous: Economy, real_gdp: float, deflator: float, va_price, elasticity, p):
    """The odds of each market's share of nominal GDP against the rest of GDP, from last year's: moved
    by real GDP growth to the income elasticity less one and by the change of the market's price
    relative to the GDP deflator to one less the price elasticity."""
    odds = previous.domestic_value_added / (previous.gdp - previous.domestic_value_added.sum())
    relative_change = (va_price / deflator) / (previous.va_price / (previous.gdp / previous.real_gdp))
    return odds * (real_gdp / previous.real_gdp) ** (elasticity - 1.0) * relative_change ** (1.0 - p.domestic_price_elasticity)


class Closed(NamedTuple):
    """The year's closure: the economy and the share of each market's demand its capacity serves."""

    economy: Economy
    served: np.ndarray  # by market: served / wanted revenue (1 where capacity suffices)


def full_capacity(capital, capital_to_revenue, normal):
    """Revenue a market can sell at full utilisation: capital / (capital_to_revenue x normal), where
    capital_to_revenue is the capital it needs per unit of revenue at normal utilisation (inf where
    it has no capital: nothing measures its capacity)."""
    return np.divide(capital, capital_to_revenue * normal, out=np.full(np.shape(capital), np.inf), where=capital > 0)


def close(previous: Economy, va_price, rest: float, rest_real: float, exports, va_ratio, capacity, elasticity, p) -> Closed:
    """This year's demand for value added by market, what capacity serves of it, and GDP, nominal and
    real, given this year's value-added prices, the rest of the economy, the world's demand for the
    markets' goods (`exports`, revenue) and each market's capacity (revenue, full_capacity).

    Domestic demand is the logit share of GDP (share_odds); a market whose demand (domestic revenue
    plus exports) passes its capacity serves both in the same proportion, the rest is imported and is
    no part of GDP; GDP = rest + the value added served. Fixed-point passes on (GDP, real GDP) from
    last year's GDP grown with the rest of the economy, until both move less than CONVERGED in a pass
    (a contraction: domestic demand is a share below one of GDP, and served value added, capped by
    capacity, cannot feed on itself beyond it); ClosureDivergence if MAX_CLOSURE_PASSES do not get there."""
    export_va = exports * va_ratio
    gdp = previous.gdp * rest / previous.rest
    real_gdp = previous.real_gdp * rest_real / previous.rest_real
    change = math.inf
    passes = 0
    while not change < CONVERGED and passes < MAX_CLOSURE_PASSES:
        passes += 1
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a closure that runs away ends as ClosureDivergence
            odds = share_odds(previous, real_gdp, gdp / real_gdp, va_price, elasticity, p)
            domestic = gdp * odds / (1.0 + odds.sum())
            wanted = domestic / va_ratio + exports
            served = np.minimum(1.0, np.divide(capacity, wanted, out=np.ones(np.shape(wanted)), where=wanted > 0))
            produced = served * (domestic + export_va)  # value added served, M RMB
            new_gdp, new_real = rest + float(produced.sum()), rest_real + float(np.sum(produced / va_price))
            change = max(abs(new_gdp / gdp - 1.0), abs(new_real / real_gdp - 1.0))
        gdp, real_gdp = new_gdp, new_real
    if not change < CONVERGED:
        raise ClosureDivergence(f"the demand closure did not converge (GDP moved {change:.2g} in its last pass)")
    return Closed(Economy(domestic, np.asarray(va_price, dtype=np.float64), gdp, real_gdp, rest, rest_real), served)
