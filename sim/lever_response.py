"""The lever-response table: what each lever does against the first scenario of a comparison, on
common random numbers, beside the published estimate it is checked against.

Each row is one measure of one lever, taken seed by seed (scenario run k against reference run k)
and averaged over the lever's first years (WINDOW_YEARS from its start). A measure that another
lever would mix into is read only in scenarios that pull its lever alone. The effect on real
industrial value added for every lever (the model's core question), and the lever's own channel
where the literature gives a figure: the R&D super-deduction's elasticity of R&D to its user cost
and its productivity effect, equipment renewal's investment effect on the treated industries, the
carbon price's effect on covered output and energy, and so on. Measures that the published figure
does not measure alike (an aggregate against adopters' own gain) say so in `comparable`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import xarray as xr

from sim.levers import LEVER_NAMES, LeverSchedule
from sim.rules.innovation import rd_user_cost_ratio

WINDOW_YEARS = 5  # the lever's first five years (or fewer, to 2035 or its end year)


@dataclass(frozen=True)
class Measure:
    """One row: a measure of a lever's effect and the published figure it is checked against."""

    lever: str
    name: str
    unit: str
    published: str  # the figure, as the literature gives it
    source: str
    low: float  # the published range, in `unit` (-inf / inf: a sign only)
    high: float
    comparable: str  # "yes", or why the model's measure differs from the published one
    effect: Callable  # (scenario, reference, setting, context) -> effect per run
    alone: bool = True  # read only in a scenario that pulls no other lever (another lever's effect would mix in)


def percent(a: xr.DataArray, b: xr.DataArray) -> xr.DataArray:
    return 100.0 * (a / b - 1.0)


def window(setting) -> slice:
    return slice(setting.start_year, min(setting.start_year + WINDOW_YEARS - 1, setting.end_year))


def real_value_added(s, r, setting, context):
    """Real industrial value added, % against the reference, mean over the window."""
    return percent(s["industrial_va_real"], r["industrial_va_real"]).sel(year=window(setting)).mean("year")


def productivity(s, r, setting, context):
    """Labour productivity of industry (real value added per worker), % against the reference."""
    return percent(s["labour_productivity"], r["labour_productivity"]).sel(year=window(setting)).mean("year")


def rd_effect(s, r, setting, context):
    """R&D of above-scale manufacturing, % against the reference."""
    return percent(s["rd_spend_mfg"], r["rd_spend_mfg"]).sel(year=window(setting)).mean("year")


def rd_user_cost_elasticity(s, r, setting, context):
    """-d log R&D / d log user cost: the change of log R&D of above-scale manufacturing over the change
    of the log after-tax cost of a yuan of R&D the extra deduction brings (sim.rules.innovation)."""
    cost = rd_user_cost_ratio(context["corporate_tax_rate"], setting.intensity)
    change = np.log(s["rd_spend_mfg"] / r["rd_spend_mfg"]).sel(year=window(setting)).mean("year")
    return -change / math.log(cost)


def sme_productivity(s, r, setting, context):
    """Labour productivity of all SMEs (real value added per worker), % against the reference: the
    effect of a lever on the firms it targets, adopters and not (intent to treat)."""
    return percent(s["labour_productivity_by_class"].sel(firm_class="sme"),
                   r["labour_productivity_by_class"].sel(firm_class="sme")).sel(year=window(setting)).mean("year")


def mean_sme_stage(dataset):
    stages = dataset["sme_digital_stage_share"]
    return (stages * xr.DataArray(np.arange(stages.sizes["digital_stage"]), dims="digital_stage")).sum("digital_stage")


def sme_gain_per_stage(s, r, setting, context):
    """Gain in SMEs' labour productivity per digital stage the lever moved them, in log points x 100:
    the change of log productivity over the change of their mean stage, each the mean over the
    window (the Wald estimate with the lever as the instrument: the gain of the SMEs it moved)."""
    years = window(setting)
    gain = 100.0 * np.log(s["labour_productivity_by_class"].sel(firm_class="sme")
                          / r["labour_productivity_by_class"].sel(firm_class="sme")).sel(year=years).mean("year")
    moved = (mean_sme_stage(s) - mean_sme_stage(r)).sel(year=years).mean("year")
    return gain / moved


def treated(context, setting) -> np.ndarray:
    return context["industry_mask"](setting.name)


def treated_investment(s, r, setting, context):
    """Investment of the treated industries, % against the reference, over the lever's years."""
    mask = xr.DataArray(treated(context, setting), dims="industry")
    years = slice(setting.start_year, setting.end_year)
    return percent(s["investment_by_industry"].where(mask).sum("industry"),
                   r["investment_by_industry"].where(mask).sum("industry")).sel(year=years).mean("year")


def covered(variable):
    def effect(s, r, setting, context):
        mask = xr.DataArray(treated(context, setting), dims="industry")
        return percent(s[variable].where(mask).sum("industry"), r[variable].where(mask).sum("industry")).sel(
            year=window(setting)).mean("year")
    effect.__doc__ = f"{variable} of the covered industries, % against the reference"
    return effect


SIGN = math.inf
MEASURES = (
    Measure("rd_superdeduction", "R&D elasticity to its user cost", "1", "1-2 (1.58 for 2013, 2.05 for 2016, 1.69 in manufacturing)",
            "Qian, Zhan and Pan; Chen, Liu, Suarez Serrato and Xu (AER 2021)", 1.0, 2.0, "yes", rd_user_cost_elasticity),
    Measure("rd_superdeduction", "labour productivity of industry", "%", "firm TFP +1-2% (Chen et al. 2021: +1.6%)",
            "Chen, Liu, Suarez Serrato and Xu (AER 2021)", 1.0, 2.0, "no: all industry, the treated firms' TFP is higher",
            productivity),
    Measure("digital_subsidy", "labour productivity of industry", "%", "adopters' TFP +2-5%",
            "studies of Chinese listed firms 2011-2021", 2.0, 5.0, "no: all industry, not the adopters alone", productivity),
    Measure("digital_subsidy", "labour productivity of SMEs", "%", "adopters' TFP +2-5%",
            "studies of Chinese listed firms 2011-2021", 2.0, 5.0, "no: every SME, adopters and not (intent to treat)",
            sme_productivity),
    Measure("digital_subsidy", "SMEs' labour productivity per digital stage gained", "log points x 100", "adopters' TFP +2-5%",
            "studies of Chinese listed firms 2011-2021", 2.0, 5.0,
            "yes: the gain of the SMEs the subsidy moved up a stage (Wald estimate), labour productivity for TFP", sme_gain_per_stage),
    Measure("ai_empowerment", "labour productivity of industry", "%", "adopters' TFP +2-5% (digital transformation)",
            "studies of Chinese listed firms 2011-2021", 2.0, 5.0, "no: all industry, not the adopters alone", productivity),
    Measure("equipment_renewal", "investment of the treated industries", "%", "+25-40% in the window (VAT reforms: 2004 pilot +28%, 2009 +36%)",
            "VAT reform studies (user-cost elasticity about 1.8)", 25.0, 40.0,
            "no: the VAT reforms cut the cost of equipment by the VAT rate (about 17%), a scenario pays its own intensity",
            treated_investment),
    Measure("gradient_cultivation", "R&D of above-scale manufacturing", "%", "positive effects on R&D and credit",
            "little-giant designation studies", 0.0, SIGN, "sign only", rd_effect),
    Measure("carbon_constraint", "real value added of the covered industries", "%", "covered output falls", "issue 22 (sign)",
            -SIGN, 0.0, "sign only", covered("real_va_by_industry"), alone=False),
    Measure("carbon_constraint", "energy use of the covered industries", "%", "covered energy falls", "issue 22 (sign)",
            -SIGN, 0.0, "sign only", covered("energy_by_industry"), alone=False),
    *(Measure(lever, "real industrial value added", "%", "rises (every supply-side lever)", "issue 22 (sign)", 0.0, SIGN,
              "sign only", real_value_added)
      for lever in ("digital_subsidy", "rd_superdeduction", "equipment_renewal", "ai_empowerment")),
)


@dataclass(frozen=True)
class Row:
    scenario: str
    measure: Measure
    values: np.ndarray  # per run

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def within(self) -> bool:
        return self.measure.low <= self.mean <= self.measure.high


def responses(dataset: xr.Dataset, scenarios, params: dict[str, float], n_industries: int) -> list[Row]:
    """Every measure of every lever each scenario (after the first) pulls, against the first scenario.
    `scenarios`: the sim.scenario.Scenario of each entry of dataset's `scenario` dimension."""
    reference = dataset.isel(scenario=0)
    rows = []
    for scenario in scenarios[1:]:
        schedule = LeverSchedule(scenario.levers, n_industries)
        context = {"corporate_tax_rate": params["corporate_tax_rate"],
                   "industry_mask": lambda name, schedule=schedule: schedule.industry_mask(LEVER_NAMES.index(name))}
        data = dataset.sel(scenario=scenario.name)
        pulled = {name for name, setting in scenario.levers.items() if setting.intensity != 0.0}
        for measure in MEASURES:
            setting = scenario.levers.get(measure.lever)
            if setting is None or setting.intensity == 0.0 or (measure.alone and pulled != {measure.lever}):
                continue
            values = np.asarray(measure.effect(data, reference, setting, context).values, dtype=float)
            rows.append(Row(scenario.name, measure, values))
    return rows


def to_dataset(rows: list[Row]) -> xr.Dataset:
    """The rows as variables of a comparison result, dims (response, run): the effect per run, the
    published figure, its range and whether the two measure alike."""
    if not rows:
        return xr.Dataset()
    labels = [f"{r.scenario}: {r.measure.lever}: {r.measure.name} ({r.measure.unit})" for r in rows]
    text = {"units": "1"}
    return xr.Dataset({
        "lever_response": (("response", "run"), np.array([r.values for r in rows]),
                           {"units": "see response", "long_name": "effect of a lever against the first scenario, per run, mean over "
                                                                  f"its first {WINDOW_YEARS} years (sim.lever_response)"}),
        "lever_response_published": ("response", [f"{r.measure.published} [{r.measure.source}]" for r in rows],
                                     {**text, "long_name": "the published figure the response is checked against"}),
        "lever_response_low": ("response", [r.measure.low for r in rows], {"units": "see response", "long_name": "published range, low"}),
        "lever_response_high": ("response", [r.measure.high for r in rows], {"units": "see response", "long_name": "published range, high"}),
        "lever_response_comparable": ("response", [r.measure.comparable for r in rows],
                                      {**text, "long_name": "whether the model's measure and the published one measure alike"}),
    }, coords={"response": labels})


def table(dataset: xr.Dataset) -> str:
    """The lever responses of a comparison result as text: measure, the model's mean [5%, 95%] over
    runs, the published figure, and whether the mean lies in the published range ('' when the result has none)."""
    if "lever_response" not in dataset:
        return ""
    header = ["scenario: lever: measure (unit)", "model", "published", "in range"]
    lines = []
    for label in dataset["response"].values:
        row = dataset.sel(response=label)
        values = np.asarray(row["lever_response"].values, dtype=float)
        mean = float(np.mean(values))
        low, high = np.quantile(values, (0.05, 0.95))
        model = f"{mean:+.3g}" + (f" [{low:+.3g}, {high:+.3g}]" if values.size > 1 else "")
        comparable = str(row["lever_response_comparable"].values)
        within = float(row["lever_response_low"]) <= mean <= float(row["lever_response_high"])
        check = ("yes" if within else "NO") + ("" if comparable == "yes" else f" ({comparable})")
        lines.append([str(label), model, str(row["lever_response_published"].values), check])
    widths = [max(len(r[k]) for r in [header, *lines]) for k in range(len(header))]
    text = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    reference = str(dataset["scenario"].values[0]) if "scenario" in dataset.coords else "the reference"
    title = (f"Lever responses against '{reference}' (common random numbers; each lever's first {WINDOW_YEARS} years, "
             "mean [5%, 95%] over runs), beside the published figure")
    return "\n".join([title, text(header), "-" * len(text(header)), *(text(r) for r in lines)])
