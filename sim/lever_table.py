"""The yearly lever table the compiled rules read: its layout and its readers.

One row per lever (sim.levers.LEVER_NAMES order): the lever's intensity this year in column 0, then
0/1 masks over firm classes, regions, industries and ladder rungs (which firms it reaches).
sim.levers.LeverSchedule builds the table; sim/year.py and the location rule read it. This module
sits beneath both, so that rules need not import the levers' declaration.
"""

from __future__ import annotations

from numba import njit

from sim import taxonomy

N_CLASSES, N_REGIONS, N_RUNGS = len(taxonomy.FIRM_CLASSES), len(taxonomy.REGIONS), len(taxonomy.LADDER_RUNGS)
CLASS_COLUMN = 1
REGION_COLUMN = CLASS_COLUMN + N_CLASSES
INDUSTRY_COLUMN = REGION_COLUMN + N_REGIONS


@njit(cache=True, _nrt=False)
def intensity(table, lever, firm_class, region, industry, rung):
    """The intensity lever `lever` applies to a firm of these categories this year (0 when the lever
    does not act or the firm is outside its target)."""
    value = table[lever, 0]
    if value == 0.0:
        return 0.0
    if (table[lever, CLASS_COLUMN + firm_class] == 0.0 or table[lever, REGION_COLUMN + region] == 0.0
            or table[lever, INDUSTRY_COLUMN + industry] == 0.0 or table[lever, table.shape[1] - N_RUNGS + rung] == 0.0):
        return 0.0
    return value


@njit(cache=True, _nrt=False)
def intensity_any_rung(table, lever, firm_class, region, industry):
    """As `intensity`, ignoring the ladder-rung mask (for levers whose rung target names the rungs
    they support, see rung_targeted)."""
    value = table[lever, 0]
    if value == 0.0:
        return 0.0
    if (table[lever, CLASS_COLUMN + firm_class] == 0.0 or table[lever, REGION_COLUMN + region] == 0.0
            or table[lever, INDUSTRY_COLUMN + industry] == 0.0):
        return 0.0
    return value


@njit(cache=True, _nrt=False)
def rung_targeted(table, lever, rung):
    return table[lever, table.shape[1] - N_RUNGS + rung] != 0.0
