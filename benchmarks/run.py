"""Speed and memory benchmark (not a test): sim against the classic-Mesa reference, side by side.

    python benchmarks/run.py            # 10k, 100k and 1M firms, full scale, the 52-million-firm run
    python benchmarks/run.py --quick    # 10k and 100k firms, shorter Mesa runs (about a minute)
    python benchmarks/run.py --whole-population-runs 3   # the 52-million-firm run three times, and the median

For each size, the baseline scenario's 2012 population is built with that many firm rows and run to
2035 (sim) or for as many years as is reasonable (the Mesa reference, benchmarks/mesa_reference.py:
one mesa.Agent per firm with its own step()). Firm-years per second compare the two. Each run is a
separate process, so that its peak resident memory is its own. The machine's numpy copy bandwidth
is measured in the same run; "share of copy bandwidth" is the firm state sim reads and writes per
second (2 x bytes of state per firm x firm-years per second) over that bandwidth. So is the cost of
a first write to fresh memory, which on a virtual machine can be a large part of a big run. The
last line is machine-readable JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (10_000, 100_000, 1_000_000)

SIM_CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
from sim.macro import build_macro
from sim.model import IndustryModel
from sim.parameters import resolve
scale, last_year, coverage = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
imported = time.perf_counter()
model = IndustryModel(resolve(), build_macro(), seed=1, scale=scale, coverage=coverage)
built = time.perf_counter()
rows_2012 = int(model.firms.alive.sum())
firm_years = 0
while model.year < last_year:
    model.step()
    firm_years += int(model.firms.alive.sum())
finished = time.perf_counter()
print(json.dumps({
    "engine": "sim", "scale": scale, "coverage": coverage, "threads": model.threads, "rows_2012": rows_2012,
    "rows_end": int(model.firms.alive.sum()), "years": last_year - 2012, "firm_years": firm_years,
    "build_s": built - imported, "simulate_s": finished - built, "total_s": finished - started,
    "firm_years_per_s": firm_years / (finished - built),
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "state_bytes_per_firm": model.firms.bytes_per_firm(),  # every row column: the firm state and the model's own
}))
"""

MESA_CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[3])
from mesa_reference import run_reference
result = run_reference(float(sys.argv[1]), seed=1, last_year=int(sys.argv[2]))
print(json.dumps({
    "engine": "mesa", "scale": float(sys.argv[1]), "years": int(sys.argv[2]) - 2012, "firm_years": result["firm_years"],
    "simulate_s": result["seconds"], "firm_years_per_s": result["firm_years_per_s"],
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

COPY_CHILD = r"""
import json, time
import numpy as np
# The first write to memory the process has not touched: on a virtual machine whose host backs its
# pages only when they are touched (and takes back freed ones), this costs seconds per GiB and is a
# large part of a whole-population run's time (its 9 GiB), so it is reported beside the bandwidth.
fresh = np.empty(1 << 27)  # 1 GiB of float64
started = time.perf_counter()
fresh.fill(1.0)
fresh_s_per_gib = time.perf_counter() - started
del fresh
source = np.ones(1 << 26)  # 512 MiB of float64
target = np.empty_like(source)
best = float("inf")
for _ in range(5):
    started = time.perf_counter()
    np.copyto(target, source)
    best = min(best, time.perf_counter() - started)
print(json.dumps({"copy_gb_per_s": 2 * source.nbytes / best / 1e9,  # bytes read plus bytes written
                  "fresh_memory_s_per_gib": fresh_s_per_gib}))
"""


def child(code: str, *arguments) -> dict:
    output = subprocess.run([sys.executable, "-c", code, *map(str, arguments)], capture_output=True, text=True)
    if output.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{output.stderr[-2000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def scale_for_rows():
    """A function giving the scale at which the 2012 population has about `rows` firm rows (rows grow
    linearly with scale beyond the census of the largest firms, simulated one to one at every scale)."""
    code = ("import sys; from sim.model import IndustryModel; from sim.macro import build_macro; from sim.parameters import resolve\n"
            "print([int(IndustryModel(resolve(), build_macro(), seed=1, scale=s).firms.alive.sum()) for s in (0.01, 1.0)])")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    small, full = json.loads(output.stdout.strip().splitlines()[-1])
    per_scale = (full - small) / 0.99
    return lambda rows: (rows - (full - per_scale)) / per_scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k firms only, short Mesa runs (about a minute)")
    parser.add_argument("--whole-population-runs", type=int, default=1, metavar="N",
                        help="run the whole population N times and report each run and the median (default 1)")
    args = parser.parse_args()
    if args.whole_population_runs < 1:
        parser.error("--whole-population-runs must be at least 1")
    sizes = SIZES[:2] if args.quick else SIZES
    # Years the Mesa reference runs at each size (it is far slower; its speed per firm-year hardly
    # depends on the number of years).
    mesa_last_year = {10_000: 2016 if args.quick else 2035, 100_000: 2013 if args.quick else 2016, 1_000_000: 2013}
    copy = child(COPY_CHILD)
    # numba compiles the rules on their first use after a change (about 20 s, cached on disk after):
    # a short run first, so that no timed run pays for it (in a fresh clone, the 10-thousand-firm run
    # would). Coverage all_enterprises at this scale makes columns large enough for every kernel.
    child(SIM_CHILD, 0.05, 2014, "all_enterprises")
    scale_of = scale_for_rows()
    rows = []
    for size in sizes:
        scale = scale_of(size)
        sim = child(SIM_CHILD, scale, 2035, "industrial")
        mesa = child(MESA_CHILD, scale, mesa_last_year[size], HERE)
        rows.append({"firms": size, "sim": sim, "mesa": mesa, "ratio": sim["firm_years_per_s"] / mesa["firm_years_per_s"]})
    extra = []
    if not args.quick:
        extra.append(("full scale (every above-scale firm)", child(SIM_CHILD, 1.0, 2035, "industrial")))
        for run in range(args.whole_population_runs):
            suffix = f", run {run + 1}" if args.whole_population_runs > 1 else ""
            extra.append((f"whole population (52 M firms){suffix}", child(SIM_CHILD, 1.0, 2035, "all_enterprises")))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"numpy copy bandwidth {copy['copy_gb_per_s']:.1f} GB/s; a first write to fresh memory "
          f"{copy['fresh_memory_s_per_gib']:.2f} s per GiB")
    print(f"{'firms':>10} {'sim rows 2012':>13} {'sim firm-yr/s':>14} {'Mesa firm-yr/s':>15} {'ratio':>7} "
          f"{'sim s':>7} {'Mesa yrs':>8} {'sim MiB':>8} {'Mesa MiB':>9} {'B/firm':>7} {'copy bw %':>9}")
    for row in rows:
        sim, mesa = row["sim"], row["mesa"]
        share = 2 * sim["state_bytes_per_firm"] * sim["firm_years_per_s"] / (copy["copy_gb_per_s"] * 1e9)
        row["copy_share"] = share
        print(f"{row['firms']:>10,} {sim['rows_2012']:>13,} {sim['firm_years_per_s']:>14,.0f} {mesa['firm_years_per_s']:>15,.0f} "
              f"{row['ratio']:>7.0f} {sim['simulate_s']:>7.2f} {mesa['years']:>8} {sim['peak_rss_mib']:>8.0f} "
              f"{mesa['peak_rss_mib']:>9.0f} {sim['state_bytes_per_firm']:>7} {100 * share:>8.1f}%")
    for label, run in extra:
        print(f"{label}: {run['rows_2012']:,} firms in 2012, {run['rows_end']:,} in 2035, {run['firm_years']:,} firm-years; "
              f"build {run['build_s']:.1f} s, simulate {run['simulate_s']:.1f} s, total {run['total_s']:.1f} s, "
              f"{run['firm_years_per_s']:,.0f} firm-years/s, peak {run['peak_rss_mib']:,.0f} MiB")
    whole = sorted(run["total_s"] for label, run in extra if label.startswith("whole population"))
    if len(whole) > 1:
        print(f"whole population: median total {statistics.median(whole):.1f} s of {len(whole)} runs "
              f"({whole[0]:.1f} to {whole[-1]:.1f} s)")
    print(json.dumps({"benchmark": "sim_vs_mesa", "machine": platform.machine(), "cores": os.cpu_count(),
                      "copy_gb_per_s": copy["copy_gb_per_s"], "fresh_memory_s_per_gib": copy["fresh_memory_s_per_gib"],
                      "sizes": rows,
                      "runs": {label: run for label, run in extra}}))


if __name__ == "__main__":
    main()
