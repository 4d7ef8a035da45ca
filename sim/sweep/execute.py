"""Running a sweep: executors, results written as they come, resume, progress bar.

Executors (each yields (sample index, result) in whatever order samples finish):
- serial: in this process (`workers=1`);
- a local pool of persistent worker processes (`workers=N`, default every core);
- a Dask distributed cluster (`scheduler="tcp://HOST:PORT"`) through `dask.distributed.Client`.
Every sample runs the same task, :func:`sim.sweep.models.evaluate_sample`, whose inputs and seeds
depend on the sample index only; results are assembled by sample index. So the Dataset is the
same bit for bit whichever executor ran it, and however the sweep was interrupted and resumed.

On disk, under OUT/<sweep name>/:
    manifest.json     what the samples depend on (fingerprint): --resume refuses a changed sweep
    parts/part-*.h5   finished samples (HDF5 arrays), written every `checkpoint` seconds, atomically
    results.nc        the assembled Dataset, dims (sample, run, year), inputs as coordinates
    <method>*.csv, *.png   the analysis (written by the `finish` callback of :func:`run_sweep`)

No work is lost (see also sim/output.py):
- A sweep holds `OUT/.<sweep name>.lock` while it runs: a second sweep of that name is refused.
- Ctrl-C and SIGTERM save the finished samples; `--resume` runs only the others. A part that
  cannot be read back (cut short by a full disk, say) is reported in one line, discarded, and its
  samples run again.
- `--overwrite` of a sweep that holds results builds the new one in `OUT/.<sweep name>.new/`,
  analysis included, and swaps it in only when it is complete (renames: the old folder to
  `.<sweep name>.old`, the new one into place, then the old one is deleted; an interrupted swap is
  finished by the next sweep of that name). Until then the earlier sweep stands whole, and its
  analysis files always describe its own results. `--resume` continues an interrupted
  `--overwrite` there.
- Workers of the local pool end with the sweep process, even when it is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from sim.errors import InputError, OutputError
from sim.output import output_lock, signals_held, write_atomic, write_files
from sim.sweep.design import build_design, run_values, sample_seeds
from sim.sweep.models import evaluate_sample

MANIFEST = "manifest.json"
PARTS = "parts"
RESULTS = "results.nc"
STAGING = ".{}.new"  # an --overwrite sweep is built here (format with the sweep's name)
RETIRED = ".{}.old"  # the sweep it replaces, for the moment of the swap


@dataclass
class SweepResult:
    dataset: xr.Dataset
    directory: Path
    path: Path
    evaluated: int  # samples run by this call
    reused: int  # samples read back from an interrupted earlier call
    elapsed: float
    executor: str
    written: list[Path] = field(default_factory=list)  # files of the `finish` callback (analysis)

    @property
    def errors(self) -> list[str]:
        """Messages of the runs that failed (on_error = "skip"), in sample order."""
        return [str(e) for e in np.asarray(self.dataset["error"].values).ravel() if e]

    @property
    def failed_samples(self) -> int:
        """Samples (design rows) with a failed run; an experiment's rows are its (policy, sample) pairs."""
        errors = np.asarray(self.dataset["error"].values)
        return int((errors.reshape(-1, errors.shape[-1]) != "").any(axis=1).sum())

    @property
    def samples(self) -> int:
        return int(np.asarray(self.dataset["error"].values).size // self.dataset.sizes["run"])


def default_workers() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return max(1, counter() or 1)


def fingerprint(spec, design: np.ndarray) -> str:
    """Hash of everything a sample's result depends on (not the outputs: those are analysis)."""
    described = {
        "model": spec.model.describe(),
        "method": spec.method,
        "options": spec.options,
        "inputs": [[i.name, i.lower, i.upper, i.values, i.integer, i.base] for i in spec.inputs],
        "seeds": spec.seeds,
        "seed_policy": spec.seed_policy,
        "sampler_seed": spec.sampler_seed,
    }
    digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode())
    digest.update(np.ascontiguousarray(design).tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------- executors
def _serial(model, tasks, skip):
    for index, inputs, seeds in tasks:
        yield index, evaluate_sample(model, inputs, seeds, skip)


def _start_worker(sweep_alive):
    """A pool worker: leaves Ctrl-C to the sweep process, which saves and stops it; ends when the
    sweep process ends, however it ends; runs its firm loops on one thread (the pool uses every core)."""
    import signal
    import threading

    from sim.parallel import single_threaded_worker

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with_sweep, args=(sweep_alive,), name="end-with-sweep", daemon=True).start()
    single_threaded_worker()


def _end_with_sweep(sweep_alive) -> None:
    """Wait for end of file on a pipe whose only writing end the sweep process holds: the kernel
    closes it when that process dies, even by SIGKILL. Without this, workers blocked on the task
    queue (whose writing end they hold themselves) and the forkserver would live on."""
    try:
        sweep_alive.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _process_pool(model, tasks, skip, workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # forkserver: the server imports the model once (preload), then forks light workers;
    # safer than fork from a process that runs threads (progress bar), faster than spawn.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(model.preload))
    sweep_alive, alive_writer = context.Pipe(duplex=False)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(sweep_alive,))
    finished = False
    try:
        futures = {pool.submit(evaluate_sample, model, inputs, seeds, skip): index for index, inputs, seeds in tasks}
        for future in as_completed(futures):
            try:
                result = future.result()
            except BrokenProcessPool as error:
                raise BrokenProcessPool(f"{error}; a worker process died. If a Python script started the sweep, its calls "
                                        'must stand under `if __name__ == "__main__":` (each worker imports the script)') from error
            yield futures[future], result
        finished = True
    finally:
        if not finished:  # interrupted or failed: drop queued samples, stop running ones
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        alive_writer.close()
        sweep_alive.close()


SCHEDULER_FORM = "expected PROTOCOL://HOST:PORT, e.g. tcp://127.0.0.1:8786 (protocols tcp, tls, ws, wss, ucx)"


def scheduler_host_port(address: str) -> tuple[str, str, int]:
    """(protocol, host, port) of a Dask scheduler address, or InputError: checked before any
    connection is tried (Dask's own parser, the protocols it has)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    def refuse(reason: str):
        return InputError(None, "--scheduler", f"{address!r} is not a Dask scheduler address ({reason}); {SCHEDULER_FORM}")

    try:
        protocol, location = parse_address(address, strict=False)
        if protocol not in backends or protocol == "inproc":  # inproc: this process only
            raise refuse(f"unknown protocol {protocol!r}")
        host, port = parse_host_port(location)
    except ValueError as error:
        raise refuse(str(error)) from None
    if not host or port is None or not 0 < port < 65536:
        raise refuse("no host" if not host else f"port {port} is not 1-65535")
    return protocol, host, port


async def _handshake(address: str, timeout: float) -> None:
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
    await comm.close()


def _connect(address: str, timeout: float):
    """A Dask client, connected now so that a bad address fails at once and before anything is
    written: the address's form first, then whether anything listens there, then Dask's handshake."""
    import socket

    protocol, host, port = scheduler_host_port(address)

    def unreachable(reason: object):
        return InputError(None, "--scheduler", f"cannot reach the Dask scheduler at {address}: {reason}")

    if protocol != "ucx":  # the others run over TCP: a refused or unknown host fails in milliseconds
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as error:
            raise unreachable(error.strerror or error) from None
    if protocol == "tcp":  # Dask's handshake has no time limit (dask/distributed#8071): give it ours
        try:
            asyncio.run(_handshake(address, timeout))
        except (OSError, TimeoutError) as error:
            raise unreachable(error if str(error) else f"no Dask scheduler answered within {timeout:g} s") from None
    from distributed import Client

    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        raise unreachable(error) from None


def _dask(model, tasks, skip, client, token):
    from distributed import as_completed

    futures = []
    try:
        index_of = {}
        for index, inputs, seeds in tasks:
            future = client.submit(evaluate_sample, model, inputs, seeds, skip, key=f"sim-sweep-{token}-{index}", pure=False)
            index_of[future.key] = index
            futures.append(future)
        for future in as_completed(futures, loop=client.loop):
            yield index_of[future.key], future.result()
            future.release()
    finally:
        if futures:
            client.cancel(futures)


# ----------------------------------------------------------------------------------------- store
class SweepStore:
    """Finished samples in parts, each written atomically, so that a kill loses no finished part."""

    def __init__(self, directory: Path, model, years):
        self.directory = directory
        self.parts = directory / PARTS
        self.model = model
        self.years = np.asarray(years)
        self.next_part: int | None = None

    def manifest(self) -> dict | None:
        path = self.directory / MANIFEST
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def start(self, manifest: dict) -> None:
        self.parts.mkdir(parents=True, exist_ok=True)
        write_files({self.directory / MANIFEST: json.dumps(manifest, indent=2, sort_keys=True).encode()})

    def holds_sweep(self) -> bool:
        """Finished samples or results stand here."""
        return bool(self.part_files()) or (self.directory / RESULTS).exists()

    def part_files(self) -> list[Path]:
        if not self.parts.is_dir():
            return []
        for stale in self.parts.glob(".*.tmp"):  # a write cut short by a kill
            stale.unlink(missing_ok=True)
        return sorted(self.parts.glob("part-*.h5"))

    def load(self, path: Path) -> dict[str, np.ndarray]:
        """One part's arrays, checked whole; OSError if it cannot be read back completely."""
        import h5py

        try:
            with h5py.File(path, "r") as part:
                arrays = {"sample": part["sample"][:], "seed": part["seed"][:], "error": part["error"].asstr()[:]}
                arrays.update((name, part[name][:]) for name in self.model.variables)
        except (OSError, KeyError, ValueError) as error:  # truncated, not HDF5, or a dataset missing
            raise OSError(f"{path}: cannot be read back ({' '.join(str(error).split())})") from None
        count = len(arrays["sample"])
        years = len(self.years)
        if any(len(values) != count for values in arrays.values()) or any(arrays[name].shape[-1:] != (years,) for name in self.model.variables):
            raise OSError(f"{path}: cannot be read back (arrays of different lengths)")
        return arrays

    def done(self, warn=None) -> set[int]:
        """Samples stored in readable parts. An unreadable part is reported through `warn`, deleted,
        and its samples are not counted (they run again)."""
        indices: set[int] = set()
        for path in self.part_files():
            try:
                indices.update(int(i) for i in self.load(path)["sample"])
            except OSError as error:
                path.unlink(missing_ok=True)
                if warn is not None:
                    warn(f"{error}; discarded, its samples run again")
        return indices

    def dataset(self, indices, values: dict[str, np.ndarray], seeds: np.ndarray, errors: np.ndarray) -> xr.Dataset:
        """Samples as a Dataset (dims sample, run, year): one builder for the parts and the whole."""
        available = self.model.available_variables()
        data = {}
        for name in self.model.variables:
            units, long_name = available[name]
            data[name] = (("sample", "run", "year"), np.asarray(values[name], dtype=np.float64), {"units": units, "long_name": long_name})
        data["seed"] = (("sample", "run"), np.asarray(seeds, dtype=np.int64), {"long_name": "random seed of the run", "units": "1"})
        data["error"] = (("sample", "run"), np.asarray(errors, dtype=str), {"long_name": "why the run failed; empty if it did not (on_error = skip)"})
        coords = {"sample": np.asarray(indices, dtype=np.int64), "run": np.arange(np.shape(seeds)[1]), "year": self.years}
        return xr.Dataset(data, coords=coords)

    def write(self, results: dict[int, tuple], seeds: dict[int, tuple]) -> None:
        """One part: plain HDF5 arrays through h5py (35x faster to write than NetCDF through
        h5netcdf, which matters when samples take a fraction of a second), written atomically."""
        import h5py

        if not results:
            return
        if self.next_part is None:
            self.next_part = 1 + max((int(p.stem.split("-")[1]) for p in self.part_files()), default=0)
        indices = sorted(results)
        buffer = io.BytesIO()  # built in memory, so that a full disk fails one write, not HDF5 midway
        with h5py.File(buffer, "w") as part:
            part["sample"] = np.array(indices, dtype=np.int64)
            part["seed"] = np.array([seeds[i] for i in indices], dtype=np.int64)
            part.create_dataset("error", data=np.array([results[i][1] for i in indices], dtype=object), dtype=h5py.string_dtype())
            for name in self.model.variables:
                part[name] = np.stack([results[i][0][name] for i in indices]).astype(np.float64)
        write_files({self.parts / f"part-{self.next_part:06d}.h5": buffer.getvalue()})
        self.next_part += 1

    def read(self) -> xr.Dataset:
        """Every stored sample, by sample index (the first copy if a sample was stored twice)."""
        samples, seeds, errors = [], [], []
        values: dict[str, list] = {name: [] for name in self.model.variables}
        for path in self.part_files():
            part = self.load(path)
            samples.append(part["sample"])
            seeds.append(part["seed"])
            errors.append(part["error"])
            for name in values:
                values[name].append(part[name])
        indices, first = np.unique(np.concatenate(samples), return_index=True)  # sorted by index
        return self.dataset(
            indices,
            {name: np.concatenate(arrays)[first] for name, arrays in values.items()},
            np.concatenate(seeds)[first],
            np.concatenate(errors).astype(str)[first],
        )


# ------------------------------------------------------------------------------------------ run
def _prepare_directory(out_dir: Path) -> None:
    if not out_dir.is_dir():
        if out_dir.parent.is_dir():
            out_dir.mkdir()
        else:
            raise OutputError(out_dir, None, "output directory does not exist")
    if not os.access(out_dir, os.W_OK):
        raise OutputError(out_dir, None, "output directory is not writable")


def assemble(spec, store: SweepStore, design: np.ndarray, values: np.ndarray, token: str) -> xr.Dataset:
    """All parts as one Dataset by sample index, the varied inputs as coordinates."""
    from sim import __version__
    from sim.output import git_commit

    dataset = store.read()
    n = len(design)
    if not np.array_equal(dataset["sample"].values, np.arange(n)):
        missing = sorted(set(range(n)) - set(int(i) for i in dataset["sample"].values))
        raise RuntimeError(f"sweep {spec.name}: samples missing after the run: {missing[:10]}")
    coords = {"input": ("input", spec.names)}
    for column, item in enumerate(spec.inputs):
        coords[item.name] = ("sample", values[:, column], {"units": item.unit, "long_name": f"input {item.name}: value run"})
    dataset = dataset.assign_coords(coords)
    dataset["design"] = (("sample", "input"), design, {"long_name": "sample matrix X of the design (SALib order)", "units": "1"})
    dataset["sample"].attrs.update(long_name="sample of the design", units="1")
    dataset["run"].attrs.update(long_name="run of the sample (one per seed)", units="1")
    dataset["year"].attrs.update(long_name="calendar year", units="year")
    model = spec.model.describe()
    dataset.attrs = {
        "title": f"sim sweep {spec.name}: {spec.method} over {', '.join(spec.names)}",
        "sweep": spec.name,
        "sweep_file": str(spec.path),
        "description": spec.description,
        "method": spec.method,
        "options": json.dumps(spec.options, sort_keys=True),
        "model": model["model"],
        "scenario": str(model.get("scenario", "")),
        "scale": float(model.get("scale", 0.0)),
        "seeds_per_sample": spec.seeds,
        "seed_policy": spec.seed_policy,
        "sampler_seed": spec.sampler_seed,
        "on_error": spec.on_error,
        "bounds": ";".join(f"{i.name}=[{i.lower!r}, {i.upper!r}]" for i in spec.inputs),
        "fingerprint": token,
        "sim_version": __version__,
        "git_commit": git_commit(),
    }
    if spec.method == "experiment":
        from sim.sweep.experiment import experiment_dataset

        return experiment_dataset(spec, dataset)
    return dataset


def _finish_swap(out_dir: Path, name: str) -> None:
    """Complete a swap that a kill cut short (see the module's docstring)."""
    final, staging, retired = out_dir / name, out_dir / STAGING.format(name), out_dir / RETIRED.format(name)
    if retired.exists():
        if not final.exists():  # between the two renames: the new sweep was complete, else keep the old
            (staging if (staging / RESULTS).exists() else retired).rename(final)
        shutil.rmtree(retired, ignore_errors=True)


def _swap_in(staging: Path, final: Path) -> None:
    """Replace `final` by the complete sweep in `staging`."""
    retired = final.with_name(RETIRED.format(final.name))
    with signals_held():
        if final.exists():
            final.rename(retired)
        staging.rename(final)
    shutil.rmtree(retired, ignore_errors=True)


def _choose_store(spec, out_dir: Path, token: str, resume: bool, overwrite: bool) -> tuple[SweepStore, str]:
    """Where this call works (its store), and how: "here", or "staging" (swapped in when complete)
    continued, or "new staging" (started from empty). Changes nothing on disk."""
    final = SweepStore(out_dir / spec.name, spec.model, spec.model.years)
    staging = SweepStore(out_dir / STAGING.format(spec.name), spec.model, spec.model.years)
    if resume and (staging.manifest() or {}).get("fingerprint") == token:
        return staging, "staging"  # an interrupted --overwrite of this very sweep
    if not final.holds_sweep():
        return final, "here"
    if overwrite:
        return staging, "new staging"
    if not resume:
        raise OutputError(final.directory, None, "holds an earlier sweep; pass --resume to continue it or --overwrite to start again")
    if (final.manifest() or {}).get("fingerprint") != token:
        raise InputError(spec.path, None, f"differs from the interrupted sweep in {final.directory} (inputs, method, seeds, scenario or scale changed); pass --overwrite to start again")
    return final, "here"


def _warn(message: str) -> None:
    print(f"sim: warning: {message}", file=sys.stderr, flush=True)


def run_sweep(
    spec,
    out_dir: str | Path = "outputs/sweeps",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    checkpoint: float = 10.0,
    progress: bool = True,
    connect_timeout: float = 5.0,
    finish=None,
) -> SweepResult:
    """Run every sample not already stored; write and return the assembled Dataset.

    `finish(dataset, directory)`, if given, writes the analysis into the sweep's directory and
    returns the paths written; it runs before an --overwrite sweep is swapped in, and under the
    sweep's lock."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    design = build_design(spec)
    values = run_values(spec, design)
    token = fingerprint(spec, design)
    _choose_store(spec, out_dir, token, resume, overwrite)  # bad input is refused before anything is touched
    client = _connect(scheduler, connect_timeout) if scheduler is not None else None  # before anything is written
    try:
        _prepare_directory(out_dir)
        with output_lock(out_dir, spec.name):  # from the checks below to the last file written
            _finish_swap(out_dir, spec.name)
            store, where = _choose_store(spec, out_dir, token, resume, overwrite)  # again: another sweep may have run meanwhile
            if where == "new staging":
                shutil.rmtree(store.directory, ignore_errors=True)  # an older interrupted --overwrite
            result = _run(spec, store, design, values, token, resume, workers, scheduler, client, checkpoint, progress)
            result.elapsed = time.perf_counter() - started
            if finish is not None:
                result.written = finish(result.dataset, store.directory)
            if where != "here":
                final = out_dir / spec.name
                _swap_in(store.directory, final)
                result.directory, result.path = final, final / RESULTS
                result.written = [final / path.name for path in result.written]
            return result
    finally:
        if client is not None:
            client.close()


def _run(spec, store: SweepStore, design, values, token, resume, workers, scheduler, client, checkpoint, progress) -> SweepResult:
    store.start({
        "fingerprint": token,
        "sweep": spec.name,
        "sweep_file": str(spec.path),
        "samples": len(design),
        "inputs": spec.names,
        "method": spec.method,
    })

    done = store.done(warn=_warn) if resume else set()
    todo = [i for i in range(len(design)) if i not in done]
    seeds = {i: sample_seeds(spec, i) for i in todo}
    names = spec.names
    skip = spec.on_error == "skip"
    tasks = [(i, {name: float(values[i, c]) for c, name in enumerate(names)}, seeds[i]) for i in todo]

    if scheduler is not None:
        executor = f"dask ({scheduler})"
        stream = _dask(spec.model, tasks, skip, client, token[:16])
    else:
        workers = min(workers or default_workers(), max(1, len(tasks)))
        if workers == 1:
            executor = "serial"
            stream = _serial(spec.model, tasks, skip)
        else:
            executor = f"process pool ({workers} workers)"
            stream = _process_pool(spec.model, tasks, skip, workers)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(design), initial=len(done), unit="sample", desc=spec.name, file=sys.stderr, dynamic_ncols=True, smoothing=0.05)
    pending: dict[int, dict] = {}
    last_flush = time.monotonic()
    try:
        for index, result in stream:
            pending[index] = result
            if bar is not None:
                bar.update(1)
            if time.monotonic() - last_flush >= checkpoint:
                store.write(pending, seeds)
                pending.clear()
                last_flush = time.monotonic()
    finally:
        stream.close()  # stops workers if the loop was interrupted
        store.write(pending, seeds)  # keep every finished sample, even on Ctrl-C or SIGTERM
        if bar is not None:
            bar.close()

    dataset = assemble(spec, store, design, values, token)
    path = store.directory / RESULTS
    write_atomic(dataset, path)
    return SweepResult(dataset, store.directory, path, len(todo), len(done), 0.0, executor)
