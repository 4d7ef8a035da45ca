"""Atomic writes (issue 8, item 2): a command killed with SIGKILL at any moment leaves the earlier
result intact and never a partial file under a final name (only hidden `.NAME.*.tmp` files, which
are never read, may stay behind). Sweeps are killed in tests/test_sweep.py."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from sim.output import figure_describes

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
PNG_SIGNATURE, PNG_END = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"
EARLIER = b"the earlier file\n"


def sim(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def finals(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def whole_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG_SIGNATURE) and data.endswith(PNG_END)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "the command ended before it was killed"
    process.stderr.close()


# When `sim run` is killed: after fixed times, while it computes. A kill while it writes is tested
# deterministically in tests/test_no_work_lost.py (a writer patched to die half-way, and between the
# two renames): both files are made in memory and written in milliseconds, so a test that waits for
# a temporary file to appear before killing the run loses that race on a busy machine.
RUNS = 10
MOMENTS = {"after-1s": 1.0, "after-3s": 3.0}


@pytest.mark.parametrize("moment", MOMENTS)
def test_run_killed_at_any_moment_keeps_the_earlier_result_or_writes_the_whole_new_one(tmp_path, small_result, moment):
    shutil.copy(small_result, tmp_path / "baseline.nc")  # the earlier result: one run at scale 0.002
    (tmp_path / "baseline.png").write_bytes(EARLIER)
    # Long enough (7 s here, 5 s of it computing) that the fixed moments fall while it computes; a
    # run that ends before its kill fails the test rather than passing it.
    process = sim("run", str(BASELINE), "--scale", "0.1", "--seeds", str(RUNS), "--out", str(tmp_path), "--overwrite")
    time.sleep(MOMENTS[moment])
    kill(process)

    assert finals(tmp_path) == ["baseline.nc", "baseline.png"]
    assert all(name.startswith((".baseline.nc.", ".baseline.png.")) for name in temporaries(tmp_path))
    with xr.open_dataset(tmp_path / "baseline.nc", engine="h5netcdf") as result, \
            xr.open_dataset(small_result, engine="h5netcdf") as earlier:
        result.load()  # every variable reads back whole
        if result.attrs["scale"] == 0.1:
            assert result.sizes["run"] == RUNS and list(result["seed"].values) == list(range(1, RUNS + 1))
        else:
            xr.testing.assert_identical(result, earlier)
    figure = tmp_path / "baseline.png"
    # Both files are written whole before either is renamed (the NetCDF first): a new figure never
    # stands beside other data; it names the NetCDF it shows (sim.output.figure_describes).
    assert figure.read_bytes() == EARLIER or (whole_png(figure) and figure_describes(figure, tmp_path / "baseline.nc"))


# A command run with its writer replaced by one that writes half a file and then kills the process
# with SIGKILL: the kill lands in the middle of writing, every time.
DIE_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
import {module} as patched

def die_while_writing(self, *args, **kwargs):
    target = self if isinstance(self, Path) else Path(args[0])
    with open(target, "wb") as handle:
        handle.write(b"half a file")
        handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)

{attribute} = die_while_writing
from sim.cli import main
sys.exit(main(sys.argv[1:]))
"""
WRITERS = {  # command -> (the writer patched, its arguments, the final file)
    "report": ("pathlib", "patched.Path.write_text", ("report", "{result}", "--vars", "exports", "-o", "{out}/report.html", "--overwrite"),
               "report.html"),
    "plot": ("matplotlib.figure", "patched.Figure.savefig", ("plot", "{result}", "--vars", "exports", "--out", "{out}", "--overwrite"),
             "baseline_trade.png"),
}


@pytest.mark.parametrize("command", WRITERS)
def test_report_and_plot_killed_while_writing_keep_the_earlier_file(tmp_path, small_result, command):
    module, attribute, args, final = WRITERS[command]
    result = tmp_path / "baseline.nc"
    shutil.copy(small_result, result)
    (tmp_path / final).write_bytes(EARLIER)
    prelude = DIE_WHILE_WRITING.format(module=module, attribute=attribute)
    argv = [arg.format(result=result, out=tmp_path) for arg in args]
    process = subprocess.run([sys.executable, "-c", prelude, *argv], capture_output=True, text=True, timeout=300)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert (tmp_path / final).read_bytes() == EARLIER
    assert finals(tmp_path) == sorted(["baseline.nc", final])
    assert [name.startswith(f".{final}.") for name in temporaries(tmp_path)] == [True]  # the half file, hidden
