"""Size class: private firms crossing the SME revenue limit change class.

An SME is a firm below the SME revenue limit (NBS's classification of large, medium, small and
micro enterprises, by revenue for industry); a large private firm falling below it becomes an SME
again. State-owned and foreign-funded firms keep their ownership class whatever their size.
"""

from __future__ import annotations

from numba import njit

from sim import taxonomy
from sim.processes import Process, parameter_tuple

PROCESS = Process(
    name="size_class",
    description="Private firms are SMEs below the SME revenue limit and large private firms above it.",
    reads=("firm_class", "revenue"),
    writes=("firm_class",),
    parameters=("sme_revenue_limit",),
)
Params = parameter_tuple(PROCESS, __name__)
SME, LARGE_PRIVATE = taxonomy.SME, taxonomy.LARGE_PRIVATE


@njit(cache=True)
def size_class(firm_class, revenue, p):
    """The firm's class after the year: private firms by revenue, others unchanged."""
    if firm_class == SME or firm_class == LARGE_PRIVATE:
        return LARGE_PRIVATE if revenue >= p.sme_revenue_limit else SME
    return firm_class
