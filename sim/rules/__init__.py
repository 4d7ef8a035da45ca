"""Firm rules: pure functions over whole columns, one file per process.

Each module declares `PROCESS`: what it reads and writes, with units (xarray-simlab style). The
order in which the model calls them is documented in `sim.model.IndustryModel.step`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    name: str
    description: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    parameters: tuple[str, ...] = ()
