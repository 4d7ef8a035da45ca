"""What a process declares (xarray-simlab style): its name, the firm columns it reads and writes,
and the parameters it takes, with the typed tuple of those parameters that compiled code receives.

A module of its own, beneath both the rules (sim/rules/) and the declarations that are not rules
(sim/levers.py), so that neither imports the other.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    name: str
    description: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    parameters: tuple[str, ...] = ()


def parameter_tuple(process: Process, module: str):
    """A namedtuple class `Params` with one float field per declared parameter of the process.

    It must be bound to the name `Params` in `module` so that numba's on-disk cache finds the type
    again in a new process (otherwise every run recompiles)."""
    return namedtuple("Params", process.parameters, module=module)


def parameters_for(module, values: dict):
    """The module's Params filled from resolved parameter values (floats)."""
    return module.Params(*(float(values[name]) for name in module.PROCESS.parameters))
