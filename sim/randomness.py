"""The random policy: one seed per run; an independent child stream per (rule, year).

Streams are keyed by name, not by call order, so adding a draw to one rule never shifts another
rule's numbers: scenarios compared on the same seed share common random numbers rule by rule.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS = ("population", "market", "innovation", "digital", "finance", "entry_exit", "ladder", "trade", "energy")


def stream(seed: int, name: str, year: int = 0) -> np.random.Generator:
    """Generator for rule `name` in `year`, derived from the run's seed only."""
    if name not in STREAMS:
        raise KeyError(f"unknown random stream {name!r}")
    key = (zlib.crc32(name.encode()), int(year))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=key))
