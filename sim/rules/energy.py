"""Energy use and carbon.

Energy intensity (tce per M RMB of real value added) falls with an autonomous efficiency trend,
with new equipment (see finance) and with digital stages (see digital); carbon per unit of energy
follows the macro path of fuel switching. 001 III (vii): industry accounts for "about two-thirds
of China's total energy consumption and about 70% of its total carbon emissions". A carbon price
(the carbon_constraint lever) cuts covered firms' energy intensity further and costs them the
price times last year's verified CO2 (compliance follows the emission year, as in emissions trading).
"""

from __future__ import annotations

import math

from numba import njit

from sim.rules import Process, parameter_tuple

PROCESS = Process(
    name="energy",
    description="Energy intensity trend, energy use from real value added, carbon intensity path.",
    reads=("energy_intensity", "carbon_intensity", "value_added"),
    writes=("energy_intensity", "energy_use", "carbon_intensity"),
    parameters=("energy_efficiency_trend",),
)
Params = parameter_tuple(PROCESS, __name__)


@njit(cache=True)
def energy_intensity(intensity, trend):
    return intensity * (1.0 - trend)


@njit(cache=True)
def carbon_abatement(intensity, carbon_price, response):
    """Carbon constraint: energy intensity cut further by exp(-response x price / 100 RMB/t)."""
    return intensity * math.exp(-response * carbon_price / 100.0)


@njit(cache=True)
def carbon_cost(energy_use_, carbon_intensity_, carbon_price):
    """M RMB paid for the CO2 of `energy_use_` tce at `carbon_price` RMB per tonne."""
    return carbon_price * energy_use_ * carbon_intensity_ / 1e6


@njit(cache=True)
def energy_use(intensity, value_added_, price_index):
    return intensity * value_added_ / price_index


@njit(cache=True)
def carbon_intensity(intensity, factor_change):
    return intensity * (1.0 + factor_change)
