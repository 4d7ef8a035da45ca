"""Gradient cultivation: promotions up the ladder SRDI SME -> little giant, and single-item champions.

001 II (iv): "more than 103,000 specialized, refined, distinctive, and innovative SMEs ... along
with 12,000 'little giants,' and 1,186 'single-item champion' enterprises (whose market share of
products in key segments ranks among the top three in the world)". Criteria are on size, R&D
intensity and niche position; recognition is by application and batch, so eligible firms are
recognised with a yearly probability once the programme has started. A firm keeps its rung until
it exits. Support for recognised firms (the gradient_cultivation lever) raises the recognition rates.
"""

from __future__ import annotations

from numba import njit

from sim import taxonomy
from sim.randomness import draw_number, uniform
from sim.processes import Process, parameter_tuple

PROCESS = Process(
    name="ladder",
    description="Promotions to SRDI SME, little giant and single-item champion on size, R&D intensity and niche position.",
    reads=("ladder_rung", "firm_class", "revenue", "rd_spending", "market_share", "industry", "alive"),
    writes=("ladder_rung",),
    parameters=("srdi_start_year", "little_giant_start_year", "champion_start_year", "srdi_min_rd_intensity",
                "srdi_min_niche_share", "srdi_recognition_rate", "little_giant_min_revenue",
                "little_giant_recognition_rate", "champion_min_share", "champion_min_revenue", "champion_recognition_rate"),
)
Params = parameter_tuple(PROCESS, __name__)
DRAW_RECOGNITION = draw_number("ladder", "recognition")
SME, CHAMPION, LITTLE_GIANT, SRDI, NONE = (taxonomy.SME, taxonomy.RUNG_CHAMPION, taxonomy.RUNG_LITTLE_GIANT,
                                           taxonomy.RUNG_SRDI, taxonomy.RUNG_NONE)


@njit(cache=True)
def promote(rung, firm_class, revenue, rd_intensity, relative_share, niche, manufacturing, year, p, key, row,
            srdi_boost=1.0, little_giant_boost=1.0, champion_boost=1.0):
    """The firm's rung after this year's recognitions.

    relative_share: market share over the market's mean share (champions: a leading position);
    niche: revenue over the mean revenue of the SMEs of its market (SRDI: a strong position among them).
    *_boost: factors on the recognition rates (the gradient_cultivation lever; 1 without it)."""
    # One uniform draw decides every recognition; it is computed only for a firm that qualifies for
    # one (a counter-based draw is the same number whenever it is computed; most firms qualify for none).
    innovative = rd_intensity >= p.srdi_min_rd_intensity
    if (year >= p.champion_start_year and manufacturing and rung != CHAMPION and relative_share >= p.champion_min_share
            and revenue >= p.champion_min_revenue and uniform(key, row, DRAW_RECOGNITION) < p.champion_recognition_rate * champion_boost):
        return CHAMPION
    if (year >= p.little_giant_start_year and rung == SRDI and innovative and revenue >= p.little_giant_min_revenue
            and uniform(key, row, DRAW_RECOGNITION) < p.little_giant_recognition_rate * little_giant_boost):
        return LITTLE_GIANT
    if (year >= p.srdi_start_year and rung == NONE and firm_class == SME and innovative and niche >= p.srdi_min_niche_share
            and uniform(key, row, DRAW_RECOGNITION) < p.srdi_recognition_rate * srdi_boost):
        return SRDI
    return rung


@njit(cache=True, inline="always")
def ladder_inputs(f, i, firms_in_market, sme_firms, sme_revenue, rd_spending):
    """What the criteria read of row i: (R&D over revenue; market share over the market's mean
    share, a leading position; revenue over the mean revenue of its market's SMEs, a niche)."""
    revenue = f.revenue[i]
    relative_share = f.market_share[i] * firms_in_market
    niche = revenue * sme_firms / sme_revenue if sme_revenue > 0.0 else 0.0
    rd_intensity = rd_spending / revenue if revenue > 0.0 else 0.0
    return rd_intensity, relative_share, niche


@njit(cache=True)
def recognition_boost(support, response):
    """Gradient cultivation: factor on the recognition rate of a supported rung, 1 + response x support."""
    return 1.0 + response * support


@njit(cache=True)
def support_income(support, revenue):
    """Gradient cultivation: support a recognised firm receives (M RMB), `support` % of its revenue."""
    return support / 100.0 * revenue
