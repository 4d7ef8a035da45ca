"""Location: firms moving abroad (relocation lever) and from the east inland (regional_transfer lever).

000 2.3): "many enterprises in China, especially foreign-funded enterprises, have accelerated their
transfer to developing countries"; 001 III (iii): "support the central and western regions in
boosting their ability to receive industrial transfers". Both act at the start of a year, before
competition, on each targeted firm with a draw of its own (stream "levers"):
- relocation abroad: an export-oriented firm (exporting at least relocation_min_export_share of its
  revenue) leaves with probability equal to the lever's intensity, an exit on top of the ordinary
  ones; its export orders leave with it (its market's export demand falls by its exports), whereas
  an ordinary exit leaves its demand to its competitors;
- transfer inland: an eastern firm moves with probability equal to the lever's intensity to the
  central or the western region (in proportion to their 2012 firm counts). The model's one national
  wage averages over regions, so a mover's labour cost is multiplied by the destination's wage over
  the east's (wage_ratio_*); the move costs relocation_cost_share of its capital, of which the
  receiving region pays relocation_subsidy_share (the lever's fiscal cost).
Without the levers nothing here runs. Parameters: sim.levers.Params.
"""

from __future__ import annotations

from numba import njit

from sim import taxonomy
from sim.lever_table import intensity
from sim.randomness import draw_number, uniform
from sim.processes import Process

PROCESS = Process(
    name="location",
    description="Relocation abroad of export-oriented firms; transfer of eastern firms to central and western regions.",
    reads=("export_share", "region", "firm_class", "industry", "ladder_rung", "capital", "weight", "alive"),
    writes=("alive", "weight", "market_share", "region", "cash", "labour-cost factor of movers (model column)"),
)
EAST, CENTRAL, WEST, NORTHEAST = (taxonomy.REGIONS.index(r) for r in ("east", "central", "west", "northeast"))
# Draw numbers of the "levers" stream, per firm row (sim.randomness.DRAW_NUMBERS).
DRAW_RELOCATION, DRAW_TRANSFER, DRAW_DESTINATION = (draw_number("levers", use) for use in ("relocation", "transfer", "destination"))


@njit(cache=True)
def relocate_abroad(alive, weight, share, revenue, export_share, market, firm_class, region, industry, ladder_rung, table,
                    lever, key, min_export_share, lost_exports):
    """Mark this year's relocations abroad (like exits: weight and share to zero), at the intensity
    of row `lever` of the lever table (sim.lever_table); return the weight that left. The export orders of a firm that moves abroad leave with it: its exports of last year
    are added to lost_exports[market] (M RMB), which the model takes off the market's export demand."""
    left = 0.0
    for i in range(alive.size):
        if not alive[i]:
            continue
        x = intensity(table, lever, firm_class[i], region[i], industry[i], ladder_rung[i])
        if x > 0.0 and export_share[i] >= min_export_share and uniform(key, i, DRAW_RELOCATION) < x:
            lost_exports[market[i]] += weight[i] * revenue[i] * export_share[i]
            left += weight[i]
            alive[i] = False
            weight[i] = 0.0
            share[i] = 0.0
    return left


@njit(cache=True)
def wage_ratio(region, p):
    """Labour cost per worker in a region over the east's."""
    if region == CENTRAL:
        return p.wage_ratio_central
    if region == WEST:
        return p.wage_ratio_west
    if region == NORTHEAST:
        return p.wage_ratio_northeast
    return 1.0


@njit(cache=True)
def transfer_inland(alive, weight, firm_class, region, industry, ladder_rung, capital, cash, wage_factor, table, lever, key,
                    central_share, p):
    """Move this year's transferring eastern firms inland (columns updated in place), at the
    intensity of row `lever` of the lever table.

    Returns (subsidies paid in M RMB, weight of the firms that moved)."""
    subsidies = 0.0
    moved = 0.0
    for i in range(alive.size):
        if not alive[i] or region[i] != EAST:
            continue
        x = intensity(table, lever, firm_class[i], region[i], industry[i], ladder_rung[i])
        if x > 0.0 and uniform(key, i, DRAW_TRANSFER) < x:
            destination = CENTRAL if uniform(key, i, DRAW_DESTINATION) < central_share else WEST
            region[i] = destination
            wage_factor[i] *= wage_ratio(destination, p) / wage_ratio(EAST, p)
            cost = p.relocation_cost_share * capital[i]
            subsidy = p.relocation_subsidy_share * cost
            cash[i] -= cost - subsidy
            subsidies += weight[i] * subsidy
            moved += weight[i]
    return subsidies, moved
