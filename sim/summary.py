"""The run summary: key indicators in the summary years as a text table (`sim run` prints it; the
report shows the same indicators)."""

from __future__ import annotations

import math

SUMMARY_YEARS = (2012, 2022, 2025, 2030, 2035)
SUMMARY_VARIABLES = (
    "industrial_va",
    "manufacturing_va",
    "manufacturing_share_gdp",
    "above_scale_va_growth",
    "industrial_ppi",
    "capacity_utilization",
    "hightech_share",
    "equipment_share",
    "sei_share_gdp",
    "world_mfg_share",
    "rd_intensity_mfg",
    "invention_patent_apps",
    "n_above_scale",
    "n_srdi",
    "exports",
    "industrial_energy",
    "industrial_co2",
    "employment_mfg",
)


SUFFIXES = ((1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T"))  # thousand, million, billion, trillion
LABEL_WIDTH, CELL_WIDTH = 24, 15  # 24 + 5 years x 15 = 99 columns


def short_number(value: float) -> str:
    """At most 6 characters for any value: 2 decimals below 100, 1 below 1,000, whole with a comma
    below 10,000, then 3 significant digits with k, M, B or T (2.39M), then a power of ten (2e15)."""
    size = abs(value)
    if not math.isfinite(value):
        return str(value)
    if size < 100:
        return f"{value:.2f}"
    if size < 1000:
        return f"{value:.1f}"
    if size < 10_000:
        return f"{value:,.0f}"
    for unit, suffix in SUFFIXES:
        mantissa = value / unit
        text = f"{mantissa:.{max(2 - int(math.log10(abs(mantissa))), 0)}f}"
        if abs(float(text)) < 1000:
            return text + suffix
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"  # -2e308 at most


def summary_table(dataset) -> str:
    """Key indicators in the summary years, two lines each: the mean over runs, then (under the unit)
    the 90% band when runs > 1. At most 99 columns; every cell starts with a space."""
    import textwrap

    years = [y for y in SUMMARY_YEARS if y in dataset["year"].values]
    runs = dataset.sizes["run"]

    def line(label: str, cells: list[str]) -> str:
        return (label.ljust(LABEL_WIDTH) + "".join(" " + cell.rjust(CELL_WIDTH - 1) for cell in cells)).rstrip()

    lines = [line("indicator: mean", [str(y) for y in years])]
    if runs > 1:
        lines.append("  (unit): 90% band")
    for name in SUMMARY_VARIABLES:
        series = dataset[name].sel(year=years)
        label = [name[:LABEL_WIDTH], *textwrap.wrap(f"({series.attrs['units']})", LABEL_WIDTH - 2)]
        lines.append(line(label[0], [short_number(float(series.sel(year=y).mean())) for y in years]))
        cells = [""] * len(years)
        if runs > 1:
            cells = [f"{short_number(float(lo))}..{short_number(float(hi))}"
                     for lo, hi in (series.sel(year=y).quantile([0.05, 0.95]).values for y in years)]
        lines.append(line("  " + label[1], cells))
        lines += ["  " + more for more in label[2:]]
    return "\n".join(lines)
