"""Digital-transformation stages: a firm moves up one stage when it is worth it, affordable, and
its peers have shown the way.

001 III (vi): "about 80% of SMEs are still in the initial exploration stage of digital
transformation". Yearly probability of moving from stage k to k+1:
    P = max_rate * (1 - exp(-benefit / cost)) * (1 + peer_effect * peer_share), if affordable,
where benefit = productivity gain x wage bill x payback years, cost = fixed x labour-cost index
+ share x revenue, and peer_share is the weighted share of firms of the same industry and region
already above stage k (epidemic diffusion). A digital subsidy or the AI programme pays part of the
cost (the firm weighs the gain against its own share of the cost); the AI programme also raises the
productivity gain of the top two stages.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim import taxonomy
from sim.randomness import above_saturation, below_saturation, draw_number, uniform
from sim.processes import Process, parameter_tuple
from sim.rules.finance import credit_room

PROCESS = Process(
    name="digital",
    description="Digital-stage transitions on cost, expected gain, finance and diffusion from peers.",
    reads=("digital_stage", "revenue", "employment", "cash", "debt", "capital", "receivables", "industry", "region", "weight",
           "alive"),
    writes=("digital_stage", "productivity", "energy_intensity", "cash", "debt"),
    parameters=("digital_productivity_gain", "digital_cost_fixed", "digital_cost_share", "digital_max_rate",
                "digital_peer_effect", "digital_payback_years", "digital_energy_saving"),
)
Params = parameter_tuple(PROCESS, __name__)
N_STAGES = len(taxonomy.DIGITAL_STAGES)
DRAW_UPGRADE = draw_number("digital", "upgrade")


@njit(cache=True)
def peer_share_table(counts):
    """counts[cell, stage] of firms -> share of the cell's firms strictly above each stage."""
    cells, stages = counts.shape
    table = np.zeros((cells, stages))
    for c in range(cells):
        total = counts[c].sum()
        if total > 0:
            above = 0.0
            for k in range(stages - 1, -1, -1):
                table[c, k] = above / total
                above += counts[c, k]
    return table


@njit(cache=True)
def upgrade_cost(revenue, labour_cost_index, fixed, share):
    """Cost of moving up one stage (M RMB): a fixed part that follows labour costs (consulting,
    integration work) plus a share of revenue (equipment and software in proportion to scale);
    both parameters are labelled assumptions in calibration/parameters.toml."""
    return fixed * labour_cost_index + share * revenue


@njit(cache=True)
def state_share(subsidy, ai_subsidy):
    """Share of an upgrade's cost the state pays (digital subsidy plus AI programme, at most all)."""
    return min(subsidy + ai_subsidy, 1.0)


@njit(cache=True)
def upgrade_probability(benefit, cost, peer_share, max_rate, peer_effect):
    """Yearly probability of moving up a stage: max_rate x (1 - exp(-benefit / cost)) x (1 +
    peer_effect x peer_share), at most 1 (the module docstring: a return-driven adoption rate with
    epidemic diffusion from peers, Griliches 1957; Geroski 2000)."""
    ratio = benefit / max(cost, 1e-9)
    return min(max_rate * -math.expm1(-ratio) * (1.0 + peer_effect * peer_share), 1.0)


@njit(cache=True)
def out_of_reach(u, peer_share, max_rate, peer_effect):
    """Whether the draw u fails for any benefit and cost (u at or above the probability's bound
    max_rate x (1 + peer_effect x peer_share)): most firms in most years, decided before their
    upgrade's cost, benefit and financing are worked out. `upgrades` agrees on every such draw."""
    return above_saturation(u, max_rate * (1.0 + peer_effect * peer_share))


@njit(cache=True)
def upgrades(u, benefit, cost, peer_share, max_rate, peer_effect):
    """u < upgrade_probability(...), the exponential computed only when bounds on it do not decide
    (randomness.below_saturation)."""
    decided = below_saturation(u, benefit / max(cost, 1e-9), max_rate * (1.0 + peer_effect * peer_share))
    return decided == 1 if decided >= 0 else u < upgrade_probability(benefit, cost, peer_share, max_rate, peer_effect)


@njit(cache=True, inline="always")
def upgrade(f, i, key, peers_above, cell, labour_cost_index, wage_bill, ceiling, cash_buffer_share, subsidy, ai, ai_boost, p):
    """Row i's digital step of the year. Below the top stage, the firm draws; a draw out of reach
    (most firms, most years) ends it. Otherwise the upgrade costs upgrade_cost, of which the state
    pays state_share(subsidy, ai) (the digital-subsidy and AI levers; the AI programme, for the top
    two stages, also raises the gain by ai_boost); the firm weighs the gain over the payback years
    against its own share, and pays it from cash above its buffer, then credit up to its ceiling
    (it cannot upgrade beyond what it can pay). Writes stage, cash and debt of an upgrade.

    Returns (upgraded, its log productivity gain, the state's payment in M RMB per firm).
    `cell`: the firm's industry x region row of peers_above (peer_share_table)."""
    stage = f.digital_stage[i]
    if stage >= N_STAGES - 1:
        return False, 0.0, 0.0
    draw = uniform(key, i, DRAW_UPGRADE)
    peer_share = peers_above[cell, stage]
    if out_of_reach(draw, peer_share, p.digital_max_rate, p.digital_peer_effect):
        return False, 0.0, 0.0
    revenue = f.revenue[i]
    cost = upgrade_cost(revenue, labour_cost_index, p.digital_cost_fixed, p.digital_cost_share)
    gain = p.digital_productivity_gain
    own_cost = cost
    if subsidy != 0.0 or ai != 0.0:
        own_cost = cost * (1.0 - state_share(subsidy, ai))
        if ai != 0.0:
            gain = gain * (1.0 + ai_boost)
    benefit = gain * wage_bill * p.digital_payback_years
    room = credit_room(f.capital[i], f.cash[i], f.receivables[i], f.debt[i], ceiling)
    own = max(f.cash[i] - cash_buffer_share * revenue, 0.0)
    if own + room >= own_cost and upgrades(draw, benefit, own_cost, peer_share, p.digital_max_rate, p.digital_peer_effect):
        f.digital_stage[i] = stage + 1
        from_cash = min(own, own_cost)
        f.cash[i] -= from_cash
        f.debt[i] += own_cost - from_cash
        return True, gain, cost - own_cost
    return False, 0.0, 0.0


@njit(cache=True)
def lever_payments(weight, paid, subsidy, ai):
    """The state's payment for the row's upgrades (weight firms, `paid` M RMB each) split between the
    digital subsidy and the AI programme in proportion to their intensities: (subsidy's, AI's)."""
    return weight * paid * subsidy / (subsidy + ai), weight * paid * ai / (subsidy + ai)
