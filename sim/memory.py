"""The allocator policy of a run: memory a pass frees is kept for the next pass, not handed back.

glibc's malloc serves every block above 32 MB with its own mmap and returns it with munmap when it
is freed. A 52-million-firm run makes and frees such temporaries every year (a flag or a number
per row: 50 to 500 MB each), so each one comes back as fresh pages that the kernel must zero and,
on a virtual machine whose host backs a page only when it is first touched and takes freed pages
back (free page reporting), that the host must supply again: 3.6 s per GiB on the machine of
benchmarks/README.md. With mmap turned off and the heap never trimmed, a freed block stays in the
process and the next request of its size reuses it (there, the 52-million-firm run took 242 s
instead of 328 s); the cost is that the process keeps its memory until it ends (its peak rose from
8.7 to 9.2 GiB).

Only glibc has these settings (mallopt); elsewhere nothing is changed.

The first touch of fresh pages is also where a large run's columns get their memory: `touch_pages`
writes one byte a page on every thread, so that the kernel and the host supply the pages in
parallel rather than one at a time inside a single-threaded numpy pass.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache

import numpy as np
from numba import njit

from sim.parallel import run_chunks

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_MAX = -4
NEVER_TRIM = -1  # mallopt takes an int; glibc stores it as size_t, so -1 is the largest threshold


@cache
def keep_freed_memory() -> bool:
    """Set glibc's malloc to serve large blocks from the heap and never to trim it (once per
    process). True when the settings took effect, False where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only: musl's malloc has no mallopt to speak of
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) & bool(mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))


PAGE_BYTES = 4096
TOUCH_MIN_BYTES = 8 << 20  # below this, handing pages to threads costs more than it saves


def touch_pages(array: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Fault in the pages of a new C-contiguous `array` on `threads` threads; returns it. Writes a
    zero at the start of every page: use it on arrays just made by np.zeros (unchanged) or np.empty
    (contents undefined either way), never on arrays holding data."""
    if array.nbytes >= TOUCH_MIN_BYTES and array.flags.c_contiguous:
        raw = array.reshape(-1).view(np.uint8)
        run_chunks(_touch_rows, (raw.size + PAGE_BYTES - 1) // PAGE_BYTES, raw, threads=threads)
    return array


@njit(cache=True, nogil=True)
def _touch_rows(start, stop, chunk, raw):
    for page in range(start, stop):
        raw[page * PAGE_BYTES] = 0
