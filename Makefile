# Two commands do everything on a fresh machine:
#   make run   - create .venv (Python >= 3.12), install sim, run the baseline scenario into outputs/
#   make test  - the same install, then the test suite
# PYTHON=/path/to/python3.12 overrides the interpreter search.

VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Find a Python >= 3.12: an explicit PYTHON wins; then plain names on PATH; then pyenv's
# installed versions (a bare python3.12 shim fails unless PYENV_VERSION names the version).
PYTHON ?= $(shell ./.ci/find-python)

.PHONY: run test bench bench-sweep clean venv

venv: $(STAMP)

$(VENV_PYTHON):
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found; install one or pass PYTHON=/path/to/python3.12" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV_PYTHON) pyproject.toml
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/sim run scenarios/baseline.toml --overwrite

test: $(STAMP)
	$(VENV_PYTHON) -m pytest

bench: $(STAMP)
	$(VENV_PYTHON) benchmarks/run.py

bench-sweep: $(STAMP)
	$(VENV_PYTHON) benchmarks/sweep_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
