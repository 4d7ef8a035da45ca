"""Stylized facts a credible firm model reproduces (BRIEF.md scientific anchors), measured on a run.

- a heavy-tailed firm size distribution: Pareto tail exponent near 1 (Axtell 2001);
- tent-shaped (Laplace) rather than normal growth-rate distributions (Stanley et al. 1996; Bottazzi
  and Secchi 2006): excess kurtosis well above 0 and a better Laplace likelihood;
- growth volatility falling with size with an exponent of about 0.2 (Amaral et al. 1997);
- wide productivity dispersion: a 90/10 ratio of about 5 in China (Hsieh and Klenow 2009) and a
  state-owned productivity gap (Brandt, Tombe and Zhu 2013).
All statistics weight each firm row by the real firms it stands for. sim.firm_distributions measures
them at snapshot years of every run; sim.calibration_report shows them against the literature.
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


@dataclass(frozen=True)
class GrowthFit:
    """Maximum-likelihood fits of a growth-rate sample: a normal (mean, sd) and a Laplace (median,
    mean absolute deviation from it), with the sample's excess kurtosis."""

    mean: float
    sd: float
    median: float
    laplace_scale: float
    excess_kurtosis: float

    @property
    def laplace_gain(self) -> float:
        """Mean log-likelihood per firm of the Laplace fit minus that of the normal fit (> 0: tent-shaped)."""
        return float(laplace_log_likelihood(self.laplace_scale) - normal_log_likelihood(self.sd))


def growth_fit(growth: np.ndarray, weights: np.ndarray) -> GrowthFit:
    """Weighted normal and Laplace fits of growth rates (see GrowthFit)."""
    mean = np.average(growth, weights=weights)
    variance = np.average((growth - mean) ** 2, weights=weights)
    kurtosis = np.average((growth - mean) ** 4, weights=weights) / variance**2 - 3.0
    order = np.argsort(growth)
    cumulative = np.cumsum(weights[order])
    median = growth[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])]
    scale = np.average(np.abs(growth - median), weights=weights)
    return GrowthFit(float(mean), float(np.sqrt(variance)), float(median), float(scale), float(kurtosis))


def normal_log_likelihood(sd):
    """Mean log-likelihood per observation of a normal fitted by maximum likelihood (standard deviation `sd`)."""
    return -0.5 * np.log(2 * np.pi * np.square(sd)) - 0.5


def laplace_log_likelihood(scale):
    """Mean log-likelihood per observation of a Laplace fitted by maximum likelihood (scale `scale`)."""
    return -np.log(2 * scale) - 1.0


def volatility_size_slope(growth: np.ndarray, size: np.ndarray, weights: np.ndarray, bins: int = 12) -> float:
    """Slope of log growth-rate sd on log size across size bins (Amaral et al. 1997 find about -0.2)."""
    log_of_size = np.log(size)
    edges = np.quantile(log_of_size, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, log_of_size, side="right") - 1, 0, bins - 1)
    by_bin = np.argsort(which, kind="stable")  # each bin's members in their own order, bin after bin
    counts = np.bincount(which, minlength=bins)
    ends = np.cumsum(counts)
    log_size, log_sd = [], []
    for b in range(bins):
        members = by_bin[ends[b] - counts[b]:ends[b]]
        if weights[members].sum() <= 0 or members.size < 20:
            continue
        g, w = growth[members], weights[members]
        mean = np.average(g, weights=w)
        log_sd.append(0.5 * np.log(np.average((g - mean) ** 2, weights=w)))
        log_size.append(np.average(log_of_size[members], weights=w))
    return float(np.polyfit(log_size, log_sd, 1)[0]) if len(log_size) >= 2 else float("nan")


def facts(tail_exponent: float, excess_kurtosis: float, laplace_gain: float, volatility_slope: float,
          productivity_90_10: float, soe_productivity_gap: float) -> list[Fact]:
    """The facts, each with its literature value and source, from the model's statistics."""
    return [
        Fact("firm size tail exponent (revenue, top 5%)", tail_exponent, "about 1", "Axtell (2001)"),
        Fact("growth rates: excess kurtosis", excess_kurtosis, "about 3 (Laplace), 0 for normal", "Stanley et al. (1996)"),
        Fact("growth rates: Laplace minus normal log-likelihood per firm", laplace_gain, "> 0 (Laplace fits better)",
             "Bottazzi and Secchi (2006)"),
        Fact("growth volatility vs size: slope", volatility_slope, "about -0.2", "Amaral et al. (1997)"),
        Fact("labour productivity 90/10 ratio, above-scale manufacturing", productivity_90_10, "about 5 (TFP)",
             "Hsieh and Klenow (2009)"),
        Fact("private minus state-owned log productivity", soe_productivity_gap, "> 0", "Brandt, Tombe and Zhu (2013)"),
    ]


def format_facts(facts: list[Fact]) -> str:
    lines = [f"{'stylized fact':58} {'model':>8}  {'literature':34} source"]
    lines += [f"{fact.name:58} {fact.value:>8.3f}  {fact.reference:34} {fact.source}" for fact in facts]
    return "\n".join(lines)
