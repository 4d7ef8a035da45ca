"""The `sim` command line. Exit status: 0 success, 2 bad input (one line, no traceback), 1 internal error."""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from pathlib import Path

from sim.errors import InputError

SUMMARY_YEARS = (2012, 2022, 2025, 2030, 2035)
SUMMARY_VARIABLES = (
    "industrial_va",
    "manufacturing_va",
    "manufacturing_share_gdp",
    "above_scale_va_growth",
    "hightech_share",
    "equipment_share",
    "sei_share_gdp",
    "world_mfg_share",
    "rd_intensity_mfg",
    "invention_patent_apps",
    "n_above_scale",
    "n_srdi",
    "exports",
    "industrial_energy",
    "industrial_co2",
    "employment_mfg",
)


# Modules of sim/commands/ that register a subcommand (see build_parser).
COMMAND_MODULES: tuple[str, ...] = ("calibrate", "sweep", "plot", "report", "dashboard", "compare")


class ArgumentParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default already exits 2, but prints usage too)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def number_argument(convert, allowed: str, accept, kind: str = "a number"):
    """An argparse type: the text converted by `convert` (int or float), refused with "must <allowed>"
    unless `accept(value)`."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must {allowed}, got {text}")
        return value
    return parse


positive_int = number_argument(int, "be at least 1", lambda value: value >= 1, "a whole number")


def positive_float(text: str) -> float:
    """An argparse type for a scale: from the smallest scale (sim.calibration_data.check_scale) up to 1."""
    from sim.calibration_data import check_scale

    value = number_argument(float, "be a number", lambda value: True)(text)
    try:
        return check_scale(value, None, None)
    except InputError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def seed_count(text: str) -> int:
    """An argparse type for a number of runs: 1 up to the cap of a scenario file's `seeds`."""
    from sim.scenario import MAX_SEEDS

    return number_argument(int, f"lie in 1-{MAX_SEEDS}", lambda value: 1 <= value <= MAX_SEEDS, "a whole number")(text)


def scale_range() -> str:
    """'0.005 to 1': the scales allowed, for help texts."""
    from sim.calibration_data import smallest_scale

    return f"{smallest_scale():g} to 1"


SUFFIXES = ((1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T"))  # thousand, million, billion, trillion
LABEL_WIDTH, CELL_WIDTH = 24, 15  # 24 + 5 years x 15 = 99 columns


def short_number(value: float) -> str:
    """At most 6 characters for any value: 2 decimals below 100, 1 below 1,000, whole with a comma
    below 10,000, then 3 significant digits with k, M, B or T (2.39M), then a power of ten (2e15)."""
    size = abs(value)
    if not math.isfinite(value):
        return str(value)
    if size < 100:
        return f"{value:.2f}"
    if size < 1000:
        return f"{value:.1f}"
    if size < 10_000:
        return f"{value:,.0f}"
    for unit, suffix in SUFFIXES:
        mantissa = value / unit
        text = f"{mantissa:.{max(2 - int(math.log10(abs(mantissa))), 0)}f}"
        if abs(float(text)) < 1000:
            return text + suffix
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"  # -2e308 at most


def summary_table(dataset) -> str:
    """Key indicators in the summary years, two lines each: the mean over runs, then (under the unit)
    the 90% band when runs > 1. At most 99 columns; every cell starts with a space."""
    import textwrap

    years = [y for y in SUMMARY_YEARS if y in dataset["year"].values]
    runs = dataset.sizes["run"]

    def line(label: str, cells: list[str]) -> str:
        return (label.ljust(LABEL_WIDTH) + "".join(" " + cell.rjust(CELL_WIDTH - 1) for cell in cells)).rstrip()

    lines = [line("indicator: mean", [str(y) for y in years])]
    if runs > 1:
        lines.append("  (unit): 90% band")
    for name in SUMMARY_VARIABLES:
        series = dataset[name].sel(year=years)
        label = [name[:LABEL_WIDTH], *textwrap.wrap(f"({series.attrs['units']})", LABEL_WIDTH - 2)]
        lines.append(line(label[0], [short_number(float(series.sel(year=y).mean())) for y in years]))
        cells = [""] * len(years)
        if runs > 1:
            cells = [f"{short_number(float(lo))}..{short_number(float(hi))}"
                     for lo, hi in (series.sel(year=y).quantile([0.05, 0.95]).values for y in years)]
        lines.append(line("  " + label[1], cells))
        lines += ["  " + more for more in label[2:]]
    return "\n".join(lines)


# Seconds numba takes to compile the firm rules on a first run: measured 24-25 s on the project's
# 2-core machine (an issue saw 49 s on a slower one); the notice says "about" this.
COMPILE_SECONDS = 25


def announce_compiling() -> None:
    """Say so on stderr when this run must first compile the firm rules (numba's cache is cold)."""
    from sim.year import rules_compiled

    if not rules_compiled():
        print(f"sim: compiling the firm rules once (about {COMPILE_SECONDS} s; later runs start at once)", file=sys.stderr, flush=True)


def run_progress(runs: int):
    """ensemble's progress callback: a bar over runs on stderr when stderr is a terminal or there is
    more than one run (else None), and a function that closes it."""
    if not (sys.stderr.isatty() or runs > 1):
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=runs, unit="run", desc="runs", file=sys.stderr, dynamic_ncols=True)
    return (lambda seed: bar.update(1)), bar.close


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
    print(f"scenario {scenario.name}: {len(seeds)} run(s) at scale {scale:g} in {elapsed:.1f} s")
    print(summary_table(dataset))
    print(f"wrote {netcdf} and {figure}")
    return 0


def command_check(args) -> int:
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    print(f"{args.scenario}: ok (scenario '{scenario.name}', {len(scenario.parameters)} parameter override(s), "
          f"{len(scenario.macro_overrides)} macro path override(s))")
    return 0


def command_assumptions(args) -> int:
    """Every labelled assumption, from its one declaration."""
    import tomllib

    from sim.calibration_data import INITIAL_STATE_FILE
    from sim.macro import MACRO_FILE
    from sim.parameters import load_declaration
    from sim.taxonomy import INDUSTRIES_FILE

    print("# Parameters (calibration/parameters.toml)")
    for parameter in load_declaration().values():
        if parameter.is_assumption:
            print(f"- {parameter.name} = {parameter.default:g} {parameter.unit}: {parameter.source.removeprefix('assumption: ')}")
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
    from sim.errors import WriteFailed
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
