"""Firm rules: one file per process, each a set of pure functions compiled with numba.

A rule is written for one firm (scalars in, scalars out) or for one market, so that it reads as
the economics it encodes and can be tested on its own; sim/year.py composes them into one
compiled loop over the firm columns per year. Each module declares `PROCESS`: what it reads and
writes, and the parameters it takes (xarray-simlab style); `Params` is the typed tuple of those
parameters that the compiled code receives, filled by `parameters_for`.
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
