"""Sweep benchmark (not a test): Morris over 10 inputs, 10 trajectories (110 samples, one seed
each) at scale 0.01, with 1 and with 2 local workers: wall time and the speed-up of 2 over 1.

    python benchmarks/sweep_bench.py                 # workers 1 and 2
    python benchmarks/sweep_bench.py --workers 1 2 4

The inputs and their bounds are the first ten of scenarios/sweeps/morris_full.toml. Each case
runs `sim sweep` in a fresh process, as a user would: "wall" includes imports, starting the
workers and the analysis; "sweep" is the samples alone; "cores" is the CPU time of the sweep's
processes over the wall time (below the worker count when other work shares the machine). The
last line is machine-readable JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT / "scenarios" / "sweeps" / "morris_full.toml"
INPUTS = 10
TRAJECTORIES = 10
SCALE = 0.01


def sweep_file(directory: Path) -> Path:
    with open(FULL, "rb") as handle:
        full = tomllib.load(handle)
    names = list(full["inputs"])[:INPUTS]
    lines = [
        'name = "sweep_bench"',
        f'scenario = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"',
        'method = "morris"',
        f"scale = {SCALE}",
        "seeds = 1",
        "sampler_seed = 1",
        'on_error = "skip"',  # the uncalibrated model fails at a few corners; timing counts them too
        'variables = ["manufacturing_va", "industrial_co2"]',
        "[options]",
        f"trajectories = {TRAJECTORIES}",
        "[inputs]",
    ]
    for name in names:
        lower, upper = full["inputs"][name]["bounds"]
        lines.append(f"{name} = {{ bounds = [{lower!r}, {upper!r}] }}")
    lines += ["[[outputs]]", 'variable = "manufacturing_va"', "year = 2035", "[[outputs]]", 'variable = "industrial_co2"', "year = 2035"]
    path = directory / "sweep_bench.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(path: Path, workers: int, out: Path) -> dict:
    out.mkdir()
    command = [sys.executable, "-m", "sim", "sweep", str(path), "--workers", str(workers), "--out", str(out), "--quiet"]
    import psutil  # a dependency of dask.distributed

    load = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    cpu_by_pid: dict[int, float] = {}
    while process.poll() is None:  # CPU seconds of the sweep's whole process tree (pool workers too)
        try:
            tree = psutil.Process(process.pid)
            for member in [tree, *tree.children(recursive=True)]:
                times = member.cpu_times()
                cpu_by_pid[member.pid] = times.user + times.system
        except psutil.Error:
            pass
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    cpu = sum(cpu_by_pid.values())
    if process.returncode != 0:
        sys.exit(f"sweep with {workers} worker(s) failed:\n{stderr}")
    match = re.search(r"ran (\d+) sample\(s\).* in ([0-9.]+) s", stdout)
    return {
        "workers": workers,
        "samples": int(match.group(1)),
        "wall_s": round(wall, 2),
        "sweep_s": float(match.group(2)),
        "cpu_s": round(cpu, 1),  # every process of the sweep (workers included), sampled every 0.2 s
        "cores_used": round(cpu / wall, 2),
        "load_before": round(load, 2),  # 1-minute load average: other work on the machine skews the speed-up
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        path = sweep_file(directory)
        cases = [run(path, workers, directory / f"w{workers}") for workers in args.workers]
    base = cases[0]
    print(f"Morris, {INPUTS} inputs x {TRAJECTORIES} trajectories = {base['samples']} samples, 1 seed, scale {SCALE}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'workers':>8} {'wall s':>8} {'sweep s':>8} {'s/sample':>9} {'cpu s':>7} {'cores':>6} {'load':>5} {'speed-up (wall)':>16} {'speed-up (sweep)':>17}")
    for case in cases:
        case["speedup_sweep"] = round(base["sweep_s"] / case["sweep_s"], 2)
        case["speedup_wall"] = round(base["wall_s"] / case["wall_s"], 2)
        per_sample = case["sweep_s"] / case["samples"]
        print(f"{case['workers']:>8} {case['wall_s']:>8.1f} {case['sweep_s']:>8.1f} {per_sample:>9.3f} {case['cpu_s']:>7.1f} {case['cores_used']:>6.2f} "
              f"{case['load_before']:>5.2f} {case['speedup_wall']:>16.2f} {case['speedup_sweep']:>17.2f}")
    if max(case["load_before"] for case in cases) > 0.5:
        print("note: the machine was busy (load average above 0.5 before a case): the speed-up understates the executor's")
    print(json.dumps({"benchmark": "sweep_morris_10x10", "scale": SCALE, "cases": cases}))


if __name__ == "__main__":
    main()
