"""Results as one xarray Dataset (dims run, year, then categories), written atomically as NetCDF."""

from __future__ import annotations

import os
import subprocess
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sim import __version__
from sim.errors import OutputError

if TYPE_CHECKING:
    import xarray as xr


def run_dataset(records: list[dict], seed: int) -> xr.Dataset:
    """One run's yearly records as a Dataset with dims (run, year, ...)."""
    import numpy as np
    import xarray as xr  # here, not above: the output checks of every command stay quick to import

    from sim import taxonomy
    from sim.indicators import COORDINATES, VARIABLES
    from sim.macro import YEARS

    industries = taxonomy.load_industries()
    coords = {"run": [seed], "year": YEARS[: len(records)], **COORDINATES, "industry": list(industries.keys)}
    data = {}
    for name, spec in VARIABLES.items():
        values = np.array([np.asarray(r[name], dtype=np.float64) for r in records])
        data[name] = (("run", "year", *spec.dims), values[np.newaxis], {"units": spec.units, "long_name": spec.long_name})
    dataset = xr.Dataset(data, coords=coords)
    dataset["seed"] = ("run", [seed], {"long_name": "random seed of the run", "units": "1"})
    dataset["year"].attrs.update(units="year", long_name="calendar year")
    dataset["run"].attrs.update(long_name="run (one per seed)", units="1")
    return dataset


def git_commit() -> str:
    try:
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(scenario, parameters: dict, scale: float, seeds: list[int]) -> dict:
    return {
        "title": f"sim results: scenario {scenario.name}",
        "scenario": scenario.name,
        "scenario_file": str(scenario.path),
        "scenario_description": scenario.description,
        "scale": scale,
        "seeds": ",".join(str(s) for s in seeds),
        "sim_version": __version__,
        "git_commit": git_commit(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameter_overrides": ";".join(f"{k}={v!r}" for k, v in sorted(scenario.parameters.items())),
        "parameters": ";".join(f"{k}={v!r}" for k, v in sorted(parameters.items())),
        "note": "2012 is the built initial state (document figures); 2013-2022 are simulated back-casts; 2023-2035 projections.",
    }


# The longest scenario or sweep name, in bytes (UTF-8): the outputs add to it (a temporary file's
# ".NAME.nc.RANDOM.tmp", "NAME_report.html", "compare_NAME_vs_...") within the 255 bytes that common
# file systems allow a file name.
MAX_NAME_BYTES = 200
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10))}


def file_name_problem(name: str) -> str:
    """Why `name` cannot name files in any output directory ('' when it can): only letters, digits,
    '_', '-' and '.', not hidden (nor '..'), not ending in '.', not too long, not a device name."""
    if not name:
        return "must not be empty"
    if not all(c.isalnum() or c in "_-." for c in name):
        return "must be letters, digits, '_', '-' or '.'"
    if name.startswith(".") or name.endswith("."):
        return "must not start or end with '.'"
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"is {len(name.encode())} bytes long: at most {MAX_NAME_BYTES}"
    if name.split(".")[0].upper() in WINDOWS_DEVICES:
        return f"'{name.split('.')[0]}' is a device name on Windows"
    return ""


def check_output_directory(directory: Path) -> None:
    """Refuse before any work a directory that is a file or not writable, and make a missing one
    (parents too) once the nearest existing folder above it is shown to be a writable directory.
    Callers check every input first, so that bad input makes no folder."""
    existing = directory
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(existing, None, "is a file; expected an output directory")
    if not os.access(existing, os.W_OK):
        raise OutputError(existing, None, "output directory is not writable")
    if existing != directory:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # e.g. a dangling link in the way, or a name too long
            raise OutputError(directory, None, f"output directory cannot be made: {error.strerror}") from None


def check_output_path(path: Path, overwrite: bool) -> None:
    """Refuse before any work: an unusable directory (above), a directory or, unless `overwrite`, a file
    already standing under the output's name."""
    check_output_directory(path.parent)
    if path.is_dir():
        raise OutputError(path, None, "is a directory; expected the name of an output file")
    if path.exists() and not overwrite:
        raise OutputError(path, None, "already exists; pass --overwrite to replace it")


@contextmanager
def atomic_target(path: Path):
    """Yield a temporary path beside `path`; rename it to `path` only if the block completes."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; results are ordinary files
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def write_atomic(dataset: xr.Dataset, path: Path) -> None:
    """Write NetCDF so that no half-written file ever stands under the final name."""
    with atomic_target(path) as temporary:
        dataset.to_netcdf(temporary, engine="h5netcdf")
