"""Firm rules: one file per process, each a set of pure functions compiled with numba.

A rule is written for one firm (scalars in, scalars out, or one row of the firm columns bundle
sim.firms.FirmColumns) or for one market, so that it reads as the economics it encodes and can be
tested on its own; sim/year.py composes them into one compiled loop over the firm columns per
year. Each module declares `PROCESS` (sim.processes.Process): what it reads and writes, and the
parameters it takes; `Params` is the typed tuple of those parameters that the compiled code
receives, filled by `parameters_for`. Rules import neither the levers' declaration nor the model:
a lever reaches a rule as an intensity (read from the year's table by sim.lever_table).
"""

from sim.processes import Process, parameter_tuple, parameters_for

__all__ = ["Process", "parameter_tuple", "parameters_for"]
