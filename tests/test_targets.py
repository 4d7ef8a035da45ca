"""Traceability tests for the calibration targets and the lever sources.

Every figure the model is calibrated to (calibration/targets.csv) and every policy lever it
offers (calibration/lever_sources.csv) must be traceable to a verbatim sentence in the source
documents, which the repository ships in calibration/documents/ (a copy of the team's shared documents,
so that a user's clone needs nothing beside it).
"""

from __future__ import annotations

import csv
import math
import re
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "calibration" / "documents"
TARGETS = REPO / "calibration" / "targets.csv"
LEVER_SOURCES = REPO / "calibration" / "lever_sources.csv"

TARGET_COLUMNS = ["key", "value", "unit", "year", "document", "quote", "measure", "role", "derivation"]
LEVER_COLUMNS = ["lever", "document", "quote", "what_it_says"]
ROLES = {"initial", "fit", "check"}
LEVERS = [
    "digital_subsidy",
    "rd_superdeduction",
    "equipment_renewal",
    "carbon_constraint",
    "gradient_cultivation",
    "arrears_enforcement",
    "hand_in_hand",
    "ai_empowerment",
    "soe_reform",
    "innovation_centers",
    "trade_shock",
    "relocation",
    "regional_transfer",
]


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@lru_cache(maxsize=None)
def _document(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"document {name!r} not found in {DOCS}"
    return path.read_text(encoding="utf-8")


def _targets() -> list[dict[str, str]]:
    return _read(TARGETS)[1]


def _lever_rows() -> list[dict[str, str]]:
    return _read(LEVER_SOURCES)[1]


def test_documents_present():
    assert DOCS.is_dir(), f"source documents not found at {DOCS}"
    assert any(DOCS.glob("*.txt")), f"no .txt documents in {DOCS}"


def test_a_clone_needs_nothing_beside_it():
    """The documents ship inside the repository, and no code, test or build file reads a folder
    beside the clone (a user's clone has none)."""
    assert DOCS.resolve().is_relative_to(REPO.resolve())
    cited = {row["document"] for row in _targets()} | {row["document"] for row in _lever_rows()}
    assert cited and all((DOCS / name).is_file() for name in cited)
    beside = "sha" + "red"  # the team's folder beside a checkout, spelt so that this file does not name it
    outside = re.compile(rf"\.\./{beside}|parents?\b[^\n]*[\"']{beside}[\"']")
    sources = [*REPO.joinpath("sim").rglob("*.py"), *REPO.joinpath("tests").rglob("*.py"), REPO / "Makefile"]
    offenders = [str(path.relative_to(REPO)) for path in sources if outside.search(path.read_text(encoding="utf-8"))]
    assert not offenders, offenders


# ------------------------------------------------------------------ targets.csv

def test_targets_columns():
    columns, _ = _read(TARGETS)
    assert columns == TARGET_COLUMNS


def test_targets_row_count():
    assert len(_targets()) >= 40


def test_targets_unique_snake_case_keys():
    keys = [r["key"] for r in _targets()]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    assert not dupes, f"duplicate keys: {dupes}"
    bad = [k for k in keys if not re.fullmatch(r"[a-z][a-z0-9_]*", k)]
    assert not bad, f"keys not in snake_case: {bad}"


@pytest.mark.parametrize("row", _targets(), ids=lambda r: r["key"])
def test_target_row(row):
    # numeric, finite value with no units or thousands separators
    value = float(row["value"])
    assert math.isfinite(value)
    assert row["role"] in ROLES, f"role {row['role']!r} not in {sorted(ROLES)}"
    assert row["unit"].strip(), "empty unit"
    assert row["measure"].strip(), "empty measure"
    assert row["year"].strip(), "empty year"
    if row["key"].endswith("_goal"):
        assert row["role"] == "check", "goals are checked, never fitted"
    if row["measure"].startswith("stat:"):
        assert len(row["measure"]) > len("stat:"), "stat: needs a name"
    # verbatim traceability
    assert row["quote"].strip(), "empty quote"
    assert row["quote"] in _document(row["document"]), (
        f"quote for {row['key']} not found verbatim in {row['document']}"
    )


def test_targets_have_all_roles():
    roles = {r["role"] for r in _targets()}
    assert roles == ROLES


# ------------------------------------------------------------- lever_sources.csv

def test_lever_sources_columns():
    columns, _ = _read(LEVER_SOURCES)
    assert columns == LEVER_COLUMNS


@pytest.mark.parametrize(
    "row", _lever_rows(), ids=lambda r: f"{r['lever']}:{r['quote'][:30]}"
)
def test_lever_row(row):
    assert row["lever"] in LEVERS, f"unknown lever {row['lever']!r}"
    assert row["what_it_says"].strip(), "empty what_it_says"
    assert row["quote"].strip(), "empty quote"
    assert row["quote"] in _document(row["document"]), (
        f"quote for lever {row['lever']} not found verbatim in {row['document']}"
    )


@pytest.mark.parametrize("lever", LEVERS)
def test_every_lever_has_a_source(lever):
    assert any(r["lever"] == lever for r in _lever_rows()), f"no source sentence for {lever}"
