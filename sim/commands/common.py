"""What the subcommands share: argument types that refuse bad input in one line, the compile notice
and the progress bar over runs. The command line (sim/cli.py) and every module of sim/commands/
import these from here, so that no command imports the command line itself."""

from __future__ import annotations

import argparse
import sys

from sim.errors import InputError


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
