"""No input or signal loses work (issue 25): interrupted, terminated or killed commands, a full disk,
two commands writing one output, a truncated sweep part, a scheduler address that is not one.

Commands that receive signals run as subprocesses (`python -m sim`); every wait is for a condition,
bounded in time."""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from sim.cli import main
from sim.output import figure_describes, output_lock

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SWEEP = Path(__file__).parent / "data" / "sweeps" / "tiny_lhs.toml"  # 8 samples of about 0.3 s
SMALL_RUN = ("--seeds", "1", "--scale", "0.005")
EARLIER = b"the earlier file\n"


def sim(*args: str) -> subprocess.Popen:
    """`sim ARGS` in a session of its own (so that a test can end it and every process it started)."""
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_until(condition, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the command ended first (exit {process.returncode}): {process.stderr.read()}")
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def end(process: subprocess.Popen) -> None:
    """Kill what is left of a command started by `sim` and of the processes it started (a test that failed midway)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()


def parts(directory: Path) -> list[Path]:
    return sorted((directory / "parts").glob("part-*.h5"))


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def contents(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


# ------------------------------------------------------------- 1, 7: Ctrl-C and SIGTERM on a sweep
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_sweep_saves_its_samples_and_prints_the_command_that_resumes_it(tmp_path, capsys, signum):
    out = tmp_path / "my sweeps"  # a space: the printed command must quote it
    process = sim("sweep", str(SWEEP), "--out", str(out), "--workers", "1", "--checkpoint", "0", "--quiet")
    try:
        wait_until(lambda: parts(out / "tiny_lhs"), process)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        end(process)
    assert process.returncode == 128 + signum, stderr
    assert one_line(stderr) == "sim: interrupted"
    printed = stdout.strip().splitlines()[-1]
    assert printed.startswith("sim: finished samples are saved; continue with: ")
    command = shlex.split(printed.split("continue with: ")[1])
    assert command == ["sim", "sweep", str(SWEEP), "--resume", "--workers", "1", "--out", str(out), "--checkpoint", "0.0", "--quiet"]
    saved = len(parts(out / "tiny_lhs"))
    assert 1 <= saved < 8, "the signal must come midway"

    if signum == signal.SIGINT:  # the command as printed continues this sweep (run here in-process: quicker)
        capsys.readouterr()
        assert main(command[1:]) == 0
        assert f"ran {8 - saved} sample(s) ({saved} reused from the interrupted run)" in capsys.readouterr().out


# ------------------------------------------------------------- 7: SIGKILL on a sweep with workers
def test_sweep_workers_end_when_the_sweep_is_killed(tmp_path):
    import psutil

    process = sim("sweep", str(SWEEP), "--out", str(tmp_path), "--workers", "2", "--checkpoint", "0", "--quiet")
    try:
        wait_until(lambda: parts(tmp_path / "tiny_lhs"), process)
        started = psutil.Process(process.pid).children(recursive=True)  # forkserver, workers, resource tracker
        assert len(started) >= 3, started
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        _, alive = psutil.wait_procs(started, timeout=10)
        assert not alive, f"still running 10 s after the sweep was killed: {alive}"
    finally:
        end(process)


# ------------------------------------------------------------------ 2: a scheduler that is not one
@pytest.mark.parametrize("address, message", [
    ("garbage", "sim: error: --scheduler: 'garbage' is not a Dask scheduler address (missing port number"),
    ("tcp://127.0.0.1:9", "sim: error: --scheduler: cannot reach the Dask scheduler at tcp://127.0.0.1:9: Connection refused"),
])
def test_bad_scheduler_is_one_line_exit_2_at_once_and_writes_nothing(tmp_path, address, message):
    out = tmp_path / "sweeps"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "sim", "sweep", str(SWEEP), "--out", str(out), "--scheduler", address],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 15
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(message)  # no "Exception ignored in Client.__del__"
    assert not out.exists()


def test_a_listener_that_is_no_dask_scheduler_times_out(tmp_path):
    import socket

    from sim.errors import InputError
    from sim.sweep import load_sweep, run_sweep

    with socket.create_server(("127.0.0.1", 0)) as server:  # accepts connections, never answers
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        with pytest.raises(InputError, match="no Dask scheduler answered within 0.5 s"):
            run_sweep(load_sweep(SWEEP), tmp_path / "sweeps", scheduler=address, progress=False, connect_timeout=0.5)
    assert not (tmp_path / "sweeps").exists()


# --------------------------------------------------------------- 3: a truncated part and --resume
def test_resume_discards_an_unreadable_part_and_runs_its_samples_again(tmp_path, capsys):
    from sim.sweep import load_sweep, run_sweep

    reference = run_sweep(load_sweep(SWEEP), tmp_path, workers=1, progress=False, checkpoint=0)  # a part per sample
    directory = tmp_path / "tiny_lhs"
    (directory / "results.nc").unlink()  # as if interrupted
    truncated = parts(directory)[2]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])  # as a full disk or a crash leaves it

    assert main(["sweep", str(SWEEP), "--out", str(tmp_path), "--resume", "--workers", "1", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert one_line(captured.err).startswith(f"sim: warning: {truncated}: cannot be read back (")
    assert one_line(captured.err).endswith("; discarded, its samples run again")
    assert "ran 1 sample(s) (7 reused from the interrupted run)" in captured.out
    with xr.open_dataset(directory / "results.nc", engine="h5netcdf") as resumed:
        xr.testing.assert_identical(resumed.load(), reference.dataset)


# ----------------------------------------------------- 4: --overwrite replaces only when complete
def test_overwrite_keeps_the_earlier_sweep_whole_until_the_new_one_is_complete(tmp_path, capsys):
    sweep = ["sweep", str(SWEEP), "--out", str(tmp_path), "--workers", "1", "--quiet"]
    assert main(sweep) == 0
    directory = tmp_path / "tiny_lhs"
    earlier = contents(directory)
    assert {"results.nc", "lhs.csv", "tornado.png", "parts/part-000001.h5"} <= set(earlier)

    process = sim(*sweep, "--overwrite", "--checkpoint", "0")
    staging = tmp_path / ".tiny_lhs.new"
    try:
        wait_until(lambda: parts(staging), process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        end(process)
    assert contents(directory) == earlier  # results, parts and the analysis that describes them

    capsys.readouterr()
    assert main([*sweep, "--overwrite"]) == 0  # starts again (the killed attempt is discarded), then swaps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny_lhs"]
    assert f"wrote {directory / 'tornado.png'}" in capsys.readouterr().out
    now = contents(directory)
    assert set(now) == set(earlier) and now["lhs.csv"] == earlier["lhs.csv"]  # the same sweep again


def test_a_swap_cut_short_is_finished_by_the_next_sweep(tmp_path):
    from sim.sweep.execute import _finish_swap

    new, old = tmp_path / ".s.new", tmp_path / ".s.old"
    for folder, text in ((new, "new"), (old, "old")):
        folder.mkdir()
        (folder / "results.nc").write_text(text)
    _finish_swap(tmp_path, "s")  # killed between the renames: the new sweep was complete
    assert (tmp_path / "s" / "results.nc").read_text() == "new" and not old.exists() and not new.exists()
    old.mkdir()
    _finish_swap(tmp_path, "s")  # killed before the old folder was deleted
    assert (tmp_path / "s" / "results.nc").read_text() == "new" and not old.exists()


# ------------------------------------------------------------------------------ 5: a full disk
def full_disk_while_writing(name_start: str):
    """An `open` for sim.output that writes half of a file whose name starts so, then fails as a full disk does."""
    real_open = open

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fake_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return Full(handle) if Path(path).name.startswith(name_start) and "w" in mode else handle

    return fake_open


@pytest.mark.parametrize("earlier", [True, False], ids=["over-earlier-results", "fresh"])
def test_disk_full_while_writing_is_one_line_exit_1_and_leaves_the_earlier_pair(tmp_path, capsys, monkeypatch, earlier):
    import sim.output

    if earlier:
        (tmp_path / "baseline.nc").write_bytes(EARLIER)
        (tmp_path / "baseline.png").write_bytes(EARLIER)
    monkeypatch.setattr(sim.output, "open", full_disk_while_writing(".baseline.png."), raising=False)  # the figure, after the NetCDF
    assert main(["run", str(BASELINE), *SMALL_RUN, "--out", str(tmp_path), "--overwrite"]) == 1
    message = one_line(capsys.readouterr().err)
    assert message == (f"sim: error: {tmp_path / 'baseline.nc'}, {tmp_path / 'baseline.png'}: cannot be written: "
                       "No space left on device; the earlier files are unchanged")
    assert contents(tmp_path) == ({"baseline.nc": EARLIER, "baseline.png": EARLIER} if earlier else {})  # no .nc without its .png


def test_disk_full_during_a_sweep_keeps_the_saved_samples_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    import sim.output

    monkeypatch.setattr(sim.output, "open", full_disk_while_writing(".part-000003.h5."), raising=False)
    sweep = ["sweep", str(SWEEP), "--out", str(tmp_path), "--workers", "1", "--checkpoint", "0", "--quiet"]
    assert main(sweep) == 1
    message = one_line(capsys.readouterr().err)
    assert message.startswith(f"sim: error: {tmp_path / 'tiny_lhs' / 'parts' / 'part-000003.h5'}: cannot be written: No space left on device;")
    resume = ["sim", "sweep", str(SWEEP), "--resume", "--workers", "1", "--out", str(tmp_path), "--checkpoint", "0.0", "--quiet"]
    assert message.endswith(f"the samples saved before are kept: make room, then {shlex.join(resume)}")
    assert sorted(p.name for p in (tmp_path / "tiny_lhs" / "parts").iterdir()) == ["part-000001.h5", "part-000002.h5"]  # no temporary


def test_a_real_full_disk(tmp_path, capsys):
    """On a 200 KB tmpfs (needs root; skipped otherwise): no HDF5 noise, no crash, nothing left."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        (disk / "baseline.nc").write_bytes(EARLIER)
        (disk / "baseline.png").write_bytes(EARLIER)
        assert main(["run", str(BASELINE), *SMALL_RUN, "--out", str(disk), "--overwrite"]) == 1
        assert one_line(capsys.readouterr().err).endswith("cannot be written: No space left on device; the earlier files are unchanged")
        assert contents(disk) == {"baseline.nc": EARLIER, "baseline.png": EARLIER}
        assert sorted(p.name for p in disk.iterdir()) == ["baseline.nc", "baseline.png"]  # no temporary file, no lock
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# -------------------------------------------------- 6: killed or terminated while writing a pair
KILLED_WHILE_WRITING = """
import os, signal, sys
import sim.output as patched

real_open, real_replace = open, os.replace

def die(how):
    os.kill(os.getpid(), getattr(signal, how))

def open_then_die(path, mode="r", *args, **kwargs):
    handle = real_open(path, mode, *args, **kwargs)
    if os.path.basename(path).startswith(".baseline.png.") and "w" in mode:
        handle.write(b"half a figure")
        handle.flush()
        die("{how}")
    return handle

def replace_then_die(source, target):
    real_replace(source, target)
    if str(target).endswith("baseline.nc"):  # between the two renames
        die("{how}")

patched.{patched} = {replacement}
from sim.cli import main
sys.exit(main(sys.argv[1:]))
"""
DEATHS = {  # (signal, what is patched): where the command dies
    "sigkill-writing": ("SIGKILL", "open", "open_then_die"),
    "sigterm-writing": ("SIGTERM", "open", "open_then_die"),
    "sigkill-between-renames": ("SIGKILL", "os.replace", "replace_then_die"),
}


@pytest.fixture(scope="module")
def earlier_pair(tmp_path_factory) -> Path:
    """baseline.nc and .png as `sim run` writes them (one run at scale 0.005, the smallest the command line takes)."""
    directory = tmp_path_factory.mktemp("earlier_pair")
    assert main(["run", str(BASELINE), *SMALL_RUN, "--out", str(directory)]) == 0
    assert figure_describes(directory / "baseline.png", directory / "baseline.nc")
    return directory


@pytest.mark.parametrize("death", DEATHS)
def test_run_dying_while_writing_leaves_no_unknown_pair_and_the_next_run_cleans_up(tmp_path, earlier_pair, death):
    how, patched, replacement = DEATHS[death]
    run = ["run", str(BASELINE), *SMALL_RUN, "--out", str(tmp_path), "--overwrite"]
    for name in ("baseline.nc", "baseline.png"):
        shutil.copy(earlier_pair / name, tmp_path / name)
    netcdf, figure = tmp_path / "baseline.nc", tmp_path / "baseline.png"
    earlier = contents(tmp_path)

    prelude = KILLED_WHILE_WRITING.format(how=how, patched=patched, replacement=replacement)
    dying = ["run", str(BASELINE), "--seeds", "2", "--scale", "0.005", "--out", str(tmp_path), "--overwrite"]  # other data
    result = subprocess.run([sys.executable, "-c", prelude, *dying], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if how == "SIGTERM":  # handled as Ctrl-C: temporary files removed, the earlier pair intact
        *progress, last = result.stderr.strip().splitlines()  # two runs: sim run shows its progress bar on stderr
        assert result.returncode == 143 and last == "sim: interrupted"
        assert all(line.startswith("runs:") for line in progress), result.stderr
        assert contents(tmp_path) == earlier
        return
    assert result.returncode == -signal.SIGKILL, result.stderr
    if death == "sigkill-writing":
        assert contents(tmp_path).keys() - earlier.keys()  # the killed writer's temporary files
        assert {k: v for k, v in contents(tmp_path).items() if k in earlier} == earlier
    else:  # a new NetCDF beside the earlier figure: the figure says it shows other data
        assert contents(tmp_path)["baseline.png"] == earlier["baseline.png"]
        assert contents(tmp_path)["baseline.nc"] != earlier["baseline.nc"]
        assert not figure_describes(figure, netcdf)

    assert main(run) == 0  # the next run removes the dead writer's temporaries and writes a true pair
    assert sorted(contents(tmp_path)) == ["baseline.nc", "baseline.png"]
    assert figure_describes(figure, netcdf)


def test_ctrl_c_waits_until_the_pair_is_renamed():
    from sim.output import signals_held

    renamed = []
    with pytest.raises(KeyboardInterrupt):
        with signals_held():
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.01)  # where the interrupt would otherwise land, between the two renames
            renamed.append("both")
    assert renamed == ["both"]


def test_only_temporaries_of_dead_writers_are_removed(tmp_path):
    from sim.output import remove_stale_temporaries

    dead, alive = subprocess.Popen(["true"]), os.getpid()
    dead.wait()  # it has ended: no process has its pid
    names = [f".baseline.nc.{dead.pid}.abcdefgh.tmp", f".baseline.nc.{alive}.abcdefgh.tmp", ".baseline.nc.oldstyle.tmp",
             f".baseline.png.{dead.pid}.abcdefgh.tmp"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    removed = remove_stale_temporaries(tmp_path / "baseline.nc")
    assert [p.name for p in removed] == [names[0]]
    assert temporaries(tmp_path) == sorted(names[1:])


# -------------------------------------------------------------- 8: two commands, one output
def test_a_second_run_into_the_same_output_is_refused_while_the_first_writes(tmp_path):
    first = sim("run", str(BASELINE), "--seeds", "20", "--scale", "0.02", "--out", str(tmp_path))
    lock = tmp_path / ".baseline.lock"
    try:
        wait_until(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), first)
        second = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), *SMALL_RUN, "--out", str(tmp_path), "--overwrite"],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first run must still be running"
        assert second.returncode == 2
        assert one_line(second.stderr) == (f"sim: error: {tmp_path}: another sim command (pid {first.pid}) is writing baseline here; "
                                           "wait for it to end or choose another --out")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        end(first)
    assert not (tmp_path / "baseline.nc").exists()
    with output_lock(tmp_path, "baseline"):  # the kernel released the killed command's lock
        pass


def test_a_second_sweep_or_comparison_into_the_same_output_is_refused(tmp_path, capsys):
    with output_lock(tmp_path, "tiny_lhs"):
        assert main(["sweep", str(SWEEP), "--out", str(tmp_path), "--workers", "1", "--quiet"]) == 2
    assert f"{tmp_path}: another sim command (pid {os.getpid()}) is writing tiny_lhs here" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, the lock file gone
    with output_lock(tmp_path, "compare_baseline_vs_baseline2"):
        other = tmp_path / "baseline2.toml"
        other.write_text(f'extends = "{BASELINE}"\nname = "baseline2"\n')
        assert main(["compare", str(BASELINE), str(other), *SMALL_RUN, "--out", str(tmp_path)]) == 2
    assert "is writing compare_baseline_vs_baseline2 here" in one_line(capsys.readouterr().err)
