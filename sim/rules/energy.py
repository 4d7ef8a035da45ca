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

from sim.processes import Process, parameter_tuple

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
    """Energy intensity after the year's autonomous efficiency gain."""
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
def energy_use(intensity, value_added_, va_price):
    """Energy use (tce): intensity times real value added (value added over the market's value-added
    price, 2012 = 1)."""
    return intensity * value_added_ / va_price


@njit(cache=True)
def carbon_intensity(intensity, factor_change):
    """CO2 per tce after the year's fuel switching (a macro path)."""
    return intensity * (1.0 + factor_change)


@njit(cache=True, inline="always")
def use_energy(f, i, intensity, value_added_, va_price, factor_change, carbon_price, abatement_response, p):
    """Row i's energy of the year, written: `intensity` (after this year's digital and vintage
    gains) moved by the efficiency trend and, under a carbon price, abated further; carbon per tce
    on its path; energy use from real value added."""
    intensity = energy_intensity(intensity, p.energy_efficiency_trend)
    if carbon_price != 0.0:
        intensity = carbon_abatement(intensity, carbon_price, abatement_response)
    f.energy_intensity[i] = intensity
    f.carbon_intensity[i] = carbon_intensity(f.carbon_intensity[i], factor_change)
    f.energy_use[i] = energy_use(intensity, value_added_, va_price)


@njit(cache=True, inline="always")
def carbon_charge(f, i, carbon_price):
    """What row i's firm pays for last year's CO2 this year (M RMB per firm; 0 without a price)."""
    return carbon_cost(f.energy_use[i], f.carbon_intensity[i], carbon_price) if carbon_price != 0.0 else 0.0
