"""Energy use and carbon.

Energy intensity (tce per M RMB of real value added) falls with an autonomous efficiency trend,
with new equipment (see finance) and with digital stages (see digital); carbon per unit of energy
follows the macro path of fuel switching. 001 III (vii): industry accounts for "about two-thirds
of China's total energy consumption and about 70% of its total carbon emissions".
"""

from __future__ import annotations

import numpy as np

from sim.rules import Process

PROCESS = Process(
    name="energy",
    description="Energy intensity trend, energy use from real value added, carbon intensity path.",
    reads=("energy_intensity", "carbon_intensity", "value_added"),
    writes=("energy_intensity", "energy_use", "carbon_intensity"),
    parameters=("energy_efficiency_trend",),
)


def energy_intensity(intensity, trend: float) -> np.ndarray:
    return intensity * (1.0 - trend)


def energy_use(intensity, value_added, price_index: float) -> np.ndarray:
    return intensity * value_added / price_index


def carbon_intensity(intensity, factor_change: float) -> np.ndarray:
    return intensity * (1.0 + factor_change)
