import pytest

from sim.macro import build_macro
from sim.model import IndustryModel
from sim.parameters import resolve

SMALL_SCALE = 0.03


@pytest.fixture(scope="session")
def small_model():
    """A baseline run at a small scale, stepped to 2035 (shared by read-only tests)."""
    model = IndustryModel(resolve(), build_macro(), seed=7, scale=SMALL_SCALE)
    model.run_to_end()
    return model


@pytest.fixture(scope="session")
def small_result(tmp_path_factory):
    """A result file of the baseline (one run at scale 0.002) as `sim run` writes it."""
    from pathlib import Path

    from sim.output import write_atomic
    from sim.runner import ensemble
    from sim.scenario import load_scenario

    path = tmp_path_factory.mktemp("small_result") / "baseline.nc"
    write_atomic(ensemble(load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"), [1], 0.002), path)
    return path


@pytest.fixture(scope="module")
def declared_defaults():
    """Run a test module on the declared parameter defaults rather than calibration/params.toml
    (use with pytestmark = pytest.mark.usefixtures("declared_defaults"))."""
    from types import MappingProxyType

    from sim import parameters

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parameters, "calibrated_values", lambda: MappingProxyType({}))
        yield
