"""Speed and memory benchmark of the baseline (not a test): firm-years per second and peak memory.

    python benchmarks/run.py            # scales 0.01, 0.1 and 1.0 (full scale: every above-scale firm)
    python benchmarks/run.py --quick    # scales 0.01 and 0.1

Each scale runs in its own process so that peak resident memory is that run's alone. The last
line is machine-readable JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
from sim.firms import FIRM_STATE
from sim.macro import build_macro
from sim.model import IndustryModel
from sim.parameters import resolve
import numpy as np
imported = time.perf_counter()
model = IndustryModel(resolve(), build_macro(), seed=1, scale=float(sys.argv[1]))
built = time.perf_counter()
firm_years = 0
while model.year < 2035:
    model.step()
    firm_years += int(model.firms.alive.sum())
finished = time.perf_counter()
print(json.dumps({
    "scale": float(sys.argv[1]),
    "rows_2035": int(model.firms.alive.sum()),
    "firm_years": firm_years,
    "import_s": imported - started,
    "build_s": built - imported,
    "simulate_s": finished - built,
    "total_s": finished - started,
    "firm_years_per_s": firm_years / (finished - built),
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "state_bytes_per_firm": sum(np.dtype(spec[0]).itemsize for spec in FIRM_STATE.values()),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scales only (about a minute)")
    args = parser.parse_args()
    scales = [0.01, 0.1] if args.quick else [0.01, 0.1, 1.0]
    results = []
    for scale in scales:
        output = subprocess.run([sys.executable, "-c", CHILD, str(scale)], capture_output=True, text=True, check=True)
        results.append(json.loads(output.stdout.strip().splitlines()[-1]))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'scale':>6} {'rows 2035':>10} {'firm-years':>11} {'build s':>8} {'simulate s':>11} {'total s':>8} "
          f"{'firm-years/s':>13} {'peak MiB':>9} {'B/firm':>7}")
    for r in results:
        print(f"{r['scale']:>6g} {r['rows_2035']:>10,} {r['firm_years']:>11,} {r['build_s']:>8.2f} {r['simulate_s']:>11.2f} "
              f"{r['total_s']:>8.2f} {r['firm_years_per_s']:>13,.0f} {r['peak_rss_mib']:>9.0f} {r['state_bytes_per_firm']:>7}")
    print(json.dumps({"benchmark": "baseline", "results": results}))


if __name__ == "__main__":
    main()
