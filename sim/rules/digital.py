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

from sim.randomness import above_saturation, below_saturation
from sim.rules import Process, parameter_tuple

PROCESS = Process(
    name="digital",
    description="Digital-stage transitions on cost, expected gain, finance and diffusion from peers.",
    reads=("digital_stage", "revenue", "employment", "cash", "industry", "region", "weight", "alive"),
    writes=("digital_stage", "productivity", "energy_intensity", "cash", "debt"),
    parameters=("digital_productivity_gain", "digital_cost_fixed", "digital_cost_share", "digital_max_rate",
                "digital_peer_effect", "digital_payback_years", "digital_energy_saving"),
)
Params = parameter_tuple(PROCESS, __name__)


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
    return fixed * labour_cost_index + share * revenue


@njit(cache=True)
def state_share(subsidy, ai_subsidy):
    """Share of an upgrade's cost the state pays (digital subsidy plus AI programme, at most all)."""
    return min(subsidy + ai_subsidy, 1.0)


@njit(cache=True)
def upgrade_probability(benefit, cost, peer_share, max_rate, peer_effect):
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
