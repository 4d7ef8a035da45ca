"""Figures: the main trajectories of a result, median and 90% band over runs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

from sim.calibration_data import load_targets  # noqa: E402

MAIN_PANELS = (
    "manufacturing_va",
    "manufacturing_share_gdp",
    "above_scale_va_growth",
    "hightech_share",
    "world_mfg_share",
    "rd_intensity_mfg",
    "n_above_scale",
    "exports",
    "industrial_co2",
)


def document_points(variable: str) -> list[tuple[int, float, str]]:
    """(year, value, role) of the documents' figures measured by `variable`."""
    points = []
    for target in load_targets().values():
        if target.measure == variable and target.year[:4].isdigit():
            points.append((int(target.year[:4]), target.value, target.role))
    return points


def main_trajectories(dataset: xr.Dataset, path: Path, title: str) -> plt.Figure:
    """A 3x3 panel of the main indicators with the documents' figures as points; saved to `path`."""
    figure, axes = plt.subplots(3, 3, figsize=(14, 10), constrained_layout=True)
    for axis, name in zip(axes.flat, MAIN_PANELS):
        series = dataset[name]
        median = series.median("run")
        axis.plot(dataset["year"], median, color="tab:blue", label="model median")
        if series.sizes["run"] > 1:
            axis.fill_between(dataset["year"], series.quantile(0.05, "run"), series.quantile(0.95, "run"),
                              color="tab:blue", alpha=0.25, label="90% band over runs")
        for year, value, role in document_points(name):
            axis.plot(year, value, "o" if role != "check" else "s", color="black" if role != "check" else "tab:red",
                      label=f"documents ({role})")
        axis.set_title(series.attrs["long_name"], fontsize=9)
        axis.set_ylabel(series.attrs["units"], fontsize=8)
        axis.set_xlabel("year", fontsize=8)
        axis.axvline(2022.5, color="grey", lw=0.6, ls=":")
        handles, labels = axis.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        axis.legend(unique.values(), unique.keys(), fontsize=7)
    figure.suptitle(title)
    figure.savefig(path, dpi=110)
    return figure
