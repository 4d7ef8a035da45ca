"""Gradient cultivation: promotions up the ladder SRDI SME -> little giant, and single-item champions.

001 II (iv): "more than 103,000 specialized, refined, distinctive, and innovative SMEs ... along
with 12,000 'little giants,' and 1,186 'single-item champion' enterprises (whose market share of
products in key segments ranks among the top three in the world)". Criteria are on size, R&D
intensity and niche position (market share relative to its market's mean); recognition is by
application and batch, so eligible firms are recognised with a yearly probability once the
programme has started. A firm keeps its rung until it exits.
"""

from __future__ import annotations

import numpy as np

from sim import taxonomy
from sim.rules import Process

PROCESS = Process(
    name="ladder",
    description="Promotions to SRDI SME, little giant and single-item champion on size, R&D intensity and niche position.",
    reads=("ladder_rung", "firm_class", "revenue", "rd_spending", "market_share", "industry", "alive"),
    writes=("ladder_rung",),
    parameters=("srdi_start_year", "little_giant_start_year", "champion_start_year", "srdi_min_rd_intensity",
                "srdi_min_niche_share", "srdi_recognition_rate", "little_giant_min_revenue",
                "little_giant_recognition_rate", "champion_min_share", "champion_min_revenue", "champion_recognition_rate"),
)


def promote(rung, firm_class, revenue, rd_intensity, relative_share, niche, manufacturing, alive, year: int, p: dict,
            rng: np.random.Generator, recognition_boost: float = 1.0) -> np.ndarray:
    """New rungs after this year's recognitions.

    relative_share: market share over the market's mean share (champions: a leading position);
    niche: revenue over the mean revenue of SMEs in the firm's market (SRDI: a strong position
    among the SMEs of its market)."""
    n = rung.size
    u = rng.random(n, dtype=np.float32)
    rung = rung.copy()
    innovative = rd_intensity >= p["srdi_min_rd_intensity"]
    if year >= p["champion_start_year"]:
        eligible = alive & manufacturing & (rung != taxonomy.RUNG_CHAMPION) & (relative_share >= p["champion_min_share"]) & (
            revenue >= p["champion_min_revenue"]
        )
        rung[eligible & (u < p["champion_recognition_rate"] * recognition_boost)] = taxonomy.RUNG_CHAMPION
    if year >= p["little_giant_start_year"]:
        eligible = alive & (rung == taxonomy.RUNG_SRDI) & innovative & (revenue >= p["little_giant_min_revenue"])
        rung[eligible & (u < p["little_giant_recognition_rate"] * recognition_boost)] = taxonomy.RUNG_LITTLE_GIANT
    if year >= p["srdi_start_year"]:
        eligible = alive & (rung == taxonomy.RUNG_NONE) & (firm_class == taxonomy.SME) & innovative & (
            niche >= p["srdi_min_niche_share"]
        )
        rung[eligible & (u < p["srdi_recognition_rate"] * recognition_boost)] = taxonomy.RUNG_SRDI
    return rung
