"""Row chunks run on threads: how the compiled per-firm loops use more than one core.

The firm columns are cut into fixed chunks of CHUNK_ROWS rows. A compiled kernel
`kernel(start, stop, chunk, *arrays)` handles one chunk: it updates its own rows in place and writes
whatever it sums (fiscal cost, sums by market) into row `chunk` of an output array. The kernels are
compiled with `nogil=True`, so a pool of threads runs chunks at the same time. Partial sums are
added up afterwards in chunk order, and the chunks depend only on the number of rows, so results
are bit for bit the same whatever the number of threads (tests/test_model.py checks 1 against 2).

Threads: `SIM_THREADS` in the environment, else every core of the machine. Sweep workers set
`SIM_THREADS=1` so that processes and threads do not fight over the same cores.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

from sim.allocator import release_freed_memory
from sim.errors import InputError

CHUNK_ROWS = 1 << 15  # 32,768 rows: a few MB of columns per chunk, many chunks to balance two cores
THREADS_VARIABLE = "SIM_THREADS"


def default_threads() -> int:
    """Threads for the firm loops: SIM_THREADS when set (a whole number, at least 1; InputError
    otherwise), else the machine's cores."""
    text = os.environ.get(THREADS_VARIABLE, "").strip()
    if text:
        try:
            threads = int(text)
        except ValueError:
            threads = 0
        if threads < 1:
            raise InputError(None, THREADS_VARIABLE, f"must be a whole number of threads, at least 1, got {text!r} (unset it to use every core)")
        return threads
    return max(os.cpu_count() or 1, 1)


def single_threaded_worker() -> None:
    """Initializer of pool processes (calibration, sweeps): one thread each, the pool uses the cores."""
    os.environ[THREADS_VARIABLE] = "1"


def chunk_count(rows: int, chunk_rows: int = CHUNK_ROWS) -> int:
    return max((rows + chunk_rows - 1) // chunk_rows, 1)


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sim-rows")


def run_chunks(kernel, rows: int, *arguments, threads: int | None = None, chunk_rows: int = CHUNK_ROWS) -> None:
    """Call kernel(start, stop, chunk, *arguments) for every chunk of `rows` rows (chunks of
    `chunk_rows`: larger for a kernel whose per-chunk sums are large). With more than one thread,
    each pool thread takes the next chunk not yet taken until none is left (one task per thread, not
    per chunk: a 52-million-row pass has 1,600 chunks)."""
    count = chunk_count(rows, chunk_rows)
    threads = default_threads() if threads is None else threads
    if threads <= 1 or count == 1:
        for chunk in range(count):
            kernel(chunk * chunk_rows, min((chunk + 1) * chunk_rows, rows), chunk, *arguments)
        return
    next_chunk = itertools.count()  # next() on it is atomic under the GIL

    def work() -> None:
        for chunk in iter(next_chunk.__next__, None):
            if chunk >= count:
                return
            kernel(chunk * chunk_rows, min((chunk + 1) * chunk_rows, rows), chunk, *arguments)

    futures = [_pool(threads).submit(work) for _ in range(min(threads, count))]
    for future in futures:
        future.result()  # re-raises a kernel's exception here


def concurrently(first, second, threads: int | None = None):
    """(first(), second()): with more than one thread, `first` runs on a pool thread while `second`
    runs here (its own chunks, if it has any, go to the same pool and so to whichever threads are free)."""
    threads = default_threads() if threads is None else threads
    if threads <= 1:
        return first(), second()
    future = _pool(threads).submit(first)
    other = second()
    return future.result(), other


def partial_sums(rows: int, *shape: int, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """Zeroed output for per-chunk sums: one row per chunk, reduced with `np.sum(..., axis=0)`."""
    return np.zeros((chunk_count(rows, chunk_rows), *shape))


class Workspace:
    """Arrays kept from year to year for the passes' temporaries. A fresh array of every row each
    year costs the kernel's zeroing of its pages (in a 52-million-row run, gigabytes a year);
    `array(name, size, dtype)` hands back the same memory, grown when more rows need it. An array
    is valid until the next request under its name, which a caller must not make while it is in use."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, size: int, dtype=np.float64) -> np.ndarray:
        """A buffer of `size` elements of `dtype` (its contents undefined)."""
        held = self._arrays.get(name)
        if held is None or held.dtype != np.dtype(dtype) or held.size < size:
            grown = max(size, int(1.25 * held.size) if held is not None else size)
            if held is not None:  # the buffer it replaces goes back to the system first (sim.allocator)
                del self._arrays[name], held
                release_freed_memory()
            held = self._arrays[name] = np.empty(grown, dtype=dtype)
        return held[:size]


def array_in(workspace: Workspace | None, name: str, size: int, dtype=np.float64) -> np.ndarray:
    """workspace.array(name, size, dtype), or a new array when there is no workspace."""
    return np.empty(size, dtype=dtype) if workspace is None else workspace.array(name, size, dtype)
