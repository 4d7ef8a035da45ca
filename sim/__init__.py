"""sim: agent-based scenario model of China's new industrialization."""

import hashlib
import os
from pathlib import Path

__version__ = "0.1.0"


def _compiled_cache_dir(package: Path = Path(__file__).parent) -> str:
    """Numba caches a compiled rule together with the rules it calls but checks only its own
    file's time stamp, so an edit to a called rule could leave a stale caller in the cache. The
    cache therefore lives in a directory named after a digest of every source file of the package:
    any edit starts a fresh cache."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return str(package / "__pycache__" / f"numba-{digest.hexdigest()[:16]}")


os.environ.setdefault("NUMBA_CACHE_DIR", _compiled_cache_dir())  # before any rule imports numba


# ---------------------------------------------------------------- the Python API (sim/api.py)
# `sim.run(...)`, `sim.compare(...)`, `sim.sweep(...)`, `sim.build_scenario(...)`, `sim.sweep_spec(...)`.
# Imported on first use, so that `import sim` stays light. `sim.compare` and `sim.sweep` are also
# submodules, and importing a submodule sets the package's attribute to it: those two modules are
# made callable instead (their class set to a ModuleType subclass, the idiom of the Python reference,
# "Customizing module attribute access"), so `sim.compare([...])` calls the API function and
# `sim.compare.run_comparison` is still the module's, whichever was imported first.
import importlib as _importlib
import sys as _sys
import types as _types

API_FUNCTIONS = ("run", "compare", "sweep", "build_scenario", "sweep_spec")
CALLABLE_SUBMODULES = ("compare", "sweep")  # submodules that are also the API function of their name


class _CallableModule(_types.ModuleType):
    """A submodule that, called, calls the function of sim.api of its name."""

    def __call__(self, *args, **kwargs):
        from sim import api

        return getattr(api, self.__name__.rpartition(".")[2])(*args, **kwargs)


class _Package(_types.ModuleType):
    """The `sim` package: makes the submodules of CALLABLE_SUBMODULES callable as the import system
    sets them as its attributes."""

    def __setattr__(self, name, value):
        if name in CALLABLE_SUBMODULES and isinstance(value, _types.ModuleType) and value.__name__ == f"{__name__}.{name}":
            value.__class__ = _CallableModule
        super().__setattr__(name, value)


def __getattr__(name: str):
    """The API's functions, imported on first use (PEP 562)."""
    if name in CALLABLE_SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")  # callable: see _Package
    if name in API_FUNCTIONS:
        return getattr(_importlib.import_module(f"{__name__}.api"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *API_FUNCTIONS})


_sys.modules[__name__].__class__ = _Package
