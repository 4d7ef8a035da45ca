"""The allocator policy of a run: memory a pass frees is kept for the next pass, not handed back,
except when a run's long-lived arrays grow.

glibc's malloc serves every block above 32 MB with its own mmap and returns it with munmap when it
is freed. A 52-million-firm run makes and frees such temporaries every year (a flag or a number
per row: 50 to 500 MB each), so each one comes back as fresh pages that the kernel must zero and,
on a virtual machine whose host backs a page only when it is first touched and takes freed pages
back (free page reporting), that the host must supply again: 3.6 s per GiB on the machine of
benchmarks/README.md. With mmap turned off and the heap never trimmed, a freed block stays in the
process and the next request of its size reuses it (there, the 52-million-firm run took 242 s
instead of 328 s); the cost is that the process keeps its memory until it ends (its peak rose from
8.7 to 9.2 GiB).

The exception: when the firm columns or a workspace buffer grow (sim.firms, sim.parallel.Workspace),
the buffer they replace is larger than any temporary and no later request reuses it, so its pages
are handed back at once (release_freed_memory).

Only glibc has these settings (mallopt, malloc_trim); elsewhere nothing is changed.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache

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


def release_freed_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc's malloc_trim, which also releases free
    pages inside the heap), once a long-lived array has grown (the firm columns, a workspace
    buffer): the buffer it replaced is larger than any temporary, so with the heap never trimmed
    (keep_freed_memory) it would stay in the process unused, and a whole-population run whose firms
    grow from 52 to 76 million rows would hold both sizes at once. True when done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    trim(0)
    return True
