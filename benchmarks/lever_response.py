"""The lever-response table of the shipped lever scenarios (sim/lever_response.py): every supply-side
lever and the carbon price against the baseline, on common seeds, beside the published figures.

    python benchmarks/lever_response.py                     # 10 seeds at scale 0.1 (about 10 minutes on 2 cores)
    python benchmarks/lever_response.py --seeds 4 --scale 0.05

Not a test: the table reports what the model does; whether a response falls in the published range
is information for the calibration, not a pass/fail gate.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim import lever_response
from sim.compare import difference_table, run_comparison
from sim.runner import default_seeds
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
LEVER_SCENARIOS = ("baseline", "digital_empowerment", "rd_superdeduction", "equipment_renewal", "ai_empowerment",
                   "gradient_cultivation", "green_transition")
VARIABLES = ("industrial_va_real", "labour_productivity", "industrial_ppi", "investment", "capacity_utilization",
             "rd_spend_mfg", "industrial_energy", "employment_mfg")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args(argv)
    scenarios = [load_scenario(SCENARIOS / f"{name}.toml") for name in LEVER_SCENARIOS]
    started = time.perf_counter()
    dataset = run_comparison(scenarios, default_seeds(args.seeds), args.scale,
                             progress=lambda s, runs: print(f"{s.name}: {runs} runs ({time.perf_counter() - started:.0f} s)",
                                                            flush=True))
    print()
    print(lever_response.table(dataset))
    print()
    print(difference_table(dataset, variables=VARIABLES, years=(2025, 2030, 2035)))


if __name__ == "__main__":
    main()
