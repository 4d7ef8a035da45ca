"""sim.allocator and sim.memory: the allocator settings take effect where the C library is glibc; freed
buffers go back when asked; pages are touched on every thread."""

import platform

import numpy as np
import pytest

from sim.allocator import keep_freed_memory, release_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings exist only in glibc")
def test_glibc_accepts_the_settings_and_large_blocks_still_work():
    assert keep_freed_memory() is True
    block = np.zeros(5 << 20)  # 40 MB: above glibc's largest mmap threshold, now served from the heap
    assert block.sum() == 0.0
    block[:] = 1.0
    del block
    again = np.zeros(5 << 20)  # a freed block handed out again must still read as zeros
    assert again.sum() == 0.0


def resident_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


@pytest.mark.skipif(platform.system() != "Linux", reason="reads the resident size from /proc")
@pytest.mark.parametrize("threads", [1, 2])
def test_touch_pages_backs_every_page_and_changes_no_value(threads):
    import mmap

    from sim.memory import touch_pages

    size = 48 << 20
    region = mmap.mmap(-1, size)  # fresh anonymous pages: none resident until written
    array = np.frombuffer(region, dtype=np.float64)
    before = resident_bytes()
    assert touch_pages(array, threads) is array
    assert resident_bytes() - before >= 0.95 * size
    assert not array.any()
    small = np.arange(10.0)
    np.testing.assert_array_equal(touch_pages(small, threads), np.arange(10.0))  # below the size worth touching: untouched
    del array
    region.close()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim exists only in glibc")
def test_a_freed_large_buffer_goes_back_to_the_system_when_released():
    """With the heap never trimmed, a freed 200 MB buffer stays resident; release_freed_memory hands
    its pages back (the firm columns and workspace buffers that grow rely on it)."""
    keep_freed_memory()
    size = 200 << 20
    block = np.ones(size // 8)
    held = resident_bytes()
    del block
    assert release_freed_memory() is True
    assert held - resident_bytes() >= 0.9 * size
