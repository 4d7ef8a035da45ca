"""Sweeps of the firm model: serial, process-pool and Dask results identical bit for bit; a sweep
killed midway and resumed gives the same Dataset as one never interrupted."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sim.sweep import load_sweep, run_sweep
from sim.sweep.design import build_design, run_values, sample_seeds

DATA = Path(__file__).parent / "data" / "sweeps"
ROOT = Path(__file__).resolve().parent.parent
SMALL = DATA / "small_lhs.toml"  # 4 samples x 2 independent seeds at scale 0.01


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    spec = load_sweep(SMALL)
    return spec, run_sweep(spec, tmp_path_factory.mktemp("serial"), workers=1, progress=False)


def test_serial_sweep_is_the_model_run_sample_by_sample(serial):
    from sim.runner import simulate

    spec, result = serial
    dataset = result.dataset
    assert dict(dataset["manufacturing_va"].sizes) == {"sample": 4, "run": 2, "year": 24}
    values = run_values(spec, build_design(spec))
    for name in spec.names:  # the varied inputs are coordinates along `sample`
        assert dataset[name].dims == ("sample",)
    assert np.array_equal(dataset["srdi_start_year"].values, values[:, 2])
    # sample 3, run 1 is simulate() of the base scenario with the sample's inputs and seed
    seed = sample_seeds(spec, 3)[1]
    assert int(dataset["seed"].sel(sample=3, run=1)) == seed
    scenario = replace(spec.model.scenario, parameters={**spec.model.scenario.parameters, **dict(zip(spec.names, values[3]))})
    direct = simulate(scenario, seed, 0.01)
    assert np.array_equal(dataset["manufacturing_va"].sel(sample=3, run=1).values, direct["manufacturing_va"].values[0])
    # samples differ (inputs and seeds matter), runs of one sample differ (seeds matter)
    last = dataset["manufacturing_va"].sel(year=2035).values
    assert len(np.unique(last)) == last.size
    # the file on disk is the returned Dataset
    with xr.open_dataset(result.path, engine="h5netcdf") as stored:
        xr.testing.assert_identical(stored.load(), dataset)


def test_process_pool_and_dask_give_identical_results(serial, tmp_path):
    spec, reference = serial
    pooled = run_sweep(spec, tmp_path / "pool", workers=2, progress=False, checkpoint=0)
    assert pooled.executor.startswith("process pool")
    xr.testing.assert_identical(pooled.dataset, reference.dataset)

    from distributed import LocalCluster

    # a scheduler and a worker process of their own on 127.0.0.1 (one worker: the machine has two cores)
    with LocalCluster(host="127.0.0.1", n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        distributed = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert distributed.executor.startswith("dask")
    xr.testing.assert_identical(distributed.dataset, reference.dataset)


def test_unreachable_scheduler_is_an_input_error(tmp_path):
    from sim.errors import InputError

    spec = load_sweep(DATA / "ishigami_sobol.toml")
    with pytest.raises(InputError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", progress=False, connect_timeout=0.5)


def test_sweep_killed_midway_and_resumed_equals_uninterrupted(serial, tmp_path):
    spec, reference = serial
    parts = tmp_path / "small_lhs" / "parts"
    command = [sys.executable, "-m", "sim", "sweep", str(SMALL), "--out", str(tmp_path), "--workers", "1", "--checkpoint", "0", "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(parts.glob("part-*.h5"))) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the whole group: the sweep and its workers
        process.wait()
    assert process.returncode == -signal.SIGKILL
    finished = sorted(parts.glob("part-*.h5"))
    assert 2 <= len(finished) < 4, "the kill must come midway"
    assert not (tmp_path / "small_lhs" / "results.nc").exists()
    before = {path.name: path.read_bytes() for path in finished}

    resumed = run_sweep(spec, tmp_path, workers=1, resume=True, progress=False)
    assert resumed.reused >= 2 and resumed.evaluated == 4 - resumed.reused  # finished samples not run again
    for name, content in before.items():
        assert (parts / name).read_bytes() == content
    xr.testing.assert_identical(resumed.dataset, reference.dataset)
