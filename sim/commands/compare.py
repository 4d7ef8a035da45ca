"""`sim compare A.toml B.toml ...`: scenarios on common random numbers, differences from the first."""

from __future__ import annotations

import time
from pathlib import Path


def register(commands) -> None:
    from sim.commands.common import positive_float, scale_range, seed_count

    compare = commands.add_parser(
        "compare",
        help="run scenarios on the same seeds; print differences from the first with 90%% bands, costs and goal checks",
        description="Runs every scenario on the same seeds and scale (common random numbers), prints the differences from "
                    "the first scenario in 2025, 2030 and 2035 (mean and 5%-95% band of the seed-by-seed differences), "
                    "fiscal cost and cost-effectiveness, and the official goals checked run by run; writes everything as "
                    "one NetCDF file with a `scenario` dimension.",
    )
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (TOML); the first is the reference")
    compare.add_argument("--seeds", type=seed_count, default=None,
                         help="runs per scenario (seeds 1..N, the same for all); default: the first scenario's `seeds`")
    compare.add_argument("--scale", type=positive_float, default=None, help=f"share of real firms simulated, {scale_range()}; default: the first scenario's `scale`")
    compare.add_argument("--out", default="outputs", help="output directory (default: outputs)")
    compare.add_argument("--overwrite", action="store_true", help="replace an existing comparison file")
    compare.set_defaults(handler=command_compare)




def output_name(names: list[str]) -> str:
    return f"compare_{names[0]}_vs_{'_'.join(names[1:])}.nc"


def command_compare(args) -> int:
    from sim.errors import InputError
    from sim.scenario import load_scenario

    if len(args.scenarios) < 2:
        raise InputError(args.scenarios[0], None, "compare needs at least two scenario files (the first is the reference)")
    scenarios = [load_scenario(path) for path in args.scenarios]  # every file validated before any run
    names = [s.name for s in scenarios]
    for path, scenario in zip(args.scenarios, scenarios):
        if names.count(scenario.name) > 1:
            raise InputError(path, "name", f"scenario name '{scenario.name}' is given twice; names label the `scenario` dimension")
    from sim.output import check_output_path, file_name_problem, output_lock, write_atomic

    problem = file_name_problem(Path(output_name(names)).stem)
    if problem:
        raise InputError(args.scenarios[-1], "name", f"the comparison's file name {output_name(names)!r} {problem}: shorten the scenario names")
    target = Path(args.out) / output_name(names)
    check_output_path(target, args.overwrite)  # bad input is refused before anything is touched, the lock file included
    with output_lock(target.parent, target.stem):  # held from the check below to the file's rename
        check_output_path(target, args.overwrite)  # again: another command may have written it meanwhile
        dataset = compare_scenarios(args, scenarios)
        write_atomic(dataset, target)
    from sim.compare import report

    print()
    print(report(dataset))
    print(f"\nwrote {target}")
    return 0


def compare_scenarios(args, scenarios):
    """Run the scenarios on common seeds, printing progress and warnings."""
    from sim.compare import run_comparison
    from sim.runner import default_seeds

    seeds = default_seeds(args.seeds or scenarios[0].seeds)
    scale = args.scale if args.scale is not None else scenarios[0].scale
    started = time.perf_counter()

    def progress(scenario, runs):
        print(f"scenario {scenario.name}: {runs} run(s) at scale {scale:g} done ({time.perf_counter() - started:.1f} s)"
              + (f"; levers: {scenario.lever_summary()}" if scenario.lever_summary() else ""), flush=True)

    def warn(message):
        print(f"warning: {message}", flush=True)

    from sim.commands.common import announce_compiling

    announce_compiling()
    return run_comparison(scenarios, seeds, scale, progress, warn)
