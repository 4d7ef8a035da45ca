"""Scenario discovery: where in the space of uncertainties and policies does a goal fail?

PRIM, the Patient Rule Induction Method (Friedman and Fisher 1999), as scenario discovery uses it
(Bryant and Lempert 2010; Kwakkel 2017), from EMA Workbench's `ema_workbench.analysis.prim`: peel
the box of all runs, a few percent at a time along one input, towards the runs where the goal
fails, then paste back what helps. Each box on the peeling trajectory has
  - coverage: the share of all failing runs that lie in the box;
  - density:  the share of the box's runs that fail;
  - mass:     the share of all runs that lie in the box;
and each restricted input a quasi-p value (the chance that a box of its density arises by chance
from the restriction; Bryant and Lempert 2010). One box is chosen from the trajectory
(`choose_box`), restrictions that chance could explain are dropped from it (MAX_QUASI_P), and the
trajectory itself is kept for the figure.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Assumption: Bryant and Lempert (2010) weigh coverage and density alike and leave the point on the
# trajectory to the analyst. The rule that picks it here without one: the box with the highest
# harmonic mean of coverage and density (weighing them alike, as the F1 score weighs recall and
# precision), among those holding at least half of the failing runs (MIN_COVERAGE); fewest
# restricted inputs among equals. The densest box alone would keep peeling into noise.
MIN_COVERAGE = 0.5
# EMA Workbench's defaults (Friedman and Fisher 1999 suggest peeling 5-10% at a time): peel and
# paste 5% of the runs per step; stop when a box holds less than 5% of the runs.
PEEL_ALPHA = 0.05
MASS_MIN = 0.05
# Assumption: a restriction stays in the box only if its quasi-p value is at most 5%, the usual
# significance level (Bryant and Lempert 2010 drop restrictions that chance could explain).
MAX_QUASI_P = 0.05


@dataclass(frozen=True)
class Limit:
    """One restricted input of a box: a range for a number (None on a side it leaves open), a set of
    labels for a category."""

    name: str
    low: float | None
    high: float | None
    categories: tuple[str, ...] | None
    quasi_p: float

    def text(self) -> str:
        if self.categories is not None:
            return f"{self.name} in {{{', '.join(self.categories)}}}"
        return " <= ".join(part for part in (self.low is not None and f"{self.low:.4g}", self.name,
                                            self.high is not None and f"{self.high:.4g}") if part)


@dataclass(frozen=True)
class Box:
    """The chosen box, its statistics, and the trajectory it was chosen from."""

    limits: tuple[Limit, ...]
    coverage: float
    density: float
    mass: float
    runs_in_box: int
    failures_in_box: int
    index: int  # its place on the peeling trajectory
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per box

    def text(self) -> str:
        where = " and ".join(limit.text() for limit in self.limits) or "everywhere (no input restricted)"
        return f"{where}: coverage {self.coverage:.2f}, density {self.density:.2f}, mass {self.mass:.2f}"


def _prim_module():
    """ema_workbench.analysis.prim; the package warns at import about optional parallel back ends
    (ipyparallel) that discovery does not use: that one warning is silenced, no other."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
        from ema_workbench.analysis import prim
    return prim


def choose_box(trajectory: pd.DataFrame, min_coverage: float = MIN_COVERAGE) -> int:
    """The box on the trajectory with coverage >= min_coverage whose harmonic mean of coverage and
    density is highest; among equals the one restricting the fewest inputs, then the earliest. The
    first box (all runs) always qualifies."""
    eligible = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    balance = 2 * eligible["coverage"] * eligible["density"] / (eligible["coverage"] + eligible["density"])
    ranked = eligible.assign(balance=balance.round(12), order=np.arange(len(eligible))).sort_values(
        ["balance", "res_dim", "order"], ascending=[False, True, True], kind="stable")
    return int(ranked.index[0])


def find_failure_box(inputs: pd.DataFrame, fails: np.ndarray, min_coverage: float = MIN_COVERAGE) -> Box:
    """PRIM's first box for `fails` (True where the goal fails) over `inputs` (numbers, and
    categories as pandas categoricals). Raises ValueError when no run fails or every run does."""
    fails = np.asarray(fails, dtype=bool)
    if len(inputs) != fails.size:
        raise ValueError(f"{len(inputs)} rows of inputs, {fails.size} outcomes")
    if not fails.any() or fails.all():
        raise ValueError("PRIM needs runs that fail and runs that do not")
    prim = _prim_module()
    with warnings.catch_warnings():  # its own use of a pandas keyword that pandas 3.1 deprecates; nothing of ours
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop is deprecated")
        found = prim.Prim(inputs.reset_index(drop=True), fails, peel_alpha=PEEL_ALPHA, paste_alpha=PEEL_ALPHA,
                          mass_min=MASS_MIN).find_box()
    trajectory = found.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]].astype(float)
    index = choose_box(trajectory, min_coverage)
    limits = _limits(found, index, inputs)
    while any(limit.quasi_p > MAX_QUASI_P for limit in limits):  # drop restrictions chance could explain
        weakest = max(limits, key=lambda limit: limit.quasi_p)
        found.drop_restriction(weakest.name, i=index)  # appends the box without it to the trajectory
        index = len(found.peeling_trajectory) - 1
        limits = _limits(found, index, inputs)
    trajectory = found.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]].astype(float)
    stats = trajectory.iloc[index]
    return Box(tuple(limits), float(stats["coverage"]), float(stats["density"]), float(stats["mass"]),
               int(stats["n"]), int(stats["k"]), index, trajectory.reset_index(drop=True))


def _limits(found, index: int, inputs: pd.DataFrame) -> list[Limit]:
    """The restricted inputs of box `index`, straight from PrimBox.box_lims and p_values (its
    inspect(style="data") cannot write a category set into its float table under pandas 3)."""
    first, chosen, quasi_p = found.box_lims[0], found.box_lims[index], found.p_values[index]
    limits = []
    for name in inputs.columns:
        low, high = chosen[name].iloc[0], chosen[name].iloc[1]
        if isinstance(inputs[name].dtype, pd.CategoricalDtype):
            if set(low) != set(first[name].iloc[0]):
                limits.append(Limit(str(name), None, None, tuple(sorted(str(c) for c in low)), float(quasi_p[name][0])))
        elif (low, high) != (first[name].iloc[0], first[name].iloc[1]):
            limits.append(Limit(str(name), None if low == first[name].iloc[0] else float(low),
                                None if high == first[name].iloc[1] else float(high), None,
                                float(max(p for p in quasi_p[name] if p >= 0))))
    return limits
