"""Results as one xarray Dataset (dims run, year, then categories), and how every file is written.

No work is lost and nothing half-written is ever read:

- Atomic files. A file is written under a temporary name beside it, `.NAME.PID.XXXXXXXX.tmp`
  (PID: the writing process), flushed to disk and renamed over NAME only when complete
  (:func:`atomic_target`). A failed write (disk full, ...) raises :class:`~sim.errors.WriteFailed`
  (one line, exit 1) and removes its temporary file; NAME keeps its earlier content. A temporary
  file left by a process killed with SIGKILL is removed by the next write of the same NAME, but only
  if the PID in its name is no longer running (:func:`remove_stale_temporaries`).
- In memory first. NetCDF (through h5netcdf/h5py) and the sweep's HDF5 parts are built as bytes in
  memory and only then written with plain writes (:func:`netcdf_bytes`, :func:`write_files`):
  an error of the disk reaches us as one OSError, never as HDF5 failing halfway through a file.
- The result pair. `sim run` writes NAME.nc and NAME.png: both are made in memory, both temporary
  files are written completely, and only then are they renamed, .nc first, with SIGINT and SIGTERM
  held back between the two renames. A disk that fills up therefore leaves both earlier files, never
  a new .nc beside an old .png. Two renames cannot be one step, so a SIGKILL between them could
  still pair a new .nc with an old .png; for that case the PNG carries the SHA-256 of the bytes of
  the .nc it was drawn from, in its text chunk `sim:netcdf_sha256`, and
  :func:`figure_describes` tells a reader whether a figure shows the NetCDF file beside it.
- One writer per output. A command holds an exclusive lock (`fcntl.flock` on `DIR/.NAME.lock`,
  which records its PID; the kernel releases it when the process dies, however it dies) while it
  checks whether its output exists and writes it (:func:`output_lock`): a second command for the
  same output is refused at once (exit 2), naming the first one's PID.
- SIGTERM is Ctrl-C. :func:`terminate_as_interrupt` makes SIGTERM raise
  :class:`~sim.errors.Terminated` (a KeyboardInterrupt), so that a terminated command keeps its
  finished work and removes its temporary files exactly as an interrupted one does.
"""

from __future__ import annotations

import glob
import hashlib
import os
import signal
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sim import __version__
from sim.errors import OutputError, Terminated, WriteFailed

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


def _owner_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove temporary files of `path` whose writing process no longer runs (it was killed before
    it could clean up); files of a running process, or without a PID in their name, are left."""
    removed = []
    prefix = f".{path.name}."
    for candidate in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = candidate.name[len(prefix):].split(".")[0]
        if pid.isdigit() and not _owner_alive(int(pid)):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


@contextmanager
def signals_held():
    """SIGINT and SIGTERM wait until the block is done (renames that belong together): their
    handlers are set aside for the block (Python runs handlers in the main thread only, whichever
    thread the kernel delivers a signal to) and a signal received meanwhile is raised after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for signum in received:
            signal.raise_signal(signum)


@contextmanager
def atomic_targets(*paths: Path):
    """Yield temporary paths beside `paths`; only if the block completes is each flushed to disk and
    renamed to its path, in the given order. On any failure the temporary files are removed and
    the paths keep their earlier content; an OSError becomes :class:`WriteFailed`."""
    paths = tuple(Path(path) for path in paths)
    temporaries: list[Path] = []
    renamed = 0
    try:
        for path in paths:
            remove_stale_temporaries(path)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
            os.close(handle)
            temporaries.append(Path(temporary))
        yield tuple(temporaries)
        umask = os.umask(0)
        os.umask(umask)
        for temporary in temporaries:
            os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; results are ordinary files
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())  # on disk before it has a final name
        with signals_held():
            for temporary, path in zip(temporaries, paths):
                os.replace(temporary, path)
                renamed += 1
    except OSError as error:
        reason = error.strerror or str(error)
        kept = "the earlier files are unchanged" if renamed == 0 else f"only {', '.join(p.name for p in paths[:renamed])} was replaced"
        raise WriteFailed(", ".join(str(p) for p in paths), f"cannot be written: {reason}; {kept}") from None
    finally:
        for temporary in temporaries[renamed:]:
            temporary.unlink(missing_ok=True)


@contextmanager
def atomic_target(path: Path):
    """Yield a temporary path beside `path`; rename it to `path` only if the block completes."""
    with atomic_targets(path) as (temporary,):
        yield temporary


def write_files(contents: dict[Path, bytes]) -> None:
    """Write each path's bytes (complete in memory) so that no partial file is ever named; several
    paths are renamed together, in order, once every one is written (see above)."""
    with atomic_targets(*contents) as temporaries:
        for temporary, content in zip(temporaries, contents.values()):
            with open(temporary, "wb") as handle:
                handle.write(content)


def netcdf_bytes(dataset: xr.Dataset) -> bytes:
    """The Dataset as NetCDF-4 bytes, built in memory by h5netcdf."""
    return bytes(dataset.to_netcdf(engine="h5netcdf"))


def write_atomic(dataset: xr.Dataset, path: Path) -> None:
    """Write NetCDF so that no half-written file ever stands under the final name."""
    write_files({Path(path): netcdf_bytes(dataset)})


# ------------------------------------------------------------------------------ the result pair
FIGURE_KEY = "sim:netcdf_sha256"  # PNG text chunk: the SHA-256 of the NetCDF bytes the figure shows


def tag_png(png: bytes, netcdf_sha256: str) -> bytes:
    """The PNG with a text chunk naming the NetCDF it was drawn from (the image is unchanged)."""
    import io

    from PIL import Image, PngImagePlugin

    image = Image.open(io.BytesIO(png))
    info = PngImagePlugin.PngInfo()
    for key, value in image.info.items():
        if isinstance(value, str):
            info.add_text(key, value)
    info.add_text(FIGURE_KEY, netcdf_sha256)
    tagged = io.BytesIO()
    image.save(tagged, format="PNG", pnginfo=info, dpi=image.info.get("dpi", (72, 72)))
    return tagged.getvalue()


def figure_describes(figure: Path, netcdf: Path) -> bool:
    """Whether the PNG `figure` was drawn from the NetCDF file `netcdf` as it is now (False if it
    was drawn from other data, carries no mark, or cannot be read)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(figure) as image:
            mark = image.info.get(FIGURE_KEY)
        digest = hashlib.sha256(Path(netcdf).read_bytes()).hexdigest()
    except (OSError, UnidentifiedImageError):
        return False
    return mark == digest


def write_result_pair(dataset: xr.Dataset, netcdf: Path, figure: Path, draw) -> None:
    """NETCDF and FIGURE (drawn by `draw(dataset, file_object)` as PNG) as one pair: both complete
    in memory, then both written, then renamed; the PNG carries the NetCDF's SHA-256."""
    import io

    data = netcdf_bytes(dataset)
    buffer = io.BytesIO()
    draw(dataset, buffer)
    png = tag_png(buffer.getvalue(), hashlib.sha256(data).hexdigest())
    write_files({Path(netcdf): data, Path(figure): png})


# ----------------------------------------------------------------------------------- one writer
@contextmanager
def output_lock(directory: Path, name: str):
    """Hold `directory/.name.lock` exclusively for the block, or refuse at once (OutputError, exit 2)
    naming the process that holds it. The kernel releases the lock when its process dies."""
    import fcntl

    path = Path(directory) / f".{name}.lock"
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 32).decode(errors="replace").strip()
            os.close(handle)
            raise OutputError(directory, None, f"another sim command (pid {holder or 'unknown'}) is writing {name} here; "
                                                 "wait for it to end or choose another --out") from None
        try:
            if os.path.samestat(os.fstat(handle), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        os.close(handle)  # its holder removed the file as we opened it: take the lock on a new one
    try:
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        yield path
    finally:
        path.unlink(missing_ok=True)  # still locked: nobody else holds this file
        os.close(handle)


# ---------------------------------------------------------------------------------- signals
def terminate_as_interrupt() -> None:
    """SIGTERM raises Terminated (a KeyboardInterrupt) in this process, so that it saves and cleans
    up as on Ctrl-C. A child forked from this process keeps the default action (it dies)."""
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:  # a forked worker: die as SIGTERM would have it
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)
