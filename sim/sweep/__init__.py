"""Ensembles and sensitivity sweeps: sweep files, their designs, executors and SALib analysis.

One contract for every model (SALib's): a *problem* is input names with bounds read from the
model's parameter declaration; the *model* is ``f(inputs, seed) -> {variable: yearly series}``.
The firm model (:class:`SimModel`) and the Ishigami test function (:class:`IshigamiModel`) go
through exactly the same sampling, execution, storage and analysis code.

    spec = load_sweep("scenarios/sweeps/morris_quick.toml")
    result = run_sweep(spec, out_dir="outputs/sweeps", workers=2)      # or scheduler="tcp://..."
    tables = analyse(spec, result.dataset)

The package is also callable: ``sim.sweep(spec, ...)`` is :func:`sim.api.sweep`, which validates a
sweep file or a mapping of its keys, runs it and returns the Dataset (see sim/__init__.py).
"""

from sim.sweep.analysis import analyse, output_values
from sim.sweep.execute import SweepResult, run_sweep
from sim.sweep.models import IshigamiModel, SimModel
from sim.sweep.spec import METHODS, SweepError, SweepSpec, load_sweep, parse_sweep

__all__ = [
    "METHODS",
    "IshigamiModel",
    "SimModel",
    "SweepError",
    "SweepResult",
    "SweepSpec",
    "analyse",
    "load_sweep",
    "output_values",
    "parse_sweep",
    "run_sweep",
]
