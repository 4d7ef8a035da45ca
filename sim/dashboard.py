"""Interactive dashboard: Mesa's SolaraViz driving the real IndustryModel at a reduced scale.

Start it with `sim dashboard` (or `SIM_DASHBOARD_SCALE=0.01 solara run sim.dashboard`). The sidebar
has a slider for the seed and for each parameter of DASHBOARD_PARAMETERS, with name, bounds, unit
and starting value from the one parameter declaration; "Reset" rebuilds the model from the sliders,
"Step" advances one year, the play button runs on to 2035. The plots redraw after every step.
"""

from __future__ import annotations

import itertools
import os

import solara
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz

from sim.dashboard_settings import DEFAULT_SCALE, SCALE_ENV
from sim.macro import FIRST_YEAR, LAST_YEAR, build_macro
from sim.model import IndustryModel
from sim.output import run_dataset
from sim.parameters import load_declaration, resolve, validate_value
from sim.plotting import Panel, panel_figure

# The main levers among the declared parameters (the policy levers proper join when they are declared).
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
MAX_SEED = 1000
_serial = itertools.count()


class DashboardModel(IndustryModel):
    """IndustryModel built from keyword parameters (what SolaraViz passes on Reset); stops at LAST_YEAR."""

    def __init__(self, seed: int = 1, scale: float = DEFAULT_SCALE, scenario=None, **parameters: float):
        # `scenario`: SolaraViz passes Mesa's own Scenario object on Reset; the seed here is the one used.
        overrides = {name: validate_value(name, value, "dashboard", name) for name, value in parameters.items()}
        super().__init__(resolve(overrides), build_macro(), seed=int(seed), scale=float(scale))
        self.serial = next(_serial)  # tells apart models that share seed and year (figure cache key)
        self.running = self.year < LAST_YEAR

    def step(self) -> None:
        super().step()
        self.running = self.year < LAST_YEAR


def model_parameters(scale: float) -> dict:
    """SolaraViz model_params: a slider per DASHBOARD_PARAMETERS entry from the declaration, the seed, the fixed scale."""
    declared, current = load_declaration(), resolve()
    params: dict = {"seed": Slider("seed", value=1, min=1, max=MAX_SEED, step=1, dtype=int)}
    for name in DASHBOARD_PARAMETERS:
        p = declared[name]
        label = f"{name} ({p.unit})"
        if p.is_integer:
            params[name] = Slider(label, value=int(current[name]), min=int(p.lower), max=int(p.upper), step=1, dtype=int)
        else:
            params[name] = Slider(label, value=float(current[name]), min=p.lower, max=p.upper, step=(p.upper - p.lower) / 100, dtype=float)
    params["scale"] = scale
    return params


def indicator_figure(model: IndustryModel, variables: tuple[str, ...]) -> Figure:
    """The model's trajectory so far, one panel per variable, over the whole horizon."""
    records = run_dataset(model.records, model.seed)
    figure = panel_figure([Panel(v) for v in variables], {f"seed {model.seed}": records},
                          f"seed {model.seed}, scale {model.scale:g}: year {model.year}")
    for axis in figure.axes:
        axis.set_xlim(FIRST_YEAR - 0.5, LAST_YEAR + 0.5)
    figure.set_size_inches(8, 6.5)
    return figure


def plot_component(variables: tuple[str, ...], show_status: bool):
    """A SolaraViz component drawing `variables`; redrawn when the model or its year changes."""

    def IndicatorPlot(model):
        figure = solara.use_memo(lambda: indicator_figure(model, variables), [model.serial, model.year])
        with solara.Column() as column:
            if show_status:
                solara.Text(f"Year {model.year} ({model.year - FIRST_YEAR} of {LAST_YEAR - FIRST_YEAR} steps), seed {model.seed}, "
                            f"scale {model.scale:g}. Move sliders, then press Reset to rebuild the model.", style={"font-weight": "bold"})
            solara.FigureMatplotlib(figure, format="png", dependencies=[model.serial, model.year], dpi=80)
        return column

    return IndicatorPlot


@solara.component
def Page():
    scale = float(os.environ.get(SCALE_ENV, DEFAULT_SCALE))
    model = solara.use_memo(lambda: DashboardModel(seed=1, scale=scale), [])
    params = solara.use_memo(lambda: model_parameters(scale), [scale])
    components = solara.use_memo(lambda: [plot_component(v, show_status=i == 0) for i, v in enumerate(DASHBOARD_PANELS)], [])
    SolaraViz(model, components=components, model_params=params,
              name="sim: China's industrial firms, 2012-2035", play_interval=200)
