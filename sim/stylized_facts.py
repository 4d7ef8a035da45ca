"""Stylized facts a credible firm model reproduces (BRIEF.md scientific anchors), measured on a run.

- a heavy-tailed firm size distribution: Pareto tail exponent near 1 (Axtell 2001);
- tent-shaped (Laplace) rather than normal growth-rate distributions (Stanley et al. 1996; Bottazzi
  and Secchi 2006): excess kurtosis well above 0 and a better Laplace likelihood;
- growth volatility falling with size with an exponent of about 0.2 (Amaral et al. 1997);
- wide productivity dispersion: a 90/10 ratio of about 5 in China (Hsieh and Klenow 2009) and a
  state-owned productivity gap (Brandt, Tombe and Zhu 2013).
All statistics weight each firm row by the real firms it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fact:
    name: str
    value: float
    reference: str
    source: str


def hill_tail_exponent(values: np.ndarray, weights: np.ndarray, tail_share: float = 0.05) -> float:
    """Weighted Hill (maximum-likelihood Pareto) exponent of the largest `tail_share` of firms."""
    order = np.argsort(values)[::-1]
    cumulative = np.cumsum(weights[order])
    cut = np.searchsorted(cumulative, tail_share * cumulative[-1])
    tail = order[: max(cut, 2)]
    minimum = values[tail[-1]]
    log_excess = np.sum(weights[tail] * np.log(values[tail] / minimum))
    return float(weights[tail].sum() / log_excess) if log_excess > 0 else float("nan")


def growth_shape(growth: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """(excess kurtosis, mean log-likelihood of a fitted Laplace minus that of a fitted normal)."""
    mean = np.average(growth, weights=weights)
    variance = np.average((growth - mean) ** 2, weights=weights)
    kurtosis = np.average((growth - mean) ** 4, weights=weights) / variance**2 - 3.0
    order = np.argsort(growth)
    cumulative = np.cumsum(weights[order])
    median = growth[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])]
    scale = np.average(np.abs(growth - median), weights=weights)
    laplace = -np.log(2 * scale) - np.average(np.abs(growth - median), weights=weights) / scale
    normal = -0.5 * np.log(2 * np.pi * variance) - 0.5
    return float(kurtosis), float(laplace - normal)


def volatility_size_slope(growth: np.ndarray, size: np.ndarray, weights: np.ndarray, bins: int = 12) -> float:
    """Slope of log growth-rate sd on log size across size bins (Amaral et al. 1997 find about -0.2)."""
    edges = np.quantile(np.log(size), np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, np.log(size), side="right") - 1, 0, bins - 1)
    log_size, log_sd = [], []
    for b in range(bins):
        members = which == b
        if weights[members].sum() <= 0 or members.sum() < 20:
            continue
        g, w = growth[members], weights[members]
        mean = np.average(g, weights=w)
        log_sd.append(0.5 * np.log(np.average((g - mean) ** 2, weights=w)))
        log_size.append(np.average(np.log(size[members]), weights=w))
    return float(np.polyfit(log_size, log_sd, 1)[0])


def stylized_facts(model, record: dict) -> list[Fact]:
    """The facts of the model's current year (the model must have stepped at least once)."""
    f = model.firms
    above = f.alive & (f.revenue >= model.params["threshold_revenue"])
    weight = f.weight.astype(np.float64)
    continuing = above & (f.age > 0) & (f.previous_value_added > 0)
    growth = np.log(f.value_added[continuing].astype(np.float64) / f.previous_value_added[continuing])
    kurtosis, laplace_gain = growth_shape(growth, weight[continuing])
    return [
        Fact("firm size tail exponent (revenue, top 5%)", hill_tail_exponent(f.revenue[above].astype(np.float64), weight[above]),
             "about 1", "Axtell (2001)"),
        Fact("growth rates: excess kurtosis", kurtosis, "about 3 (Laplace), 0 for normal", "Stanley et al. (1996)"),
        Fact("growth rates: Laplace minus normal log-likelihood per firm", laplace_gain, "> 0", "Bottazzi and Secchi (2006)"),
        Fact("growth volatility vs size: slope", volatility_size_slope(growth, f.revenue[continuing].astype(np.float64), weight[continuing]),
             "about -0.2", "Amaral et al. (1997)"),
        Fact("labour productivity 90/10 ratio, above-scale manufacturing", record["productivity_90_10"], "about 5 (TFP)",
             "Hsieh and Klenow (2009)"),
        Fact("private minus state-owned log productivity", record["soe_productivity_gap"], "> 0",
             "Brandt, Tombe and Zhu (2013)"),
    ]


def format_facts(facts: list[Fact]) -> str:
    lines = [f"{'stylized fact':58} {'model':>8}  {'literature':34} source"]
    lines += [f"{fact.name:58} {fact.value:>8.3f}  {fact.reference:34} {fact.source}" for fact in facts]
    return "\n".join(lines)
