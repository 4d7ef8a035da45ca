"""R&D, innovation and imitation (Keynes+Schumpeter family: Dosi, Fagiolo and Roventini 2010).

R&D is a decision (rd_returns, spend_on_rd). A firm keeps its own R&D share of revenue (its
propensity, which a calibrated trend moves, halving: sim.rules.trend) and scales it each year by
the expected return on R&D in its market: by the Dorfman and Steiner (1954) condition, R&D over
sales is the elasticity of demand to knowledge times the Lerner index, so R&D intensity moves one
for one with the market's price-cost margin (overcapacity and price wars cut it; the Schumpeterian
effect of competition on rents, Aghion et al. 2005), and, as the value of a knowledge stock that
earns on sales growing at g and depreciates at delta is 1 / (r + delta - g), with the growth its
market expects relative to the economy (demand pull, Schmookler 1966). Firms move their R&D toward
that return gradually (rd_adjustment_rate: R&D is costly to adjust, Hall 2002). The super-deduction lowers
the user cost (Hall and Van Reenen 2000). The firm funds R&D from its own cash above its buffer and
the year's operating surplus, not from credit: banks lend against collateral that knowledge is not
(Hall and Lerner 2010; Brown, Fazzari and Petersen 2009), so a firm in losses and out of cash cuts
R&D. A share xi of R&D goes to innovation, the rest to imitation. Success is a
Bernoulli draw with probability 1 - exp(-zeta * R&D in researcher-years). An innovation draws a
productivity change from a Beta(a, a) rescaled to [low, high]; an imitator closes part of the gap
to a competitor of its market drawn at random. The firm keeps the best of old, innovated and
imitated productivity. Invention patent applications follow R&D spending at the yield the 2012
figures imply (a knowledge production function, Griliches 1990; 001 II (iii)).
Levers act here through the R&D user cost (super-deduction), the effective R&D effort of SOEs
(reform) and of firms near new innovation centres, and SMEs' access to large firms' technology
(hand-in-hand).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scipy import special

from sim.randomness import below_saturation, draw_number, from_table, quantile_table, uniform
from sim.processes import Process, parameter_tuple

PROCESS = Process(
    name="innovation",
    description="R&D spending as a decision on expected returns, user cost and internal funds; innovation and imitation as "
                "Bernoulli draws on R&D effort; patent applications.",
    reads=("rd_propensity", "revenue", "productivity", "patent_stock", "cash", "weight", "alive"),
    writes=("rd_propensity", "rd_spending", "productivity", "patent_stock"),
    parameters=("innovation_share_of_rd", "innovation_zeta", "imitation_zeta", "innovation_draw_low",
                "innovation_draw_high", "innovation_beta_shape", "imitation_absorption", "patent_depreciation",
                "rd_propensity_trend", "soe_innovation_efficiency", "rd_adjustment_rate"),
)
Params = parameter_tuple(PROCESS, __name__)

MAX_RD_PROPENSITY = 0.3  # assumption: no firm spends more than 30% of its revenue on R&D
MIN_USER_COST = 0.05  # a super-deduction never makes R&D cost less than 5 fen per yuan after tax
# Draw numbers of the innovation stream, per firm row (sim.randomness.DRAW_NUMBERS).
DRAW_INNOVATES, DRAW_IMITATES, DRAW_PEER, DRAW_SIZE = (draw_number("innovation", use) for use in
                                                       ("innovates", "imitates", "peer", "size"))
# Draw numbers of the levers stream (hand-in-hand).
DRAW_PARTNER, DRAW_PARTNER_SUCCESS = draw_number("levers", "partner"), draw_number("levers", "partner_success")


@njit(cache=True)
def success_probability(rd_researcher_years, zeta):
    """K+S: P(success) = 1 - exp(-zeta * R&D effort)."""
    return -math.expm1(-zeta * rd_researcher_years)


@njit(cache=True)
def succeeds(u, rd_researcher_years, zeta):
    """u < success_probability(rd_researcher_years, zeta), the exponential computed only when bounds
    on it do not decide (randomness.below_saturation)."""
    decided = below_saturation(u, zeta * rd_researcher_years, 1.0)
    return decided == 1 if decided >= 0 else u < success_probability(rd_researcher_years, zeta)


def draw_table(p) -> np.ndarray:
    """Quantiles of an innovation's log productivity change: Beta(shape, shape) rescaled to [low, high]."""
    shape = p.innovation_beta_shape
    return p.innovation_draw_low + (p.innovation_draw_high - p.innovation_draw_low) * quantile_table(
        lambda q: special.betaincinv(shape, shape, q))


@njit(cache=True)
def imitates(rd_spending, wage, key, row, p):
    """Whether the firm's imitative R&D succeeds this year (before it picks whom to copy)."""
    researchers = rd_spending / wage
    return succeeds(uniform(key, row, DRAW_IMITATES), (1.0 - p.innovation_share_of_rd) * researchers, p.imitation_zeta)


@njit(cache=True, _nrt=False)
def innovate(productivity, rd_spending, wage, imitated, peer_productivity, draws, key, row, p):
    """Productivity after this year's innovation and imitation (the best of old, new and copied).

    imitated: whether imitation succeeded (see `imitates`); peer_productivity: productivity of the
    competitor it copies; draws: tabulated quantiles of an innovation's log productivity change."""
    researchers = rd_spending / wage
    best = productivity
    if succeeds(uniform(key, row, DRAW_INNOVATES), p.innovation_share_of_rd * researchers, p.innovation_zeta):
        best = max(best, productivity * math.exp(from_table(draws, key, row, DRAW_SIZE)))
    if imitated and peer_productivity > productivity:
        best = max(best, productivity + p.imitation_absorption * (peer_productivity - productivity))
    return best


# assumption: growth above the economy's counts toward the expected return up to half the user cost of
# knowledge (the return at most doubled), and below it down to minus the user cost (at least halved):
# 1 / (r + delta - g) has a pole at g = r + delta, and a market's one-year demand growth is a noisy
# guide to the growth of the rents an innovation will earn over its life.
MAX_RELATIVE_GROWTH = 0.5


def rd_returns(markup_factor, normal_markup, demand_growth, gdp_growth, interest_rate, knowledge_depreciation) -> np.ndarray:
    """By market: the expected return on R&D relative to a market at its normal markup that grows
    with the economy, the factor on firms' own R&D shares this year. Dorfman-Steiner: R&D / sales is
    proportional to the Lerner index mu / (1 + mu), here the market's markup mu_m = mu f at last
    year's capacity utilisation (f: sim.rules.demand.markup_factor) against the normal markup mu,
    f (1 + mu) / (1 + mu f) (which is f at mu = 0, the limit). Demand pull: a knowledge
    stock's value is 1 / (r + delta - g); with g the market's demand growth this year less nominal
    GDP growth, the factor is (r + delta) / (r + delta - g), with g between -(r + delta) and
    MAX_RELATIVE_GROWTH x (r + delta) (a factor from 1/2 to 2). r: interest rate; delta: the
    knowledge stock's obsolescence (patent_depreciation)."""
    lerner_ratio = markup_factor * (1.0 + normal_markup) / (1.0 + normal_markup * markup_factor)
    cost = interest_rate + knowledge_depreciation
    relative = np.clip(np.asarray(demand_growth, dtype=np.float64) - gdp_growth, -cost, MAX_RELATIVE_GROWTH * cost)
    return lerner_ratio * cost / (cost - relative)


def adjusted_rd_returns(previous: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """This year's factor on firms' R&D shares by market: last year's moved `rate` of the way (in
    logs) toward the expected return (rd_returns): previous ** (1 - rate) x target ** rate."""
    return previous ** (1.0 - rate) * target ** rate


@njit(cache=True)
def rd_propensity(propensity, trend):
    """This year's R&D share of revenue: last year's moved by the trend, at most MAX_RD_PROPENSITY."""
    return min(propensity * (1.0 + trend), MAX_RD_PROPENSITY)


@njit(cache=True)
def rd_user_cost_ratio(tax_rate, extra_deduction):
    """R&D super-deduction: the after-tax cost of a yuan of R&D with an extra deduction of
    `extra_deduction` times R&D, over its cost without (R&D is already deducted once):
    (1 - t (1 + extra)) / (1 - t), kept above MIN_USER_COST / (1 - t)."""
    return max(1.0 - tax_rate * (1.0 + extra_deduction), MIN_USER_COST) / (1.0 - tax_rate)


@njit(cache=True)
def superdeduction_propensity(propensity, tax_rate, extra_deduction, elasticity):
    """This year's R&D share of revenue under a super-deduction: the firm's own share times the
    user-cost ratio to the minus the price elasticity of R&D (Hall and Van Reenen 2000), capped."""
    return min(propensity * rd_user_cost_ratio(tax_rate, extra_deduction) ** (-elasticity), MAX_RD_PROPENSITY)


@njit(cache=True, inline="always")
def spend_on_rd(f, i, trend_rate, rd_return, funds, tax_rate, deduction, user_cost_elasticity):
    """Row i's R&D of the year (written with its propensity; returned, M RMB). Its own propensity is
    moved by the trend (this year's rate of rd_propensity_trend: sim.rules.trend) and kept; this
    year it spends that share times its market's expected return (`rd_return`, rd_returns) of
    revenue, capped at MAX_RD_PROPENSITY, and at most its internal `funds`
    (sim.rules.finance.internal_funds). Under a super-deduction (`deduction`, the extra share of R&D
    deducted) the share rises with the lower user cost (superdeduction_propensity)."""
    propensity = rd_propensity(f.rd_propensity[i], trend_rate)
    f.rd_propensity[i] = propensity
    share = propensity * rd_return
    if deduction != 0.0:
        share = superdeduction_propensity(share, tax_rate, deduction, user_cost_elasticity)
    rd = min(rd_spending_of(min(share, MAX_RD_PROPENSITY), f.revenue[i]), funds)
    f.rd_spending[i] = rd
    return rd


@njit(cache=True)
def rd_spending_of(propensity, revenue):
    """R&D spending (M RMB): a share of revenue (K+S)."""
    return propensity * revenue


@njit(cache=True, inline="always")
def rd_effort(rd, state_owned, p, reform, reform_gain, centres, centre_effect):
    """Effective R&D effort (M RMB) of (imitation, innovation), the same as scaling zeta: state-owned
    firms turn R&D into technology less efficiently (soe_innovation_efficiency); SOE reform
    (`reform`, 0 to 1) raises their effort by reform x reform_gain; new innovation centres raise the
    effort of firms of their industries by centre_effect per centre (`centres`). Levers at 0 skip."""
    imitation_effort = rd * p.soe_innovation_efficiency if state_owned else rd
    innovation_effort = imitation_effort
    if reform != 0.0:
        imitation_effort = imitation_effort * (1.0 + reform * reform_gain)
        innovation_effort = imitation_effort
    if centres != 0.0:
        imitation_effort = imitation_effort * (1.0 + centre_effect * centres)
        innovation_effort = innovation_effort * (1.0 + centre_effect * centres)
    return imitation_effort, innovation_effort


@njit(cache=True)
def patent_applications(patent_yield, rd):
    """Expected invention patent applications of the year: R&D (M RMB) times the yield the 2012
    figures imply (knowledge production function, Griliches 1990)."""
    return patent_yield * rd


@njit(cache=True, inline="always")
def hand_in_hand(productivity_after, productivity, large_productivity, partner, key, row, success, cost, absorption):
    """Hand-in-hand (large-small collaboration): an SME joins with probability `partner` (the
    lever's intensity) and may absorb its market's large firms' technology (partner_imitation).
    Returns (its productivity after the year, what its place costs the state, M RMB)."""
    if uniform(key, row, DRAW_PARTNER) < partner:
        return max(productivity_after, partner_imitation(productivity, large_productivity, uniform(key, row, DRAW_PARTNER_SUCCESS),
                                                         success, absorption)), cost
    return productivity_after, 0.0


@njit(cache=True)
def partner_imitation(productivity, large_productivity, u, success, absorption):
    """Hand-in-hand: a participating SME absorbs the technology of its market's large firms (their
    mean productivity) with probability `success` (u a uniform draw), closing `absorption` of the gap."""
    if u < success and large_productivity > productivity:
        return productivity + absorption * (large_productivity - productivity)
    return productivity


@njit(cache=True)
def patent_stock(stock, applications, depreciation):
    """Perpetual inventory of invention patent applications, depreciated (Griliches 1990)."""
    return stock * (1.0 - depreciation) + applications
