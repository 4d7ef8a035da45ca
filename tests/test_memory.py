"""sim.memory: the allocator settings take effect where the C library is glibc."""

import platform

import numpy as np
import pytest

from sim.memory import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings exist only in glibc")
def test_glibc_accepts_the_settings_and_large_blocks_still_work():
    assert keep_freed_memory() is True
    block = np.zeros(5 << 20)  # 40 MB: above glibc's largest mmap threshold, now served from the heap
    assert block.sum() == 0.0
    block[:] = 1.0
    del block
    again = np.zeros(5 << 20)  # a freed block handed out again must still read as zeros
    assert again.sum() == 0.0
