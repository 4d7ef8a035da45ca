"""Interactive dashboard: the real IndustryModel at a reduced scale, every setting beside the baseline.

Start it with `sim dashboard` (or `SIM_DASHBOARD_SCALE=0.01 solara run sim.dashboard`). The page has
three columns:
- "Policy levers": a slider per lever of calibration/levers.toml (sim.levers) over its declared
  intensity range, starting at 0 (not pulled). A pulled lever acts over its default years (2024-2035)
  on its default target. Above each slider, its setting as `sim check` names it
  ("digital_subsidy=0.3 (2024-2035; firm_class=sme)"); below it, the unit and the range.
- "Parameters": the seed, then a slider per DASHBOARD_PARAMETERS entry over its declared bounds,
  starting at its calibrated value. Above each slider, its current value; below it, the unit, the
  bounds and the calibrated value. "Back to the baseline" returns every slider to where it started.
- the comparison: every change re-runs the model from 2012 to 2035 (well under a second at the
  default scale) and redraws two figures of four indicators each. This setting is drawn in blue; the
  baseline is drawn grey and dashed (calibrated parameters, no lever, the same seed and scale, so the
  two runs share their random numbers and differ by the setting alone). A table below the figures
  gives the 2035 values of both and their difference.

Slider values reach the model through the checks a scenario file passes: levers through
sim.levers.parse_levers (a scenario's [levers] table), parameters through
sim.parameters.validate_value. A bad value is refused as it would be in a scenario file. Mesa's
Model (DashboardModel, an IndustryModel) owns the seed and runs the steps. The page is built from
Solara components, not Mesa's SolaraViz, whose tabs ("Page 0"), step counter ("Time: 0.0") and
play controls have no use on a page that runs the whole horizon at once. Runs are cached by setting,
so the baseline of a seed and scale is run once.
"""

from __future__ import annotations

import html
import math
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import solara
import solara.server.settings
import solara.util
import xarray as xr
from matplotlib.figure import Figure

from sim.dashboard_settings import DEFAULT_SCALE, SCALE_ENV
from sim.levers import DEFAULT_END_YEAR, DEFAULT_START_YEAR, LeverSetting, describe_levers, load_levers, parse_levers
from sim.macro import FIRST_YEAR, LAST_YEAR, build_macro
from sim.model import IndustryModel
from sim.output import run_dataset
from sim.parameters import load_declaration, resolve, validate_value
from sim.plotting import SHORT_TITLES, Panel, fan_chart, figure_title, panel_grid, shared_legend

# The parameters offered beside the levers: the ones the levers' mechanisms and the documents'
# questions turn on most.
DASHBOARD_PARAMETERS = (
    "innovation_zeta",  # R&D effectiveness (R&D super-deduction, innovation centres)
    "digital_cost_share",  # cost of digital upgrading (SME digital subsidy)
    "digital_max_rate",
    "overdue_days_sme",  # arrears owed to SMEs
    "leverage_ceiling_private",  # credit to private firms
    "srdi_recognition_rate",  # gradient cultivation
    "energy_efficiency_trend",  # green and low-carbon
    "export_price_elasticity",  # external demand
    "share_selection_strength",  # competition
)
DASHBOARD_PANELS = (
    ("manufacturing_va", "manufacturing_share_gdp", "hightech_share", "world_mfg_share"),
    ("rd_intensity_mfg", "n_above_scale", "n_srdi", "industrial_co2"),
)
TITLE = "sim: China's industrial firms, 2012-2035"
SOURCE = "dashboard"  # where an error says a refused value came from (a scenario error names its file)
MAX_SEED = 1000  # assumption: a thousand seeds are more than a user browses for seed-to-seed variation
# Assumption: about a hundred positions per slider. That is fine enough to set a lever to a hundredth
# of its range, and coarse enough that a step moves the thumb visibly on a 300-pixel track and the
# keyboard crosses the range in a hundred presses.
SLIDER_POSITIONS = 100
# Assumption: 64 runs kept. A run's result is 24 kB (measured, at any scale: it holds indicators, not
# firms), and 64 covers a session's back and forth between settings and seeds.
MAX_CACHED_RUNS = 64
SETTING_LABEL, BASELINE_LABEL = "this setting", "baseline"
BASELINE_STYLE = {"color": "grey", "linestyle": "--", "linewidth": 1.4}
FIGURE_SIZE, FIGURE_DPI = (8.0, 6.5), 80  # inches, dots per inch: a figure 640 px wide fits its column

# Solara warns on every page load served over plain http under a host name other than "localhost"
# (an address such as 127.0.0.1, or a machine's name on a network). The warning says it cannot set
# the cookie that embedding the page in another site's frame would need, and that it falls back to
# the ordinary cookie, which is all this page uses. `sim dashboard` serves at localhost by default,
# so the warning does not arise there; the filter covers a page served elsewhere (--host) and
# matches only this warning of Solara's server.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning,
                        module="solara.server.starlette")
solara.server.settings.theme.show_banner = False  # Solara's "This website runs on Solara" footer


# ---------------------------------------------------------------- the sliders
def slider_step(lower: float, upper: float, integer: bool = False) -> float:
    """The smallest of 1, 2 or 5 x 10^k that is at least (upper - lower) / SLIDER_POSITIONS; at
    least 1 for a whole number."""
    rough = (upper - lower) / SLIDER_POSITIONS
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))  # 1e-9: equal up to rounding counts
    step = float(f"{step:.1g}")  # the product carries rounding: keep the one significant digit
    return max(step, 1.0) if integer else step


@dataclass(frozen=True)
class SliderSpec:
    """One slider: a lever's intensity or a parameter, over its declared range."""

    name: str
    unit: str
    lower: float
    upper: float
    start: float  # 0 for a lever (not pulled); the calibrated value for a parameter
    step: float
    note: str  # what the start means, shown under the slider

    @property
    def caption(self) -> str:
        return f"{self.unit}; {self.lower:g} to {self.upper:g}; {self.note}"

    # The slider moves over whole positions, position 0 at the start and one step apart, so that the
    # start lies on the slider's grid. A slider over values snaps a start between two steps (most
    # calibrated values) to the grid as it appears, which moved the parameter before the user did.
    @property
    def positions(self) -> tuple[int, int]:
        """The first and the last position: the bounds, reached by a last step that may be shorter."""
        # 1e-9: a floating-point remainder of a whole number of steps is not one more position
        return (-math.ceil((self.start - self.lower) / self.step - 1e-9), math.ceil((self.upper - self.start) / self.step - 1e-9))

    def value_at(self, position: int) -> float:
        if position == 0:
            return self.start  # exactly: back at its start, a parameter is at its calibrated value again
        value = min(max(self.start + position * self.step, self.lower), self.upper)
        return float(f"{value:.12g}")  # 0.30000000000000004 -> 0.3

    def position_of(self, value: float) -> int:
        return round((value - self.start) / self.step)


def lever_sliders() -> tuple[SliderSpec, ...]:
    """A slider per declared lever (calibration/levers.toml): its intensity over [lower, upper], from 0."""
    return tuple(SliderSpec(name, d.unit, d.lower, d.upper, d.default, slider_step(d.lower, d.upper), "0 = not pulled")
                 for name, d in load_levers().items())


def parameter_sliders() -> tuple[SliderSpec, ...]:
    """A slider per DASHBOARD_PARAMETERS entry: its declared bounds (one step inside a bound the
    declaration marks open), from its calibrated value."""
    declared, calibrated = load_declaration(), resolve()
    sliders = []
    for name in DASHBOARD_PARAMETERS:
        p = declared[name]
        step = slider_step(p.lower, p.upper, p.is_integer)
        lower = p.lower + step if p.lower_open else p.lower
        upper = p.upper - step if p.upper_open else p.upper
        sliders.append(SliderSpec(name, p.unit, lower, upper, calibrated[name], step, f"calibrated {calibrated[name]:.4g}"))
    return tuple(sliders)


# ---------------------------------------------------------------- a setting and its run
def lever_settings(intensities: Mapping[str, float]) -> dict[str, LeverSetting]:
    """Lever intensities by name as a scenario's [levers] table would pull them (default years and
    target), checked by sim.levers.parse_levers."""
    return parse_levers({name: {"intensity": value} for name, value in intensities.items()}, SOURCE)


def parameter_overrides(values: Mapping[str, float]) -> dict[str, float]:
    """Parameter values by name, each checked against the declaration as a scenario's would be."""
    return {name: validate_value(name, value, SOURCE, name) for name, value in values.items()}


@dataclass(frozen=True)
class Setting:
    """What one run of the page is: seed, scale, the levers pulled (name, intensity) and the
    parameters moved off their calibrated values (name, value)."""

    seed: int
    scale: float
    levers: tuple[tuple[str, float], ...] = ()
    parameters: tuple[tuple[str, float], ...] = ()

    @property
    def baseline(self) -> Setting:
        """The calibrated run without levers, of the same seed and scale."""
        return Setting(self.seed, self.scale)

    def describe(self) -> str:
        if not self.levers and not self.parameters:
            return "This setting is the baseline: no lever pulled, every parameter at its calibrated value."
        pulled = describe_levers(lever_settings(dict(self.levers)))
        parameters = ", ".join(f"{name}={value:.4g}" for name, value in self.parameters) or "calibrated"
        return f"This setting: {'levers ' + pulled if pulled else 'no lever pulled'}. Parameters: {parameters}."


def setting_from(seed: int, scale: float, lever_values: Mapping[str, float], parameter_values: Mapping[str, float]) -> Setting:
    """The setting of the sliders: the levers away from 0 and the parameters away from their
    calibrated values, in the order of the page."""
    calibrated = resolve()
    levers = tuple((name, float(value)) for name, value in lever_values.items() if value != 0)
    parameters = tuple((name, float(value)) for name, value in parameter_values.items() if value != calibrated[name])
    return Setting(int(seed), float(scale), levers, parameters)


class DashboardModel(IndustryModel):
    """IndustryModel from the page's values: seed, scale, lever intensities by name (default years
    and targets) and parameter values by name, each checked as a scenario's are; stops at LAST_YEAR."""

    def __init__(self, seed: int = 1, scale: float = DEFAULT_SCALE, levers: Mapping[str, float] | None = None,
                 **parameters: float):
        super().__init__(resolve(parameter_overrides(parameters)), build_macro(), seed=int(seed), scale=float(scale),
                         levers=lever_settings(levers or {}))
        self.running = self.year < LAST_YEAR

    def step(self) -> None:
        super().step()
        self.running = self.year < LAST_YEAR


def simulate(setting: Setting) -> xr.Dataset:
    """The setting's run from 2012 to 2035, Mesa's model stepping it year by year."""
    model = DashboardModel(setting.seed, setting.scale, dict(setting.levers), **dict(setting.parameters))
    while model.running:
        model.step()
    return run_dataset(model.records, model.seed)


_runs: OrderedDict[Setting, xr.Dataset] = OrderedDict()
_runs_lock = threading.RLock()  # one run at a time: the page's runs come from worker threads


def cached_run(setting: Setting) -> xr.Dataset:
    """The setting's run, simulated once and kept (the MAX_CACHED_RUNS most recently used)."""
    with _runs_lock:
        if setting in _runs:
            _runs.move_to_end(setting)
        else:
            _runs[setting] = simulate(setting)
            if len(_runs) > MAX_CACHED_RUNS:
                _runs.popitem(last=False)
        return _runs[setting]


class Comparison(NamedTuple):
    setting: Setting
    current: xr.Dataset  # the setting's run
    baseline: xr.Dataset  # its baseline's


def compare(setting: Setting, wanted: Callable[[], bool] = lambda: True) -> Comparison | None:
    """The setting's run beside its baseline's. None when `wanted()` has turned false by the time the
    runs ahead of it are done (the sliders have moved on)."""
    with _runs_lock:
        if not wanted():
            return None
        return Comparison(setting, cached_run(setting), cached_run(setting.baseline))


# ---------------------------------------------------------------- figures and table
def comparison_figure(comparison: Comparison, variables: tuple[str, ...]) -> Figure:
    """A panel per variable over the whole horizon: this setting in colour, the baseline grey and dashed."""
    panels = [Panel(v) for v in variables]
    figure, axes = panel_grid(len(panels), 2)
    results = {SETTING_LABEL: comparison.current, BASELINE_LABEL: comparison.baseline}
    for axis, panel in zip(axes, panels):
        fan_chart(axis, panel, results)
        axis.set_xlim(FIRST_YEAR - 0.5, LAST_YEAR + 0.5)
        for line in axis.get_lines():  # one run each: its line is the run, not a median
            label = line.get_label().removesuffix(": median")
            line.set_label(label)
            if label == BASELINE_LABEL:
                line.set(**BASELINE_STYLE)
    shared_legend(figure, axes)
    setting = comparison.setting
    figure_title(figure, f"seed {setting.seed}, scale {setting.scale:g}: {SETTING_LABEL} (blue) "
                         f"and the {BASELINE_LABEL} (grey, dashed)")
    figure.set_size_inches(*FIGURE_SIZE)
    return figure


def comparison_rows(comparison: Comparison, variables: tuple[str, ...], year: int = LAST_YEAR) -> list[tuple[str, ...]]:
    """A table, header first: each variable's value in `year` in this setting and the baseline, and the difference."""
    rows = [(str(year), SETTING_LABEL, BASELINE_LABEL, "difference")]
    for variable in variables:
        now, base = (float(d[variable].sel(year=year).median("run")) for d in (comparison.current, comparison.baseline))
        relative = f" ({(now - base) / abs(base):+.1%})" if base else ""
        units = comparison.current[variable].attrs.get("units", "")
        rows.append((f"{SHORT_TITLES.get(variable, variable)} ({units})", number(now), number(base), f"{number(now - base, '+')}{relative}"))
    return rows


def table_html(rows: list[tuple[str, ...]]) -> str:
    """The rows as an HTML table, the first as its header, the numbers right-aligned."""
    def row(cells, tag):
        return "<tr>" + "".join(f'<{tag} style="text-align:{"left" if i == 0 else "right"};padding:2px 10px">{html.escape(c)}</{tag}>'
                                for i, c in enumerate(cells)) + "</tr>"
    return "<table>" + row(rows[0], "th") + "".join(row(r, "td") for r in rows[1:]) + "</table>"


def number(value: float, sign: str = "") -> str:
    """Four significant digits, or whole numbers with thousands separators from 10,000 on (counts of firms)."""
    return f"{value:{sign},.0f}" if abs(value) >= 1e4 else f"{value:{sign},.4g}"


# ---------------------------------------------------------------- the page
CAPTION_STYLE = {"font-size": "0.8em", "color": "grey", "line-height": "1.2"}


@solara.component
def ValueSlider(spec: SliderSpec, value: float, on_value: Callable[[float], None], heading: str):
    """A slider under its current value (`heading`) and over its unit and range, its track across the
    whole card (a label beside the track squeezed the track to a dot when the label was long)."""
    with solara.Column(gap="0px", classes=[f"slider-{spec.name}"]):
        solara.Text(heading, style={"font-weight": "bold"}, classes=["slider-value"])
        first, last = spec.positions
        solara.SliderInt("", value=spec.position_of(value), min=first, max=last, step=1, thumb_label=False,
                         on_value=lambda position: on_value(spec.value_at(position)))
        solara.Text(spec.caption, style={**CAPTION_STYLE, "margin-bottom": "10px"})


def set_entry(values: solara.Reactive[dict], name: str) -> Callable[[float], None]:
    return lambda value: values.set({**values.value, name: value})


@solara.component
def LeverCard(sliders: tuple[SliderSpec, ...], values: solara.Reactive[dict]):
    """The lever sliders; each pulled lever described with its years and target."""
    with solara.Card("Policy levers", subtitle=f"intensity in the lever's unit; a pulled lever acts {DEFAULT_START_YEAR}-"
                                               f"{DEFAULT_END_YEAR} on its default target (calibration/levers.toml)"):
        pulled = lever_settings({name: value for name, value in values.value.items() if value != 0})
        for spec in sliders:
            value = values.value[spec.name]
            heading = pulled[spec.name].describe() if spec.name in pulled else f"{spec.name}=0 (not pulled)"
            ValueSlider(spec, value, set_entry(values, spec.name), heading)


@solara.component
def ParameterCard(sliders: tuple[SliderSpec, ...], values: solara.Reactive[dict], seed: solara.Reactive[int],
                  on_reset: Callable[[], None]):
    """The seed, the parameter sliders and the button back to the baseline."""
    with solara.Card("Parameters", subtitle="from their calibrated values (calibration/parameters.toml)"):
        seed_spec = SliderSpec("seed", "random-number seed of the run and of its baseline", 1, MAX_SEED, 1, 1,
                               "common random numbers")
        ValueSlider(seed_spec, seed.value, lambda value: seed.set(int(value)), f"seed={seed.value}")
        for spec in sliders:
            value = values.value[spec.name]
            ValueSlider(spec, value, set_entry(values, spec.name), f"{spec.name}={value:.4g}")
        solara.Button("Back to the baseline", on_click=on_reset, color="primary", outlined=True)


@solara.component
def ComparisonFigure(comparison: Comparison, variables: tuple[str, ...]):
    """comparison_figure as a PNG image, drawn again only when the comparison changes."""
    figure = solara.use_memo(lambda: comparison_figure(comparison, variables), [comparison.setting, variables])
    solara.FigureMatplotlib(figure, dependencies=[comparison.setting, variables], format="png", dpi=FIGURE_DPI)


@solara.component
def ComparisonView(result, setting: Setting):
    """The setting in words, the two figures and the 2035 table of the latest finished comparison."""
    comparison: Comparison | None = result.latest
    solara.Text(setting.describe(), classes=["setting-text"])
    solara.Text(f"Grey, dashed: the {BASELINE_LABEL}, calibrated parameters and no lever, with the same seed "
                f"({setting.seed}) and scale ({setting.scale:g}).", style=CAPTION_STYLE)
    solara.ProgressLinear(result.pending)
    if result.pending and comparison is None:
        solara.Text(f"Running 2012-{LAST_YEAR}. The first run after an install or an update of sim also compiles "
                    "the model, which can take a minute.")
    if result.error:
        solara.Error(f"This setting could not be run: {result.exception}")
    if comparison is None:
        return
    for variables in DASHBOARD_PANELS:
        ComparisonFigure(comparison, variables)
    # HTML, not solara.Markdown: Markdown fetches a math renderer from the network on every page load
    solara.HTML(tag="div", unsafe_innerHTML=table_html(comparison_rows(comparison, tuple(v for p in DASHBOARD_PANELS for v in p))))


@solara.component
def Page():
    scale = float(os.environ.get(SCALE_ENV, DEFAULT_SCALE))
    levers = solara.use_memo(lever_sliders, [])
    parameters = solara.use_memo(parameter_sliders, [])
    seed = solara.use_reactive(1)
    lever_values = solara.use_reactive({spec.name: spec.start for spec in levers})
    parameter_values = solara.use_reactive({spec.name: spec.start for spec in parameters})
    setting = setting_from(seed.value, scale, lever_values.value, parameter_values.value)
    latest = solara.use_ref(setting)
    latest.current = setting

    def run() -> Comparison:
        comparison = compare(setting, lambda: latest.current == setting)
        if comparison is None:
            raise solara.util.CancelledError()  # superseded: the page keeps the last comparison it drew
        return comparison

    result = solara.lab.use_task(run, dependencies=[setting], raise_error=False)

    def reset() -> None:
        lever_values.set({spec.name: spec.start for spec in levers})
        parameter_values.set({spec.name: spec.start for spec in parameters})

    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Columns([3, 3, 6]):
        LeverCard(levers, lever_values)
        ParameterCard(parameters, parameter_values, seed, reset)
        with solara.Column():
            ComparisonView(result, setting)
