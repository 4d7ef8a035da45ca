"""The first touch of a large array's pages, on every thread.

The first touch of fresh pages is where a large run's columns get their memory: `touch_pages`
writes one byte a page on every thread, so that the kernel and the host supply the pages in
parallel rather than one at a time inside a single-threaded numpy pass (the allocator's policy is
sim.allocator's).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.parallel import run_chunks

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
