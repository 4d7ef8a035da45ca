"""R&D, innovation and imitation (Keynes+Schumpeter family: Dosi, Fagiolo and Roventini 2010).

R&D is a share of revenue; a share xi goes to innovation, the rest to imitation. Success is a
Bernoulli draw with probability 1 - exp(-zeta * R&D in researcher-years). An innovation draws a
productivity change from a Beta(a, a) rescaled to [low, high]; an imitator copies part of the
gap to a competitor of its market drawn at random. The firm keeps the best of old, innovated and
imitated productivity. Invention patent applications are Poisson in R&D spending (a knowledge
production function, Griliches 1990) at the yield the 2012 figures imply (001 II (iii)).
"""

from __future__ import annotations

import numpy as np

from sim.rules import Process
from sim.weighted import draw_peers

PROCESS = Process(
    name="innovation",
    description="R&D spending; innovation and imitation as Bernoulli draws on R&D effort; patent applications.",
    reads=("rd_propensity", "revenue", "productivity", "patent_stock", "weight", "alive"),
    writes=("rd_spending", "productivity", "patent_stock"),
    parameters=("innovation_share_of_rd", "innovation_zeta", "imitation_zeta", "innovation_draw_low",
                "innovation_draw_high", "innovation_beta_shape", "imitation_absorption", "patent_depreciation"),
)


def success_probability(rd_researcher_years, zeta: float) -> np.ndarray:
    """K+S: P(success) = 1 - exp(-zeta * R&D effort)."""
    return -np.expm1(-zeta * rd_researcher_years)


def innovate(productivity, rd_spending, wage: float, market, weight, alive, p: dict, rng: np.random.Generator):
    """New productivity after innovation and imitation, and a mask of firms whose productivity rose."""
    n = productivity.size
    researchers = rd_spending / wage
    share = p["innovation_share_of_rd"]
    innovates = alive & (rng.random(n, dtype=np.float32) < success_probability(share * researchers, p["innovation_zeta"]))
    imitates = alive & (rng.random(n, dtype=np.float32) < success_probability((1.0 - share) * researchers, p["imitation_zeta"]))

    best = productivity.copy()
    who = np.flatnonzero(innovates)
    shape = p["innovation_beta_shape"]
    draw = p["innovation_draw_low"] + (p["innovation_draw_high"] - p["innovation_draw_low"]) * rng.beta(shape, shape, who.size)
    best[who] = np.maximum(best[who], productivity[who] * np.exp(draw))

    who = np.flatnonzero(imitates)
    peers = draw_peers(market, weight, alive, who, rng)
    found = peers >= 0
    who, peers = who[found], peers[found]
    gap = np.maximum(productivity[peers] - productivity[who], 0.0)
    best[who] = np.maximum(best[who], productivity[who] + p["imitation_absorption"] * gap)
    return best, best > productivity


def patent_applications(rd_spending, weight, patent_yield: float, rng: np.random.Generator) -> np.ndarray:
    """Invention patent applications filed by each row's real firms in the year (Poisson)."""
    return rng.poisson(patent_yield * rd_spending * weight).astype(np.float64)


def patent_stock(stock, applications_per_firm, depreciation: float) -> np.ndarray:
    return stock * (1.0 - depreciation) + applications_per_firm
