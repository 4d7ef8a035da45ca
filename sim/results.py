"""Reading result files (NetCDF written by `sim run`) for plots and reports."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import xarray as xr

from sim.errors import InputError
from sim.indicators import CONTRACT

EXPECTED = "expected a .nc file written by `sim run`"


def load_result(path: str | Path) -> xr.Dataset:
    """A result file loaded into memory; InputError if it is missing, unreadable or not a sim result."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, f"no such result file ({EXPECTED})" if not path.exists() else f"is not a file ({EXPECTED})")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as handle:
            dataset = handle.load()
    except Exception as error:  # any failure to decode a user's file is bad input, not a crash
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(path, None, f"not a readable NetCDF result (truncated or another format; {EXPECTED}): {reason}") from None
    missing = [name for name in ("run", "year") if name not in dataset.dims]
    if missing:
        raise InputError(path, None, f"not a sim result: lacks the dimension(s) {', '.join(missing)} ({EXPECTED})")
    if dataset.sizes["run"] == 0:
        raise InputError(path, None, f"holds no runs (its run dimension is empty): nothing to show ({EXPECTED})")
    absent = [name for name in CONTRACT if name not in dataset]
    if absent:
        raise InputError(path, None, f"not a sim result: lacks the variable(s) {', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''} ({EXPECTED})")
    return dataset


def result_labels(paths: list[Path], datasets: list[xr.Dataset]) -> list[str]:
    """One label per result: its scenario name, with the file name added where names repeat (the
    paths differ: load_results refuses a file given twice)."""
    names = [d.attrs.get("scenario") or Path(p).stem for p, d in zip(paths, datasets)]
    return [f"{n} ({p})" if names.count(n) > 1 else n for n, p in zip(names, paths)]


def load_results(paths: list[str | Path]) -> dict[str, xr.Dataset]:
    """Result files by label, in the order given; a file given twice is refused before any is read."""
    paths = [Path(p) for p in paths]
    for number, path in enumerate(paths):
        if path.resolve() in {p.resolve() for p in paths[:number]}:
            raise InputError(path, None, "the same result file is given twice")
    datasets = [load_result(p) for p in paths]
    return dict(zip(result_labels(paths, datasets), datasets))


def describe(label: str, dataset: xr.Dataset) -> str:
    """'baseline' (5 runs, scale 0.02)."""
    runs = dataset.sizes["run"]
    scale = dataset.attrs.get("scale")
    scale_text = f", scale {float(scale):g}" if scale is not None else ""
    return f"'{label}' ({runs} run{'s' if runs != 1 else ''}{scale_text})"


def nan_only(dataset: xr.Dataset, variables: list[str] | None = None) -> list[str]:
    """The variables (of `variables`, default every one but `seed`) that hold no value but NaN."""
    names = [n for n in (variables or dataset.data_vars) if n in dataset.data_vars and n != "seed"]
    return [n for n in names if dataset[n].size and bool(dataset[n].isnull().all())]


def warn_nan_only(command: str, paths: list[Path], results: dict[str, xr.Dataset], variables: list[str] | None = None) -> bool:
    """One warning line on stderr per result holding NaN-only variables (their figures and table cells
    show nothing); True if any did."""
    import sys

    warned = False
    for path, dataset in zip(paths, results.values()):
        empty = nan_only(dataset, variables)
        if empty:
            shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
            print(f"sim {command}: warning: {path}: {len(empty)} variable(s) hold only NaN and show no values: {shown}", file=sys.stderr)
            warned = True
    return warned


@contextmanager
def quiet_about_nan():
    """numpy's and matplotlib's warnings about all-NaN data off (a result's NaN-only variables are
    reported once by warn_nan_only instead)."""
    import warnings

    with warnings.catch_warnings():
        for message in ("All-NaN slice encountered", "Mean of empty slice", "invalid value encountered",
                        "No artists with labels found", "Degrees of freedom <= 0"):
            warnings.filterwarnings("ignore", message=f".*{message}")
        yield


def is_comparison(dataset: xr.Dataset) -> bool:
    """Whether a result was written by `sim compare` (it has a scenario dimension)."""
    return "scenario" in dataset.dims


def single_comparison(paths: list[Path], results: dict[str, xr.Dataset]) -> xr.Dataset | None:
    """The comparison result when one is given (it must come alone: its scenarios are already side by
    side), else None; InputError when a comparison is mixed with other results."""
    comparisons = [path for path, dataset in zip(paths, results.values()) if is_comparison(dataset)]
    if not comparisons:
        return None
    if len(paths) > 1:
        raise InputError(comparisons[0], None, "a comparison written by `sim compare` is shown alone: give it as the only result "
                                               "(its scenarios are already side by side)")
    return next(iter(results.values()))


def differences(comparison: xr.Dataset) -> dict[str, xr.Dataset]:
    """Each scenario's seed-by-seed differences from the reference (the first scenario) of every
    variable by run and year, as results labelled 'scenario - reference': common random numbers make
    the band of these differences the lever's effect net of seed noise."""
    names = [str(n) for n in comparison["scenario"].values]
    variables = [v for v in comparison.data_vars if {"scenario", "run", "year"} <= set(comparison[v].dims)]
    data = comparison[variables]
    reference = data.sel(scenario=names[0], drop=True)
    with xr.set_options(keep_attrs=True):
        return {f"{name} - {names[0]}": (data.sel(scenario=name, drop=True) - reference).assign_attrs(
                    scenario=f"{name} - {names[0]}", scale=comparison.attrs.get("scale"))
                for name in names[1:]}
