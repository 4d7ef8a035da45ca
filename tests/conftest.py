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
