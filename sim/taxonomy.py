"""Categories of the firm population: classes, ladder rungs, regions, digital stages, industries."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numba import njit

from sim.parameters import CALIBRATION_DIR

FIRM_CLASSES = ("state_owned", "large_private", "foreign_funded", "sme")
STATE_OWNED, LARGE_PRIVATE, FOREIGN_FUNDED, SME = range(4)

LADDER_RUNGS = ("none", "srdi", "little_giant", "single_champion")
RUNG_NONE, RUNG_SRDI, RUNG_LITTLE_GIANT, RUNG_CHAMPION = range(4)

REGIONS = ("east", "central", "west", "northeast")

# 001 III (vi): "about 80% of SMEs are still in the initial exploration stage of digital
# transformation". The names of the later stages are an assumption (MIIT's SME digital
# maturity assessment has four levels).
DIGITAL_STAGES = ("initial_exploration", "process_digitalisation", "network_integration", "intelligent_innovation")

# A market is an industry's segment: conventional or strategic-emerging (market_index).
SEGMENTS = ("conventional", "emerging")
N_SEGMENTS = len(SEGMENTS)
INDUSTRIES_FILE = CALIBRATION_DIR / "industries.toml"


@njit(cache=True)
def market_index(industry, emerging):
    """The market of a firm (or of arrays of them): industry x N_SEGMENTS + segment (1 if it is in
    the strategic-emerging segment). Its inverse: market_industry, market_is_emerging."""
    return industry * N_SEGMENTS + emerging


@njit(cache=True)
def market_industry(market):
    return market // N_SEGMENTS


@njit(cache=True)
def market_is_emerging(market):
    return market % N_SEGMENTS == 1


@dataclass(frozen=True)
class Industries:
    """The industry table as arrays, one entry per industry, in file order."""

    keys: tuple[str, ...]
    names: tuple[str, ...]
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def index(self, key: str) -> int:
        return self.keys.index(key)


@cache
def load_industries(path: Path = INDUSTRIES_FILE) -> Industries:
    with open(path, "rb") as handle:
        rows = tomllib.load(handle)["industry"]
    numeric = [k for k, v in rows[0].items() if k not in ("key", "name")]
    columns = {}
    for column in numeric:
        values = [row[column] for row in rows]
        dtype = bool if isinstance(values[0], bool) else np.float64
        columns[column] = np.array(values, dtype=dtype)
        columns[column].setflags(write=False)
    return Industries(
        keys=tuple(r["key"] for r in rows), names=tuple(r["name"] for r in rows), columns=columns
    )
