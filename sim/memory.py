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
