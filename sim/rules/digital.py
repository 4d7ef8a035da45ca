"""Digital-transformation stages: a firm moves up one stage when it is worth it, affordable, and
its peers have shown the way.

001 III (vi): "about 80% of SMEs are still in the initial exploration stage of digital
transformation". Yearly probability of moving from stage k to k+1:
    P = max_rate * (1 - exp(-benefit / cost)) * (1 + peer_effect * peer_share), if affordable,
where benefit = productivity gain x wage bill x payback years, cost = fixed x labour-cost index
+ share x revenue (less any subsidy), and peer_share is the weighted share of firms of the same
industry and region already above stage k (epidemic diffusion).
"""

from __future__ import annotations

import numpy as np

from sim.rules import Process

PROCESS = Process(
    name="digital",
    description="Digital-stage transitions on cost, expected gain, finance and diffusion from peers.",
    reads=("digital_stage", "revenue", "employment", "cash", "industry", "region", "weight", "alive"),
    writes=("digital_stage", "productivity", "energy_intensity", "cash", "debt"),
    parameters=("digital_productivity_gain", "digital_cost_fixed", "digital_cost_share", "digital_max_rate",
                "digital_peer_effect", "digital_payback_years", "digital_energy_saving"),
)


def peer_share_above(stage, cell, weight, alive, n_cells: int, n_stages: int) -> np.ndarray:
    """For each firm, the weighted share of live firms in its cell (industry x region) at a higher stage."""
    key = cell * n_stages + stage
    counts = np.bincount(key[alive], weights=weight[alive], minlength=n_cells * n_stages).reshape(n_cells, n_stages)
    above = counts[:, ::-1].cumsum(axis=1)[:, ::-1]  # above[c, k] = firms at stage >= k
    strictly_above = np.concatenate([above[:, 1:], np.zeros((n_cells, 1))], axis=1)
    total = np.maximum(above[:, 0], 1e-300)
    return (strictly_above / total[:, None])[cell, stage]


def upgrade_cost(revenue, labour_cost_index: float, fixed: float, share: float) -> np.ndarray:
    return fixed * labour_cost_index + share * revenue


def upgrade_probability(benefit, cost, peer_share, max_rate: float, peer_effect: float) -> np.ndarray:
    ratio = benefit / np.maximum(cost, 1e-9)
    return np.minimum(max_rate * -np.expm1(-ratio) * (1.0 + peer_effect * peer_share), 1.0)
