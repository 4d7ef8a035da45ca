"""Energy use and carbon.

Energy intensity (tce per M RMB of real value added) falls with an autonomous efficiency trend,
with new equipment (see finance) and with digital stages (see digital); carbon per unit of energy
follows the macro path of fuel switching. 001 III (vii): industry accounts for "about two-thirds
of China's total energy consumption and about 70% of its total carbon emissions".
"""

from __future__ import annotations

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
def energy_use(intensity, value_added_, price_index):
    return intensity * value_added_ / price_index


@njit(cache=True)
def carbon_intensity(intensity, factor_change):
    return intensity * (1.0 + factor_change)
