"""The `sim` command line. Exit status: 0 success, 2 bad input (one line, no traceback), 1 internal error."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

from sim.commands.common import ArgumentParser, announce_compiling, positive_float, run_progress, scale_range, seed_count
from sim.errors import InputError
from sim.summary import summary_table

# Modules of sim/commands/ that register a subcommand (see build_parser).
COMMAND_MODULES: tuple[str, ...] = ("calibrate", "sweep", "plot", "report", "dashboard", "compare")


def command_run(args) -> int:
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)  # every input checked before the heavy imports and any work
    from sim.output import check_output_path, output_lock

    out_dir = Path(args.out)
    outputs = (out_dir / f"{scenario.name}.nc", out_dir / f"{scenario.name}.png")
    for path in outputs:  # bad input is refused before anything is touched, the lock file included
        check_output_path(path, args.overwrite)
    with output_lock(out_dir, scenario.name):  # held from the check below to the files' rename
        return run_and_write(args, scenario, *outputs)


def run_and_write(args, scenario, netcdf: Path, figure: Path) -> int:
    from sim.output import check_output_path, write_result_pair

    for path in (netcdf, figure):  # again, under the lock: another command may have written them meanwhile
        check_output_path(path, args.overwrite)
    from sim.plotting import main_trajectories
    from sim.runner import default_seeds, ensemble

    seeds = default_seeds(args.seeds or scenario.seeds)
    scale = args.scale if args.scale is not None else scenario.scale
    gc.freeze()  # the imports' objects are there to stay: the collector need not go over them again
    announce_compiling()
    progress, done = run_progress(len(seeds))
    started = time.perf_counter()
    dataset = ensemble(scenario, seeds, scale, progress)
    done()
    elapsed = time.perf_counter() - started
    title = f"sim: scenario '{scenario.name}' ({len(seeds)} run(s), scale {scale:g})"
    write_result_pair(dataset, netcdf, figure, lambda data, file: main_trajectories(data, file, title))
    print(f"scenario {scenario.name}: {len(seeds)} run(s) at scale {scale:g} in {elapsed:.1f} s; "
          f"levers: {scenario.lever_summary() or 'none'}")
    print(summary_table(dataset))
    print(f"wrote {netcdf} and {figure}")
    return 0


def command_check(args) -> int:
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    print(f"{args.scenario}: ok (scenario '{scenario.name}', {len(scenario.parameters)} parameter override(s), "
          f"{len(scenario.macro_overrides)} macro path override(s); levers: {scenario.lever_summary() or 'none'})")
    return 0


def command_assumptions(args) -> int:
    """Every labelled assumption, from its one declaration."""
    import tomllib

    from sim.calibration_data import INITIAL_STATE_FILE
    from sim.macro import MACRO_FILE
    from sim.parameters import CALIBRATED_FILE, calibrated_values, load_declaration
    from sim.taxonomy import INDUSTRIES_FILE

    calibrated = calibrated_values()
    print(f"# Parameters (calibration/parameters.toml; 'in use' where {CALIBRATED_FILE.name}, the calibrated set, replaces the default)")
    for parameter in load_declaration().values():
        if parameter.is_assumption:
            value = f"{parameter.default:g}"
            if parameter.name in calibrated:
                value = f"{calibrated[parameter.name]:g} in use (calibrated; declared default {parameter.default:g})"
            print(f"- {parameter.name} = {value} {parameter.unit}: {parameter.source.removeprefix('assumption: ')}")
    print("\n# Initial state (calibration/initial_state.toml)")
    with open(INITIAL_STATE_FILE, "rb") as handle:
        for name, entry in tomllib.load(handle)["assumptions"].items():
            print(f"- {name} = {entry['value']} {entry['unit']}: {entry['reason']}")
    print("\n# Macro paths (calibration/macro_baseline.toml)")
    with open(MACRO_FILE, "rb") as handle:
        for name, entry in tomllib.load(handle).items():
            print(f"- {name} ({entry['unit']}): {entry['reason']}")
    print(f"\n# Industry table: see the header of {INDUSTRIES_FILE.name} for each column's reason")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from sim import __version__

    parser = ArgumentParser(prog="sim", description="Agent-based scenario model of China's new industrialization, 2012-2035.")
    parser.add_argument("--version", action="version", version=f"sim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    run = commands.add_parser("run", help="run a scenario, write OUT/<scenario>.nc and .png, print a summary")
    run.add_argument("scenario", help="scenario file (TOML)")
    run.add_argument("--seeds", type=seed_count, default=None, help="number of runs (seeds 1..N); default from the scenario file")
    run.add_argument("--scale", type=positive_float, default=None, help=f"share of real firms simulated, {scale_range()}; default from the scenario file")
    run.add_argument("--out", default="outputs", help="output directory (default: outputs)")
    run.add_argument("--overwrite", action="store_true", help="replace existing result files")
    run.set_defaults(handler=command_run)

    check = commands.add_parser("check", help="validate a scenario file only")
    check.add_argument("scenario", help="scenario file (TOML)")
    check.set_defaults(handler=command_check)

    assumptions = commands.add_parser("assumptions", help="list every labelled assumption with its reason")
    assumptions.set_defaults(handler=command_assumptions)

    # Further commands live in their own modules under sim/commands/, each with
    # register(commands) that adds its subparser and sets `handler`. Import lazily inside handlers.
    import importlib

    for module_name in COMMAND_MODULES:
        importlib.import_module(f"sim.commands.{module_name}").register(commands)
    return parser


def check_environment() -> None:
    """The environment's settings, like every input, are checked before any work (SIM_THREADS)."""
    from sim.parallel import default_threads

    default_threads()


def main(argv: list[str] | None = None) -> int:
    from sim.errors import ModelDivergence, WriteFailed
    from sim.output import terminate_as_interrupt

    args = build_parser().parse_args(argv)
    terminate_as_interrupt()  # SIGTERM saves and cleans up as Ctrl-C does
    try:
        check_environment()
        return args.handler(args)
    except InputError as error:
        print(f"sim: error: {error.one_line()}", file=sys.stderr)
        return 2
    except WriteFailed as error:  # disk full and the like: the earlier files are intact
        print(f"sim: error: {error}", file=sys.stderr)
        return 1
    except ModelDivergence as error:  # a parameter set or path the model cannot carry: named, nothing written
        print(f"sim: error: the model diverged: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:
        print("sim: interrupted", file=sys.stderr)
        return getattr(interrupt, "exit_status", 130)
    except BrokenPipeError:  # the reader went away (`sim run ... | head -1`): what it wanted it has; stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that the exit's flush of stdout cannot fail again
        return 141  # as a process killed by SIGPIPE reports itself to the shell
    except Exception as error:  # an internal error: one line, exit 1; SIM_DEBUG=1 shows the traceback
        import os
        import traceback

        if os.environ.get("SIM_DEBUG"):
            traceback.print_exc()
        print(f"sim: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())


def entry_point() -> None:
    sys.exit(main())
